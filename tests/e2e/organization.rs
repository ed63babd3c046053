//! End-to-end tests of the Organization (README, "Organizations"): the configurations its
//! topology generates, put back when edited by hand, deleted when a member leaves or the
//! Organization goes — against the real apiserver (no garbage collector) and real SCIM tenants.

use std::collections::BTreeSet;
use std::time::Duration;

use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use xtsync::api::SyncConfiguration;
use xtsync::api::conditions::ConditionReason;
use xtsync::api::organization::{MemberState, Organization};
use xtsync::api::reasons::{OrganizationReadyReason, ReadyReason, SyncedReason};

use crate::manifests::{self, CONTOSO, FABRIKAM, Manifests, NORTHWIND};
use crate::support::{TestNs, wait_condition, wait_ready};

pub(crate) const ORG: &str = "group";
pub(crate) const MEMBERS: [&str; 3] = ["contoso", "fabrikam", "northwind"];

/// An Organization of `members` (the first the Owner); `extra` merged into its spec.
pub(crate) fn organization(members: &[&str], extra: Value) -> Value {
    let tenants: Vec<Value> = members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut member = json!({ "tenantRef": { "name": m } });
            if i == 0 {
                member["role"] = json!("Owner");
            }
            member
        })
        .collect();
    let mut org = json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "Organization",
        "metadata": { "name": ORG },
        "spec": {
            "tenants": tenants,
            "topology": { "mode": "Mesh" },
            "partnerTemplate": {
                "inbound": { "allowUsersSync": true, "automaticallyRedeemInvitations": true },
                "outbound": { "automaticallyRedeemInvitations": true },
            },
            "syncTemplate": { "scope": { "mode": "AllUsers" }, "interval": "10s" },
        },
    });
    manifests::merge(&mut org["spec"], extra);
    org
}

/// An Organization of contoso and fabrikam (contoso the Owner) in a hub mode.
pub(crate) fn hub_organization(mode: &str, hub: &str) -> Value {
    organization(
        &MEMBERS[..2],
        json!({ "topology": { "mode": mode, "hub": { "name": hub } } }),
    )
}

/// Three Ready tenants with no CrossTenantAccessPolicy at all, and the controllers: the
/// Organization's partnerTemplate alone must let its members sync.
pub(crate) async fn three_members_without_policies(test: &str) -> TestNs {
    let mut t = TestNs::new(test).await;
    t.start_controllers(|_| {});
    let tenants = manifests::tenants_with(
        &t,
        &[
            ("contoso", CONTOSO, "Global"),
            ("fabrikam", FABRIKAM, "Global"),
            ("northwind", NORTHWIND, "Global"),
        ],
    );
    t.apply(&tenants).await;
    t
}

/// Three Ready tenants whose policies let every member sync into every other, and the
/// controllers. (The partner template does not write policies: members bring their own.)
pub(crate) async fn three_members(test: &str) -> TestNs {
    let mut t = TestNs::new(test).await;
    t.start_controllers(|_| {});
    let tenants = manifests::tenants_with(
        &t,
        &[
            ("contoso", CONTOSO, "Global"),
            ("fabrikam", FABRIKAM, "Global"),
            ("northwind", NORTHWIND, "Global"),
        ],
    );
    let policies = Manifests::of(MEMBERS.iter().map(|m| manifests::open_policy(m)));
    t.apply(&tenants.and(policies)).await;
    t
}

/// The generated configurations, as (source, target) by their labels.
async fn generated_pairs(t: &TestNs) -> BTreeSet<(String, String)> {
    let list = t
        .api::<SyncConfiguration>()
        .list(&ListParams::default().labels(&format!("xtsync.io/organization={ORG}")))
        .await
        .expect("list");
    list.items
        .iter()
        .filter(|c| c.metadata.deletion_timestamp.is_none())
        .map(|c| {
            let label = |k: &str| {
                c.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(k))
                    .cloned()
                    .unwrap_or_default()
            };
            (label("xtsync.io/source"), label("xtsync.io/target"))
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter().map(|(s, t)| (s.to_string(), t.to_string())).collect()
}

pub(crate) async fn org_ready(
    t: &TestNs,
    reason: OrganizationReadyReason,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    let status = if reason == OrganizationReadyReason::Established {
        "True"
    } else {
        "False"
    };
    wait_ready(&t.api::<Organization>(), ORG, status, reason).await
}

async fn until_pairs(t: &TestNs, expected: BTreeSet<(String, String)>) {
    t.eventually(&format!("the generated pairs are {expected:?}"), || async {
        generated_pairs(t).await == expected
    })
    .await;
}

/// Waits for a completed cycle of each named configuration.
async fn synced(t: &TestNs, names: &[String]) {
    for name in names {
        wait_condition(
            &t.api::<SyncConfiguration>(),
            name,
            SyncedReason::TYPE,
            Duration::from_secs(60),
            |c| c.reason == SyncedReason::CycleSucceeded.as_str(),
        )
        .await;
    }
}

fn mesh_names() -> Vec<String> {
    let mut names = Vec::new();
    for s in MEMBERS {
        for t in MEMBERS.iter().filter(|t| **t != s) {
            names.push(format!("{ORG}-{s}-to-{t}"));
        }
    }
    names
}

#[tokio::test]
async fn a_mesh_of_three_generates_six_ready_configurations_and_every_source_reaches_every_target() {
    // No hand-written policy: the partnerTemplate alone opens every pair.
    let t = three_members_without_policies("org-mesh").await;
    assert!(
        t.api::<xtsync::api::CrossTenantAccessPolicy>()
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .is_empty()
    );
    for m in MEMBERS {
        t.scim(m).add_user(&format!("alice@{m}.com"), json!({})).await;
    }
    t.apply(&organization(&MEMBERS, json!({}))).await;
    org_ready(&t, OrganizationReadyReason::Established).await;
    let names = mesh_names();
    for name in &names {
        let config = t.config(name).await;
        let owner = &config.metadata.owner_references.as_ref().expect("an owner")[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.controller),
            ("Organization", ORG, Some(true))
        );
        t.config_ready(name, "True", ReadyReason::GateOpen).await;
    }
    synced(&t, &names).await;
    for target in MEMBERS {
        let mut users: Vec<String> = t
            .scim(target)
            .users()
            .await
            .iter()
            .map(|u| u["userName"].as_str().unwrap_or_default().to_owned())
            .collect();
        users.sort();
        let expected: Vec<String> = MEMBERS.iter().map(|m| format!("alice@{m}.com")).collect();
        assert_eq!(
            users, expected,
            "{target} holds its own user and one of each other member"
        );
    }
    let api = t.api::<Organization>();
    t.eventually("status counts six Ready configurations", || async {
        let status = api.get(ORG).await.ok().and_then(|o| o.status).unwrap_or_default();
        status.configurations == Some(6)
            && status.configurations_ready == Some(6)
            && status.tenant_count == Some(3)
            && status.tenants.iter().all(|m| {
                m.state == MemberState::Active
                    && m.configurations == 4
                    && m.configurations_ready == 4
                    && m.tenant_id.is_some()
            })
    })
    .await;
    let table = t.kubectl(&["get", "org", ORG]).await;
    assert!(
        table.contains("TENANTS") && table.contains(OrganizationReadyReason::Established.as_str()),
        "{table}"
    );
}

#[tokio::test]
async fn each_hub_mode_generates_its_pairs_and_deletes_those_it_no_longer_names() {
    let t = three_members("org-hub").await;
    let hub = |mode: &str| {
        organization(
            &MEMBERS,
            json!({ "topology": { "mode": mode, "hub": { "name": "contoso" } } }),
        )
    };
    t.apply(&hub("FromHub")).await;
    until_pairs(&t, pairs(&[("contoso", "fabrikam"), ("contoso", "northwind")])).await;
    t.apply(&hub("ToHub")).await;
    until_pairs(&t, pairs(&[("fabrikam", "contoso"), ("northwind", "contoso")])).await;
    t.apply(&hub("HubAndSpoke")).await;
    until_pairs(
        &t,
        pairs(&[
            ("contoso", "fabrikam"),
            ("contoso", "northwind"),
            ("fabrikam", "contoso"),
            ("northwind", "contoso"),
        ]),
    )
    .await;
    let excluded = organization(
        &MEMBERS,
        json!({ "topology": { "mode": "Mesh", "exclude": [{ "source": { "name": "fabrikam" }, "target": { "name": "northwind" } }] } }),
    );
    t.apply(&excluded).await;
    until_pairs(
        &t,
        pairs(&[
            ("contoso", "fabrikam"),
            ("contoso", "northwind"),
            ("fabrikam", "contoso"),
            ("northwind", "contoso"),
            ("northwind", "fabrikam"),
        ]),
    )
    .await;
    org_ready(&t, OrganizationReadyReason::Established).await;
}

#[tokio::test]
async fn a_sync_template_change_reaches_every_generated_configuration() {
    let t = three_members("org-template").await;
    t.apply(&organization(&MEMBERS, json!({}))).await;
    org_ready(&t, OrganizationReadyReason::Established).await;
    t.apply(&organization(
        &MEMBERS,
        json!({ "suspend": true, "syncTemplate": { "interval": "7m", "userType": "Guest" } }),
    ))
    .await;
    for name in mesh_names() {
        t.eventually(&format!("{name} follows the template"), || async {
            let spec = t.config(&name).await.spec;
            spec.interval == "7m" && spec.suspend && serde_json::to_value(spec.user_type).ok() == Some(json!("Guest"))
        })
        .await;
    }
}

#[tokio::test]
async fn a_hand_edit_of_a_generated_configuration_is_put_back_and_its_annotations_stay() {
    let t = three_members("org-hand-edit").await;
    t.apply(&organization(&MEMBERS[..2], json!({}))).await;
    org_ready(&t, OrganizationReadyReason::Established).await;
    let name = format!("{ORG}-contoso-to-fabrikam");
    let before = t.config(&name).await;
    let edit = json!({
        "metadata": {
            "labels": { "xtsync.io/organization": null, "team": "mine" },
            "annotations": { "xtsync.io/restart": "now" },
        },
        "spec": { "dryRun": true, "interval": "1h" },
    });
    t.api::<SyncConfiguration>()
        .patch(&name, &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .expect("a person's edit");
    t.eventually("the spec and labels are put back", || async {
        let now = t.config(&name).await;
        now.spec == before.spec && now.metadata.labels == before.metadata.labels
    })
    .await;
    let now = t.config(&name).await;
    assert!(!now.spec.dry_run, "a field the template lacks is removed");
    assert_eq!(
        now.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("xtsync.io/restart"))
            .map(String::as_str),
        Some("now"),
        "annotations are a person's"
    );
    assert_eq!(now.metadata.owner_references, before.metadata.owner_references);
    // Put back once: nothing differs any more, so the spec is not written again.
    let generation = now.metadata.generation;
    t.apply(&organization(&MEMBERS[..2], json!({ "displayName": "Contoso Group" })))
        .await;
    t.eventually("the Organization saw its new generation", || async {
        let org = t.api::<Organization>().get(ORG).await.expect("org");
        org.status.and_then(|s| s.observed_generation) == org.metadata.generation
    })
    .await;
    assert_eq!(
        t.config(&name).await.metadata.generation,
        generation,
        "no needless write"
    );
}

/// A mesh of the three members of `t`, synced; then northwind leaves.
pub(crate) async fn northwind_leaves(t: TestNs, on_leave: &str) -> TestNs {
    for m in MEMBERS {
        t.scim(m).add_user(&format!("alice@{m}.com"), json!({})).await;
    }
    let extra = json!({ "onLeave": on_leave });
    t.apply(&organization(&MEMBERS, extra.clone())).await;
    org_ready(&t, OrganizationReadyReason::Established).await;
    synced(&t, &mesh_names()).await;
    t.apply(&organization(&MEMBERS[..2], extra)).await;
    until_pairs(&t, pairs(&[("contoso", "fabrikam"), ("fabrikam", "contoso")])).await;
    t.eventually("northwind's configurations are gone and it has left", || async {
        let names = t
            .api::<SyncConfiguration>()
            .list(&ListParams::default())
            .await
            .map(|l| l.items.len())
            .unwrap_or_default();
        let status = t
            .api::<Organization>()
            .get(ORG)
            .await
            .ok()
            .and_then(|o| o.status)
            .unwrap_or_default();
        names == 2 && status.tenants.iter().all(|m| m.name != "northwind")
    })
    .await;
    let notes = org_events(&t).await;
    assert!(
        notes.contains(&(
            "MemberJoined".to_owned(),
            "Tenant 'northwind' joined: the configurations of its pairs are generated".to_owned()
        )),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|(reason, note)| reason == "MemberLeaving" && note.contains("'northwind'")),
        "{notes:?}"
    );
    t
}

/// The Organization's Events, as (reason, note).
async fn org_events(t: &TestNs) -> Vec<(String, String)> {
    let events = t.kubectl(&["get", "events.events.k8s.io", "-o", "json"]).await;
    let events: Value = serde_json::from_str(&events).expect("events JSON");
    events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["regarding"]["kind"] == "Organization" && e["regarding"]["name"] == ORG)
        .map(|e| {
            (
                e["reason"].as_str().unwrap_or_default().to_owned(),
                e["note"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_member_leaving_with_retain_loses_its_configurations_and_its_users_stay() {
    let t = northwind_leaves(three_members("org-leave-retain").await, "Retain").await;
    let copy = t
        .scim("contoso")
        .user_named("alice@northwind.com")
        .await
        .expect("still there");
    assert_eq!(copy["active"], true, "Retain keeps the users");
    let copy = t
        .scim("northwind")
        .user_named("alice@contoso.com")
        .await
        .expect("still there");
    assert_eq!(copy["active"], true);
    org_ready(&t, OrganizationReadyReason::Established).await;
}

#[tokio::test]
async fn a_member_leaving_with_deprovision_has_its_users_soft_deleted_in_every_target() {
    let t = northwind_leaves(three_members("org-leave-deprovision").await, "Deprovision").await;
    northwinds_pairs_were_deprovisioned(&t).await;
}

/// northwind's users are soft-deleted in contoso and contoso's in northwind, and the pairs
/// between the remaining members are untouched.
pub(crate) async fn northwinds_pairs_were_deprovisioned(t: &TestNs) {
    let copy = t
        .scim("contoso")
        .user_named("alice@northwind.com")
        .await
        .expect("soft-deleted, not removed");
    assert_eq!(copy["active"], false, "northwind's user left contoso");
    let copy = t
        .scim("northwind")
        .user_named("alice@contoso.com")
        .await
        .expect("soft-deleted");
    assert_eq!(copy["active"], false, "contoso's user left northwind");
    let kept = t
        .scim("fabrikam")
        .user_named("alice@contoso.com")
        .await
        .expect("untouched");
    assert_eq!(kept["active"], true, "pairs between remaining members are untouched");
}

#[tokio::test]
async fn deleting_the_organization_deletes_every_generated_configuration_then_releases_its_finalizer() {
    let t = three_members("org-delete").await;
    t.apply(&organization(&MEMBERS, json!({}))).await;
    org_ready(&t, OrganizationReadyReason::Established).await;
    let org = t.api::<Organization>().get(ORG).await.expect("org");
    assert_eq!(org.metadata.finalizers, Some(vec!["xtsync.io/organization".to_owned()]));
    t.api::<Organization>()
        .delete(ORG, &DeleteParams::default())
        .await
        .expect("delete");
    t.eventually("the Organization and all it generated are gone", || async {
        let configs = t
            .api::<SyncConfiguration>()
            .list(&ListParams::default())
            .await
            .map(|l| l.items.len());
        let org = t.api::<Organization>().get_opt(ORG).await.ok().flatten();
        configs.is_ok_and(|n| n == 0) && org.is_none()
    })
    .await;
}

#[tokio::test]
async fn an_unknown_member_is_tenant_not_found_and_its_pairs_wait_for_it() {
    let t = three_members("org-unknown").await;
    t.apply(&organization(&["contoso", "fabrikam", "tailspin"], json!({})))
        .await;
    let c = org_ready(&t, OrganizationReadyReason::TenantNotFound).await;
    assert!(c.message.contains("'tailspin'"), "{}", c.message);
    t.config_ready(
        &format!("{ORG}-contoso-to-tailspin"),
        "False",
        ReadyReason::TenantNotReady,
    )
    .await;
    t.config_ready(&format!("{ORG}-contoso-to-fabrikam"), "True", ReadyReason::GateOpen)
        .await;
}

#[tokio::test]
async fn an_organization_without_an_owner_is_no_owner_and_generates_nothing() {
    let t = three_members("org-no-owner").await;
    let mut org = organization(&MEMBERS, json!({}));
    org["spec"]["tenants"][0]["role"] = json!("Member");
    t.apply(&org).await;
    org_ready(&t, OrganizationReadyReason::NoOwner).await;
    assert!(generated_pairs(&t).await.is_empty());
    // A hub mode without a hub is named in the message.
    t.apply(&organization(&MEMBERS, json!({ "topology": { "mode": "ToHub" } })))
        .await;
    let c = org_ready(&t, OrganizationReadyReason::InvalidSpec).await;
    assert!(c.message.contains("spec.topology.hub"), "{}", c.message);
    assert!(generated_pairs(&t).await.is_empty());
}

#[tokio::test]
async fn a_pair_already_configured_by_hand_is_a_conflict_and_left_to_it() {
    let t = three_members("org-conflict").await;
    t.apply(&manifests::sync_config(
        "by-hand",
        "contoso",
        "fabrikam",
        json!({ "scope": { "mode": "AllUsers" } }),
    ))
    .await;
    t.apply(&organization(&MEMBERS[..2], json!({}))).await;
    let c = org_ready(&t, OrganizationReadyReason::Conflict).await;
    assert!(c.message.contains("'by-hand'"), "{}", c.message);
    until_pairs(&t, pairs(&[("fabrikam", "contoso")])).await;
    // The hand-written one goes: the pair is the Organization's.
    t.api::<SyncConfiguration>()
        .delete("by-hand", &DeleteParams::default())
        .await
        .expect("delete");
    until_pairs(&t, pairs(&[("contoso", "fabrikam"), ("fabrikam", "contoso")])).await;
    org_ready(&t, OrganizationReadyReason::Established).await;
}

#[tokio::test]
async fn twelve_members_generate_their_132_configurations_and_each_becomes_ready() {
    // README, "Organizations", Limits: what was measured.
    let mut t = TestNs::new("org-twelve").await;
    t.start_controllers(|_| {});
    let names: Vec<String> = (0..12).map(|i| format!("member-{i:02}")).collect();
    let ids: Vec<String> = (0..12).map(|i| format!("00000000-0000-4000-8000-{i:012x}")).collect();
    let specs: Vec<(&str, &str, &str)> = names
        .iter()
        .zip(&ids)
        .map(|(n, id)| (n.as_str(), id.as_str(), "Global"))
        .collect();
    let policies = Manifests::of(names.iter().map(|m| manifests::open_policy(m)));
    t.apply(&manifests::tenants_with(&t, &specs).and(policies)).await;
    let members: Vec<&str> = names.iter().map(String::as_str).collect();
    let started = std::time::Instant::now();
    t.apply(&organization(&members, json!({ "syncTemplate": { "interval": "1h" } })))
        .await;
    org_ready(&t, OrganizationReadyReason::Established).await;
    let established = started.elapsed();
    assert_eq!(generated_pairs(&t).await.len(), 12 * 11);
    let api = t.api::<Organization>();
    t.eventually("every generated configuration is Ready", || async {
        let status = api.get(ORG).await.ok().and_then(|o| o.status).unwrap_or_default();
        status.configurations_ready == Some(132)
    })
    .await;
    println!(
        "12 members: Established after {established:?}, 132 configurations Ready after {:?}",
        started.elapsed()
    );
}
