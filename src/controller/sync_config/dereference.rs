//! Dereference: what a SyncConfiguration points at, from the shared caches — its Tenants, their
//! policies, and the other configurations' claims on pairs — as plain values for the gate.

use std::sync::Arc;

use kube::ResourceExt;

use super::super::{Caches, lookup};
use crate::api::conditions::{self, ConditionReason};
use crate::api::reasons::ReadyReason;
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
            claim_of(caches, other, other_rank)
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

/// Another configuration's claim on its pair, when it has one (rule 2): a suspended or invalid
/// configuration claims nothing; one that holds its pair claims it whatever its Tenants'
/// readiness; any other only while both its Tenants are Ready (it could run).
fn claim_of(caches: &Caches<'_>, other: &SyncConfiguration, rank: (i64, String)) -> Option<PairClaim> {
    if other.spec.suspend {
        return None;
    }
    let status = other.status.as_ref();
    let invalid = status
        .and_then(|s| conditions::find(&s.conditions, ReadyReason::TYPE))
        .is_some_and(|c| {
            c.reason == ReadyReason::InvalidSpec.as_str() && c.observed_generation == other.metadata.generation
        });
    if invalid {
        return None;
    }
    let pair = lookup::pair_of(caches.tenants, other)?;
    let holds = status.and_then(|s| s.claimed_pair.as_deref()) == Some(pair.key().as_str());
    (holds || pair.runnable).then_some(PairClaim {
        rank,
        source_directory: pair.source_directory,
        target_directory: pair.target_directory,
        holds,
    })
}

impl Dereferenced {
    /// The gate's input; `claimed_pair` is the configuration's latest written
    /// `status.claimedPair` (the cache may not have it yet).
    pub fn gate_input<'a>(&'a self, config: &'a SyncConfiguration, claimed_pair: Option<&'a str>) -> GateInput<'a> {
        GateInput {
            source_name: &config.spec.source_ref.name,
            source: &self.source,
            target_name: &config.spec.target_ref.name,
            target: &self.target,
            rank: self.rank.clone(),
            claims: &self.claims,
            claimed_pair,
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
