//! `status.progress` of a running cycle: the cycle reports where it is as often as it likes;
//! a task writes the latest report once the cycle has run for 2 s, then at most every 5 s, and
//! removes it when the cycle ends. A shorter cycle writes nothing: it is over before anyone
//! could read it, and showing it would cost the apiserver two writes per cycle for nothing. It
//! is written under a field manager of its own, so that the status writer (which never names
//! `progress`) and this one never take each other's fields.

use std::future::Future;
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
/// The first progress write of a cycle comes this long after it started, if it still runs.
const FIRST_AFTER: Duration = Duration::from_secs(2);
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
/// task: `status.progress` is gone once it returns. `shown`: the cluster may show a progress
/// already (a cycle cut short by a restart left it), removed at the end even if this cycle
/// writes none.
pub fn follow(api: Api<SyncConfiguration>, name: String, shown: bool) -> (ProgressWriter, tokio::task::JoinHandle<()>) {
    follow_with(shown, move |progress| {
        let (api, name) = (api.clone(), name.clone());
        async move { write(&api, &name, progress.as_ref()).await }
    })
}

/// `follow`, with `write` applying a progress (`None`: removing it).
fn follow_with<W, F>(shown: bool, mut write: W) -> (ProgressWriter, tokio::task::JoinHandle<()>)
where
    W: FnMut(Option<CycleProgress>) -> F + Send + 'static,
    F: Future<Output = ()> + Send,
{
    let (latest, mut reports) = watch::channel(None);
    let task = tokio::spawn(async move {
        let mut shown = shown;
        let mut next_write = Instant::now() + FIRST_AFTER;
        while reports.changed().await.is_ok() {
            tokio::select! {
                () = tokio::time::sleep_until(next_write) => {}
                () = ended(&mut reports) => break,
            }
            let progress = reports.borrow_and_update().clone();
            write(progress).await;
            shown = true;
            next_write = Instant::now() + EVERY;
        }
        if shown {
            write(None).await;
        }
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    type Writes = Arc<Mutex<Vec<(Duration, Option<String>)>>>;

    /// Follows a cycle with a writer that records (when, which phase) it wrote.
    fn recorded(shown: bool) -> (ProgressWriter, tokio::task::JoinHandle<()>, Writes) {
        let writes: Writes = Arc::default();
        let into = writes.clone();
        let start = Instant::now();
        let (writer, task) = follow_with(shown, move |progress| {
            let phase = progress.map(|p| p.phase);
            into.lock().expect("writes").push((start.elapsed(), phase));
            async {}
        });
        (writer, task, writes)
    }

    fn taken(writes: &Writes) -> Vec<(Duration, Option<String>)> {
        writes.lock().expect("writes").clone()
    }

    #[tokio::test(start_paused = true)]
    async fn a_cycle_shorter_than_two_seconds_writes_no_progress() {
        let (writer, task, writes) = recorded(false);
        writer.report(Phase::Reading, 0, 0);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        writer.report(Phase::Applying, 1, 3);
        drop(writer);
        task.await.expect("task");
        assert_eq!(taken(&writes), vec![], "neither a progress nor its removal");
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_cycle_shows_its_latest_progress_every_five_seconds_then_removes_it() {
        let (writer, task, writes) = recorded(false);
        writer.report(Phase::Reading, 0, 0);
        tokio::time::sleep(Duration::from_secs(3)).await;
        writer.report(Phase::Planning, 10, 10);
        writer.report(Phase::Applying, 0, 10);
        tokio::time::sleep(Duration::from_secs(6)).await;
        drop(writer);
        task.await.expect("task");
        let seconds: Vec<(u64, Option<String>)> = taken(&writes)
            .into_iter()
            .map(|(at, phase)| (at.as_secs(), phase))
            .collect();
        assert_eq!(
            seconds,
            vec![
                (2, Some("Reading".to_owned())),
                (7, Some("Applying".to_owned())),
                (9, None),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_progress_left_by_an_earlier_run_is_removed_even_by_a_short_cycle() {
        let (writer, task, writes) = recorded(true);
        writer.report(Phase::Reading, 0, 0);
        drop(writer);
        task.await.expect("task");
        assert_eq!(taken(&writes), vec![(Duration::ZERO, None)]);
    }
}
