//! A directory with very long user names cannot make a status too large to write: the
//! conditions, counters and failures of the cycle that met them are written all the same.

use xtsync::api::reasons::SyncedReason;

use crate::manifests;
use crate::sync::{cycle_done, rule, sales, sales_config, started_with_proxy};

#[tokio::test]
async fn very_long_user_names_that_fail_leave_a_written_status() {
    let (t, faults) = started_with_proxy("long-names", "fabrikam").await;
    // Ten users named with 200 KB each: listed whole in status.failures they would make a
    // 2 MB status, more than etcd accepts in one request.
    let names: Vec<String> = (0..10)
        .map(|i| format!("{}{i}@contoso.com", "n".repeat(200_000)))
        .collect();
    for name in &names {
        t.scim("contoso").add_users(std::slice::from_ref(name), sales()).await;
    }
    // The target rejects every write (a rejection, not a transient error: never retried).
    faults.add(rule("POST", "/Bulk", 400, None, u32::MAX));
    faults.add(rule("POST", "/Users", 400, None, u32::MAX));
    t.apply(&sales_config("10s", manifests::nothing())).await;
    let status = cycle_done(&t, &[SyncedReason::CycleFailed]).await;
    let last = status.last_cycle.as_ref().expect("the counters were written");
    assert_eq!(last.failed, 10, "{last:?}");
    assert_eq!(status.failures.len(), 10);
    assert!(
        status
            .failures
            .iter()
            .all(|f| f.user.len() <= 256 && f.user.ends_with("(truncated)")),
        "{:?}",
        status.failures.iter().map(|f| f.user.len()).collect::<Vec<_>>()
    );
    assert_eq!(
        status.failing_cycles,
        Some(1),
        "every write failed: the cycle counts towards quarantine"
    );
}
