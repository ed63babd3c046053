//! The provisioning log: one record per action a cycle takes on a user — or would take, in a
//! dry run — and one per user it skips; none for unchanged users. Records go to a sink: the
//! controller's writes them to the log stream (`xtsync::provisioning`), tests collect them.
//! Attribute values are never recorded, only their names: they may be personal data.

use crate::engine::plan::{Change, Skip};
use crate::engine::vocabulary::{CycleAction, SkipReason, UserAction};
use crate::providers::directory::DirectoryError;

/// How an action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum ActionResult {
    Success,
    Failure,
    Skipped,
}

/// One provisioning record (the schema is documented in the README, "Provisioning log").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// A user's `Create`, `Adopt`, `Update`, `Restore`, `Deprovision`, a group's action, or `Skip`.
    pub action: CycleAction,
    pub source_id: Option<String>,
    pub target_id: Option<String>,
    pub user_name: String,
    /// The names of the attributes the action sets or clears.
    pub changed_attributes: Vec<&'static str>,
    /// Each changed attribute with its value before and after: for `xtsync plan`'s reader
    /// only — the log stream gets the names, never the values (they may be personal data).
    pub values: Vec<(&'static str, Option<String>, Option<String>)>,
    pub result: ActionResult,
    /// A skip reason or a `DirectoryError` variant name, when not a success.
    pub reason: Option<&'static str>,
    pub message: Option<String>,
}

/// Where a cycle's records go.
pub trait Sink: Send + Sync {
    fn record(&self, record: Record);
}

/// A sink that drops every record (benches, and callers that keep no log).
pub struct Discard;

impl Sink for Discard {
    fn record(&self, _: Record) {}
}

/// A sink that keeps what it is given (`xtsync plan`, tests).
#[derive(Default)]
pub struct Collected(std::sync::Mutex<Vec<Record>>);

impl Sink for Collected {
    fn record(&self, record: Record) {
        if let Ok(mut records) = self.0.lock() {
            records.push(record);
        }
    }
}

impl Collected {
    /// The records so far, and none kept.
    pub fn take(&self) -> Vec<Record> {
        self.0.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default()
    }
}

/// The record of a change and its result (`Ok(target id)` when it is known).
pub fn of_change(change: &Change, result: &Result<Option<String>, DirectoryError>) -> Record {
    let (source_id, target_id, values): (_, _, Vec<_>) = match change {
        Change::Create { source, attributes } => (
            Some(source.clone()),
            None,
            attributes.iter().map(|(k, v)| (*k, None, Some(v.clone()))).collect(),
        ),
        Change::Adopt {
            source,
            target,
            changes,
            before,
        }
        | Change::Update {
            source,
            target,
            changes,
            before,
        }
        | Change::Restore {
            source,
            target,
            changes,
            before,
        } => (
            Some(source.clone()),
            Some(target.id.clone()),
            changes
                .iter()
                .map(|(k, new)| (*k, before.get(k).cloned().flatten(), new.clone()))
                .collect(),
        ),
        Change::Deprovision { target } => (None, Some(target.id.clone()), Vec::new()),
    };
    let changed_attributes = values.iter().map(|(k, _, _)| *k).collect();
    let (result, target_id, reason, message) = match result {
        Ok(created) => (ActionResult::Success, created.clone().or(target_id), None, None),
        Err(DirectoryError::Refused { reason, detail }) => (
            ActionResult::Skipped,
            target_id,
            Some(reason.as_str()),
            Some(detail.clone()),
        ),
        Err(error) => (
            ActionResult::Failure,
            target_id,
            Some(error.reason()),
            Some(error.to_string()),
        ),
    };
    Record {
        action: CycleAction::User(user_action(change)),
        source_id,
        target_id,
        user_name: change.label().to_owned(),
        changed_attributes,
        values,
        result,
        reason,
        message,
    }
}

/// The record of a change held back because `spec.actions` switches its action off: the
/// action as planned, with result `Skipped` and reason `ActionDisabled`; nothing was sent.
pub fn of_disabled(change: &Change) -> Record {
    let action = change.target_action().as_str();
    Record {
        result: ActionResult::Skipped,
        reason: Some(SkipReason::ActionDisabled.as_str()),
        message: Some(format!(
            "spec.actions.{action} is false: the {} was planned and not sent",
            user_action(change).as_str().to_lowercase()
        )),
        ..of_change(change, &Ok(None))
    }
}

/// What `change` does to its user.
pub fn user_action(change: &Change) -> UserAction {
    match change {
        Change::Create { .. } => UserAction::Create,
        Change::Adopt { .. } => UserAction::Adopt,
        Change::Update { .. } => UserAction::Update,
        Change::Restore { .. } => UserAction::Restore,
        Change::Deprovision { .. } => UserAction::Deprovision,
    }
}

pub fn of_skip(skip: &Skip) -> Record {
    Record {
        action: CycleAction::Skip,
        source_id: None,
        target_id: None,
        user_name: skip.user.clone(),
        changed_attributes: Vec::new(),
        values: Vec::new(),
        result: ActionResult::Skipped,
        reason: Some(skip.reason.as_str()),
        message: Some(skip.message.clone()),
    }
}
