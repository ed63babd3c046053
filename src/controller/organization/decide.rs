//! What an Organization's `Ready` says, decided from facts already gathered: pure. First the
//! spec (`InvalidSpec`, `NoOwner`: nothing is generated or deleted), then the members
//! (`TenantNotFound`, `TenantNotReady`), then the pairs left to another configuration
//! (`Conflict`).

use std::collections::BTreeSet;

use super::fan_out::{self, Pair};
use crate::access::KeptField;
use crate::api::conditions::Verdict;
use crate::api::organization::{MemberRole, OrganizationSpec, TopologyMode};
use crate::api::reasons::OrganizationReadyReason;
use crate::validate;

/// The longest label value (Kubernetes "Labels and Selectors"): the Organization's name and
/// each member's are label values of what it generates.
pub const MAX_LABEL_VALUE: usize = 63;

/// A member Tenant as the reconciler found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberFacts {
    pub name: String,
    pub role: MemberRole,
    pub found: MemberTenant,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberTenant {
    Missing,
    /// The Tenant exists and is not Ready: why.
    NotReady {
        tenant_id: String,
        why: String,
    },
    Ready {
        tenant_id: String,
    },
}

impl MemberTenant {
    pub fn tenant_id(&self) -> Option<&str> {
        match self {
            MemberTenant::Missing => None,
            MemberTenant::NotReady { tenant_id, .. } | MemberTenant::Ready { tenant_id } => Some(tenant_id),
        }
    }
}

/// Why the spec cannot be used: every problem, each naming its field.
pub fn problems(organization: &str, spec: &OrganizationSpec) -> Vec<String> {
    let mut problems = Vec::new();
    if organization.len() > MAX_LABEL_VALUE {
        problems.push(format!(
            "metadata.name: {} characters; the name is the value of the label xtsync.io/organization, at most {MAX_LABEL_VALUE}",
            organization.len()
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, member) in spec.tenants.iter().enumerate() {
        let name = member.tenant_ref.name.as_str();
        if !seen.insert(name) {
            problems.push(format!(
                "spec.tenants[{i}].tenantRef.name: '{name}' is listed more than once"
            ));
        }
        if name.len() > MAX_LABEL_VALUE {
            problems.push(format!(
                "spec.tenants[{i}].tenantRef.name: {} characters; a member's name is a label value (xtsync.io/source, xtsync.io/target), at most {MAX_LABEL_VALUE}",
                name.len()
            ));
        }
    }
    let hub = spec.topology.hub.as_ref().map(|h| h.name.as_str());
    match (spec.topology.mode, hub) {
        (TopologyMode::Mesh, _) => {}
        (mode, None) => problems.push(format!("spec.topology.hub: required for mode {mode:?}")),
        (_, Some(hub)) if !seen.contains(hub) => {
            problems.push(format!("spec.topology.hub: '{hub}' is not a member"));
        }
        _ => {}
    }
    for (i, excluded) in spec.topology.exclude.iter().enumerate() {
        for (side, name) in [("source", &excluded.source.name), ("target", &excluded.target.name)] {
            if !seen.contains(name.as_str()) {
                problems.push(format!("spec.topology.exclude[{i}].{side}: '{name}' is not a member"));
            }
        }
    }
    // A placeholder pair: the template must make a valid configuration for any pair.
    match fan_out::spec_for(spec, &Pair::new("source", "target")) {
        Err(e) => problems.push(format!("spec.syncTemplate: {e}")),
        Ok(config) => {
            if let Err(found) = validate::validate(&config) {
                problems.extend(found.0.iter().map(|p| format!("spec.syncTemplate: {p}")));
            }
        }
    }
    problems
}

/// At least one member is an Owner.
pub fn has_owner(spec: &OrganizationSpec) -> bool {
    spec.tenants.iter().any(|m| m.role == MemberRole::Owner)
}

/// `Ready`, in the order of the module doc.
pub fn readiness(
    problems: &[String],
    spec: &OrganizationSpec,
    members: &[MemberFacts],
    conflicts: &[(Pair, String)],
    generated: usize,
) -> Verdict {
    use OrganizationReadyReason as R;
    if !problems.is_empty() {
        return Verdict::falsity(R::InvalidSpec, problems.join("; "));
    }
    if !has_owner(spec) {
        return Verdict::falsity(
            R::NoOwner,
            "no member has role Owner; nothing is generated or deleted until one has",
        );
    }
    let missing: Vec<&str> = members
        .iter()
        .filter(|m| m.found == MemberTenant::Missing)
        .map(|m| m.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Verdict::falsity(
            R::TenantNotFound,
            format!(
                "no Tenant named {} in the namespace; the configurations of its pairs wait for it",
                quoted(&missing)
            ),
        );
    }
    let not_ready: Vec<String> = members
        .iter()
        .filter_map(|m| match &m.found {
            MemberTenant::NotReady { why, .. } => Some(format!("'{}' ({why})", m.name)),
            _ => None,
        })
        .collect();
    if !not_ready.is_empty() {
        return Verdict::falsity(R::TenantNotReady, format!("Tenant {} not Ready", not_ready.join(", ")));
    }
    if !conflicts.is_empty() {
        let named: Vec<String> = conflicts
            .iter()
            .map(|(pair, other)| format!("{pair} is configured by SyncConfiguration '{other}'"))
            .collect();
        return Verdict::falsity(
            R::Conflict,
            format!("{}; the Organization leaves these pairs to them", named.join(", ")),
        );
    }
    Verdict::truth(
        R::Established,
        format!("{} members Ready, {generated} configurations generated", members.len()),
    )
}

/// The most kept fields a `Ready` message names one by one (a condition's message is bounded).
const MAX_KEPT_NAMED: usize = 20;

/// `Ready` with the members' fields that win over the template under `applyTo: NewPartners`
/// (`kept`: the policy's name and the field) named in its message; its status and reason stay.
pub fn with_kept_fields(mut ready: Verdict, kept: &[(String, KeptField)]) -> Verdict {
    if kept.is_empty() {
        return ready;
    }
    let mut named: Vec<String> = kept
        .iter()
        .take(MAX_KEPT_NAMED)
        .map(|(policy, k)| {
            format!(
                "CrossTenantAccessPolicy '{policy}' {} is {} for partner {} (template: {})",
                k.field, k.own, k.partner, k.template
            )
        })
        .collect();
    if kept.len() > MAX_KEPT_NAMED {
        named.push(format!("and {} more", kept.len() - MAX_KEPT_NAMED));
    }
    ready.message = format!(
        "{}; partnerTemplate applies to NewPartners, so these fields of members' own policies differ from it and the person's value wins: {}",
        ready.message,
        named.join(", ")
    );
    ready
}

fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}
