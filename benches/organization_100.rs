//! An organization of 100 tenants on one replica (README, "Organizations"): 100 SCIM Tenants of
//! a few users each, every one with an open policy, and ONE Organization in `Mesh` — 9,900
//! generated SyncConfigurations with `interval: 24h`, so that idle means idle. The release
//! binary runs against a real kube-apiserver + etcd and real scim2-servers; once every Tenant
//! is Ready, the bench applies the Organization and prints:
//! - apply → every generated configuration exists, and → every one `Ready=True` (target 120 s);
//! - → every one through its first cycle (`status.lastCycle` set; target 10 min);
//! - the apiserver's writes in each phase, by resource, verb and code, per configuration (from
//!   the apiserver's own `apiserver_request_total`), and where the CPU went;
//! - then the idle operator: % of one core (target < 5 %) and RSS (target ≤ 300 MB).
//!
//! `cargo bench --bench organization_100`; `XTSYNC_BENCH_TENANTS=10` for a quick check,
//! `XTSYNC_BENCH_USERS` (default 3), `XTSYNC_BENCH_SCIM_SERVERS` (default 10: tenants share
//! scim2-servers under their own base paths, and each server's listen backlog is 5),
//! `XTSYNC_BENCH_IDLE_SECS` (default 90); `XTSYNC_BENCH_HEAPTRACK=<file>` runs the operator under
//! heaptrack (its CPU and RSS figures are then heaptrack's).

#[path = "../tests/fault_rules.rs"]
mod fault_rules;
#[path = "../tests/e2e/manifests.rs"]
mod manifests;
#[path = "common/operator.rs"]
mod operator;
#[path = "organization_100/phases.rs"]
mod phases;
#[path = "common/proc_status.rs"]
mod proc_status;
#[path = "../tests/e2e/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use manifests::{Manifests, open_policy, tenant_id};
use operator::Operator;
use phases::{Machine, Progress, Writes};
use serde_json::{Value, json};
use xtsync::api::Tenant;

const ORGANIZATION: &str = "org";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let tenants = setting("XTSYNC_BENCH_TENANTS", 100);
    let users = setting("XTSYNC_BENCH_USERS", 3);
    let server_count = setting("XTSYNC_BENCH_SCIM_SERVERS", 10).clamp(1, tenants);
    let idle = Duration::from_secs(setting("XTSYNC_BENCH_IDLE_SECS", 90) as u64);
    let pairs = tenants * (tenants - 1);
    println!(
        "organization: {tenants} tenants × {users} users on {server_count} scim2-servers, Mesh → {pairs} configurations; load average before: {}",
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()
    );
    let t = support::TestNs::new("bench-org").await;
    let servers: Vec<support::Background> = (0..server_count).map(|_| support::start_scim_server()).collect();
    let names: Vec<String> = (0..tenants).map(|i| format!("t{i:03}")).collect();
    let url = |i: usize| format!("{}/{}-{}/v2", servers[i % server_count].ready_line, t.name, names[i]);
    let mut objects = Manifests::of([]);
    for (i, name) in names.iter().enumerate() {
        let people: Vec<String> = (0..users).map(|j| format!("u{j}@{name}.com")).collect();
        support::scim::Scim::new(url(i)).add_users(&people, json!({})).await;
        objects = objects.and(Manifests::of([
            manifests::scim_secret(name, &url(i)),
            manifests::scim_tenant_at(name, &tenant_id(200 + i), "", &url(i)),
            open_policy(name),
        ]));
    }
    let operator = Operator::start(
        &support::env().kubeconfig,
        "organization",
        &["--leader-election", "false"],
    );
    let machine = Machine::find(&support::env().kubeconfig, operator.pid(), &servers);
    let started = Instant::now();
    t.apply(&objects).await;
    tenants_ready(&t, tenants).await;
    println!(
        "organization: {tenants} Tenants (and their Secrets and policies) applied → every one Ready in {:.1?}",
        started.elapsed()
    );

    let kubeconfig = support::env().kubeconfig.clone();
    let mut writes = Writes::read(&kubeconfig).await;
    let mut cpu = machine.cpu();
    let progress = Progress::watch(t.api(), pairs);
    let started = Instant::now();
    t.apply(&organization(&names)).await;
    let (all_exist, all_ready) = progress.until_ready(started).await;
    println!("organization: apply → all {pairs} exist {all_exist:.1?}, → all Ready {all_ready:.1?} (target ≤ 120 s)");
    let (ready_cpu, ready_at) = (machine.cpu(), started.elapsed());
    writes = writes.print_since("apply → all Ready", &kubeconfig, pairs).await;
    machine.print_cpu("apply → all Ready", &cpu, &ready_cpu, ready_at);
    cpu = ready_cpu;

    let (all_cycled, provisioned) = progress.until_cycled(started).await;
    println!(
        "organization: apply → all {pairs} through their first cycle {all_cycled:.1?} (target ≤ 600 s); {provisioned} users provisioned (expected {})",
        pairs * users
    );
    let cycled_cpu = machine.cpu();
    writes = writes.print_since("all Ready → all cycled", &kubeconfig, pairs).await;
    machine.print_cpu("all Ready → all cycled", &cpu, &cycled_cpu, all_cycled - ready_at);
    machine.print_memory("after the first cycles");

    // Idle: nothing is due for 24 h; what runs now is what one replica costs at rest.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (before, at) = (machine.cpu(), Instant::now());
    tokio::time::sleep(idle).await;
    let after = machine.cpu();
    println!(
        "organization: idle operator over {:.0?}: {:.2} % of one core (target < 5 %)",
        at.elapsed(),
        (after.operator - before.operator) / at.elapsed().as_secs_f64() * 100.0
    );
    machine.print_memory("idle");
    writes.print_since("all cycled → end of idle", &kubeconfig, pairs).await;
    machine.print_cpu("idle", &before, &after, at.elapsed());
    progress.stop();
    assert_eq!(provisioned, pairs * users, "every user reaches every other tenant once");
    drop(operator);
}

/// One Organization of every tenant (the first its Owner) in Mesh.
fn organization(names: &[String]) -> Value {
    let members: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut member = json!({ "tenantRef": { "name": n } });
            if i == 0 {
                member["role"] = json!("Owner");
            }
            member
        })
        .collect();
    json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "Organization",
        "metadata": { "name": ORGANIZATION },
        "spec": {
            "tenants": members,
            "topology": { "mode": "Mesh" },
            "syncTemplate": { "scope": { "mode": "AllUsers" }, "interval": "24h" },
        },
    })
}

/// Polls until `count` Tenants are `Ready=True` (within 5 min).
async fn tenants_ready(t: &support::TestNs, count: usize) {
    let api = t.api::<Tenant>();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let list = api.list(&Default::default()).await.expect("list tenants");
        let ready = list
            .iter()
            .filter(|tenant| {
                tenant
                    .status
                    .as_ref()
                    .is_some_and(|s| s.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .count();
        if ready == count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {ready} of {count} Tenants Ready after 5 min"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
