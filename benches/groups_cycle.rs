//! Group provisioning (issue Groups) over SCIM, against real scim2-servers: 100 groups of 100
//! members each (10,000 users, each in one group) provisioned into an empty target.
//!
//! It prints the requests the target saw (all, and writes) and the time of the Initial cycle,
//! which creates the users, then the groups with their members; then a second cycle with
//! nothing changed (writes must be 0). A proxy in front of the target counts its requests.
//!
//! `cargo bench --bench groups_cycle`; `XTSYNC_BENCH_GROUPS=10,100` for other sizes
//! (groups × members per group).

#[path = "common/counting_proxy.rs"]
mod counting_proxy;
#[path = "../tests/fault_rules.rs"]
mod fault_rules;
#[path = "../tests/e2e/support/mod.rs"]
mod support;

use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::json;
use xtsync::api::sync_config::SyncConfigurationSpec;
use xtsync::api::tenant::{Capabilities, ScimSoftDelete};
use xtsync::cycle::{self, CycleInput, CycleReport};
use xtsync::providers::scim::ScimClient;

const SOURCE_TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("XTSYNC_BENCH_GROUPS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_default();
    let (groups, members) = match sizes.as_slice() {
        [g, m] => (*g, *m),
        _ => (100, 100),
    };
    let source_server = support::start_scim_server();
    let target_server = support::start_scim_server();
    let proxy = counting_proxy::start(&target_server.ready_line).await;
    let source_url = format!("{}/bench-groups-source/v2", source_server.ready_line);
    let target_url = format!("{}/bench-groups-target/v2", proxy.url);
    let source = support::scim::Scim::new(source_url.clone());
    let mut names = Vec::new();
    for g in 0..groups {
        let users: Vec<String> = (0..members)
            .map(|m| format!("u{g:03}-{m:03}@contoso.example"))
            .collect();
        let ids = source.add_users(&users, json!({})).await;
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let name = format!("Group {g:03}");
        source.add_group(&name, &refs).await;
        names.push(name);
    }
    println!("groups_cycle: {groups} groups × {members} members over SCIM (scim2-server)");
    let cycle = |watermark: Option<String>| run_cycle(&source_url, &target_url, &names, watermark);

    let (requests, writes) = (&proxy.counts.requests, &proxy.counts.writes);
    let started = Instant::now();
    let initial = cycle(None).await;
    let took = started.elapsed();
    let g = initial.groups.clone().expect("group report");
    assert_eq!((g.created, g.failed), (groups as u32, 0), "{g:?}");
    assert_eq!(g.members_added as usize, groups * members);
    println!(
        "  initial cycle: {:.1} s, {} requests to the target ({} writes): {} users created, {} groups created with {} members",
        took.as_secs_f64(),
        requests.load(Ordering::SeqCst),
        writes.load(Ordering::SeqCst),
        initial.created,
        g.created,
        g.members_added
    );

    let (requests_before, writes_before) = (requests.load(Ordering::SeqCst), writes.load(Ordering::SeqCst));
    let started = Instant::now();
    let again = cycle(initial.watermark.clone()).await;
    let took = started.elapsed();
    let g = again.groups.clone().expect("group report");
    let written = writes.load(Ordering::SeqCst) - writes_before;
    assert_eq!(written, 0, "a cycle with nothing changed writes nothing");
    println!(
        "  nothing changed: {:.1} s, {} requests to the target, {written} writes ({} groups unchanged)",
        took.as_secs_f64(),
        requests.load(Ordering::SeqCst) - requests_before,
        g.unchanged
    );
}

async fn run_cycle(source: &str, target: &str, groups: &[String], watermark: Option<String>) -> CycleReport {
    let spec: SyncConfigurationSpec = serde_json::from_value(json!({
        "sourceRef": { "name": "source" },
        "targetRef": { "name": "target" },
        "scope": { "mode": "AssignedUsersAndGroups", "groups": groups },
        "groupProvisioning": { "enabled": true },
    }))
    .expect("spec");
    let valid = xtsync::validate::validate(&spec).expect("valid spec");
    let capabilities = Capabilities {
        patch: true,
        bulk: true,
        filter: true,
        etag: true,
        change_tracking: true,
        bulk_max_operations: Some(1000),
    };
    let http = xtsync::providers::http_client();
    let connect = |url: &str| {
        ScimClient::new(
            http.clone(),
            url,
            support::SCIM_TOKEN,
            capabilities.clone(),
            ScimSoftDelete::Deactivate,
        )
        .expect("client")
    };
    let input = CycleInput {
        source_tenant_id: SOURCE_TENANT_ID,
        rules: &valid.rules,
        approval: None,
        watermark: watermark.as_deref(),
        dry_run: false,
        audit: &xtsync::cycle::audit::Discard,
        progress: &xtsync::cycle::progress::Untracked,
    };
    let report = cycle::run(&connect(source), &connect(target), &input)
        .await
        .expect("cycle runs");
    assert_eq!(report.failed, 0, "{:?}", report.failures.first());
    report
}
