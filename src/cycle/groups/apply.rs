//! The write half of the groups' step: a plan's changes sent to the target — creations and
//! restores first, then renames and members, then deprovisionings — and every result counted.

use std::collections::HashMap;

use super::super::report::{CycleReport, GroupReport, UnwrittenUser};
use super::super::{CycleInput, audit};
use crate::engine::anchor::Anchor;
use crate::engine::groups::{GroupChange, TargetGroup};
use crate::engine::vocabulary::{CycleAction, GroupAction};
use crate::providers::directory::{DirectoryError, TargetDirectory};

/// Sends the plan's `changes`, then the `deprovisions` the threshold let through.
pub async fn all(
    target: &dyn TargetDirectory,
    input: &CycleInput<'_>,
    changes: Vec<GroupChange>,
    deprovisions: Vec<GroupChange>,
    target_groups: &[TargetGroup],
    out: &mut GroupReport,
    report: &mut CycleReport,
) {
    let names: HashMap<&str, &str> = target_groups
        .iter()
        .map(|g| (g.id.as_str(), g.display_name.as_str()))
        .collect();
    // Creations and restores first: a restored group takes renames and members after.
    let (first, then): (Vec<GroupChange>, Vec<GroupChange>) = changes
        .into_iter()
        .partition(|c| matches!(c, GroupChange::Create { .. } | GroupChange::Restore { .. }));
    for (wave, deprovision) in [(first, false), (then, false), (deprovisions, true)] {
        let results = if input.dry_run {
            wave.iter().map(|_| Ok(None)).collect()
        } else {
            target.apply_group_changes(&wave).await
        };
        for (change, result) in wave.iter().zip(results) {
            input.audit.record(record(change, &result, deprovision, &names));
            count(out, report, change, result, deprovision, &names);
        }
    }
}

/// The group in words: its displayName (as planned, or as the target lists it), else its id.
fn label<'a>(change: &'a GroupChange, names: &HashMap<&str, &'a str>) -> &'a str {
    match change {
        GroupChange::Create { display_name, .. } => display_name,
        other => names.get(target_of(other)).copied().unwrap_or(target_of(other)),
    }
}

/// The provisioning log's record of a group change (`userName` is `group:<displayName>`);
/// members count as the one attribute `members`, never their ids.
fn record(
    change: &GroupChange,
    result: &Result<Option<String>, DirectoryError>,
    deprovision: bool,
    names: &HashMap<&str, &str>,
) -> audit::Record {
    let (source_id, target_id, changed): (Option<String>, Option<String>, Vec<&'static str>) = match change {
        GroupChange::Create {
            source, description, ..
        } => {
            let mut changed = vec!["displayName", "externalId", "members"];
            if description.is_some() {
                changed.push("description");
            }
            (Some(source.clone()), None, changed)
        }
        GroupChange::Update { target, changes } => (None, Some(target.clone()), changes.keys().copied().collect()),
        GroupChange::AddMembers { target, .. } | GroupChange::RemoveMembers { target, .. } => {
            (None, Some(target.clone()), vec!["members"])
        }
        GroupChange::Restore { target } | GroupChange::Delete { target } => (None, Some(target.clone()), Vec::new()),
    };
    let (outcome, target_id, reason, message) = match result {
        Ok(created) => (audit::ActionResult::Success, created.clone().or(target_id), None, None),
        Err(error) => (
            audit::ActionResult::Failure,
            target_id,
            Some(error.reason()),
            Some(error.to_string()),
        ),
    };
    audit::Record {
        action: CycleAction::Group(action(change, deprovision)),
        source_id,
        target_id,
        user_name: format!("group:{}", label(change, names)),
        changed_attributes: changed,
        values: Vec::new(),
        result: outcome,
        reason,
        message,
    }
}

pub fn target_of(change: &GroupChange) -> &str {
    match change {
        GroupChange::Create { source, .. } => source,
        GroupChange::Update { target, .. }
        | GroupChange::Restore { target }
        | GroupChange::AddMembers { target, .. }
        | GroupChange::RemoveMembers { target, .. }
        | GroupChange::Delete { target } => target,
    }
}

/// Counts one group change's result into the groups' report; a failure also into the cycle's
/// failures.
fn count(
    out: &mut GroupReport,
    report: &mut CycleReport,
    change: &GroupChange,
    result: Result<Option<String>, DirectoryError>,
    deprovision: bool,
    names: &HashMap<&str, &str>,
) {
    let size = |members: &std::collections::BTreeSet<String>| u32::try_from(members.len()).unwrap_or(u32::MAX);
    let action = action(change, deprovision);
    match result {
        Ok(_) => match change {
            GroupChange::Create { members, .. } => {
                out.created += 1;
                out.members_added += size(members);
            }
            GroupChange::Update { .. } => out.updated += 1,
            GroupChange::Restore { .. } => {
                out.updated += 1;
                out.restored += 1;
            }
            GroupChange::AddMembers { members, .. } => out.members_added += size(members),
            GroupChange::RemoveMembers { members, .. } => {
                out.members_removed += size(members);
                if deprovision {
                    out.deprovisioned += 1;
                }
            }
            GroupChange::Delete { .. } => out.deprovisioned += 1,
        },
        Err(error) => {
            out.failed += 1;
            *out.failed_by_action.entry(action).or_default() += 1;
            let label = label(change, names);
            tracing::warn!(group = label, action = action.as_str(), reason = error.reason(), %error, "group write failed");
            report.keep_failures([UnwrittenUser {
                user: format!("group:{label}"),
                action: CycleAction::Group(action),
                reason: error.reason(),
                message: error.to_string(),
            }]);
        }
    }
}

/// The action a group change is, in `status.failures` and metrics.
pub fn action(change: &GroupChange, deprovision: bool) -> GroupAction {
    match change {
        _ if deprovision => GroupAction::DeprovisionGroup,
        GroupChange::Create { .. } => GroupAction::CreateGroup,
        GroupChange::Update { .. } => GroupAction::UpdateGroup,
        GroupChange::Restore { .. } => GroupAction::RestoreGroup,
        GroupChange::AddMembers { .. } => GroupAction::AddMembers,
        GroupChange::RemoveMembers { .. } => GroupAction::RemoveMembers,
        GroupChange::Delete { .. } => GroupAction::DeprovisionGroup,
    }
}

/// Groups of this source active in the target after the cycle.
pub fn provisioned_after(target: &[TargetGroup], source_tenant: &str, out: &GroupReport) -> u32 {
    let tenant = source_tenant.to_ascii_lowercase();
    let before = target
        .iter()
        .filter(|g| !g.deleted)
        .filter(|g| {
            g.external_id
                .as_deref()
                .and_then(Anchor::parse)
                .is_some_and(|a| a.tenant_id == tenant)
        })
        .count();
    let before = u32::try_from(before).unwrap_or(u32::MAX);
    // A Disable leaves the group in the target: only deletions take groups away.
    (before + out.created + out.restored).saturating_sub(out.deprovisioned)
}
