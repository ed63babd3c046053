//! The cross-tenant access policy of a fake tenant (Microsoft Learn:
//! crossTenantAccessPolicyConfigurationDefault, crossTenantAccessPolicyConfigurationPartner,
//! crossTenantIdentitySyncPolicyPartner).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::directory::{Call, Reply};

pub struct Policies {
    pub default: Value,
    pub partners: BTreeMap<String, Value>,
    pub identity_sync: BTreeMap<String, Value>,
}

fn all(target: &str, target_type: &str, access: &str) -> Value {
    json!({ "accessType": access, "targets": [{ "target": target, "targetType": target_type }] })
}

fn b2b(access: &str) -> Value {
    json!({ "usersAndGroups": all("AllUsers", "user", access), "applications": all("AllApplications", "application", access) })
}

impl Default for Policies {
    /// A tenant's service default: B2B collaboration allowed both ways, direct connect blocked,
    /// no automatic redemption.
    fn default() -> Policies {
        Policies {
            default: json!({
                "isServiceDefault": true,
                "inboundTrust": { "isMfaAccepted": false, "isCompliantDeviceAccepted": false, "isHybridAzureADJoinedDeviceAccepted": false },
                "automaticUserConsentSettings": { "inboundAllowed": false, "outboundAllowed": false },
                "b2bCollaborationInbound": b2b("allowed"),
                "b2bCollaborationOutbound": b2b("allowed"),
                "b2bDirectConnectInbound": b2b("blocked"),
                "b2bDirectConnectOutbound": b2b("blocked")
            }),
            partners: BTreeMap::new(),
            identity_sync: BTreeMap::new(),
        }
    }
}

/// Partner properties a PATCH or POST may set.
const PARTNER_PROPERTIES: [&str; 8] = [
    "tenantId",
    "inboundTrust",
    "automaticUserConsentSettings",
    "b2bCollaborationInbound",
    "b2bCollaborationOutbound",
    "b2bDirectConnectInbound",
    "b2bDirectConnectOutbound",
    "isServiceProvider",
];

impl Policies {
    pub fn handle(&mut self, call: &Call<'_>) -> Option<Reply> {
        let segments: Vec<&str> = call.path.trim_start_matches('/').split('/').collect();
        let ["policies", "crossTenantAccessPolicy", rest @ ..] = segments.as_slice() else {
            return None;
        };
        Some(match (call.method, rest) {
            ("GET", ["default"]) => Reply::json(
                200,
                with_context(&self.default, "policies/crossTenantAccessPolicy/default/$entity"),
            ),
            ("PATCH", ["default"]) => {
                if call.body.get("automaticUserConsentSettings").is_some() {
                    return Some(Reply::error(
                        400,
                        "BadRequest",
                        "automaticUserConsentSettings cannot be updated in the default configuration.",
                    ));
                }
                if let Some(bad) = unknown_property(&call.body) {
                    return Some(Reply::error(400, "BadRequest", &format!("Invalid property '{bad}'.")));
                }
                replace_members(&mut self.default, &call.body);
                self.default["isServiceDefault"] = json!(false);
                Reply::no_content()
            }
            ("GET", ["partners"]) => Reply::json(
                200,
                json!({ "value": self.partners.values().cloned().collect::<Vec<_>>() }),
            ),
            ("POST", ["partners"]) => {
                let Some(tenant) = call
                    .body
                    .get("tenantId")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase)
                else {
                    return Some(Reply::error(400, "BadRequest", "tenantId is required."));
                };
                if let Some(bad) = unknown_property(&call.body) {
                    return Some(Reply::error(400, "BadRequest", &format!("Invalid property '{bad}'.")));
                }
                if self.partners.contains_key(&tenant) {
                    // Graph's error code for a 409 is its reason phrase, Conflict (written
                    // through `StatusCode`: the string is also an Organization reason).
                    let code = hyper::StatusCode::CONFLICT.canonical_reason().unwrap_or_default();
                    return Some(Reply::error(
                        409,
                        code,
                        "A partner configuration for this tenant already exists.",
                    ));
                }
                let mut partner = json!({
                    "tenantId": tenant,
                    "isServiceProvider": null,
                    "inboundTrust": null,
                    "automaticUserConsentSettings": { "inboundAllowed": null, "outboundAllowed": null },
                    "b2bCollaborationInbound": null,
                    "b2bCollaborationOutbound": null,
                    "b2bDirectConnectInbound": null,
                    "b2bDirectConnectOutbound": null
                });
                replace_members(&mut partner, &call.body);
                partner["tenantId"] = json!(tenant);
                self.partners.insert(tenant, partner.clone());
                Reply::json(
                    201,
                    with_context(&partner, "policies/crossTenantAccessPolicy/partners/$entity"),
                )
            }
            ("GET", ["partners", tenant]) => match self.partners.get(&tenant.to_ascii_lowercase()) {
                Some(p) => Reply::json(
                    200,
                    with_context(p, "policies/crossTenantAccessPolicy/partners/$entity"),
                ),
                None => Reply::not_found(tenant),
            },
            ("PATCH", ["partners", tenant]) => {
                if let Some(bad) = unknown_property(&call.body) {
                    return Some(Reply::error(400, "BadRequest", &format!("Invalid property '{bad}'.")));
                }
                match self.partners.get_mut(&tenant.to_ascii_lowercase()) {
                    Some(p) => {
                        replace_members(p, &call.body);
                        Reply::no_content()
                    }
                    None => Reply::not_found(tenant),
                }
            }
            ("GET", ["partners", tenant, "identitySynchronization"]) => {
                match self.identity_sync.get(&tenant.to_ascii_lowercase()) {
                    Some(p) => {
                        let mut p = p.clone();
                        // `groupSyncInbound` exists in beta only (Microsoft Learn,
                        // crossTenantIdentitySyncPolicyPartner, beta).
                        if !call.beta
                            && let Some(p) = p.as_object_mut()
                        {
                            p.remove("groupSyncInbound");
                        }
                        Reply::json(200, p)
                    }
                    None => Reply::not_found(tenant),
                }
            }
            ("PUT", ["partners", tenant, "identitySynchronization"]) => {
                let tenant = tenant.to_ascii_lowercase();
                if !self.partners.contains_key(&tenant) {
                    return Some(Reply::not_found(&tenant));
                }
                let allowed = call
                    .body
                    .pointer("/userSyncInbound/isSyncAllowed")
                    .and_then(Value::as_bool);
                let Some(allowed) = allowed else {
                    return Some(Reply::error(
                        400,
                        "BadRequest",
                        "userSyncInbound.isSyncAllowed is required.",
                    ));
                };
                let groups = call
                    .body
                    .pointer("/groupSyncInbound/isSyncAllowed")
                    .and_then(Value::as_bool);
                if groups.is_some() && !call.beta {
                    return Some(Reply::error(400, "BadRequest", "Invalid property 'groupSyncInbound'."));
                }
                let mut stored = json!({
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/crossTenantAccessPolicy/partners('tenant')/identitySynchronization/$entity",
                    "tenantId": tenant,
                    "displayName": call.body.get("displayName").cloned().unwrap_or(Value::Null),
                    "userSyncInbound": { "isSyncAllowed": allowed }
                });
                if let Some(groups) = groups {
                    stored["groupSyncInbound"] = json!({ "isSyncAllowed": groups });
                }
                self.identity_sync.insert(tenant.clone(), stored);
                Reply::no_content()
            }
            _ => return None,
        })
    }
}

fn with_context(object: &Value, context: &str) -> Value {
    let mut out = object.clone();
    out["@odata.context"] = json!(format!("https://graph.microsoft.com/v1.0/$metadata#{context}"));
    out
}

fn unknown_property(body: &Value) -> Option<String> {
    body.as_object()?
        .keys()
        .find(|k| !PARTNER_PROPERTIES.contains(&k.as_str()))
        .cloned()
}

/// PATCH semantics for these resources: each property sent replaces the stored one.
fn replace_members(target: &mut Value, patch: &Value) {
    if let (Some(target), Some(patch)) = (target.as_object_mut(), patch.as_object()) {
        for (k, v) in patch {
            target.insert(k.clone(), v.clone());
        }
    }
}
