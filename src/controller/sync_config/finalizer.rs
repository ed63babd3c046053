//! The finalizer `xtsync.io/cleanup`: present only while `onConfigurationDelete: Deprovision`
//! asks for cleanup, and the cleanup it guards. Only the pair's active configuration, one that
//! held its pair and ran cycles, may clean up: a duplicate's users are the holder's. When the
//! active configuration cannot clean up, the deletion waits (`CleanupBlocked`). What a cleanup
//! needs (a valid spec, the source Tenant, the target opened) is the shared evaluation's
//! answer (`controller::world`); this module only decides what to do with it.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};

use super::super::{Context, Error};
use super::super::{lookup, world};
use super::events::{self, EventAction, EventReason};
use super::provisioning::{self, LogSink};
use super::schedule::Requests;
use super::status;
use crate::api::FINALIZER;
use crate::api::conditions::{self, ConditionReason};
use crate::api::reasons::ReadyReason;
use crate::api::sync_config::{OnConfigurationDelete, SyncConfiguration, SyncConfigurationStatus};
use crate::cycle::cleanup::Cleanup;
use crate::engine::threshold::Held;
use crate::providers::directory::DirectoryError;

/// Adds the finalizer when cleanup on delete is asked for, removes it when no longer asked.
pub async fn reconcile(config: &SyncConfiguration, ns: &str, ctx: &Context) -> Result<(), Error> {
    let wants = config.spec.deprovision.on_configuration_delete == OnConfigurationDelete::Deprovision;
    if wants == has_finalizer(config) {
        return Ok(());
    }
    let mut finalizers = others(config);
    if wants {
        finalizers.push(FINALIZER.to_owned());
    }
    set_finalizers(config, ns, ctx, finalizers).await
}

/// `onConfigurationDelete: Deprovision`: deprovision what this configuration provisioned, then
/// let the deletion finish — unless the threshold holds the deprovisionings for approval, or
/// the pair's active configuration cannot clean up now (then the deletion waits, and says why:
/// a cleanup that cannot happen is never reported done).
pub async fn cleanup(config: &SyncConfiguration, ns: &str, ctx: &Context, now: Timestamp) -> Result<Action, Error> {
    if !has_finalizer(config) {
        return Ok(Action::await_change());
    }
    let previous = ctx.written.latest(config);
    if config.spec.deprovision.on_configuration_delete == OnConfigurationDelete::Keep {
        let note = "onConfigurationDelete is Keep: the provisioned users stay; nothing deprovisioned";
        return finish(config, ns, ctx, EventReason::NothingToCleanUp, note).await;
    }
    if !was_active(&previous) {
        let note =
            "it never held its pair of directories through a cycle, so it provisioned nobody; nothing deprovisioned";
        return finish(config, ns, ctx, EventReason::NothingToCleanUp, note).await;
    }
    let evaluation = world::evaluate(ctx, config, ns, previous.claimed_pair.as_deref());
    let cleanable = match evaluation.cleanable(ctx).await? {
        Ok(cleanable) => cleanable,
        Err(why) => return blocked(config, ns, ctx, &previous, &why.to_string(), now).await,
    };
    let requests = Requests::of(config);
    let approved = requests.fresh_approval(&previous);
    let log = cleanup_log(config, ns, ctx, cleanable.source_tenant_id(), now);
    match cleanable.clean_up(approved, &log).await {
        Ok(Cleanup {
            withheld: Some(held), ..
        }) => hold(config, ns, ctx, &previous, &held, now).await,
        Ok(done) => {
            let (reason, note) = done_note(&done, cleanable.deprovisions());
            finish(config, ns, ctx, reason, &note).await
        }
        Err(error) => failed(config, ns, ctx, &previous, &error, now).await,
    }
}

/// What a cleanup that ran says in its Event: how many it deprovisioned, or, with
/// `actions.deprovision` off, how many it kept.
fn done_note(done: &Cleanup, deprovision_on: bool) -> (EventReason, String) {
    if deprovision_on {
        let note = format!("{} provisioned users deprovisioned before deletion", done.deprovisioned);
        return (EventReason::CleanedUp, note);
    }
    let note = format!(
        "actions.deprovision is false: the {} provisioned users stay; nothing deprovisioned",
        done.disabled
    );
    (EventReason::NothingToCleanUp, note)
}

/// The target failed the cleanup: a Warning Event, `CleanupBlocked`, and a retry.
async fn failed(
    config: &SyncConfiguration,
    ns: &str,
    ctx: &Context,
    previous: &SyncConfigurationStatus,
    error: &DirectoryError,
    now: Timestamp,
) -> Result<Action, Error> {
    tracing::warn!(config = %config.name_any(), %error, "cleanup failed; retrying");
    let reason = EventReason::CleanupFailed.into();
    events::publish(
        ctx,
        config,
        EventType::Warning,
        reason,
        EventAction::Deprovision,
        &error.to_string(),
    )
    .await;
    let why = format!("the target failed the cleanup ({error})");
    blocked(config, ns, ctx, previous, &why, now).await?;
    Ok(Action::requeue(Duration::from_secs(30)))
}

/// The provisioning log of a cleanup: its records go to the log stream as a cycle's do.
fn cleanup_log(config: &SyncConfiguration, ns: &str, ctx: &Context, source_tenant_id: &str, now: Timestamp) -> LogSink {
    let target = lookup::tenant(&ctx.tenants, ns, &config.spec.target_ref.name);
    LogSink {
        cycle_id: provisioning::cycle_id(config.metadata.uid.as_deref().unwrap_or_default(), now.as_millisecond()),
        configuration: format!("{ns}/{}", config.name_any()),
        source_tenant_id: source_tenant_id.to_owned(),
        target_tenant_id: target
            .map(|t| t.spec.tenant_id.to_ascii_lowercase())
            .unwrap_or_default(),
        dry_run: false,
    }
}

/// The pair's active configuration: it held its pair and ran a cycle (a status from before
/// `claimedPair` existed counts when its gate was open), so its users are its own to clean up.
fn was_active(previous: &SyncConfigurationStatus) -> bool {
    let held = previous.claimed_pair.is_some()
        || conditions::find(&previous.conditions, ReadyReason::TYPE)
            .is_some_and(|c| c.status == "True" || c.reason == ReadyReason::CleanupBlocked.as_str());
    held && previous.last_cycle.is_some()
}

/// The cleanup cannot run now: `Ready=False`, `CleanupBlocked`, a Warning Event when that is
/// news, and the finalizer stays.
async fn blocked(
    config: &SyncConfiguration,
    ns: &str,
    ctx: &Context,
    previous: &SyncConfigurationStatus,
    why: &str,
    now: Timestamp,
) -> Result<Action, Error> {
    let next = status::cleanup_blocked(previous, why, &config.name_any(), config.metadata.generation, now);
    if super::write(ctx, config, ns, previous, next).await? {
        let reason = EventReason::CleanupBlocked.into();
        events::publish(ctx, config, EventType::Warning, reason, EventAction::Deprovision, why).await;
    }
    Ok(Action::requeue(ctx.settings.gate_recheck))
}

/// The cleanup is done (or there is nothing to clean up): say so, and let the deletion complete.
async fn finish(
    config: &SyncConfiguration,
    ns: &str,
    ctx: &Context,
    reason: EventReason,
    note: &str,
) -> Result<Action, Error> {
    events::publish(
        ctx,
        config,
        EventType::Normal,
        reason.into(),
        EventAction::Deprovision,
        note,
    )
    .await;
    ctx.written.forget(&config.uid().unwrap_or_default());
    set_finalizers(config, ns, ctx, others(config)).await?;
    Ok(Action::await_change())
}

/// More deprovisionings than the threshold: none applied; the finalizer stays until approved.
async fn hold(
    config: &SyncConfiguration,
    ns: &str,
    ctx: &Context,
    previous: &SyncConfigurationStatus,
    held: &Held,
    now: Timestamp,
) -> Result<Action, Error> {
    let next = status::cleanup_held(previous, held, &config.name_any(), config.metadata.generation, now);
    if super::write(ctx, config, ns, previous, next).await? {
        let note = format!(
            "cleanup would deprovision {} users, more than accidentalDeletionThreshold",
            held.count
        );
        let reason = EventReason::CleanupHeld.into();
        events::publish(ctx, config, EventType::Warning, reason, EventAction::Deprovision, &note).await;
    }
    Ok(Action::requeue(ctx.settings.gate_recheck))
}

fn has_finalizer(config: &SyncConfiguration) -> bool {
    config.finalizers().iter().any(|f| f == FINALIZER)
}

/// The finalizers of other controllers.
fn others(config: &SyncConfiguration) -> Vec<String> {
    config
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect()
}

/// A merge patch of the finalizer list, guarded by resourceVersion so that another writer's
/// finalizer is never lost.
async fn set_finalizers(
    config: &SyncConfiguration,
    ns: &str,
    ctx: &Context,
    finalizers: Vec<String>,
) -> Result<(), Error> {
    let patch = serde_json::json!({
        "metadata": { "resourceVersion": config.resource_version(), "finalizers": finalizers }
    });
    Api::<SyncConfiguration>::namespaced(ctx.client.clone(), ns)
        .patch(&config.name_any(), &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}
