//! A directory in memory, for tests of whole cycles: users and groups, change tracking, faults
//! to inject, and a log of every request, so that a test can assert what a cycle read and
//! wrote in milliseconds. It behaves like a small SCIM server: unique userNames (409), PATCH
//! semantics for updates, `active=false` for deprovisioning.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::directory::{Directory, DirectoryError};
use super::directory::{PageSink, SourceRead};
use crate::engine::attributes::WORK_EMAIL;
use crate::engine::plan::{Changes, TargetRef};
use crate::engine::user::{Attributes, User};
use crate::engine::vocabulary::DeprovisionAction;

mod faults;
pub use faults::{Burst, FaultKind, Faults};

/// One request a cycle made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    ListUsers,
    ReadSource {
        since: Option<String>,
    },
    FindUsers {
        attribute: String,
        value: String,
    },
    GroupMembers {
        groups: Vec<String>,
    },
    /// Direct reads of users a listing did not show, by sorted id.
    ConfirmGone {
        ids: Vec<String>,
    },
    /// Direct reads of users, by sorted id.
    ReadUsers {
        ids: Vec<String>,
    },
    Create {
        user_name: String,
    },
    /// The attributes an update sent, by name.
    Update {
        id: String,
        attributes: Vec<&'static str>,
    },
    Deprovision {
        id: String,
        action: DeprovisionAction,
    },
}

impl Request {
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Request::Create { .. } | Request::Update { .. } | Request::Deprovision { .. }
        )
    }
}

#[derive(Default)]
struct State {
    users: BTreeMap<String, User>,
    /// displayName → member ids.
    groups: HashMap<String, Vec<String>>,
    /// Ids removed since the start (what a delta read reports as `@removed`).
    removed: Vec<(u64, String)>,
    clock: u64,
    next_id: u64,
    log: Vec<Request>,
    faults: Faults,
    paging: Option<Paging>,
    /// Told of every write, when a test waits for writes.
    written: Option<Arc<Notify>>,
    /// What `verified_domains` answers (a Graph tenant's `GET /domains`).
    verified_domains: Vec<String>,
    /// How long each read takes (a slow directory).
    read_time: Duration,
}

/// Full source reads in pages of `size`, each after the first waiting for `between` if set.
#[derive(Clone)]
struct Paging {
    size: usize,
    between: Option<Arc<Notify>>,
}

/// How long a held page read waits for its gate before it fails.
const GATE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct MemoryDirectory {
    state: Mutex<State>,
}

impl MemoryDirectory {
    pub fn new() -> Self {
        MemoryDirectory::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock has failed already.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds or replaces a user (keeping its id), as a change at a new point in time.
    /// The domains this directory says it verified, as a Graph tenant does.
    pub fn set_verified_domains(&self, domains: &[&str]) {
        self.state().verified_domains = domains.iter().map(|d| (*d).to_owned()).collect();
    }

    pub fn put(&self, mut user: User) {
        let mut state = self.state();
        state.clock += 1;
        user.modified = Some(stamp(state.clock));
        state.users.insert(user.id.clone(), user);
    }

    /// Changes one attribute of a user (`None` clears it).
    pub fn set(&self, id: &str, attribute: &'static str, value: Option<&str>) {
        let mut state = self.state();
        state.clock += 1;
        let clock = state.clock;
        if let Some(user) = state.users.get_mut(id) {
            match value {
                Some(v) => user.attributes.insert(attribute, v.to_owned()),
                None => user.attributes.remove(attribute),
            };
            user.modified = Some(stamp(clock));
        }
    }

    /// Deletes a user for good.
    pub fn remove(&self, id: &str) {
        let mut state = self.state();
        state.clock += 1;
        let clock = state.clock;
        state.users.remove(id);
        state.removed.push((clock, id.to_owned()));
    }

    /// Deletes a user for good, as a directory without a feed of deletions does (SCIM): only
    /// a full or a direct read shows her gone.
    pub fn forget(&self, id: &str) {
        self.state().users.remove(id);
    }

    pub fn set_group(&self, name: &str, members: &[&str]) {
        let members = members.iter().map(|m| (*m).to_owned()).collect();
        self.state().groups.insert(name.to_owned(), members);
    }

    /// Full source reads come in pages of `size` users (by id).
    pub fn page_by(&self, size: usize) {
        self.state().paging = Some(Paging {
            size: size.max(1),
            between: None,
        });
    }

    /// Pages of `size`, and before each page after the first the read waits for `gate` (at
    /// most `GATE_TIMEOUT`; then it fails).
    pub fn page_by_waiting(&self, size: usize, gate: Arc<Notify>) {
        self.state().paging = Some(Paging {
            size: size.max(1),
            between: Some(gate),
        });
    }

    /// Every write from now on notifies `written`.
    pub fn notify_writes(&self, written: Arc<Notify>) {
        self.state().written = Some(written);
    }

    /// Every read of a user listing, source read or direct read takes `each` from now on.
    pub fn slow_reads(&self, each: Duration) {
        self.state().read_time = each;
    }

    async fn take_read_time(&self) {
        let each = self.state().read_time;
        if !each.is_zero() {
            tokio::time::sleep(each).await;
        }
    }

    pub fn set_faults(&self, faults: Faults) {
        self.state().faults = faults;
    }

    pub fn user(&self, id: &str) -> Option<User> {
        self.state().users.get(id).cloned()
    }

    pub fn users(&self) -> Vec<User> {
        self.state().users.values().cloned().collect()
    }

    /// The user whose `attribute` equals `value`.
    pub fn find(&self, attribute: &str, value: &str) -> Option<User> {
        self.state()
            .users
            .values()
            .find(|u| u.get(attribute) == Some(value))
            .cloned()
    }

    /// Every request so far, and forgets them.
    pub fn take_log(&self) -> Vec<Request> {
        std::mem::take(&mut self.state().log)
    }

    /// Every write request so far, and forgets every request.
    pub fn take_writes(&self) -> Vec<Request> {
        self.take_log().into_iter().filter(Request::is_write).collect()
    }
}

fn stamp(clock: u64) -> String {
    format!("{clock:012}")
}

impl State {
    fn read(&mut self, request: Request) -> Result<(), DirectoryError> {
        self.log.push(request);
        self.faults.reads.map_or(Ok(()), |f| Err(f.error()))
    }

    /// Logs a write and answers whether it may be made: `Err` when it fails before anything
    /// is done, `Ok(Some(error))` when it is made and then answered with `error`.
    fn write(&mut self, request: Request, key: &str) -> Result<Option<DirectoryError>, DirectoryError> {
        self.log.push(request);
        if let Some(written) = &self.written {
            written.notify_one();
        }
        if let Some(fault) = self.faults.writes {
            return Err(fault.error());
        }
        if self.faults.writes_of.contains(key) {
            return Err(FaultKind::Rejected.error());
        }
        match &mut self.faults.burst {
            Some(burst) if burst.writes > 0 => {
                burst.writes -= 1;
                let error = FaultKind::ServerError.error();
                if burst.landed { Ok(Some(error)) } else { Err(error) }
            }
            _ => Ok(None),
        }
    }

    fn create(&mut self, attributes: &Attributes) -> Result<String, DirectoryError> {
        let name = attributes.get("userName").cloned().unwrap_or_default();
        let answer = self.write(
            Request::Create {
                user_name: name.clone(),
            },
            &name,
        )?;
        if self.users.values().any(|u| u.user_name().eq_ignore_ascii_case(&name)) {
            return Err(DirectoryError::Rejected {
                status: 409,
                code: Some("uniqueness".into()),
                detail: Some(format!("userName {name} is taken")),
            });
        }
        self.next_id += 1;
        self.clock += 1;
        let id = format!("t-{}", self.next_id);
        let user = User {
            id: id.clone(),
            attributes: attributes.clone(),
            modified: Some(stamp(self.clock)),
            ..User::default()
        };
        self.users.insert(id.clone(), user);
        answer.map_or(Ok(id), Err)
    }

    fn update(&mut self, id: &str, changes: &Changes) -> Result<(), DirectoryError> {
        let attributes = changes.keys().copied().collect();
        let answer = self.write(
            Request::Update {
                id: id.to_owned(),
                attributes,
            },
            id,
        )?;
        self.clock += 1;
        let clock = self.clock;
        let user = self.users.get_mut(id).ok_or(DirectoryError::NotFound)?;
        for (attribute, value) in changes {
            match value {
                Some(v) => user.attributes.insert(attribute, v.clone()),
                None => user.attributes.remove(attribute),
            };
        }
        user.modified = Some(stamp(clock));
        answer.map_or(Ok(()), Err)
    }
}

#[async_trait]
impl Directory for MemoryDirectory {
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

    async fn find_users(&self, attribute: &str, value: &str) -> Result<Vec<User>, DirectoryError> {
        let mut state = self.state();
        state.read(Request::FindUsers {
            attribute: attribute.to_owned(),
            value: value.to_owned(),
        })?;
        if let Some(fault) = state.faults.look_ups {
            return Err(fault.error());
        }
        let matches = |u: &User| match attribute {
            // As SCIM's `emails.value eq`: any of the user's emails (and, as Graph's lookup,
            // any other address).
            WORK_EMAIL => u
                .email()
                .into_iter()
                .chain(u.other_addresses.iter().map(String::as_str))
                .any(|e| e.eq_ignore_ascii_case(value)),
            "userName" => u.user_name().eq_ignore_ascii_case(value),
            _ => u.get(attribute) == Some(value),
        };
        Ok(state.users.values().filter(|u| matches(u)).cloned().collect())
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
            let found = state.groups.get(group).ok_or_else(|| {
                DirectoryError::InvalidResponse(format!("assigned group '{group}' not found in the source"))
            })?;
            members.extend(found.iter().cloned());
        }
        Ok(members)
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
}
