//! Provisioning on demand (rule 11): one source user, now, with every rule of a cycle but
//! deprovisioning.

use super::{CycleError, CycleInput, CycleReport, groups, read};
use crate::engine::plan::{self, Change, PlanInput};
use crate::engine::scope;
use crate::engine::vocabulary::{CycleAction, SkipReason};
use crate::providers::directory::{DirectoryError, SourceDirectory, TargetDirectory};

/// The answer to `xtsync.io/provision-on-demand`; the variant name is `status.onDemand.result`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum OnDemandVerdict {
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
    pub result: OnDemandVerdict,
    pub message: String,
}

impl OnDemandOutcome {
    fn new(result: OnDemandVerdict, message: String) -> Self {
        OnDemandOutcome { result, message }
    }
}

/// What an on-demand request names: the request without its nonce. A request is
/// `<userName or id>` or `group:<displayName or id>`, optionally followed by `#<nonce>` — one to
/// 63 letters, digits, `.`, `-` or `_` after the last `#` — so that the same user can be asked
/// for again with a new value (README, "Annotations"). Anything else after a `#` is part of the
/// name (a Graph guest's `…#EXT#@…`); a name that itself ends in `#<letters>` is given with a
/// nonce of its own (`bob#1#n2`).
pub fn subject(request: &str) -> &str {
    let Some((name, nonce)) = request.rsplit_once('#') else {
        return request;
    };
    let is_nonce = (1..=63).contains(&nonce.len())
        && nonce
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if is_nonce && !name.is_empty() { name } else { request }
}

/// Answers the request `request` (see [`subject`]): the one source user it names (userName or
/// id) has its own plan computed against the target, and applied.
pub async fn provision_on_demand(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    input: &CycleInput<'_>,
    request: &str,
) -> Result<OnDemandOutcome, CycleError> {
    let who = subject(request);
    if let Some(group) = who.strip_prefix(GROUP_PREFIX) {
        return group_on_demand(source, target, input, group.trim()).await;
    }
    // One look-up, never a listing of the source: on demand answers at once whatever its size.
    let Some(user) = source.find_user(who).await.map_err(CycleError::SourceRead)? else {
        let message = format!("no source user has the userName or id '{who}'");
        return Ok(OnDemandOutcome::new(OnDemandVerdict::NotFound, message));
    };
    let assignments = read::assignments(source, input).await?;
    if let Some(why) = scope::exclusion(&input.rules.scope, &assignments, &user) {
        let message = format!("'{}' is not in scope: {why:?}", user.label());
        return Ok(OnDemandOutcome::new(OnDemandVerdict::OutOfScope, message));
    }
    let one = std::slice::from_ref(&user);
    let target_users = read::matching_target_users(target, one, input)
        .await
        .map_err(CycleError::TargetRead)?;
    let plan = plan::plan(&PlanInput {
        source_tenant_id: input.source_tenant_id,
        source_domains: &read::source_domains(source, input).await,
        source: one,
        source_complete: false,
        target: &target_users,
        assignments: &assignments,
        rules: input.rules,
    });
    if let Some(skip) = plan.skips.first() {
        let message = format!("{}: {}", skip.reason.as_str(), skip.message);
        return Ok(OnDemandOutcome::new(OnDemandVerdict::Skipped, message));
    }
    if let Some(held) = plan.disabled.first() {
        // In a dry run too: a switched-off action would not be made by a real one either.
        let record = super::audit::of_disabled(held);
        let message = format!(
            "{}: '{}': {}",
            SkipReason::ActionDisabled.as_str(),
            user.label(),
            record.message.as_deref().unwrap_or_default()
        );
        input.audit.record(record);
        return Ok(OnDemandOutcome::new(OnDemandVerdict::Skipped, message));
    }
    let Some(change) = plan.changes.into_iter().next() else {
        let message = format!("'{}' is already up to date in the target", user.label());
        return Ok(OnDemandOutcome::new(OnDemandVerdict::Unchanged, message));
    };
    if input.dry_run {
        input.audit.record(super::audit::of_change(&change, &Ok(None)));
        let message = format!(
            "dry run: '{}' would be {}; nothing was written",
            user.label(),
            super::audit::user_action(&change).as_str().to_lowercase()
        );
        return Ok(OnDemandOutcome::new(OnDemandVerdict::DryRun, message));
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
            let message = format!(
                "{} '{}': {e}",
                super::audit::user_action(&change).as_str(),
                user.label()
            );
            OnDemandOutcome::new(OnDemandVerdict::Failed, message)
        }
    })
}

/// What names a group in `xtsync.io/provision-on-demand`: `group:<displayName or id>`.
pub const GROUP_PREFIX: &str = "group:";

/// Provisions one group of `scope.groups` now (group provisioning): created or brought up to
/// date with the members this configuration already provisioned; nothing is deprovisioned.
async fn group_on_demand(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    input: &CycleInput<'_>,
    group: &str,
) -> Result<OnDemandOutcome, CycleError> {
    if input.rules.groups.is_none() {
        let message = format!("'{group}' is a group, and groupProvisioning is not enabled");
        return Ok(OnDemandOutcome::new(OnDemandVerdict::OutOfScope, message));
    }
    // None of the target's users known yet: the group step reads them, with its groups.
    let members = groups::Members::of(&[], input.source_tenant_id, false);
    let mut report = CycleReport {
        dry_run: input.dry_run,
        ..CycleReport::default()
    };
    groups::run(source, target, input, &members, &mut report, Some(group)).await?;
    let done = report.groups.unwrap_or_default();
    let (result, what) = if done.in_scope == 0 {
        (
            OnDemandVerdict::OutOfScope,
            "is not a group of scope.groups found in the source".to_owned(),
        )
    } else if let Some(failure) = report.failures.first() {
        let result = if failure.action == CycleAction::Skip {
            OnDemandVerdict::Skipped
        } else {
            OnDemandVerdict::Failed
        };
        (result, format!("{}: {}", failure.reason, failure.message))
    } else if input.dry_run {
        (OnDemandVerdict::DryRun, "was planned; nothing was written".to_owned())
    } else if done.created > 0 {
        (
            OnDemandVerdict::Created,
            format!("created with {} members", done.members_added),
        )
    } else if done.updated > 0 || done.members_added > 0 || done.members_removed > 0 {
        let changes = format!("{} members added, {} removed", done.members_added, done.members_removed);
        (OnDemandVerdict::Updated, format!("updated: {changes}"))
    } else {
        (
            OnDemandVerdict::Unchanged,
            "is already up to date in the target".to_owned(),
        )
    };
    Ok(OnDemandOutcome::new(result, format!("group '{group}' {what}")))
}

/// Writes one change; what it did on success.
async fn apply_one(target: &dyn TargetDirectory, change: &Change) -> (OnDemandVerdict, Result<(), DirectoryError>) {
    match change {
        Change::Create { attributes, .. } => {
            let created = super::creations::create(target, std::slice::from_ref(attributes))
                .await
                .pop()
                .unwrap_or(Err(DirectoryError::InvalidResponse("no result".into())));
            (OnDemandVerdict::Created, created.map(|_| ()))
        }
        Change::Adopt { target: t, changes, .. } => (OnDemandVerdict::Adopted, target.update_user(t, changes).await),
        Change::Update { target: t, changes, .. } => (OnDemandVerdict::Updated, target.update_user(t, changes).await),
        Change::Restore { target: t, changes, .. } => (OnDemandVerdict::Restored, target.update_user(t, changes).await),
        // On demand never deprovisions (an out-of-scope user is answered above).
        Change::Deprovision { .. } => (OnDemandVerdict::Unchanged, Ok(())),
    }
}
