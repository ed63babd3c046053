//! The overlay, one test per rule: which entries a template fills, which fields win, what a
//! field left out does, and where each entry comes from.

use serde_json::json;

use super::*;

const FABRIKAM: &str = "11111111-2222-3333-4444-555555555555";
const NORTHWIND: &str = "22222222-3333-4444-5555-666666666666";
const OUTSIDER: &str = "99999999-8888-7777-6666-555555555555";

fn policy(value: serde_json::Value) -> CrossTenantAccessPolicySpec {
    serde_json::from_value(value).expect("a policy spec")
}

fn template(organization: &str, value: serde_json::Value) -> OrganizationTemplate {
    OrganizationTemplate {
        organization: organization.into(),
        template: serde_json::from_value(value).expect("a template"),
        partners: vec![FABRIKAM.into(), NORTHWIND.to_uppercase()],
    }
}

fn open_template(apply_to: &str) -> OrganizationTemplate {
    template(
        "group",
        json!({
            "inbound": { "allowUsersSync": true, "automaticallyRedeemInvitations": true },
            "outbound": { "automaticallyRedeemInvitations": true },
            "applyTo": apply_to,
        }),
    )
}

/// Contoso's own policy: fabrikam listed, denying inbound sync; the default allows nothing.
fn own_policy() -> CrossTenantAccessPolicySpec {
    policy(json!({
        "tenantRef": { "name": "contoso" },
        "default": { "outbound": { "automaticallyRedeemInvitations": true } },
        "partners": [{ "tenantId": FABRIKAM, "inbound": { "allowUsersSync": false, "allowGroupsSync": true } }],
    }))
}

#[test]
fn a_member_without_a_policy_gets_the_template_for_every_other_member_and_nothing_else() {
    let effective = overlay(None, &[open_template("NewPartners")]);
    assert!(!effective.own_policy);
    for partner in [FABRIKAM, NORTHWIND] {
        let entry = effective.for_partner(partner);
        assert!(
            entry.inbound.allow_users_sync
                && entry.inbound.automatically_redeem_invitations
                && entry.outbound.automatically_redeem_invitations,
            "{entry:?}"
        );
        assert_eq!(entry.origin, EntryOrigin::Organization);
        assert_eq!(entry.organization.as_deref(), Some("group"));
    }
    assert_eq!(effective.partners()[1].tenant_id, NORTHWIND, "ids in compared form");
    let outsider = effective.for_partner(OUTSIDER);
    assert!(
        !outsider.inbound.allow_users_sync && outsider.origin == EntryOrigin::Policy,
        "a tenant outside the organization keeps Entra's defaults, which deny"
    );
}

#[test]
fn new_partners_fills_only_the_entries_the_policy_does_not_have() {
    let own = own_policy();
    let effective = overlay(Some(&own), &[open_template("NewPartners")]);
    let fabrikam = effective.for_partner(FABRIKAM);
    assert!(!fabrikam.inbound.allow_users_sync, "the person's entry wins");
    assert_eq!(fabrikam.origin, EntryOrigin::Policy);
    assert_eq!(fabrikam.organization, None);
    let northwind = effective.for_partner(NORTHWIND);
    assert!(
        northwind.inbound.allow_users_sync,
        "no entry of its own: the template's"
    );
    assert_eq!(northwind.origin, EntryOrigin::Organization);
    assert_eq!(
        effective.spec.partners[0], own.partners[0],
        "the person's entry is as written"
    );
}

#[test]
fn new_partners_names_each_field_of_the_persons_entry_that_differs_from_the_template() {
    let effective = overlay(Some(&own_policy()), &[open_template("NewPartners")]);
    let kept: Vec<(&str, &str, &str)> = effective
        .kept
        .iter()
        .map(|k| (k.field.as_str(), k.own.as_str(), k.template.as_str()))
        .collect();
    assert_eq!(
        kept,
        [
            ("spec.partners[0].inbound.allowUsersSync", "false", "true"),
            // Not in the entry: the default's value is the one in force.
            (
                "spec.partners[0].inbound.automaticallyRedeemInvitations",
                "false",
                "true"
            ),
        ],
        "outbound.automaticallyRedeemInvitations is true by the default, as the template's"
    );
    assert!(
        effective
            .kept
            .iter()
            .all(|k| k.organization == "group" && k.partner == FABRIKAM)
    );
}

#[test]
fn existing_partners_lets_the_templates_fields_win_and_keeps_the_fields_it_leaves_out() {
    let effective = overlay(Some(&own_policy()), &[open_template("ExistingPartners")]);
    let fabrikam = effective.for_partner(FABRIKAM);
    assert!(fabrikam.inbound.allow_users_sync, "the template's field wins");
    assert!(fabrikam.inbound.automatically_redeem_invitations);
    assert!(
        fabrikam.inbound.allow_groups_sync,
        "allowGroupsSync, left out of the template, stays the person's"
    );
    assert_eq!(fabrikam.origin, EntryOrigin::Organization);
    assert!(effective.kept.is_empty(), "nothing of the person's wins");
}

#[test]
fn a_field_the_template_leaves_out_inherits_the_members_default_in_a_new_entry() {
    let own = policy(json!({
        "tenantRef": { "name": "contoso" },
        "default": { "inbound": { "allowGroupsSync": true }, "outbound": { "automaticallyRedeemInvitations": true } },
    }));
    let inbound_only = template("group", json!({ "inbound": { "allowUsersSync": true } }));
    let entry = overlay(Some(&own), std::slice::from_ref(&inbound_only)).for_partner(FABRIKAM);
    assert!(entry.inbound.allow_users_sync);
    assert!(entry.inbound.allow_groups_sync, "the default's");
    assert!(entry.outbound.automatically_redeem_invitations, "the default's");
    let entry = overlay(None, &[inbound_only]).for_partner(FABRIKAM);
    assert!(
        !entry.inbound.automatically_redeem_invitations,
        "no policy: Entra's default, which denies"
    );
}

#[test]
fn an_empty_template_changes_nothing() {
    let own = own_policy();
    let effective = overlay(
        Some(&own),
        &[template("group", json!({ "applyTo": "ExistingPartners" }))],
    );
    assert_eq!(effective, EffectivePolicy::of_policy(&own));
    assert_eq!(effective.partners().len(), 1);
    assert!(overlay(None, &[template("group", json!({}))]).spec.partners.is_empty());
}

#[test]
fn b2b_collaboration_is_overridden_field_by_field_and_its_user_selection_whole() {
    let own = policy(json!({
        "tenantRef": { "name": "contoso" },
        "partners": [{ "tenantId": FABRIKAM, "inbound": { "b2bCollaboration": {
            "allowed": false, "users": { "include": ["g1"], "exclude": ["g2"] } } } }],
    }));
    let users_only = template(
        "group",
        json!({ "inbound": { "b2bCollaboration": { "users": { "include": ["AllUsers"] } } }, "applyTo": "ExistingPartners" }),
    );
    let b2b = overlay(Some(&own), &[users_only])
        .for_partner(FABRIKAM)
        .inbound
        .b2b_collaboration;
    assert!(!b2b.allowed, "allowed, left out, stays the person's");
    assert_eq!((b2b.include, b2b.exclude), (vec!["AllUsers".to_owned()], vec![]));
}

#[test]
fn for_a_partner_two_organizations_share_the_oldest_decides() {
    let older = open_template("NewPartners");
    let mut newer = template(
        "later",
        json!({ "inbound": { "allowUsersSync": false }, "applyTo": "ExistingPartners" }),
    );
    newer.partners.push(OUTSIDER.into());
    let effective = overlay(None, &[older, newer]);
    assert!(effective.for_partner(FABRIKAM).inbound.allow_users_sync);
    assert_eq!(effective.for_partner(FABRIKAM).organization.as_deref(), Some("group"));
    assert_eq!(
        effective.for_partner(OUTSIDER).organization.as_deref(),
        Some("later"),
        "a partner only the newer has is its"
    );
}
