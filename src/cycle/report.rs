//! What a cycle reports: counters as in `status.lastCycle`, the users that failed or were
//! skipped, and the errors that stop a cycle before it writes anything.

use crate::engine::threshold::Held;
use crate::engine::vocabulary::{CycleAction, GroupAction};
use crate::providers::connect_error::Unopenable;
use crate::providers::directory::DirectoryError;

/// What a cycle did. Counters follow `status.lastCycle`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CycleReport {
    /// Source and target were read in full (an Initial cycle).
    pub full: bool,
    /// An Initial cycle from a shared source read that looked its target up
    /// (`cycle::from_shared`): its deprovisionings rested on the target's listing of the users
    /// anchored by its source, so it does not count as the full cycle that catches deletions —
    /// the next cycle reads both directories whole.
    pub target_looked_up: bool,
    /// Nothing was written: the counters are what the cycle would have done.
    pub dry_run: bool,
    /// The latest change seen in the source: the next incremental cycle starts there.
    pub watermark: Option<String>,
    /// Change in the number of provisioned users (what an incremental cycle can know).
    pub provisioned_delta: i64,
    pub created: u32,
    pub updated: u32,
    pub deprovisioned: u32,
    pub adopted: u32,
    pub skipped: u32,
    pub failed: u32,
    pub unchanged: u32,
    pub in_scope: u32,
    /// Target users of this source that are active after the cycle.
    pub provisioned: u32,
    /// The first `KEPT_FAILURES` users skipped or failed (a cycle keeps no more per-user data
    /// than status shows and logs need; the log has every one).
    pub failures: Vec<UnwrittenUser>,
    /// Users skipped or failed, by `UnwrittenUser::action`: all of them, however many are kept.
    pub failures_by_action: std::collections::BTreeMap<CycleAction, u32>,
    /// Deprovisionings held back by the threshold (rule 8), waiting for approval.
    pub withheld_deprovisions: Option<Held>,
    /// The approval token the cycle's deprovisionings consumed.
    pub approval_used: Option<String>,
    /// Writes attempted (for "most operations failed", towards quarantine).
    pub attempted: u32,
    /// Writes that failed only because the directory kept throttling them.
    pub throttled: u32,
    /// The target refused our credentials during the cycle: quarantine at once.
    pub target_auth_failed: bool,
    /// Group provisioning, when enabled.
    pub groups: Option<GroupReport>,
    /// Where the next read of changed source groups starts.
    pub groups_watermark: Option<String>,
    /// The digest of the assigned groups' members this cycle read (scope by group only).
    pub group_members_digest: Option<String>,
}

/// What a cycle did to groups and their members. Counters follow `status.lastCycle.groups`
/// and `.memberships`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupReport {
    pub created: u32,
    pub updated: u32,
    pub deprovisioned: u32,
    pub unchanged: u32,
    pub failed: u32,
    pub members_added: u32,
    pub members_removed: u32,
    /// Failed group writes by action.
    pub failed_by_action: std::collections::BTreeMap<GroupAction, u32>,
    /// Restores (counted in `updated` too).
    pub restored: u32,
    /// Every source group was read (not only the changed ones): `in_scope` and `provisioned`
    /// count them all.
    pub full: bool,
    /// Groups of `scope.groups` found in the source.
    pub in_scope: u32,
    /// Groups of this configuration active in the target after the cycle.
    pub provisioned: u32,
}

impl CycleReport {
    /// More than half of the writes failed after retries (rule 9: three such cycles in a row
    /// quarantine). Throttling is flow control, never by itself a reason: throttled writes count
    /// neither as failed nor as attempted here (they are retried next cycle; the watermark
    /// stays put).
    pub fn mostly_failed(&self) -> bool {
        let failed = self.failed.saturating_sub(self.throttled);
        let attempted = self.attempted.saturating_sub(self.throttled);
        attempted >= 2 && failed * 2 > attempted
    }

    /// Counts failures, keeping the first `KEPT_FAILURES`.
    pub fn keep_failures(&mut self, failures: impl IntoIterator<Item = UnwrittenUser>) {
        for failure in failures {
            *self.failures_by_action.entry(failure.action).or_default() += 1;
            if self.failures.len() < KEPT_FAILURES {
                self.failures.push(failure);
            }
        }
    }

    /// How many users this cycle changed in the target.
    pub fn changed(&self) -> u32 {
        self.created + self.updated + self.adopted + self.deprovisioned
    }
}

/// A user the cycle skipped or failed to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnwrittenUser {
    pub user: String,
    /// `Skip`, or the change that failed (`Create`, `Update`, `CreateGroup`, …).
    pub action: CycleAction,
    /// A `SkipReason` or a `DirectoryError` variant name.
    pub reason: &'static str,
    pub message: String,
}

/// Failures a report keeps (status shows fewer).
pub const KEPT_FAILURES: usize = 100;

/// A cycle that could not run at all. Nothing was deprovisioned.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    #[error("reading the source failed: {0}")]
    SourceRead(DirectoryError),
    #[error("reading the target failed: {0}")]
    TargetRead(DirectoryError),
    /// A Tenant of the pair cannot be used (found by the controller while connecting).
    #[error("{role} Tenant cannot be used: {error}")]
    Unusable { role: &'static str, error: Unopenable },
    /// The cycle reached its deadline (`cycle::deadline`) before it began to deprovision.
    #[error("the cycle did not end within its deadline of {}s (its interval, and at least an hour)", after.as_secs())]
    TimedOut { after: std::time::Duration },
}
