//! Fair scheduling of cycles (README, "Operating it"): at most `--max-concurrent-cycles` Initial
//! cycles run at once, and as many Incremental ones — in slots of their own, so that long
//! Initial cycles (full reads of large tenants) never hold other configurations' incremental
//! cycles past their interval. A cycle that waits for a slot is counted in
//! `xtsync_cycles_waiting`.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::ops::metrics::Metrics;

/// Cycles of each kind running at once, by default: cycles mostly wait on directories, so a
/// few per core.
pub const DEFAULT_MAX_CONCURRENT_CYCLES: usize = 4;

pub struct CycleSlots {
    initial: Arc<Semaphore>,
    incremental: Arc<Semaphore>,
}

impl CycleSlots {
    pub fn new(per_kind: usize) -> Self {
        CycleSlots {
            initial: Arc::new(Semaphore::new(per_kind.max(1))),
            incremental: Arc::new(Semaphore::new(per_kind.max(1))),
        }
    }

    /// A slot for a cycle of that kind, waited for (and counted as waiting) when all are taken.
    pub async fn take(&self, initial: bool, metrics: &Metrics) -> Option<OwnedSemaphorePermit> {
        let slots = if initial { &self.initial } else { &self.incremental };
        if let Ok(permit) = slots.clone().try_acquire_owned() {
            return Some(permit);
        }
        metrics.cycles_waiting.inc();
        let permit = slots.clone().acquire_owned().await.ok();
        metrics.cycles_waiting.dec();
        permit
    }
}

impl Default for CycleSlots {
    fn default() -> Self {
        CycleSlots::new(DEFAULT_MAX_CONCURRENT_CYCLES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn initial_cycles_never_take_the_slots_of_incremental_ones() {
        let (slots, metrics) = (CycleSlots::new(1), Metrics::default());
        let long_initial = slots.take(true, &metrics).await.expect("a slot");
        // Another configuration's incremental cycle runs at once…
        let incremental = tokio::time::timeout(std::time::Duration::from_millis(50), slots.take(false, &metrics));
        assert!(incremental.await.is_ok_and(|p| p.is_some()));
        // …while a second Initial cycle waits, and is counted as waiting.
        let waiting = slots.take(true, &metrics);
        tokio::pin!(waiting);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), &mut waiting)
                .await
                .is_err()
        );
        assert_eq!(metrics.cycles_waiting.get(), 1);
        drop(long_initial);
        assert!(waiting.await.is_some());
        assert_eq!(metrics.cycles_waiting.get(), 0);
    }
}
