//! The groups of a cycle (README, "Groups"), after its users: the groups of `scope.groups` are read
//! from the source, the target's groups are read, `engine::groups` plans, and the changes are
//! applied — creations and restores first, then renames and members. The target users a group
//! may hold are those the users' pass left provisioned (`Members`), so a new member's target
//! user exists before it is added.
//!
//! A failed read of either side's groups fails the cycle before any group write; a scope
//! group not found, ambiguous or whose mapping failed makes the read incomplete, so no group
//! is deprovisioned. Deprovisioned groups count toward the deletion threshold.

mod apply;
mod members;

use std::collections::HashMap;

pub use members::Members;

use super::report::{CycleError, CycleReport, GroupReport, UnwrittenUser};
use super::{CycleInput, audit};
use crate::engine::groups::{self, GroupChange, GroupPlanInput, SourceGroup, TargetGroup};
use crate::engine::plan::Skip;
use crate::engine::rules::GroupRules;
use crate::engine::threshold::{self, Judgement};
use crate::engine::vocabulary::CycleAction;
use crate::engine::vocabulary::Membership;
use crate::engine::vocabulary::SkipReason;
use crate::providers::directory::{SourceDirectory, TargetDirectory};

/// Plans and applies the groups of `scope.groups` (when group provisioning is on); `only` one
/// of them, named by displayName or id (provisioning on demand), which deprovisions nothing.
pub async fn run(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    input: &CycleInput<'_>,
    members: &Members,
    report: &mut CycleReport,
    only: Option<&str>,
) -> Result<(), CycleError> {
    let Some(rules) = &input.rules.groups else {
        return Ok(());
    };
    // Only the changed groups — unless users of this configuration came or went (an unchanged
    // group may take them in or let them go) or nesting is flattened (a changed nested group
    // changes the groups above it).
    let since = input
        .groups_watermark
        .filter(|_| only.is_none() && !members.changed && rules.membership == Membership::Direct);
    let read = source.read_groups(since).await.map_err(CycleError::SourceRead)?;
    if !input.dry_run {
        report.groups_watermark = read.watermark.clone();
    }
    let mut out = GroupReport {
        full: read.full,
        ..GroupReport::default()
    };
    let changed_in_scope = read.groups.iter().any(|g| names_a_scope_group(input, g));
    if !read.full && !changed_in_scope {
        // Nothing to plan: no target read at all.
        report.groups = Some(out);
        return Ok(());
    }
    let (target_groups, whole) = futures::try_join!(
        async { target.list_groups().await.map_err(CycleError::TargetRead) },
        async {
            if members.whole {
                return Ok(None);
            }
            let users = target.list_users().await.map_err(CycleError::TargetRead)?;
            Ok(Some(members.completed_by(&users, input.source_tenant_id)))
        },
    )?;
    let members = whole.as_ref().unwrap_or(members);
    let mut found = in_scope(read.groups, input, rules, target.holds_group_description(), report);
    if !read.full {
        // Scope groups not among the changed ones are simply unchanged.
        found.complete = false;
    }
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
    skipped(&plan.skips, input, report);
    let deprovisions = held_to_threshold(plan.deprovisions, &target_groups, input, report);
    if !deprovisions.is_empty() && !input.dry_run && !input.deadline.begin_deprovisioning() {
        return Err(input.deadline.timed_out());
    }
    apply::all(
        target,
        input,
        plan.changes,
        deprovisions,
        &target_groups,
        &mut out,
        report,
    )
    .await;
    out.provisioned = apply::provisioned_after(&target_groups, input.source_tenant_id, &out);
    report.groups = Some(out);
    Ok(())
}

/// Groups of scope the plan skips: logged, and kept in the cycle's failures.
fn skipped(skips: &[groups::GroupSkip], input: &CycleInput<'_>, report: &mut CycleReport) {
    for skip in skips {
        let skip = Skip {
            user: format!("group:{}", skip.group),
            reason: skip.reason,
            message: skip.message.clone(),
        };
        input.audit.record(audit::of_skip(&skip));
        report.keep_failures([UnwrittenUser {
            user: skip.user,
            action: CycleAction::Skip,
            reason: skip.reason.as_str(),
            message: skip.message,
        }]);
    }
}

/// A group `scope.groups` names, by displayName or id.
fn names_a_scope_group(input: &CycleInput<'_>, group: &TargetGroup) -> bool {
    input
        .rules
        .scope
        .groups
        .iter()
        .any(|entry| *entry == group.id || group.display_name.eq_ignore_ascii_case(entry))
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
        report.keep_failures([UnwrittenUser {
            user: format!("group:{entry}"),
            action: CycleAction::Skip,
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
    target_groups: &[TargetGroup],
    input: &CycleInput<'_>,
    report: &mut CycleReport,
) -> Vec<GroupChange> {
    if deprovisions.is_empty() {
        return deprovisions;
    }
    // Ids (what the token digests) and names (what an approver reads): `group:<…>` each.
    let named: Vec<(String, String)> = deprovisions
        .iter()
        .map(|c| {
            let id = apply::target_of(c);
            let name = target_groups
                .iter()
                .find(|g| g.id == id)
                .map_or(id, |g| g.display_name.as_str());
            (format!("group:{id}"), format!("group:{name}"))
        })
        .collect();
    if let Some(held) = &mut report.withheld_deprovisions {
        // The users' deprovisionings are held: the groups' wait with them.
        held.count = held
            .count
            .saturating_add(deprovisions.len().try_into().unwrap_or(u32::MAX));
        held.names.extend(named.into_iter().map(|(_, name)| name));
        held.names.sort_unstable();
        return Vec::new();
    }
    let leaving: Vec<threshold::Leaving<'_>> = named.iter().map(|(id, name)| threshold::Leaving { id, name }).collect();
    let left = input
        .rules
        .deprovision
        .threshold
        .saturating_sub(report.deprovisioned as usize);
    match threshold::judge(&leaving, left, input.approval) {
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
