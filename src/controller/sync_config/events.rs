//! Events: one per cycle that changed something or failed, one per on-demand answer, one per
//! cleanup — published through the controller's one `Recorder`, so repeats aggregate.

use kube::Resource;
use kube::runtime::events::{Event, EventType};

use super::super::Context;
use super::outcome::{Outcome, Step};
use super::status::synced_reason;
use crate::api::SyncConfiguration;
use crate::controller::bounds::MAX_EVENT_NOTE;
use crate::cycle::CycleReport;

/// Reasons of the Events a SyncConfiguration gets besides its conditions' reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum EventReason {
    CycleCompleted,
    /// A dry-run cycle planned (and wrote nothing): what it would have done.
    CyclePlanned,
    ProvisionedOnDemand,
    CleanedUp,
    /// Deleted with nothing of its own to clean up (it never held its pair or never ran a
    /// cycle, or the spec now says `Keep`): nothing was deprovisioned.
    NothingToCleanUp,
    CleanupFailed,
    /// The pair's active configuration cannot clean up now: the deletion waits.
    CleanupBlocked,
    /// Cleanup on delete would exceed `accidentalDeletionThreshold`: held for approval.
    CleanupHeld,
}

/// What the operator was doing when it published an Event (the Event's `action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum EventAction {
    /// A sync cycle.
    Sync,
    /// A dry-run cycle: what a cycle would do, nothing written.
    Plan,
    /// Provisioning on demand (`xtsync.io/provision-on-demand`).
    ProvisionOnDemand,
    /// Cleanup on delete.
    Deprovision,
}

/// The Events that tell what this reconcile did.
pub async fn publish_outcome(ctx: &Context, config: &SyncConfiguration, outcome: &Outcome) {
    let Outcome::Open(open) = outcome else {
        return;
    };
    if let Some((request, answer)) = &open.on_demand {
        let note = format!("{request}: {} — {}", <&str>::from(answer.result), answer.message);
        let reason = EventReason::ProvisionedOnDemand.into();
        publish(
            ctx,
            config,
            EventType::Normal,
            reason,
            EventAction::ProvisionOnDemand,
            &note,
        )
        .await;
    }
    let Step::Ran(ran) = &open.step else {
        return;
    };
    match &ran.result {
        Ok(report) => publish_cycle(ctx, config, report).await,
        Err(error) => {
            let reason = synced_reason(error).into();
            publish(
                ctx,
                config,
                EventType::Warning,
                reason,
                EventAction::Sync,
                &error.to_string(),
            )
            .await;
        }
    }
}

async fn publish_cycle(ctx: &Context, config: &SyncConfiguration, report: &CycleReport) {
    if report.dry_run {
        let note = format!(
            "dry run, nothing written; would create {}, update {}, adopt {}, deprovision {}; {} skipped, {} unchanged",
            report.created, report.updated, report.adopted, report.deprovisioned, report.skipped, report.unchanged
        );
        publish(
            ctx,
            config,
            EventType::Normal,
            EventReason::CyclePlanned.into(),
            EventAction::Plan,
            &note,
        )
        .await;
        return;
    }
    if report.changed() == 0 && report.failed == 0 && report.withheld_deprovisions.is_none() {
        return;
    }
    let type_ = if report.failed > 0 || report.withheld_deprovisions.is_some() {
        EventType::Warning
    } else {
        EventType::Normal
    };
    let withheld = report
        .withheld_deprovisions
        .as_ref()
        .map(|held| format!(", {} deprovisionings withheld", held.count))
        .unwrap_or_default();
    let note = format!(
        "{} created, {} updated, {} adopted, {} deprovisioned, {} failed{withheld}",
        report.created, report.updated, report.adopted, report.deprovisioned, report.failed,
    );
    publish(
        ctx,
        config,
        type_,
        EventReason::CycleCompleted.into(),
        EventAction::Sync,
        &note,
    )
    .await;
}

pub async fn publish(
    ctx: &Context,
    config: &SyncConfiguration,
    type_: EventType,
    reason: &'static str,
    action: EventAction,
    note: &str,
) {
    let event = Event {
        type_,
        reason: reason.into(),
        note: Some(crate::api::conditions::bounded(note, MAX_EVENT_NOTE)),
        action: <&str>::from(action).into(),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, &config.object_ref(&())).await {
        tracing::debug!(%error, "could not publish an event");
    }
}

#[cfg(test)]
mod tests {
    use super::EventAction;

    #[test]
    fn event_actions_keep_the_words_kubectl_shows() {
        let words: Vec<&str> = [
            EventAction::Sync,
            EventAction::Plan,
            EventAction::ProvisionOnDemand,
            EventAction::Deprovision,
        ]
        .into_iter()
        .map(<&str>::from)
        .collect();
        assert_eq!(words, ["Sync", "Plan", "ProvisionOnDemand", "Deprovision"]);
    }
}
