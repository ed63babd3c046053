//! SyncConfiguration reconciler: dereference → compile the spec → gate → (when due) a sync
//! cycle → status. The cycle itself is `crate::cycle`; this module decides when it runs and
//! reports what it did (DESIGN.md §2 status, §3 rules 8–10).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Resource, ResourceExt};

use super::{Context, Error, directories, lookup, status};
use crate::api::conditions::{self, DELETION_THRESHOLD_EXCEEDED, QUARANTINED, READY, SYNCED, Verdict};
use crate::api::sync_config::{
    CycleSummary, CycleType, DeprovisionAction, OnConfigurationDelete, OnDemandResult, Quarantine, SyncConfiguration,
    SyncConfigurationStatus, UserFailure,
};
use crate::api::{CrossTenantAccessPolicy, Tenant};
use crate::cycle::{self, CycleError, CycleInput, CycleReport};
use crate::engine::compile::{self, CompiledSpec};
use crate::gate::{self, GateInput, OpenPair, PairClaim};

/// `status.failures` keeps this many, newest first.
const MAX_FAILURES: usize = 20;
/// Quarantine retries start here and double up to the interval (rule 9).
const QUARANTINE_FIRST_RETRY: Duration = Duration::from_secs(60);
/// An Initial cycle at least every this many intervals, to catch source deletions (which
/// incremental reads cannot see).
const FULL_CYCLE_EVERY: u32 = 10;
pub const APPROVE_DELETIONS: &str = "xtsync.io/approve-deletions";
pub const RESTART: &str = "xtsync.io/restart";
pub const PROVISION_ON_DEMAND: &str = "xtsync.io/provision-on-demand";
/// Present only while `onConfigurationDelete: Deprovision` asks for cleanup (DESIGN.md §1).
pub const FINALIZER: &str = "xtsync.io/cleanup";

pub async fn reconcile(config: Arc<SyncConfiguration>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = config.namespace().ok_or(Error::NotNamespaced)?;
    let name = config.name_any();
    let generation = config.metadata.generation;
    let now = Timestamp::now();
    let uid = config.uid().unwrap_or_default();
    // The cache may not show our last status write yet; what we wrote is newer (only xtsync
    // writes this status), and scheduling must not run a cycle twice on a stale read.
    let previous = ctx
        .written
        .get(&uid)
        .unwrap_or_else(|| config.status.clone().unwrap_or_default());
    let mut next = SyncConfigurationStatus {
        observed_generation: generation,
        ..previous.clone()
    };
    let record = |next: &mut SyncConfigurationStatus, verdict: Verdict| {
        next.conditions = conditions::record(&next.conditions, verdict, generation, now);
    };

    if config.metadata.deletion_timestamp.is_some() {
        return cleanup(&config, &ns, &ctx).await;
    }
    reconcile_finalizer(&config, &ns, &ctx).await?;

    let compiled = compile::compile(&config.spec);
    let gate = evaluate_gate(&config, &ns, &ctx, compiled.as_ref().map(|_| ()));
    let (pair, compiled) = match (gate, compiled) {
        (Ok(pair), Ok(compiled)) => (pair, compiled),
        (Err(closed), _) => {
            tracing::debug!(config = %name, namespace = %ns, reason = %closed.reason, "gate closed");
            record(
                &mut next,
                Verdict::falsity(READY, closed.reason.as_str(), closed.message),
            );
            record(
                &mut next,
                Verdict::falsity(SYNCED, "GateClosed", "no cycle runs while Ready is False"),
            );
            next.next_sync_time = None;
            return finish(&ctx, &ns, &name, &uid, &previous, next, ctx.settings.gate_recheck).await;
        }
        // The gate checks the spec first, so a closed gate covers every compile error.
        (Ok(_), Err(_)) => return Ok(Action::requeue(ctx.settings.gate_recheck)),
    };
    record(&mut next, open_verdict(&config, &pair));

    if config.spec.suspend {
        record(
            &mut next,
            Verdict::falsity(SYNCED, "Suspended", "spec.suspend is true: no cycle runs"),
        );
        next.next_sync_time = None;
        return finish(&ctx, &ns, &name, &uid, &previous, next, ctx.settings.gate_recheck).await;
    }

    if let Some(request) = new_on_demand_request(&config, &previous) {
        let outcome = match on_demand(&config, &ns, &ctx, &pair, &compiled, &request).await? {
            Ok(outcome) => outcome,
            Err(error) => cycle::OnDemandOutcome {
                result: "Failed",
                message: error.to_string(),
            },
        };
        tracing::info!(config = %name, namespace = %ns, request, result = outcome.result, "provisioned on demand");
        let note = format!("{request}: {} — {}", outcome.result, outcome.message);
        publish(
            &ctx,
            &config,
            EventType::Normal,
            "ProvisionedOnDemand",
            "ProvisionOnDemand",
            &note,
        )
        .await;
        next.on_demand = Some(OnDemandResult {
            request,
            result: outcome.result.into(),
            message: outcome.message,
            time: Time(Timestamp::now()),
        });
    }

    let restart = config.annotations().get(RESTART).cloned();
    let restart_requested = restart.is_some() && restart != previous.observed_restart;
    if restart_requested {
        // A restart retries at once and leaves quarantine behind (rules 9, 10).
        next.observed_restart = restart;
        next.quarantine = None;
    }
    if let (false, Some(wait)) = (restart_requested, time_until_due(&config, &previous, now)) {
        return finish(&ctx, &ns, &name, &uid, &previous, next, wait).await;
    }

    let full = needs_full_cycle(&config, &ns, &ctx, &previous, now, compiled.interval, restart_requested);
    let watermark = if full { None } else { previous.watermark.as_deref() };
    let started = Timestamp::now();
    let outcome = run_cycle(&config, &ns, &ctx, &pair, &compiled, watermark).await?;
    let completed = Timestamp::now();
    record_metrics(&ctx, &outcome, watermark.is_none(), started, completed);
    let interval = compiled.interval;
    let requeue = match outcome {
        Ok(report) => {
            publish_cycle_event(&ctx, &config, &report).await;
            let quarantined = report.warrants_quarantine();
            let previous = SyncConfigurationStatus {
                quarantine: next.quarantine.clone(),
                ..previous.clone()
            };
            apply_report(&mut next, &report, started, completed);
            let retry = if quarantined {
                let since = previous.quarantine.as_ref().map_or(completed, |q| q.since.0);
                let wait = quarantine_retry(since, completed, interval);
                record(
                    &mut next,
                    Verdict::truth(
                        QUARANTINED,
                        "MostOperationsFailed",
                        format!(
                            "{} of {} writes failed; retrying in {}s",
                            report.failed,
                            report.attempted,
                            wait.as_secs()
                        ),
                    ),
                );
                record(
                    &mut next,
                    Verdict::falsity(
                        SYNCED,
                        "CycleFailed",
                        format!("{} of {} writes failed", report.failed, report.attempted),
                    ),
                );
                next.quarantine = Some(Quarantine {
                    since: Time(since),
                    reason: "MostOperationsFailed".into(),
                    next_attempt_time: Time(later(completed, wait)),
                });
                wait
            } else {
                record(
                    &mut next,
                    Verdict::falsity(QUARANTINED, "Healthy", "the last cycle succeeded"),
                );
                record(&mut next, synced_verdict(&report));
                next.quarantine = None;
                next.last_successful_sync_time = Some(Time(completed));
                interval
            };
            next.next_sync_time = Some(Time(later(completed, retry)));
            retry
        }
        Err(error) => {
            tracing::warn!(config = %name, namespace = %ns, %error, "cycle failed; nothing was deprovisioned");
            let previous = SyncConfigurationStatus {
                quarantine: next.quarantine.clone(),
                ..previous.clone()
            };
            publish(
                &ctx,
                &config,
                EventType::Warning,
                error.reason(),
                "Sync",
                &error.to_string(),
            )
            .await;
            let since = previous.quarantine.as_ref().map_or(completed, |q| q.since.0);
            let wait = quarantine_retry(since, completed, interval);
            record(
                &mut next,
                Verdict::falsity(SYNCED, error.reason(), format!("{error}; nothing was deprovisioned")),
            );
            record(
                &mut next,
                Verdict::truth(
                    QUARANTINED,
                    error.reason(),
                    format!("{error}; retrying in {}s", wait.as_secs()),
                ),
            );
            next.quarantine = Some(Quarantine {
                since: Time(since),
                reason: error.reason().into(),
                next_attempt_time: Time(later(completed, wait)),
            });
            next.next_sync_time = Some(Time(later(completed, wait)));
            wait
        }
    };
    finish(&ctx, &ns, &name, &uid, &previous, next, requeue).await
}

fn new_on_demand_request(config: &SyncConfiguration, previous: &SyncConfigurationStatus) -> Option<String> {
    let request = config.annotations().get(PROVISION_ON_DEMAND)?.trim().to_owned();
    let answered = previous.on_demand.as_ref().map(|o| o.request.as_str());
    (!request.is_empty() && answered != Some(request.as_str())).then_some(request)
}

async fn on_demand(
    config: &SyncConfiguration,
    ns: &str,
    ctx: &Context,
    pair: &OpenPair,
    compiled: &CompiledSpec,
    who: &str,
) -> Result<Result<cycle::OnDemandOutcome, CycleError>, Error> {
    let (source, target) = match connect_pair(ctx, ns, config).await? {
        Ok(pair) => pair,
        Err(e) => return Ok(Err(e)),
    };
    let input = CycleInput {
        source_tenant_id: &pair.source.tenant_id,
        spec: &config.spec,
        compiled,
        approved_deletions: None,
        concurrency: crate::providers::scim::concurrency(),
        watermark: None,
    };
    Ok(cycle::provision_on_demand(source.as_ref(), target.as_ref(), &input, who).await)
}

type DirectoryPair = (
    Box<dyn crate::providers::Directory>,
    Box<dyn crate::providers::Directory>,
);

async fn connect_pair(
    ctx: &Context,
    ns: &str,
    config: &SyncConfiguration,
) -> Result<Result<DirectoryPair, CycleError>, Error> {
    let spec = &config.spec;
    Ok(
        match (
            directories::connect(ctx, ns, &spec.source_ref.name).await?,
            directories::connect(ctx, ns, &spec.target_ref.name).await?,
        ) {
            (Ok(s), Ok(t)) => Ok((s, t)),
            (Err(e), _) => Err(CycleError::SourceRead(e)),
            (_, Err(e)) => Err(CycleError::TargetRead(e)),
        },
    )
}

/// Adds the finalizer when cleanup on delete is asked for, removes it when no longer asked.
async fn reconcile_finalizer(config: &SyncConfiguration, ns: &str, ctx: &Context) -> Result<(), Error> {
    let wants = config.spec.deprovision.on_configuration_delete == OnConfigurationDelete::Deprovision;
    let has = config.finalizers().iter().any(|f| f == FINALIZER);
    if wants == has {
        return Ok(());
    }
    let mut finalizers: Vec<String> = config
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect();
    if wants {
        finalizers.push(FINALIZER.to_owned());
    }
    set_finalizers(config, ns, ctx, finalizers).await
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

/// `onConfigurationDelete: Deprovision`: deprovision every user this configuration provisioned,
/// then let the deletion finish.
async fn cleanup(config: &SyncConfiguration, ns: &str, ctx: &Context) -> Result<Action, Error> {
    if !config.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(Action::await_change());
    }
    let spec = &config.spec;
    let source = lookup::tenant(&ctx.tenants, ns, &spec.source_ref.name);
    let target_exists = lookup::tenant(&ctx.tenants, ns, &spec.target_ref.name).is_some();
    let message = match (source, target_exists) {
        (Some(source), true) => match directories::connect(ctx, ns, &spec.target_ref.name).await? {
            Ok(target) => {
                let action = match spec.deprovision.action {
                    DeprovisionAction::None => DeprovisionAction::SoftDelete,
                    other => other,
                };
                match cycle::deprovision_all(target.as_ref(), &source.spec.tenant_id, action).await {
                    Ok(n) => format!("{n} provisioned users deprovisioned before deletion"),
                    Err(error) => {
                        tracing::warn!(config = %config.name_any(), %error, "cleanup failed; retrying");
                        let note = error.to_string();
                        publish(ctx, config, EventType::Warning, "CleanupFailed", "Deprovision", &note).await;
                        return Ok(Action::requeue(Duration::from_secs(30)));
                    }
                }
            }
            Err(error) => format!("target unusable ({error}); nothing deprovisioned"),
        },
        _ => "source or target Tenant no longer exists; nothing deprovisioned".to_owned(),
    };
    publish(ctx, config, EventType::Normal, "CleanedUp", "Deprovision", &message).await;
    ctx.written.forget(&config.uid().unwrap_or_default());
    let finalizers = config
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect();
    set_finalizers(config, ns, ctx, finalizers).await?;
    Ok(Action::await_change())
}

/// The last status written per SyncConfiguration (by uid), newer than the cache until the
/// watch catches up.
#[derive(Default)]
pub struct WrittenStatuses(std::sync::Mutex<std::collections::HashMap<String, SyncConfigurationStatus>>);

impl WrittenStatuses {
    fn get(&self, uid: &str) -> Option<SyncConfigurationStatus> {
        self.0.lock().ok()?.get(uid).cloned()
    }

    /// Records `status` and forgets configurations that no longer exist, so that the map (and
    /// the quarantine gauge computed from it) follows the cluster.
    fn put(&self, uid: &str, status: SyncConfigurationStatus, live: &Store<SyncConfiguration>) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(uid.to_owned(), status);
            let uids: std::collections::HashSet<String> = live.state().iter().filter_map(|c| c.uid()).collect();
            map.retain(|u, _| u == uid || uids.contains(u));
        }
    }

    fn quarantined(&self) -> i64 {
        self.0.lock().map_or(0, |map| {
            map.values()
                .filter(|s| s.quarantine.is_some())
                .count()
                .try_into()
                .unwrap_or(i64::MAX)
        })
    }

    fn forget(&self, uid: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(uid);
        }
    }
}

fn record_metrics(
    ctx: &Context,
    outcome: &Result<CycleReport, CycleError>,
    full: bool,
    started: Timestamp,
    completed: Timestamp,
) {
    let metrics = &ctx.health.metrics;
    let took = Duration::from_millis(
        completed
            .duration_since(started)
            .as_millis()
            .max(0)
            .unsigned_abs()
            .try_into()
            .unwrap_or(u64::MAX),
    );
    let kind = if full { "Initial" } else { "Incremental" };
    match outcome {
        Err(_) => metrics.cycle(kind, "failed", took),
        Ok(report) => {
            let result = if report.failed == 0 {
                "succeeded"
            } else if report.warrants_quarantine() {
                "failed"
            } else {
                "partial"
            };
            metrics.cycle(kind, result, took);
            let failed = |action: &str| {
                report
                    .failures
                    .iter()
                    .filter(|f| f.action == action)
                    .count()
                    .try_into()
                    .unwrap_or(u32::MAX)
            };
            metrics.user_operations("create", report.created, failed("Create"));
            metrics.user_operations("update", report.updated, failed("Update") + failed("Restore"));
            metrics.user_operations("adopt", report.adopted, failed("Adopt"));
            metrics.user_operations("deprovision", report.deprovisioned, failed("Deprovision"));
            metrics.user_operations("skip", report.skipped, 0);
        }
    }
}

/// Writes the status when it changed, and requeues.
async fn finish(
    ctx: &Context,
    ns: &str,
    name: &str,
    uid: &str,
    previous: &SyncConfigurationStatus,
    next: SyncConfigurationStatus,
    requeue: Duration,
) -> Result<Action, Error> {
    if &next != previous {
        status::apply(
            &Api::<SyncConfiguration>::namespaced(ctx.client.clone(), ns),
            name,
            &next,
        )
        .await?;
        ctx.written.put(uid, next, &ctx.configs);
        ctx.health.metrics.quarantined.set(ctx.written.quarantined());
    }
    Ok(Action::requeue(requeue.max(Duration::from_secs(1))))
}

/// `None` when a cycle should run now: first cycle, a spec change, the scheduled time, or an
/// approval of withheld deletions. Otherwise how long until it is due.
fn time_until_due(config: &SyncConfiguration, previous: &SyncConfigurationStatus, now: Timestamp) -> Option<Duration> {
    let never_ran = previous.last_cycle.is_none();
    let approval_waiting = config
        .annotations()
        .get(APPROVE_DELETIONS)
        .is_some_and(|v| Some(v.as_str()) == pending_deletions(previous).as_deref());
    if spec_changed(config, previous) || never_ran || approval_waiting {
        return None;
    }
    let due = previous.next_sync_time.as_ref()?.0;
    let wait = due.duration_since(now);
    (wait > SignedDuration::ZERO).then(|| Duration::from_millis(wait.as_millis().try_into().unwrap_or(u64::MAX)))
}

/// The spec changed since the last cycle's verdict (`Synced` speaks of an older generation).
fn spec_changed(config: &SyncConfiguration, previous: &SyncConfigurationStatus) -> bool {
    conditions::find(&previous.conditions, SYNCED).is_none_or(|c| c.observed_generation != config.metadata.generation)
}

/// The number of deprovisionings held back by the threshold, while they wait for approval
/// (`DeletionThresholdExceeded=True`, whose message starts with the count).
fn pending_deletions(status: &SyncConfigurationStatus) -> Option<String> {
    let c = conditions::find(&status.conditions, DELETION_THRESHOLD_EXCEEDED).filter(|c| c.status == "True")?;
    c.message
        .split_whitespace()
        .next()
        .filter(|n| n.chars().all(|d| d.is_ascii_digit()))
        .map(str::to_owned)
}

async fn run_cycle(
    config: &SyncConfiguration,
    ns: &str,
    ctx: &Context,
    pair: &OpenPair,
    compiled: &CompiledSpec,
    watermark: Option<&str>,
) -> Result<Result<CycleReport, CycleError>, Error> {
    let spec = &config.spec;
    let (source, target) = match connect_pair(ctx, ns, config).await? {
        Ok(pair) => pair,
        Err(e) => return Ok(Err(e)),
    };
    let approved = config
        .annotations()
        .get(APPROVE_DELETIONS)
        .and_then(|v| v.trim().parse().ok());
    let input = CycleInput {
        source_tenant_id: &pair.source.tenant_id,
        spec,
        compiled,
        approved_deletions: approved,
        concurrency: crate::providers::scim::concurrency(),
        watermark,
    };
    Ok(cycle::run(source.as_ref(), target.as_ref(), &input).await)
}

/// Rule 10: Initial (full) cycles at first, after a spec change or a restart, when deletions
/// wait for approval, when the source cannot filter by change time, and every
/// `FULL_CYCLE_EVERY` intervals to catch deletions; Incremental cycles otherwise.
fn needs_full_cycle(
    config: &SyncConfiguration,
    ns: &str,
    ctx: &Context,
    previous: &SyncConfigurationStatus,
    now: Timestamp,
    interval: Duration,
    restart_requested: bool,
) -> bool {
    let deletions_pending = pending_deletions(previous).is_some();
    let source_tracks_changes = lookup::tenant(&ctx.tenants, ns, &config.spec.source_ref.name)
        .and_then(|t| {
            t.status
                .as_ref()
                .and_then(|s| s.capabilities.as_ref().map(|c| c.change_tracking))
        })
        .unwrap_or(false);
    let full_due = previous.last_full_sync_time.as_ref().is_none_or(|t| {
        let since = now.duration_since(t.0).as_secs().max(0).unsigned_abs();
        Duration::from_secs(since) >= interval * FULL_CYCLE_EVERY
    });
    previous.watermark.is_none()
        || spec_changed(config, previous)
        || restart_requested
        || deletions_pending
        || !source_tracks_changes
        || full_due
}

fn apply_report(next: &mut SyncConfigurationStatus, report: &CycleReport, started: Timestamp, completed: Timestamp) {
    // A user whose write failed must be read again next time: the watermark stays put.
    if report.failed == 0 {
        next.watermark = report.watermark.clone();
    }
    if report.full {
        next.last_full_sync_time = Some(Time(completed));
        next.users_in_scope = Some(report.in_scope);
        next.users_provisioned = Some(report.provisioned);
    } else {
        // An incremental cycle sees only the changed users: adjust what a full cycle counted.
        let before = i64::from(next.users_provisioned.unwrap_or(0));
        next.users_provisioned = Some(
            (before + report.provisioned_delta)
                .max(0)
                .try_into()
                .unwrap_or(u32::MAX),
        );
    }
    next.last_cycle = Some(CycleSummary {
        cycle_type: if report.full {
            CycleType::Initial
        } else {
            CycleType::Incremental
        },
        start_time: Time(started),
        completion_time: Time(completed),
        created: report.created,
        updated: report.updated,
        deprovisioned: report.deprovisioned,
        adopted: report.adopted,
        skipped: report.skipped,
        failed: report.failed,
        unchanged: report.unchanged,
    });
    let mut failures: Vec<UserFailure> = report
        .failures
        .iter()
        .map(|f| UserFailure {
            user: f.user.clone(),
            action: f.action.clone(),
            reason: f.reason.clone(),
            message: f.message.clone(),
            time: Time(completed),
        })
        .collect();
    failures.truncate(MAX_FAILURES);
    next.failures = failures;
    let generation = next.observed_generation;
    next.conditions = conditions::record(
        &next.conditions,
        match report.withheld_deprovisions {
            Some(n) => Verdict::truth(
                DELETION_THRESHOLD_EXCEEDED,
                "PendingApproval",
                format!(
                    "{n} deprovisionings exceed accidentalDeletionThreshold; none were applied. Annotate {APPROVE_DELETIONS}: \"{n}\" to apply them"
                ),
            ),
            None => Verdict::falsity(
                DELETION_THRESHOLD_EXCEEDED,
                "WithinThreshold",
                "deprovisionings are within the threshold",
            ),
        },
        generation,
        completed,
    );
}

fn synced_verdict(report: &CycleReport) -> Verdict {
    let summary = format!(
        "{} in scope: {} created, {} updated, {} adopted, {} deprovisioned, {} unchanged, {} skipped, {} failed",
        report.in_scope,
        report.created,
        report.updated,
        report.adopted,
        report.deprovisioned,
        report.unchanged,
        report.skipped,
        report.failed
    );
    if report.failed > 0 {
        Verdict::falsity(SYNCED, "PartiallySynced", summary)
    } else {
        Verdict::truth(SYNCED, "CycleSucceeded", summary)
    }
}

/// Exponential retry while quarantined: the wait doubles with the time already spent in
/// quarantine, from one minute up to the interval.
fn quarantine_retry(since: Timestamp, now: Timestamp, interval: Duration) -> Duration {
    let spent = Duration::from_secs(now.duration_since(since).as_secs().max(0).unsigned_abs());
    (spent * 2)
        .max(QUARANTINE_FIRST_RETRY)
        .min(interval.max(QUARANTINE_FIRST_RETRY))
}

fn later(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX))
        .unwrap_or(t)
}

async fn publish_cycle_event(ctx: &Context, config: &SyncConfiguration, report: &CycleReport) {
    let changed = report.created + report.updated + report.adopted + report.deprovisioned;
    if changed == 0 && report.failed == 0 && report.withheld_deprovisions.is_none() {
        return;
    }
    let type_ = if report.failed > 0 || report.withheld_deprovisions.is_some() {
        EventType::Warning
    } else {
        EventType::Normal
    };
    let note = format!(
        "{} created, {} updated, {} adopted, {} deprovisioned, {} failed{}",
        report.created,
        report.updated,
        report.adopted,
        report.deprovisioned,
        report.failed,
        report
            .withheld_deprovisions
            .map(|n| format!(", {n} deprovisionings withheld"))
            .unwrap_or_default()
    );
    publish(ctx, config, type_, "CycleCompleted", "Sync", &note).await;
}

async fn publish(ctx: &Context, config: &SyncConfiguration, type_: EventType, reason: &str, action: &str, note: &str) {
    let recorder = Recorder::new(ctx.client.clone(), ctx.reporter.clone());
    let event = Event {
        type_,
        reason: reason.into(),
        note: Some(note.into()),
        action: action.into(),
        secondary: None,
    };
    if let Err(error) = recorder.publish(&event, &config.object_ref(&())).await {
        tracing::debug!(%error, "could not publish an event");
    }
}

fn open_verdict(config: &SyncConfiguration, pair: &OpenPair) -> Verdict {
    let spec = &config.spec;
    Verdict::truth(
        READY,
        "GateOpen",
        format!(
            "source '{}' ({}) → target '{}' ({}): tenants Ready and their policies allow the sync",
            spec.source_ref.name, pair.source.tenant_id, spec.target_ref.name, pair.target.tenant_id
        ),
    )
}

fn evaluate_gate(
    config: &SyncConfiguration,
    ns: &str,
    ctx: &Context,
    spec_result: Result<(), &compile::SpecProblems>,
) -> Result<OpenPair, gate::Closed> {
    let spec = &config.spec;
    let source = lookup::tenant(&ctx.tenants, ns, &spec.source_ref.name);
    let target = lookup::tenant(&ctx.tenants, ns, &spec.target_ref.name);
    let source_state = lookup::tenant_state(source.as_deref());
    let target_state = lookup::tenant_state(target.as_deref());
    let own_rank = lookup::rank(config);
    let claims: Vec<PairClaim> = ctx
        .configs
        .state()
        .iter()
        .filter_map(|other| {
            let rank = lookup::rank(other.as_ref());
            if rank == own_rank {
                return None;
            }
            let (source_tenant_id, target_tenant_id) = lookup::pair_of(&ctx.tenants, other)?;
            Some(PairClaim {
                rank,
                source_tenant_id,
                target_tenant_id,
            })
        })
        .collect();
    let target_policy = lookup::policy_in_force(&ctx.policies, ns, &spec.target_ref.name);
    let source_policy = lookup::policy_in_force(&ctx.policies, ns, &spec.source_ref.name);
    gate::evaluate(&GateInput {
        spec: spec_result,
        source_name: &spec.source_ref.name,
        source: &source_state,
        target_name: &spec.target_ref.name,
        target: &target_state,
        rank: own_rank,
        claims: &claims,
        target_policy: target_policy.as_ref().map(|p| &p.spec),
        source_policy: source_policy.as_ref().map(|p| &p.spec),
    })
}

/// A configuration changed or went away: configurations of the same pair may win or lose, and
/// any now marked `DuplicatePair` may have been freed.
pub fn sibling_mapper(
    ctx: Arc<Context>,
) -> impl Fn(SyncConfiguration) -> Vec<ObjectRef<SyncConfiguration>> + Send + Sync + 'static {
    move |changed| {
        let changed_rank = lookup::rank(&changed);
        let pair = lookup::pair_of(&ctx.tenants, &changed);
        ctx.configs
            .state()
            .into_iter()
            .filter(|c| lookup::rank(c.as_ref()) != changed_rank)
            .filter(|c| {
                (pair.is_some() && lookup::pair_of(&ctx.tenants, c) == pair)
                    || c.status
                        .as_ref()
                        .is_some_and(|s| lookup::ready_reason_is(&s.conditions, "DuplicatePair"))
            })
            .map(|c| ObjectRef::from_obj(c.as_ref()))
            .collect()
    }
}

/// A Tenant changed (its readiness, id or cloud): every configuration that names it.
pub fn tenant_mapper(
    configs: Store<SyncConfiguration>,
) -> impl Fn(Tenant) -> Vec<ObjectRef<SyncConfiguration>> + Send + Sync + 'static {
    move |tenant| configs_naming(&configs, tenant.namespace(), &tenant.name_any())
}

/// A policy changed: every configuration whose source or target is the policy's tenant.
pub fn policy_mapper(
    configs: Store<SyncConfiguration>,
) -> impl Fn(CrossTenantAccessPolicy) -> Vec<ObjectRef<SyncConfiguration>> + Send + Sync + 'static {
    move |policy| configs_naming(&configs, policy.namespace(), &policy.spec.tenant_ref.name)
}

/// The configurations of `namespace` whose source or target is the Tenant `tenant_name`.
fn configs_naming(
    configs: &Store<SyncConfiguration>,
    namespace: Option<String>,
    tenant_name: &str,
) -> Vec<ObjectRef<SyncConfiguration>> {
    configs
        .state()
        .into_iter()
        .filter(|c| {
            c.namespace() == namespace
                && (c.spec.source_ref.name == tenant_name || c.spec.target_ref.name == tenant_name)
        })
        .map(|c| ObjectRef::from_obj(c.as_ref()))
        .collect()
}
