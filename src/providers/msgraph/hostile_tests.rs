//! The Graph client against hostile peers (Trust #10).

use std::sync::Mutex;

use serde_json::json;

use std::sync::Arc;

use super::client::{BatchRequest, GraphClient};
use crate::api::tenant::{Cloud, GraphEndpoints};
use crate::providers::hostile::{self, Answer};
use crate::providers::msgraph::{Credentials, Endpoints};

/// A client of the fake Graph at `base` (login and Graph endpoints alike).
fn client_of(base: &str) -> GraphClient {
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

fn token() -> Answer {
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
