//! Entra's multitenant organization applied through `providers::msgraph::multitenant_org`
//! against the fake Graph, shaped as Microsoft Learn documents `tenantRelationships/
//! multiTenantOrganization`, its `tenants`, each tenant's `joinRequest` and the two templates
//! under `policies/crossTenantAccessPolicy/templates`: created from nothing, a second push
//! costing no write, tenants joining and leaving, the templates as `applyTo` maps them, the
//! states Entra reports, and nothing sent outside the global service.

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use xtsync::providers::msgraph::multitenant_org::{
    self, ApplyError, EntraApplyTo, EntraCloud, EntraMemberState, EntraPartnerTemplate, IdentitySyncTemplate,
    Organization, Participant, Role, Templates,
};
use xtsync::providers::msgraph::{GraphClient, TokenCache};

use crate::fake_graph::{FakeGraph, Logged};
use crate::manifests::{CONTOSO, FABRIKAM, GRAPH_APP, GRAPH_SECRET, NORTHWIND};

mod conformance;
mod controller;
mod templates;

/// A fourth tenant, to own an organization of its own.
const LITWARE: &str = "5036a0a0-a7a4-4933-9086-5dd54535dd6e";

struct Org {
    fake: FakeGraph,
    clients: Vec<(&'static str, GraphClient)>,
}

impl Org {
    async fn start() -> Org {
        let fake = FakeGraph::start().await;
        let tokens = Arc::new(TokenCache::default());
        let mut clients = Vec::new();
        for (id, name) in [
            (CONTOSO, "contoso"),
            (FABRIKAM, "fabrikam"),
            (NORTHWIND, "northwind"),
            (LITWARE, "litware"),
        ] {
            fake.add_tenant(id, name, GRAPH_APP, GRAPH_SECRET);
            clients.push((id, fake.client(id, GRAPH_APP, GRAPH_SECRET, tokens.clone())));
        }
        Org { fake, clients }
    }

    fn client(&self, tenant: &str) -> &GraphClient {
        &self
            .clients
            .iter()
            .find(|(id, _)| *id == tenant)
            .expect("a tenant of the fake")
            .1
    }

    fn tenant(&self, tenant: &str, role: Role) -> Participant<'_> {
        self.in_cloud(tenant, role, EntraCloud::Global)
    }

    fn in_cloud(&self, tenant: &str, role: Role, cloud: EntraCloud) -> Participant<'_> {
        Participant {
            tenant_id: tenant.to_owned(),
            display_name: format!("tenant {}", &tenant[..8]),
            role,
            cloud,
            client: self.client(tenant),
        }
    }

    /// Applies contoso's organization with these members.
    async fn apply(&self, members: &[(&str, Role)], templates: &Templates) -> multitenant_org::EntraApplied {
        let members: Vec<Participant<'_>> = members.iter().map(|(t, r)| self.tenant(t, *r)).collect();
        multitenant_org::apply(&group(), &self.tenant(CONTOSO, Role::Owner), &members, templates)
            .await
            .expect("applied")
    }

    fn writes(&self) -> Vec<String> {
        writes(&self.fake.log())
    }
}

fn group() -> Organization {
    Organization {
        display_name: "Contoso Group".into(),
        description: None,
    }
}

fn writes(log: &[Logged]) -> Vec<String> {
    log.iter()
        .filter(|l| l.is_write())
        .map(|l| format!("{} {}", l.method, l.target))
        .collect()
}

fn state_of(applied: &[multitenant_org::Reported], tenant: &str) -> EntraMemberState {
    applied
        .iter()
        .find(|r| r.tenant_id == tenant)
        .map(|r| r.state.clone())
        .expect("reported")
}

/// The templates an Organization's `partnerTemplate` maps to, for `apply_to`.
fn mapped_templates(apply_to: EntraApplyTo) -> Templates {
    Templates {
        partner: Some(EntraPartnerTemplate {
            inbound_trust: None,
            redeem_inbound: Some(true),
            redeem_outbound: Some(true),
            b2b_collaboration_inbound: None,
            b2b_collaboration_outbound: None,
            apply_to,
        }),
        identity_sync: Some(IdentitySyncTemplate {
            allow_users_sync: Some(true),
            apply_to,
        }),
    }
}

#[tokio::test]
async fn an_organization_is_created_from_nothing_and_its_members_join() {
    let org = Org::start().await;
    // The owner listed among the members changes nothing: it neither is added nor joins.
    let applied = org
        .apply(
            &[
                (CONTOSO, Role::Owner),
                (FABRIKAM, Role::Member),
                (NORTHWIND, Role::Owner),
            ],
            &Templates::default(),
        )
        .await;

    let (organization, members) = org.fake.organization(CONTOSO).expect("contoso is in an organization");
    assert_eq!(organization["displayName"], "Contoso Group");
    let member = |tenant: &str| members.iter().find(|m| m["tenantId"] == tenant).cloned();
    for (tenant, role) in [(CONTOSO, "owner"), (FABRIKAM, "member"), (NORTHWIND, "owner")] {
        let member = member(tenant).expect("listed");
        assert_eq!(
            (member["role"].as_str(), member["state"].as_str()),
            (Some(role), Some("active"))
        );
    }
    for tenant in [FABRIKAM, NORTHWIND] {
        let request = org.fake.join_request(tenant).expect("a join request");
        assert_eq!(request["addedByTenantId"], CONTOSO);
        assert_eq!(request["memberState"], "active");
    }
    // PUT the organization, POST two tenants, one PATCH of each member's join request.
    assert_eq!(applied.writes, 5, "{:#?}", org.writes());
    let writes = org.writes();
    assert_eq!(writes[0], "PUT /v1.0/tenantRelationships/multiTenantOrganization");
    assert_eq!(
        applied
            .tenants
            .iter()
            .map(|t| (t.tenant_id.as_str(), t.state.clone()))
            .collect::<Vec<_>>(),
        [
            (CONTOSO, EntraMemberState::Active),
            (FABRIKAM, EntraMemberState::Active),
            (NORTHWIND, EntraMemberState::Active)
        ]
    );
    assert_eq!(applied.tenants[2].role, Some(Role::Owner));
}

#[tokio::test]
async fn an_organization_already_in_place_costs_no_write() {
    let org = Org::start().await;
    let members = [(FABRIKAM, Role::Member), (NORTHWIND, Role::Member)];
    let wanted = mapped_templates(EntraApplyTo::ExistingPartners);
    org.apply(&members, &wanted).await;
    org.fake.clear_log();

    let again = org.apply(&members, &wanted).await;
    assert_eq!(again.writes, 0);
    assert_eq!(org.writes(), Vec::<String>::new());
    assert!(
        again.tenants.iter().all(|t| t.state == EntraMemberState::Active),
        "{again:#?}"
    );
}

#[tokio::test]
async fn a_renamed_organization_and_a_changed_role_are_one_write_each() {
    let org = Org::start().await;
    org.apply(&[(FABRIKAM, Role::Member)], &Templates::default()).await;
    org.fake.clear_log();

    let renamed = Organization {
        display_name: "Contoso Holding".into(),
        description: Some("every Contoso tenant".into()),
    };
    let members = [org.tenant(FABRIKAM, Role::Owner)];
    let applied = multitenant_org::apply(
        &renamed,
        &org.tenant(CONTOSO, Role::Owner),
        &members,
        &Templates::default(),
    )
    .await
    .expect("applied");
    assert_eq!(
        org.writes(),
        [
            "PATCH /v1.0/tenantRelationships/multiTenantOrganization".to_owned(),
            format!("PATCH /v1.0/tenantRelationships/multiTenantOrganization/tenants/{FABRIKAM}"),
        ]
    );
    assert_eq!(applied.writes, 2);
    let (organization, members) = org.fake.organization(CONTOSO).expect("organization");
    assert_eq!(organization["displayName"], "Contoso Holding");
    assert_eq!(organization["description"], "every Contoso tenant");
    assert!(
        members
            .iter()
            .any(|m| m["tenantId"] == FABRIKAM && m["role"] == "owner")
    );
}

#[tokio::test]
async fn a_tenant_added_joins_and_a_tenant_left_out_is_removed() {
    let org = Org::start().await;
    org.apply(&[(FABRIKAM, Role::Member)], &Templates::default()).await;
    org.fake.clear_log();

    let applied = org.apply(&[(NORTHWIND, Role::Member)], &Templates::default()).await;
    assert_eq!(applied.removed, [FABRIKAM]);
    let (_, members) = org.fake.organization(CONTOSO).expect("organization");
    let listed: BTreeSet<&str> = members.iter().filter_map(|m| m["tenantId"].as_str()).collect();
    assert_eq!(listed, BTreeSet::from([CONTOSO, NORTHWIND]));
    assert!(org.writes().contains(&format!(
        "DELETE /v1.0/tenantRelationships/multiTenantOrganization/tenants/{FABRIKAM}"
    )));
    assert_eq!(state_of(&applied.tenants, NORTHWIND), EntraMemberState::Active);
    assert_eq!(state_of(&applied.tenants, FABRIKAM), EntraMemberState::NotListed);
    // The tenant that left can join another organization: its join request was reset.
    let request = org.fake.join_request(FABRIKAM).expect("join request");
    assert_eq!(request["addedByTenantId"], "00000000-0000-0000-0000-000000000000");
}

#[tokio::test]
async fn a_join_under_way_reads_back_pending_then_active() {
    let org = Org::start().await;
    org.fake.hold_joins(true);
    let applied = org.apply(&[(FABRIKAM, Role::Member)], &Templates::default()).await;
    assert_eq!(state_of(&applied.tenants, FABRIKAM), EntraMemberState::Pending);

    let members = [org.tenant(FABRIKAM, Role::Member)];
    let owner = org.tenant(CONTOSO, Role::Owner);
    let read = multitenant_org::read(&owner, &members).await.expect("read");
    let fabrikam = read.iter().find(|r| r.tenant_id == FABRIKAM).expect("fabrikam");
    assert_eq!(fabrikam.state, EntraMemberState::Pending);
    let transition = fabrikam.transition.as_ref().expect("the join under way");
    assert_eq!(
        (transition.desired_state.as_deref(), transition.status.as_deref()),
        (Some("active"), Some("notStarted"))
    );
    // A join under way is left to run: no write.
    org.fake.clear_log();
    let again = org.apply(&[(FABRIKAM, Role::Member)], &Templates::default()).await;
    assert_eq!((again.writes, org.writes().len()), (0, 0));

    org.fake.complete_joins();
    let read = multitenant_org::read(&owner, &members).await.expect("read");
    let fabrikam = read.iter().find(|r| r.tenant_id == FABRIKAM).expect("fabrikam");
    assert_eq!(
        (fabrikam.state.clone(), fabrikam.transition.clone()),
        (EntraMemberState::Active, None)
    );
}

#[tokio::test]
async fn a_failed_join_is_reset_and_sent_again() {
    let org = Org::start().await;
    // Fabrikam asks to join before contoso lists it: Entra fails the request.
    let join_request = org
        .client(FABRIKAM)
        .endpoints
        .v1("/tenantRelationships/multiTenantOrganization/joinRequest");
    org.client(FABRIKAM)
        .send(
            Method::PATCH,
            &join_request,
            Some(&json!({ "addedByTenantId": CONTOSO })),
            false,
        )
        .await
        .expect("204");
    let failed = org.fake.join_request(FABRIKAM).expect("request");
    assert_eq!(failed["transitionDetails"]["status"], "failed");
    org.fake.clear_log();

    let applied = org.apply(&[(FABRIKAM, Role::Member)], &Templates::default()).await;
    let joins: Vec<Value> = org
        .fake
        .requests(FABRIKAM)
        .iter()
        .filter(|l| l.is_write())
        .map(|l| json!(l.target))
        .collect();
    assert_eq!(joins.len(), 2, "a reset, then the request again: {joins:?}");
    assert_eq!(state_of(&applied.tenants, FABRIKAM), EntraMemberState::Active);
}

#[tokio::test]
async fn a_tenant_active_in_another_organization_is_reported_and_not_moved() {
    let org = Org::start().await;
    // Litware's organization, which northwind joined.
    let members = [org.tenant(NORTHWIND, Role::Member)];
    let theirs = Organization {
        display_name: "Litware".into(),
        description: None,
    };
    multitenant_org::apply(
        &theirs,
        &org.tenant(LITWARE, Role::Owner),
        &members,
        &Templates::default(),
    )
    .await
    .expect("litware's organization");
    org.fake.clear_log();

    let applied = org.apply(&[(NORTHWIND, Role::Member)], &Templates::default()).await;
    let northwind = applied
        .tenants
        .iter()
        .find(|t| t.tenant_id == NORTHWIND)
        .expect("northwind");
    assert_eq!(northwind.member_elsewhere.as_deref(), Some(LITWARE));
    assert_eq!(northwind.state, EntraMemberState::Pending);
    assert!(
        org.fake.requests(NORTHWIND).iter().all(|l| !l.is_write()),
        "northwind's request is left alone"
    );
}

#[tokio::test]
async fn outside_the_global_service_nothing_is_sent() {
    let org = Org::start().await;
    let members = [org.in_cloud(FABRIKAM, Role::Member, EntraCloud::USGovernment)];
    let owner = org.tenant(CONTOSO, Role::Owner);
    let refused = multitenant_org::apply(&group(), &owner, &members, &Templates::default()).await;
    match refused {
        Err(ApplyError::UnsupportedCloud { tenant_id, cloud }) => {
            assert_eq!((tenant_id.as_str(), cloud), (FABRIKAM, EntraCloud::USGovernment));
        }
        other => panic!("expected UnsupportedCloud, got {other:?}"),
    }
    let refused = multitenant_org::read(&owner, &members).await;
    assert!(matches!(refused, Err(ApplyError::UnsupportedCloud { .. })));
    assert!(org.fake.log().is_empty(), "{:?}", org.fake.log());
}

#[tokio::test]
async fn an_owner_that_is_a_member_of_another_organization_writes_nothing() {
    let org = Org::start().await;
    let theirs = Organization {
        display_name: "Litware".into(),
        description: None,
    };
    let members = [org.tenant(NORTHWIND, Role::Member)];
    multitenant_org::apply(
        &theirs,
        &org.tenant(LITWARE, Role::Owner),
        &members,
        &Templates::default(),
    )
    .await
    .expect("litware's organization");
    org.fake.clear_log();

    let members = [org.tenant(FABRIKAM, Role::Member)];
    let refused = multitenant_org::apply(
        &group(),
        &org.tenant(NORTHWIND, Role::Owner),
        &members,
        &Templates::default(),
    )
    .await;
    match refused {
        Err(ApplyError::NotAnOwner { tenant_id }) => assert_eq!(tenant_id, NORTHWIND),
        other => panic!("expected NotAnOwner, got {other:?}"),
    }
    assert_eq!(org.writes(), Vec::<String>::new());
    let (organization, _) = org.fake.organization(LITWARE).expect("litware's organization");
    assert_eq!(organization["displayName"], "Litware", "not renamed by a member");
}

#[tokio::test]
async fn before_the_organization_exists_every_tenant_reads_not_listed() {
    let org = Org::start().await;
    let members = [org.tenant(FABRIKAM, Role::Member)];
    let read = multitenant_org::read(&org.tenant(CONTOSO, Role::Owner), &members)
        .await
        .expect("read");
    assert_eq!(
        read.iter().map(|r| r.state.clone()).collect::<Vec<_>>(),
        [EntraMemberState::NotListed, EntraMemberState::NotListed]
    );
    assert_eq!(org.writes(), Vec::<String>::new());
}
