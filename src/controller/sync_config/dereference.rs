//! Dereference: what a SyncConfiguration points at, from the shared caches — its Tenants, their
//! policies, and the other configurations' claims on pairs — as plain values for the gate.

use std::sync::Arc;

use kube::ResourceExt;

use super::super::{Caches, lookup};
use crate::api::{CrossTenantAccessPolicy, SyncConfiguration};
use crate::gate::{GateInput, PairClaim, TenantState};

pub struct Dereferenced {
    pub source: TenantState,
    pub target: TenantState,
    /// This configuration's rank for "the oldest wins", and every other configuration's claim.
    pub rank: (i64, String),
    pub claims: Vec<PairClaim>,
    pub source_policy: Option<Arc<CrossTenantAccessPolicy>>,
    pub target_policy: Option<Arc<CrossTenantAccessPolicy>>,
    /// The source can list the users changed since a watermark, so incremental cycles work.
    pub source_tracks_changes: bool,
}

pub fn dereference(config: &SyncConfiguration, ns: &str, caches: &Caches<'_>) -> Dereferenced {
    let spec = &config.spec;
    let source = lookup::tenant(caches.tenants, ns, &spec.source_ref.name);
    let target = lookup::tenant(caches.tenants, ns, &spec.target_ref.name);
    let rank = lookup::rank(config);
    let claims = caches
        .configs
        .state()
        .iter()
        .filter_map(|other| {
            let other_rank = lookup::rank(other.as_ref());
            if other_rank == rank {
                return None;
            }
            let (source_tenant_id, target_tenant_id) = lookup::pair_of(caches.tenants, other)?;
            Some(PairClaim {
                rank: other_rank,
                source_tenant_id,
                target_tenant_id,
            })
        })
        .collect();
    let source_tracks_changes = source
        .as_ref()
        .and_then(|t| t.status.as_ref()?.capabilities.as_ref().map(|c| c.change_tracking))
        .unwrap_or(false);
    Dereferenced {
        source: lookup::tenant_state(source.as_deref()),
        target: lookup::tenant_state(target.as_deref()),
        rank,
        claims,
        source_policy: lookup::policy_in_force(caches.policies, ns, &spec.source_ref.name),
        target_policy: lookup::policy_in_force(caches.policies, ns, &spec.target_ref.name),
        source_tracks_changes,
    }
}

impl Dereferenced {
    pub fn gate_input<'a>(&'a self, config: &'a SyncConfiguration) -> GateInput<'a> {
        GateInput {
            source_name: &config.spec.source_ref.name,
            source: &self.source,
            target_name: &config.spec.target_ref.name,
            target: &self.target,
            rank: self.rank.clone(),
            claims: &self.claims,
            target_policy: self.target_policy.as_ref().map(|p| &p.spec),
            source_policy: self.source_policy.as_ref().map(|p| &p.spec),
            provisions_groups: config.spec.group_provisioning.as_ref().is_some_and(|g| g.enabled),
        }
    }
}

/// `namespace/name`, for logs.
pub fn label(config: &SyncConfiguration) -> String {
    format!("{}/{}", config.namespace().unwrap_or_default(), config.name_any())
}
