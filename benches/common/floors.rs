//! The floors a sync is measured against (docs/performance.md): minimal clients that do only
//! what any sync must do, against the same servers, in the same run.
//!
//! - `plain_posts`: N plain `POST /Users`, C in flight. The oldest floor; a reference.
//! - `minimal_sync`: one reader paging through the source (pages of 1,000) while C writers send
//!   a plain `POST /Users` for each user read. The floor of an Initial cycle without Bulk.
//! - `minimal_sync` with Bulk: the same reader, and writers sending `POST /Bulk` requests of the
//!   size the target's `ServiceProviderConfig` allows (RFC 7644, section 3.7). The floor of an
//!   Initial cycle with Bulk.
//!
//! Each sync floor is timed with C writers and with 1, and the faster counts: on one machine,
//! more writers can slow a GIL-bound server down.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::support;

/// The source's pages of users, as a minimal reader takes them: 1,000 at a time.
pub const PAGE: usize = 1_000;

/// How the minimal sync client writes.
#[derive(Clone, Copy, Debug)]
pub enum FloorWrites {
    /// One plain `POST /Users` per user.
    PlainPosts,
    /// `POST /Bulk` requests of at most this many operations.
    Bulk(usize),
}

/// The body a minimal client sends for one source user: the attributes xtsync's default
/// mappings send, and the anchor.
fn target_user(source_tenant_id: &str, user: &Value) -> Value {
    let user_name = user["userName"].as_str().unwrap_or_default();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "displayName": user["displayName"].as_str().unwrap_or(user_name),
        "title": user["title"],
        "externalId": format!("{source_tenant_id}/{}", user["id"].as_str().unwrap_or_default()),
        "userType": "Member",
        "active": true,
    })
}

/// The oldest floor: one plain POST per user name, `concurrency` in flight.
pub async fn plain_posts(base: &str, names: &[String], source_tenant_id: &str, concurrency: usize) -> Duration {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let requests = names.iter().map(|name| {
        let user = json!({ "id": name, "userName": name, "title": "Engineer" });
        post_user(&http, base, target_user(source_tenant_id, &user))
    });
    let ok = futures::stream::iter(requests)
        .buffer_unordered(concurrency)
        .filter(|ok| futures::future::ready(*ok))
        .count()
        .await;
    assert_eq!(ok, names.len(), "the floor client created every user");
    started.elapsed()
}

/// The minimal sync client with `writers` writers: the time until every source user exists in
/// the empty target.
pub async fn minimal_sync(
    source: &str,
    target: &str,
    source_tenant_id: &str,
    writes: FloorWrites,
    writers: usize,
) -> Duration {
    let http = reqwest::Client::new();
    let started = Instant::now();
    // Two pages may wait for the writers, as the reader of a sync must not run ahead unbounded.
    let (users, mut waiting) = mpsc::channel::<Value>(2 * PAGE);
    let reader = {
        let http = http.clone();
        let source = source.to_owned();
        let source_tenant_id = source_tenant_id.to_owned();
        async move {
            for_each_page(&http, &source, |page| {
                let users = users.clone();
                let source_tenant_id = source_tenant_id.clone();
                async move {
                    for user in &page {
                        if users.send(target_user(&source_tenant_id, user)).await.is_err() {
                            return false;
                        }
                    }
                    true
                }
            })
            .await
        }
    };
    let written = async {
        let waiting = futures::stream::poll_fn(|cx| waiting.poll_recv(cx));
        match writes {
            FloorWrites::PlainPosts => {
                waiting
                    .map(|user| post_user(&http, target, user))
                    .buffer_unordered(writers)
                    .filter(|ok| futures::future::ready(*ok))
                    .count()
                    .await
            }
            FloorWrites::Bulk(max) => {
                waiting
                    .chunks(max)
                    .map(|users| post_bulk(&http, target, users))
                    .buffer_unordered(writers)
                    .fold(0, |sum, ok| futures::future::ready(sum + ok))
                    .await
            }
        }
    };
    let (read, written) = tokio::join!(reader, written);
    assert_eq!(read, written, "the minimal sync client created every user it read");
    started.elapsed()
}

/// What a minimal client reads to sync the users changed since `since` (RFC 3339): the changed
/// users from the source (`meta.lastModified ge`, pages of 1,000), and for each one look-up of
/// its anchor in the target, `concurrency` at a time. The time taken and the users changed.
pub async fn changes_and_look_ups(
    source: &str,
    target: &str,
    source_tenant_id: &str,
    since: &str,
    concurrency: usize,
) -> (Duration, usize) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let changed: Value = users_search(&http, source, &changes_filter(since))
        .query(&[("count", PAGE)])
        .send()
        .await
        .expect("changes")
        .json()
        .await
        .expect("JSON changes");
    let changed = changed["Resources"].as_array().cloned().unwrap_or_default();
    let look_ups = changed.iter().map(|user| {
        let anchor = format!("{source_tenant_id}/{}", user["id"].as_str().unwrap_or_default());
        let request = users_search(&http, target, &anchor_filter(&anchor));
        async move { request.send().await.is_ok_and(|r| r.status().is_success()) }
    });
    let found = futures::stream::iter(look_ups)
        .buffer_unordered(concurrency)
        .filter(|ok| futures::future::ready(*ok))
        .count()
        .await;
    assert_eq!(found, changed.len(), "every look-up answered");
    (started.elapsed(), changed.len())
}

/// One search of each kind an incremental cycle sends, matching nothing: a changes read of the
/// source (`meta.lastModified ge`) and a look-up by `externalId` in the target, so that a server
/// that indexes an attribute on its first search of it has done so before anything is timed.
pub async fn warm_searches(source: &str, target: &str) {
    let http = reqwest::Client::new();
    let future = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string();
    for (base, filter) in [(source, changes_filter(&future)), (target, anchor_filter("warm-up"))] {
        let answer = users_search(&http, base, &filter)
            .send()
            .await
            .expect("a warm-up search");
        assert!(
            answer.status().is_success(),
            "a warm-up search answered {}",
            answer.status()
        );
    }
}

/// A search of `base`'s users by `filter` (RFC 7644, section 3.4.2.2).
fn users_search(http: &reqwest::Client, base: &str, filter: &str) -> reqwest::RequestBuilder {
    http.get(format!("{base}/Users"))
        .query(&[("filter", filter)])
        .bearer_auth(support::SCIM_TOKEN)
}

/// The users changed since `since` (RFC 3339), as an incremental cycle asks for them.
fn changes_filter(since: &str) -> String {
    format!("meta.lastModified ge \"{since}\"")
}

/// The target user carrying `anchor` in `externalId`.
fn anchor_filter(anchor: &str) -> String {
    format!("externalId eq \"{anchor}\"")
}

/// The most operations the target accepts in one Bulk request (its `ServiceProviderConfig`).
pub async fn bulk_max_operations(target: &str) -> usize {
    let config: Value = reqwest::Client::new()
        .get(format!("{target}/ServiceProviderConfig"))
        .bearer_auth(support::SCIM_TOKEN)
        .send()
        .await
        .expect("ServiceProviderConfig")
        .json()
        .await
        .expect("ServiceProviderConfig is JSON");
    assert_eq!(config["bulk"]["supported"], json!(true), "the target announces Bulk");
    config["bulk"]["maxOperations"]
        .as_u64()
        .map_or(PAGE, |max| max as usize)
}

/// The minimal reader: every user, in pages of 1,000, one page at a time; the number read.
pub async fn full_read(base: &str) -> usize {
    for_each_page(&reqwest::Client::new(), base, |_| async { true }).await
}

/// Every page of a SCIM listing, one request at a time, handed to `each` before the next is
/// asked for; stops early when `each` says so. The number of users read.
async fn for_each_page<F, Fut>(http: &reqwest::Client, base: &str, mut each: F) -> usize
where
    F: FnMut(Vec<Value>) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut read = 0;
    loop {
        let page: Value = http
            .get(format!("{base}/Users?startIndex={}&count={PAGE}", read + 1))
            .bearer_auth(support::SCIM_TOKEN)
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("JSON page");
        let users = page["Resources"].as_array().cloned().unwrap_or_default();
        let got = users.len();
        read += got;
        let last = got == 0 || read as u64 >= page["totalResults"].as_u64().unwrap_or(0);
        if !each(users).await || last {
            return read;
        }
    }
}

async fn post_user(http: &reqwest::Client, base: &str, user: Value) -> bool {
    http.post(format!("{base}/Users"))
        .bearer_auth(support::SCIM_TOKEN)
        .header("Content-Type", "application/scim+json")
        .body(user.to_string())
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// One Bulk request creating `users`; the number created.
async fn post_bulk(http: &reqwest::Client, base: &str, users: Vec<Value>) -> usize {
    let operations: Vec<Value> = users
        .into_iter()
        .enumerate()
        .map(|(i, data)| json!({ "method": "POST", "path": "/Users", "bulkId": i.to_string(), "data": data }))
        .collect();
    let request = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": operations,
    });
    let Ok(response) = http
        .post(format!("{base}/Bulk"))
        .bearer_auth(support::SCIM_TOKEN)
        .header("Content-Type", "application/scim+json")
        .body(request.to_string())
        .send()
        .await
    else {
        return 0;
    };
    let Ok(answer) = response.json::<Value>().await else {
        return 0;
    };
    answer["Operations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|op| op["status"].as_str().is_some_and(|s| s.starts_with('2')))
        .count()
}
