//! `kubectl xtsync explain NAME --user USER`: why a user is in or out of scope, skipped, or what
//! the next cycle would do with it. The evaluation is `xtsync plan`'s (`controller::preview`),
//! on the objects read from the cluster — the SyncConfiguration, its Tenants, their policies
//! and credential Secrets: the Tenants are checked, the gate evaluated and an Initial cycle run
//! in dry run, reading both directories and writing to neither. The user's part of it is then
//! picked out, and its scope judged by the engine's own checks (`engine::scope`).

#[cfg(test)]
mod tests;
mod verdict;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::ListParams;
use kube::{Api, ResourceExt};

use super::cluster::Cluster;
use super::resource::{Configs, condition};
use super::{Format, PluginError};
use crate::api::conditions::ConditionReason;
use crate::api::reasons::ReadyReason;
use crate::api::sync_config::GroupMembership;
use crate::api::{CrossTenantAccessPolicy, SyncConfiguration, Tenant};
use crate::controller::preview::{self, Opened, Unopened};
use crate::controller::provider_settings;
use crate::controller::world::manifests::Manifests;
use crate::controller::world::{CycleStart, ManifestWorld};
use crate::cycle::audit::{Discard, Record};
use crate::cycle::{CycleReport, read};
use crate::engine::anchor::Anchor;
use crate::engine::scope;
use crate::engine::user::User;
use crate::providers::settings::CaBundleHolder;
use crate::providers::{Clients, DirectoryError};
use verdict::Found;

pub async fn command(cluster: &Cluster, name: &str, user: &str, output: Format) -> Result<u8, PluginError> {
    // Warnings of the providers (a source's domains unreadable, say) go to stderr, as `plan`'s.
    crate::telemetry::init(crate::telemetry::LogFormat::Text, "warn,kube_client=error");
    let config = Configs::of(cluster).get(name).await?;
    let manifests = from_cluster(cluster, &config).await?;
    let clients = Clients::new().map_err(|e| PluginError::NotDone(e.to_string()))?;
    let world = ManifestWorld::of(&manifests, &clients).await;
    let configuration = format!("{}/{name}", cluster.namespace);
    let explained = match open(&world, &config).await? {
        Err((reason, message)) => verdict::explain(&Found {
            closed: Some((reason, message)),
            ..found(configuration, user, &config)
        }),
        Ok(opened) => {
            let (report, records) = dry_run(&opened).await?;
            let looked = look_up(&opened, &config, user).await.map_err(read_failed)?;
            let mut found = found(configuration, user, &config);
            looked.fill(&mut found, &opened, &records, &report);
            if !found.knows_the_user() {
                return Err(PluginError::NotDone(format!(
                    "no user '{user}' in the source (by userName or id), nor one provisioned from it in the target"
                )));
            }
            verdict::explain(&found)
        }
    };
    match output {
        Format::Table => print!("{}", verdict::text(&explained)),
        Format::Json => println!(
            "{:#}",
            serde_json::to_value(&explained).map_err(|e| PluginError::NotDone(e.to_string()))?
        ),
    }
    Ok(0)
}

fn found<'a>(configuration: String, user: &'a str, config: &'a SyncConfiguration) -> Found<'a> {
    Found {
        configuration,
        asked: user,
        spec: &config.spec,
        closed: None,
        source: None,
        standing: None,
        filter: None,
        member_of: Vec::new(),
        target: None,
        records: Vec::new(),
        withheld: None,
    }
}

fn read_failed(error: DirectoryError) -> PluginError {
    PluginError::NotDone(format!("reading the directories failed: {error}"))
}

/// The configuration's gate as `xtsync plan` evaluates it — except that another
/// configuration's claim on the pair is known only to the controller, which says so in
/// `Ready` (`DuplicatePair`): the cluster-wide claims are not read here.
async fn open(
    world: &ManifestWorld,
    config: &SyncConfiguration,
) -> crate::controller::Vetted<Opened, (String, String), PluginError> {
    if let Some(c) = condition(config, ReadyReason::TYPE).filter(|c| {
        c.reason == ReadyReason::DuplicatePair.as_str() && c.observed_generation == config.metadata.generation
    }) {
        return Ok(Err((c.reason.clone(), c.message.clone())));
    }
    match preview::open(world, config).await {
        Ok(opened) => Ok(Ok(opened)),
        Err(Unopened::Closed(reason, message)) => Ok(Err((reason.to_owned(), message))),
        Err(Unopened::Unusable(unusable)) => Err(PluginError::NotDone(format!(
            "a Tenant cannot be used: {}",
            unusable.error
        ))),
    }
}

async fn dry_run(opened: &Opened) -> Result<(CycleReport, Vec<Record>), PluginError> {
    let (result, records) = opened.dry_run().await;
    let report = result.map_err(|e| PluginError::NotDone(format!("the dry-run cycle failed: {e}")))?;
    Ok((report, records))
}

/// The objects `plan` needs, as the cluster has them: the configuration, its two Tenants, the
/// policies of the namespace and the Tenants' credential Secrets (which the caller must be
/// allowed to read; only labelled and allowed ones are used, as by the controller).
async fn from_cluster(cluster: &Cluster, config: &SyncConfiguration) -> Result<Manifests, PluginError> {
    let ns = &cluster.namespace;
    let tenants_api = Api::<Tenant>::namespaced(cluster.client.clone(), ns);
    let secrets_api = Api::<Secret>::namespaced(cluster.client.clone(), ns);
    let mut manifests = Manifests {
        configs: vec![config.clone()],
        policies: Api::<CrossTenantAccessPolicy>::namespaced(cluster.client.clone(), ns)
            .list(&ListParams::default())
            .await?
            .items,
        ..Manifests::default()
    };
    for name in [&config.spec.source_ref.name, &config.spec.target_ref.name] {
        let Some(tenant) = tenants_api.get_opt(name).await? else {
            continue;
        };
        if let Ok(setup) = provider_settings::setup(&tenant.spec) {
            // The credential Secret and the CA bundle (a Secret or a ConfigMap), as `plan`
            // finds them among manifests.
            let credential = setup.credential();
            let mut secrets: Vec<&str> = credential.secret_name().into_iter().collect();
            if let Some(reference) = setup.ca_bundle() {
                match reference.bundle.holder {
                    CaBundleHolder::Secret => secrets.push(&reference.bundle.name),
                    CaBundleHolder::ConfigMap => {
                        let config_maps = Api::<ConfigMap>::namespaced(cluster.client.clone(), ns);
                        if let Some(found) = config_maps.get_opt(&reference.bundle.name).await? {
                            manifests.config_maps.push(found);
                        }
                    }
                }
            }
            for secret in secrets {
                if !manifests.secrets.iter().any(|s| s.name_any() == secret)
                    && let Some(found) = secrets_api.get_opt(secret).await?
                {
                    manifests.secrets.push(found);
                }
            }
        }
        if !manifests.tenants.iter().any(|t| t.name_any() == tenant.name_any()) {
            manifests.tenants.push(tenant);
        }
    }
    Ok(manifests)
}

/// What the directories say of the user.
struct Looked {
    source: Option<User>,
    assignments: scope::Assignments,
    member_of: Vec<String>,
    target: Option<User>,
}

/// The source user (by userName, else by id), the target user provisioned from it (by its
/// anchor; for a user gone from the source, a target user of that name provisioned from this
/// source), and, for a member of `scope.groups`, which of them.
async fn look_up(opened: &Opened, config: &SyncConfiguration, who: &str) -> Result<Looked, DirectoryError> {
    let source_tenant = &opened.runnable.pair.source.tenant_id;
    let source_directory = opened.directories.source.as_ref();
    let target_directory = opened.directories.target.as_ref();
    let source = source_directory.find_user(who).await?;
    let input = opened.runnable.input(CycleStart::dry_run(&Discard));
    let assignments = read::assignments(source_directory, &input)
        .await
        .map_err(|e| DirectoryError::InvalidResponse(e.to_string()))?;
    let target = match &source {
        Some(user) => {
            let anchor = Anchor::new(source_tenant, &user.id).to_string();
            target_directory
                .find_users("externalId", &anchor)
                .await?
                .into_iter()
                .next()
        }
        None => target_directory
            .find_users("userName", who)
            .await?
            .into_iter()
            .find(|u| {
                u.anchor()
                    .is_some_and(|a| a.tenant_id == source_tenant.to_ascii_lowercase())
            }),
    };
    let mut member_of = Vec::new();
    if let Some(user) = source.as_ref().filter(|u| assignments.group_members.contains(&u.id)) {
        // As the cycle reads assignments: nested groups' members too under `Transitive`.
        let transitive = transitive(config);
        for group in &opened.runnable.valid.rules.scope.groups {
            let one = std::slice::from_ref(group);
            let members = if transitive {
                source_directory.transitive_group_members(one).await?
            } else {
                source_directory.group_members(one).await?
            };
            if members.contains(&user.id) {
                member_of.push(group.clone());
            }
        }
    }
    Ok(Looked {
        source,
        assignments,
        member_of,
        target,
    })
}

/// Group provisioning with `membership: Transitive`: members of nested groups are assigned too.
fn transitive(config: &SyncConfiguration) -> bool {
    config
        .spec
        .group_provisioning
        .as_ref()
        .is_some_and(|g| g.enabled && g.membership == GroupMembership::Transitive)
}

impl Looked {
    /// The user's part of the dry run: its scope by the engine's checks, the records that
    /// name it (by source id, by its target user's id, or by name for a skip), what was held.
    fn fill<'a>(&'a self, found: &mut Found<'a>, opened: &'a Opened, records: &'a [Record], report: &'a CycleReport) {
        let rules = &opened.runnable.valid.rules;
        found.source = self.source.as_ref();
        found.target = self.target.as_ref();
        found.filter = Some(&rules.scope.filter);
        found.member_of = self.member_of.clone();
        found.withheld = report.withheld_deprovisions.as_ref();
        if let Some(user) = &self.source {
            found.standing = Some((
                scope::exclusion(&rules.scope, &self.assignments, user),
                scope::assignment(&rules.scope, &self.assignments, user),
                scope::filter_verdict(&rules.scope.filter, user),
            ));
        }
        let source_id = self.source.as_ref().map(|u| u.id.as_str());
        let target_id = self.target.as_ref().map(|u| u.id.as_str());
        let names: Vec<&str> = [self.source.as_ref(), self.target.as_ref()]
            .into_iter()
            .flatten()
            .map(User::label)
            .collect();
        found.records = records
            .iter()
            .filter(|r| {
                (source_id.is_some() && r.source_id.as_deref() == source_id)
                    || (target_id.is_some() && r.target_id.as_deref() == target_id)
                    || (r.source_id.is_none() && r.target_id.is_none() && names.contains(&r.user_name.as_str()))
            })
            .collect();
    }
}
