//! The finalizer `xtsync.io/cleanup`: present only while `onConfigurationDelete: Deprovision`
//! asks for cleanup (DESIGN.md §1), and the cleanup it guards.

use std::time::Duration;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};

use super::super::{Context, Error, connect, lookup};
use super::events::{self, EventReason};
use crate::api::FINALIZER;
use crate::api::sync_config::{DeprovisionAction, OnConfigurationDelete, SyncConfiguration};
use crate::cycle::cleanup;
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

/// `onConfigurationDelete: Deprovision`: deprovision every user this configuration provisioned,
/// then let the deletion finish.
pub async fn cleanup(config: &SyncConfiguration, ns: &str, ctx: &Context) -> Result<Action, Error> {
    if !has_finalizer(config) {
        return Ok(Action::await_change());
    }
    let spec = &config.spec;
    let source = lookup::tenant(&ctx.tenants, ns, &spec.source_ref.name);
    let target_exists = lookup::tenant(&ctx.tenants, ns, &spec.target_ref.name).is_some();
    let message = match (source, target_exists) {
        (Some(source), true) => match connect::directory(ctx, ns, &spec.target_ref.name).await? {
            Ok(target) => {
                // Cleanup deprovisions: with `action: None` it soft-deletes.
                let action = match spec.deprovision.action {
                    DeprovisionAction::None => DeprovisionAction::SoftDelete,
                    other => other,
                };
                let action = validate::deprovision_action(action);
                match cleanup::deprovision_all(target.as_ref(), &source.spec.tenant_id, action).await {
                    Ok(n) => format!("{n} provisioned users deprovisioned before deletion"),
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
            Err(error) => format!("target unusable ({error}); nothing deprovisioned"),
        },
        _ => "source or target Tenant no longer exists; nothing deprovisioned".to_owned(),
    };
    let reason = EventReason::CleanedUp.into();
    events::publish(ctx, config, EventType::Normal, reason, "Deprovision", &message).await;
    ctx.written.forget(&config.uid().unwrap_or_default());
    set_finalizers(config, ns, ctx, others(config)).await?;
    Ok(Action::await_change())
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
