//! The target, indexed for the plan: who is ours (anchored to this source) and who a desired
//! userName or email would match.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::engine::anchor::Anchor;
use crate::engine::attributes::WORK_EMAIL;
use crate::engine::user::{Attributes, User};

/// The target, indexed for the plan: users anchored to this source by source id, and every user
/// by lower-cased userName and work email for matching (several users may share a key). Its
/// keys borrow from the target users where they can (an index of 100,000 users is most of a
/// cycle's memory): the source id from the anchor, a userName or email already in lower case.
pub struct TargetIndex<'a> {
    pub ours: HashMap<&'a str, &'a User>,
    by_name: HashMap<Cow<'a, str>, Vec<&'a User>>,
    by_email: HashMap<Cow<'a, str>, Vec<&'a User>>,
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
            by_name: HashMap::new(),
            by_email: HashMap::new(),
        };
        for user in target {
            let anchored = user.get("externalId").and_then(Anchor::split);
            if let Some((_, source_id)) = anchored.filter(|(tenant, _)| tenant.eq_ignore_ascii_case(source_tenant)) {
                index.ours.entry(source_id).or_insert(user);
            }
            index
                .by_name
                .entry(lower_case(user.user_name()))
                .or_default()
                .push(user);
            if let Some(email) = user.email() {
                index.by_email.entry(lower_case(email)).or_default().push(user);
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
                .filter_map(|map| map.get(key.as_str()))
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

/// `text.to_lowercase()`, borrowed when that changes nothing (only `Σ` lowers by context,
/// and it always changes).
fn lower_case(text: &str) -> Cow<'_, str> {
    if text.chars().flat_map(char::to_lowercase).eq(text.chars()) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::lower_case;
    use std::borrow::Cow;

    #[test]
    fn lower_case_borrows_only_what_to_lowercase_leaves_as_it_is() {
        for text in ["ada@contoso.com", "", "ß", "σ", "東京"] {
            assert!(matches!(lower_case(text), Cow::Borrowed(t) if t == text), "{text}");
        }
        // `ǅ` is titlecase, not uppercase, and `Σ` lowers by its place in the word.
        for text in ["Ada@Contoso.com", "ǅemal", "ΟΔΥΣΣΕΥΣ", "İ"] {
            assert!(matches!(lower_case(text), Cow::Owned(_)), "{text}");
            assert_eq!(lower_case(text), text.to_lowercase(), "{text}");
        }
    }
}
