//! Ids a SCIM directory answered, on the wire (README, "Safety"): each is one escaped segment
//! of the request's path, below the Tenant's base URL, and an id that cannot be one is never
//! sent.

use serde_json::json;

use super::ScimClient;
use crate::engine::groups::GroupChange;
use crate::engine::plan::{Changes, TargetRef};
use crate::engine::vocabulary::DeprovisionAction;
use crate::providers::hostile::{self, Answer};
use crate::providers::settings::{DirectoryFeatures, ScimDeletion};
use crate::providers::{DirectoryError, SourceDirectory, TargetDirectory};

/// A client of `base` that patches and deletes for good, so that every write names its user.
fn deleting_client(base: &str) -> ScimClient {
    let capabilities = DirectoryFeatures {
        patch: true,
        ..DirectoryFeatures::default()
    };
    ScimClient::new(hostile::http(), base, "t", capabilities, ScimDeletion::Delete).expect("client")
}

fn target(id: &str) -> TargetRef {
    TargetRef {
        id: id.to_owned(),
        label: id.to_owned(),
        version: None,
        deleted: false,
    }
}

fn new_title() -> Changes {
    [("title", Some("Dev".to_owned()))].into_iter().collect()
}

fn requests(log: &std::sync::Mutex<Vec<String>>) -> Vec<String> {
    log.lock().map(|l| l.clone()).unwrap_or_default()
}

#[tokio::test]
async fn a_target_id_is_sent_as_one_escaped_segment_below_the_base() {
    let (base, log) = hostile::serve(|_, _| Answer::json(200, json!({}))).await;
    // A base with a path and a trailing slash: the segments go below it, after one slash.
    let scim = deleting_client(&format!("{base}/scim/v2/"));
    for id in ["victim/../other", "a?x=1", "x#y", "50% off", "ünï"] {
        scim.update_user(&target(id), &new_title()).await.expect("sent");
    }
    scim.deprovision_user(&target("victim/../other"), DeprovisionAction::SoftDelete)
        .await
        .expect("sent");
    let delete = GroupChange::Delete {
        target: "g/../h".into(),
    };
    scim.group_change(&delete).await.expect("sent");
    assert_eq!(
        requests(&log),
        [
            "PATCH /scim/v2/Users/victim%2F..%2Fother",
            "PATCH /scim/v2/Users/a%3Fx=1",
            "PATCH /scim/v2/Users/x%23y",
            "PATCH /scim/v2/Users/50%25%20off",
            "PATCH /scim/v2/Users/%C3%BCn%C3%AF",
            "DELETE /scim/v2/Users/victim%2F..%2Fother",
            "DELETE /scim/v2/Groups/g%2F..%2Fh",
        ]
    );
}

#[tokio::test]
async fn a_base_without_a_trailing_slash_takes_the_same_paths() {
    let (base, log) = hostile::serve(|_, _| Answer::json(200, json!({}))).await;
    let scim = deleting_client(&format!("{base}/scim/v2"));
    scim.update_user(&target("a/b"), &new_title()).await.expect("sent");
    assert_eq!(requests(&log), ["PATCH /scim/v2/Users/a%2Fb"]);
}

#[tokio::test]
async fn an_id_that_cannot_be_one_segment_is_refused_and_nothing_is_sent() {
    // `.` and `..` would be taken off the path (the collection, or the level above it), an
    // empty id names the collection, and a tab or newline is dropped by URL parsers.
    let (base, log) = hostile::serve(|_, _| Answer::json(200, json!({}))).await;
    let scim = deleting_client(&base);
    for id in ["..", ".", "", ".\t.", "vic\ntim"] {
        let named = |error: DirectoryError| match error {
            DirectoryError::InvalidResponse(why) => assert!(why.contains(&format!("{id:?}")), "{why}"),
            other => panic!("expected a refusal naming {id:?}, got {other:?}"),
        };
        named(scim.update_user(&target(id), &new_title()).await.expect_err("refused"));
        let deprovisioned = scim.deprovision_user(&target(id), DeprovisionAction::SoftDelete).await;
        named(deprovisioned.expect_err("refused"));
        let disabled = scim.deprovision_user(&target(id), DeprovisionAction::Disable).await;
        named(disabled.expect_err("refused"));
        for change in [
            GroupChange::Delete { target: id.into() },
            GroupChange::AddMembers {
                target: id.into(),
                members: ["u1".to_owned()].into(),
            },
        ] {
            named(scim.group_change(&change).await.expect_err("refused"));
        }
        named(scim.read_users(&[id.to_owned()]).await.expect_err("refused"));
        // Never taken for gone on such evidence: its user is not deprovisioned.
        let gone = scim.confirm_gone(&[id.to_owned(), "u1".to_owned()]).await;
        assert!(gone.expect("answered").is_empty());
    }
    let sent = requests(&log);
    assert!(sent.iter().all(|r| r == "GET /Users/u1"), "{sent:#?}");
}
