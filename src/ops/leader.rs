//! Leader election on a `coordination.k8s.io` Lease named per release (`--lease-name`, default
//! `xtsync`; README, "Operating it"), with kube-lease-manager: only the holder runs the controllers; the others serve `/healthz` and
//! `/metrics` and write nothing. Lease duration 15 s, so a dead leader is replaced within ~20 s.
//! A leader that cannot show it still holds the Lease (`fence`) stops its controllers, cycles
//! in flight included, before the Lease expires, and exits: its pod restarts as a candidate.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};
use kube_lease_manager::{LeaseManagerBuilder, LeaseManagerError};

use super::fence::{self, Lost};
use super::http::Health;

/// The Lease's name unless `--lease-name` says otherwise (the chart names it after the release,
/// so that releases sharing a namespace elect their leaders apart).
pub const DEFAULT_LEASE_NAME: &str = "xtsync";
const LEASE_DURATION_SECONDS: u64 = 15;
const LEASE_GRACE_SECONDS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error(transparent)]
    Election(#[from] LeaseManagerError),
    #[error("stopped leading: {0}")]
    Lost(Lost),
}

/// Which Lease: the operator's namespace (`--lease-namespace`) and `--lease-name`.
#[derive(Clone, Copy, Debug)]
pub struct LeaseId<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
}

/// Runs `work()` while this replica holds the Lease, stops it when the Lease is lost, and starts
/// it again when regained. Returns when the work ends by itself (a shutdown signal); the Lease is
/// then released so that a standby takes over at once.
pub async fn run_while_leader<F, Fut>(
    client: Client,
    lease: LeaseId<'_>,
    identity: &str,
    health: Arc<Health>,
    work: F,
) -> Result<(), LeaderError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let LeaseId {
        namespace,
        name: lease_name,
    } = lease;
    let manager = LeaseManagerBuilder::new(client.clone(), lease_name)
        .with_namespace(namespace)
        .with_identity(identity)
        .with_duration(LEASE_DURATION_SECONDS)
        .with_grace(LEASE_GRACE_SECONDS)
        .with_field_manager("xtsync")
        .build()
        .await?;
    let leases: Api<Lease> = Api::namespaced(client, namespace);
    let (mut leading, lease_task) = manager.watch().await;
    let mut running: Option<tokio::task::JoinHandle<()>> = None;
    let mut fence: Option<BoxFuture<'static, Lost>> = None;
    loop {
        let is_leader = *leading.borrow_and_update();
        health.metrics.leader.set(i64::from(is_leader));
        match (is_leader, running.is_some()) {
            (true, false) => {
                tracing::info!(
                    identity,
                    namespace,
                    lease_name,
                    "acquired the lease: starting the controllers"
                );
                health.ready.store(false, Ordering::Relaxed);
                running = Some(tokio::spawn(work()));
                let duration = Duration::from_secs(LEASE_DURATION_SECONDS);
                fence = Some(
                    fence::until_lost(leases.clone(), lease_name.to_owned(), identity.to_owned(), duration).boxed(),
                );
            }
            (false, true) => {
                tracing::warn!(identity, namespace, "lost the lease: stopping the controllers");
                stop(&mut running, &mut fence);
            }
            _ => {}
        }
        if !is_leader {
            // A standby is healthy and ready: it serves metrics, and has nothing to sync.
            health.ready.store(true, Ordering::Relaxed);
        }
        let standby = running.is_none();
        let finished = async {
            match running.as_mut() {
                Some(task) => {
                    let _ = task.await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let fenced = async {
            match fence.as_mut() {
                Some(fence) => fence.await,
                None => std::future::pending::<Lost>().await,
            }
        };
        tokio::select! {
            changed = leading.changed() => if changed.is_err() { break },
            () = finished => break,
            () = shutdown_signal(), if standby => break,
            lost = fenced => {
                tracing::error!(identity, namespace, %lost, "cannot show the lease held: stopping the controllers");
                stop(&mut running, &mut fence);
                health.metrics.leader.set(0);
                // Not released: it cannot be shown held, and the API server may be out of reach.
                lease_task.abort();
                return Err(LeaderError::Lost(lost));
            }
        }
    }
    // Closing the channel makes the lease task release the Lease.
    drop(leading);
    match lease_task.await {
        Ok(result) => result.map(|_| ()).map_err(LeaderError::from),
        Err(_) => Ok(()),
    }
}

/// Stops the controllers (aborting cycles in flight: their writes end with them) and the fence.
fn stop(running: &mut Option<tokio::task::JoinHandle<()>>, fence: &mut Option<BoxFuture<'static, Lost>>) {
    if let Some(task) = running.take() {
        task.abort();
    }
    *fence = None;
}

/// SIGTERM or Ctrl-C, for a standby (a leader's controllers handle the signal themselves).
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}
