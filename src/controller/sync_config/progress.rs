//! `status.progress` of a running cycle: the cycle reports where it is as often as it likes;
//! a task writes the latest report at most every 5 s, and removes it when the cycle ends. It
//! is written under a field manager of its own, so that the status writer (which never names
//! `progress`) and this one never take each other's fields.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::{Api, Resource};
use serde_json::json;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::api::sync_config::{CycleProgress, SyncConfiguration};
use crate::cycle::progress::{Phase, Progress};

/// The field manager of `status.progress`.
pub const PROGRESS_MANAGER: &str = "xtsync-progress";
/// At most one progress write this often.
const EVERY: Duration = Duration::from_secs(5);

pub struct ProgressWriter {
    latest: watch::Sender<Option<CycleProgress>>,
    started: Timestamp,
}

impl Progress for ProgressWriter {
    fn report(&self, phase: Phase, done: usize, total: usize) {
        self.latest.send_replace(Some(CycleProgress {
            phase: <&str>::from(phase).to_owned(),
            done: u32::try_from(done).unwrap_or(u32::MAX),
            total: u32::try_from(total).unwrap_or(u32::MAX),
            start_time: Time(self.started),
        }));
    }
}

/// Starts following one cycle of `name`; drop the writer when the cycle ends, then await the
/// task: `status.progress` is gone once it returns.
pub fn follow(api: Api<SyncConfiguration>, name: String) -> (ProgressWriter, tokio::task::JoinHandle<()>) {
    let (latest, mut reports) = watch::channel(None);
    let task = tokio::spawn(async move {
        let mut last_write: Option<Instant> = None;
        while reports.changed().await.is_ok() {
            if let Some(at) = last_write {
                tokio::select! {
                    () = tokio::time::sleep_until(at + EVERY) => {}
                    () = ended(&mut reports) => break,
                }
            }
            let progress = reports.borrow_and_update().clone();
            write(&api, &name, progress.as_ref()).await;
            last_write = Some(Instant::now());
        }
        write(&api, &name, None).await;
    });
    (
        ProgressWriter {
            latest,
            started: Timestamp::now(),
        },
        task,
    )
}

/// Returns when the writer is dropped (the cycle ended).
async fn ended(reports: &mut watch::Receiver<Option<CycleProgress>>) {
    while reports.changed().await.is_ok() {}
}

/// Applies `progress` (or, with `None`, removes it) under the progress manager.
async fn write(api: &Api<SyncConfiguration>, name: &str, progress: Option<&CycleProgress>) {
    let status = match progress {
        Some(progress) => json!({ "progress": progress }),
        None => json!({}),
    };
    let patch = json!({
        "apiVersion": SyncConfiguration::api_version(&()),
        "kind": SyncConfiguration::kind(&()),
        "status": status,
    });
    let params = PatchParams::apply(PROGRESS_MANAGER).force();
    if let Err(error) = api.patch_status(name, &params, &Patch::Apply(&patch)).await {
        // Progress is a courtesy: a failed write changes nothing the cycle does.
        tracing::debug!(%error, "could not write status.progress");
    }
}
