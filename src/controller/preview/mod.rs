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

use super::secrets::credential_of;
use super::sync_config::dereference;
use super::tenant::{Checked, TenantProblem, status_after};
use super::{Caches, lookup};
use super::{ca_bundle, provider_settings};
use crate::api::conditions::ConditionReason;
use crate::api::reasons::ReadyReason;
use crate::api::tenant::Capabilities;
use crate::api::{SyncConfiguration, Tenant};
use crate::cycle::audit::{Collected, Record, Sink};
use crate::cycle::{self, CycleError, CycleInput, CycleReport};
use crate::gate;
use crate::providers::settings::CaBundleHolder;
use crate::providers::settings::DirectoryFeatures;
use crate::providers::{
    Access, Clients, ConnectError, OpenedDirectory, Setup, SourceDirectory, TargetDirectory, Unopenable,
};
use crate::validate::ValidSpec;
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

/// `xtsync plan` (and `kubectl xtsync plan`): the plan of the manifests in `files` on stdout,
/// as a table or JSON; warnings on stderr; the exit code (`output::exit_code`).
pub async fn command(files: &[std::path::PathBuf], json: bool, detailed: bool) -> u8 {
    crate::telemetry::init(crate::telemetry::LogFormat::Text, "warn");
    let manifests = match Manifests::load(files) {
        Ok(manifests) => manifests,
        Err(error) => {
            eprintln!("error: {error}");
            return 1;
        }
    };
    let clients = match Clients::new() {
        Ok(clients) => clients,
        Err(error) => {
            eprintln!("error: {error}");
            return 1;
        }
    };
    let plans = plan(&manifests, &clients).await;
    if json {
        println!("{:#}", output::json(&plans));
    } else {
        print!("{}", output::table(&plans));
    }
    output::exit_code(&plans, detailed)
}

/// Plans every SyncConfiguration of `manifests`.
pub async fn plan(manifests: &Manifests, clients: &Clients) -> Vec<ConfigPlan> {
    let world = World::of(manifests, clients).await;
    let mut plans = Vec::new();
    for config in &manifests.configs {
        plans.push(world.plan(config, clients).await);
    }
    plans
}

/// The objects of some manifests as the controller would see them: the Tenants checked as the
/// Tenant controller checks them (`Ready`, capabilities), in the stores the gate reads, and the
/// credential each Tenant's Secret holds.
pub struct World {
    tenants: Store<Tenant>,
    policies: Store<crate::api::CrossTenantAccessPolicy>,
    configs: Store<SyncConfiguration>,
    credentials: HashMap<String, Access>,
}

/// A configuration whose gate is open, and its two directories.
pub struct Opened {
    pub pair: gate::OpenPair,
    pub valid: ValidSpec,
    pub source: Box<dyn SourceDirectory>,
    pub target: Box<dyn TargetDirectory>,
}

impl World {
    pub async fn of(manifests: &Manifests, clients: &Clients) -> World {
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
        World {
            tenants: tenants.as_reader(),
            policies: store(&manifests.policies),
            configs: store(&manifests.configs),
            credentials,
        }
    }

    fn caches(&self) -> Caches<'_> {
        Caches {
            tenants: &self.tenants,
            policies: &self.policies,
            configs: &self.configs,
        }
    }

    /// What the configuration's next Initial cycle would do, or why none would run.
    pub async fn plan(&self, config: &SyncConfiguration, clients: &Clients) -> ConfigPlan {
        let mut plan = ConfigPlan {
            configuration: format!("{}/{}", config.namespace().unwrap_or_default(), config.name_any()),
            closed: None,
            error: None,
            report: None,
            records: Vec::new(),
        };
        let opened = match self.open(config, clients) {
            Ok(opened) => opened,
            Err(Unopened::Closed(reason, message)) => {
                plan.closed = Some((reason, message));
                return plan;
            }
            Err(Unopened::Unusable(error)) => {
                plan.error = Some(error.to_string());
                return plan;
            }
        };
        let (result, records) = opened.dry_run().await;
        match result {
            Ok(report) => plan.report = Some(report),
            Err(error) => plan.error = Some(format!("{error}; a cycle would write nothing")),
        }
        plan.records = records;
        plan
    }

    /// The configuration validated, its gate evaluated as the controller evaluates it (with
    /// the pair it holds, when its status says so) and, when open, its directories opened.
    pub fn open(&self, config: &SyncConfiguration, clients: &Clients) -> Result<Opened, Unopened> {
        let ns = config.namespace().unwrap_or_default();
        let valid = crate::validate::validate(&config.spec)
            .map_err(|problems| Unopened::Closed(ReadyReason::InvalidSpec.as_str(), problems.0.join("; ")))?;
        let caches = self.caches();
        let found = dereference::dereference(config, &ns, &caches);
        let holds = config.status.as_ref().and_then(|s| s.claimed_pair.as_deref());
        let pair = gate::evaluate(&found.gate_input(config, holds))
            .map_err(|closed| Unopened::Closed(closed.reason.as_str(), closed.message))?;
        let source = self.directory(clients, &ns, &config.spec.source_ref.name);
        let target = self.directory(clients, &ns, &config.spec.target_ref.name);
        match (source, target) {
            (Ok(source), Ok(target)) => Ok(Opened {
                pair,
                valid,
                source: source.into_source(),
                target: target.into_target(),
            }),
            (Err(error), _) | (_, Err(error)) => Err(Unopened::Unusable(error)),
        }
    }

    /// The directory of a Tenant the gate found Ready, with the capabilities its check recorded.
    fn directory(&self, clients: &Clients, ns: &str, name: &str) -> Result<OpenedDirectory, Unopenable> {
        let tenant =
            lookup::tenant(&self.tenants, ns, name).ok_or_else(|| Unopenable::TenantNotFound(name.to_owned()))?;
        let access = self
            .credentials
            .get(&key(&tenant))
            .ok_or_else(|| ConnectError::SecretNotFound(format!("no credential for Tenant '{name}'")))?;
        let capabilities = tenant
            .status
            .as_ref()
            .and_then(|s| s.capabilities.as_ref())
            .map(DirectoryFeatures::from)
            .unwrap_or_default();
        Ok(provider_settings::setup(&tenant.spec)?.directory(clients, access, capabilities)?)
    }
}

/// Why a configuration's directories were not opened.
#[derive(Debug)]
pub enum Unopened {
    /// No cycle would run: the `Ready=False` reason and message.
    Closed(&'static str, String),
    /// A Tenant the gate found Ready cannot be used.
    Unusable(Unopenable),
}

impl Opened {
    /// The input of a dry run: an Initial cycle (no watermark), no approval, nothing written.
    pub fn input<'a>(&'a self, audit: &'a dyn Sink) -> CycleInput<'a> {
        CycleInput {
            source_tenant_id: &self.pair.source.tenant_id,
            source_domains: &self.pair.source.domains,
            rules: &self.valid.rules,
            approval: None,
            watermark: None,
            groups_watermark: None,
            group_members_digest: None,
            dry_run: true,
            audit,
            progress: &cycle::progress::Untracked,
            deadline: cycle::Deadline::of_interval(self.valid.interval),
        }
    }

    /// The controller's own cycle, in dry run: it reads both directories and writes to neither;
    /// with the provisioning log's records (one per action and per skip).
    pub async fn dry_run(&self) -> (Result<CycleReport, CycleError>, Vec<Record>) {
        let log = Collected::default();
        let result = cycle::run(self.source.as_ref(), self.target.as_ref(), &self.input(&log)).await;
        (result, log.take())
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
