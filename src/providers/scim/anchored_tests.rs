//! The users anchored by one source on the wire (docs/architecture.md, "Shared source reads"):
//! one filter that names the tenant id in both cases, paged to the end like every listing.

use serde_json::json;

use super::ScimClient;
use crate::providers::TargetDirectory;
use crate::providers::hostile::{self, Answer};
use crate::providers::settings::{DirectoryFeatures, ScimDeletion};

const TENANT: &str = "72F988BF-86f1-41af-91ab-2d7cd011db47";

fn client(base: &str, filter: bool) -> ScimClient {
    let capabilities = DirectoryFeatures {
        filter,
        ..DirectoryFeatures::default()
    };
    ScimClient::new(hostile::http(), base, "t", capabilities, ScimDeletion::Deactivate).expect("client")
}

#[tokio::test]
async fn the_anchored_users_are_asked_for_in_both_cases_and_read_to_the_last_page() {
    let (base, log) = hostile::serve(|_, path| {
        let url = reqwest::Url::parse(&format!("http://x{path}")).expect("path");
        let start: usize = url
            .query_pairs()
            .find(|(k, _)| k == "startIndex")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1);
        let anchors = ["72f988bf-86f1-41af-91ab-2d7cd011db47/a", "72F988BF-86F1-41AF-91AB-2D7CD011DB47/b"];
        let page: Vec<_> = anchors
            .iter()
            .enumerate()
            .skip(start - 1)
            .take(1)
            .map(|(i, anchor)| json!({ "id": format!("u{i}"), "userName": format!("u{i}@fabrikam.com"), "externalId": anchor }))
            .collect();
        Answer::json(200, json!({ "totalResults": 2, "itemsPerPage": 1, "Resources": page }))
    })
    .await;
    let users = client(&base, true)
        .users_anchored_by(TENANT)
        .await
        .expect("a complete listing")
        .expect("a directory with filters is asked");
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["u0", "u1"]);
    let requests = log.lock().expect("log").clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let filters: Vec<String> = requests
        .iter()
        .map(|r| {
            let url = reqwest::Url::parse(&format!("http://x{}", r.trim_start_matches("GET "))).expect("request");
            url.query_pairs()
                .find(|(k, _)| k == "filter")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    let both = r#"externalId sw "72f988bf-86f1-41af-91ab-2d7cd011db47/" or externalId sw "72F988BF-86F1-41AF-91AB-2D7CD011DB47/""#;
    assert!(filters.iter().all(|f| f == both), "{filters:?}");
}

#[tokio::test]
async fn a_directory_without_filters_is_not_asked() {
    let (base, log) = hostile::serve(|_, _| Answer::json(500, json!({}))).await;
    let answer = client(&base, false).users_anchored_by(TENANT).await.expect("no error");
    assert!(answer.is_none());
    assert!(log.lock().expect("log").is_empty());
}
