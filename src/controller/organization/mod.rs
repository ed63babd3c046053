//! Organization reconciler (README, "Organizations"): dereference (member Tenants, the
//! namespace's SyncConfigurations) → decide (`decide`, `fan_out`: pure) → apply (generated
//! configurations created, put back or deleted; Entra's multitenant organization for the
//! Microsoft Graph members, `entra`) → status (`status`, `entra_status`: pure) → write.
//!
//! Nothing here relies on a garbage collector: the Organization's finalizer stays until every
//! configuration it generated is gone, and it deletes them itself.

pub(super) mod apply;
pub(super) mod decide;
pub(super) mod dereference;
mod entra;
mod entra_decide;
mod entra_status;
mod events;
pub mod fan_out;
mod mappers;
pub mod pace;
mod status;
mod templates;

use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};

pub use self::mappers::{config_mapper, tenant_mapper};
pub use self::templates::{effective_policy, leaving_pair, templates_for, tenants_named};
use super::{Context, Error};
use crate::api::SyncConfiguration;
use crate::api::organization::{Organization, OrganizationStatus};
use events::OrganizationEventReason;
use fan_out::{Existing, FanOut};
use status::Generated;

pub async fn reconcile(organization: Arc<Organization>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = organization.namespace().ok_or(Error::NotNamespaced)?;
    let name = organization.name_any();
    let paced = (ns.clone(), name.clone());
    if let Some(wait) = ctx.organization_pace.wait(&paced, organization.metadata.generation) {
        return Ok(Action::requeue(wait));
    }
    let now = Timestamp::now();
    let organizations = Api::<Organization>::namespaced(ctx.client.clone(), &ns);
    let deleting = organization.metadata.deletion_timestamp.is_some();
    if !deleting && !apply::has_finalizer(&organization) {
        apply::set_finalizer(&organizations, &organization, true).await?;
    }

    let members = dereference::members(&ctx.tenants, &ns, &organization);
    let existing = dereference::existing(&ctx.configs, &ctx.tenants, &ns, &organization);
    let problems = decide::problems(&name, &organization.spec);
    // Entra is left alone while the spec is unusable and while the Organization is deleted
    // (Microsoft Graph has no call that deletes a multitenant organization).
    let entra = if deleting || !problems.is_empty() {
        entra::Entra::kept(&ctx, &ns, &organization)
    } else {
        entra::check(&ctx, &ns, &organization, now).await?
    };
    let fan_out = wanted(&ctx, &ns, &organization, &existing, &problems);
    let applied = match &fan_out {
        Some(fan_out) => {
            let configs = Api::<SyncConfiguration>::namespaced(ctx.client.clone(), &ns);
            apply::apply(&configs, &ctx.configs, &ns, &organization, fan_out).await?
        }
        None => apply::FanOutApplied::default(),
    };
    tracing::debug!(organization = %name, namespace = %ns, writes = applied.writes, waiting = applied.waiting, "configurations applied");
    let generated = generated(&existing, &applied);
    if deleting && generated.is_empty() {
        apply::set_finalizer(&organizations, &organization, false).await?;
        ctx.organization_pace.forget(&paced);
        return Ok(Action::await_change());
    }
    ctx.organization_pace
        .reconciled(paced, organization.metadata.generation);

    let conflicts = fan_out.map(|f| f.conflicts).unwrap_or_default();
    let ready = decide::readiness(&problems, &organization.spec, &members, &conflicts, generated.len());
    let ready = decide::with_kept_fields(ready, &templates::kept_fields(&ctx.caches(), &ns, &organization));
    let mut leaving: Vec<String> = fan_out::leaving(&organization.spec, &existing).into_iter().collect();
    let current: &[decide::MemberFacts] = if deleting {
        leaving.splice(0..0, members.iter().map(|m| m.name.clone()));
        &[]
    } else {
        &members
    };
    let previous = organization.status.clone().unwrap_or_default();
    let mut next = status::next_status(&organization, ready, current, &leaving, &generated, now);
    entra_status::overlay(&mut next, &previous, &entra.graph, &entra.step, now);
    // Every generated configuration's status change brings the Organization here: write only
    // what changed.
    if next != previous {
        super::status_writer::apply(&organizations, &name, &next).await?;
    }
    tell(&ctx, &organization, &previous, &next).await;
    entra::tell(&ctx, &organization, &previous, &next, &entra).await;
    Ok(Action::requeue(requeue(&ctx, &next, now)))
}

/// The safety net's pace, or sooner when Entra is due (a join under way, a failure's backoff).
fn requeue(ctx: &Context, next: &OrganizationStatus, now: Timestamp) -> std::time::Duration {
    let settings = &ctx.settings;
    let entra = entra_decide::schedule(
        next,
        next.observed_generation,
        now,
        settings.tenant_recheck,
        settings.tenant_retry,
    );
    match entra {
        entra_decide::Schedule::After(wait) => wait.min(settings.gate_recheck),
        // Not checked (no Graph member; a spec Entra is not told of): nothing to come back for.
        entra_decide::Schedule::Now | entra_decide::Schedule::OnChange => settings.gate_recheck,
    }
}

/// What the Organization must have: everything deleted while it is being deleted (every
/// member leaves); nothing at all while its spec is unusable (a typo must not delete a
/// member's configurations); else the fan-out.
fn wanted(
    ctx: &Context,
    ns: &str,
    organization: &Organization,
    existing: &[Existing],
    problems: &[String],
) -> Option<FanOut> {
    if organization.metadata.deletion_timestamp.is_some() {
        let stale = existing
            .iter()
            .filter(|e| e.generated.is_some())
            .map(|e| e.name.clone());
        return Some(FanOut {
            stale: stale.collect(),
            ..FanOut::default()
        });
    }
    if !problems.is_empty() || !decide::has_owner(&organization.spec) {
        return None;
    }
    let directories = dereference::directories(&ctx.tenants, ns, organization);
    fan_out::fan_out(&organization.name_any(), &organization.spec, existing, &directories).ok()
}

/// Events for the members that joined and the tenants that started leaving.
async fn tell(ctx: &Context, organization: &Organization, previous: &OrganizationStatus, next: &OrganizationStatus) {
    let (joined, left) = status::changes(previous, next);
    for tenant in joined {
        let note = format!("Tenant '{tenant}' joined: the configurations of its pairs are generated");
        events::publish(
            ctx,
            organization,
            &tenant,
            EventType::Normal,
            OrganizationEventReason::MemberJoined,
            &note,
        )
        .await;
    }
    for tenant in left {
        let note = format!("Tenant '{tenant}' is leaving: its generated configurations are deleted");
        events::publish(
            ctx,
            organization,
            &tenant,
            EventType::Normal,
            OrganizationEventReason::MemberLeaving,
            &note,
        )
        .await;
    }
}

/// The generated configurations that exist after `applied`: those found, and those created.
fn generated(existing: &[Existing], applied: &apply::FanOutApplied) -> Vec<Generated> {
    let found = existing
        .iter()
        .filter_map(|e| e.generated.clone().map(|pair| Generated { pair, ready: e.ready }));
    let created = applied.created.iter().map(|d| Generated {
        pair: d.pair.clone(),
        ready: false,
    });
    found.chain(created).collect()
}

#[cfg(test)]
mod entra_tests;
#[cfg(test)]
mod tests;
