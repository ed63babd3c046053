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
