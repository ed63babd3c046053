//! `kubectl xtsync approve NAME [--yes] [--token T] [--wait]`: shows the deprovisionings the
//! accidental-deletion threshold holds (docs/architecture.md, rule 8) and their token, asks,
//! and approves exactly that set. The approval is written only while the configuration is
//! still the version that was shown, or one whose pending set has the same token: a set that
//! changed in between is reported, never approved.

use std::io::{BufRead, Write};
use std::time::Duration;

use kube::ResourceExt;

use super::PluginError;
use super::cluster::Cluster;
use super::resource::{Annotated, Configs, Look, last_cycle, not_running};
use crate::api::APPROVE_DELETIONS;
use crate::api::SyncConfiguration;
use crate::api::sync_config::PendingDeletions;
use crate::controller::bounds::key;

/// What the user asked for besides the name.
pub struct Asked {
    pub yes: bool,
    /// Approve only the set with this token.
    pub token: Option<String>,
    /// Wait this long for the cycle that applies the approval.
    pub wait: Option<Duration>,
}

/// Where the question is asked.
pub trait Console {
    /// Asks `question`; whether the answer is yes.
    fn confirm(&mut self, question: &str) -> bool;
}

/// The terminal: the question on stdout, the answer a line of stdin (`y` or `yes`); no
/// answer (end of input) is no.
pub struct Terminal;

impl Console for Terminal {
    fn confirm(&mut self, question: &str) -> bool {
        print!("{question}");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    }
}

/// Where a configuration's deprovisionings stand.
#[derive(Debug, PartialEq)]
pub enum Standing {
    /// None are held.
    Nothing,
    /// The held set's token is already annotated; the next cycle applies it.
    Approved(PendingDeletions),
    /// Held, waiting for approval.
    Waiting(PendingDeletions),
}

pub fn standing(config: &SyncConfiguration) -> Standing {
    let status = config.status.as_ref();
    let Some(pending) = status.and_then(|s| s.pending_deletions.clone()) else {
        return Standing::Nothing;
    };
    let annotated = config.annotations().get(APPROVE_DELETIONS).map(|a| a.trim());
    let consumed = status.and_then(|s| s.last_approved_deletions.as_deref()) == Some(key(&pending.token).as_str());
    if annotated == Some(pending.token.as_str()) && !consumed {
        Standing::Approved(pending)
    } else {
        Standing::Waiting(pending)
    }
}

/// The held set as an approver reads it.
pub fn describe(config: &SyncConfiguration, pending: &PendingDeletions) -> String {
    let threshold = config.spec.deprovision.accidental_deletion_threshold;
    let mut out = format!(
        "syncconfiguration/{} ({} → {}): {} deprovisionings are held by accidentalDeletionThreshold ({threshold}), token {}:\n",
        config.name_any(),
        config.spec.source_ref.name,
        config.spec.target_ref.name,
        pending.count,
        pending.token,
    );
    for name in &pending.names {
        out.push_str(&format!("  {name}\n"));
    }
    let unnamed = usize::try_from(pending.count)
        .unwrap_or(usize::MAX)
        .saturating_sub(pending.names.len());
    if unnamed > 0 {
        out.push_str(&format!(
            "  … and {unnamed} more (the status names the first {})\n",
            pending.names.len()
        ));
    }
    out.push_str(&format!(
        "Deprovisioning means `{:?}` in the target (spec.deprovision.action).\n",
        config.spec.deprovision.action
    ));
    out
}

pub async fn command(
    cluster: &Cluster,
    name: &str,
    asked: &Asked,
    console: &mut dyn Console,
) -> Result<u8, PluginError> {
    let configs = Configs::of(cluster);
    let config = configs.get(name).await?;
    let pending = match standing(&config) {
        Standing::Nothing => {
            if let Some(token) = &asked.token {
                return Err(PluginError::NotDone(format!(
                    "syncconfiguration/{name}: no deprovisionings are pending approval, so token {token} approves nothing"
                )));
            }
            println!("syncconfiguration/{name}: no deprovisionings are pending approval; nothing to approve");
            return Ok(0);
        }
        Standing::Approved(pending) => {
            println!(
                "syncconfiguration/{name}: the {} held deprovisionings (token {}) are approved already; the next cycle applies them",
                pending.count, pending.token
            );
            return wait_applied(&configs, name, &pending.token, asked.wait).await;
        }
        Standing::Waiting(pending) => pending,
    };
    if let Some(token) = asked.token.as_deref().filter(|t| *t != pending.token) {
        return Err(changed(name, token, &pending));
    }
    print!("{}", describe(&config, &pending));
    let question = format!(
        "Approve exactly these {} deprovisionings? Type 'yes' to approve: ",
        pending.count
    );
    if !asked.yes && !console.confirm(&question) {
        return Err(PluginError::NotDone("not approved; nothing changed".to_owned()));
    }
    approve_exactly(&configs, name, &pending, config.resource_version()).await?;
    println!(
        "syncconfiguration/{name} approved: {APPROVE_DELETIONS}={}; the next cycle, starting now, deprovisions these {}",
        pending.token, pending.count
    );
    wait_applied(&configs, name, &pending.token, asked.wait).await
}

/// Annotates the approval while the pending set is the one shown: at the version read, or —
/// when the object changed since (a status write) — at a version whose set has the same token.
async fn approve_exactly(
    configs: &Configs,
    name: &str,
    shown: &PendingDeletions,
    mut version: Option<String>,
) -> Result<(), PluginError> {
    for _ in 0..5 {
        if configs
            .annotate(name, APPROVE_DELETIONS, &shown.token, version.as_deref())
            .await?
            == Annotated::Written
        {
            return Ok(());
        }
        let now = configs.get(name).await?;
        match standing(&now) {
            Standing::Waiting(pending) if pending.token == shown.token => version = now.resource_version(),
            Standing::Approved(pending) if pending.token == shown.token => return Ok(()),
            Standing::Waiting(pending) | Standing::Approved(pending) => {
                return Err(changed(name, &shown.token, &pending));
            }
            Standing::Nothing => {
                return Err(PluginError::NotDone(format!(
                    "syncconfiguration/{name}: the deprovisionings shown are no longer pending (a cycle settled them); nothing was approved"
                )));
            }
        }
    }
    Err(PluginError::NotDone(format!(
        "syncconfiguration/{name} kept changing while it was being approved; nothing was approved, try again"
    )))
}

fn changed(name: &str, reviewed: &str, now: &PendingDeletions) -> PluginError {
    PluginError::NotDone(format!(
        "syncconfiguration/{name}: the pending set changed since it was reviewed (token {reviewed}): now {} deprovisionings with token {}; nothing was approved — run `kubectl xtsync approve {name}` again to review it",
        now.count, now.token
    ))
}

/// With `--wait`, waits for the cycle that consumes the approval and prints it.
async fn wait_applied(configs: &Configs, name: &str, token: &str, wait: Option<Duration>) -> Result<u8, PluginError> {
    let Some(timeout) = wait else {
        return Ok(0);
    };
    let what = format!("syncconfiguration/{name}: waiting for the approved deprovisionings");
    let consumed = key(token);
    let config = configs
        .wait_for(name, timeout, &what, |config| {
            let status = config.status.as_ref();
            if status.and_then(|s| s.last_approved_deletions.as_deref()) == Some(consumed.as_str()) {
                return Look::Answered(config.clone());
            }
            if let Some(why) = not_running(config) {
                return Look::Stopped(why);
            }
            match standing(config) {
                Standing::Waiting(now) if now.token != token => Look::Stopped(format!(
                    "the held set changed before a cycle applied the approval: now {} with token {}",
                    now.count, now.token
                )),
                _ => Look::Pending,
            }
        })
        .await?;
    println!("{}", last_cycle(&config));
    Ok(0)
}
