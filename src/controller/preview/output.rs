//! What `xtsync plan` prints: a table for people, or JSON for tools (the schema is in the
//! README, "Before and after"), and the exit code (`terraform plan`'s, with
//! `--detailed-exitcode`: 0 no changes, 2 changes pending; 1 an error either way).

use crate::engine::vocabulary::{CycleAction, UserAction};
use serde_json::{Value, json};

use super::ConfigPlan;
use crate::cycle::CycleReport;
use crate::cycle::audit::Record;

/// Some configuration would change the target.
pub fn changes_pending(plans: &[ConfigPlan]) -> bool {
    plans
        .iter()
        .filter_map(|p| p.report.as_ref())
        .any(|r| r.changed() > 0 || r.withheld_deprovisions.is_some())
}

pub fn exit_code(plans: &[ConfigPlan], detailed: bool) -> u8 {
    if plans.iter().any(|p| p.error.is_some()) {
        1
    } else if detailed && changes_pending(plans) {
        2
    } else {
        0
    }
}

fn summary(report: &CycleReport) -> Value {
    json!({
        "created": report.created,
        "updated": report.updated,
        "deprovisioned": report.deprovisioned,
        "adopted": report.adopted,
        "skipped": report.skipped,
        "unchanged": report.unchanged,
        "withheldDeprovisions": report.withheld_deprovisions.as_ref().map_or(0, |h| h.count),
    })
}

fn action(record: &Record) -> Value {
    json!({
        "action": record.action.as_str(),
        "userName": record.user_name,
        "sourceId": record.source_id,
        "targetId": record.target_id,
        "changedAttributes": record.changed_attributes,
        "changes": record
            .values
            .iter()
            .map(|(attribute, old, new)| json!({ "attribute": attribute, "old": old, "new": new }))
            .collect::<Vec<_>>(),
        "reason": record.reason,
        "message": record.message,
    })
}

pub fn json(plans: &[ConfigPlan]) -> Value {
    let configurations: Vec<Value> = plans
        .iter()
        .map(|p| {
            json!({
                "name": p.configuration,
                "ready": p.closed.is_none(),
                "reason": p.closed.as_ref().map(|(reason, _)| *reason),
                "message": p.closed.as_ref().map(|(_, message)| message),
                "error": p.error,
                "summary": p.report.as_ref().map(summary),
                "actions": p.records.iter().map(action).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "configurations": configurations, "changesPending": changes_pending(plans) })
}

pub fn table(plans: &[ConfigPlan]) -> String {
    let mut out = String::new();
    for plan in plans {
        out.push_str(&format!("SyncConfiguration {}\n", plan.configuration));
        if let Some((reason, message)) = &plan.closed {
            out.push_str(&format!("  no cycle would run: Ready=False {reason}: {message}\n\n"));
            continue;
        }
        if let Some(error) = &plan.error {
            out.push_str(&format!("  error: {error}\n\n"));
            continue;
        }
        let width = plan.records.iter().map(|r| r.user_name.len()).max().unwrap_or(4).max(4);
        if !plan.records.is_empty() {
            out.push_str(&format!("  {:<11} {:<width$} DETAIL\n", "ACTION", "USER"));
        }
        for record in &plan.records {
            let detail = match (record.reason, &record.message) {
                (Some(reason), Some(message)) => format!("{reason}: {message}"),
                _ if record.action == CycleAction::User(UserAction::Create) => record.changed_attributes.join(", "),
                _ => record
                    .values
                    .iter()
                    .map(|(attribute, old, new)| {
                        let shown = |v: &Option<String>| v.as_deref().map_or("(none)".to_owned(), |v| format!("{v:?}"));
                        format!("{attribute}: {} → {}", shown(old), shown(new))
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            out.push_str(&format!(
                "  {:<11} {:<width$} {detail}\n",
                record.action, record.user_name
            ));
        }
        if let Some(r) = &plan.report {
            let withheld = r
                .withheld_deprovisions
                .as_ref()
                .map(|h| format!(" ({} more held by accidentalDeletionThreshold)", h.count))
                .unwrap_or_default();
            out.push_str(&format!(
                "  created {}, updated {}, deprovisioned {}{withheld}, adopted {}, skipped {}, unchanged {}\n\n",
                r.created, r.updated, r.deprovisioned, r.adopted, r.skipped, r.unchanged
            ));
        }
    }
    out
}
