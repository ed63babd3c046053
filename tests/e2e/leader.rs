//! Leader election with the real API server: one replica leads and writes, a standby takes
//! over, SIGTERM releases the Lease, and a leader cut off from the API server stops writing
//! before its Lease expires — checked at the directory.

use std::time::{Duration, Instant};

use serde_json::json;
use xtsync::api::SyncConfiguration;
use xtsync::api::conditions::ConditionReason;
use xtsync::api::reasons::ReadyReason;

use crate::manifests::{self, CONTOSO, FABRIKAM};
use crate::support::faults::{self, Faults, Rule};
use crate::support::{TestNs, cut, wait_condition};

/// A replica of the operator binary, watching one namespace, electing a leader in it.
struct Replica {
    child: std::process::Child,
    base: String,
}

impl Replica {
    fn start(t: &TestNs) -> Replica {
        Replica::start_with(t, &t.env.kubeconfig)
    }

    /// A replica that reaches the API server through `kubeconfig`.
    fn start_with(t: &TestNs, kubeconfig: &std::path::Path) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("port")
            .local_addr()
            .expect("addr")
            .port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_xtsync"))
            .args(["run", "--namespace", &t.name, "--lease-namespace", &t.name])
            .args(["--http-addr", &format!("127.0.0.1:{port}")])
            .env("KUBECONFIG", kubeconfig)
            .env("RUST_LOG", "warn")
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("replica starts");
        Replica {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The value of a metric line starting with `name` (0 when absent or unreachable).
    async fn metric(&self, name: &str) -> f64 {
        let text = match reqwest::get(format!("{}/metrics", self.base)).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => return -1.0,
        };
        text.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn two_replicas_never_both_write_and_the_standby_takes_over() {
    let t = TestNs::new("leader").await;
    let first = Replica::start(&t);
    let second = Replica::start(&t);
    t.eventually("exactly one leader", || async {
        let (a, b) = (
            first.metric("xtsync_leader").await,
            second.metric("xtsync_leader").await,
        );
        (a, b) == (1.0, 0.0) || (a, b) == (0.0, 1.0)
    })
    .await;
    let (leader, standby) = if first.metric("xtsync_leader").await == 1.0 {
        (first, second)
    } else {
        (second, first)
    };

    t.apply(&manifests::quickstart(&t)).await;
    t.config_ready("contoso-to-fabrikam", "True", ReadyReason::GateOpen)
        .await;
    assert!(leader.metric("xtsync_reconciles_total").await > 0.0);
    assert_eq!(
        standby.metric("xtsync_reconciles_total").await,
        0.0,
        "the standby writes nothing"
    );

    // The leader goes away without releasing the Lease: the standby takes over when it expires.
    drop(leader);
    t.eventually("the standby leads", || async {
        standby.metric("xtsync_leader").await == 1.0
    })
    .await;
    t.apply(&manifests::sync_config(
        "contoso-to-fabrikam",
        "contoso",
        "fabrikam",
        json!({ "interval": "11m" }),
    ))
    .await;
    let api = t.api::<SyncConfiguration>();
    let generation = api
        .get("contoso-to-fabrikam")
        .await
        .expect("config")
        .metadata
        .generation;
    wait_condition(
        &api,
        "contoso-to-fabrikam",
        ReadyReason::TYPE,
        Duration::from_secs(30),
        |c| c.observed_generation == generation,
    )
    .await;
    assert!(standby.metric("xtsync_reconciles_total").await > 0.0);
}

#[tokio::test]
async fn sigterm_stops_the_operator_cleanly_and_releases_the_lease() {
    let t = TestNs::new("sigterm").await;
    let replica = Replica::start(&t);
    t.eventually("leading", || async { replica.metric("xtsync_leader").await == 1.0 })
        .await;
    t.apply(&manifests::quickstart(&t)).await;
    t.config_ready("contoso-to-fabrikam", "True", ReadyReason::GateOpen)
        .await;

    let pid = replica.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let mut replica = replica;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = replica.child.try_wait().expect("wait") {
            break exit;
        }
        assert!(std::time::Instant::now() < deadline, "still running 20 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(exit.success(), "{exit:?}");
    // Released, so that a standby need not wait for the Lease to expire.
    let holder = t
        .kubectl(&["get", "lease", "xtsync", "-o", "jsonpath={.spec.holderIdentity}"])
        .await;
    assert!(holder.trim().is_empty(), "still held by {holder}");
}

#[tokio::test]
async fn a_leader_cut_off_from_the_api_server_stops_writing_before_its_lease_expires() {
    // A leader once went on writing to directories — a cycle in flight, a standby
    // about to take over — for as long as it could not read the Lease to learn it was lost.
    let t = TestNs::new("fenced").await;
    let relay = cut::Cut::start(cut::api_server(&t.env.kubeconfig)).await;
    let faults = Faults::default();
    let target = faults::proxy(t.env.scim_base.clone(), faults.clone()).await;
    t.apply(&manifests::tenants_with(&t, &[("contoso", CONTOSO, "Global")]))
        .await;
    t.apply(&manifests::scim_tenant_via(&t, "fabrikam", FABRIKAM, &target))
        .await;
    t.apply(&manifests::policies()).await;
    t.scim("contoso")
        .add_users(&["a@contoso.com".into(), "b@contoso.com".into()], json!({}))
        .await;
    // Every creation is throttled: the cycle stays in flight, trying again every second.
    faults.add(Rule {
        method: "POST",
        path_contains: String::new(),
        status: 429,
        retry_after: Some(1),
        times: u32::MAX,
        pass_first: 0,
    });
    let mut replica = Replica::start_with(&t, &relay.kubeconfig(&t.env.kubeconfig));
    t.apply(&manifests::sync_config(
        "contoso-to-fabrikam",
        "contoso",
        "fabrikam",
        json!({ "scope": { "mode": "AllUsers" } }),
    ))
    .await;
    t.eventually("a cycle writing to the target", || async { faults.injected() >= 3 })
        .await;

    relay.cut();
    let cut_at = Instant::now();
    // The Lease could expire `leaseDurationSeconds` after the last renewal the leader made
    // before the cut; the API server, reached directly, says when that was.
    let expiry = lease_expiry(&t).await;
    assert!(expiry <= cut_at + Duration::from_secs(16), "renewed before the cut");
    // Watch the directory until well past that moment: not one write may arrive after it,
    // whatever the leader was doing when it was cut off.
    tokio::time::sleep_until((expiry + Duration::from_secs(5)).into()).await;
    let late = faults.writes_after(expiry);
    assert_eq!(
        late, 0,
        "{late} writes reached the directory after the Lease could have expired"
    );
    let exit = replica.child.try_wait().expect("wait");
    assert!(
        exit.is_some_and(|e| !e.success()),
        "it stops leading as a failure, so that its pod restarts: {exit:?}"
    );
    println!(
        "the Lease could expire {:?} after the cut",
        expiry.saturating_duration_since(cut_at)
    );
}

/// When the Lease `xtsync` of the test's namespace could expire: its `renewTime` plus its
/// `leaseDurationSeconds`, as an instant of this process.
async fn lease_expiry(t: &TestNs) -> Instant {
    let spec = t
        .kubectl(&[
            "get",
            "lease",
            "xtsync",
            "-o",
            "jsonpath={.spec.renewTime} {.spec.leaseDurationSeconds}",
        ])
        .await;
    let (renewed, seconds) = spec.trim().split_once(' ').expect("renewTime and leaseDurationSeconds");
    let renewed: jiff::Timestamp = renewed.parse().expect("renewTime");
    let seconds: i64 = seconds.parse().expect("leaseDurationSeconds");
    let expires = renewed + jiff::SignedDuration::from_secs(seconds);
    let ahead = jiff::Timestamp::now().duration_until(expires);
    let ahead = Duration::try_from(ahead).unwrap_or(Duration::ZERO);
    Instant::now() + ahead
}
