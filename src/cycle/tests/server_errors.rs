//! Rule 9: a write answered with a server error is followed, within the cycle, by a read by
//! anchor that finds out what landed, and what did not is sent again with backoff. A
//! creation is never sent again before that read: it could create the user twice.

use super::*;
use crate::providers::memory::{Burst, FaultKind, Faults, Request};

/// Alice, Bob and Carol in the source, and a target with `faults`.
fn three_people_and(faults: Faults) -> CyclePair {
    let pair = CyclePair::all_users();
    for (id, name) in [("a1", "alice"), ("b1", "bob"), ("c1", "carol")] {
        pair.source.put(person(id, name));
    }
    pair.target.set_faults(faults);
    pair
}

/// The next `writes` writes answer 500.
fn burst(writes: u32, landed: bool) -> Faults {
    Faults {
        burst: Some(Burst { writes, landed }),
        ..Faults::default()
    }
}

fn creations(requests: &[Request]) -> usize {
    requests.iter().filter(|r| matches!(r, Request::Create { .. })).count()
}

fn look_ups(requests: &[Request]) -> usize {
    requests
        .iter()
        .filter(|r| matches!(r, Request::FindUsers { attribute, .. } if attribute == "externalId"))
        .count()
}

#[tokio::test(start_paused = true)]
async fn creations_answered_500_that_landed_count_as_created_and_are_not_sent_again() {
    let pair = three_people_and(burst(3, true));
    let report = pair.initial().await;
    assert_eq!((report.created, report.failed), (3, 0), "{report:?}");
    let requests = pair.target.take_log();
    assert_eq!(creations(&requests), 3, "sent once each: {requests:?}");
    assert_eq!(look_ups(&requests), 3, "each looked up by its anchor: {requests:?}");
    assert_eq!(pair.target.users().len(), 3, "no duplicates");
    for id in ["a1", "b1", "c1"] {
        assert!(pair.provisioned(id).is_some(), "{id} provisioned");
    }
    assert_eq!(report.provisioned, 3);
}

#[tokio::test(start_paused = true)]
async fn creations_answered_500_that_did_not_land_are_sent_again_within_the_cycle() {
    // Two rounds of the three creations fail, and the first of the third.
    let pair = three_people_and(burst(7, false));
    let started = tokio::time::Instant::now();
    let report = pair.initial().await;
    assert_eq!((report.created, report.failed), (3, 0), "{report:?}");
    assert!(!report.mostly_failed());
    assert_eq!(pair.target.users().len(), 3, "created once each");
    assert_eq!(creations(&pair.target.take_log()), 3 + 3 + 3 + 1);
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(200) && waited < std::time::Duration::from_secs(10),
        "backoff between rounds, seconds in all: {waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_look_up_answered_with_another_user_is_no_proof_that_a_creation_landed() {
    // A server that ignores the filter answers the look-up by anchor with its whole directory.
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.target.put(user(
        "own",
        &[("userName", "boss@fabrikam.com"), ("userType", "Member")],
    ));
    pair.target.set_faults(Faults {
        look_ups_ignore_filter: true,
        ..burst(1, false)
    });
    let report = pair.initial().await;
    assert_eq!((report.created, report.failed), (1, 0), "{report:?}");
    assert!(pair.provisioned("a1").is_some(), "sent again, and created");
}

#[tokio::test(start_paused = true)]
async fn a_creation_whose_look_up_fails_is_not_sent_again() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.target.set_faults(Faults {
        look_ups: Some(FaultKind::Unreachable),
        ..burst(1, true)
    });
    let report = pair.initial().await;
    assert_eq!((report.created, report.failed), (0, 1), "{report:?}");
    assert_eq!(creations(&pair.target.take_log()), 1, "not sent blindly");
    assert_eq!(pair.target.users().len(), 1);
    assert_eq!(
        report.failures[0].message,
        FaultKind::ServerError.error().to_string(),
        "the server's answer stays"
    );
}

#[tokio::test(start_paused = true)]
async fn creations_failing_for_good_end_the_cycle_counted_as_failed() {
    let pair = three_people_and(Faults {
        writes: Some(FaultKind::ServerError),
        ..Faults::default()
    });
    let started = tokio::time::Instant::now();
    let report = pair.initial().await;
    assert_eq!((report.created, report.failed), (0, 3), "{report:?}");
    assert!(report.mostly_failed());
    let sent = creations(&pair.target.take_log());
    assert!(sent > 3 && sent <= 3 * 11, "a bounded number of rounds: {sent}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5 * 60),
        "{:?}",
        started.elapsed()
    );
    assert!(pair.target.users().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_creation_refused_for_what_it_is_is_not_sent_again() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.target.set_faults(Faults {
        writes: Some(FaultKind::Rejected),
        ..Faults::default()
    });
    let report = pair.initial().await;
    assert_eq!(report.failed, 1);
    let requests = pair.target.take_log();
    assert_eq!((creations(&requests), look_ups(&requests)), (1, 0), "{requests:?}");
}

#[tokio::test(start_paused = true)]
async fn an_on_demand_creation_answered_500_is_looked_up_and_not_duplicated() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.target.set_faults(burst(1, true));
    let outcome = provision_on_demand(&pair.source, &pair.target, &pair.input(None, None), "alice@contoso.com")
        .await
        .expect("answers");
    assert_eq!(outcome.result, OnDemandVerdict::Created, "{}", outcome.message);
    assert_eq!(pair.target.users().len(), 1);
}
