//! Which policies to look at again when a policy, a Tenant, an Organization or a leaving
//! tenant's generated configuration changes.

use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::api::conditions;
use crate::api::organization::Organization;
use crate::api::policy::CrossTenantAccessPolicy;
use crate::api::reasons::PolicyReadyReason;
use crate::api::sync_config::SyncConfiguration;
use crate::api::tenant::Tenant;
use crate::controller::{lookup, organization};

/// A policy changed or went away: the others for the same tenant may win or lose, and any
/// policy now marked duplicate may have been freed by a policy that moved to another tenant.
pub fn sibling_mapper(
    policies: Store<CrossTenantAccessPolicy>,
) -> impl Fn(CrossTenantAccessPolicy) -> Vec<ObjectRef<CrossTenantAccessPolicy>> + Send + Sync + 'static {
    move |changed| {
        let ns = changed.namespace();
        policies
            .state()
            .into_iter()
            .filter(|p| p.name_any() != changed.name_any() || p.namespace() != ns)
            .filter(|p| {
                (p.namespace() == ns && p.spec.tenant_ref == changed.spec.tenant_ref)
                    || p.status
                        .as_ref()
                        .is_some_and(|s| conditions::has_reason(&s.conditions, PolicyReadyReason::DuplicatePolicy))
            })
            .map(|p| ObjectRef::from_obj(p.as_ref()))
            .collect()
    }
}

/// A Tenant appeared or went away: its policies' `TenantNotFound` may change.
pub fn tenant_mapper(
    policies: Store<CrossTenantAccessPolicy>,
) -> impl Fn(Tenant) -> Vec<ObjectRef<CrossTenantAccessPolicy>> + Send + Sync + 'static {
    move |tenant| {
        let Some(ns) = tenant.namespace() else {
            return Vec::new();
        };
        lookup::policies_of(&policies, &ns, &tenant.name_any())
            .iter()
            .map(|p| ObjectRef::from_obj(p.as_ref()))
            .collect()
    }
}

/// An Organization changed: the policies of every tenant it names (its partner template is
/// part of their settings in force, `status.effective`).
pub fn organization_mapper(
    policies: Store<CrossTenantAccessPolicy>,
) -> impl Fn(Organization) -> Vec<ObjectRef<CrossTenantAccessPolicy>> + Send + Sync + 'static {
    move |changed| {
        let Some(ns) = changed.namespace() else {
            return Vec::new();
        };
        organization::tenants_named(&changed)
            .iter()
            .flat_map(|tenant| lookup::policies_of(&policies, &ns, tenant))
            .map(|p| ObjectRef::from_obj(p.as_ref()))
            .collect()
    }
}

/// A generated configuration of a leaving tenant changed or went: its Tenants' template entries
/// may be withdrawn now, so their policies are looked at again.
pub fn leaving_config_mapper(
    policies: Store<CrossTenantAccessPolicy>,
    organizations: Store<Organization>,
) -> impl Fn(SyncConfiguration) -> Vec<ObjectRef<CrossTenantAccessPolicy>> + Send + Sync + 'static {
    move |config| {
        let (Some(ns), Some((source, target))) =
            (config.namespace(), organization::leaving_pair(&organizations, &config))
        else {
            return Vec::new();
        };
        [source, target]
            .iter()
            .flat_map(|tenant| lookup::policies_of(&policies, &ns, tenant))
            .map(|p| ObjectRef::from_obj(p.as_ref()))
            .collect()
    }
}
