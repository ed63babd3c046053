//! The gate's checks, one test per rule, named after it.
use super::*;
use crate::api::policy::CrossTenantAccessPolicySpec;

const CONTOSO: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const FABRIKAM: &str = "11111111-2222-3333-4444-555555555555";

fn ready(id: &str, cloud: Cloud) -> TenantState {
    TenantState::Ready(TenantFacts {
        tenant_id: id.into(),
        cloud,
        directory: format!("graph {id}"),
        domains: Vec::new(),
    })
}

fn allowing(partner: &str, inbound: bool, redeem_in: bool, redeem_out: bool) -> CrossTenantAccessPolicySpec {
    serde_json::from_value(serde_json::json!({
        "tenantRef": {"name": "x"},
        "partners": [{"tenantId": partner,
                      "inbound": {"allowUsersSync": inbound, "automaticallyRedeemInvitations": redeem_in},
                      "outbound": {"automaticallyRedeemInvitations": redeem_out}}]
    }))
    .expect("policy")
}

struct Case {
    source: TenantState,
    target: TenantState,
    rank: (i64, String),
    claims: Vec<PairClaim>,
    claimed_pair: Option<String>,
    target_policy: Option<CrossTenantAccessPolicySpec>,
    source_policy: Option<CrossTenantAccessPolicySpec>,
    /// Organizations' templates for the target and the source (`access::overlay`).
    target_templates: Vec<access::OrganizationTemplate>,
    source_templates: Vec<access::OrganizationTemplate>,
    provisions_groups: bool,
}

impl Case {
    fn valid() -> Case {
        Case {
            source: ready(CONTOSO, Cloud::Global),
            target: ready(FABRIKAM, Cloud::Global),
            rank: (100, "ns/mine".into()),
            claims: vec![],
            claimed_pair: None,
            target_policy: Some(allowing(CONTOSO, true, true, false)),
            source_policy: Some(allowing(FABRIKAM, false, false, true)),
            provisions_groups: false,
            target_templates: Vec::new(),
            source_templates: Vec::new(),
        }
    }

    fn run(&self) -> Result<OpenPair, Closed> {
        let effective = |own: Option<&CrossTenantAccessPolicySpec>, templates: &[access::OrganizationTemplate]| {
            (own.is_some() || !templates.is_empty()).then(|| access::overlay(own, templates))
        };
        let target_policy = effective(self.target_policy.as_ref(), &self.target_templates);
        let source_policy = effective(self.source_policy.as_ref(), &self.source_templates);
        evaluate(&GateInput {
            source_name: "contoso",
            source: &self.source,
            target_name: "fabrikam",
            target: &self.target,
            rank: self.rank.clone(),
            claims: &self.claims,
            claimed_pair: self.claimed_pair.as_deref(),
            target_policy: target_policy.as_ref(),
            source_policy: source_policy.as_ref(),
            provisions_groups: self.provisions_groups,
        })
    }

    fn reason(&self) -> ReadyReason {
        self.run().expect_err("gate should be closed").reason
    }
}

#[test]
fn valid_pair_opens() {
    let open = Case::valid().run().expect("open");
    assert_eq!(open.source.tenant_id, CONTOSO);
    assert_eq!(open.target.tenant_id, FABRIKAM);
}

#[test]
fn missing_or_unready_tenant_says_which_and_why() {
    let mut c = Case::valid();
    c.target = TenantState::NotReady {
        reason: crate::api::reasons::TenantReadyReason::SecretNotFound.to_string(),
        message: "Secret 'x' not found".into(),
    };
    let closed = c.run().expect_err("closed");
    assert_eq!(closed.reason, ReadyReason::TenantNotReady);
    assert!(
        closed.message.contains("target Tenant 'fabrikam'")
            && closed
                .message
                .contains(&crate::api::reasons::TenantReadyReason::SecretNotFound.to_string()),
        "{}",
        closed.message
    );

    c.source = TenantState::Missing;
    assert!(
        c.run()
            .expect_err("closed")
            .message
            .contains("source Tenant 'contoso' does not exist")
    );
}

#[test]
fn same_tenant_is_refused_even_under_two_names() {
    let mut c = Case::valid();
    c.target = ready(&CONTOSO.to_uppercase(), Cloud::Global);
    c.target_policy = None;
    assert_eq!(c.reason(), ReadyReason::SameTenant);
}

#[test]
fn china_cloud_is_unsupported_before_cross_cloud() {
    let mut c = Case::valid();
    c.target = ready(FABRIKAM, Cloud::China21Vianet);
    assert_eq!(c.reason(), ReadyReason::UnsupportedCloud);
    c.target = ready(FABRIKAM, Cloud::USGovernment);
    assert_eq!(c.reason(), ReadyReason::CrossCloudNotSupported);
}

fn claim(rank: i64, name: &str, s: &str, t: &str) -> PairClaim {
    PairClaim {
        rank: (rank, name.into()),
        source_directory: format!("graph {s}"),
        target_directory: format!("graph {t}"),
        holds: false,
    }
}

#[test]
fn two_tenants_naming_one_directory_are_one_directory() {
    let mut c = Case::valid();
    // Another configuration syncs the same directories through two other Tenant objects.
    c.claims = vec![claim(50, "other/older", CONTOSO, FABRIKAM)];
    c.source = TenantState::Ready(TenantFacts {
        tenant_id: "00000000-0000-0000-0000-00000000000a".into(),
        cloud: Cloud::Global,
        directory: format!("graph {CONTOSO}"),
        domains: Vec::new(),
    });
    c.source_policy = None;
    c.target_policy = Some(allowing("00000000-0000-0000-0000-00000000000a", true, true, true));
    assert_eq!(c.reason(), ReadyReason::DuplicatePair);
    // A directory never syncs into itself, whatever tenant ids its Tenants claim.
    c.claims.clear();
    c.target = TenantState::Ready(TenantFacts {
        tenant_id: FABRIKAM.into(),
        cloud: Cloud::Global,
        directory: format!("graph {CONTOSO}"),
        domains: Vec::new(),
    });
    assert_eq!(c.reason(), ReadyReason::SameTenant);
}

#[test]
fn the_holder_of_a_pair_keeps_it_and_an_older_one_that_can_run_later_waits() {
    let mut c = Case::valid();
    let key = pair_key(&format!("graph {CONTOSO}"), &format!("graph {FABRIKAM}"));
    // This one (rank 100) holds the pair; an older one becomes runnable later.
    c.claims = vec![claim(50, "other/older", CONTOSO, FABRIKAM)];
    c.claimed_pair = Some(key.clone());
    assert!(c.run().is_ok(), "the holder keeps its pair");
    // Seen from the older one: the holder wins, whatever its age.
    let mut older = Case::valid();
    older.rank = (50, "other/older".into());
    older.claims = vec![PairClaim {
        holds: true,
        ..claim(100, "ns/holder", CONTOSO, FABRIKAM)
    }];
    let closed = older.run().expect_err("closed");
    assert_eq!(closed.reason, ReadyReason::DuplicatePair);
    assert!(
        closed.message.contains("ns/holder") && closed.message.contains("holds"),
        "{}",
        closed.message
    );
    // A claim for another pair of directories held earlier counts for nothing.
    c.claimed_pair = Some("graph x → graph y".into());
    assert_eq!(c.reason(), ReadyReason::DuplicatePair);
}

#[test]
fn a_long_pair_key_is_bounded_and_still_tells_pairs_apart() {
    let long = |c: char| format!("scim https://{}", c.to_string().repeat(2000));
    let (a, b) = (pair_key(&long('a'), "graph x"), pair_key(&long('a'), "graph y"));
    assert!(a.len() <= 512 && b.len() <= 512);
    assert_ne!(a, b);
    assert_eq!(a, pair_key(&long('a'), "graph x"), "stable");
}

#[test]
fn the_oldest_configuration_of_a_pair_wins() {
    let mut c = Case::valid();
    c.claims = vec![
        claim(200, "ns/newer", CONTOSO, FABRIKAM),
        claim(50, "ns/reverse", FABRIKAM, CONTOSO),
    ];
    assert!(
        c.run().is_ok(),
        "newer duplicates and the reverse direction do not block"
    );
    c.claims.push(claim(50, "other/older", CONTOSO, FABRIKAM));
    let closed = c.run().expect_err("closed");
    assert_eq!(closed.reason, ReadyReason::DuplicatePair);
    assert!(closed.message.contains("other/older"));
    // Same creation time: the name breaks the tie, deterministically.
    c.claims = vec![claim(100, "ns/aaa", CONTOSO, FABRIKAM)];
    assert_eq!(c.reason(), ReadyReason::DuplicatePair);
}

#[test]
fn inbound_sync_must_be_allowed_by_the_target() {
    let mut c = Case::valid();
    c.target_policy = None;
    assert_eq!(c.reason(), ReadyReason::InboundSyncNotAllowed);
    assert!(
        c.run()
            .expect_err("closed")
            .message
            .contains("no CrossTenantAccessPolicy")
    );
    c.target_policy = Some(allowing(CONTOSO, false, true, false));
    assert_eq!(c.reason(), ReadyReason::InboundSyncNotAllowed);
    c.target_policy = Some(allowing(FABRIKAM, true, true, true));
    assert_eq!(
        c.reason(),
        ReadyReason::InboundSyncNotAllowed,
        "a policy for another partner does not apply"
    );
}

#[test]
fn automatic_redemption_is_needed_on_both_sides() {
    let mut c = Case::valid();
    c.target_policy = Some(allowing(CONTOSO, true, false, false));
    assert_eq!(c.reason(), ReadyReason::AutomaticRedemptionNotConfigured);
    let mut c = Case::valid();
    c.source_policy = None;
    let closed = c.run().expect_err("closed");
    assert_eq!(closed.reason, ReadyReason::AutomaticRedemptionNotConfigured);
    assert!(closed.message.contains("outbound.automaticallyRedeemInvitations"));
}

#[test]
fn group_provisioning_needs_the_target_to_allow_group_sync_last() {
    let mut c = Case::valid();
    c.provisions_groups = true;
    let closed = c.run().expect_err("closed");
    assert_eq!(closed.reason, ReadyReason::InboundGroupSyncNotAllowed);
    assert!(closed.message.contains("inbound.allowGroupsSync"), "{}", closed.message);
    c.source_policy = None;
    assert_eq!(
        c.reason(),
        ReadyReason::AutomaticRedemptionNotConfigured,
        "group sync is checked after automatic redemption"
    );
    let mut c = Case::valid();
    c.provisions_groups = true;
    c.target_policy = Some(
        serde_json::from_value(serde_json::json!({
            "tenantRef": {"name": "x"},
            "default": {"inbound": {"allowGroupsSync": true}},
            "partners": [{"tenantId": CONTOSO,
                          "inbound": {"allowUsersSync": true, "automaticallyRedeemInvitations": true}}]
        }))
        .expect("policy"),
    );
    assert!(c.run().is_ok(), "allowGroupsSync inherits the default");
}

fn member_template(partner: &str, value: serde_json::Value) -> access::OrganizationTemplate {
    access::OrganizationTemplate {
        organization: "group".into(),
        template: serde_json::from_value(value).expect("a template"),
        partners: vec![partner.into()],
    }
}

#[test]
fn an_organizations_partner_template_opens_the_gate_for_members_without_any_policy() {
    let mut c = Case::valid();
    c.target_policy = None;
    c.source_policy = None;
    c.target_templates = vec![member_template(
        CONTOSO,
        serde_json::json!({ "inbound": { "allowUsersSync": true, "automaticallyRedeemInvitations": true } }),
    )];
    let closed = c
        .run()
        .expect_err("the source's outbound side is still Entra's default");
    assert_eq!(closed.reason, ReadyReason::AutomaticRedemptionNotConfigured);
    assert!(
        closed.message.contains("it has no CrossTenantAccessPolicy"),
        "{}",
        closed.message
    );
    c.source_templates = vec![member_template(
        FABRIKAM,
        serde_json::json!({ "outbound": { "automaticallyRedeemInvitations": true } }),
    )];
    assert!(c.run().is_ok(), "the template alone opens the pair");
}

#[test]
fn a_closed_gate_names_the_template_when_the_entry_is_the_organizations() {
    let mut c = Case::valid();
    c.target_policy = None;
    c.target_templates = vec![member_template(
        CONTOSO,
        serde_json::json!({ "inbound": { "allowUsersSync": true } }),
    )];
    let closed = c.run().expect_err("redemption left out of the template");
    assert_eq!(closed.reason, ReadyReason::AutomaticRedemptionNotConfigured);
    assert!(
        closed.message.contains("partnerTemplate of Organization 'group'"),
        "{}",
        closed.message
    );
}
