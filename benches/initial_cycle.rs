//! Sync throughput and memory against a real scim2-server, in one run on this machine.
//!
//! scim2-server is GIL-bound (≈600 creations/s whatever the concurrency), so the figure that
//! matters is the ratio to a *floor* in the same run, against the same servers
//! (`common/floors.rs`): for an Initial cycle without Bulk, the minimal sync client (a reader of
//! the source's pages of 1,000 and writers sending one plain `POST /Users` per user read); with
//! Bulk, the minimal Bulk client (the same reader, writers sending Bulk requests of the size the
//! target allows); each with C writers and with 1, the faster counting. The plain floor (N
//! `POST /Users` without reading anything) stays as a reference.
//!
//! The source is a scim2-server of its own, as a source directory is another machine: the
//! cycle reads it while it writes the target (docs/architecture.md, "One cycle, step by step").
//! It runs at nice 19, so that it takes only the CPU xtsync leaves, as it would on a machine of
//! its own.
//!
//! For N in 1,000 and 10,000 it prints, over `XTSYNC_BENCH_REPEATS` rounds (default 3): the
//! plain floor; xtsync's initial cycle without Bulk; the minimal sync client with C writers and
//! with 1; the floor beside a plain read of the source (on
//! one machine, the source's serving of its pages slows the target's server too) and how long
//! that read took on its own; xtsync's initial cycle with Bulk (as the server announces it);
//! the minimal Bulk client with C writers and with 1; the plain floor again, so that each round compares xtsync with the mean of a floor before and
//! after it; the median of the rounds' ratios to both floors. Then a
//! second cycle with nothing changed (writes must be 0) against a minimal client's full read
//! of both directories, an incremental cycle after 10 changes, and the peak RSS of a process
//! that runs an initial cycle, then a cycle with nothing changed.
//!
//! `cargo bench --bench initial_cycle` (or `make bench`); `XTSYNC_BENCH_SIZES=1000` or
//! `XTSYNC_BENCH_REPEATS=1` for a quicker run; `XTSYNC_BENCH_STEADY_ONLY=1` for the cycle with
//! nothing changed, the incremental cycle and the memory alone.

mod common;
#[path = "common/counting_proxy.rs"]
mod counting_proxy;
#[path = "common/cpu_use.rs"]
mod cpu_use;
#[path = "../tests/fault_rules.rs"]
mod fault_rules;
#[path = "common/floors.rs"]
mod floors;
#[path = "common/proc_status.rs"]
mod proc_status;
#[path = "common/request_breakdown.rs"]
mod request_breakdown;
#[path = "../tests/e2e/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use cpu_use::{CpuUse, pin_this_process_to, print_cpu, renice, server_pid};
use serde_json::json;
use xtsync::cycle::CycleReport;
use xtsync::providers::scim::{self, ScimClient};
use xtsync::providers::settings::{DirectoryFeatures, ScimDeletion};

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
    // On a machine of its own, the source would never take the CPU xtsync needs to answer the
    // target at once; at the lowest priority it takes only what xtsync leaves
    // (XTSYNC_BENCH_SOURCE_NICE=0: the same priority as xtsync).
    let source_niceness: i32 = env_or("XTSYNC_BENCH_SOURCE_NICE", 19);
    let reniced = source_niceness != 0 && renice(server_pid(&source_server), source_niceness);
    let repeats = env_or("XTSYNC_BENCH_REPEATS", 3_usize).max(1);
    // Only the steady state (a cycle with nothing changed, an incremental one) and the memory:
    // the target is filled by one Bulk cycle, unmeasured.
    let steady_only = env_or("XTSYNC_BENCH_STEADY_ONLY", 0_u8) == 1;
    let run_id = std::process::id();
    println!(
        "source scim2-server at {} ({}); every target on a server of its own; concurrency {}; {}; {repeats} rounds",
        source_server.ready_line,
        if reniced {
            format!("nice {source_niceness}")
        } else {
            "not reniced".to_owned()
        },
        scim::concurrency(),
        if pin {
            "targets on CPU 0, source and xtsync on CPU 1"
        } else {
            "not pinned"
        }
    );
    for n in sizes {
        let source = format!("{}/bench{run_id}-source-{n}/v2", source_server.ready_line);
        let names: Vec<String> = (0..n).map(|i| format!("user{i:05}@contoso.com")).collect();
        support::scim::Scim::new(source.clone())
            .add_users(&names, json!({ "title": "Engineer" }))
            .await;
        let seeded = Instant::now();
        let bench = Bench {
            names: &names,
            source: &source,
            source_server: &source_server,
            target_cpu,
            tenant_prefix: format!("bench{run_id}"),
        };
        let (bulk_server, bulk_target) = if steady_only {
            bench.bulk_target().await
        } else {
            bench.initial_cycles(repeats).await
        };
        // The steady state: a directory whose users last changed over a minute before the
        // cycle that sets the watermark (within the minute, the next read takes them again).
        tokio::time::sleep(Duration::from_secs(61).saturating_sub(seeded.elapsed())).await;
        bench.steady_state(&bulk_server, &bulk_target).await;

        let rss_server = support::start_scim_server_on(target_cpu);
        let rss_target = format!("{}/{}-rss-{n}/v2", rss_server.ready_line, bench.tenant_prefix);
        let child = std::process::Command::new(std::env::current_exe().expect("own path"))
            .args(["--cycle-only", &source, &rss_target])
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

/// A round's measurements, in order: the plain floor brackets xtsync's cycles, and the floor
/// beside a source read sits between them.
const ROUND: [Writer; 9] = [
    Writer::Floor,
    Writer::OnePostPerUser,
    Writer::MinimalSync { writers: Writers::Many },
    Writer::MinimalSync { writers: Writers::One },
    Writer::FloorBesideSourceRead,
    Writer::Bulk,
    Writer::MinimalBulk { writers: Writers::Many },
    Writer::MinimalBulk { writers: Writers::One },
    Writer::Floor,
];

/// How many writers a minimal sync client runs: `scim::concurrency()`, or one.
#[derive(Clone, Copy)]
enum Writers {
    Many,
    One,
}

impl Writers {
    fn count(self) -> usize {
        match self {
            Writers::Many => scim::concurrency(),
            Writers::One => 1,
        }
    }
}

/// Who writes the N users into an empty target.
#[derive(Clone, Copy)]
enum Writer {
    /// The minimal client: plain `POST /Users`.
    Floor,
    /// The same `POST`s while a minimal reader takes every page of the source alongside: on one
    /// machine, the source's serving of its pages competes for the hardware the target runs on
    /// (memory, caches, the host's cores), as it does in xtsync's cycle, which reads the source
    /// while it writes. The floor a sync can reach here; done when both are.
    FloorBesideSourceRead,
    /// The minimal sync client (`floors::minimal_sync`): a reader of the source's pages and
    /// writers sending one plain `POST /Users` per user read. The floor of `OnePostPerUser`.
    MinimalSync { writers: Writers },
    /// The same reader, and writers sending Bulk requests as large as the target allows. The
    /// floor of `Bulk`.
    MinimalBulk { writers: Writers },
    /// xtsync's Initial cycle without Bulk: one `POST` per user.
    OnePostPerUser,
    /// xtsync's Initial cycle with Bulk, as the server announces it.
    Bulk,
}

impl Writer {
    fn label(self) -> &'static str {
        match self {
            Writer::Floor => "floor (plain POST /Users):",
            Writer::FloorBesideSourceRead => "floor beside a source read:",
            Writer::MinimalSync { writers: Writers::Many } => "minimal sync client, C writers:",
            Writer::MinimalSync { writers: Writers::One } => "minimal sync client, 1 writer:",
            Writer::MinimalBulk { writers: Writers::Many } => "minimal Bulk client, C writers:",
            Writer::MinimalBulk { writers: Writers::One } => "minimal Bulk client, 1 writer:",
            Writer::OnePostPerUser => "xtsync initial cycle, no Bulk:",
            Writer::Bulk => "xtsync initial cycle, Bulk:",
        }
    }
}

/// One size's measurements: the seeded source, its server, and where targets run.
struct Bench<'a> {
    names: &'a [String],
    source: &'a str,
    source_server: &'a support::Background,
    target_cpu: Option<usize>,
    tenant_prefix: String,
}

impl Bench<'_> {
    /// `repeats` rounds of the floors and the Initial cycles without Bulk and with it, each into
    /// a scim2-server of its own, started empty (a Python server slows as it holds more objects,
    /// and no measurement pays for another's users); the median of the rounds' ratios. The
    /// target server's speed for the same work drifts by up to a third over minutes, so a round
    /// times the plain floor before and after xtsync's cycles and compares them with the mean of
    /// the two, and times the floor beside a source read between them. Returns the last Bulk
    /// target, with its server, for the steady state.
    async fn initial_cycles(&self, repeats: usize) -> (support::Background, String) {
        let n = self.names.len();
        // The ratios of no Bulk and Bulk to their minimal clients, to the plain floor, and to the
        // floor beside a source read.
        let mut ratios: [Vec<f64>; 6] = Default::default();
        let mut last_bulk = None;
        for round in 1..=repeats {
            let mut took = Vec::with_capacity(ROUND.len());
            for writer in ROUND {
                let server = support::start_scim_server_on(self.target_cpu);
                let target = format!(
                    "{}/{}-{round}-{}-{n}/v2",
                    server.ready_line,
                    self.tenant_prefix,
                    took.len()
                );
                let cpu = CpuUse::start(&server, self.source_server);
                let (wall, source_read) = self.write_all(writer, &target).await;
                let rate = match writer {
                    Writer::Floor
                    | Writer::FloorBesideSourceRead
                    | Writer::MinimalSync { .. }
                    | Writer::MinimalBulk { .. } => {
                        format!("{:>5.0} users/s", n as f64 / wall.as_secs_f64())
                    }
                    Writer::OnePostPerUser | Writer::Bulk => String::new(),
                };
                let line = format!(
                    "N={n:>6}  round {round}/{repeats}  {:<31} {wall:>8.2?}  {rate}",
                    writer.label()
                );
                println!("{}", line.trim_end());
                cpu.print(n, wall);
                if let Some(read) = source_read {
                    println!("          the source read beside it took {read:.2?} on its own");
                }
                took.push(wall);
                if matches!(writer, Writer::Bulk) {
                    last_bulk = Some((server, target));
                }
            }
            let [
                floor_before,
                single,
                sync_many,
                sync_one,
                beside,
                bulk,
                bulk_many,
                bulk_one,
                floor_after,
            ] = took[..]
            else {
                unreachable!("a round is {} measurements", ROUND.len());
            };
            let floor = (floor_before + floor_after) / 2;
            let round_ratios = [
                ratio(single, sync_many.min(sync_one)),
                ratio(bulk, bulk_many.min(bulk_one)),
                ratio(single, floor),
                ratio(bulk, floor),
                ratio(single, beside),
                ratio(bulk, beside),
            ];
            for (all, this) in ratios.iter_mut().zip(round_ratios) {
                all.push(this);
            }
            println!(
                "N={n:>6}  round {round}/{repeats}  no Bulk {:.2} × the minimal sync client, Bulk {:.2} × the minimal Bulk client; to the plain floor {floor:.2?} (mean of before and after): {:.2} ×, {:.2} ×; to the floor beside a source read: {:.2} ×, {:.2} ×",
                round_ratios[0], round_ratios[1], round_ratios[2], round_ratios[3], round_ratios[4], round_ratios[5]
            );
        }
        let [single, bulk, single_plain, bulk_plain, single_beside, bulk_beside] = ratios.map(|mut r| median(&mut r));
        println!(
            "N={n:>6}  median of {repeats} rounds: no Bulk {single:.2} × the minimal sync client, Bulk {bulk:.2} × the minimal Bulk client"
        );
        println!(
            "N={n:>6}  median of {repeats} rounds: no Bulk {single_plain:.2} × the plain floor, Bulk {bulk_plain:.2} ×"
        );
        println!(
            "N={n:>6}  median of {repeats} rounds: no Bulk {single_beside:.2} × the floor beside a source read, Bulk {bulk_beside:.2} ×"
        );
        last_bulk.expect("at least one round")
    }

    /// A target of its own holding every source user, filled by xtsync's Initial cycle with
    /// Bulk (`XTSYNC_BENCH_STEADY_ONLY=1`: the rounds are not run).
    async fn bulk_target(&self) -> (support::Background, String) {
        let server = support::start_scim_server_on(self.target_cpu);
        let n = self.names.len();
        let target = format!("{}/{}-steady-{n}/v2", server.ready_line, self.tenant_prefix);
        let (took, _) = self.write_all(Writer::Bulk, &target).await;
        println!("N={n:>6}  the target filled by an Initial cycle with Bulk in {took:.2?} (the rounds not run)");
        (server, target)
    }

    /// The time `writer` takes to create every user in the empty `target`; beside a source
    /// read, also the time the read took on its own.
    async fn write_all(&self, writer: Writer, target: &str) -> (Duration, Option<Duration>) {
        let started = Instant::now();
        match writer {
            Writer::Floor => (self.plain_posts(target).await, None),
            Writer::MinimalSync { writers } => {
                let writes = floors::FloorWrites::PlainPosts;
                let took = floors::minimal_sync(self.source, target, SOURCE_TENANT_ID, writes, writers.count()).await;
                (took, None)
            }
            Writer::MinimalBulk { writers } => {
                let writes = floors::FloorWrites::Bulk(floors::bulk_max_operations(target).await);
                let took = floors::minimal_sync(self.source, target, SOURCE_TENANT_ID, writes, writers.count()).await;
                (took, None)
            }
            Writer::FloorBesideSourceRead => {
                let reading = async {
                    let read = floors::full_read(self.source).await;
                    (read, started.elapsed())
                };
                let (_, (read, read_took)) = tokio::join!(self.plain_posts(target), reading);
                assert_eq!(read, self.names.len(), "the reader took every source user");
                (started.elapsed(), Some(read_took))
            }
            Writer::OnePostPerUser | Writer::Bulk => {
                let report = run_cycle(self.source, target, matches!(writer, Writer::Bulk)).await;
                assert_eq!(report.created as usize, self.names.len());
                (started.elapsed(), None)
            }
        }
    }

    /// The plain floor: every user name, one `POST /Users` each.
    async fn plain_posts(&self, target: &str) -> Duration {
        floors::plain_posts(target, self.names, SOURCE_TENANT_ID, scim::concurrency()).await
    }

    /// A second cycle with nothing changed, against a plain read of both directories; then ten
    /// changes and an incremental cycle from its watermark.
    async fn steady_state(&self, server: &support::Background, target: &str) {
        let n = self.names.len();
        let cpu = CpuUse::start(server, self.source_server);
        let started = Instant::now();
        let second = run_cycle(self.source, target, true).await;
        let no_op = started.elapsed();
        let no_op_cpu = cpu.stop();
        let started = Instant::now();
        let (read_source, read_target) = tokio::join!(floors::full_read(self.source), floors::full_read(target));
        let both_read = started.elapsed();
        assert_eq!((read_source, read_target), (n, n));
        println!(
            "N={n:>6}  second cycle, nothing changed:      {no_op:>8.2?}  writes {} (unchanged {}); a plain read of both {both_read:.2?}, ratio {:.2}",
            second.attempted,
            second.unchanged,
            ratio(no_op, both_read)
        );
        print_cpu(no_op_cpu, n, no_op);

        let source_client = support::scim::Scim::new(self.source.to_owned());
        let changed: Vec<String> = source_client
            .users()
            .await
            .iter()
            .take(10)
            .filter_map(|u| u["id"].as_str().map(str::to_owned))
            .collect();
        let since = (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1)).to_string();
        for id in &changed {
            source_client.replace(id, "title", json!("Manager")).await;
        }
        // Both servers warm: scim2-server builds its index of an attribute's values on the
        // first `eq` search of it (a scan of every user, seconds at 100,000), which a directory
        // in service has long done; then the floor before and after the cycle, as in the rounds.
        floors::warm_searches(self.source, target).await;
        let (floor_before, _) =
            floors::changes_and_look_ups(self.source, target, SOURCE_TENANT_ID, &since, scim::concurrency()).await;
        // Through counting proxies, so that the cycle's requests can be told apart.
        let (source_proxy, target_proxy) = tokio::join!(
            counting_proxy::start(&self.source_server.ready_line),
            counting_proxy::start(&server.ready_line)
        );
        let proxied = |url: &str, ready_line: &str, proxy: &str| url.replacen(ready_line, proxy, 1);
        let started = Instant::now();
        let incremental = run_cycle_from(
            &proxied(self.source, &self.source_server.ready_line, &source_proxy.url),
            &proxied(target, &server.ready_line, &target_proxy.url),
            true,
            second.watermark.as_deref(),
        )
        .await;
        let took = started.elapsed();
        let (floor_after, floor_changed) =
            floors::changes_and_look_ups(self.source, target, SOURCE_TENANT_ID, &since, scim::concurrency()).await;
        let floor = (floor_before + floor_after) / 2;
        println!(
            "N={n:>6}  incremental cycle after 10 changes:  {took:>8.2?}  read {} changed users, {} writes (updated {}); a minimal client's changes read and {floor_changed} look-ups {floor_before:.2?} before, {floor_after:.2?} after, ratio {:.2} to the mean",
            incremental.updated + incremental.unchanged + incremental.skipped,
            incremental.attempted,
            incremental.updated,
            ratio(took, floor)
        );
        request_breakdown::print("source", &source_proxy.counts.take_log());
        request_breakdown::print("target", &target_proxy.counts.take_log());
    }
}

/// The environment variable `name` parsed, or `default` when unset or unparsable.
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        len if len % 2 == 1 => values[len / 2],
        len => (values[len / 2 - 1] + values[len / 2]) / 2.0,
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

async fn run_cycle(source: &str, target: &str, bulk: bool) -> CycleReport {
    run_cycle_from(source, target, bulk, None).await
}

async fn run_cycle_from(source: &str, target: &str, bulk: bool, watermark: Option<&str>) -> CycleReport {
    let capabilities = DirectoryFeatures {
        patch: true,
        bulk,
        filter: true,
        etag: true,
        change_tracking: true,
        bulk_max_operations: bulk.then_some(1000),
    };
    let http = xtsync::providers::http_client().expect("an HTTP client");
    let connect = |url: &str| {
        ScimClient::new(
            http.clone(),
            url,
            support::SCIM_TOKEN,
            capabilities.clone(),
            ScimDeletion::Deactivate,
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
