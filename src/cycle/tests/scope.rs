//! Rules 3 and 4: who is in scope, and the anchor that names where a user came from.

use super::*;

#[tokio::test]
async fn guests_and_users_provisioned_from_other_tenants_are_never_synced() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.source
        .put(user("g1", &[("userName", "guest@x.com"), ("userType", "Guest")]));
    let looped = format!("{OTHER}/z9");
    pair.source
        .put(user("l1", &[("userName", "looped@x.com"), ("externalId", &looped)]));
    let report = pair.initial().await;
    assert_eq!((report.in_scope, report.created), (1, 1), "{report:?}");
    assert_eq!(pair.target.users().len(), 1, "only alice");
}

#[tokio::test]
async fn only_assigned_users_and_members_of_assigned_groups_are_in_scope() {
    let pair = CyclePair::assigned(&["alice@contoso.com"], &["Sales"]);
    for (id, name) in [("a1", "alice"), ("b1", "bob"), ("c1", "carol")] {
        pair.source.put(person(id, name));
    }
    pair.source.set_group("Sales", &["b1"]);
    pair.initial().await;
    assert!(pair.provisioned("a1").is_some() && pair.provisioned("b1").is_some());
    assert!(pair.provisioned("c1").is_none(), "carol is not assigned");
}

#[tokio::test]
async fn disabled_source_users_are_not_provisioned() {
    let pair = CyclePair::all_users();
    let mut alice = person("a1", "alice");
    alice.attributes.insert("active", "false".into());
    pair.source.put(alice);
    assert_eq!(pair.initial().await.created, 0);
}

#[tokio::test]
async fn every_provisioned_user_carries_the_anchor_and_the_user_type() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    let alice = pair.provisioned("a1").expect("provisioned");
    assert_eq!(alice.get("externalId"), Some(anchor("a1").as_str()));
    assert_eq!(alice.get("userType"), Some("Member"));
    assert_eq!(alice.get("active"), Some("true"));
}

#[tokio::test]
async fn a_rename_in_the_source_is_an_update_not_a_new_user() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    pair.source.set("a1", "userName", Some("alice.liddell@contoso.com"));
    let report = pair.initial().await;
    assert_eq!((report.created, report.updated), (0, 1), "{report:?}");
    assert_eq!(pair.target.users().len(), 1);
    let alice = pair.provisioned("a1").expect("still there");
    assert_eq!(alice.user_name(), "alice.liddell@contoso.com");
}

#[tokio::test]
async fn a_restarted_operator_duplicates_nothing() {
    // State is rebuilt from the directories: a second Initial cycle finds every user by anchor.
    let pair = CyclePair::all_users();
    for i in 0..5 {
        pair.source.put(person(&format!("u{i}"), &format!("user{i}")));
    }
    assert_eq!(pair.initial().await.created, 5);
    pair.target.take_log();
    let again = pair.initial().await;
    assert_eq!((again.created, again.unchanged), (0, 5), "{again:?}");
    assert!(pair.target.take_writes().is_empty());
}

/// Scope follows group membership: a change of an assigned group's members, with no change to
/// the users themselves, is followed by the next Incremental cycle.
mod membership {
    use super::*;
    use crate::providers::memory::{FaultKind, Faults, Request};

    /// alice and bob in the source, `Sales` assigned and holding `members`; after an Initial cycle.
    async fn synced(users: &[&str], members: &[&str]) -> (CyclePair, CycleReport) {
        let pair = CyclePair::assigned(users, &["Sales"]);
        pair.source.put(person("a1", "alice"));
        pair.source.put(person("b1", "bob"));
        pair.source.set_group("Sales", members);
        let initial = pair.initial().await;
        assert!(initial.group_members_digest.is_some(), "{initial:?}");
        pair.source.take_log();
        pair.target.take_log();
        (pair, initial)
    }

    fn active(pair: &CyclePair, id: &str) -> bool {
        pair.provisioned(id).is_some_and(|u| u.active())
    }

    #[tokio::test]
    async fn a_user_who_joins_an_assigned_group_is_provisioned_by_the_next_incremental_cycle() {
        let (pair, initial) = synced(&[], &["a1"]).await;
        assert!(active(&pair, "a1") && pair.provisioned("b1").is_none());
        // bob joins Sales: his user object does not change, so the users' feed has nothing.
        pair.source.set_group("Sales", &["a1", "b1"]);
        let report = pair.after(&initial).await.expect("the cycle runs");
        assert!(!report.full, "still an Incremental cycle: {report:?}");
        assert_eq!((report.created, report.provisioned_delta), (1, 1), "{report:?}");
        assert!(active(&pair, "b1"), "bob is provisioned");
        assert!(
            pair.source
                .take_log()
                .contains(&Request::ReadUsers { ids: vec!["b1".into()] }),
            "bob is read directly"
        );
        // Nothing moved since: the target is not read whole again.
        pair.target.take_log();
        let again = pair.after(&report).await.expect("the cycle runs");
        assert_eq!(again.created + again.deprovisioned, 0, "{again:?}");
        assert!(!pair.target.take_log().contains(&Request::ListUsers));
    }

    #[tokio::test]
    async fn a_user_who_leaves_every_assigned_group_is_deprovisioned_after_a_direct_read() {
        let (pair, initial) = synced(&[], &["a1", "b1"]).await;
        assert!(active(&pair, "b1"));
        pair.source.set_group("Sales", &["a1"]);
        let report = pair.after(&initial).await.expect("the cycle runs");
        assert_eq!((report.deprovisioned, report.provisioned_delta), (1, -1), "{report:?}");
        assert!(!active(&pair, "b1") && active(&pair, "a1"));
        assert!(
            pair.source
                .take_log()
                .contains(&Request::ReadUsers { ids: vec!["b1".into()] }),
            "the direct read that shows bob out of scope"
        );
    }

    #[tokio::test]
    async fn a_user_who_leaves_the_group_but_is_assigned_by_name_stays() {
        let (pair, initial) = synced(&["bob@contoso.com"], &["a1", "b1"]).await;
        pair.source.set_group("Sales", &["a1"]);
        let report = pair.after(&initial).await.expect("the cycle runs");
        assert_eq!(report.deprovisioned, 0, "{report:?}");
        assert!(active(&pair, "b1"));
    }

    #[tokio::test]
    async fn a_user_who_left_and_is_gone_from_the_source_is_deprovisioned() {
        let (pair, initial) = synced(&[], &["a1", "b1"]).await;
        pair.source.set_group("Sales", &["a1"]);
        // Deleted without a trace in the change feed: only the direct read's 404 tells.
        pair.source.forget("b1");
        let report = pair.after(&initial).await.expect("the cycle runs");
        assert_eq!(report.deprovisioned, 1, "{report:?}");
        assert!(!active(&pair, "b1"));
    }

    #[tokio::test]
    async fn users_who_leave_count_toward_the_deletion_threshold() {
        let (mut pair, initial) = synced(&[], &["a1", "b1"]).await;
        pair.rules.deprovision.threshold = 0;
        pair.source.set_group("Sales", &[]);
        let report = pair.after(&initial).await.expect("the cycle runs");
        assert_eq!(report.deprovisioned, 0, "{report:?}");
        assert_eq!(report.withheld_deprovisions.map(|h| h.count), Some(2));
        assert!(active(&pair, "a1") && active(&pair, "b1"));
    }

    #[tokio::test]
    async fn more_moved_users_than_direct_reads_allow_make_an_initial_cycle() {
        let pair = CyclePair::assigned(&[], &["Sales"]);
        let ids: Vec<String> = (0..=crate::cycle::membership::DIRECT_READS_UP_TO)
            .map(|i| format!("n{i:04}"))
            .collect();
        for id in &ids {
            pair.source.put(person(id, id));
        }
        pair.source.set_group("Sales", &[]);
        let initial = pair.initial().await;
        assert_eq!(initial.created, 0);
        let members: Vec<&str> = ids.iter().map(String::as_str).collect();
        pair.source.set_group("Sales", &members);
        pair.source.take_log();
        let report = pair.after(&initial).await.expect("the cycle runs");
        assert!(report.full, "{report:?}");
        assert_eq!(report.created as usize, ids.len());
        assert!(pair.source.take_log().contains(&Request::ReadSource { since: None }));
    }

    #[tokio::test]
    async fn a_failed_read_of_the_group_or_of_the_user_deprovisions_no_one() {
        for faults in [
            Faults {
                groups: Some(FaultKind::Unreachable),
                ..Faults::default()
            },
            Faults {
                user_reads: Some(FaultKind::Throttled),
                ..Faults::default()
            },
        ] {
            let (pair, initial) = synced(&[], &["a1", "b1"]).await;
            pair.source.set_group("Sales", &["a1"]);
            pair.source.set_faults(faults.clone());
            let failed = pair.after(&initial).await;
            assert!(
                matches!(failed, Err(CycleError::SourceRead(_))),
                "{faults:?}: {failed:?}"
            );
            assert!(active(&pair, "b1"), "{faults:?}");
            assert!(pair.target.take_writes().is_empty(), "{faults:?}");
        }
    }
}

#[tokio::test]
async fn a_scope_group_that_names_no_group_fails_the_read_naming_it_and_writes_nothing() {
    let pair = CyclePair::assigned(&[], &["Slaes"]);
    pair.source.put(person("a1", "alice"));
    pair.source.set_group("Sales", &["a1"]);
    match pair.try_cycle(None, None).await {
        Err(CycleError::SourceRead(e)) => assert!(e.to_string().contains("'Slaes'"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(pair.target.take_writes().is_empty());
}
