//! The SyncConfiguration as the plugin handles it: read, annotated — optionally only while it
//! is still the version that was read, so that a change in between is noticed — and polled
//! until the controller answers a request.

use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::PluginError;
use super::cluster::Cluster;
use crate::api::SyncConfiguration;
use crate::api::conditions::{self, ConditionReason};
use crate::api::reasons::{ReadyReason, SyncedReason};

/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(250);

/// The SyncConfigurations of one namespace.
pub struct Configs {
    pub api: Api<SyncConfiguration>,
    pub namespace: String,
}

/// What an annotation write found.
#[derive(Debug, PartialEq, Eq)]
pub enum Annotated {
    Written,
    /// The object is no longer at the version it was read at: nothing was written.
    Changed,
}

/// What a wait sees at each look.
pub enum Look<T> {
    Answered(T),
    Pending,
    /// No answer will come (the gate closed, say): stop waiting, with this reason.
    Stopped(String),
}

impl Configs {
    pub fn of(cluster: &Cluster) -> Configs {
        Configs {
            api: Api::namespaced(cluster.client.clone(), &cluster.namespace),
            namespace: cluster.namespace.clone(),
        }
    }

    pub async fn get(&self, name: &str) -> Result<SyncConfiguration, PluginError> {
        self.api.get_opt(name).await?.ok_or_else(|| PluginError::NotFound {
            namespace: self.namespace.clone(),
            name: name.to_owned(),
        })
    }

    /// Sets the annotation `key` to `value` (a JSON merge patch of the metadata, as
    /// `kubectl annotate --overwrite` does); with `version`, only while the object is still at
    /// that `resourceVersion`.
    pub async fn annotate(
        &self,
        name: &str,
        key: &str,
        value: &str,
        version: Option<&str>,
    ) -> Result<Annotated, PluginError> {
        let mut metadata = json!({ "annotations": { key: value } });
        if let Some(version) = version {
            metadata["resourceVersion"] = json!(version);
        }
        let patch = json!({ "metadata": metadata });
        match self
            .api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Ok(Annotated::Written),
            Err(kube::Error::Api(status)) if status.is_conflict() => Ok(Annotated::Changed),
            Err(kube::Error::Api(status)) if status.is_not_found() => Err(PluginError::NotFound {
                namespace: self.namespace.clone(),
                name: name.to_owned(),
            }),
            Err(error) => Err(error.into()),
        }
    }

    /// Reads the configuration every `POLL` until `look` answers or stops, or `timeout` passes.
    pub async fn wait_for<T>(
        &self,
        name: &str,
        timeout: Duration,
        what: &str,
        look: impl Fn(&SyncConfiguration) -> Look<T>,
    ) -> Result<T, PluginError> {
        let deadline = Instant::now() + timeout;
        loop {
            match look(&self.get(name).await?) {
                Look::Answered(answer) => return Ok(answer),
                Look::Stopped(why) => return Err(PluginError::NotDone(format!("{what}: {why}"))),
                Look::Pending => {}
            }
            if Instant::now() >= deadline {
                return Err(PluginError::NotDone(format!(
                    "{what}: no answer within {}",
                    words(timeout)
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// The configuration's condition of this type.
pub fn condition<'a>(config: &'a SyncConfiguration, type_: &str) -> Option<&'a Condition> {
    config
        .status
        .as_ref()
        .and_then(|s| conditions::find(&s.conditions, type_))
}

/// Why the controller runs no cycle and answers no request for this configuration now: it is
/// suspended, or its gate is closed (`Ready=False` for its current spec). `None`: it does, or
/// has not said yet.
pub fn not_running(config: &SyncConfiguration) -> Option<String> {
    if config.spec.suspend {
        return Some("spec.suspend is true: no cycle runs".to_owned());
    }
    condition(config, ReadyReason::TYPE)
        .filter(|c| c.status == "False" && c.observed_generation == config.metadata.generation)
        .map(|c| format!("no cycle runs while Ready is False: {}: {}", c.reason, c.message))
}

/// A duration as people write it: `2m`, `1h30m`, `45s`.
pub fn words(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() { "0s".to_owned() } else { out }
}

/// The last completed cycle, in one line, with the `Synced` verdict.
pub fn last_cycle(config: &SyncConfiguration) -> String {
    let name = kube::ResourceExt::name_any(config);
    let Some(cycle) = config.status.as_ref().and_then(|s| s.last_cycle.as_ref()) else {
        return format!("syncconfiguration/{name}: no cycle has completed yet");
    };
    let synced = condition(config, SyncedReason::TYPE)
        .map(|c| format!("; Synced={} ({}): {}", c.status, c.reason, c.message))
        .unwrap_or_default();
    format!(
        "syncconfiguration/{name}: {:?} cycle {} completed at {}{}: created {}, updated {}, deprovisioned {}, adopted {}, skipped {}, failed {}, unchanged {}{synced}",
        cycle.cycle_type,
        cycle.id.as_deref().unwrap_or("-"),
        cycle.completion_time.0,
        if cycle.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        },
        cycle.created,
        cycle.updated,
        cycle.deprovisioned,
        cycle.adopted,
        cycle.skipped,
        cycle.failed,
        cycle.unchanged,
    )
}
