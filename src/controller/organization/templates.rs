//! The partner templates in force for a tenant: those of the Organizations of its namespace it
//! is a member of — or is still leaving: its template entries stay until its generated
//! configurations, and their cleanup, are gone (withdrawn first, the gate of those
//! configurations would close under their cleanup; README, "Organizations").

use std::collections::BTreeSet;

use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::access::{self, EffectivePolicy, KeptField, OrganizationTemplate};
use crate::api::SyncConfiguration;
use crate::api::organization::{ORGANIZATION_LABEL, Organization};
use crate::controller::{Caches, lookup};

/// The tenants an Organization's template speaks for: its members, and the tenants leaving it.
fn in_force(caches: &Caches<'_>, ns: &str, organization: &Organization) -> BTreeSet<String> {
    // Those its generated configurations name (members, and tenants leaving), by the index.
    let mut tenants = caches.config_index.tenants_generated_by(ns, &organization.name_any());
    tenants.extend(organization.spec.tenants.iter().map(|m| m.tenant_ref.name.clone()));
    tenants
}

/// The templates that apply to Tenant `ns/tenant_name`, oldest Organization first, each with
/// the tenant ids of the partners it applies to (members whose Tenant does not exist have no
/// id, so no entry).
pub fn templates_for(caches: &Caches<'_>, ns: &str, tenant_name: &str) -> Vec<OrganizationTemplate> {
    let mut organizations: Vec<_> = caches
        .organizations
        .state()
        .into_iter()
        .filter(|o| o.namespace().as_deref() == Some(ns) && o.spec.partner_template.is_some())
        .collect();
    organizations.sort_by_key(|o| lookup::rank(o.as_ref()));
    organizations
        .iter()
        .filter_map(|organization| {
            let template = organization.spec.partner_template.clone()?;
            let tenants = in_force(caches, ns, organization);
            if !tenants.contains(tenant_name) {
                return None;
            }
            let partners = tenants
                .iter()
                .filter(|t| t.as_str() != tenant_name)
                .filter_map(|t| lookup::tenant(caches.tenants, ns, t))
                .map(|t| t.spec.tenant_id.to_ascii_lowercase())
                .collect();
            Some(OrganizationTemplate {
                organization: organization.name_any(),
                template,
                partners,
            })
        })
        .collect()
}

/// The settings in force for Tenant `ns/tenant_name`: its policy in force overlaid with its
/// Organizations' templates; `None` when it has neither (Entra's defaults, which deny).
pub fn effective_policy(caches: &Caches<'_>, ns: &str, tenant_name: &str) -> Option<EffectivePolicy> {
    let own = lookup::policy_in_force(caches.policies, ns, tenant_name);
    let templates = templates_for(caches, ns, tenant_name);
    (own.is_some() || !templates.is_empty()).then(|| access::overlay(own.as_ref().map(|p| &p.spec), &templates))
}

/// The fields of the members' own policies that win over this Organization's template (its
/// `applyTo: NewPartners` leaves a person's entries as written): (the policy's name, field).
pub fn kept_fields(caches: &Caches<'_>, ns: &str, organization: &Organization) -> Vec<(String, KeptField)> {
    let name = organization.name_any();
    let mut kept = Vec::new();
    for member in &organization.spec.tenants {
        let tenant = &member.tenant_ref.name;
        let Some(own) = lookup::policy_in_force(caches.policies, ns, tenant) else {
            continue;
        };
        let effective = access::overlay(Some(&own.spec), &templates_for(caches, ns, tenant));
        kept.extend(
            effective
                .kept
                .into_iter()
                .filter(|k| k.organization == name)
                .map(|k| (own.name_any(), k)),
        );
    }
    kept
}

/// The tenants an Organization names: its members, and those its status still shows (leaving).
pub fn tenants_named(organization: &Organization) -> BTreeSet<String> {
    let mut named: BTreeSet<String> = organization
        .spec
        .tenants
        .iter()
        .map(|m| m.tenant_ref.name.clone())
        .collect();
    let status = organization.status.iter().flat_map(|s| &s.tenants);
    named.extend(status.map(|t| t.name.clone()));
    named
}

/// The pair of a generated configuration that is going because a tenant leaves (one of its
/// Tenants is no member, or its Organization is being deleted or gone): while it exists its
/// Tenants' template entries stay, and when it goes they may be withdrawn — so the policies
/// and configurations of both Tenants are looked at again.
pub fn leaving_pair(organizations: &Store<Organization>, config: &SyncConfiguration) -> Option<(String, String)> {
    let ns = config.namespace()?;
    let name = config.labels().get(ORGANIZATION_LABEL)?;
    let (source, target) = (&config.spec.source_ref.name, &config.spec.target_ref.name);
    let leaving = match organizations.get(&ObjectRef::new(name).within(&ns)) {
        None => true,
        Some(o) if o.metadata.deletion_timestamp.is_some() => true,
        Some(o) => {
            let member = |t: &str| o.spec.tenants.iter().any(|m| m.tenant_ref.name == t);
            !member(source) || !member(target)
        }
    };
    leaving.then(|| (source.clone(), target.clone()))
}
