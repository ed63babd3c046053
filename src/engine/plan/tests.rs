//! The planner's rules, one test each, on hand-made directories.

use super::*;
use crate::engine::mapping::Mapping;
use crate::engine::rules::ActionSwitches;
use crate::engine::user::user;
use crate::engine::vocabulary::ScopeMode;

const SRC: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

fn all_users() -> SyncRules {
    let mut rules = SyncRules {
        mappings: mapping::effective(&[]),
        adopt_existing: true,
        ..SyncRules::default()
    };
    rules.scope.mode = ScopeMode::AllUsers;
    rules
}

fn run(source: &[User], target: &[User], complete: bool) -> Plan {
    run_with(&mapping::effective(&[]), source, target, complete)
}

fn run_with(mappings: &[Mapping], source: &[User], target: &[User], complete: bool) -> Plan {
    let mut rules = all_users();
    rules.mappings = mappings.to_vec();
    plan(&PlanInput {
        source_tenant_id: SRC,
        source_domains: &["contoso.com".to_owned()],
        source,
        source_complete: complete,
        target,
        assignments: &Assignments::default(),
        rules: &rules,
    })
}

fn alice() -> User {
    user("a1", &[("userName", "alice@contoso.com"), ("displayName", "Alice")])
}

fn provisioned(id: &str, source_id: &str, name: &str, display: &str, active: bool) -> User {
    let anchor = format!("{SRC}/{source_id}");
    user(
        id,
        &[
            ("userName", name),
            ("displayName", display),
            ("externalId", anchor.as_str()),
            ("userType", "Member"),
            ("active", if active { "true" } else { "false" }),
        ],
    )
}

/// Plans with `manager` mapped from the source's manager.
fn run_with_manager(source: &[User], target: &[User]) -> Plan {
    let manager = Mapping {
        target: "manager",
        value: crate::engine::mapping::MappingValue::Source("manager"),
        apply_on: crate::engine::vocabulary::ApplyOn::Always,
    };
    run_with(&mapping::effective(&[manager]), source, target, true)
}

#[test]
fn a_manager_is_the_target_user_provisioned_from_the_source_manager() {
    let boss = user("b1", &[("userName", "boss@contoso.com")]);
    let alice = user("a1", &[("userName", "alice@contoso.com"), ("manager", "b1")]);
    let boss_target = provisioned("t-boss", "b1", "boss@contoso.com", "", true);
    let p = run_with_manager(&[boss, alice.clone()], &[boss_target]);
    let create = p
        .changes
        .iter()
        .find_map(|c| match c {
            Change::Create { attributes, .. } => Some(attributes),
            _ => None,
        })
        .expect("alice created");
    assert_eq!(create.get("manager").map(String::as_str), Some("t-boss"));
    // A manager not provisioned (yet) is left out rather than set to a source id.
    let p = run_with_manager(std::slice::from_ref(&alice), &[]);
    let [Change::Create { attributes, .. }] = p.changes.as_slice() else {
        panic!("{p:?}")
    };
    assert_eq!(attributes.get("manager"), None);
    // …and an existing target manager is kept, not cleared.
    let mut alice_target = provisioned("t-alice", "a1", "alice@contoso.com", "", true);
    alice_target.attributes.insert("manager", "t-old".into());
    alice_target.attributes.remove("displayName");
    let p = run_with_manager(&[alice], &[alice_target]);
    assert!(
        p.changes
            .iter()
            .all(|c| !matches!(c, Change::Update { changes, .. } if changes.contains_key("manager"))),
        "{p:?}"
    );
}

#[test]
fn new_user_is_created_with_its_anchor() {
    let p = run(&[alice()], &[], true);
    let [Change::Create { attributes, .. }] = p.changes.as_slice() else {
        panic!("{p:?}")
    };
    assert_eq!(
        attributes.get("externalId").map(String::as_str),
        Some(format!("{SRC}/a1").as_str())
    );
    assert_eq!(p.in_scope, 1);
}

#[test]
fn unchanged_user_costs_nothing() {
    let p = run(
        &[alice()],
        &[provisioned("t1", "a1", "alice@contoso.com", "Alice", true)],
        true,
    );
    assert!(p.changes.is_empty(), "{p:?}");
    assert_eq!(p.unchanged, 1);
    assert_eq!(p.provisioned_before, 1);
}

#[test]
fn a_rename_is_an_update_of_only_what_changed() {
    let renamed = user("a1", &[("userName", "alice.new@contoso.com"), ("displayName", "Alice")]);
    let p = run(
        &[renamed],
        &[provisioned("t1", "a1", "alice@contoso.com", "Alice", true)],
        true,
    );
    let [Change::Update { changes, target, .. }] = p.changes.as_slice() else {
        panic!("{p:?}")
    };
    assert_eq!(target.id, "t1");
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes.get("userName"),
        Some(&Some("alice.new@contoso.com".to_string()))
    );
}

#[test]
fn cleared_source_attribute_is_cleared_in_the_target() {
    let bare = user("a1", &[("userName", "alice@contoso.com")]);
    let p = run(
        &[bare],
        &[provisioned("t1", "a1", "alice@contoso.com", "Alice", true)],
        true,
    );
    let [Change::Update { changes, .. }] = p.changes.as_slice() else {
        panic!("{p:?}")
    };
    assert_eq!(changes.get("displayName"), Some(&None));
}

#[test]
fn guests_and_users_from_other_tenants_are_never_synced() {
    let guest = user("g", &[("userName", "guest@x.com"), ("userType", "Guest")]);
    let looped = user("l", &[("userName", "l@x.com"), ("externalId", &format!("{OTHER}/z"))]);
    let p = run(&[guest, looped], &[], true);
    assert!(p.changes.is_empty() && p.in_scope == 0, "{p:?}");
}

#[test]
fn external_target_user_is_adopted_internal_one_never() {
    let b2b = user("t9", &[("userName", "alice@contoso.com"), ("userType", "Guest")]);
    let p = run(&[alice()], &[b2b], true);
    let [Change::Adopt { target, changes, .. }] = p.changes.as_slice() else {
        panic!("{p:?}")
    };
    assert_eq!(target.id, "t9");
    assert_eq!(changes.get("externalId"), Some(&Some(format!("{SRC}/a1"))));
    assert_eq!(changes.get("userType"), Some(&Some("Member".to_string())));

    let internal = user("t8", &[("userName", "ALICE@contoso.com"), ("userType", "Member")]);
    let p = run(&[alice()], &[internal], true);
    assert!(p.changes.is_empty());
    assert_eq!(p.skips[0].reason, SkipReason::ConflictsWithInternalUser);
}

#[test]
fn leaving_scope_deprovisions_and_returning_restores() {
    let target = [provisioned("t1", "a1", "alice@contoso.com", "Alice", true)];
    let p = run(&[], &target, true);
    assert!(
        p.changes.is_empty() && p.unseen.len() == 1,
        "not seen: to be confirmed {p:?}"
    );
    let confirmed = p
        .clone()
        .settle(&["a1".to_owned()].into(), ActionSwitches::default(), 500, None);
    assert!(
        matches!(confirmed.changes.as_slice(), [Change::Deprovision { target }] if target.id == "t1"),
        "{confirmed:?}"
    );
    let refuted = p.settle(&Default::default(), ActionSwitches::default(), 500, None);
    assert!(refuted.changes.is_empty());
    assert_eq!(refuted.skips[0].reason, SkipReason::NotConfirmedGone);

    let disabled = user("a1", &[("userName", "alice@contoso.com"), ("active", "false")]);
    assert_eq!(
        run(&[disabled], &target, true).deprovisions(),
        1,
        "disabled in the source"
    );

    let gone = [provisioned("t1", "a1", "alice@contoso.com", "Alice", false)];
    let p = run(&[alice()], &gone, true);
    assert!(
        matches!(p.changes.as_slice(), [Change::Restore { target, .. }] if target.id == "t1"),
        "{p:?}"
    );
    assert!(run(&[], &gone, true).changes.is_empty(), "already deprovisioned");
}

#[test]
fn an_incomplete_source_read_deprovisions_nothing_it_did_not_see() {
    let target = [provisioned("t1", "a1", "alice@contoso.com", "Alice", true)];
    assert_eq!(run(&[], &target, false).deprovisions(), 0);
    // An incremental read that *shows* the user disabled is enough.
    let disabled = user("a1", &[("userName", "alice@contoso.com"), ("active", "false")]);
    assert_eq!(run(&[disabled], &target, false).deprovisions(), 1);
}

#[test]
fn users_of_other_sources_are_left_alone() {
    let theirs = user(
        "t5",
        &[("userName", "zed@other.com"), ("externalId", &format!("{OTHER}/z"))],
    );
    assert!(run(&[], &[theirs], true).changes.is_empty());
}
