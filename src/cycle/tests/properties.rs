//! Properties of whole cycles over generated directories (README, "Safety": the planner's
//! invariants), so that the next defect is found by a test, not in a directory. Names come from a
//! small pool so that collisions — the dangerous cases — are common; the number of cases is bounded
//! so `make test` stays fast.

use proptest::prelude::*;

use super::*;
use crate::providers::memory::{FaultKind, Faults, Request};

const NAMES: [&str; 5] = ["ann", "bob", "cid", "dee", "eve"];

#[derive(Clone, Debug)]
struct SourceUser {
    name: usize,
    guest: bool,
    active: bool,
}

#[derive(Clone, Debug)]
struct TargetUser {
    name: usize,
    /// Match by email instead of by userName.
    by_email: bool,
    internal: bool,
}

fn source_users() -> impl Strategy<Value = Vec<SourceUser>> {
    // Distinct names: two source users never want the same target name.
    proptest::sample::subsequence((0..NAMES.len()).collect::<Vec<_>>(), 0..=NAMES.len()).prop_flat_map(|names| {
        let n = names.len();
        (
            Just(names),
            proptest::collection::vec((any::<bool>(), any::<bool>()), n),
        )
            .prop_map(|(names, flags)| {
                names
                    .into_iter()
                    .zip(flags)
                    .map(|(name, (guest, inactive))| SourceUser {
                        name,
                        guest: guest && name % 2 == 0,
                        active: !(inactive && name % 3 == 0),
                    })
                    .collect()
            })
    })
}

fn target_users() -> impl Strategy<Value = Vec<TargetUser>> {
    proptest::collection::vec(
        (0..NAMES.len(), any::<bool>(), any::<bool>()).prop_map(|(name, by_email, internal)| TargetUser {
            name,
            by_email,
            internal,
        }),
        0..4,
    )
}

fn setup(sources: &[SourceUser], targets: &[TargetUser]) -> CyclePair {
    let pair = CyclePair::all_users();
    // Initial reads in pages of two: what one page decides must hold across pages.
    pair.source.page_by(2);
    for (i, s) in sources.iter().enumerate() {
        let mut u = person(&format!("s{i}"), NAMES[s.name]);
        if s.guest {
            u.attributes.insert("userType", "Guest".into());
        }
        if !s.active {
            u.attributes.insert("active", "false".into());
        }
        pair.source.put(u);
    }
    for (i, t) in targets.iter().enumerate() {
        let address = format!("{}@contoso.com", NAMES[t.name]);
        let (user_name, email) = if t.by_email {
            (format!("other{i}@fabrikam.com"), address)
        } else {
            (address, format!("t{i}@fabrikam.com"))
        };
        let kind = if t.internal { "Member" } else { "Guest" };
        let id = format!("pre{i}");
        pair.target.put(user(
            &id,
            &[("userName", &user_name), (WORK_EMAIL, &email), ("userType", kind)],
        ));
    }
    pair.target.take_log();
    pair
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("runtime")
}

fn written_ids(writes: &[Request]) -> Vec<String> {
    writes
        .iter()
        .filter_map(|w| match w {
            Request::Update { id, .. } | Request::Deprovision { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn no_internal_target_user_is_ever_written(sources in source_users(), targets in target_users()) {
        let pair = setup(&sources, &targets);
        let internal: Vec<User> = pair.target.users().into_iter().filter(|u| !u.is_external()).collect();
        runtime().block_on(pair.initial());
        let written = written_ids(&pair.target.take_writes());
        for user in &internal {
            prop_assert!(!written.contains(&user.id), "{} was written", user.id);
            prop_assert_eq!(pair.target.user(&user.id).map(|u| u.attributes), Some(user.attributes.clone()));
        }
    }

    /// Every source address is `@contoso.com`; with source domains that do not hold it, every
    /// matching guest is foreign, and no user that was in the target is written.
    #[test]
    fn a_foreign_user_is_never_written(
        sources in source_users(),
        targets in target_users(),
        domains in proptest::sample::select(vec![vec![], vec!["fabrikam.com"], vec!["eu.contoso.com", "contoso.co"]]),
    ) {
        let mut pair = setup(&sources, &targets);
        pair.source_domains = domains.iter().map(|d| (*d).to_owned()).collect();
        let before = pair.target.users();
        runtime().block_on(pair.initial());
        let written = written_ids(&pair.target.take_writes());
        for user in &before {
            prop_assert!(!written.contains(&user.id), "{} was written", user.id);
            prop_assert_eq!(pair.target.user(&user.id).map(|u| u.attributes), Some(user.attributes.clone()));
        }
    }

    #[test]
    fn a_second_cycle_with_nothing_changed_writes_nothing(sources in source_users(), targets in target_users()) {
        let pair = setup(&sources, &targets);
        let rt = runtime();
        rt.block_on(pair.initial());
        pair.target.take_log();
        let again = rt.block_on(pair.initial());
        prop_assert!(pair.target.take_writes().is_empty(), "{again:?}");
    }

    #[test]
    fn one_target_user_per_anchor_and_no_shared_names_or_emails(sources in source_users(), targets in target_users()) {
        let pair = setup(&sources, &targets);
        runtime().block_on(pair.initial());
        let users = pair.target.users();
        let mut anchors: Vec<&str> = users.iter().filter_map(|u| u.get("externalId")).collect();
        let before = anchors.len();
        anchors.sort_unstable();
        anchors.dedup();
        prop_assert_eq!(anchors.len(), before, "an anchor on two users");
        // Every user xtsync gave a name (anchored) shares neither userName nor email with
        // another target user.
        let lower = |v: Option<&str>| v.map(str::to_lowercase);
        for a in users.iter().filter(|u| u.anchor().is_some()) {
            for b in users.iter().filter(|b| b.id != a.id) {
                prop_assert!(!a.user_name().eq_ignore_ascii_case(b.user_name()), "{} twice", a.user_name());
                prop_assert!(a.email().is_none() || lower(a.email()) != lower(b.email()), "{:?} twice", a.email());
            }
        }
    }

    #[test]
    fn a_failed_source_read_never_deprovisions(sources in source_users(), targets in target_users()) {
        let pair = setup(&sources, &targets);
        let rt = runtime();
        rt.block_on(pair.initial());
        pair.source.set_faults(Faults { reads: Some(FaultKind::Unreachable), ..Faults::default() });
        pair.target.take_log();
        prop_assert!(rt.block_on(pair.try_cycle(None, None)).is_err());
        prop_assert!(pair.target.take_writes().is_empty());
    }

    #[test]
    fn a_source_read_failing_after_any_page_never_deprovisions(
        sources in source_users(),
        targets in target_users(),
        removed in proptest::collection::vec(any::<bool>(), NAMES.len()),
        pages_read in 0..3usize,
    ) {
        let pair = setup(&sources, &targets);
        let rt = runtime();
        rt.block_on(pair.initial());
        // Users leave the source; then a read fails after some of its pages were sent.
        for (i, _) in sources.iter().enumerate().filter(|(i, _)| removed[*i]) {
            pair.source.remove(&format!("s{i}"));
        }
        pair.source.set_faults(Faults { read_fails_after_pages: Some(pages_read), ..Faults::default() });
        pair.target.take_log();
        let listed = sources.len() - removed.iter().take(sources.len()).filter(|r| **r).count();
        let result = rt.block_on(pair.try_cycle(None, None));
        // The read fails unless it had ended before the fault; one that failed deprovisions
        // nothing, whatever it had read.
        prop_assert_eq!(result.is_err(), listed.div_ceil(2) > pages_read);
        if result.is_err() {
            let writes = pair.target.take_writes();
            prop_assert!(!writes.iter().any(|w| matches!(w, Request::Deprovision { .. })), "{:?}", writes);
        }
    }
}
