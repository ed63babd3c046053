//! Rule 10: Initial cycles read everything; Incremental cycles read only the changes since the
//! watermark and look up just the target users those changes concern.

use super::*;
use crate::engine::vocabulary::SkipReason;
use crate::providers::memory::Request;

#[tokio::test]
async fn an_initial_cycle_reads_both_directories_in_full() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    let report = pair.initial().await;
    assert!(report.full && report.watermark.is_some());
    assert_eq!(pair.source.take_log(), vec![Request::ReadSource { since: None }]);
    assert!(pair.target.take_log().contains(&Request::ListUsers));
}

#[tokio::test]
async fn an_incremental_cycle_reads_only_changes_and_looks_their_targets_up() {
    let pair = CyclePair::all_users();
    for i in 0..10 {
        pair.source.put(person(&format!("u{i}"), &format!("user{i}")));
    }
    let watermark = pair.initial().await.watermark.expect("watermark");
    pair.source.set("u3", "displayName", Some("Three"));
    pair.source.take_log();
    pair.target.take_log();
    let report = pair.incremental(&watermark).await;
    assert!(!report.full);
    assert_eq!(
        (report.in_scope, report.updated),
        (1, 1),
        "only u3 was read: {report:?}"
    );
    assert_eq!(
        pair.source.take_log(),
        vec![Request::ReadSource {
            since: Some(watermark.clone())
        }]
    );
    let target_reads = pair.target.take_log();
    assert!(!target_reads.contains(&Request::ListUsers), "{target_reads:?}");
    assert!(target_reads.contains(&Request::FindUsers {
        attribute: "externalId".into(),
        value: anchor("u3"),
    }));
    assert_eq!(
        pair.provisioned("u3")
            .and_then(|u| u.get("displayName").map(str::to_owned))
            .as_deref(),
        Some("Three")
    );
}

/// Rule 5 compares a user with the target's other users only when it is created, adopted or
/// renamed: a provisioned user whose userName and email stay costs one look-up, its anchor.
#[tokio::test]
async fn a_provisioned_user_whose_name_and_email_stay_costs_one_look_up() {
    let pair = CyclePair::all_users();
    for i in 0..10 {
        pair.source.put(person(&format!("u{i}"), &format!("user{i}")));
    }
    let watermark = pair.initial().await.watermark.expect("watermark");
    for i in [2, 5] {
        pair.source.set(&format!("u{i}"), "displayName", Some("Changed"));
    }
    pair.target.take_log();
    let report = pair.incremental(&watermark).await;
    assert_eq!(report.updated, 2, "{report:?}");
    let mut look_ups: Vec<Request> = pair
        .target
        .take_log()
        .into_iter()
        .filter(|r| matches!(r, Request::FindUsers { .. }))
        .collect();
    look_ups.sort_by_key(|r| format!("{r:?}"));
    let by_anchor = |id: &str| Request::FindUsers {
        attribute: "externalId".into(),
        value: anchor(id),
    };
    assert_eq!(look_ups, vec![by_anchor("u2"), by_anchor("u5")]);
}

/// A rename is still compared with every target user its new name or email would match.
#[tokio::test]
async fn an_incremental_rename_is_looked_up_by_its_new_name_and_blocked_by_an_internal_user() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    let watermark = pair.initial().await.watermark.expect("watermark");
    let internal = user(
        "own",
        &[
            ("userName", "bob@contoso.com"),
            ("userType", "Member"),
            (WORK_EMAIL, "bob@fabrikam.com"),
        ],
    );
    pair.target.put(internal);
    pair.source.set("a1", "userName", Some("bob@contoso.com"));
    let report = pair.incremental(&watermark).await;
    assert_eq!((report.updated, report.skipped), (0, 1), "{report:?}");
    assert_eq!(
        report.failures[0].reason,
        SkipReason::ConflictsWithInternalUser.as_str()
    );
    assert_eq!(
        pair.provisioned("a1").map(|u| u.user_name().to_owned()).as_deref(),
        Some("alice@contoso.com")
    );
}

#[tokio::test]
async fn a_source_deletion_reported_by_change_tracking_is_deprovisioned_incrementally() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    let watermark = pair.initial().await.watermark.expect("watermark");
    pair.source.remove("a1");
    let report = pair.incremental(&watermark).await;
    assert_eq!(report.deprovisioned, 1, "{report:?}");
    assert_eq!(report.provisioned_delta, -1);
}

#[tokio::test]
async fn an_incremental_cycle_with_nothing_changed_writes_nothing() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    let watermark = pair.initial().await.watermark.expect("watermark");
    pair.target.take_log();
    let report = pair.incremental(&watermark).await;
    assert_eq!(report.in_scope, 0);
    assert!(pair.target.take_log().is_empty(), "no change: not even a look-up");
}
