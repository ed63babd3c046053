//! The Organizations among some manifests, as their controller would meet them: the
//! controller's own fan-out (`organization::fan_out`) over the Tenants and SyncConfigurations
//! the manifests hold, and the configurations it would create, put back or delete, done to the
//! world's copy — name, labels, owner reference and spec as the controller writes them — so
//! that the shared evaluation finds them as if the controller had created them (README,
//! "Organizations").

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::ObjectMeta;
use kube::runtime::reflector::Store;

use super::store;
use crate::api::conditions::Verdict;
use crate::api::organization::OrganizationSpec;
use crate::api::{Organization, SyncConfiguration, Tenant};
use crate::controller::organization::fan_out::{self, Desired, Pair};
use crate::controller::organization::{apply, decide, dereference};

/// What an Organization of the manifests would generate.
pub struct Generation {
    pub namespace: String,
    pub name: String,
    pub spec: OrganizationSpec,
    /// Its `Ready` as the controller would write it once the configurations exist.
    pub ready: Verdict,
    /// The configurations it would have, in the fan-out's order (pairs sorted).
    pub configurations: Vec<Desired>,
    /// Pairs left to a configuration it did not generate: (pair, that configuration's name).
    pub conflicts: Vec<(Pair, String)>,
    /// Each member and its Tenant's id, when the Tenant is among the manifests.
    pub members: Vec<(String, Option<String>)>,
}

/// The configurations once every Organization has fanned out, in the order they would be
/// planned (those of the manifests, then each Organization's), and what each Organization
/// generates. `order`: how many objects the manifests hold; a generated configuration is
/// created after all of them ("the oldest wins" leaves a pair to the hand-written one).
pub fn generate(
    organizations: &[Organization],
    tenants: &Store<Tenant>,
    mut configs: Vec<SyncConfiguration>,
    mut order: usize,
) -> (Vec<SyncConfiguration>, Vec<Generation>) {
    let mut generations = Vec::new();
    for organization in organizations {
        let ns = organization.namespace().unwrap_or_default();
        let name = organization.name_any();
        let members = dereference::members(tenants, &ns, organization);
        let existing = dereference::existing(&store(&configs), tenants, &ns, organization);
        let problems = decide::problems(&name, &organization.spec);
        let fan_out = if problems.is_empty() && decide::has_owner(&organization.spec) {
            let directories = dereference::directories(tenants, &ns, organization);
            fan_out::fan_out(&name, &organization.spec, &existing, &directories).unwrap_or_default()
        } else {
            fan_out::FanOut::default()
        };
        configs.retain(|c| !(c.namespace().as_deref() == Some(ns.as_str()) && fan_out.stale.contains(&c.name_any())));
        for desired in &fan_out.desired {
            order += 1;
            put(&mut configs, organization, &ns, desired, order);
        }
        let ready = decide::readiness(
            &problems,
            &organization.spec,
            &members,
            &fan_out.conflicts,
            fan_out.desired.len(),
        );
        generations.push(Generation {
            members: members
                .iter()
                .map(|m| (m.name.clone(), m.found.tenant_id().map(str::to_owned)))
                .collect(),
            namespace: ns,
            name,
            spec: organization.spec.clone(),
            ready,
            configurations: fan_out.desired,
            conflicts: fan_out.conflicts,
        });
    }
    (configs, generations)
}

/// The desired configuration as the controller writes it: created, or put back over the one
/// of that name (its annotations and finalizers kept).
fn put(configs: &mut Vec<SyncConfiguration>, organization: &Organization, ns: &str, desired: &Desired, order: usize) {
    let owners = apply::owner_reference(organization).map(|o| vec![o]);
    let labels: BTreeMap<String, String> = desired.labels.clone();
    let same_name = |c: &SyncConfiguration| c.namespace().as_deref() == Some(ns) && c.name_any() == desired.name;
    if let Some(config) = configs.iter_mut().find(|c| same_name(c)) {
        config.spec = desired.spec.clone();
        config.metadata.labels = Some(labels);
        config.metadata.owner_references = owners;
        return;
    }
    let seconds = i64::try_from(order).unwrap_or(i64::MAX);
    configs.push(SyncConfiguration {
        metadata: ObjectMeta {
            name: Some(desired.name.clone()),
            namespace: Some(ns.to_owned()),
            labels: Some(labels),
            owner_references: owners,
            uid: Some(format!("plan-{order}")),
            creation_timestamp: k8s_openapi::jiff::Timestamp::from_second(seconds).ok().map(Time),
            ..ObjectMeta::default()
        },
        spec: desired.spec.clone(),
        status: None,
    });
}
