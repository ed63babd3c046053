//! What `xtsync plan` prints, written record by record: the JSON is the README's document
//! (one `configurations` entry per configuration, its `actions` in the cycle's order, then
//! `changesPending`), and the table aligns its USER column over a configuration's records.

use serde_json::{Value, json};

use super::ConfigPlan;
use super::output::{LOOK_AHEAD, PreviewFormat, Printer};
use crate::api::conditions::ConditionReason;
use crate::api::reasons::ReadyReason;
use crate::cycle::CycleReport;
use crate::cycle::audit::{ActionResult, Record, Sink};
use crate::engine::vocabulary::{CycleAction, UserAction};

fn create(user_name: &str) -> Record {
    Record {
        action: CycleAction::User(UserAction::Create),
        source_id: Some(format!("id-{user_name}")),
        target_id: None,
        user_name: user_name.to_owned(),
        changed_attributes: vec!["displayName", "userName"],
        values: vec![
            ("displayName", None, Some("Alice \"A\"\nSmith".to_owned())),
            ("userName", None, Some(user_name.to_owned())),
        ],
        result: ActionResult::Success,
        reason: None,
        message: None,
    }
}

fn planned(name: &str, created: u32) -> ConfigPlan {
    ConfigPlan {
        configuration: name.to_owned(),
        organization: None,
        closed: None,
        error: None,
        report: Some(CycleReport {
            created,
            ..CycleReport::default()
        }),
    }
}

fn text(printer: Printer<Vec<u8>>, pending: bool) -> String {
    String::from_utf8(printer.finish(pending).expect("written")).expect("UTF-8")
}

#[test]
fn the_json_written_record_by_record_is_the_documented_document() {
    let printer = Printer::new(PreviewFormat::Json, Vec::new());
    printer.organizations(&[]);
    printer.begin("default/contoso-to-fabrikam", None);
    printer.record(create("alice@contoso.com"));
    printer.record(create("bob@contoso.com"));
    printer.end(&planned("default/contoso-to-fabrikam", 2));
    printer.begin("default/closed", None);
    let closed = ConfigPlan {
        closed: Some((ReadyReason::InboundSyncNotAllowed.as_str(), "no".to_owned())),
        report: None,
        ..planned("default/closed", 0)
    };
    printer.end(&closed);
    let written = text(printer, true);

    let document: Value = serde_json::from_str(&written).unwrap_or_else(|e| panic!("{e}: {written}"));
    let action = |user: &str| {
        json!({ "action": "Create", "userName": user, "sourceId": format!("id-{user}"), "targetId": null,
            "changedAttributes": ["displayName", "userName"],
            "changes": [ { "attribute": "displayName", "old": null, "new": "Alice \"A\"\nSmith" },
                         { "attribute": "userName", "old": null, "new": user } ],
            "reason": null, "message": null })
    };
    let summary = |created: u32| {
        json!({ "created": created, "updated": 0, "deprovisioned": 0, "adopted": 0, "skipped": 0, "unchanged": 0,
            "withheldDeprovisions": 0 })
    };
    let expected = json!({
        "changesPending": true,
        "configurations": [
            { "name": "default/contoso-to-fabrikam", "ready": true, "reason": null, "message": null, "error": null,
              "summary": summary(2), "actions": [action("alice@contoso.com"), action("bob@contoso.com")] },
            { "name": "default/closed", "ready": false, "reason": ReadyReason::InboundSyncNotAllowed.as_str(), "message": "no",
              "error": null, "summary": null, "actions": [] },
        ],
    });
    assert_eq!(document, expected);
    // Pretty-printed as before: each configuration's fields as `{:#}` would indent them.
    assert!(
        written.contains("\n      \"actions\": [],\n      \"error\": null,\n"),
        "{written}"
    );
    assert!(
        written.ends_with("\n  ],\n  \"changesPending\": true\n}\n"),
        "{written}"
    );
}

#[test]
fn a_plan_without_configurations_is_an_empty_list() {
    let printer = Printer::new(PreviewFormat::Json, Vec::new());
    printer.organizations(&[]);
    let written = text(printer, false);
    let document: Value = serde_json::from_str(&written).unwrap_or_else(|e| panic!("{e}: {written}"));
    assert_eq!(document, json!({ "changesPending": false, "configurations": [] }));
}

#[test]
fn the_table_aligns_the_user_column_over_a_configurations_records() {
    let printer = Printer::new(PreviewFormat::Table, Vec::new());
    printer.organizations(&[]);
    printer.begin("default/contoso-to-fabrikam", None);
    printer.record(create("al@contoso.com"));
    printer.record(create("bartholomew@contoso.com"));
    printer.end(&planned("default/contoso-to-fabrikam", 2));
    let written = text(printer, true);
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines[0], "SyncConfiguration default/contoso-to-fabrikam", "{written}");
    let detail = |line: &str| line.find("displayName").unwrap_or_else(|| panic!("{written}"));
    assert_eq!(
        lines[1].find("DETAIL"),
        lines[1].find("USER").map(|u| u + 24),
        "{written}"
    );
    assert_eq!(detail(lines[2]), detail(lines[3]), "{written}");
    assert!(lines[3].contains("bartholomew@contoso.com displayName"), "{written}");
    assert_eq!(
        lines[4],
        "  created 2, updated 0, deprovisioned 0, adopted 0, skipped 0, unchanged 0"
    );
}

#[test]
fn the_table_holds_back_no_more_than_its_look_ahead() {
    let printer = Printer::new(PreviewFormat::Table, Vec::new());
    printer.organizations(&[]);
    printer.begin("default/contoso-to-fabrikam", None);
    for i in 0..LOOK_AHEAD {
        printer.record(create(&format!("u{i}@contoso.com")));
    }
    assert_eq!(printer.held(), 0, "the look-ahead is full: its rows are written");
    printer.record(create("a-much-longer-name-than-the-others@contoso.com"));
    assert_eq!(
        printer.held(),
        0,
        "once the width is known, each row is written as it comes"
    );
}
