//! Liveness that means something (README, "Operating it"): `/healthz` fails when a controller
//! stops taking work while work waits for it, so that the kubelet restarts a stuck operator —
//! and only then. `XTSYNC_DEBUG_STALL` stalls one controller of a real operator process.

use std::time::{Duration, Instant};

use xtsync::api::reasons::ReadyReason;

use crate::manifests::{self, CONTOSO, FABRIKAM};
use crate::support::TestNs;
use crate::support::operator::Operator;

/// The stall bound of these tests: short, so that the test is quick.
const STALL_AFTER: Duration = Duration::from_secs(3);

/// `/healthz` answers 200 on every poll for `during`.
async fn healthy_throughout(operator: &Operator, during: Duration, why: &str) {
    let until = Instant::now() + during;
    while Instant::now() < until {
        let (status, body) = operator.get("/healthz").await;
        assert_eq!(status, 200, "{why}: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn healthz_fails_while_a_stalled_controller_has_work_pending_and_only_then() {
    let t = TestNs::new("liveness").await;
    let operator = Operator::start(
        &t.env.kubeconfig,
        &["run", "--namespace", &t.name, "--leader-election", "false"],
        &[
            ("XTSYNC_DEBUG_STALL", "tenant"),
            ("XTSYNC_STALL_AFTER", "3s"),
            ("RUST_LOG", "warn,kube_client=error"),
        ],
    );
    t.eventually("ready: every watch listed", || async {
        operator.get("/readyz").await.0 == 200
    })
    .await;

    // Nothing waits for the stalled controller: healthy, well past the bound.
    healthy_throughout(&operator, STALL_AFTER * 2, "no work at all").await;
    // The other controllers take their work: a configuration naming Tenants that do not exist
    // yet is reconciled, and the operator stays healthy past the bound.
    t.apply(&manifests::sync_config(
        "contoso-to-fabrikam",
        "contoso",
        "fabrikam",
        manifests::nothing(),
    ))
    .await;
    t.config_ready("contoso-to-fabrikam", "False", ReadyReason::TenantNotReady)
        .await;
    healthy_throughout(&operator, STALL_AFTER * 2, "the running controllers took their work").await;

    // Work for the stalled Tenant controller: /healthz fails within the bound (and a probe's period).
    let applied = Instant::now();
    t.apply(&manifests::tenants_with(
        &t,
        &[("contoso", CONTOSO, "Global"), ("fabrikam", FABRIKAM, "Global")],
    ))
    .await;
    let body = loop {
        let (status, body) = operator.get("/healthz").await;
        if status == 503 {
            break body;
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            applied.elapsed() < STALL_AFTER + Duration::from_secs(10),
            "/healthz still answers 200 {:?} after the Tenants were applied",
            applied.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        applied.elapsed() >= STALL_AFTER,
        "failed before the bound: {:?}",
        applied.elapsed()
    );
    assert!(
        body.contains("Tenant controller") && body.contains(&format!("{}/", t.name)),
        "{body}"
    );
    // The stall is real: no Tenant was reconciled.
    let tenants = t
        .kubectl(&["get", "tenants", "-o", "jsonpath={.items[*].status}"])
        .await;
    assert!(tenants.trim().is_empty(), "a stalled controller wrote {tenants}");
    // And it lasts: a restart is the remedy.
    assert_eq!(operator.get("/healthz").await.0, 503);

    // Objects that are there when an operator starts are work too: one whose configuration
    // controller takes none fails from the end of its first list.
    let restarted = Operator::start(
        &t.env.kubeconfig,
        &["run", "--namespace", &t.name, "--leader-election", "false"],
        &[
            ("XTSYNC_DEBUG_STALL", "syncconfiguration"),
            ("XTSYNC_STALL_AFTER", "3s"),
            ("RUST_LOG", "warn,kube_client=error"),
        ],
    );
    t.eventually("the second operator is ready", || async {
        restarted.get("/readyz").await.0 == 200
    })
    .await;
    let listed = Instant::now();
    t.eventually("its /healthz fails", || async {
        restarted.get("/healthz").await.0 == 503
    })
    .await;
    assert!(listed.elapsed() < STALL_AFTER + Duration::from_secs(10));
    let (_, body) = restarted.get("/healthz").await;
    assert!(
        body.contains("SyncConfiguration controller") && body.contains("contoso-to-fabrikam"),
        "{body}"
    );
}
