//! The Graph client against hostile peers (README, "Safety").

use std::sync::Mutex;

use serde_json::json;

use std::sync::Arc;

use super::client::{BatchRequest, GraphClient};
use super::directory::MsGraphDirectory;
use super::resource::AnchorAttribute;
use crate::providers::hostile::{self, Answer, graph_client as client_of, token};
use crate::providers::{DirectoryError, TargetDirectory};

#[tokio::test]
async fn a_next_link_that_loops_fails_the_read_in_bounded_time() {
    // Graph's @odata.nextLink was once followed without a guard (README, "Safety").
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
    // Seven rounds of a 429 inside the batch (a failure gets six attempts), then 200.
    // The batch item's Retry-After is a string, as the JSON batching page shows it.
    let rounds = std::sync::atomic::AtomicU32::new(0);
    let (base, log) = hostile::serve(move |_, path| {
        if path.contains("/oauth2/") {
            return token();
        }
        let response = if rounds.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 7 {
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
    assert_eq!(batches, 8);
}

/// RFC 9110 §10.2.3 allows `Retry-After: 0`: a storm of them is waited out at least a second
/// apart, not answered at network speed.
#[tokio::test]
async fn a_storm_of_retry_after_zero_gets_at_most_one_request_a_second() {
    let (base, log) = hostile::serve(|_, path| {
        if path.contains("/oauth2/") {
            return token();
        }
        Answer::json(
            429,
            json!({ "error": { "code": "TooManyRequests", "message": "Too many requests" } }),
        )
        .with_header("Retry-After", "0")
    })
    .await;
    let (client, users) = (client_of(&base), format!("{base}/v1.0/users"));
    let window = std::time::Duration::from_millis(3500);
    let read = tokio::time::timeout(window, client.list_all(&users, false)).await;
    assert!(read.is_err(), "still throttled");
    let requests = log
        .lock()
        .map(|l| l.iter().filter(|r| r.contains("/v1.0/users")).count())
        .unwrap_or(0);
    assert!((2..=4).contains(&requests), "{requests} requests in 3.5 s");
}

#[tokio::test]
async fn an_update_answered_500_inside_a_batch_is_sent_again_and_an_invitation_is_not() {
    // A PATCH is idempotent: a server error is retried with backoff. An invitation (POST) is
    // left to the cycle, which looks it up by anchor before sending it again.
    let rounds = std::sync::atomic::AtomicU32::new(0);
    let (base, log) = hostile::serve(move |_, path| {
        if path.contains("/oauth2/") {
            return token();
        }
        let failing = rounds.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2;
        let error = json!({ "error": { "code": "generalException", "message": "oops" } });
        let responses: Vec<_> = ["0", "1"]
            .iter()
            .map(|id| {
                if failing {
                    json!({ "id": id, "status": 500, "body": error })
                } else {
                    json!({ "id": id, "status": 204, "body": null })
                }
            })
            .collect();
        Answer::json(200, json!({ "responses": responses }))
    })
    .await;
    let update = BatchRequest {
        method: reqwest::Method::PATCH,
        url: "/users/u1".into(),
        body: Some(json!({ "jobTitle": "Dev" })),
    };
    let invitation = BatchRequest {
        method: reqwest::Method::POST,
        url: "/invitations".into(),
        body: Some(json!({ "invitedUserEmailAddress": "a@contoso.com" })),
    };
    let answers = client_of(&base).batch(&[update, invitation]).await;
    assert!(answers[0].is_ok(), "{:?}", answers[0]);
    assert!(
        answers[1].as_ref().is_err_and(DirectoryError::may_have_landed),
        "{:?}",
        answers[1]
    );
    let batches = log
        .lock()
        .map(|l| l.iter().filter(|r| r.contains("$batch")).count())
        .unwrap_or(0);
    assert_eq!(batches, 3, "the update alone twice more");
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
    let directory = MsGraphDirectory::new(client_of(&base), anchor, true);
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
    // Rule 5 (docs/architecture.md): the existing user was once patched with the anchor and the
    // source's attributes.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_callers_needing_a_token_send_one_token_request() {
    let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = requests.clone();
    let (base, _) = hostile::serve(move |_, path| {
        if path.contains("/oauth2/") {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // Slow enough that every caller asks while the first request is in flight.
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        token()
    })
    .await;
    let client = client_of(&base);
    let callers: Vec<_> = (0..20).map(|_| client.authorization()).collect();
    let answers = futures::future::join_all(callers).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_token_endpoint_that_streams_forever_fails_quickly_having_read_no_more_than_its_cap() {
    let (base, _, sent) = hostile::serve_counted(|_, _| {
        Answer::endless(r#"{"token_type":"Bearer","access_token":""#, 200 << 20).without_length()
    })
    .await;
    let started = std::time::Instant::now();
    let error = client_of(&base).authorization().await.expect_err("refused");
    assert!(error.to_string().contains("larger than 64 KiB"), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        hostile::sent_at_most(&sent, crate::providers::body::TOKEN_CAP),
        "{sent:?}"
    );
}

/// A Graph whose collection pages are `page(path)`.
async fn collection(page: impl Fn(&str) -> Answer + Send + Sync + 'static) -> (String, GraphClient) {
    let (base, _) = hostile::serve(move |_, path| if path.contains("/oauth2/") { token() } else { page(path) }).await;
    let client = client_of(&base);
    (base, client)
}

#[tokio::test]
async fn a_page_with_more_items_than_its_top_fails_the_read() {
    let (base, client) =
        collection(|_| Answer::json(200, json!({ "value": [{ "id": "a" }, { "id": "b" }, { "id": "c" }] }))).await;
    let error = client
        .list_all(&format!("{base}/v1.0/groups?$top=2"), false)
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("more than the 2 items asked for"), "{error}");
    // Without `$top` (a delta round), no more than Graph's largest page.
    let many: Vec<_> = (0..1000).map(|i| json!({ "id": format!("u{i}") })).collect();
    let (base, client) = collection(move |_| Answer::json(200, json!({ "value": many }))).await;
    let error = client
        .list_all(&format!("{base}/v1.0/users/delta"), false)
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("more than the 999 items"), "{error}");
}

#[tokio::test]
async fn a_page_of_tiny_values_is_refused_before_it_is_built() {
    // A groups page (read as `Value`s) with a group of ten million zeros: ten times its size as
    // a tree.
    let zeros = vec!["0"; 10_000_000].join(",");
    let body = format!(r#"{{"value":[{{"id":"g1","x":[{zeros}]}}]}}"#);
    let (base, client) = collection(move |_| Answer::text(200, &body)).await;
    let error = client
        .list_all(&format!("{base}/v1.0/groups?$top=999"), false)
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("would take more than"), "{error}");
}

#[tokio::test]
async fn a_users_page_keeps_only_the_selected_properties() {
    // 20 MiB of properties xtsync does not select, around users it does: they are skipped unbuilt.
    let junk = vec!["[0,{}]"; 2_000_000].join(",");
    let body = format!(
        r#"{{"value":[{{"id":"u1","userPrincipalName":"alice@contoso.com","x":[{junk}],"onPremisesExtensionAttributes":{{"extensionAttribute15":"t/1","y":[{junk}]}}}}]}}"#
    );
    let (base, _) = hostile::serve(move |_, path| {
        if path.contains("/oauth2/") {
            token()
        } else if path.contains("deletedItems") {
            Answer::json(200, json!({ "value": [] }))
        } else {
            Answer::text(200, &body)
        }
    })
    .await;
    let anchor = AnchorAttribute::of(None).expect("default anchor");
    let users = MsGraphDirectory::new(client_of(&base), anchor, true)
        .list_users()
        .await
        .expect("read");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].get("externalId"), Some("t/1"));
    let kept: usize = users[0].attributes.values().map(str::len).sum();
    assert!(kept < 64, "{:?}", users[0]);
}
