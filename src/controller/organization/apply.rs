//! The Organization's writes: the generated SyncConfigurations made equal to the fan-out (a
//! whole-object replace guarded by `resourceVersion`, so that a field a person added by hand is
//! removed too, and only when something differs), the stale ones deleted, and its own finalizer.

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, ObjectMeta, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Resource, ResourceExt};

use super::fan_out::{Desired, FanOut};
use crate::api::SyncConfiguration;
use crate::api::organization::{ORGANIZATION_FINALIZER, Organization};
use crate::controller::Error;

/// What applying the fan-out did.
#[derive(Debug, Default)]
pub struct FanOutApplied {
    pub created: Vec<Desired>,
    /// Desired configurations whose name still belongs to one being deleted: created once it
    /// is gone.
    pub waiting: usize,
    pub writes: usize,
}

pub async fn apply(
    api: &Api<SyncConfiguration>,
    configs: &Store<SyncConfiguration>,
    ns: &str,
    organization: &Organization,
    fan_out: &FanOut,
) -> Result<FanOutApplied, Error> {
    let owner = owner_reference(organization);
    let mut applied = FanOutApplied::default();
    let mut missing = Vec::new();
    for desired in &fan_out.desired {
        let cached = configs.get(&ObjectRef::new(&desired.name).within(ns));
        match cached {
            None => missing.push(desired.clone()),
            Some(existing) if existing.metadata.deletion_timestamp.is_some() => applied.waiting += 1,
            Some(existing) => {
                let owners = owner.clone().map(|o| vec![o]);
                let same = existing.spec == desired.spec
                    && existing.metadata.labels.as_ref() == Some(&desired.labels)
                    && existing.metadata.owner_references == owners;
                if same {
                    continue;
                }
                let mut put_back = (*existing).clone();
                put_back.spec = desired.spec.clone();
                put_back.metadata.labels = Some(desired.labels.clone());
                put_back.metadata.owner_references = owners;
                // The cached resourceVersion: a change made since is never overwritten unseen
                // (409, and the reconcile runs again on the newer object). Annotations and
                // finalizers are the cached ones, untouched.
                api.replace(&desired.name, &PostParams::default(), &put_back).await?;
                applied.writes += 1;
                tracing::info!(configuration = %desired.name, namespace = ns, "generated configuration put back as the Organization has it");
            }
        }
    }
    create(api, ns, owner.as_ref(), missing, &mut applied).await?;
    for name in &fan_out.stale {
        applied.writes += usize::from(delete(api, configs, ns, name).await?);
    }
    Ok(applied)
}

/// The configurations at once in flight when the fan-out creates them: one at a time, an
/// Organization of 100 tenants waits 9,900 round trips.
const CREATES_IN_FLIGHT: usize = 16;

/// Creates the `missing` configurations, `CREATES_IN_FLIGHT` at a time.
async fn create(
    api: &Api<SyncConfiguration>,
    ns: &str,
    owner: Option<&OwnerReference>,
    missing: Vec<Desired>,
    applied: &mut FanOutApplied,
) -> Result<(), Error> {
    // Each creation owns what it sends: the stream of them must be `Send` for the controller.
    let creations: Vec<_> = missing
        .into_iter()
        .map(|desired| {
            let api = api.clone();
            let config = SyncConfiguration {
                metadata: ObjectMeta {
                    name: Some(desired.name.clone()),
                    namespace: Some(ns.to_owned()),
                    labels: Some(desired.labels.clone()),
                    owner_references: owner.map(|o| vec![o.clone()]),
                    ..ObjectMeta::default()
                },
                spec: desired.spec.clone(),
                status: None,
            };
            async move { (desired, api.create(&PostParams::default(), &config).await) }
        })
        .collect();
    let mut results = futures::stream::iter(creations).buffer_unordered(CREATES_IN_FLIGHT);
    let mut failed = None;
    while let Some((desired, result)) = results.next().await {
        match result {
            Ok(_) => {
                applied.writes += 1;
                applied.created.push(desired);
            }
            // The cache has not seen our own creation yet: it exists.
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            // The others in flight still land (and are counted): the reconcile runs again.
            Err(e) => failed = Some(e),
        }
    }
    applied.created.sort_by(|a, b| a.name.cmp(&b.name));
    failed.map_or(Ok(()), |e| Err(e.into()))
}

/// Deletes a generated configuration — that very object (its uid), unless already going.
pub async fn delete(
    api: &Api<SyncConfiguration>,
    configs: &Store<SyncConfiguration>,
    ns: &str,
    name: &str,
) -> Result<bool, Error> {
    let Some(config) = configs.get(&ObjectRef::new(name).within(ns)) else {
        return Ok(false);
    };
    if config.metadata.deletion_timestamp.is_some() {
        return Ok(false);
    }
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: config.uid(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api.delete(name, &params).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(configuration = name, namespace = ns, "generated configuration deleted");
    Ok(true)
}

/// The owner reference of every generated configuration: the Organization is its controller.
pub fn owner_reference(organization: &Organization) -> Option<OwnerReference> {
    let mut owner = organization.controller_owner_ref(&())?;
    owner.block_owner_deletion = Some(true);
    Some(owner)
}

pub fn has_finalizer(organization: &Organization) -> bool {
    organization.finalizers().iter().any(|f| f == ORGANIZATION_FINALIZER)
}

/// Adds (`keep`) or removes the Organization's finalizer: a merge patch of the list, guarded by
/// resourceVersion so that another writer's finalizer is never lost.
pub async fn set_finalizer(api: &Api<Organization>, organization: &Organization, keep: bool) -> Result<(), Error> {
    let mut finalizers: Vec<String> = organization
        .finalizers()
        .iter()
        .filter(|f| *f != ORGANIZATION_FINALIZER)
        .cloned()
        .collect();
    if keep {
        finalizers.push(ORGANIZATION_FINALIZER.to_owned());
    }
    let patch = serde_json::json!({
        "metadata": { "resourceVersion": organization.resource_version(), "finalizers": finalizers }
    });
    api.patch(&organization.name_any(), &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}
