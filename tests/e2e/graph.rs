//! End-to-end tests of the Microsoft Graph provider: Graph and SCIM tenants mixed freely, the
//! Graph side played by the fake under `tests/fake_graph` (no Entra tenant is reachable), the
//! rest real (kube-apiserver, scim2-server, the controllers).

use std::time::Duration;

use serde_json::{Value, json};
use xtsync::api::conditions::ConditionReason;
use xtsync::api::reasons::{AppliedReason, PolicyReadyReason, ReadyReason, SyncedReason, TenantReadyReason};
use xtsync::api::sync_config::SyncConfigurationStatus;
use xtsync::api::{CrossTenantAccessPolicy, Tenant};

use crate::fake_graph::{FakeGraph, Logged};
use crate::manifests::{self, CONTOSO, FABRIKAM, GRAPH_APP, GRAPH_SECRET, NORTHWIND};
use crate::support::{TestNs, wait_condition, wait_ready};
use crate::sync::{CONFIG, anchor_of, cycle_done, sales_config};

/// The Graph anchor attribute xtsync uses by default.
const ANCHOR: &str = "extensionAttribute15";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// One side of a configuration: a SCIM tenant on scim2-server or a Graph tenant in the fake.
enum Side {
    Scim(crate::support::scim::Scim),
    Graph(FakeGraph, &'static str),
}

impl Side {
    async fn add_user(&self, user_name: &str, department: &str) -> String {
        match self {
            Side::Scim(scim) => {
                scim.add_user(
                    user_name,
                    json!({ ENTERPRISE: { "department": department }, "title": "Engineer" }),
                )
                .await
            }
            Side::Graph(fake, tenant) => fake.add_member(
                tenant,
                user_name,
                json!({ "department": department, "jobTitle": "Engineer" }),
            ),
        }
    }

    async fn set(&self, id: &str, title: Option<&str>, department: Option<&str>) {
        match self {
            Side::Scim(scim) => {
                if let Some(title) = title {
                    scim.replace(id, "title", json!(title)).await;
                }
                if let Some(department) = department {
                    scim.replace(id, &format!("{ENTERPRISE}:department"), json!(department))
                        .await;
                }
            }
            Side::Graph(fake, tenant) => {
                let mut change = json!({});
                if let Some(title) = title {
                    change["jobTitle"] = json!(title);
                }
                if let Some(department) = department {
                    change["department"] = json!(department);
                }
                fake.with_tenant(tenant, |t, _| t.update(id, change));
            }
        }
    }

    /// Target users anchored to contoso: (anchor source id, target id, live and enabled, title).
    async fn provisioned(&self) -> Vec<(String, String, bool, Option<String>)> {
        let prefix = format!("{CONTOSO}/");
        match self {
            Side::Scim(scim) => scim
                .users()
                .await
                .iter()
                .filter_map(|u| {
                    let source = u["externalId"].as_str()?.strip_prefix(&prefix)?.to_owned();
                    Some((
                        source,
                        u["id"].as_str()?.to_owned(),
                        u["active"].as_bool().unwrap_or(true),
                        u["title"].as_str().map(str::to_owned),
                    ))
                })
                .collect(),
            Side::Graph(fake, tenant) => {
                let anchored = |u: &Value, live: bool| {
                    let source = u["onPremisesExtensionAttributes"][ANCHOR]
                        .as_str()?
                        .strip_prefix(&prefix)?
                        .to_owned();
                    Some((
                        source,
                        u["id"].as_str()?.to_owned(),
                        live && u["accountEnabled"].as_bool().unwrap_or(true),
                        u["jobTitle"].as_str().map(str::to_owned),
                    ))
                };
                let mut users: Vec<_> = fake.users(tenant).iter().filter_map(|u| anchored(u, true)).collect();
                users.extend(fake.deleted_users(tenant).iter().filter_map(|u| anchored(u, false)));
                users
            }
        }
    }
}

/// A fake Graph with contoso, fabrikam and northwind as Entra tenants.
async fn fake() -> FakeGraph {
    let fake = FakeGraph::start().await;
    for (id, name) in [(CONTOSO, "contoso"), (FABRIKAM, "fabrikam"), (NORTHWIND, "northwind")] {
        fake.add_tenant(id, name, GRAPH_APP, GRAPH_SECRET);
    }
    fake
}

/// contoso → fabrikam with each tenant on the given provider, policies allowing the sync.
async fn pair(name: &str, source_graph: bool, target_graph: bool) -> (TestNs, FakeGraph, Side, Side) {
    let fake = fake().await;
    let mut t = TestNs::new(name).await;
    t.start_controllers(|_| {});
    let tenant = |name: &str, id: &str, graph: bool| {
        if graph {
            manifests::graph_tenant(name, id, "Global", Some(&fake.base))
        } else {
            manifests::tenants_with(&t, &[(name, id, "Global")])
        }
    };
    let manifests = tenant("contoso", CONTOSO, source_graph)
        .and(tenant("fabrikam", FABRIKAM, target_graph))
        .and(manifests::policies());
    t.apply(&manifests).await;
    let side = |name: &str, id: &'static str, graph: bool| {
        if graph {
            Side::Graph(fake.clone(), id)
        } else {
            Side::Scim(t.scim(name))
        }
    };
    let (source, target) = (
        side("contoso", CONTOSO, source_graph),
        side("fabrikam", FABRIKAM, target_graph),
    );
    (t, fake, source, target)
}

async fn status(t: &TestNs) -> SyncConfigurationStatus {
    t.config(CONFIG).await.status.unwrap_or_default()
}

/// Provision, update, deprovision, restore — the life of synced users, whatever the providers.
/// `deprovision`: extra spec lines (the default action is SoftDelete).
async fn lifecycle(name: &str, source_graph: bool, target_graph: bool, deprovision: Value) {
    let (t, _fake, source, target) = pair(name, source_graph, target_graph).await;
    let alice = source.add_user("alice@contoso.com", "Sales").await;
    let bob = source.add_user("bob@contoso.com", "Sales").await;
    source.add_user("carol@contoso.com", "Ops").await;
    let disables = deprovision["deprovision"]["action"] == "Disable";
    t.apply(&sales_config("10s", deprovision)).await;
    let first = cycle_done(&t, &[SyncedReason::CycleSucceeded])
        .await
        .last_cycle
        .expect("cycle");
    assert_eq!((first.created, first.failed), (2, 0), "{first:?}");
    let mut provisioned = target.provisioned().await;
    provisioned.sort();
    let mut expected = vec![alice.clone(), bob.clone()];
    expected.sort();
    assert_eq!(provisioned.iter().map(|p| p.0.clone()).collect::<Vec<_>>(), expected);
    let bob_target = provisioned.iter().find(|p| p.0 == bob).expect("bob").1.clone();

    // An update and a departure from scope in the source…
    source.set(&alice, Some("Lead"), None).await;
    source.set(&bob, None, Some("Ops")).await;
    t.eventually("alice updated and bob deprovisioned", || async {
        let users = target.provisioned().await;
        users
            .iter()
            .any(|u| u.0 == alice && u.3.as_deref() == Some("Lead") && u.2)
            && users.iter().any(|u| u.0 == bob && !u.2)
    })
    .await;
    if let Side::Graph(fake, tenant) = &target {
        let bob_anchor = json!(anchor_of(&bob));
        let in_deleted_items = fake
            .deleted_users(tenant)
            .iter()
            .any(|u| u["onPremisesExtensionAttributes"][ANCHOR] == bob_anchor);
        // SoftDelete moves the user to deleted items; Disable keeps it, disabled.
        assert_eq!(in_deleted_items, !disables);
    }
    // …and the return to scope brings the same target user back.
    source.set(&bob, None, Some("Sales")).await;
    t.eventually("bob restored", || async {
        target
            .provisioned()
            .await
            .iter()
            .any(|u| u.0 == bob && u.1 == bob_target && u.2)
    })
    .await;
    let users = target.provisioned().await;
    assert_eq!(users.len(), 2, "no duplicates: {users:?}");
    // The status of the restoring cycle is written after its writes.
    t.eventually("usersProvisioned back at 2", || async {
        status(&t).await.users_provisioned == Some(2)
    })
    .await;
}

#[tokio::test]
async fn graph_to_graph_provisions_updates_deprovisions_and_restores() {
    lifecycle("graph-to-graph", true, true, json!({})).await;
}

#[tokio::test]
async fn graph_to_scim_provisions_updates_deprovisions_and_restores() {
    lifecycle("graph-to-scim", true, false, json!({})).await;
}

#[tokio::test]
async fn scim_to_graph_provisions_updates_disables_and_enables_again() {
    // Disable: `accountEnabled: false`, and back to true on return.
    lifecycle(
        "scim-to-graph",
        false,
        true,
        json!({ "deprovision": { "action": "Disable" } }),
    )
    .await;
}

/// Writes to users (the tenants' policies are pushed to Entra too; those are left out).
fn writes(log: &[Logged]) -> Vec<String> {
    all_writes(log)
        .into_iter()
        .filter(|w| !w.contains("/policies/"))
        .collect()
}

fn all_writes(log: &[Logged]) -> Vec<String> {
    log.iter()
        .filter(|l| l.is_write())
        .map(|l| format!("{} {}", l.method, l.target))
        .collect()
}

#[tokio::test]
async fn graph_requests_per_user_are_an_invitation_a_read_and_a_patch_then_one_patch_then_none() {
    let (t, fake, source, _target) = pair("graph-requests", true, true).await;
    // Internal members in scope; a guest and an invited Member (external identities) are not.
    let alice = source.add_user("alice@contoso.com", "Sales").await;
    let bob = source.add_user("bob@contoso.com", "Sales").await;
    fake.with_tenant(CONTOSO, |t, ids| {
        t.add_member(
            ids.next(),
            "gus_other.com#EXT#@contoso.onmicrosoft.com",
            json!({ "department": "Sales", "userType": "Guest", "creationType": "Invitation", "mail": "gus@other.com" }),
        );
        t.add_member(
            ids.next(),
            "mia_other.com#EXT#@contoso.onmicrosoft.com",
            json!({ "department": "Sales", "userType": "Member", "creationType": "Invitation", "mail": "mia@other.com" }),
        );
    });
    t.apply(&sales_config("10s", manifests::nothing())).await;
    let status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    assert_eq!(status.last_cycle.expect("cycle").created, 2);

    // Creation: one invitation and one PATCH per user, sent in JSON batches.
    let log = fake.requests(FABRIKAM);
    let created = writes(&log);
    assert_eq!(
        created
            .iter()
            .filter(|w| w.starts_with("POST /v1.0/invitations"))
            .count(),
        2,
        "{created:#?}"
    );
    assert_eq!(
        created.iter().filter(|w| w.starts_with("PATCH /v1.0/users/")).count(),
        2,
        "{created:#?}"
    );
    assert_eq!(created.len(), 4, "{created:#?}");
    // Each invited user is read before its PATCH: an invitation of an address the tenant
    // knows answers with the existing user, which may not be xtsync's to change (rule 5, docs/architecture.md).
    let invited_reads = log
        .iter()
        .filter(|l| l.method == "GET" && l.in_batch && l.target.starts_with("/v1.0/users/"))
        .count();
    assert_eq!(invited_reads, 2, "{log:#?}");
    assert!(
        log.iter()
            .filter(|l| l.is_write() && !l.target.contains("/policies/"))
            .all(|l| l.in_batch)
    );
    let users = fake.users(FABRIKAM);
    let alice_target = users
        .iter()
        .find(|u| u["onPremisesExtensionAttributes"][ANCHOR] == json!(anchor_of(&alice)))
        .expect("alice anchored in the target");
    assert_eq!(
        alice_target["userPrincipalName"],
        "alice_contoso.com#EXT#@fabrikam.onmicrosoft.com"
    );
    assert_eq!(
        (&alice_target["userType"], &alice_target["creationType"]),
        (&json!("Member"), &json!("Invitation"))
    );
    assert_eq!(alice_target["jobTitle"], "Engineer");
    assert!(
        users
            .iter()
            .all(|u| u["mail"] != "gus@other.com" && u["mail"] != "mia@other.com")
    );

    // An update: one PATCH with only what changed; the unchanged user costs nothing.
    fake.clear_log();
    source.set(&alice, Some("Lead"), None).await;
    t.eventually("an incremental cycle that updated alice", || async {
        status_of(&t).await.is_some_and(|c| c.updated == 1)
    })
    .await;
    let updated = writes(&fake.requests(FABRIKAM));
    assert_eq!(
        updated,
        vec![format!(
            "PATCH /v1.0/users/{}",
            alice_target["id"].as_str().expect("id")
        )]
    );
    assert!(
        fake.requests(FABRIKAM)
            .iter()
            .all(|l| !l.target.starts_with("/v1.0/users?$expand")),
        "no full read of the target"
    );

    // Nothing changed: the next cycle writes nothing.
    fake.clear_log();
    t.eventually("another incremental cycle", || async {
        status_of(&t).await.is_some_and(|c| c.updated == 0 && c.created == 0)
    })
    .await;
    assert_eq!(writes(&fake.requests(FABRIKAM)), Vec::<String>::new());

    // A user deleted in the source comes as `@removed` in the delta: one DELETE in the target.
    let bob_target = fake
        .users(FABRIKAM)
        .iter()
        .find(|u| u["onPremisesExtensionAttributes"][ANCHOR] == json!(anchor_of(&bob)))
        .and_then(|u| u["id"].as_str().map(str::to_owned))
        .expect("bob in the target");
    fake.clear_log();
    fake.with_tenant(CONTOSO, |t, _| t.delete(&bob));
    t.eventually("an incremental cycle that deprovisioned bob", || async {
        status_of(&t).await.is_some_and(|c| c.deprovisioned == 1)
    })
    .await;
    assert_eq!(
        writes(&fake.requests(FABRIKAM)),
        vec![format!("DELETE /v1.0/users/{bob_target}")]
    );
    assert!(
        fake.deleted_users(FABRIKAM)
            .iter()
            .any(|u| u["id"] == json!(bob_target))
    );
}

async fn status_of(t: &TestNs) -> Option<xtsync::api::sync_config::CycleSummary> {
    t.config(CONFIG)
        .await
        .status
        .and_then(|s| s.last_cycle)
        .filter(|c| c.cycle_type == xtsync::api::sync_config::CycleType::Incremental)
}

#[tokio::test]
async fn a_throttling_storm_is_survived_without_duplicate_users() {
    let (t, fake, source, target) = pair("graph-storm", true, true).await;
    let mut ids = Vec::new();
    for i in 0..45 {
        ids.push(source.add_user(&format!("u{i:02}@contoso.com"), "Sales").await);
    }
    // Every third Graph request, inner batch requests included, answers 429 Retry-After: 1.
    fake.storm(3, 1);
    t.apply(&sales_config("10s", manifests::nothing())).await;
    t.eventually("every user provisioned through the storm", || async {
        target.provisioned().await.len() >= ids.len()
    })
    .await;
    fake.clear_faults();
    let provisioned = target.provisioned().await;
    let mut anchors: Vec<&String> = provisioned.iter().map(|p| &p.0).collect();
    anchors.sort();
    anchors.dedup();
    assert_eq!(
        (provisioned.len(), anchors.len()),
        (ids.len(), ids.len()),
        "one target user per source user"
    );
    assert_eq!(fake.users(FABRIKAM).len(), ids.len(), "no unanchored leftovers either");
    assert!(
        fake.throttled() >= 10,
        "the storm throttled {} requests",
        fake.throttled()
    );
}

#[tokio::test]
async fn graph_tenants_are_ready_only_with_working_credentials_for_their_own_tenant() {
    let fake = fake().await;
    let mut t = TestNs::new("graph-tenant").await;
    t.start_controllers(|_| {});
    t.apply(&manifests::graph_tenant("contoso", CONTOSO, "Global", Some(&fake.base)))
        .await;
    wait_ready(&t.api::<Tenant>(), "contoso", "True", TenantReadyReason::Connected).await;
    let caps = t
        .api::<Tenant>()
        .get("contoso")
        .await
        .expect("tenant")
        .status
        .expect("status")
        .capabilities
        .expect("caps");
    assert!(caps.change_tracking && caps.bulk && !caps.etag);

    // A wrong secret: the token endpoint's AADSTS error is the message.
    let wrong =
        manifests::graph_tenant("wrong", FABRIKAM, "Global", Some(&fake.base)).with("Secret", "wrong-graph", |s| {
            s["stringData"]["client-secret"] = json!("nope")
        });
    t.apply(&wrong).await;
    let c = wait_ready(
        &t.api::<Tenant>(),
        "wrong",
        "False",
        TenantReadyReason::AuthenticationFailed,
    )
    .await;
    assert!(c.message.contains("AADSTS7000215"), "{}", c.message);
    assert!(!c.message.contains("nope"), "the secret never shows");

    // Credentials that work, for an organization that is not spec.tenantId.
    fake.with_tenant(NORTHWIND, |t, _| t.id = "00000000-0000-4000-8000-0000000000aa".into());
    t.apply(&manifests::graph_tenant(
        "northwind",
        NORTHWIND,
        "Global",
        Some(&fake.base),
    ))
    .await;
    let c = wait_ready(
        &t.api::<Tenant>(),
        "northwind",
        "False",
        TenantReadyReason::TenantIdMismatch,
    )
    .await;
    assert!(
        c.message.contains("00000000-0000-4000-8000-0000000000aa"),
        "{}",
        c.message
    );
}

#[tokio::test]
async fn us_government_tenants_use_the_us_endpoints_and_never_pair_with_global_ones() {
    let fake = fake().await;
    let mut t = TestNs::new("graph-usgov").await;
    t.start_controllers(|_| {});
    // No endpoints given: the .us authority is the one tried (unreachable from here).
    t.apply(&manifests::graph_tenant("gov", NORTHWIND, "USGovernment", None))
        .await;
    let c = wait_ready(&t.api::<Tenant>(), "gov", "False", TenantReadyReason::Unreachable).await;
    assert!(
        c.message.contains(&format!(
            "https://login.microsoftonline.us/{NORTHWIND}/oauth2/v2.0/token"
        )),
        "{}",
        c.message
    );
    // A Global and a USGovernment tenant, both Ready: the pair is refused.
    let manifests = manifests::graph_tenant("contoso", CONTOSO, "Global", Some(&fake.base))
        .and(manifests::graph_tenant(
            "fabrikam",
            FABRIKAM,
            "USGovernment",
            Some(&fake.base),
        ))
        .and(manifests::policies())
        .and(sales_config("10m", manifests::nothing()));
    t.apply(&manifests).await;
    wait_ready(&t.api::<Tenant>(), "fabrikam", "True", TenantReadyReason::Connected).await;
    t.config_ready(CONFIG, "False", ReadyReason::CrossCloudNotSupported)
        .await;
    assert_eq!(writes(&fake.requests(FABRIKAM)), Vec::<String>::new());
}

#[tokio::test]
async fn a_policy_of_a_graph_tenant_is_applied_and_then_costs_no_write() {
    let fake = fake().await;
    // A partner configured in Entra by someone else: left alone, and reported.
    let other = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
    fake.with_tenant(FABRIKAM, |t, _| {
        t.policies.partners.insert(other.into(), json!({ "tenantId": other, "automaticUserConsentSettings": { "inboundAllowed": true, "outboundAllowed": false } }));
    });
    let mut t = TestNs::new("graph-policy").await;
    t.start_controllers(|s| s.gate_recheck = Duration::from_secs(1));
    let manifests = manifests::graph_tenant("fabrikam", FABRIKAM, "Global", Some(&fake.base))
        .and(manifests::target_policy(true, true))
        .with("CrossTenantAccessPolicy", "fabrikam", |p| {
            p["spec"]["default"] =
                json!({ "inbound": { "b2bCollaboration": { "allowed": true, "users": { "include": [CONTOSO] } } } });
            p["spec"]["partners"][0]["outbound"] = json!({ "automaticallyRedeemInvitations": true });
        });
    t.apply(&manifests).await;
    let api = t.api::<CrossTenantAccessPolicy>();
    let applied = wait_condition(&api, "fabrikam", AppliedReason::TYPE, Duration::from_secs(30), |c| {
        c.status == "True"
    })
    .await;
    assert_eq!(applied.reason, AppliedReason::Applied.as_str());
    let (partner, sync, default) = fake.with_tenant(FABRIKAM, |t, _| {
        (
            t.policies.partners.get(CONTOSO).cloned().expect("partner created"),
            t.policies
                .identity_sync
                .get(CONTOSO)
                .cloned()
                .expect("identity sync created"),
            t.policies.default.clone(),
        )
    });
    assert_eq!(
        partner["automaticUserConsentSettings"],
        json!({ "inboundAllowed": true, "outboundAllowed": true })
    );
    assert_eq!(sync["userSyncInbound"]["isSyncAllowed"], true);
    assert_eq!(
        default["b2bCollaborationInbound"]["usersAndGroups"],
        json!({ "accessType": "allowed", "targets": [{ "target": CONTOSO, "targetType": "user" }] })
    );
    let status = api.get("fabrikam").await.expect("policy").status.expect("status");
    assert_eq!(status.unmanaged_partners, vec![other.to_owned()]);
    assert_eq!(
        fake.with_tenant(FABRIKAM, |t, _| {
            t.policies.partners[other]["automaticUserConsentSettings"]["inboundAllowed"].clone()
        }),
        true,
        "an unlisted partner is not touched"
    );

    // Reconciles that find Entra in line read, and write nothing.
    fake.clear_log();
    t.eventually("two more reconciles of the policy", || async {
        fake.requests(FABRIKAM)
            .iter()
            .filter(|l| {
                l.method == "GET" && l.target.contains("/partners/") && l.target.ends_with("identitySynchronization")
            })
            .count()
            >= 2
    })
    .await;
    assert_eq!(all_writes(&fake.requests(FABRIKAM)), Vec::<String>::new());
    let still = api.get("fabrikam").await.expect("policy").status.expect("status");
    let applied = still
        .conditions
        .iter()
        .find(|c| c.type_ == AppliedReason::TYPE)
        .expect("an Applied condition");
    assert_eq!(
        (applied.status.as_str(), applied.reason.as_str()),
        ("True", AppliedReason::Applied.as_str())
    );
}

#[tokio::test]
async fn a_policy_that_entra_refuses_is_not_applied_with_the_reason() {
    let fake = fake().await;
    fake.add_fault(crate::fake_graph::Fault {
        method: "POST",
        path_contains: "/policies/crossTenantAccessPolicy/partners".into(),
        status: 403,
        retry_after: None,
        times: u32::MAX,
        pass_first: 0,
    });
    let mut t = TestNs::new("graph-policy-refused").await;
    t.start_controllers(|_| {});
    let manifests = manifests::graph_tenant("fabrikam", FABRIKAM, "Global", Some(&fake.base))
        .and(manifests::target_policy(true, true));
    t.apply(&manifests).await;
    let api = t.api::<CrossTenantAccessPolicy>();
    let c = wait_condition(&api, "fabrikam", AppliedReason::TYPE, Duration::from_secs(30), |c| {
        c.status == "False" && c.reason != AppliedReason::TenantNotReady.as_str()
    })
    .await;
    assert_eq!(c.reason, AppliedReason::Forbidden.as_str(), "{}", c.message);
    assert!(
        c.message.contains("Policy.ReadWrite.CrossTenantAccess"),
        "{}",
        c.message
    );
    // The policy itself is still valid.
    wait_ready(&api, "fabrikam", "True", PolicyReadyReason::Effective).await;
}

#[tokio::test]
async fn graph_groups_assign_users_and_managers_point_at_provisioned_users() {
    let (t, fake, source, _target) = pair("graph-groups", true, true).await;
    let boss = source.add_user("boss@contoso.com", "Ops").await;
    let alice = source.add_user("alice@contoso.com", "Ops").await;
    source.add_user("bob@contoso.com", "Ops").await;
    source.add_user("carol@contoso.com", "Ops").await;
    fake.with_tenant(CONTOSO, |t, ids| {
        t.add_group(ids.next(), "Sales Team", &[boss.clone(), alice.clone()]);
        t.managers.insert(alice.clone(), boss.clone());
    });
    let scope = json!({
        "interval": "10m",
        "scope": { "mode": "AssignedUsersAndGroups", "users": ["bob@contoso.com"], "groups": ["Sales Team"] },
        "attributeMappings": [{ "target": "manager", "source": "manager" }],
    });
    t.apply(&manifests::sync_config(CONFIG, "contoso", "fabrikam", scope))
        .await;
    let first = cycle_done(&t, &[SyncedReason::CycleSucceeded])
        .await
        .last_cycle
        .expect("cycle");
    assert_eq!(first.created, 3, "boss and alice (group), bob (assigned); not carol");
    let mut names: Vec<String> = fake
        .users(FABRIKAM)
        .iter()
        .filter_map(|u| u["mail"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(names, ["alice@contoso.com", "bob@contoso.com", "boss@contoso.com"]);

    // Created in the same cycle, the manager had no target id yet; the next full cycle sets it
    // to the boss's *target* user.
    let target_of = |source_id: &str| {
        fake.users(FABRIKAM)
            .iter()
            .find(|u| u["onPremisesExtensionAttributes"][ANCHOR] == json!(anchor_of(source_id)))
            .and_then(|u| u["id"].as_str().map(str::to_owned))
            .expect("provisioned")
    };
    let (alice_target, boss_target) = (target_of(&alice), target_of(&boss));
    t.kubectl(&["annotate", "syncconfig", CONFIG, "xtsync.io/restart=1"])
        .await;
    t.eventually("alice's manager set in the target", || async {
        fake.with_tenant(FABRIKAM, |t, _| t.managers.get(&alice_target).cloned()) == Some(boss_target.clone())
    })
    .await;
}

#[tokio::test]
async fn scope_follows_group_membership_of_a_graph_source_in_incremental_cycles() {
    // A change of a group's members is no change of the users: the users delta names neither
    // who joined nor who left.
    let (t, fake, source, target) = pair("graph-scope-follows", true, true).await;
    let alice = source.add_user("alice@contoso.com", "Ops").await;
    let bob = source.add_user("bob@contoso.com", "Ops").await;
    let sales = fake.add_group(CONTOSO, "Sales Team", std::slice::from_ref(&alice));
    let scope = json!({
        "interval": "10s",
        "scope": { "mode": "AssignedUsersAndGroups", "groups": ["Sales Team"] },
    });
    t.apply(&manifests::sync_config(CONFIG, "contoso", "fabrikam", scope))
        .await;
    let mut status = cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    let active = || async {
        let mut ids: Vec<String> = target
            .provisioned()
            .await
            .into_iter()
            .filter(|u| u.2)
            .map(|u| u.0)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(active().await, std::slice::from_ref(&alice));
    let mut both = vec![alice.clone(), bob.clone()];
    both.sort();
    for (joins, counters, expected) in [(true, (1, 0), both), (false, (0, 1), vec![alice.clone()])] {
        fake.change_group(CONTOSO, &sales, |_, members| {
            if joins {
                members.push(bob.clone());
            } else {
                members.retain(|m| *m != bob);
            }
        });
        status = crate::groups::next_incremental(&t, &crate::groups::completed(&status)).await;
        let last = status.last_cycle.clone().expect("last cycle");
        assert_eq!((last.created, last.deprovisioned), counters, "{last:?}");
        assert_eq!(active().await, expected);
    }
}

#[tokio::test]
async fn a_graph_source_failing_mid_read_deprovisions_nothing() {
    let (t, fake, source, target) = pair("graph-partial-read", true, true).await;
    // More than one page of the users delta (the fake pages by 100).
    for i in 0..130 {
        source.add_user(&format!("u{i:03}@contoso.com"), "Sales").await;
    }
    t.apply(&sales_config("10m", manifests::nothing())).await;
    let first = cycle_done(&t, &[SyncedReason::CycleSucceeded])
        .await
        .last_cycle
        .expect("cycle");
    assert_eq!(first.created, 130);

    // Every page after the first fails from now on; a restart asks for a full read.
    fake.add_fault(crate::fake_graph::Fault {
        method: "GET",
        path_contains: "&$skiptoken=".into(),
        status: 500,
        retry_after: None,
        times: u32::MAX,
        pass_first: 0,
    });
    t.kubectl(&["annotate", "syncconfig", CONFIG, "xtsync.io/restart=1"])
        .await;
    let api = t.api::<xtsync::api::SyncConfiguration>();
    wait_condition(&api, CONFIG, SyncedReason::TYPE, Duration::from_secs(30), |c| {
        c.reason == SyncedReason::SourceReadFailed.as_str()
    })
    .await;
    let users = target.provisioned().await;
    assert_eq!(
        users.iter().filter(|u| u.2).count(),
        130,
        "every target user still there and enabled"
    );
    assert!(
        writes(&fake.requests(FABRIKAM))
            .iter()
            .all(|w| !w.starts_with("DELETE"))
    );
}

#[tokio::test]
async fn graph_tokens_are_cached_and_renewed_when_graph_refuses_them() {
    use std::sync::Arc;
    use xtsync::providers::msgraph::TokenCache;
    let fake = fake().await;
    let client = fake.client(CONTOSO, GRAPH_APP, GRAPH_SECRET, Arc::new(TokenCache::default()));
    let organization = client.endpoints.v1("/organization");
    for _ in 0..3 {
        client
            .send(reqwest::Method::GET, &organization, None, false)
            .await
            .expect("organization");
    }
    assert_eq!(fake.tokens_issued(), 1, "one token for every request while it is valid");
    fake.revoke_tokens();
    let answer = client
        .send(reqwest::Method::GET, &organization, None, false)
        .await
        .expect("a refused token is renewed once");
    assert_eq!(answer["value"][0]["id"], CONTOSO);
    assert_eq!(fake.tokens_issued(), 2);
    // A link outside the tenant's Graph endpoint never gets the token.
    let elsewhere = client
        .send(reqwest::Method::GET, "http://127.0.0.1:9/v1.0/users", None, false)
        .await;
    assert!(matches!(
        elsewhere,
        Err(xtsync::providers::DirectoryError::InvalidResponse(_))
    ));
}

#[tokio::test]
async fn plan_predicts_a_graph_to_graph_cycle_and_sends_graph_no_write() {
    let (t, fake, source, _target) = pair("graph-plan", true, true).await;
    source.add_user("alice@contoso.com", "Sales").await;
    source.add_user("bob@contoso.com", "Sales").await;
    source.add_user("carol@contoso.com", "Ops").await;
    let tenants = manifests::graph_tenant("contoso", CONTOSO, "Global", Some(&fake.base))
        .and(manifests::graph_tenant(
            "fabrikam",
            FABRIKAM,
            "Global",
            Some(&fake.base),
        ))
        .and(manifests::policies())
        .and(sales_config("10m", manifests::nothing()));
    let writes_before = writes(&fake.requests(FABRIKAM)).len();
    let (code, planned) = crate::plan::plan(&t, &tenants).await;
    assert_eq!(code, 2, "{planned:#}");
    assert_eq!(
        crate::plan::actions(&planned),
        [
            ("Create".to_owned(), "alice@contoso.com".to_owned()),
            ("Create".to_owned(), "bob@contoso.com".to_owned()),
        ]
    );
    assert_eq!(
        writes(&fake.requests(FABRIKAM)).len(),
        writes_before,
        "plan sent Graph no write"
    );

    t.apply(&sales_config("10m", manifests::nothing())).await;
    let cycle = cycle_done(&t, &[SyncedReason::CycleSucceeded])
        .await
        .last_cycle
        .expect("cycle");
    let summary = &planned["configurations"][0]["summary"];
    assert_eq!(
        (summary["created"].as_u64(), summary["unchanged"].as_u64()),
        (Some(u64::from(cycle.created)), Some(u64::from(cycle.unchanged)))
    );
}

/// Graph to Graph, three Sales users, and the first `times` invitations answered `status`;
/// the configuration is applied.
async fn three_invitations_failing(name: &str, status: u16, times: u32) -> (TestNs, FakeGraph, Side) {
    let (t, fake, source, target) = pair(name, true, true).await;
    for name in ["alice", "bob", "carol"] {
        source.add_user(&format!("{name}@contoso.com"), "Sales").await;
    }
    fake.add_fault(crate::fake_graph::Fault {
        method: "POST",
        path_contains: "/invitations".into(),
        status,
        retry_after: None,
        times,
        pass_first: 0,
    });
    t.apply(&sales_config("10m", manifests::nothing())).await;
    (t, fake, target)
}

#[tokio::test]
async fn invitations_answered_500_are_looked_up_by_anchor_and_sent_again_without_a_duplicate() {
    let (t, _fake, target) = three_invitations_failing("graph-server-error", 500, 2).await;
    let cycle = cycle_done(&t, &[SyncedReason::CycleSucceeded])
        .await
        .last_cycle
        .expect("cycle");
    assert_eq!((cycle.created, cycle.failed), (3, 0), "{cycle:?}");
    let mut anchors: Vec<String> = target.provisioned().await.into_iter().map(|u| u.0).collect();
    anchors.sort();
    anchors.dedup();
    assert_eq!(anchors.len(), 3, "{anchors:?}");
    assert_eq!(target.provisioned().await.len(), 3, "no duplicates");
}

#[tokio::test]
async fn provisioning_records_match_the_writes_one_for_one_when_a_batch_partly_fails() {
    // One of the three invitations in the batch is refused; the other two go through.
    let (t, fake, _target) = three_invitations_failing("graph-records", 400, 1).await;
    let cycle = cycle_done(&t, &[SyncedReason::PartiallySynced])
        .await
        .last_cycle
        .expect("cycle");
    assert_eq!((cycle.created, cycle.failed), (2, 1), "{cycle:?}");
    let records = crate::support::provisioning_log::of(&format!("{}/{CONFIG}", t.name));
    let results: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["action"].as_str(), r["result"].as_str()))
        .collect();
    assert_eq!(results.len(), 3, "one record per write: {records:#?}");
    assert_eq!(
        results.iter().filter(|r| **r == ("Create", "Success")).count(),
        2,
        "{records:#?}"
    );
    assert_eq!(
        results.iter().filter(|r| **r == ("Create", "Failure")).count(),
        1,
        "{records:#?}"
    );
    // Each successful record names a user the target now has, and only those were patched.
    let mut recorded: Vec<String> = records
        .iter()
        .filter(|r| r["result"] == "Success")
        .map(|r| format!("PATCH /v1.0/users/{}", r["targetId"]))
        .collect();
    recorded.sort();
    let mut patched: Vec<String> = writes(&fake.requests(FABRIKAM))
        .into_iter()
        .filter(|w| w.starts_with("PATCH /v1.0/users/"))
        .map(|w| w.split('?').next().unwrap_or_default().to_owned())
        .collect();
    patched.sort();
    assert_eq!(recorded, patched);
    let failed = records.iter().find(|r| r["result"] == "Failure").expect("a failure");
    assert!(
        !failed["reason"].is_empty() && !failed["message"].is_empty(),
        "{failed:?}"
    );
}
