//! Microsoft Graph requests and time per cycle, against the fake Graph of `tests/fake_graph`
//! (in this process; no Entra tenant is reachable from here).
//!
//! For N users (default 1,000; `XTSYNC_BENCH_SIZES=…`) it prints: an Initial cycle into an
//! empty target with JSON batching and without; the Graph operations and HTTP round trips per
//! created user; a second cycle with nothing changed (writes must be 0); and an incremental
//! cycle after 10 changes in the source (operations per updated user).
//!
//! `cargo bench --bench graph_cycle`.

mod common;
#[path = "../tests/fake_graph/mod.rs"]
mod fake_graph;
#[path = "../tests/fault_rules.rs"]
mod fault_rules;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_graph::FakeGraph;
use serde_json::json;
use xtsync::cycle::CycleReport;
use xtsync::providers::msgraph::resource::AnchorAttribute;
use xtsync::providers::msgraph::{MsGraphDirectory, TokenCache};

const SOURCE: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const TARGET_BATCHED: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
const APP: &str = "11111111-2222-4333-8444-555555555555";
const SECRET: &str = "bench-secret";
/// A simulated network round trip for every HTTP request (the second pair of Initial cycles).
const LATENCY: Duration = Duration::from_millis(20);

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("XTSYNC_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000]);
    for n in sizes {
        bench(n).await;
    }
}

async fn bench(n: usize) {
    let fake = FakeGraph::start().await;
    fake.add_tenant(SOURCE, "contoso", APP, SECRET);
    fake.add_tenant(TARGET_BATCHED, "fabrikam", APP, SECRET);
    let ids: Vec<String> = (0..n)
        .map(|i| {
            fake.add_member(
                SOURCE,
                &format!("user{i:05}@contoso.com"),
                json!({ "givenName": "User", "surname": format!("{i:05}"), "jobTitle": "Engineer", "department": "Sales" }),
            )
        })
        .collect();
    let tokens = Arc::new(TokenCache::default());
    let directory = |tenant: &str, batching: bool| {
        let client = fake.client(tenant, APP, SECRET, tokens.clone());
        MsGraphDirectory::new(client, AnchorAttribute::DEFAULT, batching)
    };
    let source = directory(SOURCE, true);
    println!("N={n}: fake Graph at {}, {} source users", fake.base, ids.len());

    // In-process a round trip costs nothing; to Graph it costs tens of milliseconds.
    for (round, latency) in [Duration::ZERO, LATENCY].into_iter().enumerate() {
        fake.set_latency(latency);
        for batching in [false, true] {
            let target_id = format!("00000000-0000-4000-8000-00000000000{round}{}", u8::from(batching));
            fake.add_tenant(&target_id, &format!("target{round}{batching}"), APP, SECRET);
            let target = directory(&target_id, batching);
            fake.clear_log();
            let (report, took) = timed(cycle_from(&source, &target, None)).await;
            assert_eq!(report.created as usize, n, "{:?}", report.failures.first());
            let log = fake.requests(&target_id);
            let operations = log.iter().filter(|l| l.is_write()).count();
            let round_trips = log.iter().filter(|l| !l.in_batch).count();
            println!(
                "  Initial cycle, {latency:>4?} round trip, {:<16} {took:>9.2?}  {:>6.0} users/s  target: {:.2} write operations/user, {round_trips:>5} HTTP requests ({:.3}/user)",
                if batching { "with $batch:" } else { "without $batch:" },
                n as f64 / took.as_secs_f64(),
                operations as f64 / n as f64,
                round_trips as f64 / n as f64,
            );
        }
    }

    fake.set_latency(Duration::ZERO);
    let target = directory(TARGET_BATCHED, true);
    timed(cycle_from(&source, &target, None)).await;
    fake.clear_log();
    let (again, took) = timed(cycle_from(&source, &target, None)).await;
    assert_eq!(again.unchanged as usize, n);
    let writes = fake.requests(TARGET_BATCHED).iter().filter(|l| l.is_write()).count();
    println!(
        "  second full cycle, nothing changed: {took:>9.2?}  unchanged {}  writes {writes}",
        again.unchanged
    );
    assert_eq!(writes, 0, "an unchanged user costs no write");

    for id in ids.iter().take(10) {
        fake.with_tenant(SOURCE, |t, _| t.update(id, json!({ "jobTitle": "Lead" })));
    }
    fake.clear_log();
    let (incremental, took) = timed(cycle_from(&source, &target, again.watermark.as_deref())).await;
    let log = fake.requests(TARGET_BATCHED);
    let writes = log.iter().filter(|l| l.is_write()).count();
    let reads = log.iter().filter(|l| l.method == "GET").count();
    println!(
        "  incremental cycle after 10 changes: {took:>9.2?}  updated {}  writes {writes} ({:.1}/updated user)  target reads {reads}",
        incremental.updated,
        writes as f64 / f64::from(incremental.updated.max(1))
    );

    for id in &ids {
        fake.with_tenant(SOURCE, |t, _| t.update(id, json!({ "jobTitle": "Principal" })));
    }
    fake.clear_log();
    let (all, took) = timed(cycle_from(&source, &target, incremental.watermark.as_deref())).await;
    let log = fake.requests(TARGET_BATCHED);
    let writes = log.iter().filter(|l| l.is_write()).count();
    let batches = log.iter().filter(|l| l.target.starts_with("/v1.0/$batch")).count();
    println!(
        "  incremental cycle after {n} changes:  {took:>9.2?}  updated {}  writes {writes} in {batches} $batch requests  target reads {}",
        all.updated,
        log.iter().filter(|l| l.method == "GET" && !l.in_batch).count()
    );
}

async fn timed<T>(future: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let value = future.await;
    (value, started.elapsed())
}

async fn cycle_from(source: &MsGraphDirectory, target: &MsGraphDirectory, watermark: Option<&str>) -> CycleReport {
    common::all_users_cycle(source, target, SOURCE, watermark).await
}
