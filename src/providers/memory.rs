//! A directory in memory, for tests of whole cycles: users and groups, change tracking, faults
//! to inject, and a log of every request, so that a test can assert what a cycle read and
//! wrote in milliseconds. It behaves like a small SCIM server: unique userNames (409), PATCH
//! semantics for updates, `active=false` for deprovisioning.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use super::directory::{DirectoryError, InFlightLimit};
use crate::engine::groups::TargetGroup;
use crate::engine::plan::Changes;
use crate::engine::user::{Attributes, User};
use crate::engine::vocabulary::DeprovisionAction;

mod faults;
mod groups;
mod source;
mod target;
pub use faults::{Burst, FaultKind, Faults};

/// One request a cycle made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    ListUsers,
    ListGroups,
    /// One user looked up by userName or id (provisioning on demand).
    FindUser {
        who: String,
    },
    ReadSource {
        since: Option<String>,
    },
    FindUsers {
        attribute: String,
        value: String,
    },
    /// The users anchored by one source tenant (`externalId` starting with `prefix`).
    AnchoredBy {
        prefix: String,
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
    /// A change to a group, by the group it names (its id, or the name of a new one).
    ChangeGroup {
        group: String,
    },
}

impl Request {
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Request::Create { .. } | Request::Update { .. } | Request::Deprovision { .. } | Request::ChangeGroup { .. }
        )
    }
}

#[derive(Default)]
struct State {
    users: BTreeMap<String, User>,
    /// Groups by id; a group a test sets has its displayName for id.
    groups: BTreeMap<String, TargetGroup>,
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
        let group = TargetGroup {
            id: name.to_owned(),
            display_name: name.to_owned(),
            members: members.iter().map(|m| (*m).to_owned()).collect(),
            ..TargetGroup::default()
        };
        self.state().groups.insert(name.to_owned(), group);
    }

    /// The group with this id, as the directory holds it now.
    pub fn group(&self, id: &str) -> Option<TargetGroup> {
        self.state().groups.get(id).cloned()
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

/// As many requests at once as a directory allows by default.
impl InFlightLimit for MemoryDirectory {}

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
            attributes: attributes.into(),
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
