//! The in-memory directory read as a source.

use std::collections::HashSet;

use async_trait::async_trait;

use super::{FaultKind, GATE_TIMEOUT, MemoryDirectory, Request, stamp};
use crate::engine::user::User;
use crate::providers::directory::{DirectoryError, GroupRead, PageSink, SourceDirectory, SourceRead};

#[async_trait]
impl SourceDirectory for MemoryDirectory {
    async fn read_source(&self, since: Option<&str>) -> Result<SourceRead, DirectoryError> {
        self.take_read_time().await;
        let mut state = self.state();
        state.read(Request::ReadSource {
            since: since.map(str::to_owned),
        })?;
        let after = |modified: &str| since.is_none_or(|s| modified > s);
        let users = state
            .users
            .values()
            .filter(|u| !state.faults.unlisted.contains(&u.id))
            .filter(|u| u.modified.as_deref().is_some_and(after))
            .cloned()
            .collect();
        let removed = match since {
            None => Vec::new(),
            Some(_) => state
                .removed
                .iter()
                .filter(|(at, _)| after(&stamp(*at)))
                .map(|(_, id)| id.clone())
                .collect(),
        };
        Ok(SourceRead {
            users,
            removed,
            watermark: Some(stamp(state.clock)),
            full: false,
        })
    }

    async fn read_source_pages(&self, pages: &PageSink) -> Result<Option<String>, DirectoryError> {
        let read = self.read_source(None).await?;
        let (paging, fail_after) = {
            let state = self.state();
            (state.paging.clone(), state.faults.read_fails_after_pages)
        };
        let Some(paging) = paging else {
            pages.send(read.users).await?;
            return Ok(read.watermark);
        };
        let chunks: Vec<Vec<User>> = read.users.chunks(paging.size).map(<[User]>::to_vec).collect();
        for (i, page) in chunks.into_iter().enumerate() {
            if fail_after == Some(i) {
                return Err(FaultKind::Unreachable.error());
            }
            if let Some(gate) = paging.between.as_ref().filter(|_| i > 0) {
                tokio::time::timeout(GATE_TIMEOUT, gate.notified())
                    .await
                    .map_err(|_| DirectoryError::Unreachable("the page gate was never opened".into()))?;
            }
            pages.send(page).await?;
        }
        Ok(read.watermark)
    }

    /// As a directory that looks one user up (a filter, a direct read): logged as `FindUser`,
    /// never as a listing.
    async fn find_user(&self, who: &str) -> Result<Option<User>, DirectoryError> {
        let mut state = self.state();
        state.read(Request::FindUser { who: who.to_owned() })?;
        if let Some(fault) = state.faults.look_ups {
            return Err(fault.error());
        }
        let named = state.users.values().find(|u| u.user_name().eq_ignore_ascii_case(who));
        Ok(named.or_else(|| state.users.get(who)).cloned())
    }

    async fn verified_domains(&self) -> Result<Vec<String>, DirectoryError> {
        Ok(self.state().verified_domains.clone())
    }

    async fn confirm_gone(&self, ids: &[String]) -> Result<HashSet<String>, DirectoryError> {
        self.take_read_time().await;
        let mut state = self.state();
        let mut sorted = ids.to_vec();
        sorted.sort();
        state.read(Request::ConfirmGone { ids: sorted })?;
        Ok(ids
            .iter()
            .filter(|id| !state.users.contains_key(*id))
            .cloned()
            .collect())
    }

    async fn read_users(&self, ids: &[String]) -> Result<Vec<User>, DirectoryError> {
        let mut state = self.state();
        let mut sorted = ids.to_vec();
        sorted.sort();
        state.read(Request::ReadUsers { ids: sorted })?;
        if let Some(fault) = state.faults.user_reads {
            return Err(fault.error());
        }
        Ok(ids.iter().filter_map(|id| state.users.get(id)).cloned().collect())
    }

    async fn group_members(&self, groups: &[String]) -> Result<HashSet<String>, DirectoryError> {
        let mut state = self.state();
        state.read(Request::GroupMembers {
            groups: groups.to_vec(),
        })?;
        if let Some(fault) = state.faults.groups {
            return Err(fault.error());
        }
        // As the providers: a group not found is a failed read, never an empty group.
        let mut members = HashSet::new();
        for group in groups {
            let found = state.named_group(group).ok_or_else(|| {
                DirectoryError::InvalidResponse(format!("assigned group '{group}' not found in the source"))
            })?;
            members.extend(found.members.iter().cloned());
        }
        Ok(members)
    }

    /// Every group, every time: this directory keeps no record of group changes.
    async fn read_groups(&self, since: Option<&str>) -> Result<GroupRead, DirectoryError> {
        let _ = since;
        Ok(GroupRead {
            groups: self.groups_listed()?,
            watermark: None,
            full: true,
        })
    }
}
