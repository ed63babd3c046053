//! The last status written per SyncConfiguration (by uid). The watch cache may not show a
//! status write yet; what xtsync wrote is newer (only xtsync writes this status), and the
//! scheduler must not run a cycle twice on a stale read.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use kube::ResourceExt;
use kube::runtime::reflector::Store;

use crate::api::sync_config::{SyncConfiguration, SyncConfigurationStatus};

#[derive(Default)]
pub struct WrittenStatuses(Mutex<HashMap<String, SyncConfigurationStatus>>);

impl WrittenStatuses {
    /// The newest status of `config`: the one written last, else the one the cache shows.
    pub fn latest(&self, config: &SyncConfiguration) -> SyncConfigurationStatus {
        let uid = config.uid().unwrap_or_default();
        self.0
            .lock()
            .ok()
            .and_then(|map| map.get(&uid).cloned())
            .unwrap_or_else(|| config.status.clone().unwrap_or_default())
    }

    /// Records `status` and forgets configurations that no longer exist, so that the map (and
    /// the quarantine gauge computed from it) follows the cluster.
    pub fn put(&self, uid: &str, status: SyncConfigurationStatus, live: &Store<SyncConfiguration>) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(uid.to_owned(), status);
            let uids: HashSet<String> = live.state().iter().filter_map(|c| c.uid()).collect();
            map.retain(|u, _| u == uid || uids.contains(u));
        }
    }

    /// How many configurations are quarantined now.
    pub fn quarantined(&self) -> i64 {
        self.0.lock().map_or(0, |map| {
            map.values()
                .filter(|s| s.quarantine.is_some())
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
