//! Many configurations at once (README, "Operating it": one budget per directory, fair
//! scheduling), through the release binary against a real kube-apiserver and scim2-servers:
//! - fan-in: 20 source tenants of 500 users each → one target, all applied together. A proxy
//!   in front of the target counts the requests in flight there, whoever sends them; every
//!   user must arrive once.
//! - mesh: 15 tenants, every ordered pair a configuration (210), applied at once: apply →
//!   `Ready=True` for each (p50, p95, max, from the moment the bench's watch sees the object);
//!   then, once every one has synced, the operator's CPU over a minute and its RSS.
//!
//! `cargo bench --bench many_configurations`; `XTSYNC_BENCH_PARTS=mesh` (or `fan-in`) for one.

#[path = "common/counting_proxy.rs"]
mod counting_proxy;
#[path = "../tests/fault_rules.rs"]
mod fault_rules;
#[path = "../tests/e2e/manifests.rs"]
mod manifests;
#[path = "common/operator.rs"]
mod operator;
#[path = "common/proc_status.rs"]
mod proc_status;
#[path = "../tests/e2e/support/mod.rs"]
mod support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::runtime::watcher;
use manifests::{Manifests, open_policy, tenant_id};
use operator::Operator;
use serde_json::json;
use xtsync::api::SyncConfiguration;

const FAN_IN_SOURCES: usize = 20;
const FAN_IN_USERS: usize = 500;
const MESH_TENANTS: usize = 15;
const MESH_USERS: usize = 3;
/// The target's `maxConcurrency`: the default.
const TARGET_LIMIT: usize = xtsync::providers::budget::DEFAULT_CONCURRENCY;

#[tokio::main]
async fn main() {
    let parts = std::env::var("XTSYNC_BENCH_PARTS").unwrap_or_else(|_| "fan-in,mesh".into());
    if parts.contains("fan-in") {
        fan_in().await;
    }
    if parts.contains("mesh") {
        mesh().await;
    }
}

async fn fan_in() {
    let t = support::TestNs::new("bench-fan-in").await;
    let sources = support::start_scim_server();
    let proxy = counting_proxy::start(support::scim_server()).await;
    let source_url = |i: usize| format!("{}/{}-s{i}/v2", sources.ready_line, t.name);
    for i in 0..FAN_IN_SOURCES {
        let names: Vec<String> = (0..FAN_IN_USERS).map(|j| format!("u{j:03}@s{i:02}.example")).collect();
        support::scim::Scim::new(source_url(i))
            .add_users(&names, json!({ "title": "Engineer" }))
            .await;
    }
    let target_url = t.scim_url("target").replacen(&t.env.scim_base, &proxy.url, 1);
    let mut objects = Manifests::of([
        manifests::scim_secret("target", &target_url),
        manifests::scim_tenant_at("target", &tenant_id(99), "", &target_url),
        open_policy("target"),
    ]);
    for i in 0..FAN_IN_SOURCES {
        let name = format!("s{i}");
        objects = objects
            .and(Manifests::of([
                manifests::scim_secret(&name, &source_url(i)),
                manifests::scim_tenant_at(&name, &tenant_id(i), "", &source_url(i)),
                open_policy(&name),
            ]))
            .and(manifests::sync_config(
                &format!("{name}-to-target"),
                &name,
                "target",
                json!({ "scope": { "mode": "AllUsers" } }),
            ));
    }
    let operator = Operator::start(&support::env().kubeconfig, "fan-in", &["--leader-election", "false"]);
    let started = Instant::now();
    t.apply(&objects).await;
    let api = t.api::<SyncConfiguration>();
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let configs = api.list(&Default::default()).await.expect("list");
        let provisioned: u32 = configs
            .iter()
            .filter_map(|c| c.status.as_ref()?.users_provisioned)
            .sum();
        if provisioned as usize == FAN_IN_SOURCES * FAN_IN_USERS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {provisioned} users provisioned after 15 min"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let took = started.elapsed();
    let users = t.scim("target").users().await;
    let names: HashSet<&str> = users.iter().filter_map(|u| u["userName"].as_str()).collect();
    let anchors: HashSet<&str> = users.iter().filter_map(|u| u["externalId"].as_str()).collect();
    let most = proxy.counts.most.load(std::sync::atomic::Ordering::SeqCst);
    println!(
        "fan-in: {FAN_IN_SOURCES} configurations × {FAN_IN_USERS} users → 1 target: {} users in the target ({} distinct userNames, {} distinct anchors) in {took:.1?}",
        users.len(),
        names.len(),
        anchors.len()
    );
    println!(
        "fan-in: most requests in flight at the target: {most} (its limit {TARGET_LIMIT}); {} requests through the proxy",
        proxy.counts.requests.load(std::sync::atomic::Ordering::SeqCst)
    );
    assert_eq!(users.len(), FAN_IN_SOURCES * FAN_IN_USERS);
    assert_eq!(names.len(), users.len(), "a user arrived twice");
    assert!(most <= TARGET_LIMIT, "the target saw {most} requests at once");
    drop(operator);
}

async fn mesh() {
    let t = support::TestNs::new("bench-mesh").await;
    let mut objects = Manifests::of([]);
    for i in 0..MESH_TENANTS {
        let name = format!("m{i}");
        let names: Vec<String> = (0..MESH_USERS).map(|j| format!("u{j}@m{i:02}.example")).collect();
        t.scim(&name).add_users(&names, json!({})).await;
        objects = objects.and(Manifests::of([
            manifests::scim_secret(&name, &t.scim_url(&name)),
            manifests::scim_tenant(&t, &name, &tenant_id(100 + i), ""),
            open_policy(&name),
        ]));
    }
    let mut pairs = Vec::new();
    for s in 0..MESH_TENANTS {
        for d in (0..MESH_TENANTS).filter(|d| *d != s) {
            let name = format!("m{s}-to-m{d}");
            objects = objects.and(manifests::sync_config(
                &name,
                &format!("m{s}"),
                &format!("m{d}"),
                json!({ "scope": { "mode": "AllUsers" } }),
            ));
            pairs.push(name);
        }
    }
    let operator = Operator::start(&support::env().kubeconfig, "mesh", &["--leader-election", "false"]);
    let api = t.api::<SyncConfiguration>();
    let watch = tokio::spawn(ready_times(api.clone(), pairs.len()));
    let started = Instant::now();
    t.apply(&objects).await;
    let applied = started.elapsed();
    let times = tokio::time::timeout(Duration::from_secs(120), watch)
        .await
        .expect("every configuration Ready within 2 min")
        .expect("watch task");
    let mut latencies: Vec<Duration> = times.values().map(|(seen, ready)| *ready - *seen).collect();
    latencies.sort();
    let last = times.values().map(|(_, ready)| *ready).max().map(|r| r - started);
    println!(
        "mesh: {} configurations over {MESH_TENANTS} tenants, one kubectl apply ({applied:.1?}): seen → Ready p50 {:?}, p95 {:?}, max {:?}; apply started → last Ready {:?}",
        pairs.len(),
        percentile(&latencies, 50),
        percentile(&latencies, 95),
        latencies.last().copied().unwrap_or_default(),
        last.unwrap_or_default()
    );

    // Idle: once every configuration has synced, nothing should run until the next interval.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let configs = api.list(&Default::default()).await.expect("list");
        let synced = configs
            .iter()
            .filter(|c| c.status.as_ref().is_some_and(|s| s.last_cycle.is_some()))
            .count();
        if synced == pairs.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {synced} configurations synced after 5 min"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (cpu_before, at) = (proc_status::cpu_seconds(operator.pid()), Instant::now());
    tokio::time::sleep(Duration::from_secs(60)).await;
    let busy = proc_status::cpu_seconds(operator.pid()) - cpu_before;
    println!(
        "mesh: idle operator over {:.0?}: {:.2} % of one core; RSS {} MiB (peak {} MiB)",
        at.elapsed(),
        busy / at.elapsed().as_secs_f64() * 100.0,
        proc_status::status_kib(operator.pid(), "VmRSS:") / 1024,
        proc_status::status_kib(operator.pid(), "VmHWM:") / 1024
    );
    drop(operator);
}

/// When the watch first saw each configuration, and when it first saw it `Ready=True`; returns
/// once `count` are Ready.
async fn ready_times(api: kube::Api<SyncConfiguration>, count: usize) -> HashMap<String, (Instant, Instant)> {
    let mut seen: HashMap<String, Instant> = HashMap::new();
    let mut ready: HashMap<String, (Instant, Instant)> = HashMap::new();
    let mut events = std::pin::pin!(watcher(api, watcher::Config::default()));
    while let Some(event) = events.next().await {
        let objects = match event {
            Ok(watcher::Event::Apply(c) | watcher::Event::InitApply(c)) => vec![c],
            _ => continue,
        };
        let now = Instant::now();
        for config in objects {
            let name = config.metadata.name.clone().unwrap_or_default();
            let first = *seen.entry(name.clone()).or_insert(now);
            let is_ready = config
                .status
                .as_ref()
                .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
                .is_some_and(|c| c.status == "True");
            if is_ready {
                ready.entry(name).or_insert((first, now));
            }
        }
        if ready.len() == count {
            break;
        }
    }
    ready
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted
        .get((sorted.len() * p / 100).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}
