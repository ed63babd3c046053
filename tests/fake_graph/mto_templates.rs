//! A fake tenant's multitenant organization templates (Microsoft Learn,
//! multiTenantOrganizationPartnerConfigurationTemplate and
//! multiTenantOrganizationIdentitySyncPolicyTemplate: Get, Update, Reset), and what Entra does
//! with them when a tenant joins ("Multitenant organization API overview": partner
//! configurations and user synchronization settings missing for a new pair are generated
//! unconfigured, then the templates modify them as `templateApplicationLevel` says, only where
//! a template property is not null).

use serde_json::{Value, json};

use super::directory::{Call, Reply};
use super::policy::Policies;

const PARTNER: &str = "multiTenantOrganizationPartnerConfiguration";
const IDENTITY_SYNC: &str = "multiTenantOrganizationIdentitySynchronization";
const CONTEXT: &str = "https://graph.microsoft.com/v1.0/$metadata#policies/crossTenantAccessPolicy/templates";

/// Properties "Update multiTenantOrganizationPartnerConfigurationTemplate" takes.
const PARTNER_PROPERTIES: [&str; 7] = [
    "inboundTrust",
    "b2bCollaborationOutbound",
    "b2bCollaborationInbound",
    "b2bDirectConnectOutbound",
    "b2bDirectConnectInbound",
    "automaticUserConsentSettings",
    "templateApplicationLevel",
];
/// Properties "Update multiTenantOrganizationIdentitySyncPolicyTemplate" takes.
const IDENTITY_SYNC_PROPERTIES: [&str; 2] = ["userSyncInbound", "templateApplicationLevel"];

pub struct TenantTemplates {
    pub partner: Value,
    pub identity_sync: Value,
}

impl Default for TenantTemplates {
    /// The unconfigured (or reset) state, as "Get …Template" shows it.
    fn default() -> TenantTemplates {
        TenantTemplates {
            partner: json!({
                "id": "75b1889b-6f42-4cc5-8e62-e774b8db243c",
                "templateApplicationLevel": "newPartners,existingPartners",
                "inboundTrust": null,
                "b2bCollaborationOutbound": null,
                "b2bCollaborationInbound": null,
                "b2bDirectConnectOutbound": null,
                "b2bDirectConnectInbound": null,
                "automaticUserConsentSettings": { "inboundAllowed": null, "outboundAllowed": null }
            }),
            identity_sync: json!({
                "id": "0e7aad84-cb46-4b8e-a881-522ef25939f1",
                "templateApplicationLevel": "newPartners,existingPartners",
                "userSyncInbound": { "isSyncAllowed": null }
            }),
        }
    }
}

/// A `templateApplicationLevel`: flags among `none`, `newPartners`, `existingPartners`.
fn valid_level(level: &Value) -> bool {
    level.as_str().is_some_and(|l| {
        l.split(',')
            .all(|f| ["none", "newPartners", "existingPartners"].contains(&f.trim()))
    })
}

fn has_level(template: &Value, flag: &str) -> bool {
    template["templateApplicationLevel"]
        .as_str()
        .is_some_and(|l| l.split(',').any(|f| f.trim() == flag))
}

impl TenantTemplates {
    pub fn handle(&mut self, call: &Call<'_>) -> Option<Reply> {
        let segments: Vec<&str> = call.path.trim_start_matches('/').split('/').collect();
        let ["policies", "crossTenantAccessPolicy", "templates", name, rest @ ..] = segments.as_slice() else {
            return None;
        };
        let (template, properties): (&mut Value, &[&str]) = match *name {
            PARTNER => (&mut self.partner, &PARTNER_PROPERTIES),
            IDENTITY_SYNC => (&mut self.identity_sync, &IDENTITY_SYNC_PROPERTIES),
            _ => return None,
        };
        Some(match (call.method, rest) {
            ("GET", []) => {
                let mut answer = template.clone();
                answer["@odata.context"] = json!(format!("{CONTEXT}/{name}/$entity"));
                Reply::json(200, answer)
            }
            ("PATCH", []) => {
                let Some(body) = call.body.as_object() else {
                    return Some(Reply::error(
                        400,
                        "BadRequest",
                        "The request body is not a JSON object.",
                    ));
                };
                if let Some(bad) = body.keys().find(|k| !properties.contains(&k.as_str())) {
                    return Some(Reply::error(400, "BadRequest", &format!("Invalid property '{bad}'.")));
                }
                if body.get("templateApplicationLevel").is_some_and(|l| !valid_level(l)) {
                    return Some(Reply::error(
                        400,
                        "BadRequest",
                        "Invalid value for property 'templateApplicationLevel'.",
                    ));
                }
                for (k, v) in body {
                    template[k] = v.clone();
                }
                Reply::no_content()
            }
            ("POST", ["resetToDefaultSettings"]) => {
                let defaults = TenantTemplates::default();
                *template = if *name == PARTNER {
                    defaults.partner
                } else {
                    defaults.identity_sync
                };
                Reply::no_content()
            }
            (_, []) => super::organization::method_not_allowed("GET, PATCH"),
            _ => return None,
        })
    }

    /// What Entra does in this tenant's cross-tenant access settings for `partner` when one of
    /// the two joins the organization: the missing configurations are generated unconfigured
    /// (and count as new partners), then each template is applied where its level says.
    pub fn apply_at_join(&self, policies: &mut Policies, partner: &str) {
        let partner = partner.to_ascii_lowercase();
        let new_partner = !policies.partners.contains_key(&partner);
        let configuration = policies.partners.entry(partner.clone()).or_insert_with(|| {
            json!({
                "tenantId": partner,
                "isServiceProvider": null,
                "inboundTrust": null,
                "automaticUserConsentSettings": { "inboundAllowed": null, "outboundAllowed": null },
                "b2bCollaborationInbound": null,
                "b2bCollaborationOutbound": null,
                "b2bDirectConnectInbound": null,
                "b2bDirectConnectOutbound": null
            })
        });
        if has_level(
            &self.partner,
            if new_partner { "newPartners" } else { "existingPartners" },
        ) {
            for property in PARTNER_PROPERTIES.iter().filter(|p| **p != "templateApplicationLevel") {
                overlay_non_null(&mut configuration[*property], &self.partner[*property]);
            }
        }
        let new_sync = !policies.identity_sync.contains_key(&partner);
        let sync = policies.identity_sync.entry(partner.clone()).or_insert_with(|| {
            json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/crossTenantAccessPolicy/partners('tenant')/identitySynchronization/$entity",
                "tenantId": partner,
                "displayName": null,
                "userSyncInbound": { "isSyncAllowed": false }
            })
        });
        if has_level(
            &self.identity_sync,
            if new_sync { "newPartners" } else { "existingPartners" },
        ) {
            overlay_non_null(&mut sync["userSyncInbound"], &self.identity_sync["userSyncInbound"]);
        }
    }
}

/// `target` takes what `template` holds that is not null: an object property by property.
fn overlay_non_null(target: &mut Value, template: &Value) {
    match template {
        Value::Null => {}
        Value::Object(fields) if target.is_object() => {
            for (k, v) in fields.iter().filter(|(_, v)| !v.is_null()) {
                target[k] = v.clone();
            }
        }
        other => *target = other.clone(),
    }
}
