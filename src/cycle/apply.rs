//! The write half of a cycle: a slice of the plan's changes goes to the target — creations as
//! one set (Bulk where offered), then updates, then deprovisionings — and every result is
//! counted and logged. One user's failure never stops the others (rule 9). A dry run counts and logs
//! every change as the cycle would have made it, and writes nothing.

use super::audit::{self, Sink};
use super::groups::Members;
use super::report::{CycleReport, UnwrittenUser};
use crate::engine::plan::{Change, Changes, TargetRef};
use crate::engine::vocabulary::{CycleAction, DeprovisionAction};
use crate::providers::directory::{DirectoryError, TargetDirectory};

/// Where the results of a cycle's changes are kept: its report, the number of active users of
/// this source in the target, and the provisioning log.
pub struct Ledger<'a> {
    pub report: &'a mut CycleReport,
    pub provisioned: &'a mut i64,
    pub audit: &'a dyn Sink,
    /// With group provisioning: the provisioned users group memberships may hold.
    pub members: Option<&'a mut Members>,
}

/// A change and what the directory answered (`Ok(target id)` when it gave one).
pub type Applied = (Change, Result<Option<String>, DirectoryError>);

/// Sends `changes` to the target; one result per change.
pub async fn send(target: &dyn TargetDirectory, changes: Vec<Change>, action: DeprovisionAction) -> Vec<Applied> {
    let (creates, others): (Vec<Change>, Vec<Change>) =
        changes.into_iter().partition(|c| matches!(c, Change::Create { .. }));
    let attributes: Vec<_> = creates
        .iter()
        .filter_map(|c| match c {
            Change::Create { attributes, .. } => Some(attributes.clone()),
            _ => None,
        })
        .collect();
    let created = super::creations::create(target, &attributes).await;
    drop(attributes);
    let mut applied: Vec<Applied> = creates
        .into_iter()
        .zip(created)
        .map(|(c, r)| (c, r.map(Some)))
        .collect();

    // Updates (adoptions, restores) and deprovisionings each go to the directory as one set,
    // so that providers can batch them; results come back in order.
    let (deprovisions, updates): (Vec<Change>, Vec<Change>) = others
        .into_iter()
        .partition(|c| matches!(c, Change::Deprovision { .. }));
    let update_refs: Vec<(TargetRef, Changes)> = updates
        .iter()
        .filter_map(|c| match c {
            Change::Adopt { target, changes, .. }
            | Change::Update { target, changes, .. }
            | Change::Restore { target, changes, .. } => Some((target.clone(), changes.clone())),
            Change::Create { .. } | Change::Deprovision { .. } => None,
        })
        .collect();
    let updated = target.update_users(&update_refs).await;
    applied.extend(updates.into_iter().zip(updated).map(|(c, r)| (c, r.map(|()| None))));
    let deprovision_refs: Vec<TargetRef> = deprovisions
        .iter()
        .filter_map(|c| match c {
            Change::Deprovision { target } => Some(target.clone()),
            _ => None,
        })
        .collect();
    let deprovisioned = target.deprovision_users(&deprovision_refs, action).await;
    applied.extend(
        deprovisions
            .into_iter()
            .zip(deprovisioned)
            .map(|(c, r)| (c, r.map(|()| None))),
    );
    applied
}

/// A dry run: every change counted and logged as made, none sent.
pub fn pretend(changes: Vec<Change>) -> Vec<Applied> {
    changes.into_iter().map(|c| (c, Ok(None))).collect()
}

impl Ledger<'_> {
    /// Counts and logs results; returns how many.
    pub fn record_all(&mut self, results: Vec<Applied>) -> usize {
        let count = results.len();
        for (change, result) in results {
            self.record(&change, result);
        }
        count
    }

    /// Counts and logs one change's result (`Ok(target id)` when the directory gave one).
    fn record(&mut self, change: &Change, result: Result<Option<String>, DirectoryError>) {
        if let Some(members) = self.members.as_deref_mut() {
            members.record(change, &result);
        }
        self.audit.record(audit::of_change(change, &result));
        let report = &mut *self.report;
        report.attempted += 1;
        let error = match result {
            Ok(_) => {
                let (counter, active) = match change {
                    Change::Create { .. } => (&mut report.created, 1),
                    Change::Adopt { .. } => (&mut report.adopted, 1),
                    Change::Update { .. } => (&mut report.updated, 0),
                    Change::Restore { .. } => (&mut report.updated, 1),
                    Change::Deprovision { .. } => (&mut report.deprovisioned, -1),
                };
                *counter += 1;
                *self.provisioned += active;
                return;
            }
            Err(error) => error,
        };
        if let DirectoryError::Refused { reason, detail } = error {
            tracing::info!(user = change.label(), reason = reason.as_str(), detail, "user skipped");
            report.skipped += 1;
            report.keep_failures([UnwrittenUser {
                user: change.label().to_owned(),
                action: CycleAction::Skip,
                reason: reason.as_str(),
                message: detail,
            }]);
            return;
        }
        match error {
            DirectoryError::AuthenticationFailed { .. } => report.target_auth_failed = true,
            DirectoryError::Throttled { .. } => report.throttled += 1,
            _ => {}
        }
        let action = CycleAction::User(audit::user_action(change));
        tracing::warn!(user = change.label(), %action, reason = error.reason(), %error, "user write failed");
        report.failed += 1;
        report.keep_failures([UnwrittenUser {
            user: change.label().to_owned(),
            action,
            reason: error.reason(),
            message: error.to_string(),
        }]);
    }
}
