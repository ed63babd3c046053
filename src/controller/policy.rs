//! CrossTenantAccessPolicy reconciler: effective settings, one policy per tenant.

use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};

use super::{Context, Error, connect, lookup, status};
use crate::access;
use crate::api::conditions::{self, ConditionReason, Verdict};
use crate::api::policy::{CrossTenantAccessPolicy, CrossTenantAccessPolicyStatus};
use crate::api::reasons::{AppliedReason, PolicyReadyReason};
use crate::api::tenant::Tenant;
use crate::providers::msgraph::{self, policy::PushError};
use crate::providers::{ConnectError, DirectoryError};

pub async fn reconcile(policy: Arc<CrossTenantAccessPolicy>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = policy.namespace().ok_or(Error::NotNamespaced)?;
    let name = policy.name_any();
    let tenant_name = &policy.spec.tenant_ref.name;
    let repeated = access::repeated_partners(&policy.spec);
    let verdict = if !repeated.is_empty() {
        Verdict::falsity(
            PolicyReadyReason::InvalidSpec,
            format!("partners list tenant {} more than once", repeated.join(", ")),
        )
    } else if lookup::tenant(&ctx.tenants, &ns, tenant_name).is_none() {
        Verdict::falsity(
            PolicyReadyReason::TenantNotFound,
            format!("Tenant '{tenant_name}' does not exist in namespace '{ns}'"),
        )
    } else {
        match lookup::policy_in_force(&ctx.policies, &ns, tenant_name) {
            Some(winner) if winner.name_any() != name => Verdict::falsity(
                PolicyReadyReason::DuplicatePolicy,
                format!(
                    "CrossTenantAccessPolicy '{}' already configures Tenant '{tenant_name}'; a tenant has at most one policy (the oldest wins)",
                    winner.name_any()
                ),
            ),
            _ => Verdict::truth(
                PolicyReadyReason::Effective,
                format!(
                    "settings in force for Tenant '{tenant_name}' and {} listed partner(s)",
                    policy.spec.partners.len()
                ),
            ),
        }
    };
    let previous = policy.status.clone().unwrap_or_default();
    let now = Timestamp::now();
    let generation = policy.metadata.generation;
    let pushed = push_to_directory(&policy, &ns, &ctx, verdict.status).await?;
    let mut conditions = conditions::record(&previous.conditions, verdict, generation, now);
    let (requeue, unmanaged_partners) = match pushed {
        Some((applied, unmanaged)) => {
            let requeue = if applied.status {
                ctx.settings.tenant_recheck
            } else {
                ctx.settings.tenant_retry
            };
            conditions = conditions::record(&conditions, applied, generation, now);
            (requeue.min(ctx.settings.gate_recheck), unmanaged)
        }
        // Only Graph tenants have settings to push: no Applied condition elsewhere.
        None => {
            conditions.retain(|c| c.type_ != AppliedReason::TYPE);
            (ctx.settings.gate_recheck, Vec::new())
        }
    };
    let new_status = CrossTenantAccessPolicyStatus {
        observed_generation: generation,
        conditions,
        effective: access::effective_partners(&policy.spec),
        partner_count: Some(u32::try_from(policy.spec.partners.len()).unwrap_or(u32::MAX)),
        unmanaged_partners,
    };
    status::apply(
        &Api::<CrossTenantAccessPolicy>::namespaced(ctx.client.clone(), &ns),
        &name,
        &new_status,
    )
    .await?;
    Ok(Action::requeue(requeue))
}

/// For a policy of a Graph tenant: pushes it into Entra and says how that went (`Applied`),
/// with the partners Entra has that the policy does not list. `None` for other tenants.
async fn push_to_directory(
    policy: &CrossTenantAccessPolicy,
    ns: &str,
    ctx: &Context,
    policy_ready: bool,
) -> Result<Option<(Verdict, Vec<String>)>, Error> {
    let tenant_name = &policy.spec.tenant_ref.name;
    let Some(tenant) = lookup::tenant(&ctx.tenants, ns, tenant_name) else {
        return Ok(None);
    };
    if tenant.spec.directory.msgraph.is_none() {
        return Ok(None);
    }
    let not_applied =
        |reason: AppliedReason, message: String| Ok(Some((Verdict::falsity(reason, message), Vec::new())));
    if !policy_ready {
        return not_applied(
            AppliedReason::PolicyNotReady,
            "the policy is not Ready; nothing is pushed to Entra".into(),
        );
    }
    if !matches!(lookup::tenant_state(Some(&tenant)), crate::gate::TenantState::Ready(_)) {
        return not_applied(
            AppliedReason::TenantNotReady,
            format!("Tenant '{tenant_name}' is not Ready; the policy is pushed once it is"),
        );
    }
    let client = match connect::graph_client(ctx, ns, &tenant).await? {
        Ok(Some(client)) => client,
        Ok(None) => return Ok(None),
        Err(problem) => return not_applied(AppliedReason::from(&problem), problem.to_string()),
    };
    match msgraph::policy::push(&client, &policy.spec).await {
        Ok(pushed) => {
            if pushed.writes > 0 {
                tracing::info!(policy = %policy.name_any(), namespace = ns, writes = pushed.writes, "cross-tenant access settings pushed to Entra");
            }
            let verdict = Verdict::truth(
                AppliedReason::Applied,
                format!(
                    "Entra has these settings for {} listed partner(s){}",
                    policy.spec.partners.len(),
                    if pushed.unmanaged_partners.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; {} partner(s) configured in Entra and not listed here are left alone",
                            pushed.unmanaged_partners.len()
                        )
                    }
                ),
            );
            Ok(Some((verdict, pushed.unmanaged_partners)))
        }
        Err(PushError::NotRepresentable(message)) => not_applied(AppliedReason::NotRepresentable, message),
        Err(PushError::Directory(DirectoryError::Rejected {
            status: 403,
            code,
            detail,
        })) => not_applied(
            AppliedReason::Forbidden,
            format!(
                "Entra refused the change ({}: {}); the app needs the application permission Policy.ReadWrite.CrossTenantAccess",
                code.unwrap_or_default(),
                detail.unwrap_or_default()
            ),
        ),
        Err(PushError::Directory(e)) => not_applied(
            AppliedReason::from(&e),
            format!("pushing the settings to Entra failed: {e}"),
        ),
    }
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

impl From<&ConnectError> for AppliedReason {
    fn from(problem: &ConnectError) -> Self {
        match problem {
            ConnectError::SecretNotFound(_) => AppliedReason::SecretNotFound,
            ConnectError::SecretNotAllowed(_) => AppliedReason::SecretNotAllowed,
            ConnectError::UnsupportedCloud(_) => AppliedReason::UnsupportedCloud,
            ConnectError::AuthenticationFailed(_) | ConnectError::InvalidCertificate(_) => {
                AppliedReason::AuthenticationFailed
            }
            ConnectError::TenantNotFound(_)
            | ConnectError::InvalidSpec(_)
            | ConnectError::InvalidCABundle(_)
            | ConnectError::LoginEndpointNotTrusted(_) => AppliedReason::TenantNotReady,
        }
    }
}

impl From<&DirectoryError> for AppliedReason {
    fn from(error: &DirectoryError) -> Self {
        match error {
            DirectoryError::AuthenticationFailed { .. } => AppliedReason::AuthenticationFailed,
            DirectoryError::Throttled { .. } => AppliedReason::Throttled,
            DirectoryError::Unreachable(_) => AppliedReason::Unreachable,
            DirectoryError::Rejected { .. }
            | DirectoryError::Refused { .. }
            | DirectoryError::PreconditionFailed
            | DirectoryError::Unsupported(_)
            | DirectoryError::NotFound => AppliedReason::Rejected,
            DirectoryError::InvalidResponse(_) | DirectoryError::Stopped => AppliedReason::InvalidResponse,
        }
    }
}
