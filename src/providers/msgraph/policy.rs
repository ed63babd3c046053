//! A `CrossTenantAccessPolicy` pushed into Entra (Microsoft Graph cross-tenant access
//! settings): the default's B2B collaboration, and per listed partner its automatic
//! redemption (`automaticUserConsentSettings`), B2B collaboration and identity
//! synchronization (`userSyncInbound.isSyncAllowed`, and with `allowGroupsSync`
//! `groupSyncInbound.isSyncAllowed`, which only Graph's beta holds). Reads first and writes only what
//! differs, so a policy already in force costs no write; partners the policy does not list are
//! left alone and reported.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::GraphClient;
use crate::providers::DirectoryError;

/// A cross-tenant access policy as Entra takes it; the controller builds it from the
/// `CrossTenantAccessPolicy` (`controller::provider_settings`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntraPolicy {
    /// The default's B2B collaboration, when the policy sets it.
    pub default_b2b: Option<B2bAccess>,
    /// Every listed partner, its settings merged with the default's.
    pub partners: Vec<EntraPartner>,
}

/// One partner's effective settings, and which of them the policy sets (only those are
/// written: Entra keeps the rest as its administrators left them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntraPartner {
    pub tenant_id: String,
    pub allow_users_sync: bool,
    pub allow_groups_sync: bool,
    pub inbound_redemption: bool,
    pub outbound_redemption: bool,
    pub b2b: B2bAccess,
    /// The partner or the default sets B2B collaboration.
    pub b2b_configured: bool,
    /// The partner or the default sets `allowGroupsSync`.
    pub groups_configured: bool,
}

/// Who B2B collaboration lets in: nobody (`allowed: false`), everybody, the users of
/// `include`, or everybody but those of `exclude`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct B2bAccess {
    pub allowed: bool,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// Where the cross-tenant access settings are ("crossTenantAccessPolicy resource type").
const POLICY: [&str; 2] = ["policies", "crossTenantAccessPolicy"];

/// The v1.0 URL of `below` under the cross-tenant access policy, or its beta URL.
fn policy_url(client: &GraphClient, below: &[&str], beta: bool) -> Result<String, DirectoryError> {
    let segments: Vec<&str> = POLICY.iter().chain(below).copied().collect();
    let url = if beta {
        client.endpoints.beta_url(&segments)?
    } else {
        client.endpoints.v1_url(&segments)?
    };
    Ok(url.into())
}

/// What a push did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pushed {
    /// Writes sent (PATCH, POST, PUT); 0 when Entra already had the settings.
    pub writes: u32,
    /// Partner tenant ids configured in Entra but not listed in the policy.
    pub unmanaged_partners: Vec<String>,
}

/// Why a policy cannot be expressed in Entra's model.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{0}")]
    NotRepresentable(String),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

/// Entra's `usersAndGroups` for B2B collaboration: an allow list, a block list, or all users.
pub fn users_and_groups(b2b: &B2bAccess) -> Result<Value, String> {
    let targets = |ids: &[String]| -> Vec<Value> {
        ids.iter()
            .map(|id| json!({ "target": id, "targetType": "user" }))
            .collect()
    };
    let all_users = || vec![json!({ "target": "AllUsers", "targetType": "user" })];
    Ok(match (b2b.allowed, b2b.include.is_empty(), b2b.exclude.is_empty()) {
        (false, _, _) => json!({ "accessType": "blocked", "targets": all_users() }),
        (true, true, true) => json!({ "accessType": "allowed", "targets": all_users() }),
        (true, false, true) => json!({ "accessType": "allowed", "targets": targets(&b2b.include) }),
        (true, true, false) => json!({ "accessType": "blocked", "targets": targets(&b2b.exclude) }),
        (true, false, false) => {
            return Err(
                "Entra's B2B collaboration settings take either users to allow or users to block, not both".into(),
            );
        }
    })
}

/// The same `usersAndGroups` whatever the order of targets.
fn same_users_and_groups(current: Option<&Value>, desired: &Value) -> bool {
    let normal = |v: &Value| {
        let access = v
            .get("accessType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let mut targets: Vec<String> = v
            .get("targets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| t.to_string())
            .collect();
        targets.sort();
        (access, targets)
    };
    current.is_some_and(|c| normal(c) == normal(desired))
}

/// B2B collaboration inbound with `users_and_groups`, keeping the applications Entra has.
fn b2b_inbound(current: Option<&Value>, users_and_groups: Value) -> Value {
    let applications = current
        .and_then(|c| c.get("applications"))
        .filter(|a| !a.is_null())
        .cloned()
        .unwrap_or_else(|| json!({ "accessType": "allowed", "targets": [{ "target": "AllApplications", "targetType": "application" }] }));
    json!({ "usersAndGroups": users_and_groups, "applications": applications })
}

/// The changes a partner needs (`None`: none), from what Entra has (`None`: no partner yet).
pub fn partner_changes(
    current: Option<&Value>,
    effective: &EntraPartner,
    b2b_configured: bool,
) -> Result<Option<Value>, String> {
    let mut patch = serde_json::Map::new();
    let consent = json!({
        "inboundAllowed": effective.inbound_redemption,
        "outboundAllowed": effective.outbound_redemption,
    });
    if current.and_then(|c| c.get("automaticUserConsentSettings")) != Some(&consent) {
        patch.insert("automaticUserConsentSettings".into(), consent);
    }
    if b2b_configured {
        let desired = users_and_groups(&effective.b2b)?;
        let existing = current.and_then(|c| c.get("b2bCollaborationInbound"));
        if !same_users_and_groups(existing.and_then(|e| e.get("usersAndGroups")), &desired) {
            patch.insert("b2bCollaborationInbound".into(), b2b_inbound(existing, desired));
        }
    }
    Ok((!patch.is_empty()).then_some(Value::Object(patch)))
}

/// Pushes `policy` into the tenant behind `client`.
pub async fn push(client: &GraphClient, policy: &EntraPolicy) -> Result<Pushed, PushError> {
    let mut pushed = Pushed::default();
    let url = |below: &[&str]| policy_url(client, below, false);

    // The default: only B2B collaboration can be set there (automatic redemption is read-only
    // in Entra's default configuration, and identity synchronization exists per partner).
    if let Some(effective) = &policy.default_b2b {
        let desired = users_and_groups(effective).map_err(PushError::NotRepresentable)?;
        let current = client.send(Method::GET, &url(&["default"])?, None, false).await?;
        let existing = current.get("b2bCollaborationInbound");
        if !same_users_and_groups(existing.and_then(|e| e.get("usersAndGroups")), &desired) {
            let body = json!({ "b2bCollaborationInbound": b2b_inbound(existing, desired) });
            client
                .send(Method::PATCH, &url(&["default"])?, Some(&body), false)
                .await?;
            pushed.writes += 1;
        }
    }

    let (partners, _) = client.list_all(&url(&["partners"])?, false).await?;
    let tenant_of = |p: &Value| p.get("tenantId").and_then(Value::as_str).map(str::to_ascii_lowercase);
    for effective in &policy.partners {
        let current = partners
            .iter()
            .find(|p| tenant_of(p).as_deref() == Some(effective.tenant_id.as_str()));
        let changes =
            partner_changes(current, effective, effective.b2b_configured).map_err(PushError::NotRepresentable)?;
        match (current, changes) {
            (_, None) => {}
            (Some(_), Some(patch)) => {
                client
                    .send(
                        Method::PATCH,
                        &url(&["partners", &effective.tenant_id])?,
                        Some(&patch),
                        false,
                    )
                    .await?;
                pushed.writes += 1;
            }
            (None, Some(mut body)) => {
                body["tenantId"] = json!(effective.tenant_id);
                client
                    .send(Method::POST, &url(&["partners"])?, Some(&body), false)
                    .await?;
                pushed.writes += 1;
            }
        }
        pushed.writes += push_identity_sync(client, effective).await?;
    }
    pushed.unmanaged_partners = partners
        .iter()
        .filter_map(tenant_of)
        .filter(|t| !policy.partners.iter().any(|p| p.tenant_id.eq_ignore_ascii_case(t)))
        .collect();
    pushed.unmanaged_partners.sort();
    Ok(pushed)
}

/// Entra's identity synchronization settings for one partner: `userSyncInbound`, and
/// `groupSyncInbound` when the policy sets `allowGroupsSync` — which only Graph's beta holds,
/// so only then is the beta endpoint used. Returns the writes sent (0 or 1).
async fn push_identity_sync(client: &GraphClient, effective: &EntraPartner) -> Result<u32, PushError> {
    let groups_configured = effective.groups_configured;
    let below = ["partners", effective.tenant_id.as_str(), "identitySynchronization"];
    let sync_url = policy_url(client, &below, groups_configured)?;
    let current = match client.send(Method::GET, &sync_url, None, false).await {
        Ok(v) => Some(v),
        Err(DirectoryError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let allowed = |pointer: &str| {
        current
            .as_ref()
            .and_then(|v| v.pointer(pointer))
            .and_then(Value::as_bool)
    };
    let users = effective.allow_users_sync;
    let groups = effective.allow_groups_sync;
    let in_force = allowed("/userSyncInbound/isSyncAllowed") == Some(users)
        && (!groups_configured || allowed("/groupSyncInbound/isSyncAllowed") == Some(groups));
    if in_force {
        return Ok(0);
    }
    let mut body = json!({ "userSyncInbound": { "isSyncAllowed": users } });
    if groups_configured {
        body["groupSyncInbound"] = json!({ "isSyncAllowed": groups });
    }
    client.send(Method::PUT, &sync_url, Some(&body), false).await?;
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effective(redeem_in: bool, redeem_out: bool, b2b: B2bAccess) -> EntraPartner {
        EntraPartner {
            tenant_id: "9188040d-6c67-4c5b-b112-36a304b66dad".into(),
            allow_users_sync: true,
            allow_groups_sync: false,
            inbound_redemption: redeem_in,
            outbound_redemption: redeem_out,
            b2b,
            ..EntraPartner::default()
        }
    }

    fn b2b(allowed: bool, include: &[&str], exclude: &[&str]) -> B2bAccess {
        B2bAccess {
            allowed,
            include: include.iter().map(|s| (*s).to_owned()).collect(),
            exclude: exclude.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// A partner as Microsoft Learn's "Get partner" example shows it.
    fn documented_partner() -> Value {
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/crossTenantAccessPolicy/partners/$entity",
            "tenantId": "9188040d-6c67-4c5b-b112-36a304b66dad",
            "isServiceProvider": true,
            "inboundTrust": { "isMfaAccepted": true, "isCompliantDeviceAccepted": true, "isHybridAzureADJoinedDeviceAccepted": true },
            "automaticUserConsentSettings": { "inboundAllowed": true, "outboundAllowed": true },
            "b2bCollaborationOutbound": null,
            "b2bCollaborationInbound": null,
            "b2bDirectConnectInbound": null,
            "b2bDirectConnectOutbound": null
        })
    }

    #[test]
    fn a_partner_in_place_needs_nothing() {
        let partner = documented_partner();
        let wanted = effective(true, true, b2b(true, &[], &[]));
        assert_eq!(partner_changes(Some(&partner), &wanted, false), Ok(None));
    }

    #[test]
    fn only_what_differs_is_sent() {
        let partner = documented_partner();
        let wanted = effective(true, false, b2b(true, &["u1"], &[]));
        let patch = partner_changes(Some(&partner), &wanted, true)
            .expect("representable")
            .expect("changes");
        assert_eq!(
            patch["automaticUserConsentSettings"],
            json!({"inboundAllowed": true, "outboundAllowed": false})
        );
        assert_eq!(
            patch["b2bCollaborationInbound"]["usersAndGroups"],
            json!({"accessType": "allowed", "targets": [{"target": "u1", "targetType": "user"}]})
        );
        assert_eq!(
            patch["b2bCollaborationInbound"]["applications"]["targets"][0]["target"],
            "AllApplications"
        );
        // A new partner gets everything.
        let new = partner_changes(None, &wanted, false)
            .expect("representable")
            .expect("changes");
        assert!(new.get("automaticUserConsentSettings").is_some());
    }

    #[test]
    fn b2b_selections_map_to_entra_access_types() {
        assert_eq!(
            users_and_groups(&b2b(false, &["x"], &[])).expect("ok")["accessType"],
            "blocked"
        );
        assert_eq!(
            users_and_groups(&b2b(true, &[], &["x"])).expect("ok")["accessType"],
            "blocked"
        );
        assert_eq!(
            users_and_groups(&b2b(true, &[], &[])).expect("ok")["targets"][0]["target"],
            "AllUsers"
        );
        assert!(users_and_groups(&b2b(true, &["a"], &["b"])).is_err());
        assert!(same_users_and_groups(
            Some(
                &json!({"accessType": "allowed", "targets": [{"target": "b", "targetType": "user"}, {"target": "a", "targetType": "user"}]})
            ),
            &users_and_groups(&b2b(true, &["a", "b"], &[])).expect("ok")
        ));
    }
}
