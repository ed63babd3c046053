//! What each watcher reads of an object, as a hash (`Feed::subscribe_changes`): a status write
//! that changes nothing a watcher reads — a cycle's counters, its progress, its last cycle, a
//! Tenant's last connection check — wakes none of them. With thousands of generated configurations, each written a
//! few times per cycle, waking every watcher on every write made each write cost a pass over
//! every configuration (docs/performance.md, "An organization of 100 tenants").

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::api::conditions::{self, ConditionReason};
use crate::api::reasons::{ReadyReason, TenantReadyReason};
use crate::api::{CrossTenantAccessPolicy, SyncConfiguration, Tenant};

fn hash(parts: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

fn ready(config: &SyncConfiguration) -> Option<(&str, &str, Option<i64>)> {
    let status = config.status.as_ref()?;
    conditions::find(&status.conditions, ReadyReason::TYPE)
        .map(|c| (c.status.as_str(), c.reason.as_str(), c.observed_generation))
}

/// What another configuration's gate reads of this one (rule 2, docs/architecture.md): the
/// Tenants it names and whether it is suspended (its spec), whether it is going, the pair it
/// holds, and its `Ready` (an invalid spec claims nothing; `DuplicatePair` may be freed).
pub fn claim(config: &SyncConfiguration) -> u64 {
    hash((
        config.metadata.generation,
        config.metadata.deletion_timestamp.is_some(),
        config.status.as_ref().and_then(|s| s.claimed_pair.as_deref()),
        ready(config),
    ))
}

/// What its Organization reads of a configuration: its spec, labels and owners (put back when
/// edited), whether it is going, and whether it is Ready (the members' counts).
pub fn organization_view(config: &SyncConfiguration) -> u64 {
    let owners: Vec<(&str, &str, &str)> = config
        .metadata
        .owner_references
        .iter()
        .flatten()
        .map(|o| (o.kind.as_str(), o.name.as_str(), o.uid.as_str()))
        .collect();
    hash((
        config.metadata.generation,
        &config.metadata.labels,
        owners,
        config.metadata.deletion_timestamp.is_some(),
        ready(config).map(|(status, _, _)| status),
    ))
}

/// What the leaving mappers read: the pair it names (spec, labels) and whether it is going.
pub fn leaving(config: &SyncConfiguration) -> u64 {
    hash((
        config.metadata.generation,
        &config.metadata.labels,
        config.metadata.deletion_timestamp.is_some(),
    ))
}

/// What a configuration's gate and its Organization read of a Tenant: its spec, its `Ready`
/// (for which generation) and its capabilities — not when it was last checked.
pub fn tenant_view(tenant: &Tenant) -> u64 {
    let status = tenant.status.as_ref();
    let ready = status
        .and_then(|s| conditions::find(&s.conditions, TenantReadyReason::TYPE))
        .map(|c| (c.status.as_str(), c.reason.as_str(), c.observed_generation));
    let capabilities = status
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| serde_json::to_string(c).ok());
    hash((tenant.metadata.generation, ready, capabilities))
}

/// What a configuration's gate reads of a policy: its spec (its status is derived from it).
pub fn policy_spec(policy: &CrossTenantAccessPolicy) -> u64 {
    hash(policy.metadata.generation)
}
