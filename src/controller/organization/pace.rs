//! How often one Organization is reconciled in full. Every generated configuration it watches
//! wakes it (created, Ready, edited, deleted); with thousands of them, each wake-up a pass over
//! all of them, the Organization would take a core for itself while they settle. So a wake-up
//! that comes less than `PACE` after the last full reconcile, for the same generation, only
//! schedules the next one: a spec change (a new generation) is never held back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The least time between two full reconciles of one Organization at the same generation.
pub const PACE: Duration = Duration::from_secs(2);

/// An Organization by namespace and name.
type OrganizationKey = (String, String);

/// Each Organization's last full reconcile: its generation then, and when it ended.
#[derive(Default)]
pub struct OrganizationPace(Mutex<HashMap<OrganizationKey, (Option<i64>, Instant)>>);

impl OrganizationPace {
    /// How long the reconcile of `ns/name` at `generation` must wait, if it must.
    pub fn wait(&self, key: &OrganizationKey, generation: Option<i64>) -> Option<Duration> {
        let last = self.0.lock().ok()?.get(key).copied()?;
        let (last_generation, at) = last;
        let elapsed = at.elapsed();
        (last_generation == generation && elapsed < PACE).then(|| PACE - elapsed)
    }

    /// A full reconcile of `ns/name` at `generation` ended now.
    pub fn reconciled(&self, key: OrganizationKey, generation: Option<i64>) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(key, (generation, Instant::now()));
        }
    }

    /// The Organization is gone: nothing to pace.
    pub fn forget(&self, key: &OrganizationKey) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_reconcile_at_the_same_generation_waits_and_a_new_generation_does_not() {
        let pace = OrganizationPace::default();
        let key = ("ns".to_owned(), "group".to_owned());
        assert_eq!(pace.wait(&key, Some(1)), None, "never reconciled: at once");
        pace.reconciled(key.clone(), Some(1));
        let wait = pace.wait(&key, Some(1)).expect("paced");
        assert!(wait <= PACE && wait > PACE / 2, "{wait:?}");
        assert_eq!(pace.wait(&key, Some(2)), None, "a spec change is never held back");
        pace.forget(&key);
        assert_eq!(pace.wait(&key, Some(1)), None);
    }
}
