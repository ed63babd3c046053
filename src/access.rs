//! Effective cross-tenant access: a policy's default merged into each partner, field by field,
//! as Entra does ("a partner setting that is not configured inherits the default").

mod overlay;

pub use overlay::{EffectivePolicy, EntrySource, KeptField, OrganizationTemplate, overlay};

use crate::api::policy::{
    B2bCollaboration, CrossTenantAccessPolicySpec, EffectiveB2bCollaboration, EffectiveInbound, EffectiveOutbound,
    EffectivePartnerPolicy, InboundSettings, OutboundSettings,
};

/// The settings in force towards `partner_tenant_id`. With no policy at all, the defaults
/// deny (docs/architecture.md, rule 1) — pass an empty spec's default for that.
pub fn effective_for(spec: &CrossTenantAccessPolicySpec, partner_tenant_id: &str) -> EffectivePartnerPolicy {
    let partner = spec
        .partners
        .iter()
        .find(|p| p.tenant_id.eq_ignore_ascii_case(partner_tenant_id));
    let empty_in = InboundSettings::default();
    let empty_out = OutboundSettings::default();
    EffectivePartnerPolicy {
        tenant_id: partner_tenant_id.to_ascii_lowercase(),
        origin: Default::default(),
        organization: None,
        inbound: merge_inbound(partner.map_or(&empty_in, |p| &p.inbound), &spec.default.inbound),
        outbound: merge_outbound(partner.map_or(&empty_out, |p| &p.outbound), &spec.default.outbound),
    }
}

/// The effective settings for every listed partner, in the order listed.
pub fn effective_partners(spec: &CrossTenantAccessPolicySpec) -> Vec<EffectivePartnerPolicy> {
    spec.partners
        .iter()
        .map(|p| effective_for(spec, &p.tenant_id))
        .collect()
}

/// The settings for a tenant with no policy: Entra's defaults for synchronization deny.
pub fn no_policy(partner_tenant_id: &str) -> EffectivePartnerPolicy {
    effective_for(&CrossTenantAccessPolicySpec::default_for_missing(), partner_tenant_id)
}

/// Partner tenant ids listed more than once (an `InvalidSpec`: which entry would win?).
pub fn repeated_partners(spec: &CrossTenantAccessPolicySpec) -> Vec<String> {
    let mut seen = Vec::new();
    let mut repeated = Vec::new();
    for p in &spec.partners {
        let id = p.tenant_id.to_ascii_lowercase();
        if seen.contains(&id) {
            if !repeated.contains(&id) {
                repeated.push(id);
            }
        } else {
            seen.push(id);
        }
    }
    repeated
}

fn merge_inbound(partner: &InboundSettings, default: &InboundSettings) -> EffectiveInbound {
    EffectiveInbound {
        allow_users_sync: partner.allow_users_sync.or(default.allow_users_sync).unwrap_or(false),
        allow_groups_sync: partner.allow_groups_sync.or(default.allow_groups_sync).unwrap_or(false),
        automatically_redeem_invitations: partner
            .automatically_redeem_invitations
            .or(default.automatically_redeem_invitations)
            .unwrap_or(false),
        b2b_collaboration: merge_b2b(partner.b2b_collaboration.as_ref(), default.b2b_collaboration.as_ref()),
    }
}

fn merge_outbound(partner: &OutboundSettings, default: &OutboundSettings) -> EffectiveOutbound {
    EffectiveOutbound {
        automatically_redeem_invitations: partner
            .automatically_redeem_invitations
            .or(default.automatically_redeem_invitations)
            .unwrap_or(false),
    }
}

/// Entra allows B2B collaboration for all users by default; a partner's user selection, when
/// given, replaces the default's whole (lists are not concatenated, as in Entra's editor).
fn merge_b2b(partner: Option<&B2bCollaboration>, default: Option<&B2bCollaboration>) -> EffectiveB2bCollaboration {
    let allowed = partner
        .and_then(|b| b.allowed)
        .or(default.and_then(|b| b.allowed))
        .unwrap_or(true);
    let users = partner
        .and_then(|b| b.users.as_ref())
        .or(default.and_then(|b| b.users.as_ref()));
    EffectiveB2bCollaboration {
        allowed,
        include: users.map(|u| u.include.clone()).unwrap_or_default(),
        exclude: users.map(|u| u.exclude.clone()).unwrap_or_default(),
    }
}

impl CrossTenantAccessPolicySpec {
    pub(crate) fn default_for_missing() -> Self {
        CrossTenantAccessPolicySpec {
            tenant_ref: Default::default(),
            default: Default::default(),
            partners: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARTNER: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const OTHER: &str = "11111111-2222-3333-4444-555555555555";

    fn policy(json: serde_json::Value) -> CrossTenantAccessPolicySpec {
        serde_json::from_value(json).expect("policy spec deserializes")
    }

    #[test]
    fn absent_partner_fields_inherit_the_default() {
        let spec = policy(serde_json::json!({
            "tenantRef": {"name": "fabrikam"},
            "default": {"inbound": {"allowUsersSync": true, "automaticallyRedeemInvitations": false},
                        "outbound": {"automaticallyRedeemInvitations": true}},
            "partners": [{"tenantId": PARTNER, "inbound": {"automaticallyRedeemInvitations": true}}]
        }));
        let e = effective_for(&spec, PARTNER);
        assert!(e.inbound.allow_users_sync, "inherited from default");
        assert!(e.inbound.automatically_redeem_invitations, "partner override");
        assert!(e.outbound.automatically_redeem_invitations, "inherited from default");
        assert!(
            e.inbound.b2b_collaboration.allowed,
            "Entra's default allows B2B collaboration"
        );
    }

    #[test]
    fn partner_can_deny_what_the_default_allows() {
        let spec = policy(serde_json::json!({
            "tenantRef": {"name": "fabrikam"},
            "default": {"inbound": {"allowUsersSync": true}},
            "partners": [{"tenantId": PARTNER, "inbound": {"allowUsersSync": false}}]
        }));
        assert!(!effective_for(&spec, PARTNER).inbound.allow_users_sync);
        assert!(
            effective_for(&spec, OTHER).inbound.allow_users_sync,
            "unlisted partner gets the default"
        );
    }

    #[test]
    fn partner_ids_match_case_insensitively() {
        let spec = policy(serde_json::json!({
            "tenantRef": {"name": "fabrikam"},
            "partners": [{"tenantId": PARTNER.to_uppercase(), "inbound": {"allowUsersSync": true}}]
        }));
        assert!(effective_for(&spec, PARTNER).inbound.allow_users_sync);
    }

    #[test]
    fn no_policy_denies_everything() {
        let e = no_policy(PARTNER);
        assert!(!e.inbound.allow_users_sync);
        assert!(!e.inbound.automatically_redeem_invitations);
        assert!(!e.outbound.automatically_redeem_invitations);
    }

    #[test]
    fn b2b_user_selection_comes_from_the_most_specific_level() {
        let spec = policy(serde_json::json!({
            "tenantRef": {"name": "fabrikam"},
            "default": {"inbound": {"b2bCollaboration": {"allowed": false, "users": {"include": ["AllUsers"]}}}},
            "partners": [{"tenantId": PARTNER, "inbound": {"b2bCollaboration": {"users": {"include": ["g1"], "exclude": ["g2"]}}}}]
        }));
        let b2b = effective_for(&spec, PARTNER).inbound.b2b_collaboration;
        assert!(!b2b.allowed);
        assert_eq!(b2b.include, vec!["g1"]);
        assert_eq!(b2b.exclude, vec!["g2"]);
        assert_eq!(effective_partners(&spec).len(), 1);
    }

    #[test]
    fn repeated_partners_are_found() {
        let spec = policy(serde_json::json!({
            "tenantRef": {"name": "fabrikam"},
            "partners": [{"tenantId": PARTNER}, {"tenantId": OTHER}, {"tenantId": PARTNER.to_uppercase()}]
        }));
        assert_eq!(repeated_partners(&spec), vec![PARTNER.to_string()]);
    }
}
