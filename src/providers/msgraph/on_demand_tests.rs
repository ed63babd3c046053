//! One user of a Graph source, as provisioning on demand (rule 11) asks for it: found by a
//! `userPrincipalName eq` filter or read by object id ("List users", "Get user" on Microsoft
//! Learn), never by a delta round or a listing of the tenant.

use std::sync::{Arc, Mutex};

use serde_json::json;

use super::directory::MsGraphDirectory;
use super::resource::AnchorAttribute;
use crate::providers::SourceDirectory;
use crate::providers::hostile::{self, Answer, graph_client, token};

const ALICE: &str = "0b7c8a3e-0000-4000-8000-00000000a11c";

fn alice() -> serde_json::Value {
    json!({ "id": ALICE, "userPrincipalName": "alice@contoso.com", "displayName": "Alice", "accountEnabled": true })
}

/// A tenant holding alice among many: it answers her filter and her direct read, and, were
/// they asked, a delta round and a listing of every user.
async fn source() -> (MsGraphDirectory, Arc<Mutex<Vec<String>>>) {
    let (base, log) = hostile::serve(|method, path| match (method, path) {
        (_, p) if p.contains("/oauth2/") => token(),
        ("GET", p) if p.starts_with("/v1.0/users?") && p.contains("filter") => {
            let found = if p.to_ascii_lowercase().contains("alice") {
                vec![alice()]
            } else {
                Vec::new()
            };
            Answer::json(200, json!({ "value": found }))
        }
        ("GET", p) if p.starts_with(&format!("/v1.0/users/{ALICE}")) => Answer::json(200, alice()),
        ("GET", p) if p.starts_with("/v1.0/users") => Answer::json(
            200,
            json!({ "value": [alice()], "@odata.deltaLink": "http://127.0.0.1/v1.0/users/delta?$deltatoken=1" }),
        ),
        _ => Answer::json(
            404,
            json!({ "error": { "code": "Request_ResourceNotFound", "message": "Resource does not exist." } }),
        ),
    })
    .await;
    let anchor = AnchorAttribute::of(None).expect("default anchor");
    (MsGraphDirectory::new(graph_client(&base), anchor, true), log)
}

#[tokio::test]
async fn one_user_is_found_by_user_principal_name_or_id_without_listing_the_tenant() {
    for who in ["ALICE@contoso.com", ALICE] {
        let (graph, log) = source().await;
        let found = graph.find_user(who).await.expect("read");
        assert_eq!(found.map(|u| u.id).as_deref(), Some(ALICE), "{who}");
        let requests = log.lock().map(|l| l.clone()).unwrap_or_default();
        let listings: Vec<&String> = requests
            .iter()
            .filter(|r| r.starts_with("GET /v1.0/users") && !r.contains("filter") && !r.contains(ALICE))
            .collect();
        assert!(listings.is_empty(), "{who}: the tenant was listed: {requests:?}");
    }
    let (graph, _) = source().await;
    assert!(graph.find_user("nobody@contoso.com").await.expect("read").is_none());
}
