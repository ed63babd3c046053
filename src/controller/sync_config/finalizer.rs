//! The finalizer `xtsync.io/cleanup`: present only while `onConfigurationDelete: Deprovision`
//! asks for cleanup (DESIGN.md §1), and the cleanup it guards. Only the pair's active
//! configuration, one that ran cycles, may clean up: a duplicate's users are the winner's.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};

use super::super::{Context, Error, connect};
use super::events::{self, EventReason};
use super::schedule::Requests;
use super::{dereference, status};
use crate::api::FINALIZER;
use crate::api::sync_config::{OnConfigurationDelete, SyncConfiguration};
use crate::cycle::cleanup::{self, Cleanup};
use crate::engine::threshold::Held;
use crate::{gate, validate};

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
/// let the deletion finish — unless the threshold holds the deprovisionings for approval.
pub async fn cleanup(config: &SyncConfiguration, ns: &str, ctx: &Context, now: Timestamp) -> Result<Action, Error> {
    if !has_finalizer(config) {
        return Ok(Action::await_change());
    }
    let previous = ctx.written.latest(config);
    let found = dereference::dereference(config, ns, &ctx.caches());
    let gate = gate::evaluate(&found.gate_input(config, previous.claimed_pair.as_deref()));
    let message = match (validate::validate(&config.spec), gate) {
        (Err(problems), _) => format!("the spec is invalid ({problems}); nothing deprovisioned"),
        (Ok(_), Err(closed)) => format!(
            "not the pair's active configuration now ({}: {}); nothing deprovisioned",
            closed.reason, closed.message
        ),
        (Ok(_), Ok(_)) if previous.last_cycle.is_none() => "no cycle ever ran; nothing deprovisioned".to_owned(),
        (Ok(valid), Ok(pair)) => {
            let target = match connect::directory(ctx, ns, &config.spec.target_ref.name).await? {
                Ok(target) => target,
                Err(error) => {
                    let message = format!("target unusable ({error}); nothing deprovisioned");
                    return finish(config, ns, ctx, &message).await;
                }
            };
            let requests = Requests::of(config);
            let approved = requests.fresh_approval(&previous);
            let deprovision = valid.rules.deprovision;
            match cleanup::clean_up(target.as_ref(), &pair.source.tenant_id, deprovision, approved).await {
                Ok(Cleanup {
                    withheld: Some(held), ..
                }) => return hold(config, ns, ctx, &previous, &held, now).await,
                Ok(done) => format!("{} provisioned users deprovisioned before deletion", done.deprovisioned),
                Err(error) => {
                    tracing::warn!(config = %config.name_any(), %error, "cleanup failed; retrying");
                    let reason = EventReason::CleanupFailed.into();
                    events::publish(
                        ctx,
                        config,
                        EventType::Warning,
                        reason,
                        "Deprovision",
                        &error.to_string(),
                    )
                    .await;
                    return Ok(Action::requeue(Duration::from_secs(30)));
                }
            }
        }
    };
    finish(config, ns, ctx, &message).await
}

/// The cleanup is done (or has nothing to do): say so, and let the deletion complete.
async fn finish(config: &SyncConfiguration, ns: &str, ctx: &Context, message: &str) -> Result<Action, Error> {
    let reason = EventReason::CleanedUp.into();
    events::publish(ctx, config, EventType::Normal, reason, "Deprovision", message).await;
    ctx.written.forget(&config.uid().unwrap_or_default());
    set_finalizers(config, ns, ctx, others(config)).await?;
    Ok(Action::await_change())
}

/// More deprovisionings than the threshold: none applied; the finalizer stays until approved.
async fn hold(
    config: &SyncConfiguration,
    ns: &str,
    ctx: &Context,
    previous: &crate::api::sync_config::SyncConfigurationStatus,
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
        events::publish(ctx, config, EventType::Warning, reason, "Deprovision", &note).await;
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
