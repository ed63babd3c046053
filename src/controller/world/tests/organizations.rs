//! The settings in force between the members of an Organization, as the gate sees them through
//! the world: the partner template alone opens a pair, and a leaving member's template entries
//! stay until its generated configurations are gone (README, "Organizations").

use serde_json::json;

use super::*;
use crate::api::reasons::ReadyReason;
use crate::controller::world::GateVerdict;

/// An Organization of `members` whose template lets every member sync into every other.
fn organization(members: &[&str]) -> Organization {
    let tenants: Vec<Value> = members
        .iter()
        .enumerate()
        .map(|(i, m)| json!({ "tenantRef": { "name": m }, "role": if i == 0 { "Owner" } else { "Member" } }))
        .collect();
    object(json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "Organization",
        "metadata": { "name": "group", "namespace": "default", "uid": "org-uid",
            "creationTimestamp": "2026-01-01T00:00:00Z" },
        "spec": { "tenants": tenants, "partnerTemplate": {
            "inbound": { "allowUsersSync": true, "automaticallyRedeemInvitations": true },
            "outbound": { "automaticallyRedeemInvitations": true } } },
    }))
}

/// The members' own policies gone: only the Organization speaks for them.
fn without_policies(organization: Organization) -> Setting {
    let mut setting = Setting::new(json!({}));
    setting.policies.clear();
    setting.organizations.push(organization);
    setting
}

fn generated_by_the_organization(setting: &mut Setting) {
    let labels = [
        ("xtsync.io/organization", "group"),
        ("xtsync.io/source", "contoso"),
        ("xtsync.io/target", "fabrikam"),
    ];
    setting.config.metadata.labels = Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
}

fn closed_reason(setting: &Setting) -> Option<ReadyReason> {
    match setting.evaluate(&setting.world()).verdict {
        GateVerdict::Closed { closed, .. } => Some(closed.reason),
        GateVerdict::Open(_) => None,
        GateVerdict::Invalid(problems) => panic!("invalid: {problems}"),
    }
}

#[test]
fn the_partner_template_alone_opens_the_pair_of_two_members_without_policies() {
    let setting = without_policies(organization(&["contoso", "fabrikam"]));
    assert_eq!(closed_reason(&setting), None, "open");
    let mut outsider = without_policies(organization(&["contoso", "northwind"]));
    outsider.organizations[0]
        .spec
        .tenants
        .push(serde_json::from_value(json!({ "tenantRef": { "name": "tailspin" } })).expect("a member"));
    assert_eq!(
        closed_reason(&outsider),
        Some(ReadyReason::InboundSyncNotAllowed),
        "fabrikam is no member: Entra's defaults deny"
    );
}

#[test]
fn a_leaving_members_entries_stay_while_a_configuration_generated_for_it_exists() {
    let mut leaving = without_policies(organization(&["contoso", "northwind"]));
    generated_by_the_organization(&mut leaving);
    assert_eq!(
        closed_reason(&leaving),
        None,
        "fabrikam left the spec, and its generated configuration still exists: still open"
    );
    let world = leaving.world();
    let effective = world
        .effective_policy("default", "fabrikam")
        .expect("the template's entries");
    let entry = effective.for_partner(CONTOSO);
    assert_eq!(entry.organization.as_deref(), Some("group"));

    let gone = without_policies(organization(&["contoso", "northwind"]));
    assert_eq!(
        closed_reason(&gone),
        Some(ReadyReason::InboundSyncNotAllowed),
        "no generated configuration names fabrikam any more: its entries are withdrawn"
    );
    assert!(gone.world().effective_policy("default", "fabrikam").is_none());
}

#[test]
fn a_deleted_organizations_template_stays_until_it_is_gone() {
    let mut deleting = organization(&["contoso", "fabrikam"]);
    deleting.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
    ));
    let mut setting = without_policies(deleting);
    generated_by_the_organization(&mut setting);
    assert_eq!(
        closed_reason(&setting),
        None,
        "its cleanup can still run through an open gate"
    );
}
