//! One watch per kind, shared by every controller that cares about the kind.
//!
//! kube-runtime's shared streams do not forward deletions, and the gate must see them (a
//! deleted Tenant closes a gate; a deleted duplicate opens one). So each kind is watched once,
//! reflected into a `Store`, and every applied *or deleted* object is then fanned out to the
//! subscribers. The store is written before the object is forwarded, so a reconcile triggered
//! by an event always reads a cache at least as new as that event.

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

pub struct Feed<K: Resource + Clone + 'static>
where
    K::DynamicType: Hash + Eq + Clone,
{
    pub store: Store<K>,
    senders: Vec<mpsc::Sender<K>>,
    api: Api<K>,
    config: watcher::Config,
    writer: Option<reflector::store::Writer<K>>,
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
            health,
        }
    }

    /// A stream of every object applied to or deleted from the cluster, after the store saw it.
    pub fn subscribe(&mut self) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static {
        let (tx, rx) = mpsc::channel(BUFFER);
        self.senders.push(tx);
        rx.map(Ok)
    }

    /// Drives the watch; runs until the process stops. Watch errors are retried with backoff
    /// by the watcher, and logged here.
    pub async fn run(mut self) {
        let Some(writer) = self.writer.take() else {
            return;
        };
        let kind = K::kind(&K::DynamicType::default()).into_owned();
        let mut events = std::pin::pin!(watcher(self.api, self.config).default_backoff().reflect(writer));
        while let Some(event) = events.next().await {
            let objects = match event {
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o) | watcher::Event::Delete(o)) => vec![o],
                Ok(watcher::Event::Init | watcher::Event::InitDone) => continue,
                Err(error) => {
                    tracing::warn!(%kind, %error, "watch failed; retrying");
                    continue;
                }
            };
            self.health.liveness.delivering(&kind, Instant::now());
            for object in objects {
                for sender in &mut self.senders {
                    // A closed subscriber is a stopped controller: nothing left to tell.
                    let _ = sender.send(object.clone()).await;
                }
            }
            self.health.liveness.delivered(&kind);
        }
    }
}
