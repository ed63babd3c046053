//! What one reconcile of a SyncConfiguration found and did: the input of `status::next`, of
//! the Events and of the metrics.

use std::time::Duration;

use crate::cycle::{CycleError, CycleReport, OnDemandOutcome};
use crate::gate::{Closed, OpenPair};
use crate::validate::SpecProblems;

pub enum Outcome {
    /// Validation failed: `Ready=False`, `InvalidSpec`.
    Invalid(SpecProblems),
    /// The gate is closed.
    Closed(Closed),
    /// The gate is open and `spec.suspend` is set: no cycle runs.
    Suspended(OpenPair),
    Open(Box<Open>),
}

/// The gate is open.
pub struct Open {
    pub pair: OpenPair,
    pub interval: Duration,
    /// The on-demand request answered in this reconcile, and the answer.
    pub on_demand: Option<(String, OnDemandOutcome)>,
    pub step: Step,
}

pub enum Step {
    /// No cycle was due; the next one is due after this long.
    Wait(Duration),
    Ran(Box<Ran>),
}

/// A cycle ran (or tried to).
pub struct Ran {
    /// The cycle's id, as in its provisioning log records.
    pub id: String,
    /// The `xtsync.io/restart` value this cycle acted on.
    pub restart: Option<String>,
    pub result: Result<CycleReport, CycleError>,
    /// How long the cycle took (monotonic clock); it completed this long after the reconcile's `now`.
    pub elapsed: Duration,
}
