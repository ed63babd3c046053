//! The pure steps of the reconciler — `schedule::decide` and `status::next` — driven the way a
//! reconcile drives them, one clock per call: when cycles run, and what the status says after.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::outcome::{Open, Outcome, Ran, Step};
use super::schedule::{CycleKind, Decision, FULL_CYCLE_EVERY, Requests, decide};
use super::status::{self, QUARANTINE_FIRST_RETRY};
use crate::api::conditions::{self, ConditionReason};
use crate::api::reasons::{DeletionThresholdReason, QuarantinedReason, ReadyReason, SyncedReason};
use crate::api::sync_config::SyncConfigurationStatus;
use crate::cycle::{CycleError, CycleReport};
use crate::engine::threshold::Held;
use crate::gate::{OpenPair, TenantFacts};
use crate::providers::ConnectError;
use crate::validate::SpecProblems;

pub(super) const INTERVAL: Duration = Duration::from_secs(600);
const RECHECK: Duration = Duration::from_secs(300);

pub(super) fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + seconds).expect("valid time")
}

pub(super) fn requests(generation: i64) -> Requests {
    Requests {
        generation: Some(generation),
        ..Requests::default()
    }
}

fn pair() -> OpenPair {
    let facts = |id: &str| TenantFacts {
        tenant_id: id.into(),
        cloud: crate::api::tenant::Cloud::Global,
        directory: format!("graph {id}"),
        domains: Vec::new(),
    };
    OpenPair {
        source: facts("s"),
        target: facts("t"),
        message: "open".into(),
    }
}

pub(super) fn ran(result: Result<CycleReport, CycleError>, restart: Option<&str>) -> Outcome {
    Outcome::Open(Box::new(Open {
        pair: pair(),
        interval: INTERVAL,
        on_demand: None,
        step: Step::Ran(Box::new(Ran {
            id: "c1".into(),
            restart: restart.map(str::to_owned),
            result,
            elapsed: Duration::from_secs(2),
        })),
    }))
}

pub(super) fn good(full: bool) -> CycleReport {
    CycleReport {
        full,
        watermark: Some("w1".into()),
        group_members_digest: Some("d1".into()),
        created: 1,
        attempted: 1,
        in_scope: 1,
        provisioned: 1,
        ..CycleReport::default()
    }
}

/// The status after one cycle at `now` of generation 1.
pub(super) fn after(previous: &SyncConfigurationStatus, outcome: &Outcome, now: Timestamp) -> status::NextStatus {
    let subject = status::Subject {
        name: "contoso-to-fabrikam".into(),
        generation: Some(1),
    };
    status::next(previous, outcome, &subject, now, RECHECK)
}

fn reason_of<R: ConditionReason>(status: &SyncConfigurationStatus) -> (String, String) {
    let c = conditions::find(&status.conditions, R::TYPE).expect("condition present");
    (c.status.clone(), c.reason.clone())
}

fn is<R: ConditionReason>(status: &SyncConfigurationStatus, truth: &str, reason: R) -> bool {
    reason_of::<R>(status) == (truth.to_owned(), reason.as_str().to_owned())
}

/// A status after a successful Initial cycle at `at(0)`.
fn synced_once() -> SyncConfigurationStatus {
    after(&SyncConfigurationStatus::default(), &ran(Ok(good(true)), None), at(0)).status
}

#[test]
fn the_first_cycle_runs_at_once_and_is_initial() {
    let decision = decide(&SyncConfigurationStatus::default(), &requests(1), INTERVAL, true, at(0));
    assert_eq!(
        decision,
        Decision::Run {
            kind: CycleKind::Initial,
            restart: None
        }
    );
}

#[test]
fn the_next_cycle_waits_for_the_interval_and_then_is_incremental() {
    let status = synced_once();
    assert_eq!(
        status.next_sync_time,
        Some(Time(at(2 + 600))),
        "completed at 2 s, plus the interval"
    );
    assert_eq!(
        decide(&status, &requests(1), INTERVAL, true, at(100)),
        Decision::Wait(Duration::from_secs(502))
    );
    let due = decide(&status, &requests(1), INTERVAL, true, at(602));
    assert_eq!(
        due,
        Decision::Run {
            kind: CycleKind::Incremental,
            restart: None
        }
    );
    // A source without change tracking gets full cycles only.
    assert!(matches!(
        decide(&status, &requests(1), INTERVAL, false, at(602)),
        Decision::Run {
            kind: CycleKind::Initial,
            ..
        }
    ));
}

#[test]
fn a_full_cycle_recurs_every_tenth_interval_to_catch_deletions() {
    let status = synced_once();
    let late = i64::from(FULL_CYCLE_EVERY) * 600 + 2;
    assert!(matches!(
        decide(&status, &requests(1), INTERVAL, true, at(late)),
        Decision::Run {
            kind: CycleKind::Initial,
            ..
        }
    ));
}

#[test]
fn a_spec_change_runs_an_initial_cycle_at_once() {
    let status = synced_once();
    assert!(matches!(
        decide(&status, &requests(2), INTERVAL, true, at(10)),
        Decision::Run {
            kind: CycleKind::Initial,
            ..
        }
    ));
}

#[test]
fn a_new_restart_value_runs_at_once_once_and_leaves_quarantine() {
    let failed = after(&synced_once(), &ran(Err(read_failed()), None), at(700)).status;
    assert!(failed.quarantine.is_some());
    let mut asked = requests(1);
    asked.restart = Some("1".into());
    let Decision::Run { kind, restart } = decide(&failed, &asked, INTERVAL, true, at(710)) else {
        panic!("a restart runs at once");
    };
    assert_eq!((kind, restart.as_deref()), (CycleKind::Initial, Some("1")));
    let restarted = after(&failed, &ran(Ok(good(true)), Some("1")), at(710)).status;
    assert_eq!(restarted.observed_restart.as_deref(), Some("1"));
    assert!(restarted.quarantine.is_none());
    assert!(matches!(
        decide(&restarted, &asked, INTERVAL, true, at(720)),
        Decision::Wait(_)
    ));
}

fn read_failed() -> CycleError {
    CycleError::SourceRead(crate::providers::DirectoryError::Unreachable("refused".into()))
}

#[test]
fn a_timed_out_cycle_is_not_synced_and_the_next_runs_as_scheduled_without_quarantine() {
    let timed_out = CycleError::TimedOut {
        after: Duration::from_secs(3600),
    };
    let next = after(&synced_once(), &ran(Err(timed_out), None), at(700));
    assert!(is(&next.status, "False", SyncedReason::CycleTimedOut));
    let message = conditions::find(&next.status.conditions, SyncedReason::TYPE).map(|c| c.message.clone());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("deadline of 3600s") && m.contains("nothing was deprovisioned")),
        "{message:?}"
    );
    assert!(next.status.quarantine.is_none(), "{:?}", next.status.quarantine);
    assert!(is(&next.status, "False", QuarantinedReason::Healthy));
    assert_eq!(next.requeue, INTERVAL);
    assert_eq!(next.status.next_sync_time, Some(Time(at(702 + 600))));
}

#[test]
fn withheld_deprovisionings_are_pending_until_their_token_approves_them_once() {
    let held = CycleReport {
        withheld_deprovisions: Some(Held {
            count: 7,
            token: "0123456789ab".into(),
            names: vec!["ann@contoso.com".into(), "group:Sales".into()],
        }),
        ..good(true)
    };
    let status = after(&synced_once(), &ran(Ok(held), None), at(700)).status;
    let pending = status.pending_deletions.clone().expect("pending");
    assert_eq!((pending.count, pending.token.as_str()), (7, "0123456789ab"));
    assert_eq!(
        pending.names,
        ["ann@contoso.com", "group:Sales"],
        "who, for the approver"
    );
    assert!(is(&status, "True", DeletionThresholdReason::PendingApproval));
    let message = conditions::find(&status.conditions, DeletionThresholdReason::TYPE).map(|c| c.message.clone());
    let command = "kubectl annotate syncconfig contoso-to-fabrikam xtsync.io/approve-deletions=0123456789ab";
    assert!(message.as_deref().is_some_and(|m| m.contains(command)), "{message:?}");
    let mut approve = requests(1);
    approve.approval = Some("7".into());
    assert!(
        matches!(decide(&status, &approve, INTERVAL, true, at(710)), Decision::Wait(_)),
        "a count is no token"
    );
    approve.approval = Some(pending.token.clone());
    assert!(matches!(
        decide(&status, &approve, INTERVAL, true, at(710)),
        Decision::Run {
            kind: CycleKind::Initial,
            ..
        }
    ));
    let used = CycleReport {
        approval_used: Some(pending.token.clone()),
        ..good(true)
    };
    let applied = after(&status, &ran(Ok(used), None), at(720)).status;
    assert!(applied.pending_deletions.is_none());
    assert!(is(&applied, "False", DeletionThresholdReason::WithinThreshold));
    assert_eq!(approve.fresh_approval(&applied), None, "an approval is consumed once");
}

#[test]
fn an_invalid_spec_is_reported_before_any_gate_check_and_runs_no_cycle() {
    let problems = SpecProblems(vec!["spec.interval: too short".into()]);
    let next = after(&synced_once(), &Outcome::Invalid(problems), at(10));
    assert!(is(&next.status, "False", ReadyReason::InvalidSpec));
    assert!(is(&next.status, "False", SyncedReason::GateClosed));
    assert_eq!((next.status.next_sync_time.clone(), next.requeue), (None, RECHECK));
}

fn failing() -> CycleReport {
    CycleReport {
        attempted: 4,
        failed: 3,
        ..good(true)
    }
}

#[test]
fn a_cycle_failing_most_writes_is_retried_at_the_interval_and_the_third_in_a_row_quarantines() {
    let first = after(&synced_once(), &ran(Ok(failing()), None), at(700));
    assert!(is(&first.status, "False", SyncedReason::CycleFailed));
    assert!(is(&first.status, "False", QuarantinedReason::WritesFailing));
    assert!(first.status.quarantine.is_none());
    assert_eq!((first.requeue, first.status.failing_cycles), (INTERVAL, Some(1)));
    let second = after(&first.status, &ran(Ok(failing()), None), at(1300));
    assert!(second.status.quarantine.is_none(), "two in a row are not enough");
    assert_eq!(second.status.failing_cycles, Some(2));
    let third = after(&second.status, &ran(Ok(failing()), None), at(1900));
    assert!(is(&third.status, "True", QuarantinedReason::MostOperationsFailed));
    assert_eq!(third.requeue, QUARANTINE_FIRST_RETRY);
}

#[test]
fn a_cycle_failing_fewer_than_half_of_its_writes_starts_the_count_again() {
    let mut status = synced_once();
    let partial = CycleReport {
        attempted: 4,
        failed: 1,
        ..good(true)
    };
    for (i, report) in [failing(), failing(), partial, failing(), failing()]
        .into_iter()
        .enumerate()
    {
        let seconds = 700 + 600 * i64::try_from(i).expect("small");
        status = after(&status, &ran(Ok(report), None), at(seconds)).status;
        assert!(status.quarantine.is_none(), "cycle {i}");
    }
    assert_eq!(status.failing_cycles, Some(2));
    let healed = after(&status, &ran(Ok(good(true)), None), at(4000)).status;
    assert_eq!(healed.failing_cycles, None);
    assert!(is(&healed, "False", QuarantinedReason::Healthy));
}

#[test]
fn a_target_refusing_the_credentials_is_quarantined_at_once() {
    let refused = CycleReport {
        attempted: 10,
        failed: 1,
        target_auth_failed: true,
        ..good(true)
    };
    let next = after(&synced_once(), &ran(Ok(refused), None), at(700));
    assert!(is(&next.status, "True", QuarantinedReason::AuthenticationFailed));
    assert!(is(&next.status, "False", SyncedReason::AuthenticationFailed));
    assert_eq!(next.requeue, QUARANTINE_FIRST_RETRY);
}

#[test]
fn most_writes_failing_three_cycles_in_a_row_quarantines_and_retries_from_a_minute_doubling_to_the_interval() {
    let mut status = synced_once();
    for seconds in [100, 400] {
        status = after(&status, &ran(Ok(failing()), None), at(seconds)).status;
    }
    let first = after(&status, &ran(Ok(failing()), None), at(700));
    assert!(is(&first.status, "True", QuarantinedReason::MostOperationsFailed));
    assert!(is(&first.status, "False", SyncedReason::CycleFailed));
    assert_eq!(first.requeue, QUARANTINE_FIRST_RETRY);
    let since = first.status.quarantine.as_ref().map(|q| q.since.clone());
    // Four minutes into quarantine the wait is eight; later it is capped at the interval.
    let later = after(&first.status, &ran(Ok(failing()), None), at(700 + 240));
    assert_eq!(later.requeue, Duration::from_secs(2 * 240));
    assert_eq!(
        later.status.quarantine.as_ref().map(|q| q.since.clone()),
        since,
        "since stays"
    );
    let capped = after(&later.status, &ran(Ok(failing()), None), at(700 + 3600));
    assert_eq!(capped.requeue, INTERVAL);
    let healed = after(&capped.status, &ran(Ok(good(true)), None), at(700 + 4000));
    assert!(is(&healed.status, "False", QuarantinedReason::Healthy));
    assert!(healed.status.quarantine.is_none());
    assert_eq!(healed.requeue, INTERVAL);
}

#[test]
fn a_tenant_that_cannot_be_used_reports_its_own_reason() {
    let error = CycleError::Unusable {
        role: "source",
        error: ConnectError::SecretNotFound("Secret 'contoso-scim' not found".into()).into(),
    };
    let next = after(&synced_once(), &ran(Err(error), None), at(700)).status;
    assert!(is(&next, "False", SyncedReason::SecretNotFound));
    assert!(is(&next, "True", QuarantinedReason::SecretNotFound));
}

#[test]
fn a_cycle_with_failed_writes_keeps_the_watermark_for_the_next_read() {
    let partial = CycleReport {
        attempted: 3,
        failed: 1,
        watermark: Some("w2".into()),
        group_members_digest: Some("d2".into()),
        ..good(false)
    };
    let status = after(&synced_once(), &ran(Ok(partial), None), at(700)).status;
    assert_eq!(status.watermark.as_deref(), Some("w1"));
    // Who joined or left an assigned group is looked for again, too.
    assert_eq!(status.group_members_digest.as_deref(), Some("d1"));
    assert!(is(&status, "False", SyncedReason::PartiallySynced));
}

#[test]
fn a_dry_run_reports_what_it_would_do_and_leaves_the_real_state_alone() {
    let real = synced_once();
    let dry = CycleReport {
        dry_run: true,
        watermark: None,
        created: 5,
        attempted: 5,
        in_scope: 6,
        provisioned: 6,
        ..good(true)
    };
    let status = after(&real, &ran(Ok(dry), None), at(700)).status;
    assert!(is(&status, "True", SyncedReason::DryRun), "{:?}", status.conditions);
    let last = status.last_cycle.as_ref().expect("last cycle");
    assert!(last.dry_run);
    assert_eq!((last.created, last.id.as_deref()), (5, Some("c1")));
    assert_eq!(status.users_in_scope, Some(6), "what is in scope is a reading, kept");
    assert_eq!(
        (status.users_provisioned, status.watermark.as_deref()),
        (real.users_provisioned, real.watermark.as_deref()),
        "nothing was provisioned, and the next read starts where it did"
    );
    assert_eq!(status.last_successful_sync_time, real.last_successful_sync_time);
}

#[test]
fn ready_is_said_as_soon_as_the_gate_opens_and_only_once() {
    // Fair scheduling (README, "Operating it"): with many configurations the first cycle waits for
    // a slot; Ready does not.
    let subject = status::Subject {
        name: "contoso-to-fabrikam".into(),
        generation: Some(1),
    };
    let fresh = SyncConfigurationStatus::default();
    let opened = status::gate_opened(&fresh, &pair(), &subject, at(0)).expect("Ready is new");
    assert_eq!(
        reason_of::<ReadyReason>(&opened),
        ("True".to_owned(), ReadyReason::GateOpen.as_str().to_owned())
    );
    assert!(
        conditions::find(&opened.conditions, "Synced").is_none(),
        "no cycle has run yet"
    );
    assert_eq!(status::gate_opened(&opened, &pair(), &subject, at(5)), None);
    // A new generation says it again.
    let next = status::Subject {
        generation: Some(2),
        ..subject
    };
    assert!(status::gate_opened(&opened, &pair(), &next, at(6)).is_some());
}

/// A megabyte of text, as a hostile directory or annotation could supply.
fn megabyte(tag: &str) -> String {
    format!("{tag}{}", "é".repeat(512 * 1024))
}

/// A cycle whose every string is a megabyte long: 100 failed users with huge names and
/// messages, a huge watermark, a huge on-demand request and answer, a huge restart value.
fn outrageous() -> Outcome {
    let mut report = good(true);
    report.failures = (0..100)
        .map(|i| crate::cycle::UnwrittenUser {
            user: megabyte(&i.to_string()),
            action: crate::engine::vocabulary::CycleAction::User(crate::engine::vocabulary::UserAction::Create),
            reason: crate::engine::vocabulary::SkipReason::MappingFailed.as_str(),
            message: megabyte("m"),
        })
        .collect();
    report.failed = 100;
    report.attempted = 101;
    report.withheld_deprovisions = Some(Held {
        count: 1000,
        token: megabyte("t"),
        names: (0..1000).map(|i| megabyte(&i.to_string())).collect(),
    });
    report.watermark = Some(megabyte("w"));
    let Outcome::Open(mut open) = ran(Ok(report), Some(&megabyte("r"))) else {
        unreachable!("ran() is open")
    };
    open.on_demand = Some((
        megabyte("who"),
        crate::cycle::OnDemandOutcome {
            result: crate::cycle::OnDemandVerdict::Failed,
            message: megabyte("why"),
        },
    ));
    Outcome::Open(open)
}

#[test]
fn a_status_stays_within_its_bound_whatever_the_directory_names() {
    let status = after(&SyncConfigurationStatus::default(), &outrageous(), at(0)).status;
    let bytes = serde_json::to_vec(&status).expect("serializes").len();
    assert!(bytes <= crate::controller::bounds::MAX_STATUS_BYTES, "{bytes} bytes");
    assert_eq!(status.failures.len(), crate::controller::bounds::MAX_FAILURES);
    let pending = status.pending_deletions.as_ref().expect("pending");
    assert_eq!(pending.names.len(), crate::controller::bounds::MAX_PENDING_NAMES);
    assert!(status.failures[0].user.ends_with("(truncated)"), "the cut is marked");
    // One cycle failing most of its writes counts towards quarantine; it does not start it.
    assert!(is(&status, "False", QuarantinedReason::WritesFailing));
}

#[test]
fn a_long_restart_or_on_demand_value_is_answered_once() {
    let status = after(&SyncConfigurationStatus::default(), &outrageous(), at(0)).status;
    let asked = Requests {
        restart: Some(megabyte("r")),
        on_demand: Some(megabyte("who")),
        ..requests(1)
    };
    assert_eq!(asked.new_on_demand(&status), None, "answered already");
    let Decision::Run { restart, .. } = decide(&status, &asked, INTERVAL, true, at(3600)) else {
        panic!("the next cycle runs after the interval")
    };
    assert_eq!(restart, None, "the restart was acted on already");
}
