//! Which Tenants to check again when a Secret or a ConfigMap changes.

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::ResourceExt;
use kube::api::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::api::tenant::Tenant;
use crate::controller::provider_settings;
use crate::providers::Setup;
use crate::providers::settings::CaBundleHolder;

/// A ConfigMap changed (or appeared, or went away): check again the Tenants of its namespace
/// whose `caBundleRef` names it, so that a renewed CA takes effect at once.
pub fn config_map_mapper(
    tenants: Store<Tenant>,
) -> impl Fn(PartialObjectMeta<ConfigMap>) -> Vec<ObjectRef<Tenant>> + Send + Sync + 'static {
    move |config_map| {
        naming(&tenants, &config_map, |setup, name| {
            setup
                .ca_bundle()
                .is_some_and(|b| b.bundle.holder == CaBundleHolder::ConfigMap && b.bundle.name == name)
        })
    }
}

/// A Secret changed (or appeared, or went away): check again the Tenants of its namespace that
/// name it, so that fixing a credential takes effect at once.
pub fn secret_mapper(
    tenants: Store<Tenant>,
) -> impl Fn(PartialObjectMeta<Secret>) -> Vec<ObjectRef<Tenant>> + Send + Sync + 'static {
    move |secret| {
        naming(&tenants, &secret, |setup, name| {
            setup.credential().secret_name() == Some(name)
                || setup
                    .ca_bundle()
                    .is_some_and(|b| b.bundle.holder == CaBundleHolder::Secret && b.bundle.name == name)
        })
    }
}

/// The Tenants in `object`'s namespace whose checked spec `names` it.
fn naming<K: ResourceExt>(
    tenants: &Store<Tenant>,
    object: &K,
    names: impl Fn(&Setup, &str) -> bool,
) -> Vec<ObjectRef<Tenant>> {
    let (Some(ns), name) = (object.namespace(), object.name_any()) else {
        return Vec::new();
    };
    tenants
        .state()
        .into_iter()
        .filter(|t| {
            t.namespace().as_deref() == Some(ns.as_str())
                && provider_settings::setup(&t.spec).is_ok_and(|setup| names(&setup, &name))
        })
        .map(|t| ObjectRef::from_obj(t.as_ref()))
        .collect()
}
