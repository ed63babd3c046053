//! Ids a Graph tenant answered, on the wire (README, "Safety"): each is one escaped segment of
//! the request's path, in a request of its own and inside a JSON batch alike, and an id that
//! cannot be one is never sent.

use serde_json::{Value, json};

use super::directory::MsGraphDirectory;
use super::resource::AnchorAttribute;
use crate::engine::groups::GroupChange;
use crate::engine::plan::{Changes, TargetRef};
use crate::engine::vocabulary::DeprovisionAction;
use crate::providers::hostile::{self, Answer, graph_client, token};
use crate::providers::{DirectoryError, TargetDirectory};

fn directory(base: &str, batching: bool) -> MsGraphDirectory {
    let anchor = AnchorAttribute::of(None).expect("default anchor");
    MsGraphDirectory::new(graph_client(base), anchor, batching)
}

fn target(id: &str) -> TargetRef {
    TargetRef {
        id: id.to_owned(),
        label: id.to_owned(),
        version: None,
        deleted: false,
    }
}

/// A Graph that answers every request, and every request of a batch, with 204.
fn accepting(_: &str, path: &str) -> Answer {
    if path.contains("/oauth2/") {
        return token();
    }
    if path.ends_with("/$batch") {
        let responses: Vec<Value> = (0..20).map(|i| json!({ "id": i.to_string(), "status": 204 })).collect();
        return Answer::json(200, json!({ "responses": responses }));
    }
    Answer::text(204, "")
}

/// The requests Graph was sent, but for tokens, in order.
fn sent(log: &std::sync::Mutex<Vec<String>>) -> Vec<String> {
    log.lock()
        .map(|l| l.iter().filter(|r| !r.contains("/oauth2/")).cloned().collect())
        .unwrap_or_default()
}

/// The `url` of every request inside the batches that were sent.
fn batched_urls(log: &std::sync::Mutex<Vec<String>>) -> Vec<String> {
    sent(log)
        .iter()
        .filter_map(|r| r.strip_prefix("POST /v1.0/$batch "))
        .filter_map(|body| serde_json::from_str::<Value>(body).ok())
        .flat_map(|body| body["requests"].as_array().cloned().unwrap_or_default())
        .filter_map(|request| request["url"].as_str().map(str::to_owned))
        .collect()
}

fn refusal_naming(id: &str, error: &DirectoryError) {
    match error {
        DirectoryError::InvalidResponse(why) => assert!(why.contains(&format!("{id:?}")), "{why}"),
        other => panic!("expected a refusal naming {id:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_target_id_is_sent_as_one_escaped_segment() {
    let (base, log) = hostile::serve(accepting).await;
    let graph = directory(&base, false);
    for id in ["victim/../other", "a?x=1"] {
        let deleted = graph.deprovision_user(&target(id), DeprovisionAction::SoftDelete).await;
        deleted.expect("sent");
    }
    let changes = [
        GroupChange::Delete {
            target: "g/../h".into(),
        },
        GroupChange::RemoveMembers {
            target: "g".into(),
            members: ["m/../n".to_owned()].into(),
        },
    ];
    for result in graph.apply_group_changes(&changes).await {
        result.expect("sent");
    }
    let mut manager = Changes::new();
    manager.insert("manager", None);
    graph.update_user(&target("x#y"), &manager).await.expect("sent");
    // The requests of one call go at once, in any order.
    let mut sent = sent(&log);
    sent.sort();
    assert_eq!(
        sent,
        [
            "DELETE /v1.0/groups/g%2F..%2Fh",
            "DELETE /v1.0/groups/g/members/m%2F..%2Fn/$ref",
            "DELETE /v1.0/users/a%3Fx=1",
            "DELETE /v1.0/users/victim%2F..%2Fother",
            "DELETE /v1.0/users/x%23y/manager/$ref",
        ]
    );
}

#[tokio::test]
async fn ids_inside_a_batch_are_escaped_by_the_same_rule() {
    let (base, log) = hostile::serve_logging_bodies(accepting).await;
    let graph = directory(&base, true);
    let targets = [target("victim/../other"), target("a?x=1"), target("50% off")];
    for result in graph.deprovision_users(&targets, DeprovisionAction::SoftDelete).await {
        result.expect("sent");
    }
    assert_eq!(
        batched_urls(&log),
        ["/users/victim%2F..%2Fother", "/users/a%3Fx=1", "/users/50%25%20off"]
    );
}

#[tokio::test]
async fn an_id_that_cannot_be_one_segment_is_refused_and_the_others_are_sent() {
    for id in ["..", ".", "", ".\t."] {
        let (base, log) = hostile::serve_logging_bodies(accepting).await;
        let graph = directory(&base, false);
        let targets = [target(id), target("u1")];
        let results = graph.deprovision_users(&targets, DeprovisionAction::SoftDelete).await;
        refusal_naming(id, results[0].as_ref().expect_err("refused"));
        assert!(results[1].is_ok(), "{:?}", results[1]);
        let changes = [
            GroupChange::Delete { target: id.into() },
            GroupChange::AddMembers {
                target: "g".into(),
                members: [id.to_owned()].into(),
            },
            GroupChange::Delete { target: "g2".into() },
        ];
        let results = graph.apply_group_changes(&changes).await;
        refusal_naming(id, results[0].as_ref().expect_err("refused"));
        refusal_naming(id, results[1].as_ref().expect_err("refused"));
        assert!(results[2].is_ok(), "{:?}", results[2]);
        assert_eq!(
            sent(&log),
            ["DELETE /v1.0/users/u1 ", "DELETE /v1.0/groups/g2 "],
            "{id:?}"
        );
        // Batched, the refused request leaves the batch and the others go.
        let (base, log) = hostile::serve_logging_bodies(accepting).await;
        let targets = [target("u1"), target(id), target("u2")];
        let results = directory(&base, true)
            .deprovision_users(&targets, DeprovisionAction::Disable)
            .await;
        refusal_naming(id, results[1].as_ref().expect_err("refused"));
        assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
        assert_eq!(batched_urls(&log), ["/users/u1", "/users/u2"], "{id:?}");
    }
}

#[tokio::test]
async fn an_invitation_answered_with_a_path_for_an_id_writes_nowhere_else() {
    // Microsoft Learn, "Create invitation": `invitedUser.id` is the user's object id. A peer
    // that answers a path instead gets it back as one segment, which names no user.
    let (base, log) = hostile::serve(|method, path| match (method, path) {
        (_, p) if p.contains("/oauth2/") => token(),
        ("POST", p) if p.ends_with("/invitations") => Answer::json(
            201,
            json!({ "id": "inv1", "status": "PendingAcceptance", "invitedUser": { "id": "../groups/g1" } }),
        ),
        _ => Answer::json(
            404,
            json!({ "error": { "code": "Request_ResourceNotFound", "message": "no" } }),
        ),
    })
    .await;
    let desired = [
        ("userName", "alice@contoso.com".to_owned()),
        ("externalId", "t1/u1".to_owned()),
    ]
    .into_iter()
    .collect();
    let created = directory(&base, true).create_users(&[desired]).await.remove(0);
    assert!(created.is_err(), "{created:?}");
    let sent = sent(&log);
    assert!(sent.iter().all(|r| !r.contains("/groups")), "{sent:#?}");
    assert!(sent.iter().all(|r| !r.starts_with("PATCH")), "{sent:#?}");
}
