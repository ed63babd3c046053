//! Tenant reconciler: dereference (provider, Secret, CA bundle) → connection test → decide
//! (`decide`, pure: the reason, the next status, when to look again) → write.

mod decide;
mod mappers;

use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

pub(crate) use self::decide::{Checked, TenantProblem, status_after};
pub use self::mappers::{config_map_mapper, secret_mapper};
use super::{Context, Error, status_writer, tenant_directory};
use crate::api::conditions::{self, ConditionReason};
use crate::api::reasons::TenantReadyReason;
use crate::api::tenant::{Capabilities, Tenant, TenantStatus};
use crate::ops::metrics::ObjectLabels;

pub async fn reconcile(tenant: Arc<Tenant>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = tenant.namespace().ok_or(Error::NotNamespaced)?;
    let name = tenant.name_any();
    let checked = check(&tenant, &ns, &ctx).await?;
    let requeue = decide::requeue(&checked, &ctx.settings);
    if let Err(problem) = &checked.result {
        let reason = TenantReadyReason::from(problem);
        tracing::info!(tenant = %name, namespace = %ns, %reason, message = %problem, "tenant not ready");
    }
    let new_status = status_after(&tenant, checked, Timestamp::now());
    status_writer::apply(&Api::<Tenant>::namespaced(ctx.client.clone(), &ns), &name, &new_status).await?;
    observe(&ctx, &tenant, &new_status);
    Ok(Action::requeue(requeue))
}

/// The connection test. The outer error is ours (retry); the inner one is the user's (status).
async fn check(tenant: &Tenant, ns: &str, ctx: &Context) -> Result<Checked, Error> {
    let (setup, access) = match tenant_directory::setup_with_access(ctx, ns, tenant).await? {
        Ok(found) => found,
        Err(problem) => return Ok(TenantProblem::from(problem).into()),
    };
    Ok(Checked {
        result: setup
            .probe(&ctx.clients, &access)
            .await
            .map(Capabilities::from)
            .map_err(TenantProblem::from),
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
