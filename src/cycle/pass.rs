//! One pass of a cycle over the source's pages (docs/architecture.md, "One cycle, step by step"):
//! each page is planned against the indexed target as it arrives and applied while the next is
//! read; once the read has ended complete, what was not seen is confirmed gone, held to the
//! threshold and deprovisioned. A read that failed half-way has had its pages created and updated
//! from, and deprovisions nothing.

use futures::StreamExt;
use futures::stream::FuturesOrdered;
use tokio::sync::mpsc::Receiver;

use super::apply::{self, Ledger};
use super::groups::Members;
use super::progress::Phase;
use super::report::{CycleError, CycleReport, UnwrittenUser};
use super::{CycleInput, audit};
use crate::engine::plan::{Change, Plan, Planner, Source};
use crate::engine::scope::Assignments;
use crate::engine::user::User;
use crate::engine::vocabulary::CycleAction;
use crate::providers::directory::{DirectoryError, SourceDirectory, TargetDirectory};

/// Source users planned at once: pages ready when a slice is taken go together, up to this.
const SLICE_USERS: usize = 1000;
/// Slices being written at once: the next one starts while the last requests of the previous
/// one finish, so the directory's budget stays full; its semaphore bounds the requests.
const SLICES_IN_FLIGHT: usize = 2;

/// How a source read ended.
pub struct ReadEnd {
    pub watermark: Option<String>,
    /// Every user was read: users not seen may be gone.
    pub full: bool,
}

/// The target as read, and who is assigned in the source.
pub struct Against<'a> {
    pub target_users: &'a [User],
    pub assignments: &'a Assignments,
    /// The source tenant's domains, compared form (`read::source_domains`).
    pub source_domains: &'a [String],
}

impl<'a> Against<'a> {
    fn planner(&self, input: &'a CycleInput<'_>) -> Planner<'a> {
        let source = Source {
            tenant_id: input.source_tenant_id,
            domains: self.source_domains,
        };
        Planner::new(source, self.target_users, self.assignments, input.rules)
    }
}

pub async fn run(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    input: &CycleInput<'_>,
    against: Against<'_>,
    mut pages: Receiver<Vec<User>>,
    ended: impl Future<Output = Result<ReadEnd, DirectoryError>>,
    members: Option<&mut Members>,
) -> Result<CycleReport, CycleError> {
    let mut planner = against.planner(input);
    let mut report = CycleReport {
        dry_run: input.dry_run,
        ..CycleReport::default()
    };
    let mut provisioned = 0;
    let mut ledger = Ledger {
        report: &mut report,
        provisioned: &mut provisioned,
        audit: input.audit,
        members,
    };
    let action = input.rules.deprovision.action;
    let mut in_flight = FuturesOrdered::new();
    let (mut read, mut planned, mut applied, mut reading) = (0, 0, 0, true);
    loop {
        tokio::select! {
            biased;
            Some(results) = in_flight.next(), if !in_flight.is_empty() => {
                applied += ledger.record_all(results);
                input.progress.report(Phase::Applying, applied, planned);
            }
            slice = next_slice(&mut pages), if reading && in_flight.len() < SLICES_IN_FLIGHT => {
                let Some(users) = slice else {
                    reading = false;
                    continue;
                };
                read += users.len();
                input.progress.report(Phase::Planning, read, read);
                let plan = planner.page(&users);
                drop(users);
                let changes = ledger.take_plan(plan);
                planned += changes.len();
                if input.dry_run {
                    applied += ledger.record_all(apply::pretend(changes));
                } else {
                    in_flight.push_back(apply::send(target, changes, action));
                }
            }
            else => break,
        }
    }
    // The channel closed: the read has ended, one way or the other.
    let end = ended.await.map_err(CycleError::SourceRead)?;
    report_end(&mut ledger, &end, input.dry_run);
    let ending = planner.finish(end.full);
    let before = i64::from(ending.provisioned_before);
    *ledger.provisioned += before;
    let gone = if ending.unseen.is_empty() {
        Default::default()
    } else {
        let ids: Vec<String> = ending.unseen.iter().map(|u| u.source_id.clone()).collect();
        source.confirm_gone(&ids).await.map_err(CycleError::SourceRead)?
    };
    let deprovision = input.rules.deprovision;
    let settled = Plan {
        changes: ending.deprovisions,
        unseen: ending.unseen,
        ..Plan::default()
    }
    .settle(&gone, input.rules.actions, deprovision.threshold, input.approval);
    ledger.report.withheld_deprovisions = settled.withheld_deprovisions.clone();
    ledger.report.approval_used = settled.approval_used.clone();
    let changes = ledger.take_plan(settled);
    ledger.record_all(send_deprovisionings(target, input, changes).await?);
    report.provisioned_delta = provisioned - before;
    report.provisioned = provisioned.max(0).try_into().unwrap_or(u32::MAX);
    Ok(report)
}

/// The deprovisionings the threshold let through, sent (or, in a dry run, pretended) — unless
/// the cycle's deadline has passed: then none.
async fn send_deprovisionings(
    target: &dyn TargetDirectory,
    input: &CycleInput<'_>,
    changes: Vec<Change>,
) -> Result<Vec<apply::Applied>, CycleError> {
    if input.dry_run {
        return Ok(apply::pretend(changes));
    }
    if !changes.is_empty() && !input.deadline.begin_deprovisioning() {
        return Err(input.deadline.timed_out());
    }
    Ok(apply::send(target, changes, input.rules.deprovision.action).await)
}

/// The pages waiting, up to `SLICE_USERS` users (at least one page); `None` once the read
/// has ended and every page was taken.
async fn next_slice(pages: &mut Receiver<Vec<User>>) -> Option<Vec<User>> {
    let mut users = pages.recv().await?;
    while users.len() < SLICE_USERS {
        match pages.try_recv() {
            Ok(more) => users.extend(more),
            Err(_) => break,
        }
    }
    Some(users)
}

fn report_end(ledger: &mut Ledger<'_>, end: &ReadEnd, dry_run: bool) {
    ledger.report.full = end.full;
    // A dry run wrote nothing: the next cycle must see every change again.
    ledger.report.watermark = end.watermark.clone().filter(|_| !dry_run);
}

impl Ledger<'_> {
    /// Counts a plan's unchanged users and logs its skips and the changes `spec.actions` holds
    /// back (counted as skipped, kept out of `failures`: nothing is wrong with them); its other
    /// changes are to be applied.
    fn take_plan(&mut self, plan: Plan) -> Vec<Change> {
        let report = &mut *self.report;
        report.unchanged += plan.unchanged;
        report.in_scope += plan.in_scope;
        let skips = (plan.skips.len() + plan.disabled.len()).try_into().unwrap_or(u32::MAX);
        report.skipped = report.skipped.saturating_add(skips);
        for change in &plan.disabled {
            self.audit.record(audit::of_disabled(change));
        }
        for skip in &plan.skips {
            self.audit.record(audit::of_skip(skip));
        }
        self.report.keep_failures(plan.skips.into_iter().map(|s| UnwrittenUser {
            user: s.user,
            action: CycleAction::Skip,
            reason: s.reason.as_str(),
            message: s.message,
        }));
        plan.changes
    }
}
