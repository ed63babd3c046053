//! The plan of a cycle's groups (README, "Groups"): which groups of `scope.groups` to create,
//! rename, restore or deprovision in the target, and which members to add or remove. Pure,
//! like the users' plan; it runs after the users' changes are applied, so that it knows the
//! target id of every user this configuration provisioned.
//!
//! A target group is this configuration's by its anchor (`<sourceTenantId>/<sourceGroupId>`);
//! a same-named group without one is never adopted or changed. Its members are exactly the
//! target users this configuration provisioned from the source group's members — direct, or
//! through nested groups with `Transitive` — and no other member is ever added or removed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::anchor::Anchor;
use super::evaluate::{EvalError, evaluate};
use super::mapping::{Mapping, MappingValue};
use super::user::User;
use super::vocabulary::{DeprovisionAction, Membership, SkipReason};

/// The attributes of a group that mappings read and write.
pub const GROUP_ATTRIBUTES: [&str; 2] = ["displayName", "description"];

/// A group of the source as read: its direct members, users and groups, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceGroup {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    pub members: Vec<String>,
}

/// A group of the target as read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetGroup {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    /// The anchor, for groups xtsync provisioned (SCIM `externalId`).
    pub external_id: Option<String>,
    /// Member ids (target users).
    pub members: BTreeSet<String>,
    /// Deprovisioned (deleted, restorable): returning to scope restores it.
    pub deleted: bool,
    /// The directory's version of the group (SCIM `meta.version`), to tell a group read again
    /// unchanged.
    pub version: Option<String>,
}

impl From<TargetGroup> for SourceGroup {
    /// A group as a directory lists it, read as a source group (its members in listed order).
    fn from(group: TargetGroup) -> Self {
        SourceGroup {
            id: group.id,
            display_name: group.display_name,
            description: group.description,
            members: group.members.into_iter().collect(),
        }
    }
}

/// What the source group becomes in the target: `mappings` (targets `displayName`,
/// `description`) over its attributes; none copies both. A mapping that yields nothing
/// clears the attribute, but a group always keeps a displayName.
pub fn mapped(group: &SourceGroup, mappings: &[Mapping]) -> Result<SourceGroup, EvalError> {
    let mut source = User {
        id: group.id.clone(),
        ..User::default()
    };
    source.attributes.insert("displayName", group.display_name.clone());
    if let Some(description) = &group.description {
        source.attributes.insert("description", description.clone());
    }
    let mut out = group.clone();
    for mapping in mappings {
        let value = match &mapping.value {
            MappingValue::Source(attribute) => source.get(attribute).map(str::to_owned),
            MappingValue::Constant(constant) => Some(constant.clone()),
            MappingValue::Expression(expr) => evaluate(expr, &source)?,
        }
        .filter(|v| !v.is_empty());
        match mapping.target {
            "description" => out.description = value,
            _ => out.display_name = value.unwrap_or_else(|| group.display_name.clone()),
        }
    }
    Ok(out)
}

/// Attribute of a group → new value (`None` clears it).
pub type GroupChanges = BTreeMap<&'static str, Option<String>>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupChange {
    Create {
        source: String,
        display_name: String,
        description: Option<String>,
        anchor: String,
        members: BTreeSet<String>,
    },
    /// A rename or a new description: one write.
    Update {
        target: String,
        changes: GroupChanges,
    },
    Restore {
        target: String,
    },
    AddMembers {
        target: String,
        members: BTreeSet<String>,
    },
    RemoveMembers {
        target: String,
        members: BTreeSet<String>,
    },
    /// SoftDelete deletes the group; Disable keeps it and removes xtsync's members (planned as
    /// `RemoveMembers`); None leaves it.
    Delete {
        target: String,
    },
}

/// A group of scope that is not provisioned, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSkip {
    pub group: String,
    pub reason: SkipReason,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupPlan {
    pub changes: Vec<GroupChange>,
    pub skips: Vec<GroupSkip>,
    pub unchanged: u32,
    /// Groups leaving the target (`Delete`, or with Disable `RemoveMembers` of all of
    /// xtsync's members): apart, because they count toward the deletion threshold.
    pub deprovisions: Vec<GroupChange>,
}

pub struct GroupPlanInput<'a> {
    pub source_tenant_id: &'a str,
    /// The groups named in `scope.groups`, as found in the source.
    pub in_scope: &'a [SourceGroup],
    /// Every source group that may be nested in them, by id (for `Transitive`).
    pub nested: &'a HashMap<String, SourceGroup>,
    pub target: &'a [TargetGroup],
    /// Source user id → target user id, for the active users this configuration provisioned.
    pub provisioned: &'a HashMap<String, String>,
    /// Every target user this configuration provisioned, active or not: the only members a
    /// plan may add or remove.
    pub ours: &'a HashSet<String>,
    pub membership: Membership,
    /// The source's groups were read completely: groups of ours not in scope may go.
    pub source_complete: bool,
    pub action: DeprovisionAction,
}

pub fn plan(input: &GroupPlanInput<'_>) -> GroupPlan {
    let tenant = input.source_tenant_id.to_ascii_lowercase();
    let anchored: HashMap<String, &TargetGroup> = input
        .target
        .iter()
        .filter_map(|g| {
            let anchor = Anchor::parse(g.external_id.as_deref()?)?;
            (anchor.tenant_id == tenant).then_some((anchor.user_id, g))
        })
        .collect();
    let mut plan = GroupPlan::default();
    for group in input.in_scope {
        let desired = desired_members(group, input);
        let Some(existing) = anchored.get(&group.id) else {
            let same_name = input
                .target
                .iter()
                .find(|t| !t.deleted && t.display_name.eq_ignore_ascii_case(&group.display_name));
            if let Some(other) = same_name {
                plan.skips.push(GroupSkip {
                    group: group.display_name.clone(),
                    reason: SkipReason::ConflictsWithExistingGroup,
                    message: format!(
                        "target group '{}' ({}) has the same displayName and was not provisioned by this configuration; it is never adopted or changed",
                        other.display_name, other.id
                    ),
                });
                continue;
            }
            plan.changes.push(GroupChange::Create {
                source: group.id.clone(),
                display_name: group.display_name.clone(),
                description: group.description.clone(),
                anchor: Anchor::new(&tenant, &group.id).to_string(),
                members: desired,
            });
            continue;
        };
        let before = plan.changes.len();
        if existing.deleted {
            plan.changes.push(GroupChange::Restore {
                target: existing.id.clone(),
            });
        }
        let mut changes = GroupChanges::new();
        if existing.display_name != group.display_name {
            changes.insert("displayName", Some(group.display_name.clone()));
        }
        if existing.description != group.description {
            changes.insert("description", group.description.clone());
        }
        if !changes.is_empty() {
            plan.changes.push(GroupChange::Update {
                target: existing.id.clone(),
                changes,
            });
        }
        plan.changes.extend(membership_changes(existing, &desired, input.ours));
        if plan.changes.len() == before {
            plan.unchanged += 1;
        }
    }
    if input.source_complete {
        deprovision_left(input, &anchored, &mut plan);
    }
    plan
}

/// Groups of ours whose source group is no longer in scope (or gone) leave the target.
fn deprovision_left(input: &GroupPlanInput<'_>, anchored: &HashMap<String, &TargetGroup>, plan: &mut GroupPlan) {
    let in_scope: HashSet<&str> = input.in_scope.iter().map(|g| g.id.as_str()).collect();
    let mut leaving: Vec<&&TargetGroup> = anchored
        .iter()
        .filter(|(source, group)| !in_scope.contains(source.as_str()) && !group.deleted)
        .map(|(_, group)| group)
        .collect();
    leaving.sort_by(|a, b| a.id.cmp(&b.id));
    for group in leaving {
        match input.action {
            DeprovisionAction::None => {}
            DeprovisionAction::SoftDelete => {
                plan.deprovisions.push(GroupChange::Delete {
                    target: group.id.clone(),
                });
            }
            DeprovisionAction::Disable => {
                let ours: BTreeSet<String> = group
                    .members
                    .iter()
                    .filter(|m| input.ours.contains(*m))
                    .cloned()
                    .collect();
                if !ours.is_empty() {
                    plan.deprovisions.push(GroupChange::RemoveMembers {
                        target: group.id.clone(),
                        members: ours,
                    });
                }
            }
        }
    }
}

/// The adds and removes that make `existing`'s members of ours exactly `desired`.
fn membership_changes(existing: &TargetGroup, desired: &BTreeSet<String>, ours: &HashSet<String>) -> Vec<GroupChange> {
    let add: BTreeSet<String> = desired.difference(&existing.members).cloned().collect();
    let remove: BTreeSet<String> = existing
        .members
        .iter()
        .filter(|m| ours.contains(*m) && !desired.contains(*m))
        .cloned()
        .collect();
    let mut changes = Vec::new();
    if !add.is_empty() {
        changes.push(GroupChange::AddMembers {
            target: existing.id.clone(),
            members: add,
        });
    }
    if !remove.is_empty() {
        changes.push(GroupChange::RemoveMembers {
            target: existing.id.clone(),
            members: remove,
        });
    }
    changes
}

/// The target users this configuration provisioned from the group's members: direct ones, or
/// with `Transitive` those of nested groups too (each group once, so a cycle of nesting ends).
fn desired_members(group: &SourceGroup, input: &GroupPlanInput<'_>) -> BTreeSet<String> {
    let mut members = BTreeSet::new();
    let mut visited: HashSet<&str> = HashSet::from([group.id.as_str()]);
    let mut pending: Vec<&SourceGroup> = vec![group];
    while let Some(current) = pending.pop() {
        for member in &current.members {
            if let Some(target) = input.provisioned.get(member) {
                members.insert(target.clone());
            } else if input.membership == Membership::Transitive
                && let Some(nested) = input.nested.get(member)
                && visited.insert(nested.id.as_str())
            {
                pending.push(nested);
            }
        }
    }
    members
}

#[cfg(test)]
mod tests;
