//! The accidental-deletion threshold (docs/architecture.md, rule 8): more deprovisionings than the
//! threshold in one go are all held, until `xtsync.io/approve-deletions` names the token of
//! exactly that set. A token approves its set once; a different set gets a different token.

/// Deprovisionings held for approval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub count: u32,
    /// A short digest of the held set: what the approval must say.
    pub token: String,
    /// Who is held, as people know them (target userNames; groups as `group:<id>`), sorted: what
    /// an approver reviews before approving the token.
    pub names: Vec<String>,
}

/// One deprovisioning the threshold judges: the target user's id (what the token digests) and
/// its name (what an approver reads).
#[derive(Clone, Copy, Debug)]
pub struct Leaving<'a> {
    pub id: &'a str,
    pub name: &'a str,
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

/// Judges the deprovisioning of `leaving` (their order does not matter).
pub fn judge(leaving: &[Leaving<'_>], threshold: usize, approval: Option<&str>) -> Judgement {
    if leaving.len() <= threshold {
        return Judgement::Within;
    }
    let ids: Vec<&str> = leaving.iter().map(|l| l.id).collect();
    let token = token(&ids);
    if approval == Some(token.as_str()) {
        return Judgement::Approved(token);
    }
    let mut names: Vec<String> = leaving.iter().map(|l| l.name.to_owned()).collect();
    names.sort_unstable();
    Judgement::Held(Held {
        count: leaving.len().try_into().unwrap_or(u32::MAX),
        token,
        names,
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

    fn leaving<'a>(ids: &[&'a str]) -> Vec<Leaving<'a>> {
        ids.iter().map(|id| Leaving { id, name: id }).collect()
    }

    #[test]
    fn above_the_threshold_only_the_sets_own_token_approves() {
        assert_eq!(judge(&leaving(&["a"]), 1, None), Judgement::Within);
        let Judgement::Held(held) = judge(&leaving(&["a", "b"]), 1, Some("2")) else {
            panic!("a count is not a token");
        };
        assert_eq!(held.count, 2);
        assert_eq!(
            judge(&leaving(&["a", "b"]), 1, Some(&held.token)),
            Judgement::Approved(held.token.clone())
        );
        assert!(matches!(
            judge(&leaving(&["a", "c"]), 1, Some(&held.token)),
            Judgement::Held(_)
        ));
    }

    #[test]
    fn a_held_set_names_who_is_held_sorted_and_its_token_digests_the_ids_only() {
        let held = |pairs: &[(&'static str, &'static str)]| {
            let leaving: Vec<Leaving<'_>> = pairs.iter().map(|&(id, name)| Leaving { id, name }).collect();
            match judge(&leaving, 0, None) {
                Judgement::Held(held) => held,
                other => panic!("{other:?}"),
            }
        };
        let first = held(&[("2", "zoe@contoso.com"), ("1", "adam@contoso.com")]);
        assert_eq!(first.names, ["adam@contoso.com", "zoe@contoso.com"]);
        let renamed = held(&[("2", "zoe.b@contoso.com"), ("1", "adam@contoso.com")]);
        assert_eq!(first.token, renamed.token, "the same users, whatever their names");
    }
}
