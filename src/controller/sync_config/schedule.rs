//! Schedule: is a cycle due now, and which kind (docs/architecture.md, rules 8–11)? Pure: it reads
//! the previous status, the requests the user made with annotations, and the clock it is given.

use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::ResourceExt;

use crate::api::conditions;
use crate::api::reasons::SyncedReason;
use crate::api::sync_config::{SyncConfiguration, SyncConfigurationStatus};
use crate::api::{APPROVE_DELETIONS, PROVISION_ON_DEMAND, RESTART};
use crate::controller::bounds::key;

/// An Initial cycle at least every this many intervals, to catch source deletions (which
/// incremental reads cannot see).
pub const FULL_CYCLE_EVERY: u32 = 10;

/// What the user asked for on the resource itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Requests {
    pub generation: Option<i64>,
    /// `xtsync.io/restart`
    pub restart: Option<String>,
    /// `xtsync.io/approve-deletions`
    pub approval: Option<String>,
    /// `xtsync.io/provision-on-demand`
    pub on_demand: Option<String>,
}

impl Requests {
    pub fn of(config: &SyncConfiguration) -> Requests {
        let annotation = |key: &str| config.annotations().get(key).map(|v| v.trim().to_owned());
        Requests {
            generation: config.metadata.generation,
            restart: annotation(RESTART),
            approval: annotation(APPROVE_DELETIONS),
            on_demand: annotation(PROVISION_ON_DEMAND).filter(|v| !v.is_empty()),
        }
    }

    /// The on-demand request not answered yet, if any (a new value is a new request).
    pub fn new_on_demand(&self, previous: &SyncConfigurationStatus) -> Option<&str> {
        // Status keeps a long request as its `key`: compare in that form.
        let answered = previous.on_demand.as_ref().map(|o| o.request.as_str());
        self.on_demand.as_deref().filter(|r| Some(key(r).as_str()) != answered)
    }

    /// The approval of held deprovisionings, unless a cycle consumed it already (an approval
    /// applies once).
    pub fn fresh_approval(&self, previous: &SyncConfigurationStatus) -> Option<&str> {
        self.approval
            .as_deref()
            .filter(|a| previous.last_approved_deletions.as_deref() != Some(key(a).as_str()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CycleKind {
    /// Full reads of source and target.
    Initial,
    /// Only the source users changed since the watermark.
    Incremental,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not due: look again after this long.
    Wait(Duration),
    /// Run a cycle now; `restart` is the `xtsync.io/restart` value it acts on, if any.
    Run { kind: CycleKind, restart: Option<String> },
}

pub fn decide(
    previous: &SyncConfigurationStatus,
    requests: &Requests,
    interval: Duration,
    source_tracks_changes: bool,
    now: Timestamp,
) -> Decision {
    let restart = requests
        .restart
        .clone()
        .filter(|r| previous.observed_restart.as_deref() != Some(key(r).as_str()));
    if restart.is_none()
        && let Some(wait) = time_until_due(previous, requests, now)
    {
        return Decision::Wait(wait);
    }
    // Rule 10: Initial cycles at first, after a spec change or a restart, when deletions wait
    // for approval, when the source cannot filter by change time, and every
    // `FULL_CYCLE_EVERY` intervals to catch deletions; Incremental cycles otherwise.
    let full_due = previous.last_full_sync_time.as_ref().is_none_or(|t| {
        let since = now.duration_since(t.0).as_secs().max(0).unsigned_abs();
        Duration::from_secs(since) >= interval * FULL_CYCLE_EVERY
    });
    let initial = previous.watermark.is_none()
        || spec_changed(previous, requests)
        || restart.is_some()
        || previous.pending_deletions.is_some()
        || !source_tracks_changes
        || full_due;
    let kind = if initial {
        CycleKind::Initial
    } else {
        CycleKind::Incremental
    };
    Decision::Run { kind, restart }
}

/// A configuration's first cycle — it has run none, kept no watermark — may take a complete
/// read of its source another cycle has just made (`cycle::shared_read`); a later one never goes
/// back to a read older than the one it applied last.
pub fn first_cycle(previous: &SyncConfigurationStatus) -> bool {
    previous.last_cycle.is_none() && previous.watermark.is_none() && previous.last_full_sync_time.is_none()
}

/// `None` when a cycle should run now: first cycle, a spec change, the scheduled time, or an
/// approval of withheld deletions. Otherwise how long until it is due.
fn time_until_due(previous: &SyncConfigurationStatus, requests: &Requests, now: Timestamp) -> Option<Duration> {
    let never_ran = previous.last_cycle.is_none();
    let approval_waiting = previous
        .pending_deletions
        .as_ref()
        .is_some_and(|p| requests.fresh_approval(previous) == Some(p.token.as_str()));
    if spec_changed(previous, requests) || never_ran || approval_waiting {
        return None;
    }
    let due = previous.next_sync_time.as_ref()?.0;
    let wait = due.duration_since(now);
    (wait > SignedDuration::ZERO).then(|| Duration::from_millis(wait.as_millis().try_into().unwrap_or(u64::MAX)))
}

/// The spec changed since the last cycle's verdict (`Synced` speaks of an older generation).
fn spec_changed(previous: &SyncConfigurationStatus, requests: &Requests) -> bool {
    conditions::find(
        &previous.conditions,
        <SyncedReason as conditions::ConditionReason>::TYPE,
    )
    .is_none_or(|c| c.observed_generation != requests.generation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::sync_config::OnDemandResult;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn answered(request: &str) -> SyncConfigurationStatus {
        SyncConfigurationStatus {
            on_demand: Some(OnDemandResult {
                request: request.to_owned(),
                result: "Created".to_owned(),
                message: String::new(),
                time: Time(Timestamp::UNIX_EPOCH),
            }),
            ..SyncConfigurationStatus::default()
        }
    }

    fn asking(value: &str) -> Requests {
        Requests {
            on_demand: Some(value.to_owned()),
            ..Requests::default()
        }
    }

    #[test]
    fn only_a_configuration_that_never_ran_a_cycle_shares_source_reads() {
        assert!(first_cycle(&SyncConfigurationStatus::default()));
        let ran = SyncConfigurationStatus {
            watermark: Some("w".to_owned()),
            ..SyncConfigurationStatus::default()
        };
        assert!(!first_cycle(&ran), "a watermark: it applied a read of its own");
        let synced = SyncConfigurationStatus {
            last_full_sync_time: Some(Time(Timestamp::UNIX_EPOCH)),
            ..SyncConfigurationStatus::default()
        };
        assert!(!first_cycle(&synced));
    }

    #[test]
    fn a_new_nonce_asks_for_the_same_user_again_and_an_answered_value_is_not_run_again() {
        let status = answered("alice@contoso.com#n1");
        assert_eq!(asking("alice@contoso.com#n1").new_on_demand(&status), None);
        assert_eq!(
            asking("alice@contoso.com#n2").new_on_demand(&status),
            Some("alice@contoso.com#n2"),
            "a new nonce is a new request"
        );
        assert_eq!(
            asking("alice@contoso.com").new_on_demand(&status),
            Some("alice@contoso.com")
        );
    }
}
