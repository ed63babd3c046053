//! `kubectl xtsync restart NAME [--wait]`: a new `xtsync.io/restart` value, which runs an
//! Initial cycle at once and lifts quarantine (docs/architecture.md, rules 9 and 10) — as
//! `kubectl rollout restart` stamps a time.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::PluginError;
use super::cluster::Cluster;
use super::resource::{Configs, Look, condition, last_cycle, not_running};
use crate::api::RESTART;
use crate::api::conditions::ConditionReason;
use crate::api::reasons::SyncedReason;
use crate::controller::bounds::key;

pub async fn command(cluster: &Cluster, name: &str, wait: Option<Duration>) -> Result<u8, PluginError> {
    let configs = Configs::of(cluster);
    let config = configs.get(name).await?;
    let value = Timestamp::now().to_string();
    configs.annotate(name, RESTART, &value, None).await?;
    println!(
        "syncconfiguration/{name} restarted ({RESTART}={value}): an Initial cycle runs now, and quarantine is lifted"
    );
    let Some(timeout) = wait else {
        if let Some(why) = not_running(&config) {
            eprintln!("warning: {why}; the restart takes effect once cycles run");
        }
        return Ok(0);
    };
    let observed = key(&value);
    let what = format!("syncconfiguration/{name}: waiting for the restarted cycle");
    let done = configs
        .wait_for(name, timeout, &what, |config| {
            if config.status.as_ref().and_then(|s| s.observed_restart.as_deref()) == Some(observed.as_str()) {
                return Look::Answered(config.clone());
            }
            not_running(config).map_or(Look::Pending, Look::Stopped)
        })
        .await?;
    println!("{}", last_cycle(&done));
    let synced = condition(&done, SyncedReason::TYPE).is_some_and(|c| c.status == "True");
    Ok(if synced { 0 } else { 1 })
}
