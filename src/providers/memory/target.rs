//! The in-memory directory written as a target.

use async_trait::async_trait;

use super::{MemoryDirectory, Request};
use crate::engine::attributes::WORK_EMAIL;
use crate::engine::groups::{GroupChange, TargetGroup};
use crate::engine::plan::{Changes, TargetRef};
use crate::engine::user::{Attributes, User};
use crate::engine::vocabulary::DeprovisionAction;
use crate::providers::directory::{DirectoryError, TargetDirectory};

#[async_trait]
impl TargetDirectory for MemoryDirectory {
    async fn list_users(&self) -> Result<Vec<User>, DirectoryError> {
        self.take_read_time().await;
        let mut state = self.state();
        state.read(Request::ListUsers)?;
        let unlisted = &state.faults.unlisted;
        Ok(state
            .users
            .values()
            .filter(|u| !unlisted.contains(&u.id))
            .cloned()
            .collect())
    }

    async fn find_users(&self, attribute: &str, value: &str) -> Result<Vec<User>, DirectoryError> {
        let mut state = self.state();
        state.read(Request::FindUsers {
            attribute: attribute.to_owned(),
            value: value.to_owned(),
        })?;
        if let Some(fault) = state.faults.look_ups {
            return Err(fault.error());
        }
        let ignored = state.faults.look_ups_ignore_filter;
        let matches = |u: &User| {
            ignored
                || match attribute {
                    // As SCIM's `emails.value eq`: any of the user's emails (and, as Graph's lookup,
                    // any other address).
                    WORK_EMAIL => u
                        .email()
                        .into_iter()
                        .chain(u.other_addresses.iter().map(String::as_str))
                        .any(|e| e.eq_ignore_ascii_case(value)),
                    "userName" => u.user_name().eq_ignore_ascii_case(value),
                    _ => u.get(attribute) == Some(value),
                }
        };
        Ok(state.users.values().filter(|u| matches(u)).cloned().collect())
    }

    /// As the SCIM target's: `externalId` starting with the tenant id in lower or in upper case
    /// and `/`, compared exactly; leaves out what `unlisted_by_anchor` names.
    async fn users_anchored_by(&self, tenant_id: &str) -> Result<Option<Vec<User>>, DirectoryError> {
        let prefix = format!("{}/", tenant_id.to_ascii_lowercase());
        let upper = prefix.to_ascii_uppercase();
        let mut state = self.state();
        state.read(Request::AnchoredBy { prefix: prefix.clone() })?;
        if state.faults.no_anchored_search {
            return Ok(None);
        }
        let left_out = &state.faults.unlisted_by_anchor;
        let anchored = |u: &User| {
            u.get("externalId")
                .is_some_and(|a| a.starts_with(&prefix) || a.starts_with(&upper))
        };
        Ok(Some(
            state
                .users
                .values()
                .filter(|u| anchored(u) && !left_out.contains(&u.id))
                .cloned()
                .collect(),
        ))
    }

    async fn create_users(&self, users: &[Attributes]) -> Vec<Result<String, DirectoryError>> {
        let mut state = self.state();
        users.iter().map(|a| state.create(a)).collect()
    }

    async fn update_user(&self, target: &TargetRef, changes: &Changes) -> Result<(), DirectoryError> {
        self.state().update(&target.id, changes)
    }

    async fn deprovision_user(&self, target: &TargetRef, action: DeprovisionAction) -> Result<(), DirectoryError> {
        let mut state = self.state();
        let request = Request::Deprovision {
            id: target.id.clone(),
            action,
        };
        let answer = state.write(request, &target.id)?;
        if action != DeprovisionAction::None {
            let user = state.users.get_mut(&target.id).ok_or(DirectoryError::NotFound)?;
            user.attributes.insert("active", "false".into());
        }
        answer.map_or(Ok(()), Err)
    }

    async fn list_groups(&self) -> Result<Vec<TargetGroup>, DirectoryError> {
        self.groups_listed()
    }

    async fn apply_group_changes(&self, changes: &[GroupChange]) -> Vec<Result<Option<String>, DirectoryError>> {
        let mut state = self.state();
        changes.iter().map(|change| state.change_group(change)).collect()
    }
}
