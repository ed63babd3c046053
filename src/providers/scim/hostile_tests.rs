//! The SCIM client against hostile peers (README, "Safety"): a read that is not clearly
//! complete fails — and a failed read deprovisions nothing.

use serde_json::json;

use super::ScimClient;
use crate::providers::hostile::{self, Answer, plain_client};
use crate::providers::settings::{DirectoryFeatures, ScimDeletion};
use crate::providers::{DirectoryError, SourceDirectory, TargetDirectory};

pub(super) async fn client(handler: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> ScimClient {
    let (base, _) = hostile::serve(handler).await;
    let capabilities = DirectoryFeatures {
        patch: true,
        filter: true,
        ..DirectoryFeatures::default()
    };
    client_announcing(&base, capabilities)
}

fn client_announcing(base: &str, capabilities: DirectoryFeatures) -> ScimClient {
    ScimClient::new(hostile::http(), base, "t", capabilities, ScimDeletion::Deactivate).expect("client")
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
    // Rule 9 (docs/architecture.md): the server may have created the user before its gateway gave
    // up.
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
    // Throttling is flow control — six 429s in a row (a failure gets five attempts)
    // and the creation still goes through, sent once it was let through.
    let throttles = std::sync::atomic::AtomicU32::new(0);
    let (base, log) = hostile::serve(move |_, _| {
        if throttles.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 6 {
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
    assert_eq!(posts, 7, "six throttled, then the one that went through");
}

/// How many requests a server that throttles every one with `Retry-After: retry_after`
/// receives while `reads` direct reads of users, sent at once, keep trying for `window`.
async fn throttled_requests_in(window: std::time::Duration, retry_after: &'static str, reads: usize) -> usize {
    let (base, log) =
        hostile::serve(move |_, _| Answer::text(429, "slow down").with_header("Retry-After", retry_after)).await;
    let ids: Vec<String> = (0..reads).map(|i| format!("u{i}")).collect();
    let read = tokio::time::timeout(window, plain_client(&base).confirm_gone(&ids)).await;
    assert!(read.is_err(), "still throttled when the window closes");
    log.lock().map(|l| l.len()).unwrap_or(0)
}

/// RFC 9110 §10.2.3 allows `Retry-After: 0`: a storm of them is waited out at least a second
/// apart, not answered at network speed.
#[tokio::test]
async fn a_storm_of_retry_after_zero_gets_at_most_one_request_a_second() {
    let requests = throttled_requests_in(std::time::Duration::from_millis(3500), "0", 1).await;
    assert!((2..=4).contains(&requests), "{requests} requests in 3.5 s");
    // Four reads in flight: four requests a second at most.
    let requests = throttled_requests_in(std::time::Duration::from_millis(3500), "0", 4).await;
    assert!((8..=16).contains(&requests), "{requests} requests in 3.5 s");
}

#[tokio::test]
async fn a_storm_of_retry_after_dates_in_the_past_gets_at_most_one_request_a_second() {
    let past = "Wed, 21 Oct 2015 07:28:00 GMT";
    let requests = throttled_requests_in(std::time::Duration::from_millis(3500), past, 1).await;
    assert!((2..=4).contains(&requests), "{requests} requests in 3.5 s");
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
    // One budget per directory (README, "Operating it"): two configurations writing into one
    // directory with a limit of 2 — each alone would send up to its limit, together they must not
    // exceed it.
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
    // One budget per directory (README, "Operating it"): a Tenant's maxConcurrency above the
    // default is what updates and deprovisions run at, not the default the cycle used to pass down.
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
    // One budget per directory, many-to-one (README, "Operating it"): configurations writing one
    // target while one of them lists it. A write between two pages changes totalResults and fails
    // the listing — every time, with enough configurations. The listing holds their writes back
    // until it is whole.
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

/// `count` asked for by a listing request.
fn count_of(path: &str) -> usize {
    path.split("count=")
        .nth(1)
        .and_then(|s| s.split('&').next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_page_with_more_resources_than_asked_for_fails_the_read() {
    // RFC 7644 §3.4.2.4: a server MUST NOT return more results than `count`. One more than
    // asked, with a total that agrees, looked like a complete listing.
    let scim = client(|_, path| {
        let ids: Vec<String> = (0..=count_of(path)).map(|i| format!("u{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        page(ids.len() as u64, &ids)
    })
    .await;
    let why = invalid(scim.list_users().await);
    assert!(why.contains("more than the 100 resources asked for"), "{why}");
}

#[tokio::test]
async fn a_page_of_a_user_with_endless_emails_is_refused() {
    // A page within the size cap whose one user carries 200,000 tiny emails: as a tree of
    // `Value`s it took about twenty times its size.
    let emails = vec!["{}"; 200_000].join(",");
    let body = format!(r#"{{"totalResults":1,"Resources":[{{"id":"u1","userName":"a","emails":[{emails}]}}]}}"#);
    let scim = client(move |_, _| Answer::text(200, &body)).await;
    let why = invalid(scim.list_users().await);
    assert!(why.contains("more than the 100 emails"), "{why}");
}

#[tokio::test]
async fn what_a_page_keeps_is_what_xtsync_reads_not_what_the_peer_sent() {
    // 30 MiB of attributes xtsync does not read, around one user it does: they are skipped as
    // they are parsed, and the user is read.
    let junk = vec![r#"{"a":[0,0,0,0],"b":{}}"#; 600_000].join(",");
    let body = format!(
        r#"{{"totalResults":1,"Resources":[{{"id":"u1","userName":"alice@contoso.com","x":[{junk}],"name":{{"givenName":"Alice","y":[{junk}]}}}}]}}"#
    );
    assert!(body.len() > 25 << 20 && body.len() < crate::providers::body::ANSWER_CAP);
    let page = super::listing::parse::<crate::engine::user::User>(body.as_bytes(), 100).expect("a page");
    let kept: usize = page
        .resources
        .iter()
        .map(|u| std::mem::size_of_val(u) + u.user_name.as_ref().map_or(0, String::len))
        .sum();
    assert!(kept < 1024, "{kept} bytes kept of {}", body.len());
    let scim = client(move |_, _| Answer::text(200, &body)).await;
    let users = scim.list_users().await.expect("the user is read");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].get("name.givenName"), Some("Alice"));
}

#[tokio::test]
async fn a_group_of_endless_empty_members_keeps_none_of_them() {
    let members = vec!["{}"; 2_000_000].join(",");
    let body = format!(
        r#"{{"totalResults":1,"Resources":[{{"id":"g1","displayName":"Sales","members":[{members},{{"value":"u1"}}]}}]}}"#
    );
    let page = super::listing::parse::<crate::engine::groups::TargetGroup>(body.as_bytes(), 100).expect("a page");
    let members = page.resources[0].members.as_deref().unwrap_or_default();
    assert_eq!(members, ["u1"], "only members with an id are kept");
    let scim = client(move |_, _| Answer::text(200, &body)).await;
    let groups = scim.list_groups().await.expect("read");
    assert_eq!(groups[0].members.len(), 1);
}

#[tokio::test]
async fn an_answer_of_tiny_values_is_refused_before_it_is_built() {
    // A single resource read (the PUT fallback reads the whole user): a body of 20 MiB of
    // zeros would be ten times that as a tree.
    let zeros = vec!["0"; 10_000_000].join(",");
    let body = format!(r#"{{"id":"u1","userName":"a","x":[{zeros}]}}"#);
    let (base, _) = hostile::serve(move |_, _| Answer::text(200, &body)).await;
    let scim = plain_client(&base);
    let target = crate::engine::plan::TargetRef {
        id: "u1".into(),
        label: "u1".into(),
        version: None,
        deleted: false,
    };
    let mut changes = crate::engine::plan::Changes::new();
    changes.insert("title", Some("Engineer".to_owned()));
    let why = invalid(scim.update_user(&target, &changes).await);
    assert!(why.contains("would take more than"), "{why}");
}

#[tokio::test]
async fn an_endless_error_body_is_cut_and_the_error_keeps_its_status() {
    let (base, _, sent) = hostile::serve_counted(|_, _| {
        Answer {
            status: 409,
            ..Answer::endless(r#"{"scimType":"uniqueness","detail":""#, 200 << 20)
        }
        .without_length()
    })
    .await;
    let started = std::time::Instant::now();
    let error = plain_client(&base)
        .create_users(&[one_user()])
        .await
        .remove(0)
        .expect_err("refused");
    assert!(matches!(error, DirectoryError::Rejected { status: 409, .. }), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        hostile::sent_at_most(&sent, crate::providers::body::ERROR_CAP),
        "{sent:?}"
    );
}

#[tokio::test]
async fn a_probe_that_answers_two_gigabytes_fails_quickly_having_read_no_more_than_its_cap() {
    for sized in [true, false] {
        let (base, _, sent) = hostile::serve_counted(move |_, _| {
            let answer = Answer::endless(r#"{"patch":{"supported":true},"x":""#, 2 << 30);
            if sized { answer } else { answer.without_length() }
        })
        .await;
        let started = std::time::Instant::now();
        let error = super::probe(&hostile::http(), &base, "t").await.expect_err("refused");
        assert!(error.to_string().contains("larger than 1 MiB"), "{error}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(
            hostile::sent_at_most(&sent, crate::providers::body::PROBE_CAP),
            "{sent:?}"
        );
    }
}

#[tokio::test]
async fn a_probe_of_a_server_that_ignores_count_fails() {
    let (base, _) = hostile::serve(|_, path| {
        if path.contains("ServiceProviderConfig") {
            Answer::json(200, json!({ "patch": { "supported": true } }))
        } else {
            page(2, &["a", "b"])
        }
    })
    .await;
    let error = super::probe(&hostile::http(), &base, "t").await.expect_err("refused");
    assert!(
        error.to_string().contains("more than the 1 resources asked for"),
        "{error}"
    );
}
