//! The pure decisions: which writes an organization, a join request and a template need.

use serde_json::{Value, json};

use super::answers::{JoinRequestAnswer, MemberAnswer, TransitionAnswer};
use super::desired::{EntraApplyTo, EntraPartnerTemplate, IdentitySyncTemplate, InboundTrust, Role, UsersAccess};
use super::join::{JoinStep, step};
use super::owner::{MemberChanges, Wanted, member_changes};
use super::templates::{identity_sync_changes, partner_changes};

const OWNER: &str = "1fd6544e-e994-4de2-9f1b-787b51c7d325";
const FABRIKAM: &str = "4a12efe6-aa14-4d03-8dff-88fc89e2e2ad";
const WOODGROVE: &str = "5036a0a0-a7a4-4933-9086-5dd54535dd6e";

fn member(tenant: &str, role: &str, state: &str) -> MemberAnswer {
    serde_json::from_value(json!({ "tenantId": tenant, "role": role, "state": state, "transitionDetails": null }))
        .expect("a member")
}

fn wanted(tenant: &str, role: Role) -> Wanted<'_> {
    Wanted {
        tenant_id: tenant,
        display_name: "Tenant",
        role,
    }
}

#[test]
fn members_listed_as_wanted_need_nothing() {
    let listed = [member(OWNER, "owner", "active"), member(FABRIKAM, "member", "pending")];
    let changes = member_changes(OWNER, &listed, &[wanted(&FABRIKAM.to_uppercase(), Role::Member)]);
    assert_eq!(changes, MemberChanges::default(), "tenant ids compare in any case");
}

#[test]
fn a_missing_tenant_is_added_a_changed_role_patched_and_an_unwanted_one_removed() {
    let listed = [
        member(OWNER, "owner", "active"),
        member(FABRIKAM, "member", "active"),
        member(WOODGROVE, "member", "active"),
    ];
    let third = "3f0c7d5e-1b2a-4c3d-8e9f-a0b1c2d3e4f5";
    let changes = member_changes(
        OWNER,
        &listed,
        &[wanted(FABRIKAM, Role::Owner), wanted(third, Role::Member)],
    );
    assert_eq!(
        changes,
        MemberChanges {
            add: vec![(third.to_owned(), "Tenant".to_owned(), Role::Member)],
            change_role: vec![(FABRIKAM.to_owned(), Role::Owner)],
            remove: vec![WOODGROVE.to_owned()],
        }
    );
}

#[test]
fn the_owner_is_never_removed_and_a_tenant_being_removed_is_left_to_go() {
    let listed = [member(OWNER, "owner", "active"), member(FABRIKAM, "member", "removed")];
    assert_eq!(member_changes(OWNER, &listed, &[]), MemberChanges::default());
    // Wanted again while Entra removes it: added once it is gone, not now.
    let changes = member_changes(
        OWNER,
        &listed,
        &[wanted(FABRIKAM, Role::Member), wanted(OWNER, Role::Member)],
    );
    assert_eq!(changes, MemberChanges::default());
}

#[test]
fn a_listed_id_that_is_not_a_tenant_id_is_never_sent_back() {
    let listed = [member("../../policies", "member", "active")];
    assert_eq!(member_changes(OWNER, &listed, &[]).remove, Vec::<String>::new());
}

fn request(owner: &str, state: Option<&str>, status: Option<&str>) -> JoinRequestAnswer {
    JoinRequestAnswer {
        added_by_tenant_id: Some(owner.to_owned()),
        member_state: state.map(str::to_owned),
        transition_details: status.map(|s| TransitionAnswer {
            desired_state: Some("active".into()),
            status: Some(s.into()),
            ..TransitionAnswer::default()
        }),
    }
}

#[test]
fn a_join_request_names_the_owner_once_and_a_failed_one_is_reset() {
    let nothing_yet = request("00000000-0000-0000-0000-000000000000", None, None);
    assert_eq!(step(&nothing_yet, OWNER), JoinStep::Join);
    assert_eq!(step(&JoinRequestAnswer::default(), OWNER), JoinStep::Join);
    assert_eq!(
        step(&request(OWNER, Some("pending"), Some("notStarted")), OWNER),
        JoinStep::Nothing
    );
    assert_eq!(
        step(&request(&OWNER.to_uppercase(), Some("active"), None), OWNER),
        JoinStep::Nothing
    );
    assert_eq!(
        step(&request(OWNER, Some("pending"), Some("failed")), OWNER),
        JoinStep::ResetAndJoin
    );
    assert_eq!(
        step(&request(WOODGROVE, Some("pending"), Some("failed")), OWNER),
        JoinStep::ResetAndJoin
    );
    assert_eq!(
        step(&request(WOODGROVE, Some("pending"), Some("running")), OWNER),
        JoinStep::Join
    );
    assert_eq!(
        step(&request(WOODGROVE, Some("active"), None), OWNER),
        JoinStep::MemberElsewhere(WOODGROVE.to_owned())
    );
}

#[test]
fn apply_to_compares_graphs_flags_as_a_set() {
    assert!(EntraApplyTo::ExistingPartners.is_level("existingPartners, newPartners"));
    assert!(EntraApplyTo::NewPartners.is_level("newPartners"));
    assert!(!EntraApplyTo::NewPartners.is_level("newPartners,existingPartners"));
    assert!(!EntraApplyTo::ExistingPartners.is_level(""));
}

/// "Get multiTenantOrganizationPartnerConfigurationTemplate", unconfigured.
fn unconfigured_partner_template() -> Value {
    json!({
        "id": "75b1889b-6f42-4cc5-8e62-e774b8db243c",
        "templateApplicationLevel": "newPartners,existingPartners",
        "inboundTrust": null,
        "b2bCollaborationOutbound": null,
        "b2bCollaborationInbound": null,
        "b2bDirectConnectOutbound": null,
        "b2bDirectConnectInbound": null,
        "automaticUserConsentSettings": { "inboundAllowed": null, "outboundAllowed": null }
    })
}

fn partner(apply_to: EntraApplyTo) -> EntraPartnerTemplate {
    EntraPartnerTemplate {
        inbound_trust: None,
        redeem_inbound: Some(true),
        redeem_outbound: None,
        b2b_collaboration_inbound: None,
        b2b_collaboration_outbound: None,
        apply_to,
    }
}

#[test]
fn a_template_field_left_out_is_not_sent() {
    let patch = partner_changes(
        &unconfigured_partner_template(),
        &partner(EntraApplyTo::ExistingPartners),
    )
    .expect("changes");
    assert_eq!(
        patch,
        json!({ "automaticUserConsentSettings": { "inboundAllowed": true, "outboundAllowed": null } }),
        "outbound keeps Entra's value; nothing else is sent"
    );
    let patch =
        partner_changes(&unconfigured_partner_template(), &partner(EntraApplyTo::NewPartners)).expect("changes");
    assert_eq!(patch["templateApplicationLevel"], "newPartners");
}

#[test]
fn a_template_in_force_needs_nothing() {
    let mut current = unconfigured_partner_template();
    current["automaticUserConsentSettings"]["inboundAllowed"] = json!(true);
    current["templateApplicationLevel"] = json!("existingPartners,newPartners");
    assert_eq!(
        partner_changes(&current, &partner(EntraApplyTo::ExistingPartners)),
        None
    );
    let sync = json!({ "templateApplicationLevel": "newPartners", "userSyncInbound": { "isSyncAllowed": true } });
    let desired = IdentitySyncTemplate {
        allow_users_sync: Some(true),
        apply_to: EntraApplyTo::NewPartners,
    };
    assert_eq!(identity_sync_changes(&sync, &desired), None);
    let unset = IdentitySyncTemplate {
        allow_users_sync: None,
        apply_to: EntraApplyTo::NewPartners,
    };
    assert_eq!(identity_sync_changes(&sync, &unset), None);
}

#[test]
fn inbound_trust_and_b2b_collaboration_are_sent_whole_when_they_differ() {
    let mut desired = partner(EntraApplyTo::ExistingPartners);
    desired.redeem_inbound = None;
    desired.inbound_trust = Some(InboundTrust {
        mfa_accepted: Some(true),
        ..InboundTrust::default()
    });
    desired.b2b_collaboration_inbound = Some(UsersAccess::Only(vec!["u2".into(), "u1".into()]));
    let patch = partner_changes(&unconfigured_partner_template(), &desired).expect("changes");
    assert_eq!(patch["inboundTrust"], json!({ "isMfaAccepted": true }));
    assert_eq!(
        patch["b2bCollaborationInbound"]["usersAndGroups"]["accessType"],
        "allowed"
    );
    assert_eq!(
        patch["b2bCollaborationInbound"]["applications"]["targets"][0]["target"],
        "AllApplications"
    );
    // The same users in another order are the same setting.
    let mut current = unconfigured_partner_template();
    current["inboundTrust"] = json!({ "isMfaAccepted": true, "isCompliantDeviceAccepted": false });
    current["b2bCollaborationInbound"] = json!({
        "usersAndGroups": { "accessType": "allowed", "targets": [
            { "target": "u1", "targetType": "user" }, { "target": "u2", "targetType": "user" }] },
        "applications": { "accessType": "allowed", "targets": [{ "target": "AllApplications", "targetType": "application" }] }
    });
    assert_eq!(partner_changes(&current, &desired), None);
}
