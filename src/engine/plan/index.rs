//! The target, indexed for the plan: who is ours (anchored to this source) and who a desired
//! userName or email would match.

use std::collections::HashMap;

use crate::engine::attributes::WORK_EMAIL;
use crate::engine::user::{Attributes, User};

/// The target, indexed for the plan: users anchored to this source by source id, and every user
/// by lower-cased userName and work email for matching (several users may share a key).
pub struct TargetIndex<'a> {
    pub ours: HashMap<String, &'a User>,
    by_name: HashMap<String, Vec<&'a User>>,
    by_email: HashMap<String, Vec<&'a User>>,
}

impl<'a> TargetIndex<'a> {
    /// A mapped `manager` names a *source* user; the target needs the target user provisioned
    /// from it. One not provisioned (yet, or not seen by an incremental cycle) leaves the
    /// target's manager as it is, so nothing is cleared by mistake.
    pub fn resolve_manager(&self, desired: &mut Attributes, current: Option<&User>) {
        let Some(source_manager) = desired.get("manager") else {
            return;
        };
        match self.ours.get(source_manager) {
            Some(target_manager) => {
                desired.insert("manager", target_manager.id.clone());
            }
            None => match current.and_then(|c| c.get("manager")) {
                Some(kept) => {
                    desired.insert("manager", kept.to_owned());
                }
                None => {
                    desired.remove("manager");
                }
            },
        }
    }

    pub fn new(target: &'a [User], source_tenant: &str) -> Self {
        let mut index = TargetIndex {
            ours: HashMap::new(),
            by_name: HashMap::new(),
            by_email: HashMap::new(),
        };
        for user in target {
            if let Some(anchor) = user.anchor().filter(|a| a.tenant_id == source_tenant) {
                index.ours.entry(anchor.user_id).or_insert(user);
            }
            index
                .by_name
                .entry(user.user_name().to_lowercase())
                .or_default()
                .push(user);
            if let Some(email) = user.email() {
                index.by_email.entry(email.to_lowercase()).or_default().push(user);
            }
        }
        index
    }

    /// Every target user whose userName or work email equals the desired userName or work
    /// email (rule 5 compares all four ways, case-insensitively), each once.
    pub fn candidates(&self, desired: &Attributes) -> Vec<&'a User> {
        let mut found: Vec<&'a User> = Vec::new();
        for value in ["userName", WORK_EMAIL].iter().filter_map(|k| desired.get(k)) {
            let key = value.to_lowercase();
            for user in [&self.by_name, &self.by_email]
                .iter()
                .filter_map(|map| map.get(&key))
                .flatten()
            {
                if !found.iter().any(|f| f.id == user.id) {
                    found.push(user);
                }
            }
        }
        found
    }
}
