//! End-to-end tests of the sync cycle (docs/architecture.md, rules 3–9) against real scim2-server
//! tenants: one test per rule, asserting on the target directory itself and on the status.

use std::time::Duration;

use serde_json::{Value, json};
use xtsync::api::SyncConfiguration;
use xtsync::api::conditions::ConditionReason;
use xtsync::api::reasons::{DeletionThresholdReason, QuarantinedReason, ReadyReason, SyncedReason};
use xtsync::api::sync_config::{CycleType, SyncConfigurationStatus};

use crate::manifests::{self, CONTOSO, FABRIKAM, Manifests, NORTHWIND};
use crate::support::faults::{self, Faults, Rule};
use crate::support::{TestNs, wait_condition};

pub(crate) const CONFIG: &str = "contoso-to-fabrikam";

/// A configuration of contoso → fabrikam, all users of department `department` in scope.
pub(crate) fn sales_config(interval: &str, extra: Value) -> Manifests {
    let mut spec = json!({
        "interval": interval,
        "scope": { "mode": "AllUsers",
                   "filters": [{ "clauses": [{ "attribute": "department", "operator": "EQUALS", "value": "Sales" }] }] },
    });
    manifests::merge(&mut spec, extra);
    manifests::sync_config(CONFIG, "contoso", "fabrikam", spec)
}

pub(crate) fn sales() -> Value {
    json!({ "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Sales" } })
}

/// Waits for a completed cycle of the configuration's current generation and returns the status.
pub(crate) async fn cycle_done(t: &TestNs, reason_ok: &[SyncedReason]) -> SyncConfigurationStatus {
    let api = t.api::<SyncConfiguration>();
    let generation = t.config(CONFIG).await.metadata.generation;
    wait_condition(&api, CONFIG, SyncedReason::TYPE, Duration::from_secs(40), |c| {
        c.observed_generation == generation && reason_ok.iter().any(|r| r.as_str() == c.reason)
    })
    .await;
    t.config(CONFIG).await.status.expect("status")
}

/// Applies the configuration with another interval: a spec change starts a cycle at once.
pub(crate) async fn next_cycle(t: &TestNs, interval: &str, extra: Value) -> SyncConfigurationStatus {
    t.apply(&sales_config(interval, extra)).await;
    cycle_done(t, &[SyncedReason::CycleSucceeded, SyncedReason::PartiallySynced]).await
}

/// Waits for the configuration `name` to carry the cleanup finalizer.
pub(crate) async fn has_the_finalizer(t: &TestNs, name: &str) {
    t.eventually("the finalizer", || async {
        t.config(name)
            .await
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&xtsync::api::FINALIZER.to_string())
    })
    .await;
}

pub(crate) async fn started(name: &str) -> TestNs {
    let mut t = TestNs::new(name).await;
    t.start_controllers(|_| {});
    t.apply(&manifests::two_tenants(&t)).await;
    t.apply(&manifests::policies()).await;
    t
}

pub(crate) fn anchor_of(source_id: &str) -> String {
    format!("{CONTOSO}/{source_id}")
}

#[tokio::test]
async fn only_internal_enabled_users_in_scope_are_provisioned_with_an_anchor() {
    let t = started("provision").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let alice = contoso.add_user("alice@contoso.com", sales()).await;
    contoso.add_user("bob@contoso.com", json!({})).await;
    let mut guest = sales();
    guest["userType"] = json!("Guest");
    contoso.add_user("carol@partner.com", guest).await;
    let mut disabled = sales();
    disabled["active"] = json!(false);
    contoso.add_user("dave@contoso.com", disabled).await;

    t.apply(&sales_config("10s", manifests::nothing())).await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;

    let users = fabrikam.users().await;
    assert_eq!(users.len(), 1, "only alice: {users:#?}");
    let provisioned = &users[0];
    assert_eq!(provisioned["userName"], "alice@contoso.com");
    assert_eq!(provisioned["externalId"], anchor_of(&alice));
    assert_eq!(provisioned["userType"], "Member");
    assert_eq!(provisioned["active"], true);
    assert_eq!(
        provisioned["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Sales"
    );
    let last = status.last_cycle.expect("last cycle");
    assert_eq!((last.created, last.unchanged, last.failed), (1, 0, 0));
    assert_eq!(status.users_in_scope, Some(1));
    assert_eq!(status.users_provisioned, Some(1));
    assert!(status.last_successful_sync_time.is_some() && status.next_sync_time.is_some());

    // A second cycle with nothing changed writes nothing (rule 6).
    let version = provisioned["meta"]["version"].clone();
    let status = next_cycle(&t, "11s", manifests::nothing()).await;
    let last = status.last_cycle.expect("last cycle");
    assert_eq!((last.created, last.updated, last.unchanged), (0, 0, 1));
    assert_eq!(
        fabrikam.user_named("alice@contoso.com").await.expect("alice")["meta"]["version"],
        version
    );
}

#[tokio::test]
async fn an_attribute_change_is_one_patch_and_a_rename_keeps_the_user() {
    let t = started("update").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let alice = contoso.add_user("alice@contoso.com", sales()).await;
    t.apply(&sales_config("10s", manifests::nothing())).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    let before = fabrikam.user_named("alice@contoso.com").await.expect("provisioned");

    contoso.replace(&alice, "displayName", json!("Alice Liddell")).await;
    contoso
        .replace(&alice, "userName", json!("alice.liddell@contoso.com"))
        .await;
    let status = next_cycle(&t, "11s", manifests::nothing()).await;

    let users = fabrikam.users().await;
    assert_eq!(users.len(), 1, "a rename is an update, not a new user: {users:#?}");
    let after = &users[0];
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["userName"], "alice.liddell@contoso.com");
    assert_eq!(after["displayName"], "Alice Liddell");
    // One PATCH carried both changes, and nothing else was written.
    let id = before["id"].as_str().expect("id");
    let writes: Vec<String> = t
        .scim_writes("fabrikam")
        .into_iter()
        .filter(|w| w.contains(id))
        .collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(writes[0].starts_with("PATCH "), "{writes:?}");
    assert_eq!(status.last_cycle.expect("cycle").updated, 1);
}

#[tokio::test]
async fn leaving_scope_deprovisions_and_returning_restores() {
    let t = started("deprovision").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let alice = contoso.add_user("alice@contoso.com", sales()).await;
    t.apply(&sales_config("10s", manifests::nothing())).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    let target_id = fabrikam.user_named("alice@contoso.com").await.expect("provisioned")["id"].clone();

    let department = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
    contoso.replace(&alice, department, json!("Ops")).await;
    let status = next_cycle(&t, "11s", manifests::nothing()).await;
    let gone = fabrikam
        .user_named("alice@contoso.com")
        .await
        .expect("soft-deleted, not removed");
    assert_eq!(gone["active"], false);
    assert_eq!(status.last_cycle.expect("cycle").deprovisioned, 1);
    assert_eq!(status.users_provisioned, Some(0));

    contoso.replace(&alice, department, json!("Sales")).await;
    next_cycle(&t, "12s", manifests::nothing()).await;
    let back = fabrikam.user_named("alice@contoso.com").await.expect("restored");
    assert_eq!(back["active"], true);
    assert_eq!(back["id"], target_id, "restored, not recreated");
}

#[tokio::test]
async fn external_users_are_adopted_and_internal_ones_never_touched() {
    let t = started("adopt").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let alice = contoso.add_user("alice@contoso.com", sales()).await;
    contoso.add_user("bob@contoso.com", sales()).await;
    let b2b = fabrikam
        .add_user("alice@contoso.com", json!({ "userType": "Guest" }))
        .await;
    let internal = fabrikam
        .add_user("bob@contoso.com", json!({ "userType": "Member" }))
        .await;

    t.apply(&sales_config("10s", manifests::nothing())).await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;

    let adopted = fabrikam.user_named("alice@contoso.com").await.expect("alice");
    assert_eq!(adopted["id"], b2b.as_str());
    assert_eq!(adopted["externalId"], anchor_of(&alice));
    assert_eq!(adopted["userType"], "Member");
    let untouched = fabrikam.user_named("bob@contoso.com").await.expect("bob");
    assert_eq!(untouched["id"], internal.as_str());
    assert_eq!(
        untouched["meta"]["lastModified"], untouched["meta"]["created"],
        "never written: {untouched:#}"
    );
    assert!(
        !t.scim_writes("fabrikam").iter().any(|w| w.contains(internal.as_str())),
        "no request touched it"
    );
    assert!(untouched.get("externalId").is_none());
    assert_eq!(fabrikam.users().await.len(), 2);

    let last = status.last_cycle.expect("cycle");
    assert_eq!((last.adopted, last.skipped, last.created), (1, 1, 0));
    let skip = status
        .failures
        .iter()
        .find(|f| f.user == "bob@contoso.com")
        .expect("bob listed");
    assert_eq!(skip.reason, "ConflictsWithInternalUser");
}

/// Rule 5 against a real SCIM server: a third tenant's guest is never adopted, and an internal
/// user is recognised by any of its emails, in any case, in Initial and Incremental cycles.
#[tokio::test]
async fn no_hijack_through_a_third_tenants_guest_or_an_internal_users_other_email() {
    let t = started("no-hijack").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    contoso.add_user("victim@litware.com", sales()).await;
    contoso.add_user("dave@contoso.com", sales()).await;
    let guest = fabrikam
        .add_user("victim@litware.com", json!({ "userType": "Guest" }))
        .await;
    let home_email = |address: &str| {
        json!({ "userType": "Member", "emails": [
            { "type": "work", "value": "someone@fabrikam.com", "primary": true },
            { "type": "home", "value": address }
        ] })
    };
    let dave = fabrikam
        .add_user("d.x@fabrikam.com", home_email("Dave@Contoso.com"))
        .await;

    t.apply(&sales_config("10s", manifests::nothing())).await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    let last = status.last_cycle.clone().expect("cycle");
    assert_eq!((last.adopted, last.created, last.skipped), (0, 0, 2), "{status:?}");
    let reason_of = |status: &SyncConfigurationStatus, user: &str| {
        status
            .failures
            .iter()
            .find(|f| f.user == user)
            .map(|f| f.reason.clone())
    };
    assert_eq!(
        reason_of(&status, "victim@litware.com").as_deref(),
        Some("ConflictsWithForeignUser")
    );
    assert_eq!(
        reason_of(&status, "dave@contoso.com").as_deref(),
        Some("ConflictsWithInternalUser")
    );

    // Incremental: a new source user whose address an internal user holds as a home email.
    let after = status
        .last_cycle
        .as_ref()
        .map(|c| c.completion_time.0)
        .expect("completed");
    contoso.add_user("erin@contoso.com", sales()).await;
    let erin = fabrikam
        .add_user("e.y@fabrikam.com", home_email("ERIN@contoso.com"))
        .await;
    let status = crate::groups::next_incremental(&t, &after).await;
    assert_eq!(
        reason_of(&status, "erin@contoso.com").as_deref(),
        Some("ConflictsWithInternalUser")
    );
    assert_eq!(status.last_cycle.expect("cycle").created, 0);

    let writes = t.scim_writes("fabrikam");
    for untouched in [&guest, &dave, &erin] {
        assert!(
            !writes.iter().any(|w| w.contains(untouched.as_str())),
            "{untouched} never written: {writes:#?}"
        );
    }
    assert_eq!(fabrikam.users().await.len(), 3, "nothing created");
}

#[tokio::test]
async fn deletions_above_the_threshold_wait_for_approval() {
    let t = started("threshold").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let a = contoso.add_user("a@contoso.com", sales()).await;
    let b = contoso.add_user("b@contoso.com", sales()).await;
    let threshold = json!({ "deprovision": { "accidentalDeletionThreshold": 1 } });
    t.apply(&sales_config("10s", threshold.clone())).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;

    contoso.delete(&a).await;
    contoso.delete(&b).await;
    next_cycle(&t, "11s", threshold).await;
    let held = wait_condition(
        &t.api::<SyncConfiguration>(),
        CONFIG,
        DeletionThresholdReason::TYPE,
        Duration::from_secs(5),
        |c| c.status == "True",
    )
    .await;
    assert!(held.message.starts_with("2 deprovisionings"), "{}", held.message);
    assert!(
        fabrikam.users().await.iter().all(|u| u["active"] == true),
        "nothing deprovisioned"
    );

    let pending = t
        .config(CONFIG)
        .await
        .status
        .and_then(|s| s.pending_deletions)
        .expect("pending");
    assert_eq!(pending.count, 2);
    assert!(held.message.contains(&pending.token), "{}", held.message);
    let approval = format!("{}={}", xtsync::api::APPROVE_DELETIONS, pending.token);
    t.kubectl(&["annotate", "syncconfig", CONFIG, &approval]).await;
    wait_condition(
        &t.api::<SyncConfiguration>(),
        CONFIG,
        DeletionThresholdReason::TYPE,
        Duration::from_secs(30),
        |c| c.status == "False",
    )
    .await;
    t.eventually("both deprovisioned", || async {
        fabrikam.users().await.iter().all(|u| u["active"] == false)
    })
    .await;
    assert_eq!(
        t.config(CONFIG)
            .await
            .status
            .expect("status")
            .last_cycle
            .expect("cycle")
            .deprovisioned,
        2
    );
}

/// Tenants that allow everything with everyone (for topologies).
async fn open_tenants(t: &TestNs, tenants: &[(&str, &str)]) {
    let with_clouds: Vec<(&str, &str, &str)> = tenants.iter().map(|(n, id)| (*n, *id, "Global")).collect();
    t.apply(&manifests::tenants_with(t, &with_clouds)).await;
    for (tenant, _) in tenants {
        t.apply(&format!(
            "apiVersion: xtsync.io/v1alpha1\nkind: CrossTenantAccessPolicy\nmetadata:\n  name: {tenant}\nspec:\n  tenantRef: {{ name: {tenant} }}\n  default:\n    inbound: {{ allowUsersSync: true, automaticallyRedeemInvitations: true }}\n    outbound: {{ automaticallyRedeemInvitations: true }}\n"
        ))
        .await;
    }
}

/// Waits until every named configuration has completed a successful cycle after `after`.
async fn all_synced_after(t: &TestNs, configs: &[String], after: Option<k8s_openapi::jiff::Timestamp>) {
    for name in configs {
        let api = t.api::<SyncConfiguration>();
        t.eventually(&format!("{name} synced again"), || async {
            api.get(name)
                .await
                .ok()
                .and_then(|c| c.status)
                .and_then(|s| s.last_successful_sync_time)
                .is_some_and(|s| after.is_none_or(|a| s.0 > a))
        })
        .await;
    }
}

#[tokio::test]
async fn a_mesh_of_three_tenants_never_loops_users_back() {
    let mut t = TestNs::new("mesh").await;
    t.start_controllers(|_| {});
    let tenants = [("contoso", CONTOSO), ("fabrikam", FABRIKAM), ("northwind", NORTHWIND)];
    open_tenants(&t, &tenants).await;
    for (name, _) in tenants {
        t.scim(name).add_user(&format!("own@{name}.com"), json!({})).await;
    }
    let all = json!({ "interval": "10s", "scope": { "mode": "AllUsers" } });
    let mut configs = Vec::new();
    for (source, _) in tenants {
        for (target, _) in tenants.iter().filter(|(n, _)| *n != source) {
            let name = format!("{source}-to-{target}");
            t.apply(&manifests::sync_config(&name, source, target, all.clone()))
                .await;
            configs.push(name);
        }
    }
    all_synced_after(&t, &configs, None).await;
    let converged = k8s_openapi::jiff::Timestamp::now();
    // Every configuration runs another cycle: nothing new may appear anywhere.
    all_synced_after(&t, &configs, Some(converged)).await;
    for (name, id) in tenants {
        let users = t.scim(name).users().await;
        assert_eq!(
            users.len(),
            3,
            "{name}: its own user and one from each partner: {users:#?}"
        );
        for user in users.iter().filter(|u| u["userName"] != format!("own@{name}.com")) {
            let anchor = user["externalId"].as_str().expect("anchored");
            assert!(!anchor.starts_with(id), "{name} got its own user back: {user:#}");
        }
    }
}

#[tokio::test]
async fn hub_and_spoke_provisions_one_source_into_many_targets() {
    let mut t = TestNs::new("hub-spoke").await;
    t.start_controllers(|_| {});
    open_tenants(
        &t,
        &[("contoso", CONTOSO), ("fabrikam", FABRIKAM), ("northwind", NORTHWIND)],
    )
    .await;
    let hub = t.scim("contoso");
    hub.add_user("alice@contoso.com", json!({})).await;
    hub.add_user("bob@contoso.com", json!({})).await;
    let all = json!({ "interval": "10s", "scope": { "mode": "AllUsers" } });
    let configs = vec!["to-fabrikam".to_string(), "to-northwind".to_string()];
    t.apply(&manifests::sync_config(
        "to-fabrikam",
        "contoso",
        "fabrikam",
        all.clone(),
    ))
    .await;
    t.apply(&manifests::sync_config("to-northwind", "contoso", "northwind", all))
        .await;
    all_synced_after(&t, &configs, None).await;
    for spoke in ["fabrikam", "northwind"] {
        let mut names: Vec<String> = t
            .scim(spoke)
            .users()
            .await
            .iter()
            .filter_map(|u| u["userName"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        assert_eq!(names, ["alice@contoso.com", "bob@contoso.com"], "{spoke}");
    }
}

#[tokio::test]
async fn an_operator_killed_mid_cycle_creates_no_duplicates_when_restarted() {
    let (mut t, faults) = started_with_proxy("killed", "fabrikam").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let names: Vec<String> = (0..300).map(|i| format!("u{i:03}@contoso.com")).collect();
    contoso.add_users(&names, sales()).await;
    // The source's first page (100 users) is created; the Bulk request of the next is held
    // back by a long Retry-After.
    faults.add(Rule {
        pass_first: 1,
        ..rule("POST", "/Bulk", 429, Some(30), 1)
    });
    t.apply(&sales_config("10s", manifests::nothing())).await;
    t.eventually("the cycle is part done", || async {
        let count = fabrikam.users().await.len();
        faults.injected() == 1 && count > 0 && count < 300
    })
    .await;

    t.stop_controllers();
    t.start_controllers(|_| {});
    t.eventually("all users provisioned", || async {
        fabrikam.users().await.len() >= 300
    })
    .await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    let users = fabrikam.users().await;
    assert_eq!(users.len(), 300, "no duplicates");
    let mut anchors: Vec<&str> = users.iter().filter_map(|u| u["externalId"].as_str()).collect();
    anchors.sort();
    anchors.dedup();
    assert_eq!(anchors.len(), 300);
    assert_eq!(status.users_provisioned, Some(300));
}

#[tokio::test]
async fn a_restarted_operator_duplicates_nothing() {
    let mut t = started("restart").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    contoso.add_user("alice@contoso.com", sales()).await;
    contoso.add_user("bob@contoso.com", sales()).await;
    t.apply(&sales_config("10s", manifests::nothing())).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;

    t.stop_controllers();
    t.start_controllers(|_| {});
    let status = next_cycle(&t, "11s", manifests::nothing()).await;
    assert_eq!(fabrikam.users().await.len(), 2);
    let last = status.last_cycle.expect("cycle");
    assert_eq!((last.created, last.unchanged), (0, 2));
}

/// contoso and fabrikam, one of them reached through a fault-injecting proxy.
pub(crate) async fn started_with_proxy(name: &str, proxied: &str) -> (TestNs, Faults) {
    let mut t = TestNs::new(name).await;
    t.start_controllers(|_| {});
    let faults = Faults::default();
    let base = faults::proxy(t.env.scim_base.clone(), faults.clone()).await;
    for (tenant, id) in [("contoso", CONTOSO), ("fabrikam", FABRIKAM)] {
        let yaml = if tenant == proxied {
            manifests::scim_tenant_via(&t, tenant, id, &base)
        } else {
            manifests::tenants_with(&t, &[(tenant, id, "Global")])
        };
        t.apply(&yaml).await;
    }
    t.apply(&manifests::policies()).await;
    (t, faults)
}

/// Two Sales users and a target that refuses the credentials on every Bulk creation: after
/// the first cycle the configuration is quarantined (failing writes alone take three cycles).
async fn quarantined(name: &str, interval: &str) -> (TestNs, Faults, SyncConfigurationStatus) {
    let (t, faults) = started_with_proxy(name, "fabrikam").await;
    t.scim("contoso")
        .add_users(&["a@contoso.com".into(), "b@contoso.com".into()], sales())
        .await;
    faults.add(rule("POST", "/Bulk", 401, None, u32::MAX));
    t.apply(&sales_config(interval, manifests::nothing())).await;
    let status = cycle_done(&t, &[SyncedReason::AuthenticationFailed]).await;
    (t, faults, status)
}

pub(crate) fn rule(method: &'static str, path: &str, status: u16, retry_after: Option<u32>, times: u32) -> Rule {
    Rule {
        method,
        path_contains: path.to_owned(),
        status,
        retry_after,
        times,
        pass_first: 0,
    }
}

#[tokio::test]
async fn a_source_read_failing_mid_way_deprovisions_nothing() {
    let (t, faults) = started_with_proxy("partial-read", "contoso").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    // More than one page (the first is 100 users, the next 1000), so that the second can fail.
    let names: Vec<String> = (0..1001).map(|i| format!("user{i:04}@contoso.com")).collect();
    contoso.add_users(&names, sales()).await;
    t.apply(&sales_config("10s", manifests::nothing())).await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    assert_eq!(status.users_provisioned, Some(1001));

    faults.add(rule("GET", "startIndex=101&", 500, None, u32::MAX));
    t.apply(&sales_config("11s", manifests::nothing())).await;
    let status = cycle_done(&t, &[SyncedReason::SourceReadFailed]).await;
    assert!(faults.injected() >= 1);
    let active = fabrikam.users().await.iter().filter(|u| u["active"] == true).count();
    assert_eq!(active, 1001, "a partial read deprovisions nothing");
    assert!(
        status
            .conditions
            .iter()
            .any(|c| c.type_ == QuarantinedReason::TYPE && c.status == "True"),
        "{:#?}",
        status.conditions
    );
    assert_eq!(
        status.last_cycle.expect("the earlier cycle").created,
        1001,
        "lastCycle is the last completed cycle"
    );
}

#[tokio::test]
async fn a_throttled_target_is_retried_and_gets_no_duplicates() {
    let (t, faults) = started_with_proxy("throttled", "fabrikam").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let ids = contoso
        .add_users(
            &["a@contoso.com".into(), "b@contoso.com".into(), "c@contoso.com".into()],
            sales(),
        )
        .await;
    faults.add(rule("POST", "/Bulk", 429, Some(1), 2));
    faults.add(rule("GET", "/Users?startIndex", 503, Some(0), 1));
    t.apply(&sales_config("10s", manifests::nothing())).await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    assert_eq!(faults.injected(), 3);
    assert_eq!(fabrikam.users().await.len(), 3, "created once each");
    assert_eq!(status.last_cycle.expect("cycle").failed, 0);

    faults.add(rule("PATCH", "/Users/", 500, None, 1));
    contoso.replace(&ids[0], "displayName", json!("Changed")).await;
    let status = next_cycle(&t, "11s", manifests::nothing()).await;
    assert_eq!(faults.injected(), 4);
    let last = status.last_cycle.expect("cycle");
    assert_eq!((last.updated, last.failed), (1, 0));
    assert_eq!(
        fabrikam.user_named("a@contoso.com").await.expect("a")["displayName"],
        "Changed"
    );
}

#[tokio::test]
async fn a_target_refusing_the_credentials_is_quarantined_until_a_cycle_succeeds() {
    let (t, faults, status) = quarantined("quarantine", "10s").await;
    let fabrikam = t.scim("fabrikam");
    let quarantine = status.quarantine.expect("quarantined");
    assert_eq!(quarantine.reason, QuarantinedReason::AuthenticationFailed.as_str());
    assert!(
        status.failures.len() == 2 && status.failures.iter().all(|f| f.action == "Create"),
        "{:#?}",
        status.failures
    );
    assert!(fabrikam.users().await.is_empty());

    faults.clear();
    let status = next_cycle(&t, "11s", manifests::nothing()).await;
    assert!(status.quarantine.is_none());
    assert!(
        status
            .conditions
            .iter()
            .any(|c| c.type_ == QuarantinedReason::TYPE && c.status == "False")
    );
    assert_eq!(fabrikam.users().await.len(), 2);
}

#[tokio::test]
async fn a_burst_of_server_errors_on_bulk_creations_delays_users_by_seconds_not_a_quarantine() {
    let (t, faults) = started_with_proxy("server-errors", "fabrikam").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let names: Vec<String> = (0..150).map(|i| format!("u{i:03}@contoso.com")).collect();
    contoso.add_users(&names, sales()).await;
    faults.add(rule("POST", "/Bulk", 429, Some(1), 30));
    faults.add(rule("POST", "/Bulk", 500, None, 10));
    // A long interval: every user must arrive within this one cycle.
    t.apply(&sales_config("1h", manifests::nothing())).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while faults.injected() < 40 {
        assert!(
            std::time::Instant::now() < deadline,
            "{} faults injected",
            faults.injected()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last_error = std::time::Instant::now();
    loop {
        let arrived = fabrikam.users().await.len();
        if arrived >= 150 {
            break;
        }
        assert!(
            last_error.elapsed() < Duration::from_secs(60),
            "{arrived} of 150 users a minute after the last 500"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    let users = fabrikam.users().await;
    let mut anchors: Vec<&str> = users.iter().filter_map(|u| u["externalId"].as_str()).collect();
    anchors.sort();
    anchors.dedup();
    assert_eq!((users.len(), anchors.len()), (150, 150), "no duplicates");
    assert!(status.quarantine.is_none());
    assert!(
        status
            .conditions
            .iter()
            .any(|c| c.type_ == QuarantinedReason::TYPE && c.status == "False"),
        "{:#?}",
        status.conditions
    );
    let last = status.last_cycle.expect("cycle");
    assert_eq!((last.created, last.failed), (150, 0));
}

#[tokio::test]
async fn bulk_creations_that_landed_behind_a_500_are_found_by_anchor_and_not_sent_again() {
    let (t, faults) = started_with_proxy("landed-errors", "fabrikam").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let names: Vec<String> = (0..30).map(|i| format!("u{i:02}@contoso.com")).collect();
    contoso.add_users(&names, sales()).await;
    // The server creates the users, and its gateway answers 500.
    faults.land_errors();
    faults.add(rule("POST", "/Bulk", 500, None, 1));
    t.apply(&sales_config("1h", manifests::nothing())).await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    assert_eq!(faults.injected(), 1);
    let users = fabrikam.users().await;
    let mut anchors: Vec<&str> = users.iter().filter_map(|u| u["externalId"].as_str()).collect();
    anchors.sort();
    anchors.dedup();
    assert_eq!((users.len(), anchors.len()), (30, 30), "no duplicates");
    let last = status.last_cycle.expect("cycle");
    assert_eq!((last.created, last.failed), (30, 0));
}

/// Annotates the configuration to provision `who` on demand and waits for the answer.
pub(crate) async fn provision_on_demand(t: &TestNs, who: &str) -> xtsync::api::sync_config::OnDemandResult {
    let annotation = format!("xtsync.io/provision-on-demand={who}");
    t.kubectl(&["annotate", "--overwrite", "syncconfig", CONFIG, &annotation])
        .await;
    let answered = || async {
        t.config(CONFIG)
            .await
            .status
            .and_then(|s| s.on_demand)
            .filter(|o| o.request == who)
    };
    t.eventually(&format!("{who} answered"), || async { answered().await.is_some() })
        .await;
    answered().await.expect("answered")
}

#[tokio::test]
async fn provision_on_demand_syncs_one_user_now_and_answers_in_status() {
    let t = started("on-demand").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    // A long interval: only the annotation can make anything happen after the first cycle.
    t.apply(&sales_config("1h", manifests::nothing())).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    contoso.add_user("alice@contoso.com", sales()).await;
    contoso.add_user("bob@contoso.com", sales()).await;
    contoso.add_user("olga@contoso.com", json!({})).await;

    let answer = provision_on_demand(&t, "alice@contoso.com").await;
    assert_eq!(answer.result, "Created", "{answer:?}");
    let users = fabrikam.users().await;
    assert_eq!(users.len(), 1, "only the requested user: {users:#?}");
    assert_eq!(users[0]["userName"], "alice@contoso.com");
    // The same user again: `<user>#<nonce>` is a new request (README, "Annotations").
    let again = provision_on_demand(&t, "alice@contoso.com#again").await;
    assert_eq!(again.result, "Unchanged", "{again:?}");

    // Rules still apply: a user out of scope is refused, and says why.
    let answer = provision_on_demand(&t, "olga@contoso.com").await;
    assert_eq!(answer.result, "OutOfScope", "{answer:?}");
    assert_eq!(fabrikam.users().await.len(), 1);
}

#[tokio::test]
async fn restart_runs_a_cycle_at_once_and_lifts_quarantine() {
    let (t, faults, status) = quarantined("restart-annotation", "1h").await;
    let fabrikam = t.scim("fabrikam");
    assert!(status.quarantine.is_some());

    faults.clear();
    t.kubectl(&["annotate", "syncconfig", CONFIG, "xtsync.io/restart=1"])
        .await;
    t.eventually("users created after the restart", || async {
        fabrikam.users().await.len() == 2
    })
    .await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    assert!(status.quarantine.is_none());
    assert_eq!(status.observed_restart.as_deref(), Some("1"));
}

#[tokio::test]
async fn deleting_a_configuration_keeps_users_unless_asked_to_deprovision() {
    let t = started("config-delete").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    contoso.add_user("alice@contoso.com", sales()).await;
    t.apply(&sales_config("10s", manifests::nothing())).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    assert!(
        t.config(CONFIG)
            .await
            .metadata
            .finalizers
            .unwrap_or_default()
            .is_empty(),
        "no finalizer unless asked"
    );
    t.kubectl(&["delete", "syncconfig", CONFIG, "--wait=true"]).await;
    assert_eq!(
        fabrikam.users().await.iter().filter(|u| u["active"] == true).count(),
        1,
        "Keep: users stay"
    );

    let deprovision = json!({ "deprovision": { "onConfigurationDelete": "Deprovision" } });
    t.apply(&sales_config("10s", deprovision)).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    has_the_finalizer(&t, CONFIG).await;
    t.kubectl(&["delete", "syncconfig", CONFIG, "--wait=true", "--timeout=30s"])
        .await;
    let users = fabrikam.users().await;
    assert_eq!(
        users.len(),
        1,
        "the user kept from the first configuration is recognised by its anchor, not duplicated"
    );
    assert_eq!(users[0]["active"], false, "deprovisioned on delete");
}

#[tokio::test]
async fn later_cycles_are_incremental_and_read_only_what_changed() {
    let t = started("incremental").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let ids = contoso
        .add_users(
            &(0..30).map(|i| format!("u{i:02}@contoso.com")).collect::<Vec<_>>(),
            sales(),
        )
        .await;
    t.apply(&sales_config("10s", manifests::nothing())).await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    let first = status.last_cycle.expect("cycle");
    assert_eq!((first.cycle_type, first.created), (CycleType::Initial, 30));
    assert!(status.watermark.is_some());

    contoso.replace(&ids[7], "displayName", json!("Seven")).await;
    let log_before = t.scim_reads("fabrikam").len();
    t.eventually("an incremental cycle", || async {
        t.config(CONFIG)
            .await
            .status
            .and_then(|s| s.last_cycle)
            .is_some_and(|c| c.cycle_type == CycleType::Incremental)
    })
    .await;
    let status = t.config(CONFIG).await.status.expect("status");
    let last = status.last_cycle.expect("cycle");
    assert_eq!(
        (last.updated, last.created, last.unchanged),
        (1, 0, 0),
        "only the changed user was looked at"
    );
    assert_eq!(status.users_provisioned, Some(30));
    // The target was not listed in full: only filtered look-ups for the one changed user.
    // (Taken before this test's own listing below.)
    let reads: Vec<String> = t.scim_reads("fabrikam").into_iter().skip(log_before).collect();
    assert!(
        !reads.is_empty() && reads.iter().all(|r| r.contains("filter=")),
        "{reads:#?}"
    );
    assert_eq!(
        fabrikam.user_named("u07@contoso.com").await.expect("u07")["displayName"],
        "Seven"
    );
}

#[tokio::test]
async fn assigned_users_and_group_members_are_in_scope_and_cycles_are_evented() {
    let t = started("assigned").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    contoso.add_user("alice@contoso.com", json!({})).await;
    let bob = contoso.add_user("bob@contoso.com", json!({})).await;
    contoso.add_user("carol@contoso.com", json!({})).await;
    contoso.add_group("Sales Team", &[bob.as_str()]).await;
    let scope = json!({
        "interval": "10s",
        "scope": { "mode": "AssignedUsersAndGroups", "users": ["Alice@Contoso.com"], "groups": ["Sales Team"] },
    });
    t.apply(&manifests::sync_config(CONFIG, "contoso", "fabrikam", scope))
        .await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    let mut names: Vec<String> = fabrikam
        .users()
        .await
        .iter()
        .filter_map(|u| u["userName"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(names, ["alice@contoso.com", "bob@contoso.com"], "carol is not assigned");
    assert_eq!(status.users_in_scope, Some(2));

    let events = t.kubectl(&["get", "events.events.k8s.io", "-o", "json"]).await;
    let events: Value = serde_json::from_str(&events).expect("events JSON");
    let cycle_event = events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["reason"] == "CycleCompleted" && e["regarding"]["name"] == CONFIG)
        .unwrap_or_else(|| panic!("no CycleCompleted event: {events:#}"));
    assert!(
        cycle_event["note"].as_str().is_some_and(|n| n.starts_with("2 created")),
        "{cycle_event:#}"
    );
}

/// The pair's active configuration asked to deprovision on delete, but its target's Secret is
/// gone: the deletion waits and says why, and the cleanup runs once the Secret is back.
#[tokio::test]
async fn cleanup_that_cannot_run_holds_the_deletion_and_runs_once_it_can() {
    let t = started("cleanup-blocked").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    contoso.add_user("alice@contoso.com", sales()).await;
    let deprovision = json!({ "deprovision": { "onConfigurationDelete": "Deprovision" } });
    t.apply(&sales_config("10s", deprovision)).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    has_the_finalizer(&t, CONFIG).await;

    t.kubectl(&["delete", "secret", "fabrikam-scim"]).await;
    t.kubectl(&["delete", "syncconfig", CONFIG, "--wait=false"]).await;
    let c = t.config_ready(CONFIG, "False", ReadyReason::CleanupBlocked).await;
    assert!(
        c.message.contains("fabrikam-scim"),
        "names what is missing: {}",
        c.message
    );
    let events = t.kubectl(&["get", "events.events.k8s.io", "-o", "json"]).await;
    let events: Value = serde_json::from_str(&events).expect("events JSON");
    let reasons: Vec<&str> = events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["regarding"]["name"] == CONFIG)
        .filter_map(|e| e["reason"].as_str())
        .collect();
    // The Event's reason is the condition's.
    assert!(reasons.contains(&ReadyReason::CleanupBlocked.as_str()), "{reasons:?}");
    assert!(!reasons.contains(&"CleanedUp"), "never reported done: {reasons:?}");
    let users = fabrikam.users().await;
    assert_eq!(users[0]["active"], true, "nothing deprovisioned yet");

    t.apply(&manifests::two_tenants(&t)).await;
    t.eventually("the deletion finished", || async {
        t.api::<SyncConfiguration>()
            .get_opt(CONFIG)
            .await
            .expect("get")
            .is_none()
    })
    .await;
    let users = fabrikam.users().await;
    assert_eq!(users[0]["active"], false, "deprovisioned once it could: {users:#?}");
}

#[tokio::test]
async fn deleting_a_duplicate_that_never_passed_its_gate_deprovisions_nothing() {
    // docs/architecture.md, "The deletion path": cleanup deprovisioned every target user of the source tenant — the winner's.
    let t = started("cleanup-loser").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    contoso.add_user("alice@contoso.com", sales()).await;
    t.apply(&sales_config("10s", manifests::nothing())).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    // Created in the same second, the name breaks the tie: "zz-…" sorts after the winner.
    let loser = "zz-contoso-to-fabrikam";
    let deprovision = json!({ "deprovision": { "onConfigurationDelete": "Deprovision" } });
    t.apply(&manifests::sync_config(loser, "contoso", "fabrikam", deprovision))
        .await;
    t.config_ready(loser, "False", ReadyReason::DuplicatePair).await;
    has_the_finalizer(&t, loser).await;
    t.kubectl(&["delete", "syncconfig", loser, "--wait=true", "--timeout=30s"])
        .await;
    let users = fabrikam.users().await;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["active"], true, "the winner's user is untouched: {users:#?}");
}

#[tokio::test]
async fn a_dry_run_writes_nothing_reports_the_counts_and_writes_once_turned_off() {
    let t = started("dry-run").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    contoso
        .add_users(&["a@contoso.com".into(), "b@contoso.com".into()], sales())
        .await;
    t.apply(&sales_config("10m", json!({ "dryRun": true }))).await;
    let status = cycle_done(&t, &[SyncedReason::DryRun]).await;
    let planned = status.last_cycle.expect("cycle");
    assert!(planned.dry_run);
    assert_eq!((planned.created, planned.failed), (2, 0));
    assert!(t.scim_writes("fabrikam").is_empty(), "{:?}", t.scim_writes("fabrikam"));
    assert!(fabrikam.users().await.is_empty());

    // Turned off: a real cycle runs at once (not after the 10-minute interval), as planned.
    t.apply(&sales_config("10m", json!({ "dryRun": false }))).await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    let real = status.last_cycle.expect("cycle");
    assert!(!real.dry_run);
    assert_eq!((real.created, real.unchanged), (planned.created, planned.unchanged));
    assert_eq!(fabrikam.users().await.len(), 2);
}

#[tokio::test]
async fn a_long_cycle_shows_its_progress_and_removes_it_when_it_ends() {
    let t = started("progress").await;
    let names: Vec<String> = (0..2500).map(|i| format!("p{i:04}@contoso.com")).collect();
    t.scim("contoso").add_users(&names, sales()).await;
    t.apply(&sales_config("10m", manifests::nothing())).await;
    let mut phases = std::collections::BTreeSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = t.config(CONFIG).await.status.unwrap_or_default();
        if let Some(progress) = &status.progress {
            assert!(progress.done <= progress.total, "{progress:?}");
            phases.insert(progress.phase.clone());
        }
        let done = status.last_cycle.is_some_and(|c| c.created == 2500);
        if done {
            assert_eq!(status.progress, None, "progress is removed when the cycle ends");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no complete cycle within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!phases.is_empty(), "progress was seen during the cycle");
    let printed = t.kubectl(&["get", "syncconfig", CONFIG, "-o", "wide"]).await;
    assert!(printed.contains("PHASE"), "{printed}");
}
