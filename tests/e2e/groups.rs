//! End-to-end tests of group provisioning (README, "Groups"), SCIM → SCIM on real scim2-server
//! tenants: the groups of `scope.groups` arrive in the target with exactly their synced
//! members, follow the source with one write per change, and leave and come back with scope.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use xtsync::api::reasons::{ReadyReason, SyncedReason};
use xtsync::api::sync_config::SyncConfigurationStatus;

use crate::manifests::{self, CONTOSO};
use crate::support::TestNs;
use crate::sync::{CONFIG, cycle_done};

async fn started(name: &str) -> TestNs {
    let mut t = TestNs::new(name).await;
    t.start_controllers(|_| {});
    t.apply(&manifests::two_tenants(&t)).await;
    t.apply(&manifests::target_policy_with_groups().and(manifests::source_policy()))
        .await;
    t
}

/// A started test with the users alice and bob in contoso; their ids.
async fn with_alice_and_bob(name: &str) -> (TestNs, String, String) {
    let t = started(name).await;
    let contoso = t.scim("contoso");
    let alice = contoso.add_user("alice@contoso.com", json!({})).await;
    let bob = contoso.add_user("bob@contoso.com", json!({})).await;
    (t, alice, bob)
}

/// contoso → fabrikam provisioning `groups` (and their members) with `membership`; `users`
/// are assigned too. A new `interval` is a spec change: a cycle starts at once.
pub(crate) fn config(interval: &str, users: &[&str], groups: &[&str], membership: &str) -> manifests::Manifests {
    config_with(interval, users, groups, membership, json!({}))
}

/// `config`, with `extra` merged into the spec.
fn config_with(
    interval: &str,
    users: &[&str],
    groups: &[&str],
    membership: &str,
    extra: Value,
) -> manifests::Manifests {
    let mut spec = json!({
        "interval": interval,
        "scope": { "mode": "AssignedUsersAndGroups", "users": users, "groups": groups },
        "groupProvisioning": { "enabled": true, "membership": membership },
    });
    manifests::merge(&mut spec, extra);
    manifests::sync_config(CONFIG, "contoso", "fabrikam", spec)
}

pub(crate) async fn cycle(t: &TestNs, manifests: &manifests::Manifests) -> SyncConfigurationStatus {
    t.apply(manifests).await;
    cycle_done(t, &[SyncedReason::CycleSucceeded, SyncedReason::PartiallySynced]).await
}

/// The target user ids of these userNames.
async fn target_ids(t: &TestNs, names: &[&str]) -> BTreeSet<String> {
    let users = t.scim("fabrikam").users().await;
    names
        .iter()
        .map(|n| {
            users
                .iter()
                .find(|u| u["userName"] == *n)
                .and_then(|u| u["id"].as_str())
                .unwrap_or_else(|| panic!("{n} is not in the target"))
                .to_owned()
        })
        .collect()
}

fn members(group: &Value) -> BTreeSet<String> {
    group["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["value"].as_str().map(str::to_owned))
        .collect()
}

/// Writes to fabrikam's `/Groups` since `before` of them, once scim2-server has logged
/// `expected` (it logs a request after answering it).
async fn group_writes(t: &TestNs, before: usize, expected: usize) -> Vec<String> {
    let writes = || -> Vec<String> {
        t.scim_writes("fabrikam")
            .into_iter()
            .filter(|w| w.contains("/Groups"))
            .skip(before)
            .collect()
    };
    t.eventually(&format!("{expected} group writes logged"), || async {
        writes().len() >= expected
    })
    .await;
    writes()
}

fn group_write_count(t: &TestNs) -> usize {
    t.scim_writes("fabrikam")
        .iter()
        .filter(|w| w.contains("/Groups"))
        .count()
}

#[tokio::test]
async fn a_group_arrives_with_its_synced_members_follows_the_source_and_leaves_with_scope() {
    let (t, alice, bob) = with_alice_and_bob("groups-life").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let eve = contoso.add_user("eve@contoso.com", json!({})).await;
    // A guest of contoso is not synced (rule 3): left out of the target group.
    let guest = contoso
        .add_user("gina@partner.com", json!({ "userType": "Guest" }))
        .await;
    let sales = contoso
        .add_group("Sales", &[alice.as_str(), bob.as_str(), guest.as_str()])
        .await;
    // Same name in the source and the target, but the target's was not provisioned by xtsync.
    contoso.add_group("Marketing", &[eve.as_str()]).await;
    let theirs = fabrikam.add_group("Marketing", &[]).await;
    let theirs_before = fabrikam.group_named("Marketing").await.expect("their group");

    // Sales by id, so that a rename in the source keeps it in scope.
    let status = cycle(&t, &config("10s", &[], &[&sales, "Marketing"], "Direct")).await;
    let provisioned = fabrikam.group_named("Sales").await.expect("Sales in the target");
    assert_eq!(provisioned["externalId"], format!("{CONTOSO}/{sales}"));
    assert_eq!(
        members(&provisioned),
        target_ids(&t, &["alice@contoso.com", "bob@contoso.com"]).await,
        "exactly the synced members: the guest is left out"
    );
    let last = status.last_cycle.clone().expect("last cycle");
    let groups = last.groups.clone().expect("group counters");
    assert_eq!((groups.created, groups.failed), (1, 0), "{groups:?}");
    assert_eq!(last.memberships.expect("membership counters").added, 2);
    assert_eq!((status.groups_in_scope, status.groups_provisioned), (Some(2), Some(1)));
    let conflict = status
        .failures
        .iter()
        .find(|f| f.user == "group:Marketing")
        .unwrap_or_else(|| panic!("Marketing is reported: {:#?}", status.failures));
    assert_eq!(conflict.reason, "ConflictsWithExistingGroup");
    // The provisioning log has a record of each: the creation, and the skip.
    let records = crate::support::provisioning_log::of(&format!("{}/{CONFIG}", t.name));
    let of = |group: &str| {
        records
            .iter()
            .find(|r| r.get("userName").map(String::as_str) == Some(group))
            .unwrap_or_else(|| panic!("no record of {group}: {records:#?}"))
    };
    let created = of("group:Sales");
    assert_eq!(
        (created["action"].as_str(), created["result"].as_str()),
        ("CreateGroup", "Success")
    );
    assert_eq!(created["changedAttributes"], "displayName,externalId,members");
    let skipped = of("group:Marketing");
    assert_eq!(
        (skipped["action"].as_str(), skipped["reason"].as_str()),
        ("Skip", "ConflictsWithExistingGroup")
    );
    let theirs_after = fabrikam.group_named("Marketing").await.expect("their group");
    assert_eq!(theirs_after["id"], theirs.as_str());
    assert_eq!(
        theirs_after["meta"]["version"], theirs_before["meta"]["version"],
        "the pre-existing group is untouched"
    );

    // Nothing changed: no group write at all.
    let before = group_write_count(&t);
    let status = cycle(&t, &config("11s", &[], &[&sales, "Marketing"], "Direct")).await;
    let last = status.last_cycle.expect("last cycle");
    let groups = last.groups.expect("group counters");
    assert_eq!((groups.created, groups.updated, groups.unchanged), (0, 0, 1));
    assert_eq!(last.memberships.map(|m| (m.added, m.removed)), Some((0, 0)));
    assert_eq!(group_write_count(&t), before, "an unchanged group costs nothing");

    // A member added and one removed in the source: one write each; a rename: one write.
    contoso
        .patch_group(
            &sales,
            json!([
                { "op": "add", "path": "members", "value": [{ "value": eve }] },
                { "op": "remove", "path": format!("members[value eq \"{bob}\"]") },
                { "op": "replace", "path": "displayName", "value": "Sales EMEA" },
            ]),
        )
        .await;
    let before = group_write_count(&t);
    let status = cycle(&t, &config("12s", &[], &[&sales, "Marketing"], "Direct")).await;
    let last = status.last_cycle.expect("last cycle");
    assert_eq!(last.memberships.map(|m| (m.added, m.removed)), Some((1, 1)));
    assert_eq!(last.groups.map(|g| g.updated), Some(1));
    let id = provisioned["id"].as_str().expect("group id");
    let writes = group_writes(&t, before, 3).await;
    assert_eq!(
        writes,
        vec![format!("PATCH /{}-fabrikam/v2/Groups/{id}", t.name); 3],
        "a rename, an add and a remove: three PATCHes of the group"
    );
    let renamed = fabrikam.group_named("Sales EMEA").await.expect("renamed, same group");
    assert_eq!(renamed["id"], id);
    assert_eq!(
        members(&renamed),
        target_ids(&t, &["alice@contoso.com", "eve@contoso.com"]).await
    );

    // Out of scope: deprovisioned (SoftDelete deletes the group); back in scope: provisioned again.
    let status = cycle(&t, &config("13s", &[], &["Marketing"], "Direct")).await;
    assert_eq!(
        status.last_cycle.and_then(|l| l.groups).map(|g| g.deprovisioned),
        Some(1)
    );
    assert!(fabrikam.group_named("Sales EMEA").await.is_none(), "deleted");
    assert_eq!(status.groups_provisioned, Some(0));
    let status = cycle(&t, &config("14s", &[], &[&sales, "Marketing"], "Direct")).await;
    assert_eq!(status.last_cycle.and_then(|l| l.groups).map(|g| g.created), Some(1));
    let back = fabrikam.group_named("Sales EMEA").await.expect("back");
    assert_eq!(
        members(&back),
        target_ids(&t, &["alice@contoso.com", "eve@contoso.com"]).await,
        "the members are back with it"
    );
}

#[tokio::test]
async fn nested_members_are_flattened_under_transitive_only() {
    let (t, alice, bob) = with_alice_and_bob("groups-nested").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let inner = contoso.add_group("Inner", &[bob.as_str()]).await;
    contoso.add_group("Outer", &[alice.as_str(), inner.as_str()]).await;
    // bob is assigned himself: a member of a nested group is only flattened in when synced.
    cycle(&t, &config("10s", &["bob@contoso.com"], &["Outer"], "Direct")).await;
    let direct = fabrikam.group_named("Outer").await.expect("Outer");
    assert_eq!(members(&direct), target_ids(&t, &["alice@contoso.com"]).await);
    assert!(fabrikam.group_named("Inner").await.is_none(), "Inner is not in scope");

    let status = cycle(&t, &config("11s", &["bob@contoso.com"], &["Outer"], "Transitive")).await;
    let transitive = fabrikam.group_named("Outer").await.expect("Outer");
    assert_eq!(
        members(&transitive),
        target_ids(&t, &["alice@contoso.com", "bob@contoso.com"]).await
    );
    assert_eq!(status.last_cycle.and_then(|l| l.memberships).map(|m| m.added), Some(1));

    // bob is no longer assigned himself: a member of Inner, nested in Outer, he stays in scope
    // (scim2-server keeps member entries as sent, `{"value": id}`: Inner is known as a group by
    // its id among the groups).
    let status = cycle(&t, &config("12s", &[], &["Outer"], "Transitive")).await;
    assert_eq!(status.last_cycle.map(|l| l.deprovisioned), Some(0));
    let transitive = fabrikam.group_named("Outer").await.expect("Outer");
    assert_eq!(
        members(&transitive),
        target_ids(&t, &["alice@contoso.com", "bob@contoso.com"]).await
    );
}

#[tokio::test]
async fn the_gate_refuses_group_provisioning_the_target_does_not_allow() {
    let mut t = TestNs::new("groups-gate").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::two_tenants(&t)).await;
    t.apply(&manifests::policies()).await;
    t.scim("contoso").add_group("Sales", &[]).await;
    t.apply(&config("10s", &[], &["Sales"], "Direct")).await;
    let ready = t
        .config_ready(CONFIG, "False", ReadyReason::InboundGroupSyncNotAllowed)
        .await;
    assert!(ready.message.contains("inbound.allowGroupsSync"), "{}", ready.message);
    assert!(t.scim("fabrikam").groups().await.is_empty(), "nothing written");
}

#[tokio::test]
async fn a_failed_read_of_the_source_groups_deprovisions_no_group_and_removes_no_member() {
    let (t, faults) = crate::sync::started_with_proxy("groups-read-fails", "contoso").await;
    t.apply(&manifests::target_policy_with_groups()).await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let alice = contoso.add_user("alice@contoso.com", json!({})).await;
    let bob = contoso.add_user("bob@contoso.com", json!({})).await;
    let sales = contoso.add_group("Sales", &[alice.as_str()]).await;
    // Not empty: scim2-server answers an empty group without `members`, a failed read.
    contoso.add_group("Marketing", &[bob.as_str()]).await;
    cycle(&t, &config("10s", &[], &[&sales, "Marketing"], "Direct")).await;
    let before = fabrikam.group_named("Sales").await.expect("Sales provisioned");
    assert_eq!(members(&before).len(), 1);

    // Sales leaves scope while the listing of the source's groups fails: the users' pass
    // deprovisions alice, but no group is deleted and no member removed.
    faults.add(crate::sync::rule("GET", "/Groups?startIndex", 500, None, u32::MAX));
    t.apply(&config("11s", &[], &["Marketing"], "Direct")).await;
    let status = cycle_done(&t, &[SyncedReason::SourceReadFailed]).await;
    let synced = status.conditions.iter().find(|c| c.type_ == "Synced").expect("Synced");
    assert!(
        synced.message.contains("reading the source failed"),
        "{}",
        synced.message
    );
    let after = fabrikam.group_named("Sales").await.expect("Sales is still there");
    assert_eq!(after["meta"]["version"], before["meta"]["version"], "untouched");
}

#[tokio::test]
async fn a_group_is_provisioned_on_demand_and_answers_in_status() {
    let (t, alice, bob) = with_alice_and_bob("groups-on-demand").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let sales = contoso.add_group("Sales", &[alice.as_str(), bob.as_str()]).await;
    // A long interval: only the annotation makes anything happen after the first cycle.
    cycle(&t, &config("1h", &["bob@contoso.com"], &["Sales"], "Direct")).await;
    let before = fabrikam.group_named("Sales").await.expect("Sales");
    assert_eq!(members(&before).len(), 2);

    contoso
        .patch_group(
            &sales,
            json!([{ "op": "remove", "path": format!("members[value eq \"{bob}\"]") }]),
        )
        .await;
    let answer = crate::sync::provision_on_demand(&t, "group:Sales").await;
    assert_eq!(answer.result, "Updated", "{answer:?}");
    assert!(answer.message.contains("1 removed"), "{answer:?}");
    let after = fabrikam.group_named("Sales").await.expect("Sales");
    assert_eq!(members(&after), target_ids(&t, &["alice@contoso.com"]).await);

    let answer = crate::sync::provision_on_demand(&t, "group:Engineering").await;
    assert_eq!(answer.result, "OutOfScope", "{answer:?}");
}

/// Waits for a cycle that completes after `after` and is Incremental.
pub(crate) async fn next_incremental(t: &TestNs, after: &jiff::Timestamp) -> SyncConfigurationStatus {
    let found = || async {
        let status = t.config(CONFIG).await.status.unwrap_or_default();
        let last = status.last_cycle.as_ref()?;
        (last.completion_time.0 > *after && last.cycle_type == xtsync::api::sync_config::CycleType::Incremental)
            .then_some(status)
    };
    t.eventually("an incremental cycle", || async { found().await.is_some() })
        .await;
    found().await.expect("incremental cycle")
}

pub(crate) fn completed(status: &SyncConfigurationStatus) -> jiff::Timestamp {
    status.last_cycle.as_ref().expect("a cycle").completion_time.0
}

#[tokio::test]
async fn incremental_cycles_read_only_the_changed_groups_and_the_target_only_for_them() {
    let (t, alice, bob) = with_alice_and_bob("groups-incremental").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let sales = contoso.add_group("Sales", &[alice.as_str()]).await;
    let status = cycle(&t, &config("10s", &["bob@contoso.com"], &["Sales"], "Direct")).await;
    assert!(
        status.groups_watermark.is_some(),
        "the first cycle sets where the next starts"
    );

    // Nothing changed: the source's groups are asked for changes, the target is not read.
    let target_reads = |t: &TestNs| t.scim_requests("fabrikam", &["GET "]).len();
    let before = target_reads(&t);
    let status = next_incremental(&t, &completed(&status)).await;
    let last = status.last_cycle.clone().expect("last cycle");
    assert_eq!(
        last.groups.map(|g| (g.created, g.updated, g.unchanged)),
        Some((0, 0, 0))
    );
    assert_eq!(target_reads(&t), before, "no target read when no group changed");
    let changes_asked = t
        .scim_requests("contoso", &["GET "])
        .iter()
        .any(|r| r.contains("/Groups") && r.contains("meta.lastModified"));
    assert!(changes_asked, "the source is asked for changed groups only");

    // bob joins Sales: the next incremental cycle adds him, with one write.
    contoso
        .patch_group(
            &sales,
            json!([{ "op": "add", "path": "members", "value": [{ "value": bob }] }]),
        )
        .await;
    let status = next_incremental(&t, &completed(&status)).await;
    assert_eq!(status.last_cycle.and_then(|l| l.memberships).map(|m| m.added), Some(1));
    let group = fabrikam.group_named("Sales").await.expect("Sales");
    assert_eq!(
        members(&group),
        target_ids(&t, &["alice@contoso.com", "bob@contoso.com"]).await
    );
    assert_eq!(status.groups_in_scope, Some(1), "kept from the last full read");
}

#[tokio::test]
async fn a_group_leaving_scope_counts_toward_the_deletion_threshold() {
    let (t, alice, bob) = with_alice_and_bob("groups-threshold").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    contoso.add_group("Sales", &[alice.as_str()]).await;
    contoso.add_group("Marketing", &[bob.as_str()]).await;
    let threshold = || json!({ "deprovision": { "accidentalDeletionThreshold": 0 } });
    let spec =
        |interval: &str, groups: &[&str]| config_with(interval, &["alice@contoso.com"], groups, "Direct", threshold());
    cycle(&t, &spec("10s", &["Sales", "Marketing"])).await;
    assert!(fabrikam.group_named("Marketing").await.is_some());

    // Marketing leaves scope, and bob with it: one user and one group, above a threshold of 0.
    let status = cycle(&t, &spec("11s", &["Sales"])).await;
    let pending = status.pending_deletions.expect("deprovisionings held");
    assert_eq!(pending.count, 2, "bob and Marketing: {pending:?}");
    assert!(fabrikam.group_named("Marketing").await.is_some(), "held, not deleted");
    assert_eq!(
        status.last_cycle.and_then(|l| l.groups).map(|g| g.deprovisioned),
        Some(0)
    );
}

#[tokio::test]
async fn scope_follows_group_membership_in_incremental_cycles() {
    // scim2-server changes a group's meta.lastModified on PATCH but not its members': a user
    // who joins or leaves Sales is not among the users changed since the watermark.
    let (t, alice, bob) = with_alice_and_bob("groups-scope-follows").await;
    let (contoso, fabrikam) = (t.scim("contoso"), t.scim("fabrikam"));
    let sales = contoso.add_group("Sales", &[alice.as_str()]).await;
    let spec = json!({
        "interval": "10s",
        "scope": { "mode": "AssignedUsersAndGroups", "groups": ["Sales"] },
    });
    let mut status = cycle(&t, &manifests::sync_config(CONFIG, "contoso", "fabrikam", spec)).await;
    assert!(fabrikam.user_named("alice@contoso.com").await.is_some());
    assert!(
        fabrikam.user_named("bob@contoso.com").await.is_none(),
        "bob is not assigned"
    );

    // bob joins Sales, then leaves it: each time the next Incremental cycle follows.
    let joins = json!([{ "op": "add", "path": "members", "value": [{ "value": bob }] }]);
    let leaves = json!([{ "op": "remove", "path": format!("members[value eq \"{bob}\"]") }]);
    for (patch, counters, active) in [(joins, (1, 0), true), (leaves, (0, 1), false)] {
        contoso.patch_group(&sales, patch).await;
        status = next_incremental(&t, &completed(&status)).await;
        let last = status.last_cycle.clone().expect("last cycle");
        assert_eq!((last.created, last.deprovisioned), counters, "{last:?}");
        let bob_there = fabrikam.user_named("bob@contoso.com").await.expect("bob in the target");
        assert_eq!(bob_there["active"], active);
    }
    assert_eq!(
        fabrikam
            .user_named("alice@contoso.com")
            .await
            .map(|a| a["active"].clone()),
        Some(json!(true))
    );
}
