//! Graph error bodies and batch items, against the documented shapes.
use super::*;

#[test]
fn graph_error_bodies_become_typed_errors() {
    // The documented error shape (Microsoft Graph error responses).
    let body = json!({
        "error": {
            "code": "Request_BadRequest",
            "message": "Invalid value specified for property 'mail' of resource 'User'.",
            "innerError": {
                "date": "2026-11-25T02:00:00",
                "request-id": "9a3c2f5e-0000-4000-8000-000000000001",
                "client-request-id": "9a3c2f5e-0000-4000-8000-000000000001"
            }
        }
    });
    let e = graph_error(400, &body, 1);
    assert!(matches!(e, DirectoryError::Rejected { .. }));
    assert_eq!(
        e.to_string(),
        "HTTP 400 (Request_BadRequest): Invalid value specified for property 'mail' of resource 'User'. \
         (request-id 9a3c2f5e-0000-4000-8000-000000000001)"
    );
    assert!(matches!(graph_error(404, &body, 1), DirectoryError::NotFound));
    assert!(matches!(
        graph_error(429, &Value::Null, 6),
        DirectoryError::Throttled {
            status: 429,
            attempts: 6
        }
    ));
    assert!(matches!(
        graph_error(401, &Value::Null, 1),
        DirectoryError::AuthenticationFailed { status: 401 }
    ));
}

#[test]
fn batch_items_follow_the_documented_shape() {
    let item = batch_item(
        3,
        &BatchRequest {
            method: Method::PATCH,
            url: "/users/u1".into(),
            body: Some(json!({"jobTitle": "Dev"})),
        },
    );
    assert_eq!(
        item,
        json!({"id": "3", "method": "PATCH", "url": "/users/u1", "body": {"jobTitle": "Dev"},
               "headers": {"Content-Type": "application/json"}})
    );
    let get = batch_item(
        0,
        &BatchRequest {
            method: Method::DELETE,
            url: "/users/u1".into(),
            body: None,
        },
    );
    assert_eq!(get, json!({"id": "0", "method": "DELETE", "url": "/users/u1"}));
}

#[test]
fn urls_built_below_the_graph_endpoint_are_its_own_however_it_is_spelled() {
    // `url` writes a host in lower case and leaves out a default port: what it built below
    // the endpoint is still under it.
    let client = crate::providers::hostile::graph_client("https://GRAPH.Example:443");
    let users = client.endpoints.v1_url(&["users"]).expect("url");
    assert!(client.is_ours(users.as_str()), "{users}");
    assert!(client.is_ours("https://graph.example/v1.0/users?$top=1"));
    assert!(!client.is_ours("https://graph.example.evil.example/v1.0/users"));
    assert!(!client.is_ours("https://graph.example@evil.example/v1.0/users"));
    assert!(!client.is_ours("not a URL"));
}

#[test]
fn a_link_that_climbs_out_of_the_graph_endpoint_is_not_its_own() {
    // Below a proxy's path, a `..` of a link is resolved before the link is judged.
    let client = crate::providers::hostile::graph_client("https://proxy.example/graph");
    assert!(client.is_ours("https://proxy.example/graph/v1.0/users/delta?$deltatoken=1"));
    assert!(!client.is_ours("https://proxy.example/graph/../other/v1.0/users"));
    assert!(!client.is_ours("https://proxy.example/graphs/v1.0/users"));
    assert!(!client.is_ours("https://proxy.example/graph"));
}
