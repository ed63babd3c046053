//! The groups `scope.groups` names, read from a SCIM source on the wire: each entry is exactly
//! one group (RFC 7644 §3.4.2.2 filter on `displayName`, else `GET /Groups/{id}`).

use serde_json::{Value, json};

use super::hostile_tests::client;
use crate::providers::hostile::Answer;
use crate::providers::{Directory, DirectoryError};

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
