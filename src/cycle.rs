//! One sync cycle, read → plan → apply (DESIGN.md §3 rules 3–9), over two `Directory`s. Knows
//! nothing of Kubernetes: the controller decides when a cycle runs and writes what it reports.

use futures::FutureExt;
use futures::StreamExt;
use futures::future::BoxFuture;

use crate::api::sync_config::{DeprovisionAction, SyncConfigurationSpec};
use crate::engine::compile::CompiledSpec;
use crate::engine::mapping;
use crate::engine::plan::{self, Change, Changes, PlanInput, TargetRef};
use crate::engine::scope::Assignments;
use crate::engine::user::User;
use crate::providers::{Directory, DirectoryError};

/// Up to this many changed source users, an incremental cycle looks their target users up;
/// above it, it reads the target in full.
const LOOKUPS_UP_TO: usize = 100;

pub struct CycleInput<'a> {
    pub source_tenant_id: &'a str,
    pub spec: &'a SyncConfigurationSpec,
    pub compiled: &'a CompiledSpec,
    /// The value of `xtsync.io/approve-deletions`, if any: lets exactly that many deprovisionings
    /// through the accidental-deletion threshold.
    pub approved_deletions: Option<usize>,
    /// Writes in flight at once towards the target.
    pub concurrency: usize,
    /// `Some`: an Incremental cycle, reading only the source users changed after it, and the
    /// target users they match. `None`: an Initial cycle, full reads of both.
    pub watermark: Option<&'a str>,
}

/// What a cycle did. Counters follow `status.lastCycle`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CycleReport {
    /// Source and target were read in full (an Initial cycle).
    pub full: bool,
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
    pub failures: Vec<UserFailure>,
    /// Deprovisionings held back by the threshold (rule 8), waiting for approval.
    pub withheld_deprovisions: Option<u32>,
    /// Writes attempted (for "most operations failed" → quarantine).
    pub attempted: u32,
    /// The target refused our credentials during the cycle.
    pub target_auth_failed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFailure {
    pub user: String,
    pub action: String,
    pub reason: String,
    pub message: String,
}

/// A cycle that could not run at all. Nothing was deprovisioned.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    #[error("reading the source failed: {0}")]
    SourceRead(DirectoryError),
    #[error("reading the target failed: {0}")]
    TargetRead(DirectoryError),
}

impl CycleError {
    pub fn reason(&self) -> &'static str {
        match self {
            CycleError::TargetRead(DirectoryError::AuthenticationFailed { .. }) => "AuthenticationFailed",
            CycleError::SourceRead(_) => "SourceReadFailed",
            CycleError::TargetRead(_) => "TargetReadFailed",
        }
    }
}

pub async fn run(
    source: &dyn Directory,
    target: &dyn Directory,
    input: &CycleInput<'_>,
) -> Result<CycleReport, CycleError> {
    let spec = input.spec;
    // Read first; a failed or partial read is an error and nothing is deleted.
    let read = source
        .read_source(input.watermark)
        .await
        .map_err(CycleError::SourceRead)?;
    // Change tracking that expired starts over with a full read: then the cycle is a full one.
    let full = input.watermark.is_none() || read.full;
    let source_users = with_removed(read.users, &read.removed);
    let assignments = assignments(source, spec).await?;
    let mappings = mapping::effective(&input.compiled.mappings);
    // Many changes: one full read of the target costs less than a few look-ups per user.
    let target_users = if full || source_users.len() > LOOKUPS_UP_TO {
        target.list_users().await
    } else {
        matching_target_users(target, &source_users, input, &mappings).await
    }
    .map_err(CycleError::TargetRead)?;

    let mut plan = plan_cycle(input, &source_users, full, &target_users, &assignments, &mappings);

    let mut report = CycleReport {
        full,
        watermark: read.watermark,
        unchanged: plan.unchanged,
        in_scope: plan.in_scope,
        skipped: plan.skips.len().try_into().unwrap_or(u32::MAX),
        ..CycleReport::default()
    };
    report.failures.extend(plan.skips.iter().map(|s| UserFailure {
        user: s.user.clone(),
        action: "Skip".into(),
        reason: s.reason.as_str().into(),
        message: s.message.clone(),
    }));

    let pending = plan.deprovisions();
    let threshold = usize::try_from(spec.deprovision.accidental_deletion_threshold).unwrap_or(usize::MAX);
    if pending > threshold && input.approved_deletions != Some(pending) {
        report.withheld_deprovisions = Some(pending.try_into().unwrap_or(u32::MAX));
        plan = plan.without_deprovisions();
    }

    let plan_provisioned_before = plan.provisioned_before;
    let mut provisioned = i64::from(plan_provisioned_before);
    apply(
        target,
        plan.changes,
        spec.deprovision.action,
        input.concurrency,
        &mut report,
        &mut provisioned,
    )
    .await;
    report.provisioned_delta = provisioned - i64::from(plan_provisioned_before);
    report.provisioned = provisioned.max(0).try_into().unwrap_or(u32::MAX);
    Ok(report)
}

/// Users the source reported deleted join the changed ones as deleted, inactive users: the plan
/// deprovisions what they were provisioned as (rule 7).
fn with_removed(mut users: Vec<User>, removed: &[String]) -> Vec<User> {
    users.extend(removed.iter().map(|id| User {
        id: id.clone(),
        attributes: [("active", "false".to_owned())].into_iter().collect(),
        deleted: true,
        ..User::default()
    }));
    users
}

/// Who is assigned: the listed users and the members of the listed groups.
async fn assignments(source: &dyn Directory, spec: &SyncConfigurationSpec) -> Result<Assignments, CycleError> {
    let group_members = if spec.scope.groups.is_empty() {
        Default::default()
    } else {
        source
            .group_members(&spec.scope.groups)
            .await
            .map_err(CycleError::SourceRead)?
    };
    Ok(Assignments::new(&spec.scope.users, group_members))
}

fn plan_cycle(
    input: &CycleInput<'_>,
    source: &[User],
    source_complete: bool,
    target: &[User],
    assignments: &Assignments,
    mappings: &[crate::engine::compile::Mapping],
) -> plan::Plan {
    let spec = input.spec;
    plan::plan(&PlanInput {
        source_tenant_id: input.source_tenant_id,
        source,
        source_complete,
        target,
        mode: spec.scope.mode,
        assignments,
        filter: &input.compiled.filter,
        mappings,
        user_type: spec.user_type,
        adopt_existing: spec.matching.adopt_existing,
        deprovision: spec.deprovision.action,
    })
}

/// For an incremental cycle (or one user on demand), the target users that may matter to the changed source users:
/// those anchored to them, and those their userName or email would match (adoption and
/// conflicts). A few lookups per changed user instead of a full read.
async fn matching_target_users(
    target: &dyn Directory,
    changed: &[User],
    input: &CycleInput<'_>,
    mappings: &[crate::engine::compile::Mapping],
) -> Result<Vec<User>, DirectoryError> {
    let mut lookups: Vec<(&'static str, String)> = Vec::new();
    for user in changed {
        let anchor = crate::engine::anchor::Anchor::new(input.source_tenant_id, &user.id);
        lookups.push(("externalId", anchor.to_string()));
        if user.deleted {
            continue;
        }
        if let Ok(desired) = mapping::desired(mappings, user, &anchor, input.spec.user_type, true) {
            for attribute in ["userName", crate::engine::attributes::WORK_EMAIL] {
                if let Some(value) = desired.get(attribute) {
                    lookups.push((attribute, value.clone()));
                }
            }
        }
    }
    let requests: Vec<BoxFuture<'_, Result<Vec<User>, DirectoryError>>> = lookups
        .iter()
        .map(|(attribute, value)| target.find_users(attribute, value).boxed())
        .collect();
    let found: Vec<_> = futures::stream::iter(requests)
        .buffer_unordered(input.concurrency.max(1))
        .collect()
        .await;
    let mut users: Vec<User> = Vec::new();
    for result in found {
        for user in result? {
            if !users.iter().any(|u| u.id == user.id) {
                users.push(user);
            }
        }
    }
    Ok(users)
}

/// Applies the changes: creations in one batch (Bulk where the target offers it), the rest with
/// bounded concurrency. One user's failure never stops the others (rule 9).
async fn apply(
    target: &dyn Directory,
    changes: Vec<Change>,
    action: DeprovisionAction,
    concurrency: usize,
    report: &mut CycleReport,
    provisioned: &mut i64,
) {
    let (creates, others): (Vec<Change>, Vec<Change>) =
        changes.into_iter().partition(|c| matches!(c, Change::Create { .. }));
    let attributes: Vec<_> = creates
        .iter()
        .filter_map(|c| {
            if let Change::Create { attributes, .. } = c {
                Some(attributes.clone())
            } else {
                None
            }
        })
        .collect();
    let created = target.create_users(&attributes).await;
    for (change, result) in creates.iter().zip(created) {
        record(report, provisioned, change, result.map(|_| ()));
    }

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
            _ => None,
        })
        .collect();
    let updated = target.update_users(&update_refs, concurrency).await;
    for (change, result) in updates.iter().zip(updated) {
        record(report, provisioned, change, result);
    }
    let deprovision_refs: Vec<TargetRef> = deprovisions
        .iter()
        .filter_map(|c| match c {
            Change::Deprovision { target } => Some(target.clone()),
            _ => None,
        })
        .collect();
    let deprovisioned = target.deprovision_users(&deprovision_refs, action, concurrency).await;
    for (change, result) in deprovisions.iter().zip(deprovisioned) {
        record(report, provisioned, change, result);
    }
}

fn record(report: &mut CycleReport, provisioned: &mut i64, change: &Change, result: Result<(), DirectoryError>) {
    report.attempted += 1;
    match result {
        Ok(()) => match change {
            Change::Create { .. } => {
                report.created += 1;
                *provisioned += 1;
            }
            Change::Adopt { .. } => {
                report.adopted += 1;
                *provisioned += 1;
            }
            Change::Update { .. } => report.updated += 1,
            Change::Restore { .. } => {
                report.updated += 1;
                *provisioned += 1;
            }
            Change::Deprovision { .. } => {
                report.deprovisioned += 1;
                *provisioned -= 1;
            }
        },
        Err(error) => {
            if matches!(error, DirectoryError::AuthenticationFailed { .. }) {
                report.target_auth_failed = true;
            }
            tracing::warn!(user = change.label(), action = change.action(), reason = error.reason(), %error, "user write failed");
            report.failed += 1;
            report.failures.push(UserFailure {
                user: change.label().to_owned(),
                action: change.action().to_owned(),
                reason: error.reason().to_owned(),
                message: error.to_string(),
            });
        }
    }
}

impl CycleReport {
    /// Rule 9: most operations failed, or the target refused us → quarantine.
    pub fn warrants_quarantine(&self) -> bool {
        self.target_auth_failed || (self.attempted >= 2 && self.failed * 2 > self.attempted)
    }
}

/// The answer to `xtsync.io/provision-on-demand` (rule 11).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnDemandOutcome {
    /// `Created`, `Updated`, `Adopted`, `Restored`, `Unchanged`, `Skipped`, `OutOfScope`,
    /// `NotFound` or `Failed`.
    pub result: &'static str,
    pub message: String,
}

/// Provisions the one source user named `who` (userName or id) now, with every rule of a cycle
/// but deprovisioning: the user's own plan is computed against the target and applied.
pub async fn provision_on_demand(
    source: &dyn Directory,
    target: &dyn Directory,
    input: &CycleInput<'_>,
    who: &str,
) -> Result<OnDemandOutcome, CycleError> {
    let spec = input.spec;
    let users = source.list_users().await.map_err(CycleError::SourceRead)?;
    let Some(user) = users
        .into_iter()
        .find(|u| u.id == who || u.user_name().eq_ignore_ascii_case(who))
    else {
        return Ok(OnDemandOutcome {
            result: "NotFound",
            message: format!("no source user has the userName or id '{who}'"),
        });
    };
    let assignments = assignments(source, spec).await?;
    if let Some(why) = crate::engine::scope::exclusion(spec.scope.mode, &assignments, &input.compiled.filter, &user) {
        return Ok(OnDemandOutcome {
            result: "OutOfScope",
            message: format!("'{}' is not in scope: {why:?}", user.label()),
        });
    }
    let mappings = mapping::effective(&input.compiled.mappings);
    let one = std::slice::from_ref(&user);
    let target_users = matching_target_users(target, one, input, &mappings)
        .await
        .map_err(CycleError::TargetRead)?;
    let plan = plan_cycle(input, one, false, &target_users, &assignments, &mappings);
    if let Some(skip) = plan.skips.first() {
        return Ok(OnDemandOutcome {
            result: "Skipped",
            message: format!("{}: {}", skip.reason.as_str(), skip.message),
        });
    }
    let Some(change) = plan.changes.into_iter().next() else {
        return Ok(OnDemandOutcome {
            result: "Unchanged",
            message: format!("'{}' is already up to date in the target", user.label()),
        });
    };
    let result = match &change {
        Change::Create { attributes, .. } => target
            .create_users(std::slice::from_ref(attributes))
            .await
            .pop()
            .unwrap_or(Err(DirectoryError::InvalidResponse("no result".into())))
            .map(|_| ()),
        Change::Adopt { target: t, changes, .. }
        | Change::Update { target: t, changes, .. }
        | Change::Restore { target: t, changes, .. } => target.update_user(t, changes).await,
        Change::Deprovision { .. } => Ok(()),
    };
    let done = match &change {
        Change::Create { .. } => "Created",
        Change::Adopt { .. } => "Adopted",
        Change::Update { .. } => "Updated",
        Change::Restore { .. } => "Restored",
        Change::Deprovision { .. } => "Unchanged",
    };
    Ok(match result {
        Ok(()) => OnDemandOutcome {
            result: done,
            message: format!("'{}' {} in the target", user.label(), done.to_lowercase()),
        },
        Err(e) => OnDemandOutcome {
            result: "Failed",
            message: format!("{} '{}': {e}", change.action(), user.label()),
        },
    })
}

/// Deprovisions every target user anchored to this source (`onConfigurationDelete:
/// Deprovision`). Returns how many; a failure is returned so the finalizer stays and retries.
pub async fn deprovision_all(
    target: &dyn Directory,
    source_tenant_id: &str,
    action: DeprovisionAction,
) -> Result<u32, DirectoryError> {
    let source_tenant = source_tenant_id.to_ascii_lowercase();
    let mut count = 0;
    for user in target.list_users().await? {
        if user.active() && user.anchor().is_some_and(|a| a.tenant_id == source_tenant) {
            target.deprovision_user(&(&user).into(), action).await?;
            count += 1;
        }
    }
    Ok(count)
}
