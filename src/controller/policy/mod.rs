//! CrossTenantAccessPolicy reconciler: dereference (the Tenant, the tenant's other policies,
//! its Organizations' partner templates) → the settings in force (`access::overlay`) → decide (`decide`, pure) → push the settings to Entra for a Graph tenant → status
//! (`status`, pure) → write (docs/architecture.md, "Where a change belongs").

mod decide;
mod mappers;
mod status;

use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use self::decide::{PolicyFacts, PushOutcome};
pub use self::mappers::{leaving_config_mapper, organization_mapper, sibling_mapper, tenant_mapper};
use super::{Context, Error, lookup, organization, provider_settings, tenant_directory};
use crate::access::{self, EffectivePolicy};
use crate::api::policy::CrossTenantAccessPolicy;
use crate::providers::msgraph;

pub async fn reconcile(policy: Arc<CrossTenantAccessPolicy>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = policy.namespace().ok_or(Error::NotNamespaced)?;
    let name = policy.name_any();
    let tenant = &policy.spec.tenant_ref.name;
    let facts = PolicyFacts {
        namespace: &ns,
        tenant,
        tenant_exists: lookup::tenant(&ctx.tenants, &ns, tenant).is_some(),
        repeated_partners: access::repeated_partners(&policy.spec),
        other_policy_in_force: lookup::policy_in_force(&ctx.policies, &ns, tenant)
            .map(|winner| winner.name_any())
            .filter(|winner| *winner != name),
        partners: policy.spec.partners.len(),
    };
    // The spec is only read: what the Organizations add is in `effective`, never written back.
    let templates = organization::templates_for(&ctx.caches(), &ns, tenant);
    let effective = access::overlay(Some(&policy.spec), &templates);
    let ready = decide::readiness(&facts);
    let pushed = push_to_directory(&policy, &effective, &ns, &ctx, ready.status).await?;
    let applied = decide::applied(pushed, tenant, effective.spec.partners.len());
    let (new_status, requeue) =
        status::next_status(&policy, &effective, ready, applied, &ctx.settings, Timestamp::now());
    super::status_writer::apply(
        &Api::<CrossTenantAccessPolicy>::namespaced(ctx.client.clone(), &ns),
        &name,
        &new_status,
    )
    .await?;
    Ok(Action::requeue(requeue))
}

/// For a policy of a Graph tenant: pushes its settings in force (`effective`) into Entra.
/// Other tenants have nothing to push.
async fn push_to_directory(
    policy: &CrossTenantAccessPolicy,
    effective: &EffectivePolicy,
    ns: &str,
    ctx: &Context,
    policy_ready: bool,
) -> Result<PushOutcome, Error> {
    let Some(tenant) = lookup::tenant(&ctx.tenants, ns, &policy.spec.tenant_ref.name) else {
        return Ok(PushOutcome::NothingToPush);
    };
    if tenant.spec.directory.msgraph.is_none() {
        return Ok(PushOutcome::NothingToPush);
    }
    if !policy_ready {
        return Ok(PushOutcome::PolicyNotReady);
    }
    if !matches!(lookup::tenant_state(Some(&tenant)), crate::gate::TenantState::Ready(_)) {
        return Ok(PushOutcome::TenantNotReady);
    }
    let client = match tenant_directory::graph_client(ctx, ns, &tenant).await? {
        Ok(Some(client)) => client,
        Ok(None) => return Ok(PushOutcome::NothingToPush),
        Err(problem) => return Ok(PushOutcome::Unusable(problem)),
    };
    Ok(
        match msgraph::policy::push(&client, &provider_settings::entra_policy(&effective.spec)).await {
            Ok(pushed) => {
                if pushed.writes > 0 {
                    tracing::info!(policy = %policy.name_any(), namespace = ns, writes = pushed.writes, "cross-tenant access settings pushed to Entra");
                }
                PushOutcome::Pushed(pushed)
            }
            Err(error) => PushOutcome::Failed(error),
        },
    )
}

#[cfg(test)]
mod tests;
