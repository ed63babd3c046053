//! Rule 11: provisioning one user on demand, with every rule of a cycle.

use super::*;
use crate::engine::vocabulary::SkipReason;
use crate::providers::memory::Request;

async fn ask(pair: &CyclePair, who: &str) -> OnDemandOutcome {
    provision_on_demand(&pair.source, &pair.target, &pair.input(None, None), who)
        .await
        .expect("answers")
}

#[tokio::test]
async fn one_user_is_provisioned_on_demand_by_user_name_or_id() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.source.put(person("b1", "bob"));
    assert_eq!(ask(&pair, "ALICE@contoso.com").await.result, OnDemandVerdict::Created);
    assert_eq!(pair.target.users().len(), 1, "only alice");
    assert_eq!(ask(&pair, "a1").await.result, OnDemandVerdict::Unchanged);
    pair.source.set("a1", "displayName", Some("Alice L."));
    assert_eq!(ask(&pair, "a1").await.result, OnDemandVerdict::Updated);
}

#[tokio::test]
async fn on_demand_looks_one_user_up_and_never_lists_the_source() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.source.put(person("b1", "bob"));
    pair.source.take_log();
    assert_eq!(ask(&pair, "alice@contoso.com").await.result, OnDemandVerdict::Created);
    assert_eq!(ask(&pair, "b1").await.result, OnDemandVerdict::Created);
    assert_eq!(ask(&pair, "nobody").await.result, OnDemandVerdict::NotFound);
    let listings: Vec<Request> = pair
        .source
        .take_log()
        .into_iter()
        .filter(|r| matches!(r, Request::ListUsers | Request::ReadSource { .. }))
        .collect();
    assert_eq!(listings, [], "on demand listed the source");
}

#[tokio::test]
async fn on_demand_answers_not_found_out_of_scope_and_skipped() {
    let pair = CyclePair::assigned(&["alice@contoso.com"], &[]);
    pair.source.put(person("a1", "alice"));
    pair.source.put(person("b1", "bob"));
    pair.target.put(user(
        "own",
        &[("userName", "alice@contoso.com"), ("userType", "Member")],
    ));
    assert_eq!(ask(&pair, "nobody").await.result, OnDemandVerdict::NotFound);
    assert_eq!(ask(&pair, "b1").await.result, OnDemandVerdict::OutOfScope);
    let skipped = ask(&pair, "a1").await;
    assert_eq!(skipped.result, OnDemandVerdict::Skipped);
    assert!(skipped.message.contains(SkipReason::ConflictsWithInternalUser.as_str()));
    assert!(pair.target.take_writes().is_empty());
}

#[tokio::test]
async fn a_request_with_a_nonce_provisions_the_user_it_names() {
    // `<user>#<nonce>`: the nonce makes a new request of the same user (README, "Annotations").
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    let created = ask(&pair, "alice@contoso.com#n1").await;
    assert_eq!(created.result, OnDemandVerdict::Created, "{created:?}");
    assert!(!created.message.contains("#n1"), "{}", created.message);
    assert_eq!(ask(&pair, "a1#2024.05-x_1").await.result, OnDemandVerdict::Unchanged);
}

#[test]
fn only_a_last_hash_followed_by_letters_digits_dots_dashes_or_underscores_is_a_nonce() {
    use crate::cycle::on_demand::subject;
    assert_eq!(subject("alice@contoso.com#n1"), "alice@contoso.com");
    assert_eq!(subject("group:Sales#7"), "group:Sales");
    assert_eq!(subject("alice@contoso.com"), "alice@contoso.com");
    // A Graph guest's userPrincipalName is not a request with a nonce.
    let guest = "alice_contoso.com#EXT#@fabrikam.onmicrosoft.com";
    assert_eq!(subject(guest), guest);
    assert_eq!(subject("alice#"), "alice#", "an empty nonce is none");
    assert_eq!(subject("#n1"), "#n1", "a nonce of nobody is none");
    // A userName that itself ends in such a `#…` is named with a nonce of its own.
    assert_eq!(subject("bob#1#n2"), "bob#1");
}
