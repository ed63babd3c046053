//! The finalizer `xtsync.io/cleanup`: present only while `onConfigurationDelete: Deprovision`
//! asks for cleanup, and the cleanup it guards. Only the pair's active configuration, one that
//! held its pair and ran cycles, may clean up: a duplicate's users are the holder's. When the
//! active configuration cannot clean up, the deletion waits (`CleanupBlocked`).

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};

use super::super::{Context, Error, lookup, tenant_directory};
use super::events::{self, EventAction, EventReason};
use super::schedule::Requests;
use super::status;
use crate::api::FINALIZER;
use crate::api::conditions::{self, ConditionReason};
use crate::api::reasons::ReadyReason;
use crate::api::sync_config::{OnConfigurationDelete, SyncConfiguration, SyncConfigurationStatus};
use crate::cycle::cleanup::{self, Cleanup};
use crate::engine::threshold::Held;
use crate::validate;

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
    let valid = match validate::validate(&config.spec) {
        Ok(valid) => valid,
        Err(problems) => {
            return blocked(
                config,
                ns,
                ctx,
                &previous,
                &format!("the spec is invalid ({problems})"),
                now,
            )
            .await;
        }
    };
    let source_name = &config.spec.source_ref.name;
    let Some(source) = lookup::tenant(&ctx.tenants, ns, source_name) else {
        let why = format!("source Tenant '{source_name}' is gone, and its tenant id names the users to deprovision");
        return blocked(config, ns, ctx, &previous, &why, now).await;
    };
    let target = match tenant_directory::target(ctx, ns, &config.spec.target_ref.name).await? {
        Ok(target) => target,
        Err(error) => {
            return blocked(
                config,
                ns,
                ctx,
                &previous,
                &format!("the target cannot be used: {error}"),
                now,
            )
            .await;
        }
    };
    let requests = Requests::of(config);
    let approved = requests.fresh_approval(&previous);
    let source_tenant_id = source.spec.tenant_id.to_ascii_lowercase();
    match cleanup::clean_up(target.as_ref(), &source_tenant_id, valid.rules.deprovision, approved).await {
        Ok(Cleanup {
            withheld: Some(held), ..
        }) => hold(config, ns, ctx, &previous, &held, now).await,
        Ok(done) => {
            let note = format!("{} provisioned users deprovisioned before deletion", done.deprovisioned);
            finish(config, ns, ctx, EventReason::CleanedUp, &note).await
        }
        Err(error) => {
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
            blocked(config, ns, ctx, &previous, &why, now).await?;
            Ok(Action::requeue(Duration::from_secs(30)))
        }
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
