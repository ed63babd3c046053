//! Scope follows group membership in Incremental cycles (README "How a sync works"). A user
//! who joins an assigned group is not changed herself, so the users' change feed does not bring
//! her; nor does it bring a user who leaves every assigned group. Every cycle reads the assigned
//! groups' members whole, and status keeps a digest of them (`status.groupMembersDigest`).
//! When an Incremental cycle finds it changed, it reads the target whole and reads directly
//! each source user whose membership may have moved: a member of the groups without an active
//! provisioned user (joined), and a provisioned user no longer among their members (left).
//! Both are planned with the rest, against the complete membership just read: who joined is
//! provisioned; who left is deprovisioned only when her direct read shows her out of scope, or
//! the directory answers it with 404 — a failed read of a group or of a user fails the cycle,
//! which then deprovisions nothing.

use std::collections::HashSet;

use super::CycleInput;
use crate::engine::digest;
use crate::engine::scope::Assignments;
use crate::engine::user::User;
use crate::engine::vocabulary::ScopeMode;
use crate::providers::directory::with_removed;
use crate::providers::directory::{DirectoryError, SourceDirectory};

/// Users whose membership moved that an Incremental cycle reads one by one; above this it runs
/// as an Initial cycle (full reads of both sides) instead.
pub const DIRECT_READS_UP_TO: usize = 1000;

/// A digest of the members of the groups `scope.groups` names, as read this cycle; `None` when
/// the scope assigns no group (then group membership moves no one).
pub fn digest(input: &CycleInput<'_>, assignments: &Assignments) -> Option<String> {
    let scope = &input.rules.scope;
    if scope.mode != ScopeMode::AssignedUsersAndGroups || scope.groups.is_empty() {
        return None;
    }
    let mut members: Vec<&str> = assignments.group_members.iter().map(String::as_str).collect();
    members.sort_unstable();
    Some(format!("{:016x}", digest::fnv1a(members)))
}

/// The source users whose membership of the assigned groups may have moved since the last cycle.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Moved {
    /// Members without an active target user of this configuration.
    pub joined: Vec<String>,
    /// Active target users of this configuration whose source user is no member and not
    /// assigned by id.
    pub left: Vec<String>,
}

impl Moved {
    pub fn len(&self) -> usize {
        self.joined.len() + self.left.len()
    }
}

/// Who may have joined or left, from the whole `target`; users already among `changed` are
/// planned anyway and left out.
pub fn moved(target: &[User], assignments: &Assignments, input: &CycleInput<'_>, changed: &[User]) -> Moved {
    let tenant = input.source_tenant_id.to_ascii_lowercase();
    let provisioned: HashSet<String> = target
        .iter()
        .filter(|u| u.active() && !u.deleted)
        .filter_map(|u| u.anchor().filter(|a| a.tenant_id == tenant))
        .map(|a| a.user_id)
        .collect();
    let changed: HashSet<&str> = changed.iter().map(|u| u.id.as_str()).collect();
    let mut joined: Vec<String> = assignments
        .group_members
        .iter()
        .filter(|id| !provisioned.contains(*id) && !changed.contains(id.as_str()))
        .cloned()
        .collect();
    let mut left: Vec<String> = provisioned
        .into_iter()
        .filter(|id| {
            !assignments.group_members.contains(id)
                && !assignments.users.contains(&id.to_lowercase())
                && !changed.contains(id.as_str())
        })
        .collect();
    joined.sort_unstable();
    left.sort_unstable();
    Moved { joined, left }
}

/// The users of `moved` as direct reads find them. One who left and is not found is gone: she
/// joins as a deleted user, whom the plan deprovisions; a member not found is no user (a nested
/// group on SCIM) and is left out.
pub async fn read(source: &dyn SourceDirectory, moved: &Moved) -> Result<Vec<User>, DirectoryError> {
    let ids: Vec<String> = moved.joined.iter().chain(&moved.left).cloned().collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let users = source.read_users(&ids).await?;
    let found: HashSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
    let gone: Vec<String> = moved
        .left
        .iter()
        .filter(|id| !found.contains(id.as_str()))
        .cloned()
        .collect();
    Ok(with_removed(users, &gone))
}
