//! The in-memory directory's groups: listed whole, changed one at a time, as a SCIM server's
//! `/Groups` (RFC 7644 §3.5.2: members added and removed by PATCH).

use super::{MemoryDirectory, Request, State};
use crate::engine::groups::{GroupChange, TargetGroup};
use crate::providers::directory::DirectoryError;

impl MemoryDirectory {
    /// Every group, each with its members; the faults of group reads apply.
    pub(super) fn groups_listed(&self) -> Result<Vec<TargetGroup>, DirectoryError> {
        let mut state = self.state();
        state.read(Request::ListGroups)?;
        if let Some(fault) = state.faults.groups {
            return Err(fault.error());
        }
        Ok(state.groups.values().cloned().collect())
    }
}

impl State {
    /// The group a test or a cycle names by id or by displayName.
    pub(super) fn named_group(&self, name: &str) -> Option<&TargetGroup> {
        self.groups
            .get(name)
            .or_else(|| self.groups.values().find(|g| g.display_name.eq_ignore_ascii_case(name)))
    }

    /// Makes one change; the id of a created group.
    pub(super) fn change_group(&mut self, change: &GroupChange) -> Result<Option<String>, DirectoryError> {
        let named = match change {
            GroupChange::Create { display_name, .. } => display_name,
            GroupChange::Update { target, .. }
            | GroupChange::Restore { target }
            | GroupChange::AddMembers { target, .. }
            | GroupChange::RemoveMembers { target, .. }
            | GroupChange::Delete { target } => target,
        };
        let answer = self.write(Request::ChangeGroup { group: named.clone() }, named)?;
        let created = match change {
            GroupChange::Create {
                display_name,
                description,
                anchor,
                members,
                ..
            } => {
                self.next_id += 1;
                let id = format!("g-{}", self.next_id);
                let group = TargetGroup {
                    id: id.clone(),
                    display_name: display_name.clone(),
                    description: description.clone(),
                    external_id: Some(anchor.clone()),
                    members: members.clone(),
                    ..TargetGroup::default()
                };
                self.groups.insert(id.clone(), group);
                Some(id)
            }
            GroupChange::Update { target, changes } => {
                let group = self.groups.get_mut(target).ok_or(DirectoryError::NotFound)?;
                for (attribute, value) in changes {
                    match *attribute {
                        "displayName" => group.display_name = value.clone().unwrap_or_default(),
                        _ => group.description.clone_from(value),
                    }
                }
                None
            }
            GroupChange::Restore { target } => {
                self.groups.get_mut(target).ok_or(DirectoryError::NotFound)?.deleted = false;
                None
            }
            GroupChange::AddMembers { target, members } => {
                let group = self.groups.get_mut(target).ok_or(DirectoryError::NotFound)?;
                group.members.extend(members.iter().cloned());
                None
            }
            GroupChange::RemoveMembers { target, members } => {
                let group = self.groups.get_mut(target).ok_or(DirectoryError::NotFound)?;
                group.members.retain(|m| !members.contains(m));
                None
            }
            GroupChange::Delete { target } => {
                self.groups.remove(target);
                None
            }
        };
        answer.map_or(Ok(created), Err)
    }
}
