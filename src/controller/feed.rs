//! One watch per kind, shared by every controller that cares about the kind.
//!
//! kube-runtime's shared streams do not forward deletions, and the gate must see them (a
//! deleted Tenant closes a gate; a deleted duplicate opens one). So each kind is watched once,
//! reflected into a `Store`, and every applied *or deleted* object is then fanned out to the
//! subscribers. The store is written before the object is forwarded, so a reconcile triggered
//! by an event always reads a cache at least as new as that event.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Instant;

use futures::channel::mpsc;
use futures::{SinkExt, Stream, StreamExt};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;

use crate::ops::http::Health;

/// Events waiting for a slow subscriber before the watch itself waits.
const BUFFER: usize = 256;

/// A secondary index kept beside a Feed's store (kube-runtime's `Store` has none).
pub trait FeedIndex<K>: Send + Sync {
    fn event(&self, event: &watcher::Event<K>);
}

pub struct Feed<K: Resource + Clone + 'static>
where
    K::DynamicType: Hash + Eq + Clone,
{
    pub store: Store<K>,
    senders: Vec<Subscriber<K>>,
    api: Api<K>,
    config: watcher::Config,
    writer: Option<reflector::store::Writer<K>>,
    /// Told every event before the store is (`FeedIndex`).
    indexes: Vec<Arc<dyn FeedIndex<K>>>,
    /// Told while an event waits for a subscriber: a watch that cannot hand events over is stalled.
    health: Arc<Health>,
}

impl<K> Feed<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Hash + Eq + Clone,
{
    pub fn new(api: Api<K>, config: watcher::Config, health: Arc<Health>) -> Self {
        let (store, writer) = reflector::store();
        Feed {
            store,
            senders: Vec::new(),
            api,
            config,
            writer: Some(writer),
            indexes: Vec::new(),
            health,
        }
    }

    /// Keeps `index` beside the store: it sees every event just before the store does, so that
    /// an object a reconcile finds in the store is in the index too.
    pub fn index_with(&mut self, index: Arc<dyn FeedIndex<K>>) {
        self.indexes.push(index);
    }

    /// A stream of every object applied to or deleted from the cluster, after the store saw it.
    pub fn subscribe(&mut self) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static {
        self.subscribe_with(None)
    }

    /// Like `subscribe`, but an applied object passes only when `fingerprint` — what the
    /// subscriber reads of it — changed since it last passed; a deletion always passes. (kube's
    /// `predicate_filter` drops a deletion whose object looks unchanged.)
    pub fn subscribe_changes(
        &mut self,
        fingerprint: fn(&K) -> u64,
    ) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static {
        self.subscribe_with(Some(fingerprint))
    }

    fn subscribe_with(
        &mut self,
        fingerprint: Option<fn(&K) -> u64>,
    ) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static {
        let (tx, rx) = mpsc::channel(BUFFER);
        self.senders.push(Subscriber {
            tx,
            fingerprint,
            seen: HashMap::new(),
        });
        rx.map(Ok)
    }

    /// Drives the watch; runs until the process stops. Watch errors are retried with backoff
    /// by the watcher, and logged here.
    pub async fn run(mut self) {
        let Some(mut writer) = self.writer.take() else {
            return;
        };
        let kind = K::kind(&K::DynamicType::default()).into_owned();
        // managedFields is the apiserver's bookkeeping, read by nothing here, and often the
        // largest part of an object: with thousands of configurations it is most of the cache.
        let mut events = std::pin::pin!(
            watcher(self.api, self.config)
                .default_backoff()
                .modify(|object| object.meta_mut().managed_fields = None)
        );
        while let Some(event) = events.next().await {
            if let Ok(event) = &event {
                for index in &self.indexes {
                    index.event(event);
                }
                writer.apply_watcher_event(event);
            }
            let (object, deleted) = match event {
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => (o, false),
                Ok(watcher::Event::Delete(o)) => (o, true),
                Ok(watcher::Event::Init | watcher::Event::InitDone) => continue,
                Err(error) => {
                    tracing::warn!(%kind, %error, "watch failed; retrying");
                    continue;
                }
            };
            self.health.liveness.delivering(&kind, Instant::now());
            for sender in &mut self.senders {
                if sender.passes(&object, deleted) {
                    // A closed subscriber is a stopped controller: nothing left to tell.
                    let _ = sender.tx.send(object.clone()).await;
                }
            }
            self.health.liveness.delivered(&kind);
        }
    }
}

struct Subscriber<K> {
    tx: mpsc::Sender<K>,
    fingerprint: Option<fn(&K) -> u64>,
    /// The fingerprint each object last passed with, by namespace and name.
    seen: HashMap<(String, String), u64>,
}

impl<K: Resource> Subscriber<K> {
    fn passes(&mut self, object: &K, deleted: bool) -> bool {
        let Some(fingerprint) = self.fingerprint else {
            return true;
        };
        let meta = object.meta();
        let key = (
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone().unwrap_or_default(),
        );
        if deleted {
            self.seen.remove(&key);
            return true;
        }
        let print = fingerprint(object);
        self.seen.insert(key, print) != Some(print)
    }
}
