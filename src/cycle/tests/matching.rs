//! Rules 5 and 6: adopt external users, never hijack internal ones; write only what changed.

use super::*;
use crate::engine::plan::SkipReason;
use crate::providers::memory::Request;

#[tokio::test]
async fn an_external_target_user_with_the_same_name_is_adopted() {
    let pair = Pair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.target
        .put(user("b2b", &[("userName", "alice@contoso.com"), ("userType", "Guest")]));
    let report = pair.initial().await;
    assert_eq!((report.adopted, report.created), (1, 0), "{report:?}");
    let adopted = pair.target.user("b2b").expect("same user");
    assert_eq!(adopted.get("externalId"), Some(anchor("a1").as_str()));
}

#[tokio::test]
async fn an_internal_target_user_is_never_adopted_or_changed() {
    let pair = Pair::all_users();
    pair.source.put(person("a1", "alice"));
    let internal = user("own", &[("userName", "ALICE@contoso.com"), ("userType", "Member")]);
    pair.target.put(internal.clone());
    let report = pair.initial().await;
    assert_eq!(report.skipped, 1);
    assert_eq!(
        report.failures[0].reason,
        SkipReason::ConflictsWithInternalUser.as_str()
    );
    assert!(pair.target.take_writes().is_empty(), "nothing written");
    assert_eq!(pair.target.user("own").map(|u| u.attributes), Some(internal.attributes));
}

#[tokio::test]
async fn without_adoption_a_matching_external_user_is_skipped_with_a_reason() {
    let mut pair = Pair::all_users();
    pair.rules.adopt_existing = false;
    pair.source.put(person("a1", "alice"));
    pair.target
        .put(user("b2b", &[("userName", "alice@contoso.com"), ("userType", "Guest")]));
    let report = pair.initial().await;
    assert_eq!(report.failures[0].reason, SkipReason::AdoptionDisabled.as_str());
    assert!(pair.target.take_writes().is_empty());
}

#[tokio::test]
async fn a_user_provisioned_from_another_source_is_never_taken_over() {
    let pair = Pair::all_users();
    pair.source.put(person("a1", "alice"));
    let theirs = format!("{OTHER}/x");
    pair.target.put(user(
        "t9",
        &[("userName", "alice@contoso.com"), ("externalId", &theirs)],
    ));
    let report = pair.initial().await;
    assert_eq!(
        report.failures[0].reason,
        SkipReason::ConflictsWithProvisionedUser.as_str()
    );
    assert_eq!(
        pair.target
            .user("t9")
            .and_then(|u| u.get("externalId").map(str::to_owned)),
        Some(theirs)
    );
}

#[tokio::test]
async fn an_unchanged_user_costs_no_write_and_an_update_sends_only_what_changed() {
    let pair = Pair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    pair.target.take_log();
    assert_eq!(pair.initial().await.unchanged, 1);
    assert!(pair.target.take_writes().is_empty(), "unchanged: no write");

    pair.source.set("a1", "displayName", Some("Alice Liddell"));
    pair.initial().await;
    let id = pair.provisioned("a1").expect("provisioned").id;
    assert_eq!(
        pair.target.take_writes(),
        vec![Request::Update {
            id,
            attributes: vec!["displayName"]
        }]
    );
}

#[tokio::test]
async fn a_cleared_source_attribute_is_cleared_in_the_target() {
    let pair = Pair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    pair.source.set("a1", "displayName", None);
    pair.initial().await;
    assert_eq!(
        pair.provisioned("a1")
            .and_then(|u| u.get("displayName").map(str::to_owned)),
        None
    );
}
