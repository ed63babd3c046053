//! The Organization controller applying Graph members to Entra's multitenant organization,
//! against the real apiserver and the fake Graph: the organization, joins and templates in
//! the fake, `Applied`, the members' states, and the refusals (no Graph Owner, US Government).

use serde_json::{Value, json};
use xtsync::api::organization::{MemberState, Organization};
use xtsync::api::reasons::OrganizationAppliedReason;

use super::writes;
use crate::fake_graph::FakeGraph;
use crate::manifests::{self, CONTOSO, FABRIKAM, NORTHWIND};
use crate::support::{TestNs, wait_condition};
use xtsync::api::conditions::ConditionReason;

const ORG: &str = "group";

fn organization(members: &[(&str, &str)]) -> Value {
    let tenants: Vec<Value> = members
        .iter()
        .map(|(name, role)| json!({ "tenantRef": { "name": name }, "role": role }))
        .collect();
    json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "Organization",
        "metadata": { "name": ORG },
        "spec": {
            "displayName": "Contoso Group",
            "tenants": tenants,
            "partnerTemplate": {
                "inbound": { "allowUsersSync": true, "automaticallyRedeemInvitations": true },
                "outbound": { "automaticallyRedeemInvitations": true },
                "applyTo": "ExistingPartners",
            },
            "syncTemplate": { "scope": { "mode": "AllUsers" }, "interval": "10m" },
        },
    })
}

async fn start(test: &str, clouds: [&str; 3]) -> (TestNs, FakeGraph) {
    let fake = FakeGraph::start().await;
    for (id, name) in [(CONTOSO, "contoso"), (FABRIKAM, "fabrikam"), (NORTHWIND, "northwind")] {
        fake.add_tenant(id, name, manifests::GRAPH_APP, manifests::GRAPH_SECRET);
    }
    let mut t = TestNs::new(test).await;
    t.start_controllers(|_| {});
    let graph = |name: &str, id: &str, cloud: &str| manifests::graph_tenant(name, id, cloud, Some(&fake.base));
    t.apply(
        &graph("contoso", CONTOSO, clouds[0])
            .and(graph("fabrikam", FABRIKAM, clouds[1]))
            .and(graph("northwind", NORTHWIND, clouds[2])),
    )
    .await;
    (t, fake)
}

async fn applied(t: &TestNs, status: &str, reason: OrganizationAppliedReason) -> String {
    let condition = wait_condition(
        &t.api::<Organization>(),
        ORG,
        OrganizationAppliedReason::TYPE,
        std::time::Duration::from_secs(60),
        |c| c.status == status && c.reason == reason.as_str(),
    )
    .await;
    condition.message
}

#[tokio::test]
async fn an_organization_of_graph_tenants_is_applied_to_entra_and_its_members_become_active() {
    let (t, fake) = start("org-entra", ["Global"; 3]).await;
    t.apply(&organization(&[
        ("contoso", "Owner"),
        ("fabrikam", "Member"),
        ("northwind", "Member"),
    ]))
    .await;
    applied(&t, "True", OrganizationAppliedReason::Applied).await;
    let (org, members) = fake.organization(CONTOSO).expect("contoso created the organization");
    assert_eq!(org["displayName"], "Contoso Group");
    for tenant in [CONTOSO, FABRIKAM, NORTHWIND] {
        assert!(
            members
                .iter()
                .any(|m| m["tenantId"] == tenant && m["state"] == "active"),
            "{tenant} active: {members:?}"
        );
    }
    for tenant in [FABRIKAM, NORTHWIND] {
        assert_eq!(fake.join_request(tenant).expect("joined")["addedByTenantId"], CONTOSO);
    }
    for tenant in [CONTOSO, FABRIKAM, NORTHWIND] {
        let (partner, sync) = fake.templates(tenant);
        assert_eq!(partner["automaticUserConsentSettings"]["inboundAllowed"], true);
        assert_eq!(partner["automaticUserConsentSettings"]["outboundAllowed"], true);
        assert_eq!(partner["templateApplicationLevel"], "newPartners,existingPartners");
        assert_eq!(sync["userSyncInbound"]["isSyncAllowed"], true);
    }
    t.eventually("every member is Active", || async {
        let status = t.api::<Organization>().get(ORG).await.ok().and_then(|o| o.status);
        status.is_some_and(|s| s.tenants.len() == 3 && s.tenants.iter().all(|m| m.state == MemberState::Active))
    })
    .await;

    // A second reconcile (a new generation makes Entra due at once) costs no write.
    fake.clear_log();
    let mut renamed = organization(&[("contoso", "Owner"), ("fabrikam", "Member"), ("northwind", "Member")]);
    renamed["spec"]["suspend"] = json!(true);
    t.apply(&renamed).await;
    t.eventually("the new generation was applied to Entra", || async {
        let org = t.api::<Organization>().get(ORG).await.expect("org");
        let status = org.status.unwrap_or_default();
        status
            .conditions
            .iter()
            .any(|c| c.type_ == OrganizationAppliedReason::TYPE && c.observed_generation == org.metadata.generation)
    })
    .await;
    assert!(!fake.log().is_empty(), "Entra was read");
    assert_eq!(writes(&fake.log()), Vec::<String>::new());
}

#[tokio::test]
async fn without_a_graph_owner_nothing_reaches_entra() {
    let (t, fake) = start("org-entra-no-owner", ["Global"; 3]).await;
    // The Owner is a SCIM tenant: no Graph member can create Entra's organization.
    t.apply(&manifests::tenants_with(
        &t,
        &[("scim", &manifests::tenant_id(1), "Global")],
    ))
    .await;
    t.apply(&organization(&[("scim", "Owner"), ("fabrikam", "Member")]))
        .await;
    let message = applied(&t, "False", OrganizationAppliedReason::NoOwner).await;
    assert!(message.contains("'fabrikam'"), "{message}");
    assert!(fake.organization(CONTOSO).is_none() && fake.organization(FABRIKAM).is_none());
}

#[tokio::test]
async fn a_us_government_member_is_unsupported_and_nothing_is_sent() {
    let (t, fake) = start("org-entra-usgov", ["Global", "USGovernment", "Global"]).await;
    t.apply(&organization(&[("contoso", "Owner"), ("fabrikam", "Member")]))
        .await;
    let message = applied(&t, "False", OrganizationAppliedReason::UnsupportedCloud).await;
    assert!(
        message.contains("'fabrikam'") && message.contains("USGovernment"),
        "{message}"
    );
    let mto =
        |l: &crate::fake_graph::Logged| l.target.contains("multiTenantOrganization") || l.target.contains("templates");
    assert!(!fake.log().iter().any(mto), "no multitenant organization request");
}

#[tokio::test]
async fn in_a_mixed_organization_only_the_graph_members_are_in_entra() {
    let (t, fake) = start("org-entra-mixed", ["Global"; 3]).await;
    let scim_id = manifests::tenant_id(2);
    t.apply(&manifests::tenants_with(&t, &[("scim", &scim_id, "Global")]))
        .await;
    t.apply(&organization(&[
        ("scim", "Owner"),
        ("contoso", "Owner"),
        ("fabrikam", "Member"),
    ]))
    .await;
    applied(&t, "True", OrganizationAppliedReason::Applied).await;
    let (_, members) = fake
        .organization(CONTOSO)
        .expect("contoso, the first Graph Owner, created it");
    let listed: Vec<&str> = members.iter().filter_map(|m| m["tenantId"].as_str()).collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.contains(&CONTOSO) && listed.contains(&FABRIKAM), "{listed:?}");
}
