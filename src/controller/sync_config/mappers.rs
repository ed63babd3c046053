//! Watch events of other objects that concern a SyncConfiguration: a sibling of the same pair,
//! a Tenant it names, a policy of one of its Tenants, an Organization naming one of its Tenants,
//! a leaving tenant's generated configuration.

use std::sync::Arc;

use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};

use super::super::{Context, lookup, organization};
use crate::api::{CrossTenantAccessPolicy, Organization, SyncConfiguration, Tenant};

/// A configuration changed or went away: configurations of the same pair may win or lose, and
/// any now marked `DuplicatePair` may have been freed.
pub fn sibling_mapper(
    ctx: Arc<Context>,
) -> impl Fn(SyncConfiguration) -> Vec<ObjectRef<SyncConfiguration>> + Send + Sync + 'static {
    move |changed| {
        let changed_rank = lookup::rank(&changed);
        let mut siblings: Vec<ObjectRef<SyncConfiguration>> = lookup::same_directories(&ctx.caches(), &changed)
            .iter()
            .filter(|c| lookup::rank(c.as_ref()) != changed_rank)
            .map(|c| ObjectRef::from_obj(c.as_ref()))
            .collect();
        let changed_key = (changed.namespace().unwrap_or_default(), changed.name_any());
        siblings.extend(
            ctx.config_index
                .duplicates()
                .into_iter()
                .filter(|key| *key != changed_key)
                .map(|(ns, name)| ObjectRef::new(&name).within(&ns)),
        );
        siblings
    }
}

/// A Tenant changed (its readiness, id or cloud): every configuration that names it.
pub fn tenant_mapper(
    configs: Store<SyncConfiguration>,
) -> impl Fn(Tenant) -> Vec<ObjectRef<SyncConfiguration>> + Send + Sync + 'static {
    move |tenant| configs_naming(&configs, tenant.namespace(), &tenant.name_any())
}

/// A policy changed: every configuration whose source or target is the policy's tenant.
pub fn policy_mapper(
    configs: Store<SyncConfiguration>,
) -> impl Fn(CrossTenantAccessPolicy) -> Vec<ObjectRef<SyncConfiguration>> + Send + Sync + 'static {
    move |policy| configs_naming(&configs, policy.namespace(), &policy.spec.tenant_ref.name)
}

/// An Organization changed: every configuration whose source or target is a tenant it names
/// (its partner template is part of their gates' settings in force).
pub fn organization_mapper(
    configs: Store<SyncConfiguration>,
) -> impl Fn(Organization) -> Vec<ObjectRef<SyncConfiguration>> + Send + Sync + 'static {
    move |changed| {
        let ns = changed.namespace();
        organization::tenants_named(&changed)
            .iter()
            .flat_map(|tenant| configs_naming(&configs, ns.clone(), tenant))
            .collect()
    }
}

/// A generated configuration of a leaving tenant changed or went: its Tenants' template
/// entries may be withdrawn now, so the other configurations naming them are gated again.
pub fn leaving_config_mapper(
    ctx: Arc<Context>,
) -> impl Fn(SyncConfiguration) -> Vec<ObjectRef<SyncConfiguration>> + Send + Sync + 'static {
    move |changed| {
        let Some((source, target)) = organization::leaving_pair(&ctx.organizations, &changed) else {
            return Vec::new();
        };
        let own = ObjectRef::from_obj(&changed);
        [source, target]
            .iter()
            .flat_map(|tenant| configs_naming(&ctx.configs, changed.namespace(), tenant))
            .filter(|c| *c != own)
            .collect()
    }
}

/// The configurations of `namespace` whose source or target is the Tenant `tenant_name`.
fn configs_naming(
    configs: &Store<SyncConfiguration>,
    namespace: Option<String>,
    tenant_name: &str,
) -> Vec<ObjectRef<SyncConfiguration>> {
    configs
        .state()
        .into_iter()
        .filter(|c| {
            c.namespace() == namespace
                && (c.spec.source_ref.name == tenant_name || c.spec.target_ref.name == tenant_name)
        })
        .map(|c| ObjectRef::from_obj(c.as_ref()))
        .collect()
}
