//! CrossTenantAccessPolicy reconciler: effective settings, one policy per tenant.

use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};

use super::{Context, Error, lookup, status};
use crate::access;
use crate::api::conditions::{self, READY, Verdict};
use crate::api::policy::{CrossTenantAccessPolicy, CrossTenantAccessPolicyStatus};
use crate::api::tenant::Tenant;

pub async fn reconcile(policy: Arc<CrossTenantAccessPolicy>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = policy.namespace().ok_or(Error::NotNamespaced)?;
    let name = policy.name_any();
    let tenant_name = &policy.spec.tenant_ref.name;
    let repeated = access::repeated_partners(&policy.spec);
    let verdict = if !repeated.is_empty() {
        Verdict::falsity(
            READY,
            "InvalidSpec",
            format!("partners list tenant {} more than once", repeated.join(", ")),
        )
    } else if lookup::tenant(&ctx.tenants, &ns, tenant_name).is_none() {
        Verdict::falsity(
            READY,
            "TenantNotFound",
            format!("Tenant '{tenant_name}' does not exist in namespace '{ns}'"),
        )
    } else {
        match lookup::policy_in_force(&ctx.policies, &ns, tenant_name) {
            Some(winner) if winner.name_any() != name => Verdict::falsity(
                READY,
                "DuplicatePolicy",
                format!(
                    "CrossTenantAccessPolicy '{}' already configures Tenant '{tenant_name}'; a tenant has at most one policy (the oldest wins)",
                    winner.name_any()
                ),
            ),
            _ => Verdict::truth(
                READY,
                "Effective",
                format!(
                    "settings in force for Tenant '{tenant_name}' and {} listed partner(s)",
                    policy.spec.partners.len()
                ),
            ),
        }
    };
    let previous = policy.status.clone().unwrap_or_default();
    let new_status = CrossTenantAccessPolicyStatus {
        observed_generation: policy.metadata.generation,
        conditions: conditions::record(
            &previous.conditions,
            verdict,
            policy.metadata.generation,
            Timestamp::now(),
        ),
        effective: access::effective_partners(&policy.spec),
        partner_count: Some(u32::try_from(policy.spec.partners.len()).unwrap_or(u32::MAX)),
    };
    status::apply(
        &Api::<CrossTenantAccessPolicy>::namespaced(ctx.client.clone(), &ns),
        &name,
        &new_status,
    )
    .await?;
    Ok(Action::requeue(ctx.settings.gate_recheck))
}

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
                        .is_some_and(|s| lookup::ready_reason_is(&s.conditions, "DuplicatePolicy"))
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
