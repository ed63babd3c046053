//! Shared source reads (docs/architecture.md, "Shared source reads"): an Initial cycle that
//! starts just after another cycle read its source in full takes that read, and — with few users
//! in scope — looks the target up instead of reading it whole, on the same evidence.

use super::*;
use crate::cycle::shared_read::{SHARED_FOR, SHARED_UP_TO};
use crate::providers::memory::{Faults, Request};

fn guest_of(id: &str) -> User {
    user(
        id,
        &[("userName", &format!("{id}@fabrikam.com")), ("userType", "Guest")],
    )
}

/// Three internal people and two guests in the source.
fn mesh_tenant() -> CyclePair {
    let pair = CyclePair::all_users();
    for (id, name) in [("a1", "alice"), ("b1", "bob"), ("c1", "carol")] {
        pair.source.put(person(id, name));
    }
    pair.source.put(guest_of("g1"));
    pair.source.put(guest_of("g2"));
    pair
}

fn source_reads(log: &[Request]) -> usize {
    log.iter().filter(|r| matches!(r, Request::ReadSource { .. })).count()
}

#[tokio::test]
async fn a_second_initial_cycle_takes_the_source_read_and_looks_the_target_up() {
    let mut pair = mesh_tenant();
    let first = pair.share_a_source_read().await;
    let report = pair.initial().await;
    assert_eq!((report.created, report.in_scope), (3, 3), "{report:?}");
    assert_eq!(
        source_reads(&pair.source.take_log()),
        0,
        "the source was not read again"
    );
    let target_log = pair.target.take_log();
    assert!(
        !target_log.contains(&Request::ListUsers),
        "the target was not read whole: {target_log:?}"
    );
    assert!(target_log.contains(&Request::AnchoredBy {
        prefix: format!("{SOURCE}/")
    }));
    assert_eq!(
        report.watermark, first.watermark,
        "the next cycle reads from the shared read on"
    );
    assert!(report.full, "a shared read is complete");
    assert!(report.target_looked_up, "not the full cycle that catches deletions");
}

#[tokio::test]
async fn a_shared_read_deprovisions_what_the_anchored_listing_holds_and_a_direct_read_confirms() {
    let mut pair = mesh_tenant();
    pair.share_a_source_read().await;
    pair.target.put(user(
        "t-gone",
        &[("userName", "dan@contoso.com"), ("externalId", &anchor("d1"))],
    ));
    let foreign = format!("{OTHER}/d1");
    pair.target.put(user(
        "t-other",
        &[("userName", "eve@fabrikam.com"), ("externalId", &foreign)],
    ));
    let report = pair.initial().await;
    assert_eq!((report.created, report.deprovisioned), (3, 1), "{report:?}");
    assert!(
        !pair.target.user("t-gone").is_some_and(|u| u.active()),
        "gone from the source: deprovisioned"
    );
    assert!(
        pair.target.user("t-other").is_some_and(|u| u.active()),
        "another source's user is left alone"
    );
    let confirmed = Request::ConfirmGone {
        ids: vec!["d1".to_owned()],
    };
    assert!(
        pair.source.take_log().contains(&confirmed),
        "read directly before it was deprovisioned"
    );
}

#[tokio::test]
async fn an_anchored_listing_that_leaves_a_user_out_is_not_trusted_and_the_target_is_read_whole() {
    let mut pair = mesh_tenant();
    pair.share_a_source_read().await;
    // Provisioned as alice, renamed in the source since: no look-up by name finds it.
    pair.target.put(user(
        "t-a1",
        &[("userName", "alice.old@contoso.com"), ("externalId", &anchor("a1"))],
    ));
    // Gone from the source; the broken listing leaves it out too.
    pair.target.put(user(
        "t-d1",
        &[("userName", "dan@contoso.com"), ("externalId", &anchor("d1"))],
    ));
    pair.target.set_faults(Faults {
        unlisted_by_anchor: ["t-a1".to_owned(), "t-d1".to_owned()].into(),
        ..Faults::default()
    });
    let report = pair.initial().await;
    assert!(pair.target.take_log().contains(&Request::ListUsers), "read whole");
    assert_eq!(
        (report.created, report.updated, report.deprovisioned),
        (2, 1, 1),
        "{report:?}"
    );
    assert_eq!(
        pair.provisioned("a1").map(|u| u.user_name().to_owned()).as_deref(),
        Some("alice@contoso.com")
    );
    assert!(
        !pair.target.user("t-d1").is_some_and(|u| u.active()),
        "deprovisioned on the whole read"
    );
}

#[tokio::test]
async fn an_anchor_another_writer_made_in_upper_case_is_listed_and_its_user_never_created_twice() {
    let mut pair = mesh_tenant();
    pair.share_a_source_read().await;
    let upper = format!("{}/a1", SOURCE.to_ascii_uppercase());
    pair.target.put(user(
        "t-a1",
        &[("userName", "alice.old@contoso.com"), ("externalId", &upper)],
    ));
    let report = pair.initial().await;
    assert!(!pair.target.take_log().contains(&Request::ListUsers));
    assert_eq!((report.created, report.updated), (2, 1), "{report:?}");
    assert_eq!(pair.target.users().len(), 3);
}

#[tokio::test]
async fn look_ups_answered_with_the_whole_directory_keep_only_the_users_they_name() {
    let mut pair = mesh_tenant();
    pair.share_a_source_read().await;
    for i in 0..50 {
        pair.target.put(guest_of(&format!("t-guest{i}")));
    }
    pair.target.put(user(
        "own",
        &[("userName", "carol@contoso.com"), ("userType", "Member")],
    ));
    pair.target.set_faults(Faults {
        look_ups_ignore_filter: true,
        ..Faults::default()
    });
    let in_scope = [person("c1", "carol")];
    let input = pair.input(None, None);
    let found = crate::cycle::read::anchored_and_matching(&pair.target, &in_scope, &input).await;
    let Ok(crate::cycle::read::TargetUsers::Found(users)) = found else {
        panic!("the look-ups answer");
    };
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["own"], "only the user carol's address names");
    // And the cycle still sees carol's conflict with the internal user.
    let report = pair.initial().await;
    assert_eq!((report.created, report.skipped), (2, 1), "{report:?}");
    assert_eq!(
        report.failures[0].reason,
        crate::engine::vocabulary::SkipReason::ConflictsWithInternalUser.as_str()
    );
}

#[tokio::test]
async fn with_group_provisioning_the_target_is_read_whole() {
    let mut pair = mesh_tenant();
    pair.rules.groups = Some(Default::default());
    pair.share_a_source_read().await;
    pair.initial().await;
    let target_log = pair.target.take_log();
    assert!(target_log.contains(&Request::ListUsers));
    assert!(!target_log.iter().any(|r| matches!(r, Request::AnchoredBy { .. })));
}

#[tokio::test]
async fn a_target_that_cannot_be_searched_by_anchor_is_read_whole() {
    let mut pair = mesh_tenant();
    pair.share_a_source_read().await;
    pair.target.set_faults(Faults {
        no_anchored_search: true,
        ..Faults::default()
    });
    let report = pair.initial().await;
    assert_eq!(report.created, 3, "{report:?}");
    assert!(!report.target_looked_up);
    assert!(pair.target.take_log().contains(&Request::ListUsers));
    assert_eq!(
        source_reads(&pair.source.take_log()),
        0,
        "the source read is still shared"
    );
}

#[tokio::test]
async fn more_users_in_scope_than_look_ups_read_the_target_whole() {
    let mut pair = CyclePair::all_users();
    for i in 0..=LOOKUPS_UP_TO {
        pair.source.put(person(&format!("p{i}"), &format!("p{i}")));
    }
    pair.share_a_source_read().await;
    let report = pair.initial().await;
    assert_eq!(report.created as usize, LOOKUPS_UP_TO + 1);
    let target_log = pair.target.take_log();
    assert!(target_log.contains(&Request::ListUsers));
    assert!(
        !target_log.iter().any(|r| matches!(r, Request::FindUsers { .. })),
        "no look-ups"
    );
}

#[tokio::test]
async fn a_source_larger_than_a_page_is_read_by_each_cycle() {
    let mut pair = CyclePair::all_users();
    for i in 0..=SHARED_UP_TO {
        pair.source.put(guest_of(&format!("g{i}")));
    }
    pair.share_a_source_read().await;
    assert_eq!(pair.shared_reads.as_ref().map(SourceReads::held), Some(0), "not kept");
    pair.initial().await;
    assert_eq!(source_reads(&pair.source.take_log()), 1);
}

#[tokio::test]
async fn a_source_read_that_failed_half_way_is_not_shared() {
    let mut pair = mesh_tenant();
    pair.source.page_by(2);
    pair.source.set_faults(Faults {
        read_fails_after_pages: Some(1),
        ..Faults::default()
    });
    pair.shared_reads = Some(SourceReads::default());
    let other_target = crate::providers::memory::MemoryDirectory::new();
    assert!(run(&pair.source, &other_target, &pair.input(None, None)).await.is_err());
    assert_eq!(pair.shared_reads.as_ref().map(SourceReads::held), Some(0));
}

#[tokio::test(start_paused = true)]
async fn a_shared_read_is_taken_only_while_it_is_recent() {
    let mut pair = mesh_tenant();
    pair.share_a_source_read().await;
    tokio::time::advance(SHARED_FOR).await;
    pair.initial().await;
    assert_eq!(source_reads(&pair.source.take_log()), 1, "read again");
    assert!(pair.target.take_log().contains(&Request::ListUsers));
}
