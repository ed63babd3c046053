//! The groups `scope.groups` names, read from a Graph source on the wire: each entry is exactly
//! one group, and a group that cannot be read is never an empty one (README "Safety").

use serde_json::{Value, json};

use super::directory::MsGraphDirectory;
use super::resource::AnchorAttribute;
use crate::providers::hostile::{self, Answer};
use crate::providers::hostile::{graph_client as client_of, token};
use crate::providers::{DirectoryError, SourceDirectory};

const SALES_1: &str = "0b7c8a3e-0000-4000-8000-000000000001";
const SALES_2: &str = "0b7c8a3e-0000-4000-8000-000000000002";

fn not_found() -> Answer {
    Answer::json(
        404,
        json!({ "error": { "code": "Request_ResourceNotFound", "message": "Resource does not exist." } }),
    )
}

/// A Graph source answering "List groups" with `named` (for any filter) and each group's
/// `transitiveMembers` with `members`, or 404 when `members` is `None`.
async fn source(named: Value, members: Option<Value>) -> MsGraphDirectory {
    let (base, _) = hostile::serve(move |method, path| match (method, path) {
        (_, p) if p.contains("/oauth2/") => token(),
        ("GET", p) if p.starts_with("/v1.0/groups?") => Answer::json(200, json!({ "value": named.clone() })),
        ("GET", p) if p.contains("/transitiveMembers/") => match &members {
            Some(members) => Answer::json(200, json!({ "value": members.clone() })),
            None => not_found(),
        },
        _ => not_found(),
    })
    .await;
    let anchor = AnchorAttribute::of(None).expect("default anchor");
    MsGraphDirectory::new(client_of(&base), anchor, true)
}

fn failure(read: Result<std::collections::HashSet<String>, DirectoryError>) -> String {
    match read {
        Err(e) => e.to_string(),
        Ok(members) => panic!("the read succeeded with {members:?}"),
    }
}

fn group(id: &str, name: &str) -> Value {
    json!({ "id": id, "displayName": name })
}

#[tokio::test]
async fn a_name_that_matches_two_groups_fails_the_read_instead_of_assigning_both() {
    let graph = source(
        json!([group(SALES_1, "Sales"), group(SALES_2, "sales")]),
        Some(json!([{ "id": "u1" }])),
    )
    .await;
    let why = failure(graph.group_members(&["Sales".into()]).await);
    assert!(why.contains("'Sales'") && why.contains("2 source groups"), "{why}");
}

#[tokio::test]
async fn a_name_that_matches_no_group_fails_the_read_instead_of_assigning_no_one() {
    let graph = source(json!([]), Some(json!([{ "id": "u1" }]))).await;
    let why = failure(graph.group_members(&["Sales".into()]).await);
    assert!(why.contains("'Sales' not found"), "{why}");
    // An id of no group: "Get group" answers 404.
    let graph = source(json!([]), Some(json!([{ "id": "u1" }]))).await;
    let why = failure(graph.group_members(&[SALES_1.into()]).await);
    assert!(why.contains(SALES_1) && why.contains("not found"), "{why}");
}

#[tokio::test]
async fn a_group_whose_members_answer_404_fails_the_read_instead_of_counting_as_empty() {
    let graph = source(json!([group(SALES_1, "Sales")]), None).await;
    let why = failure(graph.group_members(&["Sales".into()]).await);
    assert!(why.contains("'Sales' not found"), "{why}");
}

#[tokio::test]
async fn a_listing_that_ignores_the_filter_names_only_the_group_that_carries_the_name() {
    let graph = source(
        json!([group(SALES_1, "Sales"), group(SALES_2, "Marketing")]),
        Some(json!([{ "id": "u1" }, { "id": "u2" }])),
    )
    .await;
    let members = graph.group_members(&["Sales".into()]).await.expect("one group");
    assert_eq!(members, ["u1".to_owned(), "u2".to_owned()].into());
}

#[tokio::test]
async fn an_id_from_an_anchor_that_is_no_object_id_is_never_sent_as_a_path() {
    // A target may write any anchor; Graph object ids are GUIDs.
    let (base, log) = hostile::serve(move |_, path| {
        if path.contains("/oauth2/") {
            token()
        } else {
            Answer::json(200, json!({ "id": "g1" }))
        }
    })
    .await;
    let anchor = AnchorAttribute::of(None).expect("default anchor");
    let graph = MsGraphDirectory::new(client_of(&base), anchor, true);
    let odd = "../groups/g1".to_owned();
    let gone = graph.confirm_gone(std::slice::from_ref(&odd)).await.expect("read");
    assert!(
        gone.is_empty(),
        "not confirmed gone: it is skipped, never deprovisioned"
    );
    assert!(graph.read_users(&[odd]).await.expect("read").is_empty());
    let sent = log.lock().map(|l| l.clone()).unwrap_or_default();
    assert!(sent.iter().all(|r| r.contains("/oauth2/")), "{sent:?}");
}
