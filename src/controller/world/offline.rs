//! Manifests as a world (`xtsync plan`, `kubectl xtsync explain`): the objects of some files as
//! the controller would see them — each Tenant checked as the Tenant controller checks it
//! (`Ready`, capabilities), in stores like the watch caches — and the credential each Tenant's
//! Secret among the manifests holds. The Organizations among them have fanned out
//! (`generated`): the world holds the configurations they would generate as if created.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::reflector::Store;
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher;

use super::generated::{self, Generation};
use super::manifests::Manifests;
use super::{World, store};
use crate::api::tenant::Capabilities;
use crate::api::{CrossTenantAccessPolicy, Organization, SyncConfiguration, Tenant};
use crate::controller::ca_bundle;
use crate::controller::config_index::ConfigIndex;
use crate::controller::secrets::credential_of;
use crate::controller::tenant::{Checked, TenantProblem, status_after};
use crate::controller::{Caches, Vetted, lookup, provider_settings};
use crate::providers::settings::{CaBundleHolder, DirectoryFeatures};
use crate::providers::{
    Access, Clients, ConnectError, OpenedDirectory, Setup, SourceDirectory, TargetDirectory, Unopenable,
};

pub struct ManifestWorld {
    tenants: Store<Tenant>,
    policies: Store<CrossTenantAccessPolicy>,
    configs: Store<SyncConfiguration>,
    config_index: ConfigIndex,
    /// The configurations to plan: the manifests', then those the Organizations generate.
    planned: Vec<SyncConfiguration>,
    generations: Vec<Generation>,
    organizations: Store<Organization>,
    credentials: HashMap<String, Access>,
    clients: Clients,
}

impl ManifestWorld {
    pub async fn of(manifests: &Manifests, clients: &Clients) -> ManifestWorld {
        let now = Timestamp::now();
        let mut credentials: HashMap<String, Access> = HashMap::new();
        let mut tenants = Writer::<Tenant>::default();
        for tenant in &manifests.tenants {
            let checked = match access(manifests, tenant, clients, now) {
                Ok((setup, access)) => {
                    let probed = setup
                        .probe(clients, &access)
                        .await
                        .map(Capabilities::from)
                        .map_err(TenantProblem::from);
                    let credential_expiry = access.credential.expiry();
                    credentials.insert(key(tenant), access);
                    Checked {
                        result: probed,
                        credential_expiry,
                    }
                }
                Err(problem) => TenantProblem::from(problem).into(),
            };
            let mut checked_tenant = tenant.clone();
            checked_tenant.status = Some(status_after(tenant, checked, now));
            tenants.apply_watcher_event(&watcher::Event::Apply(checked_tenant));
        }
        let tenants = tenants.as_reader();
        let (planned, generations) = generated::generate(
            &manifests.organizations,
            &tenants,
            manifests.configs.clone(),
            manifests.count(),
        );
        ManifestWorld {
            tenants,
            policies: store(&manifests.policies),
            configs: store(&planned),
            config_index: ConfigIndex::of(&planned),
            planned,
            generations,
            organizations: store(&manifests.organizations),
            credentials,
            clients: clients.clone(),
        }
    }

    /// Every SyncConfiguration the world holds, in plan order: the manifests', then the ones
    /// each Organization generates.
    pub fn configurations(&self) -> &[SyncConfiguration] {
        &self.planned
    }

    /// What each Organization of the manifests generates.
    pub fn generations(&self) -> &[Generation] {
        &self.generations
    }

    /// The directory of a Tenant among the manifests, with the capabilities its check recorded.
    fn directory(&self, ns: &str, name: &str) -> Result<OpenedDirectory, Unopenable> {
        let tenant =
            lookup::tenant(&self.tenants, ns, name).ok_or_else(|| Unopenable::TenantNotFound(name.to_owned()))?;
        let access = self
            .credentials
            .get(&key(&tenant))
            .ok_or_else(|| ConnectError::SecretNotFound(format!("no credential for Tenant '{name}'")))?;
        let capabilities = DirectoryFeatures::from(&lookup::capabilities(&tenant));
        Ok(provider_settings::setup(&tenant.spec)?.directory(&self.clients, access, capabilities)?)
    }
}

impl World for ManifestWorld {
    type ApiError = std::convert::Infallible;

    fn caches(&self) -> Caches<'_> {
        Caches {
            tenants: &self.tenants,
            policies: &self.policies,
            configs: &self.configs,
            config_index: &self.config_index,
            organizations: &self.organizations,
        }
    }

    async fn open_source(&self, ns: &str, name: &str) -> Vetted<Arc<dyn SourceDirectory>, Unopenable, Self::ApiError> {
        Ok(self.directory(ns, name).map(|opened| Arc::from(opened.into_source())))
    }

    async fn open_target(&self, ns: &str, name: &str) -> Vetted<Arc<dyn TargetDirectory>, Unopenable, Self::ApiError> {
        Ok(self.directory(ns, name).map(|opened| Arc::from(opened.into_target())))
    }
}

fn key(tenant: &Tenant) -> String {
    format!("{}/{}", tenant.namespace().unwrap_or_default(), tenant.name_any())
}

/// The Tenant's provider, credential and CA bundle, from the Secrets and ConfigMaps among the
/// manifests.
fn access(
    manifests: &Manifests,
    tenant: &Tenant,
    clients: &Clients,
    now: Timestamp,
) -> Result<(Setup, Access), ConnectError> {
    let setup = provider_settings::setup(&tenant.spec)?;
    let ns = tenant.namespace().unwrap_or_default();
    let in_ns = |meta: &kube::api::ObjectMeta, name: &str| {
        meta.namespace.as_deref() == Some(ns.as_str()) && meta.name.as_deref() == Some(name)
    };
    let secret = |name: &str| manifests.secrets.iter().find(|s| in_ns(&s.metadata, name));
    let credential = credential_of(
        setup.credential().secret_name().and_then(secret),
        &ns,
        &setup,
        clients,
        now,
    )?;
    let ca_bundle = match setup.ca_bundle() {
        None => None,
        Some(reference) => {
            let data = match reference.bundle.holder {
                CaBundleHolder::Secret => secret(&reference.bundle.name).map(ca_bundle::secret_data),
                CaBundleHolder::ConfigMap => manifests
                    .config_maps
                    .iter()
                    .find(|c| in_ns(&c.metadata, &reference.bundle.name))
                    .map(ca_bundle::config_map_data),
            };
            Some(ca_bundle::bundle_of(reference, &ns, data.as_ref())?)
        }
    };
    Ok((setup, Access { credential, ca_bundle }))
}
