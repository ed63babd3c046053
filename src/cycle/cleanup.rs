//! `onConfigurationDelete: Deprovision`: deprovision what the configuration provisioned before
//! its deletion completes — per the spec as it is at deletion, and within the
//! accidental-deletion threshold like any cycle (rule 8). The controller decides whether this
//! configuration may clean up at all (it must have been the pair's active one). With
//! `spec.actions.deprovision` off, the cleanup is planned and logged, and deprovisions nobody.

use super::audit::{self, Sink};
use crate::engine::plan::{Change, TargetRef};
use crate::engine::rules::{ActionSwitches, Deprovisioning};
use crate::engine::threshold::{self, Held, Judgement};
use crate::engine::vocabulary::DeprovisionAction;
use crate::providers::directory::{DirectoryError, TargetDirectory};

/// What a cleanup did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cleanup {
    pub deprovisioned: u32,
    /// More than the threshold would go: none went, these wait for approval.
    pub withheld: Option<Held>,
    /// `spec.actions.deprovision` is off: these were planned, logged and kept.
    pub disabled: u32,
}

/// What a cleanup follows: the spec's deprovisioning and target object actions, and where
/// it logs what it holds back.
pub struct Cleaning<'a> {
    pub deprovision: Deprovisioning,
    pub actions: ActionSwitches,
    pub audit: &'a dyn Sink,
}

/// Deprovisions the active target users anchored to this source. A failure is returned, so
/// the finalizer stays and the cleanup is retried.
pub async fn clean_up(
    target: &dyn TargetDirectory,
    source_tenant_id: &str,
    cleaning: &Cleaning<'_>,
    approval: Option<&str>,
) -> Result<Cleanup, DirectoryError> {
    let deprovision = cleaning.deprovision;
    if deprovision.action == DeprovisionAction::None {
        return Ok(Cleanup::default());
    }
    let source_tenant = source_tenant_id.to_ascii_lowercase();
    let mut leaving: Vec<TargetRef> = target
        .list_users()
        .await?
        .iter()
        .filter(|u| u.active() && u.anchor().is_some_and(|a| a.tenant_id == source_tenant))
        .map(TargetRef::from)
        .collect();
    leaving.sort_by(|a, b| a.id.cmp(&b.id));
    if !cleaning.actions.deprovision {
        // Held back before the threshold: they never count toward it.
        for target in leaving.iter().cloned() {
            cleaning
                .audit
                .record(audit::of_disabled(&Change::Deprovision { target }));
        }
        let disabled = leaving.len().try_into().unwrap_or(u32::MAX);
        return Ok(Cleanup {
            disabled,
            ..Cleanup::default()
        });
    }
    let judged: Vec<threshold::Leaving<'_>> = leaving
        .iter()
        .map(|t| threshold::Leaving {
            id: &t.id,
            name: &t.label,
        })
        .collect();
    if let Judgement::Held(held) = threshold::judge(&judged, deprovision.threshold, approval) {
        return Ok(Cleanup {
            withheld: Some(held),
            ..Cleanup::default()
        });
    }
    let mut deprovisioned = 0;
    for result in target.deprovision_users(&leaving, deprovision.action).await {
        result?;
        deprovisioned += 1;
    }
    Ok(Cleanup {
        deprovisioned,
        ..Cleanup::default()
    })
}
