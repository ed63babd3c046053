//! `xtsync plan`: what the next Initial cycle of each configuration in some manifests would
//! do, without a cluster and without a write. The Tenants are checked as the Tenant controller
//! checks them, the gate is evaluated from the same caches the controller dereferences (filled
//! from the manifests instead of watches), and the cycle is the controller's own, in dry run:
//! it reads both directories and writes to neither.

pub mod manifests;
pub mod output;

use std::collections::HashMap;

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::reflector::Store;
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher;

use super::ca_bundle;
use super::secrets::credential_of;
use super::sync_config::dereference;
use super::tenant::{Checked, TenantProblem, status_after};
use super::{Caches, lookup};
use crate::api::conditions::ConditionReason;
use crate::api::reasons::ReadyReason;
use crate::api::tenant::CaBundleKind;
use crate::api::{SyncConfiguration, Tenant};
use crate::cycle::audit::{Collected, Record};
use crate::cycle::{self, CycleInput, CycleReport};
use crate::gate;
use crate::providers::{Access, Clients, ConnectError, Directory, Setup};
use manifests::Manifests;

/// What one configuration's next Initial cycle would do, or why none would run.
pub struct ConfigPlan {
    /// `namespace/name`.
    pub configuration: String,
    /// Why no cycle would run: the `Ready=False` reason and message.
    pub closed: Option<(&'static str, String)>,
    /// The cycle could not run (a read failed): its error.
    pub error: Option<String>,
    pub report: Option<CycleReport>,
    /// One per action and per skip, as the provisioning log would have them.
    pub records: Vec<Record>,
}

/// Plans every SyncConfiguration of `manifests`.
pub async fn plan(manifests: &Manifests, clients: &Clients) -> Vec<ConfigPlan> {
    let now = Timestamp::now();
    let mut credentials: HashMap<String, Access> = HashMap::new();
    let mut tenants = Writer::<Tenant>::default();
    for tenant in &manifests.tenants {
        let checked = match access(manifests, tenant, clients, now) {
            Ok((setup, access)) => {
                let probed = setup.probe(clients, &access).await.map_err(TenantProblem::from);
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
    let (policies, configs) = (store(&manifests.policies), store(&manifests.configs));
    let tenants = tenants.as_reader();
    let caches = Caches {
        tenants: &tenants,
        policies: &policies,
        configs: &configs,
    };
    let mut plans = Vec::new();
    for config in &manifests.configs {
        plans.push(plan_one(config, &caches, &credentials, clients).await);
    }
    plans
}

async fn plan_one(
    config: &SyncConfiguration,
    caches: &Caches<'_>,
    credentials: &HashMap<String, Access>,
    clients: &Clients,
) -> ConfigPlan {
    let ns = config.namespace().unwrap_or_default();
    let mut plan = ConfigPlan {
        configuration: format!("{ns}/{}", config.name_any()),
        closed: None,
        error: None,
        report: None,
        records: Vec::new(),
    };
    let valid = match crate::validate::validate(&config.spec) {
        Ok(valid) => valid,
        Err(problems) => {
            plan.closed = Some((ReadyReason::InvalidSpec.as_str(), problems.0.join("; ")));
            return plan;
        }
    };
    let found = dereference::dereference(config, &ns, caches);
    let pair = match gate::evaluate(&found.gate_input(config, None)) {
        Ok(pair) => pair,
        Err(closed) => {
            plan.closed = Some((closed.reason.as_str(), closed.message));
            return plan;
        }
    };
    let directories = (
        directory(caches, credentials, clients, &ns, &config.spec.source_ref.name),
        directory(caches, credentials, clients, &ns, &config.spec.target_ref.name),
    );
    let (source, target) = match directories {
        (Ok(source), Ok(target)) => (source, target),
        (Err(error), _) | (_, Err(error)) => {
            plan.error = Some(error.to_string());
            return plan;
        }
    };
    let log = Collected::default();
    let input = CycleInput {
        source_tenant_id: &pair.source.tenant_id,
        source_domains: &pair.source.domains,
        rules: &valid.rules,
        approval: None,
        watermark: None,
        groups_watermark: None,
        group_members_digest: None,
        dry_run: true,
        audit: &log,
        progress: &cycle::progress::Untracked,
        deadline: cycle::Deadline::of_interval(valid.interval),
    };
    match cycle::run(source.as_ref(), target.as_ref(), &input).await {
        Ok(report) => plan.report = Some(report),
        Err(error) => plan.error = Some(format!("{error}; a cycle would write nothing")),
    }
    plan.records = log.take();
    plan
}

fn key(tenant: &Tenant) -> String {
    format!("{}/{}", tenant.namespace().unwrap_or_default(), tenant.name_any())
}

/// The Tenant's provider, credential and CA bundle, from the Secrets and ConfigMaps among the
/// manifests.
fn access<'a>(
    manifests: &Manifests,
    tenant: &'a Tenant,
    clients: &Clients,
    now: Timestamp,
) -> Result<(Setup<'a>, Access), ConnectError> {
    let setup = Setup::of(&tenant.spec)?;
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
            let data = match reference.bundle.kind {
                CaBundleKind::Secret => secret(&reference.bundle.name).map(ca_bundle::secret_data),
                CaBundleKind::ConfigMap => manifests
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

/// The directory of a Tenant the gate found Ready, with the capabilities its check recorded.
fn directory(
    caches: &Caches<'_>,
    credentials: &HashMap<String, Access>,
    clients: &Clients,
    ns: &str,
    name: &str,
) -> Result<Box<dyn Directory>, ConnectError> {
    let tenant =
        lookup::tenant(caches.tenants, ns, name).ok_or_else(|| ConnectError::TenantNotFound(name.to_owned()))?;
    let access = credentials
        .get(&key(&tenant))
        .ok_or_else(|| ConnectError::SecretNotFound(format!("no credential for Tenant '{name}'")))?;
    let capabilities = tenant
        .status
        .as_ref()
        .and_then(|s| s.capabilities.clone())
        .unwrap_or_default();
    Setup::of(&tenant.spec)?.directory(clients, access, capabilities)
}

fn store<K>(objects: &[K]) -> Store<K>
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

#[cfg(test)]
mod tests;
