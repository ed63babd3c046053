//! `spec.dryRun` (README, "Before and after: plan, dry run and the provisioning log"): a cycle
//! plans, counts and logs as a real one would, and writes nothing to the target.

use super::*;
use crate::cycle::audit::ActionResult;

#[tokio::test]
async fn a_dry_run_counts_what_a_cycle_would_do_and_writes_nothing() {
    let mut pair = CyclePair::all_users();
    for (id, name) in [("a1", "alice"), ("b1", "bob")] {
        pair.source.put(person(id, name));
    }
    pair.dry_run = true;
    let planned = pair.initial().await;
    assert_eq!(pair.target.take_writes(), [], "a dry run writes nothing");
    assert!(pair.target.users().is_empty());
    assert!(planned.dry_run);
    assert_eq!((planned.created, planned.failed), (2, 0));
    assert_eq!(planned.watermark, None, "a dry run moves no watermark");
    let records = pair.log.take();
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|r| r.result == ActionResult::Success && r.action.as_str() == "Create")
    );

    // The same cycle for real does exactly what the dry run said.
    pair.dry_run = false;
    let real = pair.initial().await;
    assert_eq!(
        (
            real.created,
            real.updated,
            real.adopted,
            real.deprovisioned,
            real.skipped,
            real.unchanged
        ),
        (
            planned.created,
            planned.updated,
            planned.adopted,
            planned.deprovisioned,
            planned.skipped,
            planned.unchanged
        )
    );
    assert_eq!(pair.target.take_writes().len(), 2);
}

#[tokio::test]
async fn a_dry_run_deprovisions_nothing_and_holds_what_the_threshold_would_hold() {
    let mut pair = CyclePair::all_users();
    pair.rules.deprovision.threshold = 1;
    for (id, name) in [("a1", "alice"), ("b1", "bob")] {
        pair.source.put(person(id, name));
    }
    pair.initial().await;
    pair.source.remove("a1");
    pair.source.remove("b1");
    pair.target.take_writes();
    pair.dry_run = true;
    let planned = pair.initial().await;
    assert_eq!(pair.target.take_writes(), []);
    assert_eq!(planned.deprovisioned, 0);
    assert_eq!(planned.withheld_deprovisions.map(|h| h.count), Some(2));
}
