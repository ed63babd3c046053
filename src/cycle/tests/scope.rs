//! Rules 3 and 4: who is in scope, and the anchor that names where a user came from.

use super::*;

#[tokio::test]
async fn guests_and_users_provisioned_from_other_tenants_are_never_synced() {
    let pair = Pair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.source
        .put(user("g1", &[("userName", "guest@x.com"), ("userType", "Guest")]));
    let looped = format!("{OTHER}/z9");
    pair.source
        .put(user("l1", &[("userName", "looped@x.com"), ("externalId", &looped)]));
    let report = pair.initial().await;
    assert_eq!((report.in_scope, report.created), (1, 1), "{report:?}");
    assert_eq!(pair.target.users().len(), 1, "only alice");
}

#[tokio::test]
async fn only_assigned_users_and_members_of_assigned_groups_are_in_scope() {
    let pair = Pair::assigned(&["alice@contoso.com"], &["Sales"]);
    for (id, name) in [("a1", "alice"), ("b1", "bob"), ("c1", "carol")] {
        pair.source.put(person(id, name));
    }
    pair.source.set_group("Sales", &["b1"]);
    pair.initial().await;
    assert!(pair.provisioned("a1").is_some() && pair.provisioned("b1").is_some());
    assert!(pair.provisioned("c1").is_none(), "carol is not assigned");
}

#[tokio::test]
async fn disabled_source_users_are_not_provisioned() {
    let pair = Pair::all_users();
    let mut alice = person("a1", "alice");
    alice.attributes.insert("active", "false".into());
    pair.source.put(alice);
    assert_eq!(pair.initial().await.created, 0);
}

#[tokio::test]
async fn every_provisioned_user_carries_the_anchor_and_the_user_type() {
    let pair = Pair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    let alice = pair.provisioned("a1").expect("provisioned");
    assert_eq!(alice.get("externalId"), Some(anchor("a1").as_str()));
    assert_eq!(alice.get("userType"), Some("Member"));
    assert_eq!(alice.get("active"), Some("true"));
}

#[tokio::test]
async fn a_rename_in_the_source_is_an_update_not_a_new_user() {
    let pair = Pair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    pair.source.set("a1", "userName", Some("alice.liddell@contoso.com"));
    let report = pair.initial().await;
    assert_eq!((report.created, report.updated), (0, 1), "{report:?}");
    assert_eq!(pair.target.users().len(), 1);
    let alice = pair.provisioned("a1").expect("still there");
    assert_eq!(alice.user_name(), "alice.liddell@contoso.com");
}

#[tokio::test]
async fn a_restarted_operator_duplicates_nothing() {
    // State is rebuilt from the directories: a second Initial cycle finds every user by anchor.
    let pair = Pair::all_users();
    for i in 0..5 {
        pair.source.put(person(&format!("u{i}"), &format!("user{i}")));
    }
    assert_eq!(pair.initial().await.created, 5);
    pair.target.take_log();
    let again = pair.initial().await;
    assert_eq!((again.created, again.unchanged), (0, 5), "{again:?}");
    assert!(pair.target.take_writes().is_empty());
}
