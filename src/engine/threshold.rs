//! The accidental-deletion threshold (docs/architecture.md, rule 8): more deprovisionings than the
//! threshold in one go are all held, until `xtsync.io/approve-deletions` names the token of
//! exactly that set. A token approves its set once; a different set gets a different token.

/// Deprovisionings held for approval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub count: u32,
    /// A short digest of the held set: what the approval must say.
    pub token: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// Within the threshold: apply.
    Within,
    /// Above it, and approved by this token: apply, and consume the token.
    Approved(String),
    /// Above it: apply none.
    Held(Held),
}

/// Judges the deprovisioning of the target users `ids` (their order does not matter).
pub fn judge(ids: &[&str], threshold: usize, approval: Option<&str>) -> Judgement {
    if ids.len() <= threshold {
        return Judgement::Within;
    }
    let token = token(ids);
    if approval == Some(token.as_str()) {
        return Judgement::Approved(token);
    }
    Judgement::Held(Held {
        count: ids.len().try_into().unwrap_or(u32::MAX),
        token,
    })
}

/// FNV-1a (64 bit) over the sorted ids, as 12 hex digits: stable across processes and
/// versions (unlike std's hasher), short enough to type into an annotation.
fn token(ids: &[&str]) -> String {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    let hash = super::digest::fnv1a(sorted);
    format!("{:012x}", hash >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_a_set_whatever_its_order() {
        assert_eq!(token(&["a", "b"]), token(&["b", "a"]));
        assert_ne!(token(&["a", "b"]), token(&["a", "c"]));
        assert_ne!(token(&["ab"]), token(&["a", "b"]), "ids are delimited");
        assert_eq!(token(&["a"]).len(), 12);
    }

    #[test]
    fn above_the_threshold_only_the_sets_own_token_approves() {
        assert_eq!(judge(&["a"], 1, None), Judgement::Within);
        let Judgement::Held(held) = judge(&["a", "b"], 1, Some("2")) else {
            panic!("a count is not a token");
        };
        assert_eq!(held.count, 2);
        assert_eq!(
            judge(&["a", "b"], 1, Some(&held.token)),
            Judgement::Approved(held.token.clone())
        );
        assert!(matches!(judge(&["a", "c"], 1, Some(&held.token)), Judgement::Held(_)));
    }
}
