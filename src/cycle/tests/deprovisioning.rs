//! Rules 7 and 8: users leaving scope are deprovisioned and restored on return — but only on
//! complete evidence, and never more than the threshold without approval.

use super::*;
use crate::engine::vocabulary::DeprovisionAction;
use crate::providers::memory::{FaultKind, Faults, Request};

fn active(pair: &CyclePair, source_id: &str) -> bool {
    pair.provisioned(source_id).is_some_and(|u| u.active())
}

#[tokio::test]
async fn a_user_leaving_scope_is_deprovisioned_and_restored_when_it_returns() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    pair.source.set("a1", "active", Some("false"));
    assert_eq!(pair.initial().await.deprovisioned, 1);
    assert!(!active(&pair, "a1"), "disabled in the source: deprovisioned");
    pair.source.set("a1", "active", None);
    let back = pair.initial().await;
    assert_eq!(back.updated, 1, "restored: {back:?}");
    assert!(active(&pair, "a1"));
    assert_eq!(pair.target.users().len(), 1, "restored, not created again");
}

#[tokio::test]
async fn a_user_deleted_in_the_source_is_deprovisioned_after_a_full_read() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.source.put(person("b1", "bob"));
    pair.initial().await;
    pair.source.remove("b1");
    let report = pair.initial().await;
    assert_eq!((report.deprovisioned, report.provisioned), (1, 1), "{report:?}");
    assert!(active(&pair, "a1") && !active(&pair, "b1"));
}

#[tokio::test]
async fn deprovision_action_none_touches_nobody() {
    let mut pair = CyclePair::all_users();
    pair.rules.deprovision.action = DeprovisionAction::None;
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    pair.source.remove("a1");
    pair.target.take_log();
    assert_eq!(pair.initial().await.deprovisioned, 0);
    assert!(pair.target.take_writes().is_empty());
}

#[tokio::test]
async fn a_failed_source_read_deprovisions_nothing() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    pair.source.set_faults(Faults {
        reads: Some(FaultKind::Unreachable),
        ..Faults::default()
    });
    pair.target.take_log();
    let error = pair.try_cycle(None, None).await.expect_err("the read failed");
    assert!(matches!(error, CycleError::SourceRead(_)), "{error}");
    assert!(pair.target.take_writes().is_empty(), "no write at all");
}

#[tokio::test]
async fn a_failed_group_read_fails_the_cycle_instead_of_emptying_the_group() {
    let pair = CyclePair::assigned(&[], &["Sales"]);
    pair.source.put(person("a1", "alice"));
    pair.source.set_group("Sales", &["a1"]);
    pair.initial().await;
    pair.source.set_faults(Faults {
        groups: Some(FaultKind::Throttled),
        ..Faults::default()
    });
    pair.target.take_log();
    assert!(pair.try_cycle(None, None).await.is_err());
    assert!(pair.target.take_writes().is_empty());
    assert!(active(&pair, "a1"));
}

#[tokio::test]
async fn an_incremental_cycle_deprovisions_only_users_it_saw_leave() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.source.put(person("b1", "bob"));
    let watermark = pair.initial().await.watermark.expect("watermark");
    pair.source.set("b1", "active", Some("false"));
    let report = pair.incremental(&watermark).await;
    assert_eq!(report.deprovisioned, 1, "{report:?}");
    assert!(active(&pair, "a1"), "alice was not read, and stays");
    assert!(!active(&pair, "b1"));
}

#[tokio::test]
async fn more_deprovisionings_than_the_threshold_wait_for_approval_of_that_set_once() {
    let mut pair = CyclePair::all_users();
    pair.rules.deprovision.threshold = 1;
    for i in 0..5 {
        pair.source.put(person(&format!("u{i}"), &format!("user{i}")));
    }
    pair.initial().await;
    pair.source.remove("u0");
    pair.source.remove("u1");
    pair.target.take_log();
    let held = pair.initial().await;
    let token = held.withheld_deprovisions.clone().expect("held").token;
    assert_eq!(
        held.withheld_deprovisions.as_ref().map(|h| h.names.clone()),
        Some(vec!["user0@contoso.com".to_owned(), "user1@contoso.com".to_owned()]),
        "the held set, named for its approver"
    );
    assert_eq!(
        (held.withheld_deprovisions.map(|h| h.count), held.deprovisioned),
        (Some(2), 0)
    );
    assert!(pair.target.take_writes().is_empty(), "none applied");

    let count = pair.try_cycle(None, Some("2")).await.expect("runs");
    assert!(count.withheld_deprovisions.is_some(), "a count is not an approval");
    let approved = pair.try_cycle(None, Some(&token)).await.expect("runs");
    assert_eq!((approved.withheld_deprovisions, approved.deprovisioned), (None, 2));
    assert_eq!(approved.approval_used.as_deref(), Some(token.as_str()));
    let writes = pair.target.take_writes();
    assert_eq!(
        writes
            .iter()
            .filter(|w| matches!(w, Request::Deprovision { .. }))
            .count(),
        2
    );

    // Rule 8: an approval names its set, so a later set of the same size is not approved by the old
    // annotation.
    pair.source.remove("u2");
    pair.source.remove("u3");
    let later = pair.try_cycle(None, Some(&token)).await.expect("runs");
    assert_eq!(
        (later.withheld_deprovisions.map(|h| h.count), later.deprovisioned),
        (Some(2), 0)
    );
}

/// Cleanup on delete (docs/architecture.md, "The deletion path"): the spec at deletion and the
/// threshold apply to it too.
mod cleanup_on_delete {
    use super::*;
    use crate::cycle::cleanup::Cleanup;

    async fn provisioned_three() -> CyclePair {
        let pair = CyclePair::all_users();
        for i in 0..3 {
            pair.source.put(person(&format!("u{i}"), &format!("user{i}")));
        }
        pair.initial().await;
        let theirs = format!("{OTHER}/x");
        pair.target
            .put(user("t-other", &[("userName", "zed@x.com"), ("externalId", &theirs)]));
        pair.target.take_log();
        pair
    }

    #[tokio::test]
    async fn cleanup_deprovisions_only_this_sources_users() {
        let pair = provisioned_three().await;
        let done = pair.clean_up(None).await.expect("cleans up");
        assert_eq!(done.deprovisioned, 3);
        assert!(
            pair.target.user("t-other").is_some_and(|u| u.active()),
            "another source's user stays"
        );
    }

    #[tokio::test]
    async fn cleanup_honours_deprovision_action_none() {
        let mut pair = provisioned_three().await;
        pair.rules.deprovision.action = DeprovisionAction::None;
        let done = pair.clean_up(None).await.expect("runs");
        assert_eq!(done, Cleanup::default());
        assert!(pair.target.take_writes().is_empty());
    }

    #[tokio::test]
    async fn cleanup_above_the_threshold_waits_for_approval() {
        let mut pair = provisioned_three().await;
        pair.rules.deprovision.threshold = 2;
        let held = pair.clean_up(None).await.expect("runs").withheld.expect("held");
        assert_eq!(held.count, 3);
        assert!(pair.target.take_writes().is_empty());
        let approved = pair.clean_up(Some(&held.token)).await.expect("runs");
        assert_eq!((approved.deprovisioned, approved.withheld), (3, None));
    }
}

#[tokio::test]
async fn a_user_missing_from_a_full_listing_is_deprovisioned_only_when_a_direct_read_confirms_it_gone() {
    // Rule 8: offset paging can look complete and miss a user; missing is not gone.
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.source.put(person("b1", "bob"));
    pair.initial().await;
    pair.source.set_faults(Faults {
        unlisted: ["a1".to_owned()].into(),
        ..Faults::default()
    });
    pair.source.remove("b1");
    let report = pair.initial().await;
    assert_eq!(report.deprovisioned, 1, "bob is gone: {report:?}");
    assert!(active(&pair, "a1"), "alice exists, though the listing missed her");
    assert!(!active(&pair, "b1"));
    assert!(pair.source.take_log().contains(&Request::ConfirmGone {
        ids: vec!["a1".into(), "b1".into()]
    }));
}

#[tokio::test]
async fn a_source_page_with_more_users_than_asked_for_fails_the_read_and_deprovisions_nothing() {
    // A SCIM source answering one more user than the `count` asked for (RFC 7644 §3.4.2.4),
    // with a total that agrees: alice is not among them, and would have been deprovisioned.
    use crate::providers::hostile::{self, Answer};
    let (base, _) = hostile::serve(|_, path| {
        let count: usize = path
            .split("count=")
            .nth(1)
            .and_then(|s| s.split('&').next()?.parse().ok())
            .unwrap_or(0);
        let resources: Vec<_> = (0..=count)
            .map(|i| serde_json::json!({ "id": format!("n{i}"), "userName": format!("n{i}@contoso.com") }))
            .collect();
        Answer::json(
            200,
            serde_json::json!({ "totalResults": count + 1, "Resources": resources }),
        )
    })
    .await;
    let source = hostile::plain_client(&base);
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    pair.target.take_log();
    let error = run(&source, &pair.target, &pair.input(None, None))
        .await
        .expect_err("the read failed");
    assert!(matches!(error, CycleError::SourceRead(_)), "{error}");
    assert!(error.to_string().contains("more than the 100 resources"), "{error}");
    assert!(pair.target.take_writes().is_empty(), "no write at all");
    assert!(active(&pair, "a1"));
}
