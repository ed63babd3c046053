//! Every cycle has a deadline: its interval, and at least an hour. A directory that answers
//! slowly without end, or throttles within each request's bounds forever, cannot hold a
//! configuration's cycle open: at the deadline the cycle stops and reports that it timed out.
//!
//! Deprovisioning is where a cycle acts on what it has read (README, "Safety"), so the deadline
//! cuts a cycle short only until its first deprovisioning: a cycle past its deadline never
//! begins to deprovision, and one that began before it finishes what the threshold let
//! through (each request is bounded on its own) — a cycle that reports `TimedOut` has
//! deprovisioned nothing.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::report::CycleError;

/// The shortest deadline of a cycle, whatever its interval.
pub const SHORTEST: Duration = Duration::from_secs(60 * 60);

pub struct Deadline {
    at: Instant,
    allowed: Duration,
    /// The cycle began to deprovision before its deadline: it is no longer cut short.
    deprovisioning: AtomicBool,
}

impl Deadline {
    /// The deadline of a cycle starting now, of a configuration with this interval.
    pub fn of_interval(interval: Duration) -> Deadline {
        Deadline::after(interval.max(SHORTEST))
    }

    /// A deadline `allowed` from now.
    pub fn after(allowed: Duration) -> Deadline {
        let now = Instant::now();
        Deadline {
            // Beyond what the clock holds is never.
            at: now
                .checked_add(allowed)
                .unwrap_or_else(|| now + Duration::from_secs(u64::from(u32::MAX))),
            allowed,
            deprovisioning: AtomicBool::new(false),
        }
    }

    /// Asked before a cycle's first deprovisioning: true when it may begin (the deadline has not
    /// passed), and from then on the deadline no longer cuts the cycle short; false when the
    /// deadline has passed and the cycle must stop instead.
    pub fn begin_deprovisioning(&self) -> bool {
        if self.deprovisioning.load(Ordering::SeqCst) {
            return true;
        }
        if Instant::now() >= self.at {
            return false;
        }
        self.deprovisioning.store(true, Ordering::SeqCst);
        true
    }

    /// The error of a cycle that reached this deadline.
    pub fn timed_out(&self) -> CycleError {
        CycleError::TimedOut { after: self.allowed }
    }

    /// Runs `cycle` to its end, or until the deadline if it comes before the first
    /// deprovisioning (then the cycle is dropped, with every request it had in flight).
    pub async fn bound<T>(&self, cycle: impl Future<Output = Result<T, CycleError>>) -> Result<T, CycleError> {
        tokio::select! {
            // A cycle that ended at the deadline ended in time.
            biased;
            result = cycle => result,
            () = self.reached() => Err(self.timed_out()),
        }
    }

    /// Resolves at the deadline, unless deprovisioning began before it (then never).
    async fn reached(&self) {
        tokio::time::sleep_until(self.at).await;
        if self.deprovisioning.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_the_interval_and_at_least_an_hour() {
        assert_eq!(Deadline::of_interval(Duration::from_secs(600)).allowed, SHORTEST);
        let long = Duration::from_secs(3 * 60 * 60);
        assert_eq!(Deadline::of_interval(long).allowed, long);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cycle_that_began_to_deprovision_is_not_cut_short() {
        let deadline = Deadline::after(Duration::from_secs(10));
        let cycle = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            assert!(deadline.begin_deprovisioning());
            tokio::time::sleep(Duration::from_secs(20)).await;
            Ok("deprovisioned")
        };
        assert_eq!(deadline.bound(cycle).await.ok(), Some("deprovisioned"));
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_deadline_no_deprovisioning_begins() {
        let deadline = Deadline::after(Duration::from_secs(10));
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(!deadline.begin_deprovisioning());
        let cycle = async { std::future::pending::<Result<(), CycleError>>().await };
        let error = deadline.bound(cycle).await.expect_err("timed out");
        assert!(matches!(error, CycleError::TimedOut { after } if after == Duration::from_secs(10)));
    }
}
