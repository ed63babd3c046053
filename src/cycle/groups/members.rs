//! The target users a group may hold: those this configuration provisioned, as the users'
//! pass left them.

use std::collections::{HashMap, HashSet};

use crate::engine::plan::Change;
use crate::engine::user::User;
use crate::providers::directory::DirectoryError;

/// The target users this configuration provisioned, as group memberships need them: kept up
/// to date by the users' pass as its writes land.
#[derive(Debug, Default)]
pub struct Members {
    /// Source user id → target user id, of the active ones.
    pub(super) active: HashMap<String, String>,
    /// Target user id → source user id, of the active ones.
    by_target: HashMap<String, String>,
    /// Every target user anchored to this source, active or not: the only members a group
    /// change may add or remove.
    pub(super) ours: HashSet<String>,
    /// Target users this cycle deprovisioned.
    deactivated: HashSet<String>,
    /// Built from the whole target, not only the users an Incremental cycle looked up.
    pub(super) whole: bool,
    /// Users of this configuration came or went in this cycle: unchanged groups may have to
    /// take them in or let them go.
    pub(super) changed: bool,
}

impl Members {
    /// The target users anchored to `source_tenant` among `target` (`whole`: all of them).
    pub fn of(target: &[User], source_tenant: &str, whole: bool) -> Members {
        let tenant = source_tenant.to_ascii_lowercase();
        let mut members = Members {
            whole,
            ..Members::default()
        };
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
            (Change::Deprovision { target }, Ok(_)) => self.deactivate(&target.id),
            _ => return,
        }
        self.changed = true;
    }

    fn deactivate(&mut self, target: &str) {
        self.deactivated.insert(target.to_owned());
        if let Some(source) = self.by_target.remove(target) {
            self.active.remove(&source);
        }
    }

    /// The whole target's users, with what this cycle's writes did on top (a directory may
    /// not list a user created a moment ago yet).
    pub(super) fn completed_by(&self, target: &[User], source_tenant: &str) -> Members {
        let mut whole = Members::of(target, source_tenant, true);
        for (source, target) in &self.active {
            whole.activate(source.clone(), target.clone());
        }
        for target in &self.deactivated {
            whole.deactivate(target);
        }
        whole.changed = self.changed;
        whole
    }
}
