//! The Graph client against hostile peers (Trust #10).

use std::sync::Mutex;

use serde_json::json;

use std::sync::Arc;

use super::client::GraphClient;
use crate::api::tenant::{Cloud, GraphEndpoints};
use crate::providers::hostile::{self, Answer};
use crate::providers::msgraph::{Credentials, Endpoints};

#[tokio::test]
async fn a_next_link_that_loops_fails_the_read_in_bounded_time() {
    // Trust #10: Graph's @odata.nextLink was followed without a guard.
    let own_base: Arc<Mutex<String>> = Arc::default();
    let link_base = own_base.clone();
    let (base, log) = hostile::serve(move |_, path| {
        if path.contains("/oauth2/") {
            return Answer::json(
                200,
                json!({ "access_token": "t", "expires_in": 3600, "token_type": "Bearer" }),
            );
        }
        let base = link_base.lock().map(|b| b.clone()).unwrap_or_default();
        let next = format!("{base}/v1.0/users?page={}", if path.contains("page=2") { 1 } else { 2 });
        Answer::json(200, json!({ "value": [{ "id": "u1" }], "@odata.nextLink": next }))
    })
    .await;
    *own_base.lock().expect("base") = base.clone();
    let overrides = GraphEndpoints {
        login: Some(base.clone()),
        graph: Some(base.clone()),
    };
    let endpoints = Endpoints::resolve(Cloud::Global, Some(&overrides)).expect("endpoints");
    let credentials = Credentials {
        tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
        client_id: "app".into(),
        client_secret: "secret".into(),
    };
    let client = GraphClient::new(crate::providers::http_client(), endpoints, credentials, Arc::default());
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
