//! Target object actions (`spec.actions`, README "Target object actions") against a real
//! apiserver and real scim2-server tenants: a switched-off action is planned, logged as
//! `Skipped` with reason `ActionDisabled`, counted as skipped, and never sent.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use xtsync::api::SyncConfiguration;
use xtsync::api::conditions::ConditionReason;
use xtsync::api::reasons::{DeletionThresholdReason, SyncedReason};

use crate::manifests;
use crate::support::{TestNs, provisioning_log};
use crate::sync::{
    CONFIG, cycle_done, has_the_finalizer, next_cycle, provision_on_demand, sales, sales_config, started,
};

/// `spec.actions` with these switches.
fn actions(create: bool, update: bool, deprovision: bool) -> Value {
    json!({ "actions": { "create": create, "update": update, "deprovision": deprovision } })
}

/// The provisioning records of this test's configuration held back by `spec.actions`, as
/// `(action, userName)`.
fn held_back(t: &TestNs) -> Vec<(String, String)> {
    let records: Vec<BTreeMap<String, String>> = provisioning_log::of(&format!("{}/{CONFIG}", t.name));
    records
        .iter()
        .filter(|r| r.get("reason").map(String::as_str) == Some("ActionDisabled"))
        .inspect(|r| assert_eq!(r.get("result").map(String::as_str), Some("Skipped"), "{r:?}"))
        .map(|r| (r["action"].clone(), r["userName"].clone()))
        .collect()
}

#[tokio::test]
async fn with_create_off_nobody_is_created_until_it_is_switched_on() {
    let t = started("actions-create").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    contoso.add_user("alice@contoso.com", sales()).await;
    t.apply(&sales_config("1h", actions(false, true, true))).await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;

    assert!(fabrikam.users().await.is_empty(), "nothing created");
    assert!(t.scim_writes("fabrikam").is_empty(), "nothing sent");
    let last = status.last_cycle.expect("cycle");
    assert_eq!((last.created, last.skipped, last.failed), (0, 1, 0));
    assert!(
        status.failures.is_empty(),
        "held back, not failed: {:?}",
        status.failures
    );
    assert_eq!(held_back(&t), [("Create".into(), "alice@contoso.com".into())]);

    // On demand too: planned, answered Skipped, not sent.
    let answer = provision_on_demand(&t, "alice@contoso.com").await;
    assert_eq!(answer.result, "Skipped", "{answer:?}");
    assert!(answer.message.contains("ActionDisabled"), "{answer:?}");
    assert!(fabrikam.users().await.is_empty());

    // Switched back on (a spec change): the held-back creation is made.
    next_cycle(&t, "2h", manifests::nothing()).await;
    assert_eq!(fabrikam.users().await.len(), 1, "created once create is on");
}

#[tokio::test]
async fn with_update_off_a_changed_user_is_not_written() {
    let t = started("actions-update").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let alice = contoso.add_user("alice@contoso.com", sales()).await;
    t.apply(&sales_config("1h", manifests::nothing())).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    let writes_before = t.scim_writes("fabrikam").len();

    contoso.replace(&alice, "displayName", json!("Alice Liddell")).await;
    let status = next_cycle(&t, "2h", actions(true, false, true)).await;

    let last = status.last_cycle.expect("cycle");
    assert_eq!((last.updated, last.skipped), (0, 1));
    assert_eq!(t.scim_writes("fabrikam").len(), writes_before, "nothing sent");
    let target = fabrikam.user_named("alice@contoso.com").await.expect("provisioned");
    assert_eq!(target["displayName"], "alice", "unchanged in the target");
    assert_eq!(held_back(&t), [("Update".into(), "alice@contoso.com".into())]);
}

#[tokio::test]
async fn with_deprovision_off_users_leaving_scope_stay_and_the_threshold_is_not_tripped() {
    let t = started("actions-deprovision").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let a = contoso.add_user("a@contoso.com", sales()).await;
    let b = contoso.add_user("b@contoso.com", sales()).await;
    let threshold = json!({ "deprovision": { "accidentalDeletionThreshold": 1 } });
    t.apply(&sales_config("1h", threshold.clone())).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    let writes_before = t.scim_writes("fabrikam").len();

    // One leaves scope, one is deleted: two deprovisionings, above a threshold of 1.
    let department = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
    contoso.replace(&a, department, json!("Ops")).await;
    contoso.delete(&b).await;
    let mut spec = threshold;
    manifests::merge(&mut spec, actions(true, true, false));
    let status = next_cycle(&t, "2h", spec).await;

    let last = status.last_cycle.expect("cycle");
    assert_eq!((last.deprovisioned, last.skipped), (0, 2));
    assert!(
        status.pending_deletions.is_none(),
        "held by actions, not by the threshold"
    );
    let config = t.api::<SyncConfiguration>().get(CONFIG).await.expect("config");
    let conditions = config.status.map(|s| s.conditions).unwrap_or_default();
    assert!(
        !conditions
            .iter()
            .any(|c| c.type_ == DeletionThresholdReason::TYPE && c.status == "True"),
        "{conditions:?}"
    );
    assert!(fabrikam.users().await.iter().all(|u| u["active"] == true), "both stay");
    assert_eq!(t.scim_writes("fabrikam").len(), writes_before, "nothing sent");
    let mut held = held_back(&t);
    held.sort();
    assert_eq!(
        held,
        [
            ("Deprovision".into(), "a@contoso.com".into()),
            ("Deprovision".into(), "b@contoso.com".into())
        ]
    );
}

#[tokio::test]
async fn cleanup_on_delete_with_deprovision_off_deprovisions_nobody() {
    let t = started("actions-cleanup").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    contoso.add_user("alice@contoso.com", sales()).await;
    let mut spec = json!({ "deprovision": { "onConfigurationDelete": "Deprovision" } });
    manifests::merge(&mut spec, actions(true, true, false));
    t.apply(&sales_config("1h", spec)).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    has_the_finalizer(&t, CONFIG).await;
    let writes_before = t.scim_writes("fabrikam").len();

    t.kubectl(&["delete", "syncconfig", CONFIG, "--wait=true", "--timeout=30s"])
        .await;
    let users = fabrikam.users().await;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["active"], true, "kept: actions.deprovision is false");
    assert_eq!(t.scim_writes("fabrikam").len(), writes_before, "nothing sent");
    assert_eq!(held_back(&t), [("Deprovision".into(), "alice@contoso.com".into())]);
    let events = t.kubectl(&["get", "events.events.k8s.io", "-o", "json"]).await;
    let events: Value = serde_json::from_str(&events).expect("events JSON");
    let said = events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["reason"] == "NothingToCleanUp" && e["regarding"]["name"] == CONFIG)
        .unwrap_or_else(|| panic!("no NothingToCleanUp event: {events:#}"));
    assert!(
        said["note"]
            .as_str()
            .is_some_and(|n| n.contains("actions.deprovision is false")),
        "{said:#}"
    );
}
