//! Dereference: what a SyncConfiguration points at, looked up in a world — its Tenants, their
//! policies, and the other configurations' claims on pairs — as plain values for the gate.

use super::World;
use crate::access::EffectivePolicy;
use crate::api::SyncConfiguration;
use crate::controller::lookup;
use crate::gate::{GateInput, PairClaim, TenantState};

pub struct Dereferenced {
    pub source: TenantState,
    pub target: TenantState,
    /// The source Tenant's `spec.tenantId` in compared form, whenever the Tenant exists (Ready
    /// or not): the anchors of the users provisioned from it name it (cleanup on delete).
    pub source_tenant_id: Option<String>,
    /// This configuration's rank for "the oldest wins", and every other configuration's claim.
    pub rank: (i64, String),
    pub claims: Vec<PairClaim>,
    /// The Tenants' settings in force: each one's policy with its Organizations' templates.
    pub source_policy: Option<EffectivePolicy>,
    pub target_policy: Option<EffectivePolicy>,
    /// The source can list the users changed since a watermark, so incremental cycles work.
    pub source_tracks_changes: bool,
}

pub fn dereference<W: World>(world: &W, config: &SyncConfiguration, ns: &str) -> Dereferenced {
    let spec = &config.spec;
    let source = world.tenant(ns, &spec.source_ref.name);
    let target = world.tenant(ns, &spec.target_ref.name);
    let source_tracks_changes = source
        .as_deref()
        .is_some_and(|t| lookup::capabilities(t).change_tracking);
    Dereferenced {
        source: lookup::tenant_state(source.as_deref()),
        target: lookup::tenant_state(target.as_deref()),
        source_tenant_id: source.as_ref().map(|t| t.spec.tenant_id.to_ascii_lowercase()),
        rank: lookup::rank(config),
        claims: world.claims(config),
        source_policy: world.effective_policy(ns, &spec.source_ref.name),
        target_policy: world.effective_policy(ns, &spec.target_ref.name),
        source_tracks_changes,
    }
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
            target_policy: self.target_policy.as_ref(),
            source_policy: self.source_policy.as_ref(),
            provisions_groups: config.spec.group_provisioning.as_ref().is_some_and(|g| g.enabled),
        }
    }
}
