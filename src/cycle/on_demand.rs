//! Provisioning on demand (rule 11): one source user, now, with every rule of a cycle but
//! deprovisioning.

use super::{CycleError, CycleInput, read};
use crate::engine::plan::{self, Change, PlanInput};
use crate::engine::scope;
use crate::providers::{Directory, DirectoryError};

/// The answer to `xtsync.io/provision-on-demand`; the variant name is `status.onDemand.result`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum OnDemandResult {
    Created,
    Updated,
    Adopted,
    Restored,
    Unchanged,
    Skipped,
    /// `spec.dryRun`: the change was planned, not made.
    DryRun,
    OutOfScope,
    NotFound,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnDemandOutcome {
    pub result: OnDemandResult,
    pub message: String,
}

impl OnDemandOutcome {
    fn new(result: OnDemandResult, message: String) -> Self {
        OnDemandOutcome { result, message }
    }
}

/// Provisions the one source user named `who` (userName or id): the user's own plan is computed
/// against the target and applied.
pub async fn provision_on_demand(
    source: &dyn Directory,
    target: &dyn Directory,
    input: &CycleInput<'_>,
    who: &str,
) -> Result<OnDemandOutcome, CycleError> {
    let users = source.list_users().await.map_err(CycleError::SourceRead)?;
    let Some(user) = users
        .into_iter()
        .find(|u| u.id == who || u.user_name().eq_ignore_ascii_case(who))
    else {
        let message = format!("no source user has the userName or id '{who}'");
        return Ok(OnDemandOutcome::new(OnDemandResult::NotFound, message));
    };
    let assignments = read::assignments(source, input).await?;
    if let Some(why) = scope::exclusion(&input.rules.scope, &assignments, &user) {
        let message = format!("'{}' is not in scope: {why:?}", user.label());
        return Ok(OnDemandOutcome::new(OnDemandResult::OutOfScope, message));
    }
    let one = std::slice::from_ref(&user);
    let target_users = read::matching_target_users(target, one, input)
        .await
        .map_err(CycleError::TargetRead)?;
    let plan = plan::plan(&PlanInput {
        source_tenant_id: input.source_tenant_id,
        source: one,
        source_complete: false,
        target: &target_users,
        assignments: &assignments,
        rules: input.rules,
    });
    if let Some(skip) = plan.skips.first() {
        let message = format!("{}: {}", skip.reason.as_str(), skip.message);
        return Ok(OnDemandOutcome::new(OnDemandResult::Skipped, message));
    }
    let Some(change) = plan.changes.into_iter().next() else {
        let message = format!("'{}' is already up to date in the target", user.label());
        return Ok(OnDemandOutcome::new(OnDemandResult::Unchanged, message));
    };
    if input.dry_run {
        input.audit.record(super::audit::of_change(&change, &Ok(None)));
        let message = format!(
            "dry run: '{}' would be {}; nothing was written",
            user.label(),
            change.action().to_lowercase()
        );
        return Ok(OnDemandOutcome::new(OnDemandResult::DryRun, message));
    }
    let (done, result) = apply_one(target, &change).await;
    let result = result.map(|()| None);
    input.audit.record(super::audit::of_change(&change, &result));
    Ok(match result {
        Ok(_) => {
            let message = format!("'{}' {} in the target", user.label(), <&str>::from(done).to_lowercase());
            OnDemandOutcome::new(done, message)
        }
        Err(e) => {
            let message = format!("{} '{}': {e}", change.action(), user.label());
            OnDemandOutcome::new(OnDemandResult::Failed, message)
        }
    })
}

/// Writes one change; what it did on success.
async fn apply_one(target: &dyn Directory, change: &Change) -> (OnDemandResult, Result<(), DirectoryError>) {
    match change {
        Change::Create { attributes, .. } => {
            let created = target
                .create_users(std::slice::from_ref(attributes))
                .await
                .pop()
                .unwrap_or(Err(DirectoryError::InvalidResponse("no result".into())));
            (OnDemandResult::Created, created.map(|_| ()))
        }
        Change::Adopt { target: t, changes, .. } => (OnDemandResult::Adopted, target.update_user(t, changes).await),
        Change::Update { target: t, changes, .. } => (OnDemandResult::Updated, target.update_user(t, changes).await),
        Change::Restore { target: t, changes, .. } => (OnDemandResult::Restored, target.update_user(t, changes).await),
        // On demand never deprovisions (an out-of-scope user is answered above).
        Change::Deprovision { .. } => (OnDemandResult::Unchanged, Ok(())),
    }
}
