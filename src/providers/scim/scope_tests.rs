//! The groups `scope.groups` names, read from a SCIM source on the wire: each entry is exactly
//! one group (RFC 7644 §3.4.2.2 filter on `displayName`, else `GET /Groups/{id}`).

use serde_json::{Value, json};

use super::hostile_tests::client;
use crate::providers::hostile::Answer;
use crate::providers::{DirectoryError, SourceDirectory};

fn failure(read: Result<std::collections::HashSet<String>, DirectoryError>) -> String {
    match read {
        Err(e) => e.to_string(),
        Ok(members) => panic!("the read succeeded with {members:?}"),
    }
}

fn group(id: &str, name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({ "value": m })).collect();
    json!({ "id": id, "displayName": name, "members": members })
}

/// A source answering every group search with `total` and `resources`, and 404 otherwise.
async fn source(total: usize, resources: Value) -> super::ScimClient {
    client(move |_, path| {
        if path.starts_with("/Groups?") {
            Answer::json(200, json!({ "totalResults": total, "Resources": resources.clone() }))
        } else {
            Answer::json(404, json!({ "status": "404" }))
        }
    })
    .await
}

#[tokio::test]
async fn a_name_that_matches_two_groups_fails_the_read_naming_it() {
    let scim = source(2, json!([group("g1", "Sales", &["u1"]), group("g2", "SALES", &["u2"])])).await;
    let why = failure(scim.group_members(&["Sales".into()]).await);
    assert!(why.contains("'Sales'") && why.contains("2 source groups"), "{why}");
}

#[tokio::test]
async fn a_search_answered_with_another_group_names_no_group() {
    // A server that ignores the filter answers with the one group it has: not Sales.
    let scim = source(1, json!([group("g2", "Marketing", &["u2"])])).await;
    let why = failure(scim.group_members(&["Sales".into()]).await);
    assert!(why.contains("'Sales' not found"), "{why}");
}

#[tokio::test]
async fn a_search_that_lists_fewer_groups_than_it_counts_fails_the_read() {
    // Two groups match, the server's page holds one: the other may be named Sales too.
    let scim = source(2, json!([group("g1", "Sales", &["u1"])])).await;
    let why = failure(scim.group_members(&["Sales".into()]).await);
    assert!(why.contains("'Sales'") && why.contains("2 results"), "{why}");
}

/// A source where `Outer` holds u1 and the group `inner` (by the entry `inner_entry`), and
/// `inner` holds u2; the listing of every group shows `listed`.
async fn nested(inner_entry: Value, listed: Value) -> super::ScimClient {
    let outer = json!({ "id": "outer", "displayName": "Outer", "members": [{ "value": "u1" }, inner_entry] });
    client(move |_, path| {
        if path.starts_with("/Groups?filter=") {
            Answer::json(200, json!({ "totalResults": 1, "Resources": [outer.clone()] }))
        } else if path.starts_with("/Groups?") {
            let count = listed.as_array().map_or(0, Vec::len);
            Answer::json(
                200,
                json!({ "totalResults": count, "startIndex": 1, "itemsPerPage": count, "Resources": listed.clone() }),
            )
        } else if path == "/Groups/inner" {
            Answer::json(200, group("inner", "Inner", &["u2"]))
        } else {
            Answer::json(404, json!({ "status": "404" }))
        }
    })
    .await
}

#[tokio::test]
async fn transitive_membership_follows_a_nested_group_known_only_by_its_id_among_the_groups() {
    // As scim2-server keeps them: member entries with a value and nothing else.
    let listed = json!([
        group("outer", "Outer", &["u1", "inner"]),
        group("inner", "Inner", &["u2"])
    ]);
    let scim = nested(json!({ "value": "inner" }), listed).await;
    let members = scim.transitive_group_members(&["Outer".into()]).await.expect("read");
    assert!(members.contains("u1") && members.contains("u2"), "{members:?}");
    let direct = scim.group_members(&["Outer".into()]).await.expect("read");
    assert!(!direct.contains("u2"), "Direct stays direct: {direct:?}");
}

#[tokio::test]
async fn transitive_membership_follows_a_nested_group_known_by_its_ref_or_type() {
    // The listing does not show `inner`: only the entry says it is a group.
    for entry in [
        json!({ "value": "inner", "$ref": "https://scim.contoso.example/v2/Groups/inner" }),
        json!({ "value": "inner", "type": "Group" }),
    ] {
        let scim = nested(entry.clone(), json!([group("outer", "Outer", &["u1", "inner"])])).await;
        let members = scim.transitive_group_members(&["Outer".into()]).await.expect("read");
        assert!(members.contains("u2"), "{entry}: {members:?}");
    }
}

#[tokio::test]
async fn a_nested_group_that_cannot_be_read_fails_the_read() {
    let entry = json!({ "value": "gone", "type": "Group" });
    let scim = nested(entry, json!([])).await;
    let why = failure(scim.transitive_group_members(&["Outer".into()]).await);
    assert!(why.contains("nested group gone not found"), "{why}");
}

#[tokio::test]
async fn a_user_id_from_an_anchor_is_read_as_one_path_segment() {
    // A target may write any anchor: its id part never leads a direct read elsewhere.
    let (base, log) = crate::providers::hostile::serve(|_, _| Answer::json(404, json!({ "status": "404" }))).await;
    let scim = super::ScimClient::new(
        crate::providers::hostile::http(),
        &base,
        "t",
        crate::providers::settings::DirectoryFeatures::default(),
        crate::providers::settings::ScimDeletion::Deactivate,
    )
    .expect("client");
    let found = scim.read_users(&["../Groups/g1?x=1".into()]).await.expect("read");
    assert!(found.is_empty());
    let requests = log.lock().map(|l| l.clone()).unwrap_or_default();
    assert_eq!(requests, ["GET /Users/..%2FGroups%2Fg1%3Fx=1"]);
}
