//! The groups of a cycle (issue Groups), after its users: the groups of `scope.groups` are read
//! from the source, the target's groups are read, `engine::groups` plans, and the changes are
//! applied — creations and restores first, then renames and members. The target users a group
//! may hold are those the users' pass left provisioned (`Members`), so a new member's target
//! user exists before it is added.
//!
//! A failed read of either side's groups fails the cycle before any group write; a scope
//! group not found, ambiguous or whose mapping failed makes the read incomplete, so no group
//! is deprovisioned. Deprovisioned groups count toward the deletion threshold.

use std::collections::{HashMap, HashSet};

use super::CycleInput;
use super::report::{CycleError, CycleReport, GroupReport, SKIP, UserFailure};
use crate::engine::anchor::Anchor;
use crate::engine::groups::{self, GroupChange, GroupPlanInput, SourceGroup, TargetGroup};
use crate::engine::plan::{Change, SkipReason};
use crate::engine::rules::GroupRules;
use crate::engine::threshold::{self, Judgement};
use crate::engine::user::User;
use crate::providers::{Directory, DirectoryError};

/// The target users this configuration provisioned, as group memberships need them: kept up
/// to date by the users' pass as its writes land.
#[derive(Debug, Default)]
pub struct Members {
    /// Source user id → target user id, of the active ones.
    active: HashMap<String, String>,
    /// Target user id → source user id, of the active ones.
    by_target: HashMap<String, String>,
    /// Every target user anchored to this source, active or not: the only members a group
    /// change may add or remove.
    ours: HashSet<String>,
}

impl Members {
    /// The target users anchored to `source_tenant` among `target`.
    pub fn of(target: &[User], source_tenant: &str) -> Members {
        let tenant = source_tenant.to_ascii_lowercase();
        let mut members = Members::default();
        for user in target {
            let Some(anchor) = user.anchor().filter(|a| a.tenant_id == tenant) else {
                continue;
            };
            members.ours.insert(user.id.clone());
            if user.active() {
                members.activate(anchor.user_id, user.id.clone());
            }
        }
        members
    }

    fn activate(&mut self, source: String, target: String) {
        self.ours.insert(target.clone());
        self.by_target.insert(target.clone(), source.clone());
        self.active.insert(source, target);
    }

    /// What a user change that landed means for memberships.
    pub fn record(&mut self, change: &Change, result: &Result<Option<String>, DirectoryError>) {
        match (change, result) {
            (Change::Create { source, .. }, Ok(Some(id))) => self.activate(source.clone(), id.clone()),
            (Change::Adopt { source, target, .. } | Change::Restore { source, target, .. }, Ok(_)) => {
                self.activate(source.clone(), target.id.clone())
            }
            (Change::Deprovision { target }, Ok(_)) => {
                if let Some(source) = self.by_target.remove(&target.id) {
                    self.active.remove(&source);
                }
            }
            _ => {}
        }
    }
}

/// Plans and applies the groups of `scope.groups` (when group provisioning is on); `only` one
/// of them, named by displayName or id (provisioning on demand), which deprovisions nothing.
pub async fn run(
    source: &dyn Directory,
    target: &dyn Directory,
    input: &CycleInput<'_>,
    members: &Members,
    report: &mut CycleReport,
    only: Option<&str>,
) -> Result<(), CycleError> {
    let Some(rules) = &input.rules.groups else {
        return Ok(());
    };
    let (source_groups, target_groups) = futures::try_join!(
        async { source.list_groups().await.map_err(CycleError::SourceRead) },
        async { target.list_groups().await.map_err(CycleError::TargetRead) },
    )?;
    let mut out = GroupReport::default();
    let mut found = in_scope(source_groups, input, rules, target.holds_group_description(), report);
    if let Some(who) = only {
        let named = |g: &SourceGroup| g.id == who || g.display_name.eq_ignore_ascii_case(who);
        let all = &found.all;
        // By its name in the source, or as mapped into the target.
        found.groups.retain(|g| named(g) || all.get(&g.id).is_some_and(named));
        found.complete = false;
    }
    out.in_scope = found.groups.len().try_into().unwrap_or(u32::MAX);
    let plan = groups::plan(&GroupPlanInput {
        source_tenant_id: input.source_tenant_id,
        in_scope: &found.groups,
        nested: &found.all,
        target: &target_groups,
        provisioned: &members.active,
        ours: &members.ours,
        membership: rules.membership,
        source_complete: found.complete,
        action: input.rules.deprovision.action,
    });
    out.unchanged = plan.unchanged;
    report.keep_failures(plan.skips.iter().map(|skip| UserFailure {
        user: format!("group:{}", skip.group),
        action: SKIP,
        reason: skip.reason.as_str(),
        message: skip.message.clone(),
    }));
    let deprovisions = held_to_threshold(plan.deprovisions, input, report);
    let names: HashMap<&str, &str> = target_groups
        .iter()
        .map(|g| (g.id.as_str(), g.display_name.as_str()))
        .collect();
    // Creations and restores first: a restored group takes renames and members after.
    let (first, then): (Vec<GroupChange>, Vec<GroupChange>) = plan
        .changes
        .into_iter()
        .partition(|c| matches!(c, GroupChange::Create { .. } | GroupChange::Restore { .. }));
    for wave in [first, then] {
        let results = if input.dry_run {
            wave.iter().map(|_| Ok(None)).collect()
        } else {
            target.apply_group_changes(&wave).await
        };
        for (change, result) in wave.iter().zip(results) {
            count(&mut out, report, change, result, false, &names);
        }
    }
    let results = if input.dry_run {
        deprovisions.iter().map(|_| Ok(None)).collect()
    } else {
        target.apply_group_changes(&deprovisions).await
    };
    for (change, result) in deprovisions.iter().zip(results) {
        count(&mut out, report, change, result, true, &names);
    }
    out.provisioned = provisioned_after(&target_groups, input.source_tenant_id, &out);
    report.groups = Some(out);
    Ok(())
}

/// The source groups `scope.groups` names, mapped, and every source group by id (for nesting).
struct Found {
    groups: Vec<SourceGroup>,
    all: HashMap<String, SourceGroup>,
    /// Every named group was found once and mapped: groups of ours not among them may go.
    complete: bool,
}

/// A scope entry names a group by displayName, or else by id (as the users' scope reads it).
fn in_scope(
    listed: Vec<TargetGroup>,
    input: &CycleInput<'_>,
    rules: &GroupRules,
    description: bool,
    report: &mut CycleReport,
) -> Found {
    let all: HashMap<String, SourceGroup> = listed
        .into_iter()
        .map(|g| (g.id.clone(), SourceGroup::from(g)))
        .collect();
    let mut found = Found {
        groups: Vec::new(),
        all: HashMap::new(),
        complete: true,
    };
    let mut problem = |entry: &str, reason: SkipReason, message: String| {
        report.keep_failures([UserFailure {
            user: format!("group:{entry}"),
            action: SKIP,
            reason: reason.as_str(),
            message,
        }]);
    };
    for entry in &input.rules.scope.groups {
        let by_name: Vec<&SourceGroup> = all
            .values()
            .filter(|g| g.display_name.eq_ignore_ascii_case(entry))
            .collect();
        let group = match by_name.as_slice() {
            [one] => *one,
            [] => match all.get(entry) {
                Some(group) => group,
                None => {
                    found.complete = false;
                    continue;
                }
            },
            _ => {
                found.complete = false;
                problem(
                    entry,
                    SkipReason::AmbiguousMatch,
                    format!("several source groups are named '{entry}'; none is provisioned, none deprovisioned"),
                );
                continue;
            }
        };
        if found.groups.iter().any(|g| g.id == group.id) {
            continue;
        }
        match groups::mapped(group, &rules.mappings) {
            Ok(mut mapped) => {
                if !description {
                    mapped.description = None;
                }
                found.groups.push(mapped);
            }
            Err(e) => {
                found.complete = false;
                problem(entry, SkipReason::MappingFailed, e.to_string());
            }
        }
    }
    found.all = all;
    found
}

/// Group deprovisionings count toward `accidentalDeletionThreshold` with the users'; held
/// ones are reported as pending, like users'.
fn held_to_threshold(
    deprovisions: Vec<GroupChange>,
    input: &CycleInput<'_>,
    report: &mut CycleReport,
) -> Vec<GroupChange> {
    if deprovisions.is_empty() {
        return deprovisions;
    }
    if let Some(held) = &mut report.withheld_deprovisions {
        // The users' deprovisionings are held: the groups' wait with them.
        held.count = held
            .count
            .saturating_add(deprovisions.len().try_into().unwrap_or(u32::MAX));
        return Vec::new();
    }
    let ids: Vec<String> = deprovisions.iter().map(|c| format!("group:{}", target_of(c))).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let left = input
        .rules
        .deprovision
        .threshold
        .saturating_sub(report.deprovisioned as usize);
    match threshold::judge(&ids, left, input.approval) {
        Judgement::Within => deprovisions,
        Judgement::Approved(token) => {
            report.approval_used = Some(token);
            deprovisions
        }
        Judgement::Held(held) => {
            report.withheld_deprovisions = Some(held);
            Vec::new()
        }
    }
}

fn target_of(change: &GroupChange) -> &str {
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
            let label = match change {
                GroupChange::Create { display_name, .. } => display_name.as_str(),
                other => names.get(target_of(other)).copied().unwrap_or(target_of(other)),
            };
            tracing::warn!(group = label, action, reason = error.reason(), %error, "group write failed");
            report.keep_failures([UserFailure {
                user: format!("group:{label}"),
                action,
                reason: error.reason(),
                message: error.to_string(),
            }]);
        }
    }
}

/// The action a group change is, in `status.failures` and metrics.
pub fn action(change: &GroupChange, deprovision: bool) -> &'static str {
    match change {
        _ if deprovision => "DeprovisionGroup",
        GroupChange::Create { .. } => "CreateGroup",
        GroupChange::Update { .. } => "UpdateGroup",
        GroupChange::Restore { .. } => "RestoreGroup",
        GroupChange::AddMembers { .. } => "AddMembers",
        GroupChange::RemoveMembers { .. } => "RemoveMembers",
        GroupChange::Delete { .. } => "DeprovisionGroup",
    }
}

/// Groups of this source active in the target after the cycle.
fn provisioned_after(target: &[TargetGroup], source_tenant: &str, out: &GroupReport) -> u32 {
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
