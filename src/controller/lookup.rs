//! Dereferencing: from a resource to what it names, through the shared caches.

use std::sync::Arc;

use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::api::conditions::{self, ConditionReason};
use crate::api::reasons::TenantReadyReason;
use crate::api::{CrossTenantAccessPolicy, SyncConfiguration, Tenant};
use crate::engine::address;
use crate::gate::{TenantFacts, TenantState};

pub fn tenant(store: &Store<Tenant>, namespace: &str, name: &str) -> Option<Arc<Tenant>> {
    store.get(&ObjectRef::new(name).within(namespace))
}

/// What the gate needs to know of a Tenant: does it exist, and is its *current* spec Ready?
pub fn tenant_state(tenant: Option<&Tenant>) -> TenantState {
    let Some(tenant) = tenant else {
        return TenantState::Missing;
    };
    let status = tenant.status.as_ref();
    let ready = status.and_then(|s| conditions::find(&s.conditions, TenantReadyReason::TYPE));
    match ready {
        None => TenantState::Pending {
            message: "its connection has not been checked yet".into(),
        },
        Some(c) if c.observed_generation.is_some() && c.observed_generation != tenant.metadata.generation => {
            TenantState::Pending {
                message: "its spec changed and is being checked again".into(),
            }
        }
        Some(c) if c.status == "True" => TenantState::Ready(TenantFacts {
            tenant_id: tenant.spec.tenant_id.to_ascii_lowercase(),
            cloud: tenant.spec.cloud,
            domains: address::domains(tenant.spec.domains.iter().map(String::as_str)),
        }),
        Some(c) => TenantState::NotReady {
            reason: c.reason.clone(),
            message: c.message.clone(),
        },
    }
}

/// Orders resources for "the oldest wins": creation time, then namespace/name so that ties
/// (same second) are broken the same way on every replica.
pub fn rank<K: ResourceExt>(object: &K) -> (i64, String) {
    let created = object
        .meta()
        .creation_timestamp
        .as_ref()
        .map_or(i64::MAX, |t| t.0.as_second());
    (
        created,
        format!("{}/{}", object.namespace().unwrap_or_default(), object.name_any()),
    )
}

/// The policies that claim the Tenant `namespace/tenant_name`, oldest first.
pub fn policies_of(
    store: &Store<CrossTenantAccessPolicy>,
    namespace: &str,
    tenant_name: &str,
) -> Vec<Arc<CrossTenantAccessPolicy>> {
    let mut found: Vec<_> = store
        .state()
        .into_iter()
        .filter(|p| p.namespace().as_deref() == Some(namespace) && p.spec.tenant_ref.name == tenant_name)
        .collect();
    found.sort_by_key(|p| rank(p.as_ref()));
    found
}

/// The policy in force for a Tenant: the oldest of those that claim it.
pub fn policy_in_force(
    store: &Store<CrossTenantAccessPolicy>,
    namespace: &str,
    tenant_name: &str,
) -> Option<Arc<CrossTenantAccessPolicy>> {
    policies_of(store, namespace, tenant_name).into_iter().next()
}

/// The (source, target) tenant ids a configuration points at, when both Tenants exist.
pub fn pair_of(tenants: &Store<Tenant>, config: &SyncConfiguration) -> Option<(String, String)> {
    let ns = config.namespace()?;
    let source = tenant(tenants, &ns, &config.spec.source_ref.name)?;
    let target = tenant(tenants, &ns, &config.spec.target_ref.name)?;
    Some((
        source.spec.tenant_id.to_ascii_lowercase(),
        target.spec.tenant_id.to_ascii_lowercase(),
    ))
}
