//! Sync throughput and memory against a real scim2-server, in one run on this machine.
//!
//! scim2-server is GIL-bound (≈600 creations/s whatever the concurrency), so the figure that
//! matters is the ratio to the *floor*: the same number of plain `POST /Users` by a minimal
//! client at the same concurrency, against the same server, in the same run.
//!
//! The source is a scim2-server of its own, as a source directory is another machine: the
//! cycle reads it while it writes the target (Scale #1).
//!
//! For N in 1,000 and 10,000 it prints: the floor; xtsync's initial cycle with Bulk (as the
//! server announces it) and without; a second cycle with nothing changed (writes must be 0)
//! against a minimal client's full read of both directories; and the peak RSS of a process
//! that runs an initial cycle, then a cycle with nothing changed.
//!
//! `cargo bench --bench initial_cycle` (or `make bench`); `XTSYNC_BENCH_SIZES=1000` for a
//! quicker run.

mod common;
#[path = "../tests/fault_rules.rs"]
mod fault_rules;
#[path = "common/proc_status.rs"]
mod proc_status;
#[path = "../tests/e2e/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use xtsync::api::tenant::{Capabilities, ScimSoftDelete};
use xtsync::cycle::CycleReport;
use xtsync::providers::scim::{self, ScimClient};

const SOURCE_TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Child mode: run one initial cycle and report this process's peak memory.
    if let Some(i) = args.iter().position(|a| a == "--cycle-only") {
        let (source, target) = (&args[i + 1], &args[i + 2]);
        let report = run_cycle(source, target, true).await;
        let initial = peak_rss_kib();
        let again = run_cycle(source, target, true).await;
        println!("{} {initial} {} {}", report.created, again.attempted, peak_rss_kib());
        return;
    }

    let sizes: Vec<usize> = std::env::var("XTSYNC_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000]);
    // With two cores or more, the target directory gets CPU 0 to itself and the source and
    // this process (xtsync, or the floor's client) share CPU 1: as on separate machines, the
    // target is what bounds a cycle and the floor alike (XTSYNC_BENCH_PIN=0: no pinning).
    let pin = std::env::var("XTSYNC_BENCH_PIN").map_or(true, |v| v != "0")
        && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
        && pin_this_process_to(1);
    let (target_cpu, source_cpu) = if pin { (Some(0), Some(1)) } else { (None, None) };
    let source_server = support::start_scim_server_on(source_cpu);
    let run_id = std::process::id();
    println!(
        "source scim2-server at {}; every target on a server of its own; concurrency {}; {}",
        source_server.ready_line,
        scim::concurrency(),
        if pin {
            "targets on CPU 0, source and xtsync on CPU 1"
        } else {
            "not pinned"
        }
    );
    for n in sizes {
        // Every write measurement goes into a scim2-server of its own, started empty: a Python
        // server slows as it holds more objects, and no measurement pays for another's users.
        let targets: std::collections::HashMap<&str, support::Background> = ["floor", "bulk", "single", "rss"]
            .into_iter()
            .map(|role| (role, support::start_scim_server_on(target_cpu)))
            .collect();
        let tenant = |role: &str| format!("{}/bench{run_id}-{role}-{n}/v2", targets[role].ready_line);
        let source = format!("{}/bench{run_id}-source-{n}/v2", source_server.ready_line);
        let names: Vec<String> = (0..n).map(|i| format!("user{i:05}@contoso.com")).collect();
        support::scim::Scim::new(source.clone())
            .add_users(&names, json!({ "title": "Engineer" }))
            .await;
        let seeded = Instant::now();

        let cpu = CpuUse::start(&targets["floor"], &source_server);
        let floor = floor(&tenant("floor"), &names).await;
        println!(
            "N={n:>6}  floor (plain POST /Users):          {:>8.2?}  {:>5.0} users/s",
            floor,
            n as f64 / floor.as_secs_f64()
        );
        cpu.print(n);

        let (cpu, started) = (CpuUse::start(&targets["bulk"], &source_server), Instant::now());
        let report = run_cycle(&source, &tenant("bulk"), true).await;
        let bulk = started.elapsed();
        assert_eq!(report.created as usize, n);
        println!(
            "N={n:>6}  xtsync initial cycle, Bulk:         {bulk:>8.2?}  ratio to floor {:.2}",
            ratio(bulk, floor)
        );
        cpu.print(n);

        let (cpu, started) = (CpuUse::start(&targets["single"], &source_server), Instant::now());
        let report = run_cycle(&source, &tenant("single"), false).await;
        let single = started.elapsed();
        assert_eq!(report.created as usize, n);
        println!(
            "N={n:>6}  xtsync initial cycle, no Bulk:      {single:>8.2?}  ratio to floor {:.2}",
            ratio(single, floor)
        );
        cpu.print(n);

        // The steady state: a directory whose users last changed over a minute before the
        // cycle that sets the watermark (within the minute, the next read takes them again).
        tokio::time::sleep(Duration::from_secs(61).saturating_sub(seeded.elapsed())).await;
        let (cpu, started) = (CpuUse::start(&targets["bulk"], &source_server), Instant::now());
        let second = run_cycle(&source, &tenant("bulk"), true).await;
        let no_op = started.elapsed();
        let no_op_cpu = cpu.stop();
        let bulk_target = tenant("bulk");
        let started = Instant::now();
        let (read_source, read_target) = tokio::join!(full_read(&source), full_read(&bulk_target));
        let both_read = started.elapsed();
        assert_eq!((read_source, read_target), (n, n));
        println!(
            "N={n:>6}  second cycle, nothing changed:      {no_op:>8.2?}  writes {} (unchanged {}); a plain read of both {both_read:.2?}, ratio {:.2}",
            second.attempted,
            second.unchanged,
            ratio(no_op, both_read)
        );
        print_cpu(no_op_cpu, n);

        // Ten changes among N, then an incremental cycle from the last watermark.
        let source_client = support::scim::Scim::new(source.clone());
        let changed: Vec<String> = source_client
            .users()
            .await
            .iter()
            .take(10)
            .filter_map(|u| u["id"].as_str().map(str::to_owned))
            .collect();
        for id in &changed {
            source_client.replace(id, "title", json!("Manager")).await;
        }
        let started = Instant::now();
        let incremental = run_cycle_from(&source, &tenant("bulk"), true, second.watermark.as_deref()).await;
        println!(
            "N={n:>6}  incremental cycle after 10 changes:  {:>8.2?}  read {} changed users, {} writes (updated {})",
            started.elapsed(),
            incremental.updated + incremental.unchanged + incremental.skipped,
            incremental.attempted,
            incremental.updated
        );

        let child = std::process::Command::new(std::env::current_exe().expect("own path"))
            .args(["--cycle-only", &source, &tenant("rss")])
            .output()
            .expect("child runs");
        let out = String::from_utf8_lossy(&child.stdout);
        let figures: Vec<u64> = out.split_whitespace().filter_map(|v| v.parse().ok()).collect();
        let [created, initial, writes, overall] = figures[..] else {
            panic!("the child said {out:?}");
        };
        assert_eq!((created as usize, writes), (n, 0));
        println!(
            "N={n:>6}  peak RSS of a process running an initial cycle: {} MiB; then a cycle with nothing changed: {} MiB",
            initial / 1024,
            overall / 1024
        );
    }
}

/// The CPU time xtsync (this process), the target's server and the source's server use
/// during a measurement: where the two cores went.
struct CpuUse {
    pids: [Option<u32>; 3],
    before: [f64; 3],
}

impl CpuUse {
    fn start(target: &support::Background, source: &support::Background) -> CpuUse {
        let server = |b: &support::Background| {
            let port = b.ready_line.rsplit(':').next().unwrap_or_default().to_owned();
            proc_status::pid_of(&["--port", &port])
        };
        let pids = [Some(std::process::id()), server(target), server(source)];
        CpuUse {
            before: Self::now(&pids),
            pids,
        }
    }

    fn now(pids: &[Option<u32>; 3]) -> [f64; 3] {
        pids.map(|pid| pid.map_or(0.0, proc_status::cpu_seconds))
    }

    /// The CPU seconds spent since `start`.
    fn stop(&self) -> [f64; 3] {
        let after = Self::now(&self.pids);
        [0, 1, 2].map(|i| after[i] - self.before[i])
    }

    fn print(&self, n: usize) {
        print_cpu(self.stop(), n);
    }
}

fn print_cpu([this, target, source]: [f64; 3], n: usize) {
    println!(
        "          CPU: this process {this:.1} s ({:.0} µs per user), target server {target:.1} s, source server {source:.1} s",
        this * 1e6 / n as f64
    );
}

/// Every thread of this process on CPU `cpu` (`taskset -a -p`); whether it worked.
fn pin_this_process_to(cpu: usize) -> bool {
    std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", &cpu.to_string(), &std::process::id().to_string()])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// The minimal client: one plain POST per user, `scim::concurrency()` in flight.
async fn floor(base: &str, names: &[String]) -> Duration {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let requests = names.iter().map(|name| {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
            "displayName": name,
            "title": "Engineer",
            "externalId": format!("{SOURCE_TENANT_ID}/{name}"),
            "userType": "Member",
            "active": true,
        });
        let request = http
            .post(format!("{base}/Users"))
            .bearer_auth(support::SCIM_TOKEN)
            .header("Content-Type", "application/scim+json")
            .body(body.to_string());
        async move { request.send().await.map(|r| r.status().is_success()).unwrap_or(false) }
    });
    let ok = futures::stream::iter(requests)
        .buffer_unordered(scim::concurrency())
        .filter(|ok| futures::future::ready(*ok))
        .count()
        .await;
    assert_eq!(ok, names.len(), "the floor client created every user");
    started.elapsed()
}

/// The minimal reader: every user, in pages of 1,000, one page at a time; the number read.
async fn full_read(base: &str) -> usize {
    let http = reqwest::Client::new();
    let mut read = 0;
    loop {
        let page: serde_json::Value = http
            .get(format!("{base}/Users?startIndex={}&count=1000", read + 1))
            .bearer_auth(support::SCIM_TOKEN)
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("JSON page");
        let got = page["Resources"].as_array().map_or(0, Vec::len);
        read += got;
        if got == 0 || read as u64 >= page["totalResults"].as_u64().unwrap_or(0) {
            return read;
        }
    }
}

async fn run_cycle(source: &str, target: &str, bulk: bool) -> CycleReport {
    run_cycle_from(source, target, bulk, None).await
}

async fn run_cycle_from(source: &str, target: &str, bulk: bool, watermark: Option<&str>) -> CycleReport {
    let capabilities = Capabilities {
        patch: true,
        bulk,
        filter: true,
        etag: true,
        change_tracking: true,
        bulk_max_operations: bulk.then_some(1000),
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
    common::all_users_cycle(&connect(source), &connect(target), SOURCE_TENANT_ID, watermark).await
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
