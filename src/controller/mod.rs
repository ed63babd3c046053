//! The controllers: one reconciler per kind, fed by one shared watch per kind.
//!
//! Tenant      — resolves its Secret, tests the connection, records capabilities.
//! Policy      — computes effective settings, refuses a second policy for a tenant, pushes it
//!               to Entra for Graph tenants.
//! SyncConfig  — dereference → validate → gate → schedule → cycle → status (`sync_config`).
//! Organization — generates, puts back and deletes its SyncConfigurations (`organization`).
//! Each writes the `.status` of its own kind with one server-side-apply patch; the only other
//! writes are the SyncConfiguration finalizer, only when cleanup on delete is asked for, and an
//! Organization's own finalizer and the SyncConfigurations it generates.

pub(crate) mod bounds;
mod ca_bundle;
mod config_index;
mod feed;
mod fingerprints;
mod heartbeat;
mod lookup;
mod organization;
mod policy;
pub mod preview;
pub mod provider_settings;
mod secrets;
pub mod slots;
mod status_writer;
mod sync_config;
mod tenant;
mod tenant_directory;
pub mod world;

use std::sync::Arc;
use std::time::Duration;

use std::future::Future;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::PartialObjectMeta;
use kube::runtime::controller::Action;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::Store;
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Api, Client, Resource};

use crate::api::{CrossTenantAccessPolicy, Organization, SyncConfiguration, Tenant};
use crate::ops::http::Health;
use crate::ops::liveness::Controller;
use config_index::ConfigIndex;
use feed::Feed;
use heartbeat::{arriving, mapping, settled, taking};

/// How the controllers run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Watch only this namespace (all namespaces when `None`).
    pub namespace: Option<String>,
    /// How often a Ready tenant's connection is tested again.
    pub tenant_recheck: Duration,
    /// How soon a tenant that failed its check is tested again.
    pub tenant_retry: Duration,
    /// Safety net: how often a gate is evaluated again with no event.
    pub gate_recheck: Duration,
    /// Cycles of each kind (Initial, Incremental) running at once.
    pub max_concurrent_cycles: usize,
    /// `XTSYNC_DEBUG_STALL`: this controller takes no work (to see `/healthz` fail).
    pub debug_stall: Option<Controller>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            namespace: None,
            tenant_recheck: Duration::from_secs(300),
            tenant_retry: Duration::from_secs(30),
            gate_recheck: Duration::from_secs(300),
            max_concurrent_cycles: slots::DEFAULT_MAX_CONCURRENT_CYCLES,
            debug_stall: None,
        }
    }
}

/// What every reconciler shares: the client, the caches, the directory clients.
pub struct Context {
    pub client: Client,
    pub settings: Settings,
    pub tenants: Store<Tenant>,
    pub policies: Store<CrossTenantAccessPolicy>,
    pub configs: Store<SyncConfiguration>,
    /// Which configurations name which Tenants, kept beside `configs`.
    pub config_index: Arc<ConfigIndex>,
    pub organizations: Store<Organization>,
    /// The HTTP client and Graph token cache every provider shares.
    pub clients: crate::providers::Clients,
    /// The one Event recorder, so that repeated Events aggregate into series.
    pub recorder: Recorder,
    /// SyncConfiguration statuses as last written (see `sync_config::WrittenStatuses`).
    pub written: sync_config::WrittenStatuses,
    /// Readiness and metrics, served by `ops::http`.
    pub health: Arc<Health>,
    /// Slots for running cycles (fair scheduling).
    pub slots: slots::CycleSlots,
    /// Complete reads of small sources, shared by the Initial cycles that start just after.
    pub source_reads: crate::cycle::SourceReads,
    /// How often each Organization is reconciled in full.
    pub organization_pace: organization::pace::OrganizationPace,
}

/// The caches a reconcile dereferences from: the cluster's, or (`xtsync plan`) manifests'.
pub struct Caches<'a> {
    pub tenants: &'a Store<Tenant>,
    pub policies: &'a Store<CrossTenantAccessPolicy>,
    pub configs: &'a Store<SyncConfiguration>,
    pub config_index: &'a ConfigIndex,
    /// Organizations: their partner templates are part of the settings in force.
    pub organizations: &'a Store<Organization>,
}

impl Context {
    pub fn caches(&self) -> Caches<'_> {
        Caches {
            tenants: &self.tenants,
            policies: &self.policies,
            configs: &self.configs,
            config_index: &self.config_index,
            organizations: &self.organizations,
        }
    }
}

/// What a step that reads the cluster found: the outer `Err` is the API's (the reconcile is
/// retried), the inner one the user's to fix (why the object cannot be used now: it goes into
/// status, never into a retry).
pub type Vetted<T, Problem, ApiError = Error> = Result<Result<T, Problem>, ApiError>;

/// Errors that stop a reconcile; the controller retries them. Problems of the user's making are
/// not errors: they are conditions on the resource.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API call failed: {0}")]
    Kube(#[from] kube::Error),
    #[error("object has no namespace; xtsync resources are namespaced")]
    NotNamespaced,
}

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

fn error_policy<K>(object: Arc<K>, error: &Error, _ctx: Arc<Context>) -> Action
where
    K: Resource,
{
    tracing::warn!(name = object.meta().name.as_deref().unwrap_or(""), namespace = object.meta().namespace.as_deref().unwrap_or(""), %error, "reconcile failed; retrying");
    Action::requeue(Duration::from_secs(5))
}

/// The one Event recorder of the process, so that repeated Events aggregate into series.
fn recorder(client: &Client) -> Recorder {
    let reporter = Reporter {
        controller: "xtsync".into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    Recorder::new(client.clone(), reporter)
}

/// Ready once every watch has delivered its initial list: before that, a gate could be judged
/// on a partial view.
async fn ready_once_listed(ctx: Arc<Context>) {
    let _ = futures::join!(
        ctx.tenants.wait_until_ready(),
        ctx.policies.wait_until_ready(),
        ctx.configs.wait_until_ready(),
        ctx.organizations.wait_until_ready()
    );
    ctx.health.ready.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Runs the three controllers until SIGTERM/SIGINT (or until the future is dropped); fails at
/// once when the directories' HTTP client cannot be built.
pub async fn run(client: Client, settings: Settings) -> Result<(), crate::providers::HttpClientError> {
    let clients = crate::providers::Clients::new()?;
    run_with(client, settings, Arc::new(Health::default()), clients).await;
    Ok(())
}

/// Like `run`, reporting readiness, liveness and metrics into `health`, talking to directories
/// through `clients`.
pub async fn run_with(client: Client, settings: Settings, health: Arc<Health>, clients: crate::providers::Clients) {
    let ns = settings.namespace.as_deref();
    let wc = watcher::Config::default().any_semantic();
    let mut tenants = Feed::new(api::<Tenant>(&client, ns), wc.clone(), health.clone());
    let mut policies = Feed::new(api::<CrossTenantAccessPolicy>(&client, ns), wc.clone(), health.clone());
    let mut configs = Feed::new(api::<SyncConfiguration>(&client, ns), wc.clone(), health.clone());
    let mut organizations = Feed::new(api::<Organization>(&client, ns), wc.clone(), health.clone());
    let config_index = Arc::new(ConfigIndex::default());
    configs.index_with(config_index.clone());

    let ctx = Arc::new(Context {
        client: client.clone(),
        settings: settings.clone(),
        tenants: tenants.store.clone(),
        policies: policies.store.clone(),
        configs: configs.store.clone(),
        config_index,
        organizations: organizations.store.clone(),
        clients,
        recorder: recorder(&client),
        written: Default::default(),
        slots: slots::CycleSlots::new(settings.max_concurrent_cycles),
        source_reads: Default::default(),
        organization_pace: Default::default(),
        health: health.clone(),
    });
    if let Some(stalled) = settings.debug_stall {
        tracing::warn!(
            controller = stalled.kind(),
            "XTSYNC_DEBUG_STALL: this controller takes no work; /healthz will fail once it has some"
        );
    }
    let tracked = heartbeat::Tracked::start(&health);
    // Weak: the metrics live in `health`, which the context holds.
    let scraped = Arc::downgrade(&ctx);
    health.metrics.refresh_with(Box::new(move |metrics| {
        if let Some(ctx) = scraped.upgrade() {
            sync_config::observe(&ctx, metrics);
        }
    }));

    let secrets = watcher(api::<PartialObjectMeta<Secret>>(&client, ns), wc.clone());
    let config_maps = watcher(api::<PartialObjectMeta<ConfigMap>>(&client, ns), wc.clone());
    let tenant_controller = tenant_controller(&mut tenants, secrets, config_maps, &ctx);
    let policy_controller = policy_controller(&mut policies, &mut tenants, &mut organizations, &mut configs, &ctx);
    let config_controller = config_controller(&mut configs, &mut tenants, &mut policies, &mut organizations, &ctx);
    let organization_controller = organization_controller(&mut organizations, &mut tenants, &mut configs, &ctx);

    let readiness = async {
        ready_once_listed(ctx.clone()).await;
        tracked.listed();
    };
    let watches = async {
        futures::join!(
            tenants.run(),
            policies.run(),
            configs.run(),
            organizations.run(),
            readiness
        );
    };
    tracing::info!(namespace = ns.unwrap_or("<all>"), "controllers started");
    // The watches never end by themselves; the controllers end on a signal.
    tokio::select! {
        _ = async { futures::join!(tenant_controller, policy_controller, config_controller, organization_controller) } => {}
        _ = watches => {}
    }
    tracing::info!("controllers stopped");
}

// Status writes must not re-trigger their own reconcile: the main streams pass only spec
// changes (generation) — and objects seen for the first time.

fn tenant_controller<S, C>(
    tenants: &mut Feed<Tenant>,
    secrets: S,
    config_maps: C,
    ctx: &Arc<Context>,
) -> impl Future<Output = ()> + use<S, C>
where
    S: Stream<Item = Result<watcher::Event<PartialObjectMeta<Secret>>, watcher::Error>> + Send + 'static,
    C: Stream<Item = Result<watcher::Event<PartialObjectMeta<ConfigMap>>, watcher::Error>> + Send + 'static,
{
    let (health, me) = (&ctx.health, Controller::Tenant);
    kube::runtime::Controller::for_stream(
        arriving(
            tenants
                .subscribe()
                .predicate_filter(predicates::generation, Default::default()),
            health,
            me,
        ),
        tenants.store.clone(),
    )
    .watches_stream(
        // Metadata only: the operator never caches Secret values.
        secrets.default_backoff().touched_objects(),
        mapping(tenant::secret_mapper(ctx.tenants.clone()), health, me),
    )
    .watches_stream(
        // Metadata only, as for Secrets: a CA bundle's ConfigMap changed.
        config_maps.default_backoff().touched_objects(),
        mapping(tenant::config_map_mapper(ctx.tenants.clone()), health, me),
    )
    .shutdown_on_signal()
    .run(taking(tenant::reconcile, me), error_policy, ctx.clone())
    .for_each(settled(me, health))
}

fn policy_controller(
    policies: &mut Feed<CrossTenantAccessPolicy>,
    tenants: &mut Feed<Tenant>,
    organizations: &mut Feed<Organization>,
    configs: &mut Feed<SyncConfiguration>,
    ctx: &Arc<Context>,
) -> impl Future<Output = ()> + use<> {
    let (health, me) = (&ctx.health, Controller::Policy);
    kube::runtime::Controller::for_stream(
        arriving(
            policies
                .subscribe()
                .predicate_filter(predicates::generation, Default::default()),
            health,
            me,
        ),
        policies.store.clone(),
    )
    .watches_stream(
        policies.subscribe(),
        mapping(policy::sibling_mapper(ctx.policies.clone()), health, me),
    )
    .watches_stream(
        tenants.subscribe(),
        mapping(policy::tenant_mapper(ctx.policies.clone()), health, me),
    )
    .watches_stream(
        organization_specs(organizations.subscribe()),
        mapping(policy::organization_mapper(ctx.policies.clone()), health, me),
    )
    .watches_stream(
        configs.subscribe_changes(fingerprints::leaving),
        mapping(
            policy::leaving_config_mapper(ctx.policies.clone(), ctx.organizations.clone()),
            health,
            me,
        ),
    )
    .shutdown_on_signal()
    .run(taking(policy::reconcile, me), error_policy, ctx.clone())
    .for_each(settled(me, health))
}

fn config_controller(
    configs: &mut Feed<SyncConfiguration>,
    tenants: &mut Feed<Tenant>,
    policies: &mut Feed<CrossTenantAccessPolicy>,
    organizations: &mut Feed<Organization>,
    ctx: &Arc<Context>,
) -> impl Future<Output = ()> + use<> {
    let (health, me) = (&ctx.health, Controller::SyncConfiguration);
    // Annotations (approve-deletions, restart, provision-on-demand) and finalizers (deletion)
    // drive configurations too, so they pass the filter.
    let changed = configs.subscribe().predicate_filter(
        predicates::generation
            .combine(predicates::annotations)
            .combine(predicates::finalizers),
        Default::default(),
    );
    kube::runtime::Controller::for_stream(arriving(changed, health, me), configs.store.clone())
        .watches_stream(
            configs.subscribe_changes(fingerprints::claim),
            mapping(sync_config::sibling_mapper(ctx.clone()), health, me),
        )
        .watches_stream(
            tenants.subscribe_changes(fingerprints::tenant_view),
            mapping(sync_config::tenant_mapper(ctx.configs.clone()), health, me),
        )
        .watches_stream(
            policies.subscribe_changes(fingerprints::policy_spec),
            mapping(sync_config::policy_mapper(ctx.configs.clone()), health, me),
        )
        .watches_stream(
            organization_specs(organizations.subscribe()),
            mapping(sync_config::organization_mapper(ctx.configs.clone()), health, me),
        )
        .watches_stream(
            configs.subscribe_changes(fingerprints::leaving),
            mapping(sync_config::leaving_config_mapper(ctx.clone()), health, me),
        )
        .shutdown_on_signal()
        .run(taking(sync_config::reconcile, me), error_policy, ctx.clone())
        .for_each(settled(me, health))
}

/// Organizations whose spec changed (their partner template, their members), or that are
/// being deleted: what the policies and configurations of their tenants read of them.
fn organization_specs<S>(organizations: S) -> impl Stream<Item = Result<Organization, watcher::Error>> + Send + use<S>
where
    S: Stream<Item = Result<Organization, watcher::Error>> + Send + 'static,
{
    organizations.predicate_filter(
        predicates::generation.combine(predicates::finalizers),
        Default::default(),
    )
}

fn organization_controller(
    organizations: &mut Feed<Organization>,
    tenants: &mut Feed<Tenant>,
    configs: &mut Feed<SyncConfiguration>,
    ctx: &Arc<Context>,
) -> impl Future<Output = ()> + use<> {
    let (health, me) = (&ctx.health, Controller::Organization);
    // Finalizers pass the filter: a deletion with the Organization's finalizer is work.
    let changed = organizations.subscribe().predicate_filter(
        predicates::generation.combine(predicates::finalizers),
        Default::default(),
    );
    kube::runtime::Controller::for_stream(arriving(changed, health, me), organizations.store.clone())
        .watches_stream(
            tenants.subscribe_changes(fingerprints::tenant_view),
            mapping(organization::tenant_mapper(ctx.organizations.clone()), health, me),
        )
        .watches_stream(
            configs.subscribe_changes(fingerprints::organization_view),
            mapping(organization::config_mapper(ctx.organizations.clone()), health, me),
        )
        .shutdown_on_signal()
        .run(taking(organization::reconcile, me), error_policy, ctx.clone())
        .for_each(settled(me, health))
}
