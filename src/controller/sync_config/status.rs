//! Status: the next `.status` from the previous one and what this reconcile found and did
//! (DESIGN.md §2 status, §3 rules 8–10). Pure: the clock is a parameter.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::outcome::{Open, Outcome, Ran, Step};
use crate::api::APPROVE_DELETIONS;
use crate::api::conditions::{self, Verdict};
use crate::api::reasons::{DeletionThresholdReason, QuarantinedReason, ReadyReason, SyncedReason};
use crate::api::sync_config::{
    CycleSummary, CycleType, GroupCounts, MembershipCounts, OnDemandResult, PendingDeletions, Quarantine,
    SyncConfigurationStatus, UserFailure,
};
use crate::cycle::{CycleError, CycleReport};
use crate::engine::threshold::Held;
use crate::gate::OpenPair;
use crate::providers::{ConnectError, DirectoryError};

/// `status.failures` keeps this many, newest first.
pub const MAX_FAILURES: usize = 20;
/// A failure's message is cut to this many bytes (a directory's error text is unbounded).
const MAX_FAILURE_MESSAGE: usize = 512;
/// Quarantine retries start here and double up to the interval (rule 9).
pub const QUARANTINE_FIRST_RETRY: Duration = Duration::from_secs(60);

/// Which configuration, at which generation, the status speaks of.
pub struct Subject {
    pub name: String,
    pub generation: Option<i64>,
}

pub struct Next {
    pub status: SyncConfigurationStatus,
    /// When to reconcile again without an event.
    pub requeue: Duration,
}

/// `recheck`: how soon a configuration that runs no cycle (gate closed, suspended) is looked at
/// again without an event.
pub fn next(
    previous: &SyncConfigurationStatus,
    outcome: &Outcome,
    subject: &Subject,
    now: Timestamp,
    recheck: Duration,
) -> Next {
    let mut status = Writer {
        status: SyncConfigurationStatus {
            observed_generation: subject.generation,
            ..previous.clone()
        },
        subject,
    };
    let requeue = match outcome {
        Outcome::Invalid(problems) => {
            let why = format!("the spec is invalid: {problems}");
            status.no_cycle(Verdict::falsity(ReadyReason::InvalidSpec, why), gate_closed(), now);
            recheck
        }
        Outcome::Closed(closed) => {
            let ready = Verdict::falsity(closed.reason, closed.message.clone());
            status.no_cycle(ready, gate_closed(), now);
            recheck
        }
        Outcome::Suspended(pair) => {
            let suspended = Verdict::falsity(SyncedReason::Suspended, "spec.suspend is true: no cycle runs");
            status.no_cycle(
                Verdict::truth(ReadyReason::GateOpen, pair.message.clone()),
                suspended,
                now,
            );
            recheck
        }
        Outcome::Open(open) => status.open(open, now),
    };
    Next {
        status: status.status,
        requeue,
    }
}

/// The gate just opened (Scale #3): `Ready=True` is written at once, before the cycle waits
/// for a slot and runs — with many configurations a first cycle may start minutes later, and
/// Ready must not wait for it. `None` when status already says so for this generation.
pub fn gate_opened(
    previous: &SyncConfigurationStatus,
    pair: &OpenPair,
    subject: &Subject,
    now: Timestamp,
) -> Option<SyncConfigurationStatus> {
    let said = conditions::find(&previous.conditions, "Ready").is_some_and(|ready| {
        ready.status == "True" && ready.observed_generation == subject.generation && ready.message == pair.message
    });
    if said {
        return None;
    }
    let mut status = Writer {
        status: SyncConfigurationStatus {
            observed_generation: subject.generation,
            ..previous.clone()
        },
        subject,
    };
    status.record(Verdict::truth(ReadyReason::GateOpen, pair.message.clone()), now);
    Some(status.status)
}

/// Cleanup on delete would deprovision `count` users, more than the threshold: nothing was
/// deprovisioned and the deletion waits for `xtsync.io/approve-deletions` (rule 8).
pub fn cleanup_held(
    previous: &SyncConfigurationStatus,
    held: &Held,
    name: &str,
    generation: Option<i64>,
    now: Timestamp,
) -> SyncConfigurationStatus {
    let subject = Subject {
        name: name.to_owned(),
        generation,
    };
    let mut status = Writer {
        status: previous.clone(),
        subject: &subject,
    };
    status.status.pending_deletions = Some(pending(held));
    status.record(threshold(Some(held), name), now);
    status.status
}

fn pending(held: &Held) -> PendingDeletions {
    PendingDeletions {
        count: held.count,
        token: held.token.clone(),
    }
}

fn gate_closed() -> Verdict {
    Verdict::falsity(SyncedReason::GateClosed, "no cycle runs while Ready is False")
}

struct Writer<'s> {
    status: SyncConfigurationStatus,
    subject: &'s Subject,
}

impl Writer<'_> {
    fn record(&mut self, verdict: Verdict, at: Timestamp) {
        let generation = self.subject.generation;
        self.status.conditions = conditions::record(&self.status.conditions, verdict, generation, at);
    }

    fn no_cycle(&mut self, ready: Verdict, synced: Verdict, now: Timestamp) {
        self.record(ready, now);
        self.record(synced, now);
        self.status.next_sync_time = None;
    }

    fn open(&mut self, open: &Open, now: Timestamp) -> Duration {
        self.record(Verdict::truth(ReadyReason::GateOpen, open.pair.message.clone()), now);
        if let Some((request, answer)) = &open.on_demand {
            self.status.on_demand = Some(OnDemandResult {
                request: request.clone(),
                result: <&str>::from(answer.result).to_owned(),
                message: answer.message.clone(),
                time: Time(now),
            });
        }
        match &open.step {
            Step::Wait(wait) => *wait,
            Step::Ran(ran) => self.ran(ran, open.interval, now),
        }
    }

    fn ran(&mut self, ran: &Ran, interval: Duration, now: Timestamp) -> Duration {
        if ran.restart.is_some() {
            // A restart retries at once and leaves quarantine behind (rules 9, 10).
            self.status.observed_restart = ran.restart.clone();
            self.status.quarantine = None;
        }
        let completed = later(now, ran.elapsed);
        let retry = match &ran.result {
            Ok(report) => {
                self.report(report, &ran.id, now, completed);
                if report.warrants_quarantine() {
                    let message = format!("{} of {} writes failed", report.failed, report.attempted);
                    self.record(Verdict::falsity(SyncedReason::CycleFailed, message.clone()), completed);
                    self.quarantine(QuarantinedReason::MostOperationsFailed, &message, interval, completed)
                } else {
                    self.record(
                        Verdict::falsity(QuarantinedReason::Healthy, "the last cycle succeeded"),
                        completed,
                    );
                    self.record(synced(report), completed);
                    self.status.quarantine = None;
                    if !report.dry_run {
                        self.status.last_successful_sync_time = Some(Time(completed));
                    }
                    interval
                }
            }
            Err(error) => {
                let message = format!("{error}; nothing was deprovisioned");
                self.record(Verdict::falsity(synced_reason(error), message.clone()), completed);
                self.quarantine(quarantined_reason(error), &message, interval, completed)
            }
        };
        self.status.next_sync_time = Some(Time(later(completed, retry)));
        retry
    }

    /// Quarantined: retried on an exponential schedule from when quarantine began.
    fn quarantine(
        &mut self,
        reason: QuarantinedReason,
        why: &str,
        interval: Duration,
        completed: Timestamp,
    ) -> Duration {
        let since = self.status.quarantine.as_ref().map_or(completed, |q| q.since.0);
        let wait = quarantine_retry(since, completed, interval);
        let message = format!("{why}; retrying in {}s", wait.as_secs());
        self.record(Verdict::truth(reason, message), completed);
        self.status.quarantine = Some(Quarantine {
            since: Time(since),
            reason: reason.to_string(),
            next_attempt_time: Time(later(completed, wait)),
        });
        wait
    }

    /// Counters, failures and the deletion threshold of a cycle that ran.
    fn report(&mut self, report: &CycleReport, id: &str, started: Timestamp, completed: Timestamp) {
        let status = &mut self.status;
        // A user whose write failed must be read again next time: the watermark stays put. A
        // dry run wrote nothing: what the target holds, and where reads start, are unchanged.
        if report.failed == 0 && !report.dry_run {
            status.watermark = report.watermark.clone();
            status.group_members_digest = report.group_members_digest.clone();
        }
        if report.dry_run {
            status.users_in_scope = Some(report.in_scope);
        } else if report.full {
            status.last_full_sync_time = Some(Time(completed));
            status.users_in_scope = Some(report.in_scope);
            status.users_provisioned = Some(report.provisioned);
        } else {
            // An incremental cycle sees only the changed users: adjust what a full cycle counted.
            let before = i64::from(status.users_provisioned.unwrap_or(0));
            let after = (before + report.provisioned_delta).max(0);
            status.users_provisioned = Some(after.try_into().unwrap_or(u32::MAX));
        }
        if let Some(groups) = &report.groups {
            if groups.failed == 0 && !report.dry_run {
                status.groups_watermark = report.groups_watermark.clone();
            }
            if groups.full {
                status.groups_in_scope = Some(groups.in_scope);
                if !report.dry_run {
                    status.groups_provisioned = Some(groups.provisioned);
                }
            }
        }
        status.last_cycle = Some(summary(report, id, started, completed));
        status.failures = report
            .failures
            .iter()
            .take(MAX_FAILURES)
            .map(|f| UserFailure {
                user: f.user.clone(),
                action: f.action.to_owned(),
                reason: f.reason.to_owned(),
                message: conditions::bounded(&f.message, MAX_FAILURE_MESSAGE),
                time: Time(completed),
            })
            .collect();
        status.pending_deletions = report.withheld_deprovisions.as_ref().map(pending);
        if let Some(token) = &report.approval_used {
            status.last_approved_deletions = Some(token.clone());
        }
        let verdict = threshold(report.withheld_deprovisions.as_ref(), &self.subject.name);
        self.record(verdict, completed);
    }
}

fn summary(report: &CycleReport, id: &str, started: Timestamp, completed: Timestamp) -> CycleSummary {
    CycleSummary {
        id: Some(id.to_owned()),
        dry_run: report.dry_run,
        // An incremental read whose change tracking had expired read everything: Initial.
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
        groups: report.groups.as_ref().map(|g| GroupCounts {
            created: g.created,
            updated: g.updated,
            deprovisioned: g.deprovisioned,
            unchanged: g.unchanged,
            failed: g.failed,
        }),
        memberships: report.groups.as_ref().map(|g| MembershipCounts {
            added: g.members_added,
            removed: g.members_removed,
        }),
    }
}

fn threshold(withheld: Option<&Held>, name: &str) -> Verdict {
    match withheld {
        Some(held) => Verdict::truth(
            DeletionThresholdReason::PendingApproval,
            format!(
                "{} deprovisionings exceed accidentalDeletionThreshold; none were applied. To apply exactly these, once: kubectl annotate syncconfig {name} {APPROVE_DELETIONS}={} --overwrite",
                held.count, held.token
            ),
        ),
        None => Verdict::falsity(
            DeletionThresholdReason::WithinThreshold,
            "deprovisionings are within the threshold",
        ),
    }
}

fn synced(report: &CycleReport) -> Verdict {
    let mut summary = format!(
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
    let groups_failed = report.groups.as_ref().map_or(0, |g| g.failed);
    if let Some(g) = &report.groups {
        summary.push_str(&format!(
            "; groups: {} in scope, {} created, {} updated, {} deprovisioned, {} unchanged, {} failed; members: {} added, {} removed",
            g.in_scope, g.created, g.updated, g.deprovisioned, g.unchanged, g.failed, g.members_added, g.members_removed
        ));
    }
    if report.dry_run {
        Verdict::truth(
            SyncedReason::DryRun,
            format!("dry run, nothing written; a cycle would do: {summary}"),
        )
    } else if report.failed > 0 || groups_failed > 0 {
        Verdict::falsity(SyncedReason::PartiallySynced, summary)
    } else {
        Verdict::truth(SyncedReason::CycleSucceeded, summary)
    }
}

/// The `Synced` reason of a cycle that could not run.
pub fn synced_reason(error: &CycleError) -> SyncedReason {
    match error {
        CycleError::TargetRead(DirectoryError::AuthenticationFailed { .. }) => SyncedReason::AuthenticationFailed,
        CycleError::SourceRead(_) => SyncedReason::SourceReadFailed,
        CycleError::TargetRead(_) => SyncedReason::TargetReadFailed,
        CycleError::Unusable { error, .. } => match error {
            ConnectError::TenantNotFound(_) => SyncedReason::TenantNotFound,
            ConnectError::SecretNotFound(_) => SyncedReason::SecretNotFound,
            ConnectError::SecretNotAllowed(_) => SyncedReason::SecretNotAllowed,
            ConnectError::InvalidSpec(_) => SyncedReason::InvalidTenantSpec,
            ConnectError::UnsupportedCloud(_) => SyncedReason::UnsupportedCloud,
            ConnectError::AuthenticationFailed(_) => SyncedReason::AuthenticationFailed,
        },
    }
}

/// The `Quarantined` reason of a cycle that could not run.
fn quarantined_reason(error: &CycleError) -> QuarantinedReason {
    match synced_reason(error) {
        SyncedReason::AuthenticationFailed => QuarantinedReason::AuthenticationFailed,
        SyncedReason::TargetReadFailed => QuarantinedReason::TargetReadFailed,
        SyncedReason::TenantNotFound => QuarantinedReason::TenantNotFound,
        SyncedReason::SecretNotFound => QuarantinedReason::SecretNotFound,
        SyncedReason::SecretNotAllowed => QuarantinedReason::SecretNotAllowed,
        SyncedReason::InvalidTenantSpec => QuarantinedReason::InvalidTenantSpec,
        SyncedReason::UnsupportedCloud => QuarantinedReason::UnsupportedCloud,
        // The rest are not reasons of a cycle that could not run; `synced_reason` gives none.
        SyncedReason::SourceReadFailed
        | SyncedReason::CycleSucceeded
        | SyncedReason::DryRun
        | SyncedReason::PartiallySynced
        | SyncedReason::CycleFailed
        | SyncedReason::GateClosed
        | SyncedReason::Suspended => QuarantinedReason::SourceReadFailed,
    }
}

/// Exponential retry while quarantined: the wait doubles with the time already spent in
/// quarantine, from one minute up to the interval.
pub fn quarantine_retry(since: Timestamp, now: Timestamp, interval: Duration) -> Duration {
    let spent = Duration::from_secs(now.duration_since(since).as_secs().max(0).unsigned_abs());
    (spent * 2)
        .max(QUARANTINE_FIRST_RETRY)
        .min(interval.max(QUARANTINE_FIRST_RETRY))
}

fn later(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX))
        .unwrap_or(t)
}
