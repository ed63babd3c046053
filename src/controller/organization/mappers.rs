//! Which Organizations to look at again when a Tenant or a SyncConfiguration changes.

use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::api::organization::{ORGANIZATION_LABEL, Organization};
use crate::api::{SyncConfiguration, Tenant};

/// A Tenant changed: every Organization it is a member of.
pub fn tenant_mapper(
    organizations: Store<Organization>,
) -> impl Fn(Tenant) -> Vec<ObjectRef<Organization>> + Send + Sync + 'static {
    move |tenant| {
        let (ns, name) = (tenant.namespace(), tenant.name_any());
        organizations
            .state()
            .into_iter()
            .filter(|o| o.namespace() == ns && o.spec.tenants.iter().any(|m| m.tenant_ref.name == name))
            .map(|o| ObjectRef::from_obj(o.as_ref()))
            .collect()
    }
}

/// A SyncConfiguration changed: the Organization that generated it (its label, or its owner
/// reference), and every Organization whose members it connects (it may claim one of their
/// pairs, or free one).
pub fn config_mapper(
    organizations: Store<Organization>,
) -> impl Fn(SyncConfiguration) -> Vec<ObjectRef<Organization>> + Send + Sync + 'static {
    move |config| {
        let ns = config.namespace();
        let labelled = config.labels().get(ORGANIZATION_LABEL).cloned();
        let owners: Vec<String> = config
            .owner_references()
            .iter()
            .filter(|o| o.kind == "Organization")
            .map(|o| o.name.clone())
            .collect();
        let member = |o: &Organization, name: &str| o.spec.tenants.iter().any(|m| m.tenant_ref.name == name);
        organizations
            .state()
            .into_iter()
            .filter(|o| o.namespace() == ns)
            .filter(|o| {
                let name = o.name_any();
                labelled.as_ref() == Some(&name)
                    || owners.contains(&name)
                    || (member(o, &config.spec.source_ref.name) && member(o, &config.spec.target_ref.name))
            })
            .map(|o| ObjectRef::from_obj(o.as_ref()))
            .collect()
    }
}
