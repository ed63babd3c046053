//! One budget per directory (README, "Operating it"): every client of the same directory — the
//! same SCIM base URL, the same Graph endpoint and tenant — shares one limit of requests in
//! flight and one throttle hold, whatever the number of configurations talking to it. A 429
//! seen by one configuration slows them all, and the directory never sees more requests at
//! once than its Tenant's `maxConcurrency`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard, Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// Requests in flight at once towards one directory unless its Tenant says otherwise. Kept
/// under the default listen backlog of small servers (Python's socketserver: 5): beyond it,
/// connections wait for a SYN retry (1 s).
pub const DEFAULT_CONCURRENCY: usize = 4;

/// What the clients of one directory share.
pub struct DirectoryBudget {
    limit: usize,
    permits: Semaphore,
    /// No request is sent before this instant (the directory's latest `Retry-After`).
    not_before: Mutex<Instant>,
    /// Writes hold it shared, one attempt at a time; a full listing holds it alone, so that
    /// no configuration's write lands between two of its pages (offset paging fails a read
    /// whose total changes, and with many configurations writing one target it would always).
    writes: RwLock<()>,
}

impl DirectoryBudget {
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        DirectoryBudget {
            limit,
            permits: Semaphore::new(limit),
            not_before: Mutex::new(Instant::now()),
            writes: RwLock::new(()),
        }
    }

    /// A write may be sent: no listing holds the directory still. Held for one attempt.
    pub async fn write_slot(&self) -> RwLockReadGuard<'_, ()> {
        self.writes.read().await
    }

    /// Holds every write of every configuration to this directory back, once those in flight
    /// are answered, until the guard is dropped. Only for a read that waits on nothing else
    /// (never a read whose pages wait for the cycle's writes: two such reads could hold each
    /// other's directories).
    pub async fn still(&self) -> RwLockWriteGuard<'_, ()> {
        self.writes.write().await
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A place among the requests in flight; held for one attempt.
    pub async fn permit(&self) -> Option<SemaphorePermit<'_>> {
        self.permits.acquire().await.ok()
    }

    pub fn not_before(&self) -> Instant {
        self.not_before.lock().map_or_else(|_| Instant::now(), |t| *t)
    }

    /// Holds every request until `until` (never shortens a hold).
    pub fn hold_until(&self, until: Instant) {
        if let Ok(mut not_before) = self.not_before.lock() {
            *not_before = (*not_before).max(until);
        }
    }
}

/// The budgets of every directory the operator talks to, by directory.
#[derive(Default)]
pub struct Budgets {
    directories: Mutex<HashMap<String, Arc<DirectoryBudget>>>,
}

impl Budgets {
    /// The budget of the directory `key`, with `limit` requests in flight. A changed limit
    /// starts a new budget (requests in flight under the old one finish under it).
    pub fn of(&self, key: &str, limit: usize) -> Arc<DirectoryBudget> {
        let Ok(mut directories) = self.directories.lock() else {
            return Arc::new(DirectoryBudget::new(limit));
        };
        match directories.get(key) {
            Some(budget) if budget.limit() == limit.max(1) => budget.clone(),
            _ => {
                let budget = Arc::new(DirectoryBudget::new(limit));
                directories.insert(key.to_owned(), budget.clone());
                budget
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_directory_one_budget_until_its_limit_changes() {
        let budgets = Budgets::default();
        let first = budgets.of("scim https://a/v2", 4);
        assert!(Arc::ptr_eq(&first, &budgets.of("scim https://a/v2", 4)));
        assert!(!Arc::ptr_eq(&first, &budgets.of("scim https://b/v2", 4)));
        let changed = budgets.of("scim https://a/v2", 8);
        assert_eq!(changed.limit(), 8);
        assert!(!Arc::ptr_eq(&first, &changed));
        assert_eq!(DirectoryBudget::new(0).limit(), 1, "never zero requests in flight");
    }
}
