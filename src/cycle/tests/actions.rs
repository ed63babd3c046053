//! Target object actions (`spec.actions`, Entra's `flowTypes` Add, Update, Delete): a
//! switched-off action is planned, logged once as `Skipped` with reason `ActionDisabled`,
//! counted as skipped — and never sent, in every kind of cycle, on demand and on delete.

use proptest::prelude::*;

use super::*;
use crate::cycle::audit::{ActionResult, Record};
use crate::engine::rules::ActionSwitches;
use crate::engine::vocabulary::SkipReason;
use crate::providers::memory::Request;

fn switched(create: bool, update: bool, deprovision: bool) -> ActionSwitches {
    ActionSwitches {
        create,
        update,
        deprovision,
    }
}

/// The log's records held back by `spec.actions`, as `(action, userName)`.
fn held_back(log: &[Record]) -> Vec<(&'static str, String)> {
    log.iter()
        .filter(|r| r.reason == Some(SkipReason::ActionDisabled.as_str()))
        .inspect(|r| assert_eq!(r.result, ActionResult::Skipped, "{r:?}"))
        .map(|r| (r.action.as_str(), r.user_name.clone()))
        .collect()
}

fn alice_and_bob(actions: ActionSwitches) -> CyclePair {
    let mut pair = CyclePair::all_users();
    pair.rules.actions = actions;
    pair.source.put(person("a1", "alice"));
    pair.source.put(person("b1", "bob"));
    pair
}

#[tokio::test]
async fn with_create_off_nobody_is_created_and_each_planned_creation_is_logged_as_skipped() {
    let pair = alice_and_bob(switched(false, true, true));
    let report = pair.initial().await;
    assert_eq!((report.created, report.skipped), (0, 2), "{report:?}");
    assert!(pair.target.take_writes().is_empty(), "nothing sent");
    assert!(pair.target.users().is_empty());
    let log = pair.log.take();
    assert_eq!(
        held_back(&log),
        [
            ("Create", "alice@contoso.com".into()),
            ("Create", "bob@contoso.com".into())
        ]
    );
    assert_eq!(log.len(), 2, "one record per user: {log:?}");
    assert!(
        report.failures.is_empty(),
        "held back, not failed: {:?}",
        report.failures
    );
}

#[tokio::test]
async fn with_create_off_an_incremental_cycle_creates_nobody_either() {
    let mut pair = alice_and_bob(ActionSwitches::default());
    let first = pair.initial().await;
    pair.rules.actions.create = false;
    pair.source.put(person("c1", "carol"));
    pair.target.take_log();
    pair.log.take();
    let next = pair.after(&first).await.expect("runs");
    assert_eq!((next.created, next.skipped), (0, 1), "{next:?}");
    assert!(pair.target.take_writes().is_empty());
    assert_eq!(held_back(&pair.log.take()), [("Create", "carol@contoso.com".into())]);
}

#[tokio::test]
async fn a_dry_run_counts_a_switched_off_action_as_skipped_not_as_done() {
    let mut pair = alice_and_bob(switched(false, true, true));
    pair.dry_run = true;
    let report = pair.initial().await;
    assert_eq!((report.created, report.skipped), (0, 2), "{report:?}");
    assert_eq!(held_back(&pair.log.take()).len(), 2);
}

#[tokio::test]
async fn with_update_off_updates_restores_and_adoptions_are_planned_and_not_sent() {
    let mut pair = alice_and_bob(ActionSwitches::default());
    pair.source.put(person("c1", "carol"));
    pair.initial().await;
    pair.source.set("c1", "active", Some("false"));
    assert_eq!(pair.initial().await.deprovisioned, 1);
    pair.rules.actions.update = false;
    // An update, a restore and an adoption (an existing external user of the target).
    pair.source.set("a1", "displayName", Some("Alice L."));
    pair.source.set("c1", "active", None);
    pair.source.put(person("d1", "dave"));
    pair.target.put(user(
        "guest-dave",
        &[("userName", "dave@contoso.com"), ("userType", "Guest")],
    ));
    pair.target.take_log();
    pair.log.take();
    let report = pair.initial().await;
    assert_eq!(
        (report.updated, report.adopted, report.skipped, report.unchanged),
        (0, 0, 3, 1),
        "{report:?}"
    );
    assert!(pair.target.take_writes().is_empty());
    let mut held = held_back(&pair.log.take());
    held.sort();
    assert_eq!(
        held,
        [
            ("Adopt", "dave@contoso.com".into()),
            ("Restore", "carol@contoso.com".into()),
            ("Update", "alice@contoso.com".into())
        ]
    );
    assert!(
        pair.provisioned("c1").is_some_and(|u| !u.active()),
        "still deprovisioned"
    );
}

#[tokio::test]
async fn with_deprovision_off_nobody_leaving_scope_is_deprovisioned_and_the_held_do_not_trip_the_threshold() {
    let mut pair = alice_and_bob(ActionSwitches::default());
    pair.source.put(person("c1", "carol"));
    pair.initial().await;
    pair.rules.actions.deprovision = false;
    pair.rules.deprovision.threshold = 1;
    // One seen out of scope, two gone from the source (confirmed by a direct read).
    pair.source.set("a1", "active", Some("false"));
    pair.source.remove("b1");
    pair.source.remove("c1");
    pair.target.take_log();
    pair.log.take();
    let report = pair.initial().await;
    assert_eq!((report.deprovisioned, report.skipped), (0, 3), "{report:?}");
    assert_eq!(
        report.withheld_deprovisions, None,
        "held back by actions, not by the threshold"
    );
    assert!(pair.target.take_writes().is_empty());
    assert_eq!(held_back(&pair.log.take()).len(), 3);
    assert_eq!(report.provisioned, 3, "everyone stays");
}

#[tokio::test]
async fn deprovisionings_held_back_by_actions_do_not_count_toward_the_threshold_of_the_others() {
    // Creations are off; deprovisioning is on: one user leaves, within a threshold of 1,
    // although a creation is held back in the same cycle.
    let mut pair = alice_and_bob(ActionSwitches::default());
    pair.initial().await;
    pair.rules.actions.create = false;
    pair.rules.deprovision.threshold = 1;
    pair.source.remove("b1");
    pair.source.put(person("c1", "carol"));
    let report = pair.initial().await;
    assert_eq!(
        (report.deprovisioned, report.created, report.skipped),
        (1, 0, 1),
        "{report:?}"
    );
}

#[tokio::test]
async fn on_demand_a_switched_off_action_is_skipped_with_action_disabled_and_not_sent() {
    let pair = alice_and_bob(switched(false, true, true));
    let asked = provision_on_demand(&pair.source, &pair.target, &pair.input(None, None), "a1")
        .await
        .expect("answers");
    assert_eq!(asked.result, OnDemandVerdict::Skipped, "{asked:?}");
    assert!(
        asked.message.contains(SkipReason::ActionDisabled.as_str()),
        "{}",
        asked.message
    );
    assert!(asked.message.contains("actions.create"), "{}", asked.message);
    assert!(pair.target.take_writes().is_empty());
    assert_eq!(held_back(&pair.log.take()), [("Create", "alice@contoso.com".into())]);

    let mut pair = alice_and_bob(ActionSwitches::default());
    pair.initial().await;
    pair.rules.actions.update = false;
    pair.source.set("b1", "displayName", Some("Bob B."));
    pair.target.take_log();
    let asked = provision_on_demand(&pair.source, &pair.target, &pair.input(None, None), "b1")
        .await
        .expect("answers");
    assert_eq!(asked.result, OnDemandVerdict::Skipped, "{asked:?}");
    assert!(pair.target.take_writes().is_empty());
}

#[tokio::test]
async fn cleanup_on_delete_with_deprovision_off_deprovisions_nobody_and_logs_each() {
    let mut pair = alice_and_bob(ActionSwitches::default());
    pair.initial().await;
    pair.rules.actions.deprovision = false;
    pair.rules.deprovision.threshold = 1;
    pair.target.take_log();
    pair.log.take();
    let done = pair.clean_up(None).await.expect("runs");
    assert_eq!((done.deprovisioned, done.withheld, done.disabled), (0, None, 2));
    assert!(pair.target.take_writes().is_empty());
    assert_eq!(
        held_back(&pair.log.take()),
        [
            ("Deprovision", "alice@contoso.com".into()),
            ("Deprovision", "bob@contoso.com".into())
        ]
    );
}

/// Which kind of write a request is, as `spec.actions` names them (adoptions and restores are
/// updates on the wire).
fn allowed(actions: ActionSwitches, write: &Request) -> bool {
    match write {
        Request::Create { .. } => actions.create,
        Request::Update { .. } => actions.update,
        Request::Deprovision { .. } => actions.deprovision,
        _ => true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever the directories hold and however they change between cycles, a switched-off
    /// action never reaches the target.
    #[test]
    fn a_switched_off_action_never_reaches_the_target(
        (create, update, deprovision) in any::<(bool, bool, bool)>(),
        present in proptest::collection::vec(any::<bool>(), 5),
        renamed in proptest::collection::vec(any::<bool>(), 5),
        guest_in_target in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let mut pair = CyclePair::all_users();
        let names = ["ann", "bob", "cid", "dee", "eve"];
        for (i, name) in names.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
            pair.source.put(person(&format!("s{i}"), name));
        }
        rt.block_on(pair.initial());
        pair.rules.actions = switched(create, update, deprovision);
        pair.rules.deprovision.threshold = 0;
        if guest_in_target {
            pair.target.put(user("g", &[("userName", "bob@contoso.com"), ("userType", "Guest")]));
        }
        for (i, name) in names.iter().enumerate() {
            let id = format!("s{i}");
            if !present[i] {
                pair.source.remove(&id);
            } else if pair.source.user(&id).is_none() {
                pair.source.put(person(&id, name));
            } else if renamed[i] {
                pair.source.set(&id, "displayName", Some("Renamed"));
            }
        }
        pair.target.take_log();
        let report = rt.block_on(pair.initial());
        let writes = pair.target.take_writes();
        prop_assert!(writes.iter().all(|w| allowed(pair.rules.actions, w)), "{:?} sent {:?}", pair.rules.actions, writes);
        prop_assert!(report.withheld_deprovisions.is_none() || deprovision, "{:?}", report);
        let held = held_back(&pair.log.take()).len();
        prop_assert_eq!(u32::try_from(held).unwrap_or(u32::MAX) <= report.skipped, true);
    }
}
