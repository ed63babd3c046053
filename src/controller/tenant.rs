//! Tenant reconciler: provider → Secret → connection test → `Ready` and capabilities.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::PartialObjectMeta;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};

use super::{Context, Error, connect, status};
use crate::api::conditions::{self, ConditionReason, Verdict};
use crate::api::reasons::TenantReadyReason;
use crate::api::tenant::{CaBundleKind, Capabilities, Tenant, TenantStatus};
use crate::ops::metrics::ObjectLabels;
use crate::providers::{ConnectError, ProbeError, Setup, TestError};

/// Why a Tenant is not Ready.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TenantProblem {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Probe(#[from] ProbeError),
}

impl From<TestError> for TenantProblem {
    fn from(error: TestError) -> Self {
        match error {
            TestError::Connect(problem) => TenantProblem::Connect(problem),
            TestError::Probe(problem) => TenantProblem::Probe(problem),
        }
    }
}

/// A connection test's outcome: the capabilities or the problem, and when the credential
/// expires, when it was read and says.
pub(crate) struct Checked {
    pub result: Result<Capabilities, TenantProblem>,
    pub credential_expiry: Option<Timestamp>,
}

impl From<TenantProblem> for Checked {
    fn from(problem: TenantProblem) -> Self {
        Checked {
            result: Err(problem),
            credential_expiry: None,
        }
    }
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
            TenantProblem::Connect(ConnectError::InvalidCertificate(_)) => TenantReadyReason::InvalidCertificate,
            TenantProblem::Connect(ConnectError::InvalidCABundle(_)) => TenantReadyReason::InvalidCABundle,
            TenantProblem::Connect(ConnectError::LoginEndpointNotTrusted(_)) => {
                TenantReadyReason::LoginEndpointNotTrusted
            }
            TenantProblem::Connect(ConnectError::AuthenticationFailed(_))
            | TenantProblem::Probe(ProbeError::AuthenticationFailed { .. }) => TenantReadyReason::AuthenticationFailed,
            TenantProblem::Probe(ProbeError::Unreachable { .. }) => TenantReadyReason::Unreachable,
            TenantProblem::Probe(ProbeError::Tls { .. }) => TenantReadyReason::TLSError,
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
    let requeue = if checked.result.is_ok() {
        ctx.settings.tenant_recheck
    } else {
        ctx.settings.tenant_retry
    };
    if let Err(problem) = &checked.result {
        let reason = TenantReadyReason::from(problem);
        tracing::info!(tenant = %name, namespace = %ns, %reason, message = %problem, "tenant not ready");
    }
    let new_status = status_after(&tenant, checked, now);
    status::apply(&Api::<Tenant>::namespaced(ctx.client.clone(), &ns), &name, &new_status).await?;
    observe(&ctx, &tenant, &new_status);
    Ok(Action::requeue(requeue))
}

/// The connection test. The outer error is ours (retry); the inner one is the user's (status).
async fn check(tenant: &Tenant, ns: &str, ctx: &Context) -> Result<Checked, Error> {
    let (setup, access) = match connect::setup_with_access(ctx, ns, tenant).await? {
        Ok(found) => found,
        Err(problem) => return Ok(TenantProblem::from(problem).into()),
    };
    Ok(Checked {
        result: setup.probe(&ctx.clients, &access).await.map_err(TenantProblem::from),
        credential_expiry: access.credential.expiry(),
    })
}

/// Every cached Tenant's readiness, for the alerts (this one's as just written: the cache may
/// not have it yet).
fn observe(ctx: &Context, checked: &Tenant, status: &TenantStatus) {
    let ready = |s: Option<&TenantStatus>| {
        s.and_then(|s| conditions::find(&s.conditions, TenantReadyReason::TYPE))
            .is_some_and(|c| c.status == "True")
    };
    let statuses: Vec<(ObjectLabels, Option<TenantStatus>)> = ctx
        .tenants
        .state()
        .into_iter()
        .map(|tenant| {
            let labels = ObjectLabels {
                namespace: tenant.namespace().unwrap_or_default(),
                name: tenant.name_any(),
            };
            let status = if tenant.uid() == checked.uid() {
                Some(status.clone())
            } else {
                tenant.status.clone()
            };
            (labels, status)
        })
        .collect();
    let metrics = &ctx.health.metrics;
    metrics.tenants(statuses.iter().map(|(labels, s)| (labels.clone(), ready(s.as_ref()))));
    metrics.credential_expiries(statuses.iter().filter_map(|(labels, s)| {
        let expiry = s.as_ref()?.credential_expiry.as_ref()?;
        Some((labels.clone(), expiry.0.as_second()))
    }));
}

/// The status a connection test gives a Tenant: `Ready` and, when it passed, capabilities.
pub(crate) fn status_after(tenant: &Tenant, checked: Checked, now: Timestamp) -> TenantStatus {
    let previous = tenant.status.clone().unwrap_or_default();
    let (verdict, capabilities) = match checked.result {
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
        credential_expiry: checked.credential_expiry.map(Time),
    }
}

/// A ConfigMap changed (or appeared, or went away): check again the Tenants of its namespace
/// whose `caBundleRef` names it, so that a renewed CA takes effect at once.
pub fn config_map_mapper(
    tenants: Store<Tenant>,
) -> impl Fn(PartialObjectMeta<ConfigMap>) -> Vec<ObjectRef<Tenant>> + Send + Sync + 'static {
    move |config_map| {
        let (Some(ns), name) = (config_map.namespace(), config_map.name_any()) else {
            return Vec::new();
        };
        tenants
            .state()
            .into_iter()
            .filter(|t| {
                t.namespace().as_deref() == Some(ns.as_str())
                    && Setup::of(&t.spec).is_ok_and(|setup| {
                        setup
                            .ca_bundle()
                            .is_some_and(|b| b.bundle.kind == CaBundleKind::ConfigMap && b.bundle.name == name)
                    })
            })
            .map(|t| ObjectRef::from_obj(t.as_ref()))
            .collect()
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
                    && Setup::of(&t.spec).is_ok_and(|setup| {
                        setup.credential().secret_name() == Some(name.as_str())
                            || setup
                                .ca_bundle()
                                .is_some_and(|b| b.bundle.kind == CaBundleKind::Secret && b.bundle.name == name)
                    })
            })
            .map(|t| ObjectRef::from_obj(t.as_ref()))
            .collect()
    }
}
