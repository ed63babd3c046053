//! The SyncConfiguration reconciler, one step per module (docs/architecture.md,
//! "One cycle, step by step"):
//!
//! `controller::world::evaluate` (dereference through the caches → `crate::validate`
//! (`InvalidSpec`) → `crate::gate`: may this pair sync?) → `run` (on demand, then the cycle
//! `schedule` asks for) → `status` (the next status, pure) → one server-side-apply write.
//! `finalizer` guards cleanup on delete, `events` tell what happened, `mappers` turn other
//! objects' watch events into reconciles, `written` remembers statuses newer than the cache.

mod cycle_reasons;
mod events;
mod finalizer;
mod mappers;
mod outcome;
mod progress;
mod provisioning;
mod run;
mod schedule;
mod status;
#[cfg(test)]
mod status_properties;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_shared_read;
mod written;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::world::{self, GateVerdict};
use super::{Context, Error};
use crate::api::sync_config::{SyncConfiguration, SyncConfigurationStatus};
use crate::ops::metrics::{ConfigGauges, Metrics, ObjectLabels};
pub use mappers::{leaving_config_mapper, organization_mapper, policy_mapper, sibling_mapper, tenant_mapper};
use outcome::Outcome;
pub use written::WrittenStatuses;

/// Every step but the one that may wait for a cycle slot is boxed: thousands of reconciles can
/// wait for a slot at once, and each holds its future's full size while it waits.
pub async fn reconcile(config: Arc<SyncConfiguration>, ctx: Arc<Context>) -> Result<Action, Error> {
    // The one clock read of this reconcile; every decision below is made against it.
    let now = Timestamp::now();
    let ns = config.namespace().ok_or(Error::NotNamespaced)?;
    if config.metadata.deletion_timestamp.is_some() {
        return Box::pin(finalizer::cleanup(&config, &ns, &ctx, now)).await;
    }
    Box::pin(finalizer::reconcile(&config, &ns, &ctx)).await?;

    let mut previous = ctx.written.latest(&config);
    let evaluation = world::evaluate(ctx.as_ref(), &config, &ns, previous.claimed_pair.as_deref());
    let subject = status::Subject {
        name: config.name_any(),
        generation: config.metadata.generation,
    };
    let outcome = match evaluation.verdict {
        GateVerdict::Invalid(problems) => Outcome::Invalid(problems),
        GateVerdict::Closed { closed, .. } => Outcome::Closed(closed),
        GateVerdict::Open(runnable) if config.spec.suspend => Outcome::Suspended(runnable.pair),
        GateVerdict::Open(runnable) => {
            if let Some(opened) = status::gate_opened(&previous, &runnable.pair, &subject, now) {
                Box::pin(write(&ctx, &config, &ns, &previous, opened)).await?;
                previous = ctx.written.latest(&config);
            }
            let gate = run::OpenGate {
                config: &config,
                ns: &ns,
                runnable: *runnable,
                previous: &previous,
            };
            Outcome::Open(Box::new(gate.run(&ctx, now).await?))
        }
    };
    if let Outcome::Invalid(problems) = &outcome {
        tracing::debug!(config = %label(&config), %problems, "invalid spec");
    }
    Box::pin(events::publish_outcome(&ctx, &config, &outcome)).await;
    let next = status::next(&previous, &outcome, &subject, now, ctx.settings.gate_recheck);
    Box::pin(write(&ctx, &config, &ns, &previous, next.status)).await?;
    Ok(Action::requeue(next.requeue.max(Duration::from_secs(1))))
}

/// `namespace/name`, for logs.
fn label(config: &SyncConfiguration) -> String {
    format!("{}/{}", config.namespace().unwrap_or_default(), config.name_any())
}

/// The alerts' gauges of every configuration in the cache, as last written: set before each
/// scrape (`Metrics::refresh_with`).
pub fn observe(ctx: &Context, metrics: &Metrics) {
    let gauges = ctx.configs.state().into_iter().map(|config| {
        let status = ctx.written.latest(&config);
        ConfigGauges {
            labels: ObjectLabels {
                namespace: config.namespace().unwrap_or_default(),
                name: config.name_any(),
            },
            pending_deletions: status.pending_deletions.as_ref().map_or(0, |p| p.count),
            last_success: status.last_successful_sync_time.as_ref().map(|t| t.0.as_second()),
            interval: crate::engine::interval::parse(&config.spec.interval).ok(),
        }
    });
    metrics.configurations(gauges);
}

/// Writes the status when it changed (or an earlier write of it failed); says whether it
/// wrote. The status is remembered before it is written: when the write fails, the next
/// reconcile knows the cycle ran and retries the status write only, never the cycle's writes.
async fn write(
    ctx: &Context,
    config: &SyncConfiguration,
    ns: &str,
    previous: &SyncConfigurationStatus,
    next: SyncConfigurationStatus,
) -> Result<bool, Error> {
    let uid = config.uid().unwrap_or_default();
    // `progress` is the progress writer's (`progress`): this writer never names it.
    let mut next = next;
    next.progress = None;
    let mut previous = previous.clone();
    previous.progress = None;
    if !ctx.written.needs_write(&uid, &next, &previous) {
        return Ok(false);
    }
    ctx.written.put(&uid, next.clone(), false, &ctx.configs);
    let api = Api::<SyncConfiguration>::namespaced(ctx.client.clone(), ns);
    super::status_writer::apply(&api, &config.name_any(), &next).await?;
    ctx.written.put(&uid, next, true, &ctx.configs);
    ctx.health.metrics.quarantined.set(ctx.written.quarantined());
    Ok(true)
}
