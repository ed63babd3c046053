//! Tenant reconciler: provider → Secret → connection test → `Ready` and capabilities.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::PartialObjectMeta;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};

use super::{Context, Error, connect, status};
use crate::api::conditions::{self, ConditionReason, Verdict};
use crate::api::reasons::TenantReadyReason;
use crate::api::tenant::{Capabilities, Tenant, TenantStatus};
use crate::ops::metrics::ObjectLabels;
use crate::providers::{ConnectError, ProbeError, Setup};

/// Why a Tenant is not Ready.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TenantProblem {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Probe(#[from] ProbeError),
}

impl From<&TenantProblem> for TenantReadyReason {
    fn from(problem: &TenantProblem) -> Self {
        match problem {
            TenantProblem::Connect(ConnectError::InvalidSpec(_) | ConnectError::TenantNotFound(_)) => {
                TenantReadyReason::InvalidSpec
            }
            TenantProblem::Connect(ConnectError::SecretNotFound(_)) => TenantReadyReason::SecretNotFound,
            TenantProblem::Connect(ConnectError::SecretNotAllowed(_)) => TenantReadyReason::SecretNotAllowed,
            TenantProblem::Connect(ConnectError::UnsupportedCloud(_)) => TenantReadyReason::UnsupportedCloud,
            TenantProblem::Connect(ConnectError::AuthenticationFailed(_))
            | TenantProblem::Probe(ProbeError::AuthenticationFailed { .. }) => TenantReadyReason::AuthenticationFailed,
            TenantProblem::Probe(ProbeError::Unreachable { .. }) => TenantReadyReason::Unreachable,
            TenantProblem::Probe(ProbeError::TenantIdMismatch { .. }) => TenantReadyReason::TenantIdMismatch,
            TenantProblem::Probe(ProbeError::InvalidResponse { .. }) => TenantReadyReason::InvalidResponse,
        }
    }
}

pub async fn reconcile(tenant: Arc<Tenant>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = tenant.namespace().ok_or(Error::NotNamespaced)?;
    let name = tenant.name_any();
    let checked = check(&tenant, &ns, &ctx).await?;
    let now = Timestamp::now();
    let requeue = if checked.is_ok() {
        ctx.settings.tenant_recheck
    } else {
        ctx.settings.tenant_retry
    };
    if let Err(problem) = &checked {
        let reason = TenantReadyReason::from(problem);
        tracing::info!(tenant = %name, namespace = %ns, %reason, message = %problem, "tenant not ready");
    }
    let new_status = status_after(&tenant, checked, now);
    status::apply(&Api::<Tenant>::namespaced(ctx.client.clone(), &ns), &name, &new_status).await?;
    observe(&ctx, &tenant, &new_status);
    Ok(Action::requeue(requeue))
}

/// The connection test. The outer error is ours (retry); the inner one is the user's (status).
async fn check(tenant: &Tenant, ns: &str, ctx: &Context) -> Result<Result<Capabilities, TenantProblem>, Error> {
    let (setup, secret) = match connect::setup_with_secret(ctx, ns, tenant).await? {
        Ok(found) => found,
        Err(problem) => return Ok(Err(problem.into())),
    };
    Ok(setup.probe(&ctx.clients, &secret).await.map_err(TenantProblem::from))
}

/// Every cached Tenant's readiness, for the alerts (this one's as just written: the cache may
/// not have it yet).
fn observe(ctx: &Context, checked: &Tenant, status: &TenantStatus) {
    let ready = |s: Option<&TenantStatus>| {
        s.and_then(|s| conditions::find(&s.conditions, TenantReadyReason::TYPE))
            .is_some_and(|c| c.status == "True")
    };
    let tenants = ctx.tenants.state().into_iter().map(|tenant| {
        let labels = ObjectLabels {
            namespace: tenant.namespace().unwrap_or_default(),
            name: tenant.name_any(),
        };
        let is_ready = if tenant.uid() == checked.uid() {
            ready(Some(status))
        } else {
            ready(tenant.status.as_ref())
        };
        (labels, is_ready)
    });
    ctx.health.metrics.tenants(tenants);
}

/// The status a connection test gives a Tenant: `Ready` and, when it passed, capabilities.
pub(crate) fn status_after(
    tenant: &Tenant,
    checked: Result<Capabilities, TenantProblem>,
    now: Timestamp,
) -> TenantStatus {
    let previous = tenant.status.clone().unwrap_or_default();
    let (verdict, capabilities) = match checked {
        Ok(capabilities) => (
            Verdict::truth(
                TenantReadyReason::Connected,
                "credentials found and the connection tested",
            ),
            Some(capabilities),
        ),
        Err(problem) => (
            Verdict::falsity(TenantReadyReason::from(&problem), problem.to_string()),
            None,
        ),
    };
    TenantStatus {
        observed_generation: tenant.metadata.generation,
        conditions: conditions::record(&previous.conditions, verdict, tenant.metadata.generation, now),
        capabilities,
        last_connection_check: Some(Time(now)),
    }
}

/// A Secret changed (or appeared, or went away): check again the Tenants of its namespace that
/// name it, so that fixing a credential takes effect at once.
pub fn secret_mapper(
    tenants: Store<Tenant>,
) -> impl Fn(PartialObjectMeta<Secret>) -> Vec<ObjectRef<Tenant>> + Send + Sync + 'static {
    move |secret| {
        let (Some(ns), name) = (secret.namespace(), secret.name_any()) else {
            return Vec::new();
        };
        tenants
            .state()
            .into_iter()
            .filter(|t| {
                t.namespace().as_deref() == Some(ns.as_str())
                    && Setup::of(&t.spec).is_ok_and(|setup| setup.secret().name == name)
            })
            .map(|t| ObjectRef::from_obj(t.as_ref()))
            .collect()
    }
}
