//! Peak memory of the providers against hostile peers (`cargo bench --bench hostile_peers`):
//! real loopback servers answering endless bodies, 2 GB probes, a token endpoint that streams
//! forever, pages within the size cap built to expand (tiny values, endless emails, junk
//! around the users) and pages with more resources than asked for — each read four at a time,
//! as four cycles would (the default `--max-concurrent-cycles`). Prints the process's peak RSS
//! (`VmHWM`) after each, and fails if it passes 400 MB.

use std::time::Instant;

use xtsync::providers::TargetDirectory;
use xtsync::providers::msgraph::MsGraphDirectory;
use xtsync::providers::msgraph::resource::AnchorAttribute;
use xtsync::providers::scim;

#[allow(dead_code)] // the tests' peers; not every part of them is used here
#[path = "../src/providers/hostile.rs"]
mod hostile;
#[path = "common/hostile_answers.rs"]
mod hostile_answers;
#[path = "common/proc_status.rs"]
mod proc_status;

/// What `hostile` names as its crate's.
mod providers {
    pub use xtsync::providers::*;
}

use hostile::{graph_client, plain_client as scim_client};

/// Peak RSS allowed, in MiB.
const LIMIT_MIB: u64 = 400;
/// Reads at once, as many as cycles run at once by default.
const AT_ONCE: usize = 4;

fn peak_mib() -> u64 {
    proc_status::status_kib(std::process::id(), "VmHWM:") / 1024
}

/// Runs `read` `AT_ONCE` times at once; prints how long, what it ended with, and the peak.
async fn scenario<F, Fut, T, E>(name: &str, read: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let started = Instant::now();
    let results = futures::future::join_all((0..AT_ONCE).map(|_| read())).await;
    let outcome = match results.into_iter().next() {
        Some(Ok(_)) => "read".to_owned(),
        Some(Err(e)) => format!("refused: {e}"),
        None => "nothing".to_owned(),
    };
    let outcome: String = outcome.chars().take(110).collect();
    println!(
        "{name:<46} {:>6.2} s  peak RSS {:>4} MiB  {outcome}",
        started.elapsed().as_secs_f64(),
        peak_mib()
    );
}

/// Serves every peer (in a process of their own, so that what they hold is not counted as
/// the providers'), printing `name base` for each, until killed.
async fn serve() {
    for (name, handler) in hostile_answers::peers() {
        let (base, _) = hostile::serve(move |method, path| handler(method, path)).await;
        println!("{name} {base}");
    }
    println!("ready");
    std::future::pending::<()>().await;
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--serve") {
        return serve().await;
    }
    let exe = std::env::current_exe().expect("this bench");
    let mut peers = std::process::Command::new(exe)
        .arg("--serve")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the peers");
    let mut bases = std::collections::HashMap::new();
    let lines = std::io::BufRead::lines(std::io::BufReader::new(peers.stdout.take().expect("stdout")));
    for line in lines.map_while(Result::ok).take_while(|l| l != "ready") {
        if let Some((name, base)) = line.split_once(' ') {
            bases.insert(name.to_owned(), base.to_owned());
        }
    }
    let base = |name: &str| bases.get(name).cloned().expect("a peer");
    println!(
        "hostile peers, {AT_ONCE} reads at once; peak RSS at start {} MiB",
        peak_mib()
    );

    let b = base("scim-announced");
    scenario("SCIM page announcing 2 GB", || async {
        scim_client(&b).list_users().await
    })
    .await;
    let b = base("scim-streamed");
    scenario("SCIM page streaming 2 GB", || async {
        scim_client(&b).list_users().await
    })
    .await;
    let (b, http) = (base("scim-probe"), hostile::http());
    scenario("SCIM probe streaming 2 GB", || scim::probe(&http, &b, "t")).await;
    let b = base("scim-junk");
    scenario("SCIM page of 30 MB of zeros around 100 users", || async {
        scim_client(&b).list_users().await
    })
    .await;
    let b = base("scim-emails");
    scenario("SCIM user with 10 million emails", || async {
        scim_client(&b).list_users().await
    })
    .await;
    let b = base("scim-single");
    scenario("SCIM single user of 30 MB of zeros (PUT read)", || async {
        let target = xtsync::engine::plan::TargetRef {
            id: "u1".into(),
            label: "u1".into(),
            version: None,
            deleted: false,
        };
        let mut changes = xtsync::engine::plan::Changes::new();
        changes.insert("title", Some("x".to_owned()));
        scim_client(&b).update_user(&target, &changes).await
    })
    .await;
    let b = base("scim-overfull");
    scenario("SCIM page of 100 times the count asked", || async {
        scim_client(&b).list_users().await
    })
    .await;
    let b = base("graph-token");
    scenario("Graph token endpoint streaming 2 GB", || async {
        graph_client(&b).authorization().await
    })
    .await;
    let b = base("graph-groups");
    scenario("Graph groups page of 30 MB of zeros", || async {
        graph_client(&b)
            .list_all(&format!("{b}/v1.0/groups?$top=999"), false)
            .await
    })
    .await;
    let b = base("graph-users");
    scenario("Graph users page of 30 MB of empty lists", || async {
        let anchor = AnchorAttribute::of(None).expect("anchor");
        MsGraphDirectory::new(graph_client(&b), anchor, true).list_users().await
    })
    .await;

    let _ = peers.kill();
    let _ = peers.wait();
    let peak = peak_mib();
    println!("peak RSS {peak} MiB (limit {LIMIT_MIB} MiB)");
    assert!(peak < LIMIT_MIB, "peak RSS {peak} MiB");
}
