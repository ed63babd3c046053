//! The provisioning log (README, "Before and after: plan, dry run and the provisioning log"): one
//! record per action and per skip, none for unchanged users, each with its result — and as many
//! records as writes, even when some of them fail.

use super::*;
use crate::cycle::audit::ActionResult;
use crate::providers::memory::Faults;

#[tokio::test]
async fn every_write_and_skip_has_one_record_and_unchanged_users_none() {
    let pair = CyclePair::all_users();
    for (id, name) in [("a1", "alice"), ("b1", "bob"), ("c1", "carol")] {
        pair.source.put(person(id, name));
    }
    // carol collides with an internal target user: skipped. bob's creation fails.
    pair.target.put(person("t-carol", "carol"));
    pair.target.set_faults(Faults {
        writes_of: ["bob@contoso.com".to_owned()].into(),
        ..Faults::default()
    });
    let report = pair.initial().await;
    assert_eq!((report.created, report.failed, report.skipped), (1, 1, 1), "{report:?}");
    let writes = pair.target.take_writes();
    let mut records = pair.log.take();
    records.sort_by(|a, b| a.user_name.cmp(&b.user_name));
    let summary: Vec<(&str, &str, ActionResult)> = records
        .iter()
        .map(|r| (r.user_name.as_str(), r.action.as_str(), r.result))
        .collect();
    assert_eq!(
        summary,
        [
            ("alice@contoso.com", "Create", ActionResult::Success),
            ("bob@contoso.com", "Create", ActionResult::Failure),
            ("carol@contoso.com", "Skip", ActionResult::Skipped),
        ]
    );
    let writes_recorded = records.iter().filter(|r| r.action.as_str() != "Skip").count();
    assert_eq!(writes_recorded, writes.len(), "one record per write sent: {writes:?}");
    let alice = &records[0];
    assert_eq!(alice.source_id.as_deref(), Some("a1"));
    assert!(alice.target_id.is_some(), "the created user's id");
    assert!(
        alice.changed_attributes.contains(&"userName"),
        "{:?}",
        alice.changed_attributes
    );
    let rejected = crate::providers::directory::DirectoryError::Rejected {
        status: 400,
        code: None,
        detail: None,
    };
    assert_eq!(records[1].reason, Some(rejected.reason()));
    assert_eq!(records[2].reason, Some("ConflictsWithInternalUser"));

    // Nothing changed: no records.
    pair.target.set_faults(Faults::default());
    pair.initial().await;
    let again: Vec<_> = pair
        .log
        .take()
        .into_iter()
        .filter(|r| r.action.as_str() != "Skip")
        .collect();
    assert_eq!(
        again.iter().map(|r| r.user_name.as_str()).collect::<Vec<_>>(),
        ["bob@contoso.com"],
        "only bob, whose creation failed, is written again"
    );
}

#[tokio::test]
async fn an_update_records_the_attributes_it_changes_from_what_to_what() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    pair.log.take();
    pair.source.set("a1", "displayName", Some("Alice Secret-Name"));
    pair.initial().await;
    let records = pair.log.take();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        (records[0].action.as_str(), records[0].result),
        ("Update", ActionResult::Success)
    );
    assert_eq!(records[0].changed_attributes, ["displayName"]);
    // Old → new, for `xtsync plan`; the log stream gets only the names (`LogSink`).
    assert_eq!(
        records[0].values,
        [(
            "displayName",
            Some("alice".to_owned()),
            Some("Alice Secret-Name".to_owned())
        )]
    );
}
