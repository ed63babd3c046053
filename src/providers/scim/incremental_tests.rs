//! Incremental SCIM reads on the wire (README, "How a sync works", step 1): a change made in the
//! same second as the latest one seen, or while a read was paging, is in the next read; what the
//! overlap brings back unchanged is left out.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use serde_json::json;

use super::ScimClient;
use crate::providers::SourceDirectory;
use crate::providers::hostile::{self, Answer};
use crate::providers::settings::{DirectoryFeatures, ScimDeletion};

/// A user of the fake directory: id, `meta.lastModified`, `meta.version`.
type Entry = (&'static str, &'static str, u32);

/// A SCIM server that honours `meta.lastModified ge|gt "…"` and pages one user at a time;
/// `during_page(n, users)` runs before page `n` is answered (a change while the read pages).
async fn directory(
    users: Vec<Entry>,
    during_page: impl Fn(usize, &mut Vec<Entry>) + Send + Sync + 'static,
) -> (ScimClient, Arc<Mutex<Vec<Entry>>>) {
    let state = Arc::new(Mutex::new(users));
    let served = state.clone();
    let (base, _) = hostile::serve(move |_, path| {
        let url = reqwest::Url::parse(&format!("http://x{path}")).expect("path");
        let query = |key: &str| url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
        let start: usize = query("startIndex").and_then(|s| s.parse().ok()).unwrap_or(1);
        let mut users = served.lock().expect("state");
        during_page(start, &mut users);
        let admitted: Vec<&Entry> = users
            .iter()
            .filter(|(_, stamp, _)| admits(query("filter").as_deref(), stamp))
            .collect();
        let page: Vec<_> = admitted
            .iter()
            .skip(start - 1)
            .take(1)
            .map(|(id, stamp, version)| {
                json!({ "id": id, "userName": format!("{id}@contoso.com"),
                        "meta": { "lastModified": stamp, "version": format!("W/\"{version}\"") } })
            })
            .collect();
        Answer::json(
            200,
            json!({ "totalResults": admitted.len(), "itemsPerPage": page.len(), "Resources": page }),
        )
    })
    .await;
    let capabilities = DirectoryFeatures {
        filter: true,
        ..DirectoryFeatures::default()
    };
    let client = ScimClient::new(hostile::http(), &base, "t", capabilities, ScimDeletion::Deactivate).expect("client");
    (client, state)
}

/// `meta.lastModified ge "X"` / `gt "X"`, compared as instants (RFC 7644 §3.4.2.2).
fn admits(filter: Option<&str>, stamp: &str) -> bool {
    let Some(filter) = filter else { return true };
    let mut words = filter.split_whitespace();
    let (_, operator, operand) = (words.next(), words.next(), words.next().unwrap_or_default());
    let at = |s: &str| s.trim_matches('"').parse::<Timestamp>().expect("a timestamp");
    match operator {
        Some("ge") => at(stamp) >= at(operand),
        Some("gt") => at(stamp) > at(operand),
        other => panic!("unexpected filter operator {other:?}"),
    }
}

fn ids(read: &crate::providers::directory::SourceRead) -> Vec<&str> {
    read.users.iter().map(|u| u.id.as_str()).collect()
}

#[tokio::test]
async fn a_change_in_the_same_second_as_the_latest_seen_is_read_next_time() {
    let (scim, state) = directory(vec![("a", "2026-12-02T00:00:05Z", 1)], |_, _| {}).await;
    let first = scim.read_source(None).await.expect("full read");
    assert_eq!(ids(&first), ["a"]);
    // b is created right after the read, within the same second (whole-second stamps).
    state.lock().expect("state").push(("b", "2026-12-02T00:00:05Z", 1));
    let next = scim
        .read_source(first.watermark.as_deref())
        .await
        .expect("incremental read");
    assert_eq!(ids(&next), ["b"], "b is read; a, unchanged, is left out");
}

#[tokio::test]
async fn a_change_made_while_the_read_paged_is_read_next_time() {
    let users = vec![
        ("a", "2026-12-02T00:00:01Z", 1),
        ("c", "2026-12-02T00:00:02Z", 1),
        ("d", "2026-12-02T00:00:04Z", 1),
    ];
    // While page 3 is being served, c (on page 2, already read) changes at 00:00:03 — earlier
    // than d's stamp, which this read sees.
    let (scim, _) = directory(users, |page, users| {
        if page == 3 && users[1].2 == 1 {
            users[1] = ("c", "2026-12-02T00:00:03Z", 2);
        }
    })
    .await;
    let first = scim.read_source(None).await.expect("full read");
    assert_eq!(ids(&first), ["a", "c", "d"]);
    let next = scim
        .read_source(first.watermark.as_deref())
        .await
        .expect("incremental read");
    assert_eq!(
        ids(&next),
        ["c"],
        "c's change is read; a and d, unchanged, are left out"
    );
    assert_eq!(next.users[0].version.as_deref(), Some("W/\"2\""));
}

#[test]
fn the_directory_clock_is_read_from_its_date_header() {
    use reqwest::header::HeaderValue;
    let date = HeaderValue::from_static("Wed, 02 Dec 2026 04:43:48 GMT");
    assert_eq!(
        super::client::server_date(Some(&date)),
        Some("2026-12-02T04:43:48Z".parse().expect("time"))
    );
    assert_eq!(
        super::client::server_date(Some(&HeaderValue::from_static("soon"))),
        None
    );
    assert_eq!(super::client::server_date(None), None);
}
