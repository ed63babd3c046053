//! The explanation of one user, from facts as `explain` gathers them.

use serde_json::json;

use super::verdict::{Found, explain, text};
use crate::api::conditions::ConditionReason;
use crate::api::reasons::ReadyReason;
use crate::api::sync_config::SyncConfigurationSpec;
use crate::cycle::audit::{ActionResult, Record};
use crate::engine::scope::{self, Assignments};
use crate::engine::threshold::Held;
use crate::engine::user::User;
use crate::engine::vocabulary::{CycleAction, UserAction};
use crate::validate::{ValidSpec, validate};

/// A skip reason, as `status.failures` and the provisioning log spell it.
const CONFLICT: &str = "ConflictsWithInternalUser";

fn spec() -> SyncConfigurationSpec {
    serde_json::from_value(json!({
        "sourceRef": { "name": "contoso" }, "targetRef": { "name": "fabrikam" },
        "scope": { "mode": "AllUsers", "filters": [
            { "clauses": [{ "attribute": "department", "operator": "EQUALS", "value": "Sales" }] },
            { "clauses": [
                { "attribute": "title", "operator": "IS NOT NULL" },
                { "attribute": "email", "operator": "REGEX MATCH", "value": "@contoso\\.com$" },
            ] },
        ] },
        "deprovision": { "accidentalDeletionThreshold": 1 },
    }))
    .expect("a spec")
}

fn person(id: &str, attributes: &[(&'static str, &str)]) -> User {
    User {
        id: id.to_owned(),
        attributes: attributes.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        ..User::default()
    }
}

/// What `explain` would have found for `user` with no record and nothing held.
fn found<'a>(spec: &'a SyncConfigurationSpec, valid: &'a ValidSpec, user: &'a User) -> Found<'a> {
    let rules = &valid.rules;
    let assignments = Assignments::default();
    Found {
        configuration: "team-a/contoso-to-fabrikam".into(),
        asked: user.label(),
        spec,
        closed: None,
        source: Some(user),
        standing: Some((
            scope::exclusion(&rules.scope, &assignments, user),
            scope::assignment(&rules.scope, &assignments, user),
            scope::filter_verdict(&rules.scope.filter, user),
        )),
        filter: Some(&rules.scope.filter),
        member_of: Vec::new(),
        target: None,
        records: Vec::new(),
        withheld: None,
    }
}

#[test]
fn a_filtered_out_user_is_told_which_clause_of_each_group_failed_and_its_value() {
    let spec = spec();
    let valid = validate(&spec).expect("valid");
    let olga = person("o1", &[("userName", "olga@contoso.com"), ("department", "Ops")]);
    let explained = explain(&found(&spec, &valid, &olga));
    let scope = explained.scope.as_ref().expect("judged");
    assert!(!scope.in_scope);
    assert_eq!(scope.exclusion.as_deref(), Some("FilteredOut"));
    assert!(
        scope
            .why
            .contains(r#"group 1: department EQUALS "Sales" (department is "Ops") does not hold"#),
        "{}",
        scope.why
    );
    assert!(
        scope
            .why
            .contains("group 2: title IS NOT NULL (title is null) does not hold"),
        "{}",
        scope.why
    );
    assert_eq!(explained.next.action, "None");
    assert!(text(&explained).contains("next cycle:   None: it is not in the target"));
}

#[test]
fn an_in_scope_user_is_told_what_matched_and_what_the_cycle_would_do() {
    let spec = spec();
    let valid = validate(&spec).expect("valid");
    let alice = person(
        "a1",
        &[
            ("userName", "alice@contoso.com"),
            ("title", "Rep"),
            (crate::engine::attributes::WORK_EMAIL, "alice@contoso.com"),
        ],
    );
    let create = Record {
        action: crate::engine::vocabulary::CycleAction::User(crate::engine::vocabulary::UserAction::Create),
        source_id: Some("a1".into()),
        target_id: None,
        user_name: "alice@contoso.com".into(),
        changed_attributes: vec!["userName", "title"],
        values: Vec::new(),
        result: ActionResult::Success,
        reason: None,
        message: None,
    };
    let mut found = found(&spec, &valid, &alice);
    found.records = vec![&create];
    let explained = explain(&found);
    let why = &explained.scope.as_ref().expect("judged").why;
    assert!(why.starts_with("in scope: scope.mode is AllUsers"), "{why}");
    assert!(
        why.contains("scoping filter group 2 matches: title IS NOT NULL"),
        "{why}"
    );
    assert_eq!(explained.next.action, "Create");
    assert!(explained.next.why.contains("userName, title"), "{}", explained.next.why);
}

#[test]
fn a_skip_says_its_reason_and_a_held_deprovisioning_its_token() {
    let spec = spec();
    let valid = validate(&spec).expect("valid");
    let carol = person("c1", &[("userName", "carol@contoso.com"), ("department", "Sales")]);
    let skip = Record {
        action: crate::engine::vocabulary::CycleAction::Skip,
        source_id: None,
        target_id: None,
        user_name: "carol@contoso.com".into(),
        changed_attributes: Vec::new(),
        values: Vec::new(),
        result: ActionResult::Skipped,
        reason: Some(CONFLICT),
        message: Some("internal".into()),
    };
    let mut skipped = found(&spec, &valid, &carol);
    skipped.records = vec![&skip];
    let next = explain(&skipped).next;
    assert_eq!(next.reason.as_deref(), Some(CONFLICT));

    // A creation `spec.actions` holds back is a skip, never "create it".
    let held_back = Record {
        action: CycleAction::User(UserAction::Create),
        reason: Some("ActionDisabled"),
        message: Some("spec.actions.create is false: the create was planned and not sent".into()),
        ..skip.clone()
    };
    skipped.records = vec![&held_back];
    let next = explain(&skipped).next;
    assert_eq!(
        (next.action.as_str(), next.reason.as_deref()),
        ("Skip", Some("ActionDisabled"))
    );
    assert!(next.why.contains("the create is planned and not sent"), "{}", next.why);

    let dave = person("d1", &[("userName", "dave@contoso.com"), ("active", "false")]);
    let provisioned = person("t-d1", &[("userName", "dave@contoso.com")]);
    let held = Held {
        count: 2,
        token: "0123456789ab".into(),
        names: vec!["dave@contoso.com".into(), "erin@contoso.com".into()],
    };
    let mut leaving = found(&spec, &valid, &dave);
    leaving.target = Some(&provisioned);
    leaving.withheld = Some(&held);
    let explained = explain(&leaving);
    assert_eq!(
        explained.scope.as_ref().and_then(|s| s.exclusion.as_deref()),
        Some("Disabled")
    );
    assert_eq!(explained.next.action, "Held");
    assert!(explained.next.why.contains("0123456789ab"), "{}", explained.next.why);
    leaving.withheld = None;
    let mut keeping = spec.clone();
    keeping.deprovision.action = crate::api::sync_config::DeprovisionAction::None;
    leaving.spec = &keeping;
    assert!(explain(&leaving).next.why.contains("deprovision.action is None"));
}

#[test]
fn a_closed_gate_is_the_whole_answer() {
    let spec = spec();
    let valid = validate(&spec).expect("valid");
    let alice = person("a1", &[("userName", "alice@contoso.com")]);
    let mut closed = found(&spec, &valid, &alice);
    closed.closed = Some((ReadyReason::InboundSyncNotAllowed.as_str().into(), "set it".into()));
    let explained = explain(&closed);
    assert!(!explained.gate.open);
    assert!(explained.next.why.contains("Ready is False"), "{}", explained.next.why);
    assert!(!text(&explained).contains("source user:"));
}
