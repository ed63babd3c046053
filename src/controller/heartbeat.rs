//! What the controllers tell `ops::liveness` (README, "Operating it"): work that reached a
//! controller (its own objects' changes, and the objects its mappers name), each reconcile's
//! start, and each outcome — so that `/healthz` fails when a controller stops taking work.
//!
//! `XTSYNC_DEBUG_STALL=<controller>` makes that controller take no work at all: its reconciles
//! wait forever before they start. It exists to show liveness failing on a real operator.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use futures::{Stream, StreamExt};
use kube::Resource;
use kube::runtime::controller::{self, Action};
use kube::runtime::reflector::ObjectRef;

use super::{Context, Error};
use crate::ops::http::Health;
use crate::ops::liveness::{Controller, Key};

fn key_of<K: Resource>(object: &K) -> Key {
    Key {
        namespace: object.meta().namespace.clone(),
        name: object.meta().name.clone().unwrap_or_default(),
    }
}

fn key_of_ref<K: Resource>(reference: &ObjectRef<K>) -> Key {
    Key {
        namespace: reference.namespace.clone(),
        name: reference.name.clone(),
    }
}

/// The controllers' loops are tracked from their start — a stall counted only once every
/// watch has listed (`Liveness::listed`) — until this guard is dropped (the controllers
/// stopped, or were stopped with the Lease): a standby has nothing waiting.
pub struct Tracked(Arc<Health>);

impl Tracked {
    pub fn start(health: &Arc<Health>) -> Tracked {
        let all = [
            Controller::Tenant,
            Controller::Policy,
            Controller::SyncConfiguration,
            Controller::Organization,
        ];
        health.liveness.started_controllers(&all, Instant::now());
        Tracked(health.clone())
    }

    /// Every watch has listed: the controllers take work from now on.
    pub fn listed(&self) {
        self.0.liveness.listed(Instant::now());
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.liveness.stopped_controllers();
    }
}

/// `stream`, each object noted as work arrived for `controller`.
pub fn arriving<K, E, S>(
    stream: S,
    health: &Arc<Health>,
    controller: Controller,
) -> impl Stream<Item = Result<K, E>> + use<K, E, S>
where
    K: Resource,
    S: Stream<Item = Result<K, E>>,
{
    let health = health.clone();
    stream.inspect(move |item| {
        if let Ok(object) = item {
            health.liveness.arrived(controller, key_of(object), Instant::now());
        }
    })
}

/// `mapper`, each object it names noted as work arrived for `controller`.
pub fn mapping<T, K, F>(
    mapper: F,
    health: &Arc<Health>,
    controller: Controller,
) -> impl Fn(T) -> Vec<ObjectRef<K>> + Send + Sync + 'static + use<T, K, F>
where
    K: Resource,
    F: Fn(T) -> Vec<ObjectRef<K>> + Send + Sync + 'static,
{
    let health = health.clone();
    move |changed| {
        let named = mapper(changed);
        let now = Instant::now();
        for reference in &named {
            health.liveness.arrived(controller, key_of_ref(reference), now);
        }
        named
    }
}

/// `reconcile`, its start noted — or, for the controller `XTSYNC_DEBUG_STALL` names, never
/// started at all.
pub fn taking<K, F, Fut>(
    reconcile: F,
    controller: Controller,
) -> impl FnMut(Arc<K>, Arc<Context>) -> futures::future::BoxFuture<'static, Result<Action, Error>> + use<K, F, Fut>
where
    K: Resource + Send + Sync + 'static,
    F: Fn(Arc<K>, Arc<Context>) -> Fut,
    Fut: Future<Output = Result<Action, Error>> + Send + 'static,
{
    move |object, ctx| {
        let key = key_of(object.as_ref());
        let work = reconcile(object, ctx.clone());
        Box::pin(async move {
            if ctx.settings.debug_stall == Some(controller) {
                std::future::pending::<()>().await;
            }
            ctx.health.liveness.started(controller, &key, Instant::now());
            work.await
        })
    }
}

/// What a kube-runtime controller yields per reconcile.
type Outcome<K, Q> = Result<(ObjectRef<K>, Action), controller::Error<Error, Q>>;

/// Notes each reconcile's outcome, and counts it in `xtsync_reconciles_total`.
pub fn settled<K, Q>(
    controller: Controller,
    health: &Arc<Health>,
) -> impl FnMut(Outcome<K, Q>) -> futures::future::Ready<()> + use<K, Q>
where
    K: Resource,
{
    let health = health.clone();
    move |result| {
        let now = Instant::now();
        match &result {
            Ok((reference, _)) => health.liveness.finished(controller, &key_of_ref(reference), now),
            Err(controller::Error::ReconcilerFailed(_, reference)) => {
                health
                    .liveness
                    .finished(controller, &key_of_ref(reference.as_ref()), now);
            }
            Err(controller::Error::ObjectNotFound(reference)) => {
                health.liveness.gone(controller, &key_of_ref(reference.as_ref()), now);
            }
            Err(_) => {}
        }
        health.metrics.reconciled(controller.kind(), result.is_ok());
        futures::future::ready(())
    }
}
