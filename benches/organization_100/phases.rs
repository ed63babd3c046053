//! What `organization_100` reads while it runs: the generated configurations' progress (one
//! watch), the apiserver's request counters, and the CPU and memory of every process involved.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::runtime::watcher;
use xtsync::api::SyncConfiguration;

use crate::{proc_status, support};

/// How far each generated configuration got, as the watch last saw it.
#[derive(Clone, Copy, Default)]
struct Seen {
    ready: bool,
    cycled: bool,
    provisioned: u32,
}

/// The generated configurations' progress, from one watch of the namespace.
pub struct Progress {
    seen: Arc<Mutex<HashMap<String, Seen>>>,
    expected: usize,
    task: tokio::task::JoinHandle<()>,
}

impl Progress {
    pub fn watch(api: kube::Api<SyncConfiguration>, expected: usize) -> Progress {
        let seen: Arc<Mutex<HashMap<String, Seen>>> = Arc::default();
        let shared = seen.clone();
        let task = tokio::spawn(async move {
            let config = watcher::Config::default().labels("xtsync.io/organization");
            let mut events = std::pin::pin!(watcher(api, config));
            while let Some(event) = events.next().await {
                let (Ok(watcher::Event::Apply(c)) | Ok(watcher::Event::InitApply(c))) = event else {
                    continue;
                };
                let status = c.status.as_ref();
                let now = Seen {
                    ready: status
                        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
                        .is_some_and(|c| c.status == "True"),
                    cycled: status.is_some_and(|s| s.last_cycle.is_some()),
                    provisioned: status.and_then(|s| s.users_provisioned).unwrap_or(0),
                };
                let name = c.metadata.name.unwrap_or_default();
                shared.lock().expect("progress lock").insert(name, now);
            }
        });
        Progress { seen, expected, task }
    }

    /// (existing, Ready, cycled, users provisioned) now.
    fn counts(&self) -> (usize, usize, usize, usize) {
        let seen = self.seen.lock().expect("progress lock");
        let count = |f: fn(&Seen) -> bool| seen.values().filter(|s| f(s)).count();
        let provisioned = seen.values().map(|s| s.provisioned as usize).sum();
        (seen.len(), count(|s| s.ready), count(|s| s.cycled), provisioned)
    }

    /// Waits until every configuration exists and is Ready; (all exist, all Ready) after
    /// `started`. Gives up after 30 min.
    pub async fn until_ready(&self, started: Instant) -> (Duration, Duration) {
        let mut all_exist = None;
        self.until(started, |(existing, ready, _, _)| {
            if existing == self.expected && all_exist.is_none() {
                all_exist = Some(started.elapsed());
            }
            ready == self.expected
        })
        .await;
        (all_exist.unwrap_or_default(), started.elapsed())
    }

    /// Waits until every configuration went through a cycle; (when, users provisioned).
    pub async fn until_cycled(&self, started: Instant) -> (Duration, usize) {
        self.until(started, |(_, _, cycled, _)| cycled == self.expected).await;
        (started.elapsed(), self.counts().3)
    }

    /// Polls the counts until `done`, printing them every 15 s: the progress over time.
    async fn until(&self, started: Instant, mut done: impl FnMut((usize, usize, usize, usize)) -> bool) {
        let mut next_print = Instant::now() + Duration::from_secs(15);
        loop {
            let counts = self.counts();
            if done(counts) {
                return;
            }
            if Instant::now() >= next_print {
                let (existing, ready, cycled, provisioned) = counts;
                println!(
                    "  {:>6.1?}: {existing} exist, {ready} Ready, {cycled} cycled, {provisioned} users provisioned",
                    started.elapsed()
                );
                next_print += Duration::from_secs(15);
            }
            assert!(
                started.elapsed() < Duration::from_secs(1800),
                "not within 30 min: {counts:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

/// The apiserver's `apiserver_request_total`, by (resource, verb, code): every client's
/// requests (the bench's own writes are its one apply per phase).
pub struct Writes(BTreeMap<(String, String, String), f64>);

impl Writes {
    pub async fn read(kubeconfig: &Path) -> Writes {
        let kubeconfig = kubeconfig.to_owned();
        let text = tokio::task::spawn_blocking(move || support::kubectl(&kubeconfig, &["get", "--raw", "/metrics"]))
            .await
            .expect("kubectl thread");
        let mut counts = BTreeMap::new();
        for line in text.lines().filter(|l| l.starts_with("apiserver_request_total{")) {
            let label = |name: &str| {
                let start = line
                    .find(&format!(",{name}=\""))
                    .or_else(|| line.find(&format!("{{{name}=\"")));
                start
                    .map(|s| &line[s + name.len() + 3..])
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or_default()
                    .to_owned()
            };
            let verb = label("verb");
            if ["GET", "LIST", "WATCH", "WATCHLIST", "CONNECT"].contains(&verb.as_str()) {
                continue;
            }
            let mut resource = label("resource");
            let subresource = label("subresource");
            if !subresource.is_empty() {
                resource = format!("{resource}/{subresource}");
            }
            let value: f64 = line.rsplit(' ').next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
            *counts.entry((resource, verb, label("code"))).or_insert(0.0) += value;
        }
        Writes(counts)
    }

    /// Prints the writes since this snapshot, per configuration too; returns a new snapshot.
    pub async fn print_since(self, phase: &str, kubeconfig: &Path, configurations: usize) -> Writes {
        let now = Writes::read(kubeconfig).await;
        let mut total = 0.0;
        println!("organization: apiserver writes, {phase} (resource, verb, code: count, per configuration):");
        for (key, count) in &now.0 {
            let delta = count - self.0.get(key).copied().unwrap_or(0.0);
            if delta > 0.0 {
                total += delta;
                let (resource, verb, code) = key;
                println!(
                    "    {resource} {verb} {code}: {delta:.0} ({:.2})",
                    delta / configurations as f64
                );
            }
        }
        println!(
            "    all writes: {total:.0} ({:.2} per configuration)",
            total / configurations as f64
        );
        now
    }
}

/// CPU seconds so far of each process involved.
#[derive(Clone, Copy)]
pub struct Cpu {
    pub operator: f64,
    apiserver: f64,
    etcd: f64,
    scim_servers: f64,
    bench: f64,
}

/// The processes whose CPU and memory the bench reads.
pub struct Machine {
    operator: u32,
    apiserver: Option<u32>,
    etcd: Option<u32>,
    scim_servers: Vec<u32>,
}

impl Machine {
    /// The operator, and the apiserver and etcd behind `kubeconfig`, and the scim2-servers.
    pub fn find(kubeconfig: &PathBuf, operator: u32, servers: &[support::Background]) -> Machine {
        let text = std::fs::read_to_string(kubeconfig).unwrap_or_default();
        let port: String = text
            .split("https://127.0.0.1:")
            .nth(1)
            .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect())
            .unwrap_or_default();
        let apiserver = proc_status::pid_of(&[&format!("--secure-port={port}")]);
        let etcd = apiserver.and_then(|pid| {
            let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let url = cmdline
                .split('\0')
                .find_map(|a| a.strip_prefix("--etcd-servers="))?
                .to_owned();
            proc_status::pid_of(&["--listen-client-urls", &url])
        });
        let scim_servers = servers
            .iter()
            .filter_map(|s| proc_status::pid_of(&["--port", s.ready_line.rsplit(':').next().unwrap_or_default()]))
            .collect();
        Machine {
            operator,
            apiserver,
            etcd,
            scim_servers,
        }
    }

    pub fn cpu(&self) -> Cpu {
        let of = |pid: Option<u32>| pid.map_or(0.0, proc_status::cpu_seconds);
        Cpu {
            operator: of(Some(self.operator)),
            apiserver: of(self.apiserver),
            etcd: of(self.etcd),
            scim_servers: self.scim_servers.iter().map(|p| proc_status::cpu_seconds(*p)).sum(),
            bench: of(Some(std::process::id())),
        }
    }

    /// Where the CPU went between two readings `wall` apart: seconds, and % of one core.
    pub fn print_cpu(&self, phase: &str, before: &Cpu, after: &Cpu, wall: Duration) {
        let share = |a: f64, b: f64| format!("{:.1} s ({:.0} %)", a - b, (a - b) * 100.0 / wall.as_secs_f64());
        println!(
            "organization: CPU, {phase} ({wall:.1?}; % of one core): operator {}, kube-apiserver {}, etcd {}, {} scim2-servers {}, this bench {}",
            share(after.operator, before.operator),
            share(after.apiserver, before.apiserver),
            share(after.etcd, before.etcd),
            self.scim_servers.len(),
            share(after.scim_servers, before.scim_servers),
            share(after.bench, before.bench),
        );
    }

    pub fn print_memory(&self, when: &str) {
        let mib = |pid: Option<u32>, field: &str| pid.map_or(0, |p| proc_status::status_kib(p, field) / 1024);
        println!(
            "organization: memory {when}: operator RSS {} MiB (peak {} MiB, target ≤ 300 MB); kube-apiserver RSS {} MiB, etcd {} MiB",
            mib(Some(self.operator), "VmRSS:"),
            mib(Some(self.operator), "VmHWM:"),
            mib(self.apiserver, "VmRSS:"),
            mib(self.etcd, "VmRSS:"),
        );
    }
}
