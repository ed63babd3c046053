//! Dereferencing an Organization through the caches: its member Tenants, and the namespace's
//! SyncConfigurations as the fan-out sees them (which ones it generated, found by label or by
//! owner reference, never by name).

use std::collections::BTreeMap;

use kube::ResourceExt;
use kube::runtime::reflector::Store;

use super::decide::{MemberFacts, MemberTenant};
use super::fan_out::{Existing, Pair};
use crate::api::conditions::{self, ConditionReason};
use crate::api::organization::{ORGANIZATION_LABEL, Organization, SOURCE_LABEL, TARGET_LABEL};
use crate::api::reasons::ReadyReason;
use crate::api::{SyncConfiguration, Tenant};
use crate::controller::lookup;
use crate::gate::TenantState;

/// The members as listed, each with what its Tenant says.
pub fn members(tenants: &Store<Tenant>, ns: &str, organization: &Organization) -> Vec<MemberFacts> {
    organization
        .spec
        .tenants
        .iter()
        .map(|member| {
            let name = &member.tenant_ref.name;
            let tenant = lookup::tenant(tenants, ns, name);
            let found = match (&tenant, lookup::tenant_state(tenant.as_deref())) {
                (None, _) | (_, TenantState::Missing) => MemberTenant::Missing,
                (Some(_), TenantState::Ready(facts)) => MemberTenant::Ready {
                    tenant_id: facts.tenant_id,
                },
                (Some(t), TenantState::Pending { message }) => MemberTenant::NotReady {
                    tenant_id: t.spec.tenant_id.to_ascii_lowercase(),
                    why: message,
                },
                (Some(t), TenantState::NotReady { reason, message }) => MemberTenant::NotReady {
                    tenant_id: t.spec.tenant_id.to_ascii_lowercase(),
                    why: format!("{reason}: {message}"),
                },
            };
            MemberFacts {
                name: name.clone(),
                role: member.role,
                found,
            }
        })
        .collect()
}

/// The directory of each member whose Tenant exists.
pub fn directories(tenants: &Store<Tenant>, ns: &str, organization: &Organization) -> BTreeMap<String, String> {
    organization
        .spec
        .tenants
        .iter()
        .filter_map(|member| {
            let tenant = lookup::tenant(tenants, ns, &member.tenant_ref.name)?;
            Some((member.tenant_ref.name.clone(), lookup::directory_of(&tenant.spec)))
        })
        .collect()
}

/// The namespace's SyncConfigurations, sorted by name.
pub fn existing(
    configs: &Store<SyncConfiguration>,
    tenants: &Store<Tenant>,
    ns: &str,
    organization: &Organization,
) -> Vec<Existing> {
    let mut found: Vec<Existing> = configs
        .state()
        .into_iter()
        .filter(|c| c.namespace().as_deref() == Some(ns))
        .map(|c| {
            let refs = Pair::new(&c.spec.source_ref.name, &c.spec.target_ref.name);
            Existing {
                name: c.name_any(),
                generated: generated_pair(&c, organization, &refs),
                directories: lookup::pair_of(tenants, &c).map(|p| (p.source_directory, p.target_directory)),
                refs: Some(refs),
                deleting: c.metadata.deletion_timestamp.is_some(),
                ready: c.status.as_ref().is_some_and(|s| {
                    conditions::find(&s.conditions, ReadyReason::TYPE).is_some_and(|r| r.status == "True")
                }),
            }
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// The pair of a configuration this Organization generated: labelled with its name, or owned
/// by it (a label edited away by hand is put back). The pair is its labels', else its spec's.
fn generated_pair(config: &SyncConfiguration, organization: &Organization, refs: &Pair) -> Option<Pair> {
    let labels = config.labels();
    let labelled = labels.get(ORGANIZATION_LABEL) == Some(&organization.name_any());
    if !labelled && !owned_by(config, organization) {
        return None;
    }
    match (labels.get(SOURCE_LABEL), labels.get(TARGET_LABEL)) {
        (Some(source), Some(target)) => Some(Pair::new(source, target)),
        _ => Some(refs.clone()),
    }
}

/// The Organization is the configuration's controller (its owner reference names its uid).
pub fn owned_by(config: &SyncConfiguration, organization: &Organization) -> bool {
    let uid = organization.uid();
    config
        .owner_references()
        .iter()
        .any(|o| o.kind == "Organization" && o.controller == Some(true) && Some(&o.uid) == uid.as_ref())
}
