//! Rule 11: provisioning one user on demand, with every rule of a cycle.

use super::*;
use crate::engine::vocabulary::SkipReason;

async fn ask(pair: &Pair, who: &str) -> OnDemandOutcome {
    provision_on_demand(&pair.source, &pair.target, &pair.input(None, None), who)
        .await
        .expect("answers")
}

#[tokio::test]
async fn one_user_is_provisioned_on_demand_by_user_name_or_id() {
    let pair = Pair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.source.put(person("b1", "bob"));
    assert_eq!(ask(&pair, "ALICE@contoso.com").await.result, OnDemandResult::Created);
    assert_eq!(pair.target.users().len(), 1, "only alice");
    assert_eq!(ask(&pair, "a1").await.result, OnDemandResult::Unchanged);
    pair.source.set("a1", "displayName", Some("Alice L."));
    assert_eq!(ask(&pair, "a1").await.result, OnDemandResult::Updated);
}

#[tokio::test]
async fn on_demand_answers_not_found_out_of_scope_and_skipped() {
    let pair = Pair::assigned(&["alice@contoso.com"], &[]);
    pair.source.put(person("a1", "alice"));
    pair.source.put(person("b1", "bob"));
    pair.target.put(user(
        "own",
        &[("userName", "alice@contoso.com"), ("userType", "Member")],
    ));
    assert_eq!(ask(&pair, "nobody").await.result, OnDemandResult::NotFound);
    assert_eq!(ask(&pair, "b1").await.result, OnDemandResult::OutOfScope);
    let skipped = ask(&pair, "a1").await;
    assert_eq!(skipped.result, OnDemandResult::Skipped);
    assert!(skipped.message.contains(SkipReason::ConflictsWithInternalUser.as_str()));
    assert!(pair.target.take_writes().is_empty());
}
