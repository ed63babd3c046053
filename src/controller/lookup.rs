//! Dereferencing: from a resource to what it names, through the shared caches.

use std::sync::Arc;

use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};

use super::Caches;
use crate::api::conditions::{self, ConditionReason};
use crate::api::reasons::{ReadyReason, TenantReadyReason};
use crate::api::tenant::{Capabilities, TenantSpec};
use crate::api::{CrossTenantAccessPolicy, SyncConfiguration, Tenant};
use crate::engine::address;
use crate::gate::{PairClaim, TenantFacts, TenantState};

pub fn tenant(store: &Store<Tenant>, namespace: &str, name: &str) -> Option<Arc<Tenant>> {
    store.get(&ObjectRef::new(name).within(namespace))
}

/// What the Tenant's last check found its directory can do (none, before a check).
pub fn capabilities(tenant: &Tenant) -> Capabilities {
    tenant
        .status
        .as_ref()
        .and_then(|s| s.capabilities.clone())
        .unwrap_or_default()
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
            directory: directory_of(&tenant.spec),
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

/// The directory a Tenant names, so that two Tenants naming one are one (README, "Safety"):
/// a SCIM base URL with scheme and host in lower case, the default port left out and no
/// trailing `/` (RFC 3986 §6.2.3), or a Graph tenant by id.
pub fn directory_of(spec: &TenantSpec) -> String {
    match (&spec.directory.scim, &spec.directory.msgraph) {
        (Some(scim), _) => match reqwest::Url::parse(scim.url.trim()) {
            Ok(mut url) => {
                url.set_query(None);
                url.set_fragment(None);
                format!("scim {}", url.as_str().trim_end_matches('/'))
            }
            Err(_) => format!("scim {}", scim.url.trim()),
        },
        _ => format!("graph {}", spec.tenant_id.trim().to_ascii_lowercase()),
    }
}

/// A configuration's side of a pair as another configuration's gate sees it: the directories
/// it connects, and whether it could run now (both Tenants Ready).
pub struct SiblingPair {
    pub source_directory: String,
    pub target_directory: String,
    pub runnable: bool,
}

impl SiblingPair {
    /// The pair as `status.claimedPair` names it.
    pub fn key(&self) -> String {
        crate::gate::pair_key(&self.source_directory, &self.target_directory)
    }
}

/// The pair a configuration points at, when both Tenants exist.
pub fn pair_of(tenants: &Store<Tenant>, config: &SyncConfiguration) -> Option<SiblingPair> {
    let ns = config.namespace()?;
    let source = tenant(tenants, &ns, &config.spec.source_ref.name)?;
    let target = tenant(tenants, &ns, &config.spec.target_ref.name)?;
    let ready = |t: &Tenant| matches!(tenant_state(Some(t)), TenantState::Ready(_));
    Some(SiblingPair {
        source_directory: directory_of(&source.spec),
        target_directory: directory_of(&target.spec),
        runnable: ready(&source) && ready(&target),
    })
}

/// Every other configuration's claim on this one's pair of directories (rule 2).
pub fn claims(caches: &Caches<'_>, config: &SyncConfiguration) -> Vec<PairClaim> {
    let own = rank(config);
    same_directories(caches, config)
        .into_iter()
        .filter_map(|other| {
            let other_rank = rank(other.as_ref());
            if other_rank == own {
                return None;
            }
            claim_of(caches, &other, other_rank)
        })
        .collect()
}

/// The configurations (this one too) whose source and target Tenants have the same directories
/// as this one's, in any namespace: the Tenants by a scan of the (few) Tenants, their
/// configurations through the index — never a scan of every configuration.
pub fn same_directories(caches: &Caches<'_>, config: &SyncConfiguration) -> Vec<Arc<SyncConfiguration>> {
    let Some(pair) = pair_of(caches.tenants, config) else {
        return Vec::new();
    };
    let tenants: Vec<(String, String, String)> = caches
        .tenants
        .state()
        .iter()
        .map(|t| (t.namespace().unwrap_or_default(), t.name_any(), directory_of(&t.spec)))
        .collect();
    let with = |directory: &str| -> Vec<(&str, &str)> {
        tenants
            .iter()
            .filter(|(_, _, d)| d == directory)
            .map(|(ns, name, _)| (ns.as_str(), name.as_str()))
            .collect()
    };
    let (sources, targets) = (with(&pair.source_directory), with(&pair.target_directory));
    let mut found = Vec::new();
    for (ns, source) in &sources {
        for (_, target) in targets.iter().filter(|(target_ns, _)| target_ns == ns) {
            found.extend(
                caches
                    .config_index
                    .naming(ns, source, target)
                    .iter()
                    .filter_map(|name| caches.configs.get(&ObjectRef::new(name).within(ns))),
            );
        }
    }
    found
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
    let pair = pair_of(caches.tenants, other)?;
    let holds = status.and_then(|s| s.claimed_pair.as_deref()) == Some(pair.key().as_str());
    (holds || pair.runnable).then_some(PairClaim {
        rank,
        source_directory: pair.source_directory,
        target_directory: pair.target_directory,
        holds,
    })
}
