//! How fast does the operator answer? Runs the release binary against a real kube-apiserver and
//! scim2-server and prints:
//! - apply → Ready: `kubectl apply` of a whole quickstart (Secrets, two Tenants, two policies,
//!   one SyncConfiguration) in a fresh namespace until the SyncConfiguration is `Ready=True`;
//! - gate only: `kubectl apply` of one more SyncConfiguration between Ready tenants until Ready;
//! - the operator's resident memory once idle.
//!
//! `cargo bench --bench ready_latency` (or `make bench`). Figures vary with the machine; the
//! target is a median under 1 s.

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

use std::time::{Duration, Instant};

use operator::Operator;
use xtsync::api::SyncConfiguration;

const RUNS: usize = 10;

#[tokio::main]
async fn main() {
    let env = support::env();
    let operator = Operator::start(&env.kubeconfig, "ready", &[]);

    let mut whole = Vec::new();
    let mut gate_only = Vec::new();
    for run in 0..RUNS {
        let t = support::TestNs::new(&format!("bench-{run}")).await;
        let api = t.api::<SyncConfiguration>();
        let started = Instant::now();
        t.apply(&manifests::quickstart(&t)).await;
        wait_ready(&api, "contoso-to-fabrikam").await;
        whole.push(started.elapsed());

        let started = Instant::now();
        t.apply(&manifests::sync_config(
            "fabrikam-to-contoso",
            "fabrikam",
            "contoso",
            manifests::nothing(),
        ))
        .await;
        // The reverse direction is not allowed by the quickstart policies: wait for any verdict.
        wait_verdict(&api, "fabrikam-to-contoso").await;
        gate_only.push(started.elapsed());
        // A pair may be configured once per cluster (docs/architecture.md, rule 2), and every run
        // uses the same tenant ids: free the pair for the next run.
        t.kubectl(&["delete", "syncconfig", "--all", "--wait"]).await;
    }

    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss = proc_status::status_kib(operator.pid(), "VmRSS:");
    let peak = proc_status::status_kib(operator.pid(), "VmHWM:");
    drop(operator);

    println!(
        "apply → Ready (quickstart, {RUNS} runs): median {:?}, max {:?}",
        median(&mut whole),
        whole.iter().max().copied().unwrap_or_default()
    );
    println!(
        "apply → Ready (gate only, {RUNS} runs):  median {:?}, max {:?}",
        median(&mut gate_only),
        gate_only.iter().max().copied().unwrap_or_default()
    );
    println!("operator RSS idle: {} MiB (peak {} MiB)", rss / 1024, peak / 1024);
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn wait_ready(api: &kube::Api<SyncConfiguration>, name: &str) {
    poll(api, name, |c| c.status == "True").await;
}

async fn wait_verdict(api: &kube::Api<SyncConfiguration>, name: &str) {
    poll(api, name, |_| true).await;
}

/// Tight polling (10 ms) so that the figure measures the operator, not the poll.
async fn poll(
    api: &kube::Api<SyncConfiguration>,
    name: &str,
    accept: impl Fn(&k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(c)) = api.get_opt(name).await {
            let ready = c
                .status
                .as_ref()
                .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready").cloned());
            if ready.is_some_and(|r| r.observed_generation == c.metadata.generation && accept(&r)) {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{name} got no verdict within 60 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
