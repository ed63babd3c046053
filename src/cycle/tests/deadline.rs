//! Every cycle has a deadline (`cycle::deadline`): a cycle that reaches it stops, reports that
//! it timed out, and has deprovisioned nothing — however complete its reads would have been.

use std::time::Duration;

use super::*;

/// Alice and Bob provisioned; then Bob is deleted in the source, whose every read takes 40
/// minutes from then on: the read (40 min) and the direct read that confirms Bob gone (40 min
/// more) take longer than an hour.
async fn bob_leaves_a_slow_source(pair: &CyclePair) {
    for (id, name) in [("a1", "alice"), ("b1", "bob")] {
        pair.source.put(person(id, name));
    }
    pair.initial().await;
    pair.source.remove("b1");
    pair.source.slow_reads(Duration::from_secs(40 * 60));
}

#[tokio::test(start_paused = true)]
async fn a_cycle_past_its_deadline_deprovisions_nothing() {
    let pair = CyclePair::all_users();
    bob_leaves_a_slow_source(&pair).await;
    pair.target.take_log();
    let error = pair.try_cycle(None, None).await.expect_err("timed out");
    assert!(matches!(error, CycleError::TimedOut { .. }), "{error}");
    assert!(error.to_string().contains("3600s"), "names the deadline: {error}");
    assert!(pair.target.take_writes().is_empty(), "nothing deprovisioned");
    assert!(
        pair.provisioned("b1").is_some_and(|u| u.active()),
        "Bob, gone from the source, is still active"
    );
}

/// The same slow source with a longer deadline: the deadline, not the slowness, stopped it.
#[tokio::test(start_paused = true)]
async fn a_slow_cycle_within_its_deadline_deprovisions() {
    let mut pair = CyclePair::all_users();
    pair.deadline = Duration::from_secs(3 * 60 * 60);
    bob_leaves_a_slow_source(&pair).await;
    assert_eq!(pair.initial().await.deprovisioned, 1);
    assert!(pair.provisioned("b1").is_some_and(|u| !u.active()));
}
