//! The partner settings between the members of Organizations (README, "Organizations"): a
//! member's own CrossTenantAccessPolicy, when it has one, overlaid with the `partnerTemplate` of
//! each Organization it is a member of, for that Organization's other members — the way Entra
//! applies a multitenant organization's partner configuration template to its partners
//! (Microsoft Learn, "multiTenantOrganizationPartnerConfigurationTemplate resource type":
//! `newPartners` configures only partners without a configuration of their own,
//! `existingPartners` updates those too). A field the template leaves out changes nothing; the
//! member's own policy is never written, only read.
//!
//! Pure: the gate (through the world), the policy's `status.effective` and its push to Entra,
//! `xtsync plan` and the Organization's `Ready` message all read this one answer.

use crate::api::organization::{ApplyTo, PartnerTemplate};
use crate::api::policy::{
    B2bCollaboration, CrossTenantAccessPolicySpec, EffectivePartnerPolicy, EntryOrigin, InboundSettings,
    OutboundSettings, PartnerSettings,
};

/// An Organization's `partnerTemplate` as it applies to one of its members.
#[derive(Clone, Debug, PartialEq)]
pub struct OrganizationTemplate {
    /// The Organization's name.
    pub organization: String,
    pub template: PartnerTemplate,
    /// The tenant ids of the member's partners in it: the other members, and the tenants still
    /// leaving (until their generated configurations, and those configurations' cleanup, are
    /// gone).
    pub partners: Vec<String>,
}

/// Where an entry of the effective settings comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntrySource {
    /// The member's own policy.
    Policy,
    /// The `partnerTemplate` of this Organization.
    Organization(String),
}

/// A field of a member's own partner entry whose value, in force, differs from a template with
/// `applyTo: NewPartners`: the member's value wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptField {
    pub organization: String,
    /// The partner's tenant id.
    pub partner: String,
    /// Its path in the member's policy, e.g. `spec.partners[0].inbound.allowUsersSync`.
    pub field: String,
    /// The member's value in force (its entry's, else its default's), as JSON.
    pub own: String,
    /// The template's value, as JSON.
    pub template: String,
}

/// The settings in force for one tenant.
#[derive(Clone, Debug, PartialEq)]
pub struct EffectivePolicy {
    /// The member's own spec (or an empty one) with the templates' entries added or overridden.
    pub spec: CrossTenantAccessPolicySpec,
    /// Where each entry of `spec.partners` comes from, in the same order.
    pub sources: Vec<EntrySource>,
    /// The tenant has a CrossTenantAccessPolicy of its own.
    pub own_policy: bool,
    /// The member's fields that win over a `NewPartners` template.
    pub kept: Vec<KeptField>,
}

/// The effective settings of a tenant whose own policy is `own` (if any), member of the
/// Organizations whose templates are `templates`, oldest Organization first: for a partner
/// two Organizations share, the oldest decides.
pub fn overlay(own: Option<&CrossTenantAccessPolicySpec>, templates: &[OrganizationTemplate]) -> EffectivePolicy {
    let mut effective = EffectivePolicy {
        spec: own
            .cloned()
            .unwrap_or_else(CrossTenantAccessPolicySpec::default_for_missing),
        sources: Vec::new(),
        own_policy: own.is_some(),
        kept: Vec::new(),
    };
    effective.sources = vec![EntrySource::Policy; effective.spec.partners.len()];
    let mut decided: Vec<String> = Vec::new();
    for organization in templates {
        let template = &organization.template;
        if template.inbound == InboundSettings::default() && template.outbound == OutboundSettings::default() {
            continue;
        }
        for partner in &organization.partners {
            let partner = partner.to_ascii_lowercase();
            if decided.contains(&partner) {
                continue;
            }
            decided.push(partner.clone());
            let listed = effective
                .spec
                .partners
                .iter()
                .position(|p| p.tenant_id.eq_ignore_ascii_case(&partner));
            let source = EntrySource::Organization(organization.organization.clone());
            match (listed, template.apply_to) {
                (None, _) => {
                    effective.spec.partners.push(PartnerSettings {
                        tenant_id: partner,
                        inbound: template.inbound.clone(),
                        outbound: template.outbound.clone(),
                    });
                    effective.sources.push(source);
                }
                (Some(i), ApplyTo::NewPartners) => {
                    let kept = kept_fields(&effective.spec, i, template);
                    effective
                        .kept
                        .extend(kept.into_iter().map(|(field, own, template)| KeptField {
                            organization: organization.organization.clone(),
                            partner: partner.clone(),
                            field,
                            own,
                            template,
                        }));
                }
                (Some(i), ApplyTo::ExistingPartners) => {
                    let entry = &mut effective.spec.partners[i];
                    override_inbound(&mut entry.inbound, &template.inbound);
                    set(
                        &mut entry.outbound.automatically_redeem_invitations,
                        template.outbound.automatically_redeem_invitations,
                    );
                    effective.sources[i] = source;
                }
            }
        }
    }
    effective
}

impl EffectivePolicy {
    /// A tenant's own policy, with no Organization's template.
    pub fn of_policy(spec: &CrossTenantAccessPolicySpec) -> EffectivePolicy {
        overlay(Some(spec), &[])
    }

    /// The settings in force towards `partner_tenant_id`, with their origin.
    pub fn for_partner(&self, partner_tenant_id: &str) -> EffectivePartnerPolicy {
        let mut effective = super::effective_for(&self.spec, partner_tenant_id);
        if let Some(EntrySource::Organization(name)) = self.source_of(partner_tenant_id) {
            effective.origin = EntryOrigin::Organization;
            effective.organization = Some(name.clone());
        }
        effective
    }

    /// Every partner entry in force, in order: the policy's own, then the templates'.
    pub fn partners(&self) -> Vec<EffectivePartnerPolicy> {
        self.spec
            .partners
            .iter()
            .map(|p| self.for_partner(&p.tenant_id))
            .collect()
    }

    /// Where the entry for `partner_tenant_id` comes from; `None` when there is none (the
    /// default applies).
    pub fn source_of(&self, partner_tenant_id: &str) -> Option<&EntrySource> {
        let i = self
            .spec
            .partners
            .iter()
            .position(|p| p.tenant_id.eq_ignore_ascii_case(partner_tenant_id))?;
        self.sources.get(i)
    }
}

fn set<T>(own: &mut Option<T>, template: Option<T>) {
    if template.is_some() {
        *own = template;
    }
}

/// `ExistingPartners`: each field the template sets replaces the member's; `b2bCollaboration`
/// field by field, its user selection whole (as `access::merge_b2b` does).
fn override_inbound(own: &mut InboundSettings, template: &InboundSettings) {
    set(&mut own.allow_users_sync, template.allow_users_sync);
    set(&mut own.allow_groups_sync, template.allow_groups_sync);
    set(
        &mut own.automatically_redeem_invitations,
        template.automatically_redeem_invitations,
    );
    if let Some(b2b) = &template.b2b_collaboration {
        let mine = own.b2b_collaboration.get_or_insert_with(B2bCollaboration::default);
        set(&mut mine.allowed, b2b.allowed);
        set(&mut mine.users, b2b.users.clone());
    }
}

/// The fields the template sets whose value in force for entry `i` (the entry's, else the
/// default's) differs: (path, the member's value, the template's), as JSON.
fn kept_fields(
    spec: &CrossTenantAccessPolicySpec,
    i: usize,
    template: &PartnerTemplate,
) -> Vec<(String, String, String)> {
    let entry = super::effective_for(spec, &spec.partners[i].tenant_id);
    let mut kept = Vec::new();
    let mut compare = |field: &str, own: serde_json::Value, template: Option<serde_json::Value>| {
        if let Some(template) = template.filter(|t| *t != own) {
            kept.push((
                format!("spec.partners[{i}].{field}"),
                own.to_string(),
                template.to_string(),
            ));
        }
    };
    let json = serde_json::Value::from;
    let inbound = &template.inbound;
    compare(
        "inbound.allowUsersSync",
        json(entry.inbound.allow_users_sync),
        inbound.allow_users_sync.map(json),
    );
    compare(
        "inbound.allowGroupsSync",
        json(entry.inbound.allow_groups_sync),
        inbound.allow_groups_sync.map(json),
    );
    compare(
        "inbound.automaticallyRedeemInvitations",
        json(entry.inbound.automatically_redeem_invitations),
        inbound.automatically_redeem_invitations.map(json),
    );
    let b2b = inbound.b2b_collaboration.as_ref();
    compare(
        "inbound.b2bCollaboration.allowed",
        json(entry.inbound.b2b_collaboration.allowed),
        b2b.and_then(|b| b.allowed).map(json),
    );
    let own_users = serde_json::json!({
        "include": entry.inbound.b2b_collaboration.include,
        "exclude": entry.inbound.b2b_collaboration.exclude,
    });
    compare(
        "inbound.b2bCollaboration.users",
        own_users,
        b2b.and_then(|b| b.users.as_ref())
            .map(|u| serde_json::json!({ "include": u.include, "exclude": u.exclude })),
    );
    compare(
        "outbound.automaticallyRedeemInvitations",
        json(entry.outbound.automatically_redeem_invitations),
        template.outbound.automatically_redeem_invitations.map(json),
    );
    kept
}

#[cfg(test)]
mod tests;
