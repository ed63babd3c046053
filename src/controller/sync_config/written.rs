//! The latest status per SyncConfiguration (by uid), and whether it reached the cluster. The
//! watch cache may not show a status write yet; what xtsync computed is newer (only xtsync
//! writes this status), and the scheduler must not run a cycle twice on a stale read — nor
//! when the status write itself failed (README, "Safety"): the cycle happened, its writes are done,
//! and only the status is retried.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube::ResourceExt;
use kube::runtime::reflector::Store;

use crate::api::sync_config::{SyncConfiguration, SyncConfigurationStatus};

#[derive(Default)]
pub struct WrittenStatuses(Mutex<HashMap<String, Latest>>, Mutex<Option<Instant>>);

/// How often `put` forgets configurations that no longer exist: each time is a pass over the
/// cache, too much for every status write of thousands of configurations.
const PRUNE_EVERY: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct Latest {
    status: SyncConfigurationStatus,
    /// The cluster has this status (the last write of it succeeded).
    persisted: bool,
}

impl WrittenStatuses {
    /// The newest status of `config`: the one written last, else the one the cache shows.
    pub fn latest(&self, config: &SyncConfiguration) -> SyncConfigurationStatus {
        let uid = config.uid().unwrap_or_default();
        self.0
            .lock()
            .ok()
            .and_then(|map| map.get(&uid).map(|l| l.status.clone()))
            .unwrap_or_else(|| config.status.clone().unwrap_or_default())
    }

    /// Whether `next` must be written: it differs from the latest status, or the latest did not
    /// reach the cluster.
    pub fn needs_write(&self, uid: &str, next: &SyncConfigurationStatus, previous: &SyncConfigurationStatus) -> bool {
        let unpersisted = self
            .0
            .lock()
            .ok()
            .and_then(|map| map.get(uid).map(|l| !l.persisted))
            .unwrap_or(false);
        next != previous || unpersisted
    }

    /// Records `status` and, every `PRUNE_EVERY`, forgets configurations that no longer exist,
    /// so that the map (and the quarantine gauge computed from it) follows the cluster.
    pub fn put(&self, uid: &str, status: SyncConfigurationStatus, persisted: bool, live: &Store<SyncConfiguration>) {
        let prune = self.1.lock().is_ok_and(|mut last| {
            let due = last.is_none_or(|at| at.elapsed() >= PRUNE_EVERY);
            if due {
                *last = Some(Instant::now());
            }
            due
        });
        if let Ok(mut map) = self.0.lock() {
            map.insert(uid.to_owned(), Latest { status, persisted });
            if prune {
                let uids: HashSet<String> = live.state().iter().filter_map(|c| c.uid()).collect();
                map.retain(|u, _| u == uid || uids.contains(u));
            }
        }
    }

    /// How many configurations are quarantined now.
    pub fn quarantined(&self) -> i64 {
        self.0.lock().map_or(0, |map| {
            map.values()
                .filter(|l| l.status.quarantine.is_some())
                .count()
                .try_into()
                .unwrap_or(i64::MAX)
        })
    }

    pub fn forget(&self, uid: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(uid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::sync_config::SyncConfigurationSpec;

    fn config(status: Option<SyncConfigurationStatus>) -> SyncConfiguration {
        let spec: SyncConfigurationSpec =
            serde_json::from_value(serde_json::json!({ "sourceRef": { "name": "s" }, "targetRef": { "name": "t" } }))
                .expect("spec");
        let mut config = SyncConfiguration::new("c", spec);
        config.metadata.uid = Some("u1".into());
        config.status = status;
        config
    }

    #[test]
    fn a_status_whose_write_failed_is_still_the_latest_and_is_written_again() {
        // README, "Safety": a failed status write once made the next reconcile run the cycle again.
        let (live, _writer) = kube::runtime::reflector::store::<SyncConfiguration>();
        let written = WrittenStatuses::default();
        let stale = SyncConfigurationStatus::default();
        let after_cycle = SyncConfigurationStatus {
            watermark: Some("w".into()),
            ..SyncConfigurationStatus::default()
        };
        written.put("u1", after_cycle.clone(), false, &live);
        let latest = written.latest(&config(Some(stale)));
        assert_eq!(latest, after_cycle, "the scheduler sees the cycle that ran");
        assert!(
            written.needs_write("u1", &latest, &latest),
            "the status write is retried"
        );
        written.put("u1", after_cycle.clone(), true, &live);
        assert!(!written.needs_write("u1", &after_cycle, &after_cycle));
    }
}
