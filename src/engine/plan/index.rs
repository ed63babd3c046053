//! The target, indexed for the plan: who is ours (anchored to this source) and who a desired
//! userName or email would match.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::engine::address;
use crate::engine::attributes::WORK_EMAIL;
use crate::engine::user::{Attributes, User};

/// The target, indexed for the plan: users anchored to this source by source id, and every user
/// by each of its addresses (userName, every email, Graph's other names), in the compared form
/// of `engine::address`, for matching (several users may share one). Its keys borrow from the
/// target users where they can (an index of 100,000 users is most of a cycle's memory): the
/// source id from the anchor, an address already in compared form.
pub struct TargetIndex<'a> {
    pub ours: HashMap<&'a str, &'a User>,
    by_address: HashMap<Cow<'a, str>, Vec<&'a User>>,
}

impl<'a> TargetIndex<'a> {
    /// A mapped `manager` names a *source* user; the target needs the target user provisioned
    /// from it. One not provisioned (yet, or not seen by an incremental cycle) leaves the
    /// target's manager as it is, so nothing is cleared by mistake.
    pub fn resolve_manager(&self, desired: &mut Attributes, current: Option<&User>) {
        let Some(source_manager) = desired.get("manager") else {
            return;
        };
        match self.ours.get(source_manager.as_str()) {
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
            by_address: HashMap::new(),
        };
        for user in target {
            if let Some(source_id) = user.anchored_from(source_tenant) {
                index.ours.entry(source_id).or_insert(user);
            }
            for address in user.every_address() {
                let users = index.by_address.entry(address::normalized(address)).or_default();
                if !users.last().is_some_and(|last| std::ptr::eq(*last, user)) {
                    users.push(user);
                }
            }
        }
        index
    }

    /// Every target user one of whose addresses equals the desired userName or work email
    /// (rule 5 compares every address both ways), each once, with the desired addresses it
    /// shares (compared form).
    pub fn candidates(&self, desired: &Attributes) -> Vec<Candidate<'a>> {
        let mut found: Vec<Candidate<'a>> = Vec::new();
        for value in ["userName", WORK_EMAIL].iter().filter_map(|k| desired.get(k)) {
            let key = address::normalized(value);
            for user in self.by_address.get(key.as_ref()).into_iter().flatten() {
                match found.iter_mut().find(|f| f.user.id == user.id) {
                    Some(known) if !known.shared.iter().any(|s| *s == key) => known.shared.push(key.to_string()),
                    Some(_) => {}
                    None => found.push(Candidate {
                        user,
                        shared: vec![key.to_string()],
                    }),
                }
            }
        }
        found
    }
}

/// A target user that matches a desired user, and the addresses (compared form) they share.
#[derive(Clone, Debug)]
pub struct Candidate<'a> {
    pub user: &'a User,
    pub shared: Vec<String>,
}
