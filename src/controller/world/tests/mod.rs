//! The shared evaluation as its front-ends meet it — cleanup on delete and `xtsync plan` —
//! against a world of objects (as manifests give them, the Tenants already checked) whose
//! Tenants open in-memory directories (`providers::memory`). Milliseconds, no apiserver.

mod cleanup;
mod organization;
mod organizations;
mod plan;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use kube::runtime::reflector::Store;
use serde_json::{Value, json};

use super::store;
use super::{Evaluation, World, evaluate};
use crate::api::conditions::ConditionReason;
use crate::api::reasons::TenantReadyReason;
use crate::api::{CrossTenantAccessPolicy, Organization, SyncConfiguration, Tenant};
use crate::controller::config_index::ConfigIndex;
use crate::controller::{Caches, Vetted};
use crate::engine::attributes::WORK_EMAIL;
use crate::engine::user::User;
use crate::providers::memory::MemoryDirectory;
use crate::providers::{SourceDirectory, TargetDirectory, Unopenable};

pub const CONTOSO: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const FABRIKAM: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Tenants, policies and configurations as the caches would hold them, and the directory
/// behind each Tenant.
pub struct MemoryWorld {
    tenants: Store<Tenant>,
    policies: Store<CrossTenantAccessPolicy>,
    configs: Store<SyncConfiguration>,
    config_index: ConfigIndex,
    organizations: Store<Organization>,
    directories: HashMap<String, Arc<MemoryDirectory>>,
}

impl World for MemoryWorld {
    type ApiError = Infallible;

    fn caches(&self) -> Caches<'_> {
        Caches {
            tenants: &self.tenants,
            policies: &self.policies,
            configs: &self.configs,
            config_index: &self.config_index,
            organizations: &self.organizations,
        }
    }

    async fn open_source(&self, _ns: &str, name: &str) -> Vetted<Arc<dyn SourceDirectory>, Unopenable, Infallible> {
        Ok(match self.directories.get(name) {
            Some(directory) => Ok(directory.clone() as Arc<dyn SourceDirectory>),
            None => Err(Unopenable::TenantNotFound(name.to_owned())),
        })
    }

    async fn open_target(&self, _ns: &str, name: &str) -> Vetted<Arc<dyn TargetDirectory>, Unopenable, Infallible> {
        Ok(match self.directories.get(name) {
            Some(directory) => Ok(directory.clone() as Arc<dyn TargetDirectory>),
            None => Err(Unopenable::TenantNotFound(name.to_owned())),
        })
    }
}

/// Contoso → Fabrikam: both Tenants Ready, both policies allowing the sync, one configuration
/// (`AllUsers`, cleanup on delete) as `spec` amends it.
pub struct Setting {
    pub tenants: Vec<Tenant>,
    pub policies: Vec<CrossTenantAccessPolicy>,
    pub config: SyncConfiguration,
    pub organizations: Vec<Organization>,
    pub source: Arc<MemoryDirectory>,
    pub target: Arc<MemoryDirectory>,
}

impl Setting {
    pub fn new(spec: Value) -> Setting {
        let mut base = json!({
            "sourceRef": { "name": "contoso" },
            "targetRef": { "name": "fabrikam" },
            "interval": "5m",
            "scope": { "mode": "AllUsers" },
            "deprovision": { "onConfigurationDelete": "Deprovision" },
        });
        merge(&mut base, spec);
        Setting {
            tenants: vec![
                tenant("contoso", CONTOSO, "contoso.com"),
                tenant("fabrikam", FABRIKAM, "fabrikam.com"),
            ],
            policies: vec![
                object(json!({
                    "apiVersion": "xtsync.io/v1alpha1", "kind": "CrossTenantAccessPolicy",
                    "metadata": { "name": "fabrikam", "namespace": "default" },
                    "spec": { "tenantRef": { "name": "fabrikam" }, "partners": [{ "tenantId": CONTOSO,
                        "inbound": { "allowUsersSync": true, "automaticallyRedeemInvitations": true } }] },
                })),
                object(json!({
                    "apiVersion": "xtsync.io/v1alpha1", "kind": "CrossTenantAccessPolicy",
                    "metadata": { "name": "contoso", "namespace": "default" },
                    "spec": { "tenantRef": { "name": "contoso" }, "partners": [{ "tenantId": FABRIKAM,
                        "outbound": { "automaticallyRedeemInvitations": true } }] },
                })),
            ],
            config: object(json!({
                "apiVersion": "xtsync.io/v1alpha1", "kind": "SyncConfiguration",
                "metadata": { "name": "contoso-to-fabrikam", "namespace": "default",
                    "creationTimestamp": "2026-01-01T00:00:00Z" },
                "spec": base,
            })),
            organizations: Vec::new(),
            source: Arc::new(MemoryDirectory::new()),
            target: Arc::new(MemoryDirectory::new()),
        }
    }

    /// Without the Tenant `name` (nor its directory).
    pub fn without_tenant(mut self, name: &str) -> Setting {
        self.tenants.retain(|t| t.metadata.name.as_deref() != Some(name));
        self
    }

    pub fn world(&self) -> MemoryWorld {
        self.world_of(std::slice::from_ref(&self.config))
    }

    /// The world with `configs` instead of the one configuration.
    pub fn world_of(&self, configs: &[SyncConfiguration]) -> MemoryWorld {
        let mut directories = HashMap::new();
        for tenant in &self.tenants {
            let name = tenant.metadata.name.clone().unwrap_or_default();
            let directory = if name == "contoso" { &self.source } else { &self.target };
            directories.insert(name, directory.clone());
        }
        MemoryWorld {
            tenants: store(&self.tenants),
            policies: store(&self.policies),
            configs: store(configs),
            config_index: ConfigIndex::of(configs),
            organizations: store(&self.organizations),
            directories,
        }
    }

    /// The configuration evaluated as the controller evaluates it.
    pub fn evaluate(&self, world: &MemoryWorld) -> Evaluation {
        evaluate(world, &self.config, "default", None)
    }
}

/// A SCIM Tenant in `default` whose connection test passed (`Ready=True` for its generation).
fn tenant(name: &str, id: &str, domain: &str) -> Tenant {
    object(json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "Tenant",
        "metadata": { "name": name, "namespace": "default", "generation": 1 },
        "spec": { "tenantId": id, "domains": [domain], "directory": { "scim": {
            "url": format!("https://scim.example/{name}/v2"),
            "auth": { "bearerTokenSecretRef": { "name": format!("{name}-scim"), "key": "token" } } } } },
        "status": { "conditions": [{ "type": TenantReadyReason::TYPE, "status": "True",
            "reason": TenantReadyReason::Connected.as_str(),
            "message": "connected", "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1 }] },
    }))
}

fn object<K: serde::de::DeserializeOwned>(value: Value) -> K {
    serde_json::from_value(value).expect("a valid object")
}

/// `patch` merged into `base`, objects key by key (JSON merge patch, RFC 7386, without deletion).
fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(base.entry(key).or_insert(Value::Null), value);
            }
        }
        (base, patch) => *base = patch,
    }
}

/// An internal Contoso user with a work email.
pub fn person(id: &str, name: &str) -> User {
    User {
        id: id.to_owned(),
        attributes: [
            ("userName", format!("{name}@contoso.com")),
            ("displayName", name.to_owned()),
            (WORK_EMAIL, format!("{name}@contoso.com")),
        ]
        .into_iter()
        .collect(),
        ..User::default()
    }
}
