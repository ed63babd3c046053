//! SCIM Bulk answers from a real HTTP server: judged per operation, and a request that fails
//! as a whole leaves each of its creations open to a look-up, never sent again blind.

use serde_json::json;

use super::ScimClient;
use crate::providers::hostile::{self, Answer};
use crate::providers::settings::{DirectoryFeatures, ScimDeletion};
use crate::providers::{DirectoryError, TargetDirectory};

/// A client of a server that announces Bulk.
fn bulk_client(base: &str) -> ScimClient {
    let capabilities = DirectoryFeatures {
        bulk: true,
        filter: true,
        ..DirectoryFeatures::default()
    };
    ScimClient::new(hostile::http(), base, "t", capabilities, ScimDeletion::Deactivate).expect("client")
}

fn users(names: &[&str]) -> Vec<crate::engine::user::Attributes> {
    names
        .iter()
        .map(|n| [("userName", format!("{n}@contoso.com"))].into_iter().collect())
        .collect()
}

#[tokio::test]
async fn a_bulk_request_answered_500_leaves_every_creation_open_and_is_not_sent_again() {
    // RFC 7644 §3.7: a failed Bulk request as a whole says nothing of its operations.
    let (base, log) = hostile::serve(|_, _| Answer::text(500, "oops")).await;
    let created = bulk_client(&base).create_users(&users(&["a", "b"])).await;
    assert!(
        created
            .iter()
            .all(|r| r.as_ref().is_err_and(DirectoryError::may_have_landed)),
        "{created:?}"
    );
    assert_eq!(
        log.lock().map(|l| l.len()).unwrap_or(0),
        1,
        "one POST, not retried blind"
    );
}

#[tokio::test]
async fn a_bulk_answer_is_judged_per_operation() {
    let (base, _) = hostile::serve(|_, _| {
        Answer::json(
            200,
            json!({ "Operations": [
                { "bulkId": "0", "method": "POST", "status": "201", "location": "http://x/v2/Users/u1" },
                { "bulkId": "1", "method": "POST", "status": "500" },
                { "bulkId": "2", "method": "POST", "status": "409", "response": { "scimType": "uniqueness" } },
            ] }),
        )
    })
    .await;
    let created = bulk_client(&base).create_users(&users(&["a", "b", "c"])).await;
    assert_eq!(created[0].as_deref().ok(), Some("u1"));
    assert!(
        created[1].as_ref().is_err_and(DirectoryError::may_have_landed),
        "{created:?}"
    );
    assert!(
        created[2]
            .as_ref()
            .is_err_and(|e| !e.may_have_landed() && matches!(e, DirectoryError::Rejected { status: 409, .. })),
        "{created:?}"
    );
}
