//! The world a SyncConfiguration is evaluated against, and the one evaluation every front-end
//! calls (docs/architecture.md, "One cycle, step by step").
//!
//! A `World` looks up Tenants, policies and the other configurations' claims on pairs, and
//! opens a Tenant's directory. It is implemented once for the cluster (`cluster`: the watch
//! caches and the client of `Context`) and once for manifests (`offline`: the objects of
//! `xtsync plan`'s files, each Tenant checked as the Tenant controller checks it).
//! `evaluation` runs dereference → validate → gate over a world and yields what the cycle, the
//! cleanup on delete and the dry run need; `reconcile`, the finalizer and `xtsync plan` only
//! decide what to do with its answer.

mod cluster;
mod dereference;
mod evaluation;
pub mod generated;
pub mod manifests;
mod offline;

use std::future::Future;
use std::sync::Arc;

use kube::runtime::reflector::Store;
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher;

use super::{Caches, Vetted, lookup, organization};
use crate::access::EffectivePolicy;
use crate::api::{CrossTenantAccessPolicy, SyncConfiguration, Tenant};
use crate::gate::PairClaim;
use crate::providers::{SourceDirectory, TargetDirectory, Unopenable};
pub use evaluation::{
    Cleanable, CleanupBlocked, CycleStart, Directories, Evaluation, GateVerdict, Runnable, UnusableTenant, evaluate,
};
pub use offline::ManifestWorld;

#[cfg(test)]
mod tests;

/// What an evaluation looks up and opens.
pub trait World: Sync {
    /// What a look-up of the world can fail with (the cluster's API; manifests cannot fail).
    type ApiError;

    /// The Tenants, policies and SyncConfigurations the world holds.
    fn caches(&self) -> Caches<'_>;

    /// The directory of Tenant `ns/name` in the source role, with the capabilities its check
    /// recorded. The outer error is the API's (retry); the inner one says why the Tenant cannot
    /// be used now. Shared (`Arc`), so that a world may hand one directory to every evaluation
    /// that opens it.
    fn open_source(
        &self,
        ns: &str,
        name: &str,
    ) -> impl Future<Output = Vetted<Arc<dyn SourceDirectory>, Unopenable, Self::ApiError>> + Send;

    /// The directory of Tenant `ns/name` in the target role; as `open_source`.
    fn open_target(
        &self,
        ns: &str,
        name: &str,
    ) -> impl Future<Output = Vetted<Arc<dyn TargetDirectory>, Unopenable, Self::ApiError>> + Send;

    fn tenant(&self, ns: &str, name: &str) -> Option<Arc<Tenant>> {
        lookup::tenant(self.caches().tenants, ns, name)
    }

    /// The policy in force for Tenant `ns/name`: the oldest of those that claim it.
    fn policy_in_force(&self, ns: &str, tenant_name: &str) -> Option<Arc<CrossTenantAccessPolicy>> {
        lookup::policy_in_force(self.caches().policies, ns, tenant_name)
    }

    /// The settings in force for Tenant `ns/name`: its policy in force overlaid with the
    /// partner templates of its Organizations (`access::overlay`); `None` with neither.
    fn effective_policy(&self, ns: &str, tenant_name: &str) -> Option<EffectivePolicy> {
        organization::effective_policy(&self.caches(), ns, tenant_name)
    }

    /// Every other configuration's claim on a pair (rule 2).
    fn claims(&self, config: &SyncConfiguration) -> Vec<PairClaim> {
        lookup::claims(&self.caches(), config)
    }
}

/// A store filled with `objects`, as a watch's first list fills a cache.
pub(crate) fn store<K>(objects: &[K]) -> Store<K>
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let mut writer = Writer::<K>::default();
    for object in objects {
        writer.apply_watcher_event(&watcher::Event::Apply(object.clone()));
    }
    writer.as_reader()
}
