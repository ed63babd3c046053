//! One sync cycle over two `Directory`s: read → plan → apply (DESIGN.md §3 rules 3–9). Knows
//! nothing of Kubernetes: the controller decides when a cycle runs and writes what it reports.
//!
//! `read` (assignments, target look-ups) → `engine::plan` (pure) → `apply` (writes, counted
//! into a `report`). `on_demand` is the same for one user; `cleanup` deprovisions what a
//! deleted configuration provisioned.

mod apply;
pub mod audit;
pub mod cleanup;
pub mod on_demand;
pub mod progress;
mod read;
pub mod report;
#[cfg(test)]
mod tests;

pub use on_demand::{OnDemandOutcome, OnDemandResult, provision_on_demand};
pub use report::{CycleError, CycleReport, UserFailure};

use std::collections::HashSet;

use crate::engine::plan::{self, Change, PlanInput};
use crate::engine::rules::SyncRules;
use crate::engine::scope::Assignments;
use crate::engine::user::User;
use crate::providers::Directory;
use progress::Phase;

/// Changes applied between two progress reports: large enough that slicing costs nothing
/// (Bulk requests are 200, Graph batches 20), small enough that progress moves.
const APPLY_SLICE: usize = 1000;

/// Up to this many changed source users, an incremental cycle looks their target users up;
/// above it, it reads the target in full.
const LOOKUPS_UP_TO: usize = 100;

pub struct CycleInput<'a> {
    pub source_tenant_id: &'a str,
    pub rules: &'a SyncRules,
    /// The value of `xtsync.io/approve-deletions` not consumed yet, if any: lets the set of
    /// deprovisionings with that token through the accidental-deletion threshold.
    pub approval: Option<&'a str>,
    /// `Some`: an Incremental cycle, reading only the source users changed after it, and the
    /// target users they match. `None`: an Initial cycle, full reads of both.
    pub watermark: Option<&'a str>,
    /// Plan, count and log, but write nothing to the target.
    pub dry_run: bool,
    /// The provisioning log: one record per action and per skip.
    pub audit: &'a dyn audit::Sink,
    /// Where the cycle says how far it is.
    pub progress: &'a dyn progress::Progress,
}

pub async fn run(
    source: &dyn Directory,
    target: &dyn Directory,
    input: &CycleInput<'_>,
) -> Result<CycleReport, CycleError> {
    input.progress.report(Phase::Reading, 0, 0);
    // Read first; a failed or partial read is an error and nothing is deleted.
    let read = source
        .read_source(input.watermark)
        .await
        .map_err(CycleError::SourceRead)?;
    // Change tracking that expired starts over with a full read: then the cycle is a full one.
    let full = input.watermark.is_none() || read.full;
    let source_users = read::with_removed(read.users, &read.removed);
    let assignments = read::assignments(source, input).await?;
    // Many changes: one full read of the target costs less than a few look-ups per user.
    let target_users = if full || source_users.len() > LOOKUPS_UP_TO {
        target.list_users().await
    } else {
        read::matching_target_users(target, &source_users, input).await
    }
    .map_err(CycleError::TargetRead)?;

    input
        .progress
        .report(Phase::Planning, source_users.len(), source_users.len());
    let plan = plan_for(input, &source_users, full, &target_users, &assignments);
    let gone = if plan.unseen.is_empty() {
        HashSet::new()
    } else {
        let ids: Vec<String> = plan.unseen.iter().map(|u| u.source_id.clone()).collect();
        source.confirm_gone(&ids).await.map_err(CycleError::SourceRead)?
    };
    let deprovision = input.rules.deprovision;
    let plan = plan.settle(&gone, deprovision.threshold, input.approval);
    let mut report = CycleReport {
        full,
        dry_run: input.dry_run,
        // A dry run wrote nothing: the next cycle must see every change again.
        watermark: read.watermark.filter(|_| !input.dry_run),
        unchanged: plan.unchanged,
        in_scope: plan.in_scope,
        skipped: plan.skips.len().try_into().unwrap_or(u32::MAX),
        withheld_deprovisions: plan.withheld_deprovisions.clone(),
        approval_used: plan.approval_used.clone(),
        ..CycleReport::default()
    };
    for skip in &plan.skips {
        input.audit.record(audit::of_skip(skip));
    }
    report.failures.extend(plan.skips.iter().map(|s| UserFailure {
        user: s.user.clone(),
        action: report::SKIP,
        reason: s.reason.as_str(),
        message: s.message.clone(),
    }));

    let before = i64::from(plan.provisioned_before);
    let mut provisioned = before;
    let mut ledger = apply::Ledger {
        report: &mut report,
        provisioned: &mut provisioned,
        audit: input.audit,
    };
    let mut changes = plan.changes;
    let total = changes.len();
    if input.dry_run {
        apply::pretend(changes, &mut ledger);
    } else {
        // In slices, so that progress can be told; creations first, then updates, then
        // deprovisionings, as in one go.
        changes.sort_by_key(|c| match c {
            Change::Create { .. } => 0,
            Change::Deprovision { .. } => 2,
            _ => 1,
        });
        let action = input.rules.deprovision.action;
        let mut done = 0;
        while !changes.is_empty() {
            input.progress.report(Phase::Applying, done, total);
            let rest = changes.split_off(changes.len().min(APPLY_SLICE));
            done += changes.len();
            apply::apply(target, changes, action, &mut ledger).await;
            changes = rest;
        }
    }
    report.provisioned_delta = provisioned - before;
    report.provisioned = provisioned.max(0).try_into().unwrap_or(u32::MAX);
    Ok(report)
}

fn plan_for(
    input: &CycleInput<'_>,
    source: &[User],
    source_complete: bool,
    target: &[User],
    assignments: &Assignments,
) -> plan::Plan {
    plan::plan(&PlanInput {
        source_tenant_id: input.source_tenant_id,
        source,
        source_complete,
        target,
        assignments,
        rules: input.rules,
    })
}
