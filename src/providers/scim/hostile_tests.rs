//! The SCIM client against hostile peers (Trust #2, #3, #10): a read that is not clearly
//! complete fails — and a failed read deprovisions nothing.

use serde_json::json;

use super::ScimClient;
use crate::api::tenant::{Capabilities, ScimSoftDelete};
use crate::providers::hostile::{self, Answer};
use crate::providers::{Directory, DirectoryError};

pub(super) async fn client(handler: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> ScimClient {
    let (base, _) = hostile::serve(handler).await;
    let capabilities = Capabilities {
        patch: true,
        filter: true,
        ..Capabilities::default()
    };
    ScimClient::new(
        crate::providers::http_client(),
        &base,
        "t",
        capabilities,
        ScimSoftDelete::Deactivate,
    )
    .expect("client")
}

/// A client of a server that announces nothing (no PATCH, no Bulk, no filtering).
fn plain_client(base: &str) -> ScimClient {
    ScimClient::new(
        crate::providers::http_client(),
        base,
        "t",
        Capabilities::default(),
        ScimSoftDelete::Deactivate,
    )
    .expect("client")
}

fn one_user() -> crate::engine::user::Attributes {
    [("userName", "a@contoso.com".to_owned())].into_iter().collect()
}

fn user(id: &str) -> serde_json::Value {
    json!({ "id": id, "userName": format!("{id}@contoso.com") })
}

fn page(total: u64, ids: &[&str]) -> Answer {
    let resources: Vec<_> = ids.iter().map(|id| user(id)).collect();
    Answer::json(
        200,
        json!({ "totalResults": total, "itemsPerPage": ids.len(), "Resources": resources }),
    )
}

/// A server answering `answer()` after 30 ms, and the most requests it had in flight at once.
async fn counting_server(
    answer: impl Fn() -> Answer + Send + Sync + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let in_flight = std::sync::Arc::new(AtomicUsize::new(0));
    let most = std::sync::Arc::new(AtomicUsize::new(0));
    let peak = most.clone();
    let (base, _) = hostile::serve(move |_, _| {
        let current = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(current, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(30));
        in_flight.fetch_sub(1, Ordering::SeqCst);
        answer()
    })
    .await;
    (base, most)
}

fn invalid(result: Result<impl std::fmt::Debug, DirectoryError>) -> String {
    match result {
        Err(DirectoryError::InvalidResponse(why)) => why,
        other => panic!("expected a failed read, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_ignores_start_index_fails_the_read() {
    // Page 1 again and again: 2 of 4 users, twice — it looks complete by count alone.
    let scim = client(|_, _| page(4, &["a", "b"])).await;
    let why = invalid(scim.list_users().await);
    assert!(why.contains("twice"), "{why}");
}

#[tokio::test]
async fn a_total_that_changes_between_pages_fails_the_read() {
    let scim = client(|_, path| {
        if path.contains("startIndex=1&") {
            page(3, &["a", "b"])
        } else {
            page(2, &["c"])
        }
    })
    .await;
    let why = invalid(scim.list_users().await);
    assert!(why.contains("totalResults"), "{why}");
}

#[tokio::test]
async fn a_200_that_is_not_json_fails_the_read() {
    let scim = client(|_, _| Answer::text(200, "<html>maintenance</html>")).await;
    assert!(invalid(scim.list_users().await).contains("JSON"));
    let scim = client(|_, _| Answer::text(200, "<html>maintenance</html>")).await;
    assert!(
        scim.group_members(&["Sales".into()]).await.is_err(),
        "garbage is not an empty group"
    );
}

#[tokio::test]
async fn a_group_without_members_or_not_found_is_a_failed_read_not_an_empty_group() {
    let scim = client(|_, _| {
        Answer::json(
            200,
            json!({ "totalResults": 1, "Resources": [{ "id": "g1", "displayName": "Sales" }] }),
        )
    })
    .await;
    let why = invalid(scim.group_members(&["Sales".into()]).await);
    assert!(why.contains("members"), "{why}");
    let scim = client(|_, path| {
        if path.starts_with("/Groups?") {
            Answer::json(200, json!({ "totalResults": 0, "Resources": [] }))
        } else {
            Answer::json(404, json!({ "status": "404" }))
        }
    })
    .await;
    let why = invalid(scim.group_members(&["Sales".into()]).await);
    assert!(why.contains("not found"), "{why}");
}

#[tokio::test]
async fn an_endless_body_fails_in_bounded_memory() {
    let scim = client(|_, _| Answer::endless("{\"totalResults\": 1, \"Resources\": ", 200 * 1024 * 1024)).await;
    let why = invalid(scim.list_users().await);
    assert!(why.contains("larger than"), "{why}");
}

#[tokio::test]
async fn a_creation_answered_with_502_is_not_sent_again() {
    // Trust #16: the server may have created the user before its gateway gave up.
    let (base, log) = hostile::serve(|_, _| Answer::text(502, "bad gateway")).await;
    let (scim, attributes) = (plain_client(&base), one_user());
    let created = scim.create_users(&[attributes]).await;
    assert!(created[0].is_err());
    let posts = log
        .lock()
        .map(|l| l.iter().filter(|r| r.starts_with("POST")).count())
        .unwrap_or(0);
    assert_eq!(posts, 1, "one POST, not retried blind");
}

#[tokio::test]
async fn throttling_is_waited_out_past_the_attempts_a_failure_gets() {
    // Trust #6: throttling is flow control — eight 429s in a row (a failure gets five attempts)
    // and the creation still goes through, sent once it was let through.
    let throttles = std::sync::atomic::AtomicU32::new(0);
    let (base, log) = hostile::serve(move |_, _| {
        if throttles.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 8 {
            Answer::text(429, "slow down").with_header("Retry-After", "0")
        } else {
            Answer::json(201, json!({ "id": "u1", "userName": "a@contoso.com" }))
        }
    })
    .await;
    let (scim, attributes) = (plain_client(&base), one_user());
    let created = scim.create_users(&[attributes]).await.remove(0).expect("created");
    assert_eq!(created, "u1");
    let posts = log.lock().map(|l| l.len()).unwrap_or(0);
    assert_eq!(posts, 9, "eight throttled, then the one that went through");
}

#[tokio::test]
async fn scim_errors_become_typed() {
    let scim = client(|_, _| {
        Answer::json(
            409,
            json!({"status": "409", "scimType": "uniqueness", "detail": "userName taken"}),
        )
    })
    .await;
    let attributes = one_user();
    let error = scim.create_users(&[attributes]).await.remove(0).expect_err("refused");
    assert_eq!(error.to_string(), "HTTP 409 (uniqueness): userName taken");
    assert!(matches!(error, DirectoryError::Rejected { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn configurations_sharing_a_directory_never_exceed_its_limit_together() {
    // Scale #2: two configurations writing into one directory with a limit of 2 — each alone
    // would send up to its limit, together they must not exceed it.
    let (base, most) = counting_server(|| Answer::json(201, json!({ "id": "u", "userName": "a@contoso.com" }))).await;
    let budgets = crate::providers::budget::Budgets::default();
    let clients: Vec<ScimClient> = (0..2)
        .map(|_| plain_client(&base).with_budget(budgets.of("scim shared", 2)))
        .collect();
    let users: Vec<_> = (0..8).map(|_| one_user()).collect();
    let (a, b) = tokio::join!(clients[0].create_users(&users), clients[1].create_users(&users));
    assert!(a.iter().chain(&b).all(Result::is_ok));
    assert_eq!(
        most.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "at most the directory's limit, and all of it used"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 12)]
async fn updates_use_the_whole_limit_of_the_directory() {
    // Scale #2: a Tenant's maxConcurrency above the default is what updates and deprovisions
    // run at, not the default the cycle used to pass down.
    let (base, most) = counting_server(|| Answer::json(200, user("u"))).await;
    let budgets = crate::providers::budget::Budgets::default();
    let scim = plain_client(&base).with_budget(budgets.of("scim wide", 8));
    let mut changes = crate::engine::plan::Changes::new();
    changes.insert("title", Some("Engineer".to_owned()));
    let updates: Vec<_> = (0..24)
        .map(|i| {
            let target = crate::engine::plan::TargetRef {
                id: format!("u{i}"),
                label: format!("u{i}"),
                version: None,
                deleted: false,
            };
            (target, changes.clone())
        })
        .collect();
    assert!(scim.update_users(&updates).await.iter().all(Result::is_ok));
    assert_eq!(
        most.load(std::sync::atomic::Ordering::SeqCst),
        8,
        "the Tenant's limit, all of it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn no_write_of_another_configuration_lands_between_the_pages_of_a_listing() {
    // Scale #2, many-to-one: configurations writing one target while one of them lists it. A
    // write between two pages changes totalResults and fails the listing — every time, with
    // enough configurations. The listing holds their writes back until it is whole.
    let (base, log) = hostile::serve(|method, path| {
        std::thread::sleep(std::time::Duration::from_millis(20));
        if method == "GET" {
            let start: usize = path
                .split("startIndex=")
                .nth(1)
                .and_then(|s| s.split('&').next()?.parse().ok())
                .unwrap_or(1);
            // One user per page, whatever `count` asks: five pages.
            return page(5, &[&format!("u{start}")]);
        }
        Answer::json(201, json!({ "id": "new", "userName": "a@contoso.com" }))
    })
    .await;
    let budgets = crate::providers::budget::Budgets::default();
    let lister = plain_client(&base).with_budget(budgets.of("scim one target", 4));
    let writer = plain_client(&base).with_budget(budgets.of("scim one target", 4));
    let users: Vec<_> = (0..6).map(|_| one_user()).collect();
    let listing = async {
        let listed = lister.list_users().await.expect("the listing is whole");
        assert_eq!(listed.len(), 5);
    };
    let writing = async {
        // The writes start once the listing has begun (its first page asked for).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !log.lock().expect("log").iter().any(|l| l.starts_with("GET")) {
            assert!(std::time::Instant::now() < deadline, "the listing never began");
            tokio::task::yield_now().await;
        }
        assert!(writer.create_users(&users).await.iter().all(Result::is_ok));
    };
    tokio::join!(listing, writing);
    let log = log.lock().expect("log").clone();
    let first_get = log.iter().position(|l| l.starts_with("GET")).expect("a GET");
    let last_get = log.iter().rposition(|l| l.starts_with("GET")).expect("a GET");
    let between: Vec<&String> = log[first_get..last_get]
        .iter()
        .filter(|l| l.starts_with("POST"))
        .collect();
    assert!(between.is_empty(), "writes between the pages: {log:?}");
}
