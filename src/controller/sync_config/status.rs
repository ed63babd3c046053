//! Status: the next `.status` from the previous one and what this reconcile found and did
//! (docs/reference.md, `status`; docs/architecture.md, rules 8–10). Pure: the clock is a parameter.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::cycle_reasons::quarantined_reason;
pub use super::cycle_reasons::synced_reason;
use super::outcome::{Open, Outcome, Ran, Step};
use crate::api::APPROVE_DELETIONS;
use crate::api::conditions::{self, Verdict};
use crate::api::reasons::{DeletionThresholdReason, QuarantinedReason, ReadyReason, SyncedReason};
use crate::api::sync_config::{
    CycleSummary, CycleType, GroupCounts, MembershipCounts, OnDemandResult, PendingDeletions, Quarantine,
    SyncConfigurationStatus, UserFailure,
};
use crate::controller::bounds::{Bounded, MAX_FAILURES};
use crate::cycle::CycleReport;
use crate::engine::threshold::Held;
use crate::gate::OpenPair;

/// Quarantine retries start here and double up to the interval (rule 9).
pub const QUARANTINE_FIRST_RETRY: Duration = Duration::from_secs(60);
/// Cycles in a row that fail more than half of their writes, after retries, before quarantine.
pub const QUARANTINE_AFTER_FAILING_CYCLES: u32 = 3;

/// Which configuration, at which generation, the status speaks of.
pub struct Subject {
    pub name: String,
    pub generation: Option<i64>,
}

pub struct NextStatus {
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
) -> NextStatus {
    let mut status = Writer {
        status: SyncConfigurationStatus {
            observed_generation: subject.generation,
            ..previous.clone()
        },
        subject,
    };
    status.status.claimed_pair = claimed_after(previous, outcome);
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
    NextStatus {
        status: status.status.bounded(),
        requeue,
    }
}

/// The pair this configuration holds after `outcome` (rule 2): an open gate holds its pair;
/// suspension, an invalid spec, another holder, or Tenants that became one directory or
/// unsupported clouds let it go; Tenants not Ready and policies that deny keep what was held
/// (it is still the pair's configuration, it just cannot run now).
fn claimed_after(previous: &SyncConfigurationStatus, outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Open(open) => Some(open.pair.key()),
        Outcome::Invalid(_) | Outcome::Suspended(_) => None,
        Outcome::Closed(closed) => match closed.reason {
            ReadyReason::TenantNotReady
            | ReadyReason::InboundSyncNotAllowed
            | ReadyReason::AutomaticRedemptionNotConfigured
            | ReadyReason::InboundGroupSyncNotAllowed => previous.claimed_pair.clone(),
            ReadyReason::GateOpen
            | ReadyReason::InvalidSpec
            | ReadyReason::SameTenant
            | ReadyReason::UnsupportedCloud
            | ReadyReason::CrossCloudNotSupported
            | ReadyReason::DuplicatePair
            | ReadyReason::CleanupBlocked => None,
        },
    }
}

/// The gate just opened (README, "Operating it", fair scheduling): `Ready=True` is written at once,
/// before the cycle waits for a slot and runs — with many configurations a first cycle may start
/// minutes later, and Ready must not wait for it. `None` when status already says so for this
/// generation.
pub fn gate_opened(
    previous: &SyncConfigurationStatus,
    pair: &OpenPair,
    subject: &Subject,
    now: Timestamp,
) -> Option<SyncConfigurationStatus> {
    let said = conditions::find(&previous.conditions, "Ready").is_some_and(|ready| {
        ready.status == "True" && ready.observed_generation == subject.generation && ready.message == pair.message
    }) && previous.claimed_pair.as_deref() == Some(pair.key().as_str());
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
    status.status.claimed_pair = Some(pair.key());
    Some(status.status.bounded())
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
    let mut next = previous.clone();
    next.pending_deletions = Some(pending(held));
    on_delete(next, threshold(Some(held), name), name, generation, now)
}

/// `status` with one condition recorded while the configuration is being deleted.
fn on_delete(
    status: SyncConfigurationStatus,
    verdict: Verdict,
    name: &str,
    generation: Option<i64>,
    now: Timestamp,
) -> SyncConfigurationStatus {
    let subject = Subject {
        name: name.to_owned(),
        generation,
    };
    let mut writer = Writer {
        status,
        subject: &subject,
    };
    writer.record(verdict, now);
    writer.status.bounded()
}

/// The pair's active configuration is being deleted and cannot clean up now: `Ready=False`,
/// `CleanupBlocked`, whatever the gate would say, until it can or the spec says `Keep`.
pub fn cleanup_blocked(
    previous: &SyncConfigurationStatus,
    why: &str,
    name: &str,
    generation: Option<i64>,
    now: Timestamp,
) -> SyncConfigurationStatus {
    let message = format!(
        "being deleted with onConfigurationDelete: Deprovision, but the cleanup cannot run: {why}; the deletion waits until it can, or until spec.deprovision.onConfigurationDelete is set to Keep"
    );
    let blocked = Verdict::falsity(ReadyReason::CleanupBlocked, message);
    on_delete(previous.clone(), blocked, name, generation, now)
}

fn pending(held: &Held) -> PendingDeletions {
    PendingDeletions {
        count: held.count,
        token: held.token.clone(),
        names: held.names.clone(),
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
            self.status.failing_cycles = None;
        }
        let completed = later(now, ran.elapsed);
        let retry = match &ran.result {
            Ok(report) => {
                self.report(report, &ran.id, now, completed);
                let failing = report
                    .mostly_failed()
                    .then(|| self.status.failing_cycles.unwrap_or(0) + 1);
                self.status.failing_cycles = failing;
                if report.target_auth_failed {
                    let message = "the target refused the credentials".to_owned();
                    self.record(
                        Verdict::falsity(SyncedReason::AuthenticationFailed, message.clone()),
                        completed,
                    );
                    self.quarantine(QuarantinedReason::AuthenticationFailed, &message, interval, completed)
                } else if let Some(cycles) = failing {
                    let message = format!(
                        "{} of {} writes failed after retries ({cycles} such cycles in a row)",
                        report.failed, report.attempted
                    );
                    self.record(Verdict::falsity(SyncedReason::CycleFailed, message.clone()), completed);
                    self.persisting(&message, cycles, interval, completed)
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
                match (quarantined_reason(error), &mut self.status.quarantine) {
                    (Some(reason), _) => self.quarantine(reason, &message, interval, completed),
                    // Running out of time is not a failure of the directories: no quarantine by
                    // itself. One in force keeps its schedule; otherwise the next cycle is on time.
                    (None, Some(quarantine)) => {
                        let wait = quarantine_retry(quarantine.since.0, completed, interval);
                        quarantine.next_attempt_time = Time(later(completed, wait));
                        wait
                    }
                    (None, None) => interval,
                }
            }
        };
        self.status.next_sync_time = Some(Time(later(completed, retry)));
        retry
    }

    /// Most writes of the cycle failed after retries. Quarantine is for failures that persist
    /// (rule 9): a server that failed for a while is retried at the interval as usual, and only
    /// the third such cycle in a row quarantines, as Entra quarantines on a high proportion of
    /// failures, not on one (Microsoft Learn, "Application provisioning in quarantine status").
    fn persisting(&mut self, why: &str, cycles: u32, interval: Duration, completed: Timestamp) -> Duration {
        if cycles >= QUARANTINE_AFTER_FAILING_CYCLES || self.status.quarantine.is_some() {
            return self.quarantine(QuarantinedReason::MostOperationsFailed, why, interval, completed);
        }
        let message = format!("{why}; quarantined after {QUARANTINE_AFTER_FAILING_CYCLES} in a row");
        self.record(Verdict::falsity(QuarantinedReason::WritesFailing, message), completed);
        interval
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
            // A first cycle that looked its target up leaves the full cycle that catches
            // deletions to the next one (docs/architecture.md, "Shared source reads").
            if !report.target_looked_up {
                status.last_full_sync_time = Some(Time(completed));
            }
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
                action: f.action.as_str().to_owned(),
                reason: f.reason.to_owned(),
                message: f.message.clone(),
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
