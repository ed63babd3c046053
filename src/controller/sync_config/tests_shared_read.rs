//! A first cycle from a shared source read that looked its target up (docs/architecture.md,
//! "Shared source reads") is not the full cycle that catches deletions: the next one is.

use super::schedule::{CycleKind, Decision, decide};
use super::tests::{INTERVAL, after, at, good, ran, requests};
use crate::api::sync_config::SyncConfigurationStatus;
use crate::cycle::CycleReport;

#[test]
fn a_first_cycle_that_looked_its_target_up_leaves_the_next_cycle_an_initial_one() {
    let looked_up = CycleReport {
        target_looked_up: true,
        ..good(true)
    };
    let status = after(&SyncConfigurationStatus::default(), &ran(Ok(looked_up), None), at(0)).status;
    assert!(
        status.watermark.is_some() && status.last_full_sync_time.is_none(),
        "{status:?}"
    );
    let next = decide(&status, &requests(1), INTERVAL, true, at(700));
    assert!(
        matches!(
            next,
            Decision::Run {
                kind: CycleKind::Initial,
                ..
            }
        ),
        "{next:?}"
    );
    // A first cycle that read its target whole is the full cycle: the next is Incremental.
    let whole = after(&SyncConfigurationStatus::default(), &ran(Ok(good(true)), None), at(0)).status;
    let next = decide(&whole, &requests(1), INTERVAL, true, at(700));
    assert!(matches!(
        next,
        Decision::Run {
            kind: CycleKind::Incremental,
            ..
        }
    ));
}
