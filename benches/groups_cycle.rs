//! Group provisioning (README, "Groups"): 100 groups of 100 members each (10,000 users, each in one
//! group) provisioned into an empty target, over SCIM (real scim2-servers; a proxy in front of
//! the target counts its requests) and over Microsoft Graph (the fake Graph of
//! `tests/fake_graph`, in this process, with `$batch`; it logs every request).
//!
//! For each it prints the requests the target saw (all, and writes) and the time of the
//! Initial cycle, which creates the users, then the groups with their members; then a second
//! cycle with nothing changed (writes must be 0).
//!
//! `cargo bench --bench groups_cycle`; `XTSYNC_BENCH_GROUPS=10,100` for other sizes
//! (groups × members per group); `XTSYNC_BENCH_PARTS=graph` (or `scim`) for one.

mod common;
#[path = "common/counting_proxy.rs"]
mod counting_proxy;
#[path = "../tests/fake_graph/mod.rs"]
mod fake_graph;
#[path = "../tests/fault_rules.rs"]
mod fault_rules;
#[path = "../tests/e2e/support/mod.rs"]
mod support;

use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::json;
use xtsync::cycle::CycleReport;
use xtsync::providers::msgraph::MsGraphDirectory;
use xtsync::providers::msgraph::resource::AnchorAttribute;
use xtsync::providers::scim::ScimClient;
use xtsync::providers::settings::{DirectoryFeatures, ScimDeletion};
use xtsync::providers::{SourceDirectory, TargetDirectory};

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
    let parts = std::env::var("XTSYNC_BENCH_PARTS").unwrap_or_else(|_| "scim,graph".into());
    if parts.contains("scim") {
        over_scim(groups, members).await;
    }
    if parts.contains("graph") {
        over_graph(groups, members).await;
    }
}

async fn over_scim(groups: usize, members: usize) {
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
    let (source_dir, target_dir) = (scim_client(&source_url), scim_client(&target_url));
    let counts = &proxy.counts;
    let count = || {
        (
            counts.requests.load(Ordering::SeqCst),
            counts.writes.load(Ordering::SeqCst),
        )
    };
    measure(&source_dir, &target_dir, &names, groups * members, count, OVERLAP).await;
}

/// SCIM reads of changes start a minute before the last read began (README, "How a sync works"):
/// what changed within the minute before the Initial cycle is read again by the next. The bench
/// waits that minute after seeding, as a directory whose users did not all change a moment ago.
const OVERLAP: std::time::Duration = std::time::Duration::from_secs(61);

async fn over_graph(groups: usize, members: usize) {
    const TARGET_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
    const APP: &str = "11111111-2222-4333-8444-555555555555";
    const SECRET: &str = "bench-secret";
    let fake = fake_graph::FakeGraph::start().await;
    fake.add_tenant(SOURCE_TENANT_ID, "contoso", APP, SECRET);
    fake.add_tenant(TARGET_TENANT_ID, "fabrikam", APP, SECRET);
    let mut names = Vec::new();
    for g in 0..groups {
        let ids: Vec<String> = (0..members)
            .map(|m| fake.add_member(SOURCE_TENANT_ID, &format!("u{g:03}-{m:03}@contoso.com"), json!({})))
            .collect();
        let name = format!("Group {g:03}");
        fake.add_group(SOURCE_TENANT_ID, &name, &ids);
        names.push(name);
    }
    println!("groups_cycle: {groups} groups × {members} members over Microsoft Graph (fake, $batch)");
    let tokens = std::sync::Arc::new(xtsync::providers::msgraph::TokenCache::default());
    let directory = |tenant: &str| {
        let client = fake.client(tenant, APP, SECRET, tokens.clone());
        MsGraphDirectory::new(client, AnchorAttribute::DEFAULT, true)
    };
    let (source, target) = (directory(SOURCE_TENANT_ID), directory(TARGET_TENANT_ID));
    let count = || {
        let log = fake.requests(TARGET_TENANT_ID);
        // HTTP requests (a batch is one), and write operations (inside batches too).
        let requests = log.iter().filter(|l| !l.in_batch).count();
        let writes = log.iter().filter(|l| l.is_write()).count();
        (requests, writes)
    };
    measure(
        &source,
        &target,
        &names,
        groups * members,
        count,
        std::time::Duration::ZERO,
    )
    .await;
}

/// The Initial cycle, then one with nothing changed, with the target's requests of each.
async fn measure(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    names: &[String],
    users: usize,
    count: impl Fn() -> (usize, usize),
    wait: std::time::Duration,
) {
    let groups = names.len() as u32;
    tokio::time::sleep(wait).await;
    let (requests_before, writes_before) = count();
    let started = Instant::now();
    let initial = run_cycle(source, target, names, None).await;
    let took = started.elapsed();
    let g = initial.groups.clone().expect("group report");
    assert_eq!((g.created, g.failed), (groups, 0), "{g:?}");
    assert_eq!(g.members_added as usize, users);
    let (requests, writes) = count();
    println!(
        "  initial cycle: {:.1} s, {} requests to the target, {} write operations: {} users created, {} groups created with {} members",
        took.as_secs_f64(),
        requests - requests_before,
        writes - writes_before,
        initial.created,
        g.created,
        g.members_added
    );
    let started = Instant::now();
    let again = run_cycle(source, target, names, Some(&initial)).await;
    let took = started.elapsed();
    let g = again.groups.clone().expect("group report");
    let (requests_after, writes_after) = count();
    let written = writes_after - writes;
    assert_eq!(written, 0, "a cycle with nothing changed writes nothing");
    println!(
        "  nothing changed: {:.1} s, {} requests to the target, {written} writes ({} groups unchanged)",
        took.as_secs_f64(),
        requests_after - requests,
        g.unchanged
    );
}

fn scim_client(url: &str) -> ScimClient {
    let capabilities = DirectoryFeatures {
        patch: true,
        bulk: true,
        filter: true,
        etag: true,
        change_tracking: true,
        bulk_max_operations: Some(1000),
    };
    ScimClient::new(
        xtsync::providers::http_client().expect("an HTTP client"),
        url,
        support::SCIM_TOKEN,
        capabilities,
        ScimDeletion::Deactivate,
    )
    .expect("client")
}

async fn run_cycle(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    groups: &[String],
    previous: Option<&CycleReport>,
) -> CycleReport {
    let spec = json!({
        "scope": { "mode": "AssignedUsersAndGroups", "groups": groups },
        "groupProvisioning": { "enabled": true },
    });
    let watermarks = [
        previous.and_then(|p| p.watermark.as_deref()),
        previous.and_then(|p| p.groups_watermark.as_deref()),
        previous.and_then(|p| p.group_members_digest.as_deref()),
    ];
    common::cycle_of(source, target, SOURCE_TENANT_ID, spec, watermarks).await
}
