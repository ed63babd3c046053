//! The Graph client against hostile peers (Trust #6, #8, #10).

use std::sync::Mutex;

use serde_json::json;

use std::sync::Arc;

use super::client::{BatchRequest, GraphClient};
use super::directory::GraphDirectory;
use super::resource::AnchorAttribute;
use crate::api::tenant::{Cloud, GraphEndpoints};
use crate::providers::hostile::{self, Answer};
use crate::providers::msgraph::{Credentials, Endpoints};
use crate::providers::{Directory, DirectoryError};

/// A client of the fake Graph at `base` (login and Graph endpoints alike).
pub(super) fn client_of(base: &str) -> GraphClient {
    let overrides = GraphEndpoints {
        login: Some(base.to_owned()),
        graph: Some(base.to_owned()),
    };
    let endpoints = Endpoints::resolve(Cloud::Global, Some(&overrides)).expect("endpoints");
    let credentials = Credentials {
        tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
        client_id: "app".into(),
        client_secret: "secret".into(),
    };
    GraphClient::new(crate::providers::http_client(), endpoints, credentials, Arc::default())
}

pub(super) fn token() -> Answer {
    Answer::json(
        200,
        json!({ "access_token": "t", "expires_in": 3600, "token_type": "Bearer" }),
    )
}

#[tokio::test]
async fn a_next_link_that_loops_fails_the_read_in_bounded_time() {
    // Trust #10: Graph's @odata.nextLink was followed without a guard.
    let own_base: Arc<Mutex<String>> = Arc::default();
    let link_base = own_base.clone();
    let (base, log) = hostile::serve(move |_, path| {
        if path.contains("/oauth2/") {
            return token();
        }
        let base = link_base.lock().map(|b| b.clone()).unwrap_or_default();
        let next = format!("{base}/v1.0/users?page={}", if path.contains("page=2") { 1 } else { 2 });
        Answer::json(200, json!({ "value": [{ "id": "u1" }], "@odata.nextLink": next }))
    })
    .await;
    *own_base.lock().expect("base") = base.clone();
    let client = client_of(&base);
    let first = format!("{base}/v1.0/users?page=1");
    let read = client.list_all(&first, false);
    let error = tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .expect("the read ends")
        .expect_err("a loop is a failed read");
    assert!(error.to_string().contains("already read"), "{error}");
    let pages = log
        .lock()
        .map(|l| l.iter().filter(|r| r.contains("/v1.0/users")).count())
        .unwrap_or(0);
    assert_eq!(pages, 2, "page 1, page 2, then the loop was seen");
}

#[tokio::test]
async fn requests_throttled_inside_a_batch_are_waited_out_past_the_attempts_a_failure_gets() {
    // Trust #6: eight rounds of a 429 inside the batch (a failure gets six attempts), then 200.
    // The batch item's Retry-After is a string, as the JSON batching page shows it.
    let rounds = std::sync::atomic::AtomicU32::new(0);
    let (base, log) = hostile::serve(move |_, path| {
        if path.contains("/oauth2/") {
            return token();
        }
        let response = if rounds.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 8 {
            json!({ "id": "0", "status": 429, "headers": { "Retry-After": "0" },
                    "body": { "error": { "code": "TooManyRequests", "message": "Too many requests" } } })
        } else {
            json!({ "id": "0", "status": 204, "body": null })
        };
        Answer::json(200, json!({ "responses": [response] }))
    })
    .await;
    let request = BatchRequest {
        method: reqwest::Method::PATCH,
        url: "/users/u1".into(),
        body: Some(json!({ "jobTitle": "Dev" })),
    };
    let answers = client_of(&base).batch(&[request]).await;
    assert!(answers[0].is_ok(), "{:?}", answers[0]);
    let batches = log
        .lock()
        .map(|l| l.iter().filter(|r| r.contains("$batch")).count())
        .unwrap_or(0);
    assert_eq!(batches, 9);
}

/// A Graph target whose `POST /invitations` answers with the existing user `existing`
/// (Microsoft Learn, "Create invitation": an address the tenant knows returns that user).
async fn invitation_answered_with(existing: serde_json::Value) -> (Result<String, DirectoryError>, Vec<String>) {
    let (base, log) = hostile::serve(move |method, path| match (method, path) {
        (_, p) if p.contains("/oauth2/") => token(),
        ("POST", p) if p.ends_with("/invitations") => Answer::json(
            201,
            json!({ "id": "inv1", "status": "PendingAcceptance", "invitedUser": { "id": "x1" } }),
        ),
        ("GET", p) if p.starts_with("/v1.0/users/x1") => Answer::json(200, existing.clone()),
        ("GET", p) if p.starts_with("/v1.0/organization") => Answer::json(
            200,
            json!({ "value": [{ "id": "org", "verifiedDomains": [{ "name": "fabrikam.onmicrosoft.com", "isInitial": true }] }] }),
        ),
        ("PATCH", _) => Answer::text(204, ""),
        _ => Answer::json(404, json!({ "error": { "code": "Request_ResourceNotFound", "message": "no" } })),
    })
    .await;
    let anchor = AnchorAttribute::of(None).expect("default anchor");
    let directory = GraphDirectory::new(client_of(&base), anchor, true);
    let desired = [
        ("userName", "alice@contoso.com".to_owned()),
        ("email", "alice@contoso.com".to_owned()),
        ("displayName", "Alice".to_owned()),
        ("externalId", "t1/u1".to_owned()),
    ]
    .into_iter()
    .collect();
    let created = directory.create_users(&[desired]).await.remove(0);
    let requests = log.lock().map(|l| l.clone()).unwrap_or_default();
    (created, requests)
}

fn patches(requests: &[String]) -> usize {
    requests.iter().filter(|r| r.starts_with("PATCH")).count()
}

#[tokio::test]
async fn an_invitation_that_answers_with_an_internal_user_changes_nothing() {
    // Trust #8: the existing user was patched with the anchor and the source's attributes.
    let internal = json!({ "id": "x1", "userPrincipalName": "alice@fabrikam.com", "mail": "alice@contoso.com",
                           "userType": "Member", "creationType": null, "accountEnabled": true,
                           "onPremisesExtensionAttributes": { "extensionAttribute15": null } });
    let (created, requests) = invitation_answered_with(internal).await;
    let error = created.expect_err("refused");
    assert_eq!(error.reason(), "ConflictsWithInternalUser", "{error}");
    assert_eq!(patches(&requests), 0, "{requests:#?}");
}

#[tokio::test]
async fn an_invitation_that_answers_with_another_sources_user_changes_nothing() {
    let theirs = json!({ "id": "x1", "userPrincipalName": "alice_contoso.com#EXT#@fabrikam.onmicrosoft.com",
                         "mail": "alice@contoso.com", "userType": "Member", "creationType": "Invitation",
                         "onPremisesExtensionAttributes": { "extensionAttribute15": "t2/u9" } });
    let (created, requests) = invitation_answered_with(theirs).await;
    let error = created.expect_err("refused");
    assert_eq!(error.reason(), "ConflictsWithProvisionedUser", "{error}");
    assert!(error.to_string().contains("t2/u9"), "{error}");
    assert_eq!(patches(&requests), 0, "{requests:#?}");
}

#[tokio::test]
async fn a_new_invitee_is_given_its_anchor_and_attributes() {
    let invitee = json!({ "id": "x1", "userPrincipalName": "alice_contoso.com#EXT#@fabrikam.onmicrosoft.com",
                          "mail": "alice@contoso.com", "userType": "Member", "creationType": "Invitation",
                          "externalUserState": "PendingAcceptance",
                          "onPremisesExtensionAttributes": { "extensionAttribute15": null } });
    let (created, requests) = invitation_answered_with(invitee).await;
    assert_eq!(created.expect("created"), "x1");
    assert_eq!(patches(&requests), 1, "{requests:#?}");
}
