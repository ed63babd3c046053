//! The two templates each tenant of an organization holds, which Entra applies to the partner
//! configurations of the organization's tenants when a tenant joins (Microsoft Learn,
//! "multiTenantOrganizationPartnerConfigurationTemplate resource type",
//! "multiTenantOrganizationIdentitySyncPolicyTemplate resource type"): read with GET, changed
//! with PATCH (204). Only the fields xtsync is given are compared and sent; within an object
//! (`inboundTrust`, `automaticUserConsentSettings`) a property it is not given keeps Entra's
//! value.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::super::client::GraphClient;
use super::desired::{EntraApplyTo, EntraPartnerTemplate, IdentitySyncTemplate, InboundTrust, Templates, UsersAccess};
use crate::providers::DirectoryError;

const PARTNER: [&str; 4] = [
    "policies",
    "crossTenantAccessPolicy",
    "templates",
    "multiTenantOrganizationPartnerConfiguration",
];
const IDENTITY_SYNC: [&str; 4] = [
    "policies",
    "crossTenantAccessPolicy",
    "templates",
    "multiTenantOrganizationIdentitySynchronization",
];

/// Brings both templates of the tenant behind `client` to `templates`; returns the writes sent
/// (0 to 2).
pub async fn apply(client: &GraphClient, templates: &Templates) -> Result<u32, DirectoryError> {
    let mut writes = 0;
    if let Some(partner) = &templates.partner {
        writes += patch_if_needed(client, &PARTNER, |current| partner_changes(current, partner)).await?;
    }
    if let Some(sync) = &templates.identity_sync {
        writes += patch_if_needed(client, &IDENTITY_SYNC, |current| identity_sync_changes(current, sync)).await?;
    }
    Ok(writes)
}

async fn patch_if_needed(
    client: &GraphClient,
    segments: &[&str],
    changes: impl FnOnce(&Value) -> Option<Value>,
) -> Result<u32, DirectoryError> {
    let url: String = client.endpoints.v1_url(segments)?.into();
    let current = client.send(Method::GET, &url, None, false).await?;
    let Some(patch) = changes(&current) else {
        return Ok(0);
    };
    client.send_for_body(Method::PATCH, &url, Some(&patch), false).await?;
    Ok(1)
}

/// What the partner configuration template needs (`None`: nothing), from what Entra has (pure).
pub fn partner_changes(current: &Value, desired: &EntraPartnerTemplate) -> Option<Value> {
    let mut patch = Map::new();
    if let Some(trust) = &desired.inbound_trust {
        overlay(&mut patch, current, "inboundTrust", &trust_fields(trust));
    }
    overlay(
        &mut patch,
        current,
        "automaticUserConsentSettings",
        &[
            ("inboundAllowed", desired.redeem_inbound),
            ("outboundAllowed", desired.redeem_outbound),
        ],
    );
    for (property, access) in [
        ("b2bCollaborationInbound", &desired.b2b_collaboration_inbound),
        ("b2bCollaborationOutbound", &desired.b2b_collaboration_outbound),
    ] {
        if let Some(access) = access {
            b2b_setting(&mut patch, current.get(property), property, access);
        }
    }
    level(&mut patch, current, desired.apply_to);
    (!patch.is_empty()).then_some(Value::Object(patch))
}

/// What the identity synchronization template needs (`None`: nothing), from what Entra has (pure).
pub fn identity_sync_changes(current: &Value, desired: &IdentitySyncTemplate) -> Option<Value> {
    let mut patch = Map::new();
    overlay(
        &mut patch,
        current,
        "userSyncInbound",
        &[("isSyncAllowed", desired.allow_users_sync)],
    );
    level(&mut patch, current, desired.apply_to);
    (!patch.is_empty()).then_some(Value::Object(patch))
}

fn trust_fields(trust: &InboundTrust) -> [(&'static str, Option<bool>); 3] {
    [
        ("isMfaAccepted", trust.mfa_accepted),
        ("isCompliantDeviceAccepted", trust.compliant_device_accepted),
        (
            "isHybridAzureADJoinedDeviceAccepted",
            trust.hybrid_joined_device_accepted,
        ),
    ]
}

/// `property` with each given field set over what Entra has; added to `patch` when it differs.
fn overlay(patch: &mut Map<String, Value>, current: &Value, property: &str, fields: &[(&str, Option<bool>)]) {
    if fields.iter().all(|(_, v)| v.is_none()) {
        return;
    }
    let existing = current.get(property).and_then(Value::as_object);
    let mut merged = existing.cloned().unwrap_or_default();
    for (field, value) in fields {
        if let Some(value) = value {
            merged.insert((*field).to_owned(), json!(value));
        }
    }
    if existing != Some(&merged) {
        patch.insert(property.to_owned(), Value::Object(merged));
    }
}

/// `templateApplicationLevel`, when Entra's applies the template to other partners.
fn level(patch: &mut Map<String, Value>, current: &Value, apply_to: EntraApplyTo) {
    let level = current
        .get("templateApplicationLevel")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !apply_to.is_level(level) {
        patch.insert("templateApplicationLevel".into(), json!(apply_to.as_graph()));
    }
}

/// Entra's `usersAndGroups` for `access` (`crossTenantAccessPolicyTargetConfiguration`).
pub fn users_and_groups(access: &UsersAccess) -> Value {
    let users = |ids: &[String]| -> Vec<Value> {
        ids.iter()
            .map(|id| json!({ "target": id, "targetType": "user" }))
            .collect()
    };
    let all = vec![json!({ "target": "AllUsers", "targetType": "user" })];
    match access {
        UsersAccess::AllUsers => json!({ "accessType": "allowed", "targets": all }),
        UsersAccess::NoUsers => json!({ "accessType": "blocked", "targets": all }),
        UsersAccess::Only(ids) => json!({ "accessType": "allowed", "targets": users(ids) }),
        UsersAccess::AllBut(ids) => json!({ "accessType": "blocked", "targets": users(ids) }),
    }
}

/// A B2B collaboration setting whose `usersAndGroups` is `access` (targets in any order), the
/// `applications` Entra has kept (all applications when it has none).
fn b2b_setting(patch: &mut Map<String, Value>, current: Option<&Value>, property: &str, access: &UsersAccess) {
    let desired = users_and_groups(access);
    let normal = |v: &Value| {
        let access = v.get("accessType").and_then(Value::as_str).map(str::to_owned);
        let mut targets: Vec<String> = v
            .get("targets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(Value::to_string)
            .collect();
        targets.sort();
        (access, targets)
    };
    let existing = current.and_then(|c| c.get("usersAndGroups"));
    if existing.is_some_and(|e| normal(e) == normal(&desired)) {
        return;
    }
    let applications = current
        .and_then(|c| c.get("applications"))
        .filter(|a| !a.is_null())
        .cloned()
        .unwrap_or_else(|| json!({ "accessType": "allowed", "targets": [{ "target": "AllApplications", "targetType": "application" }] }));
    patch.insert(
        property.to_owned(),
        json!({ "usersAndGroups": desired, "applications": applications }),
    );
}
