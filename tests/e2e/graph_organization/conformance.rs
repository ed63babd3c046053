//! The fake's multitenant organization endpoints answer as Microsoft Learn documents them:
//! status codes, `@odata.context`, Graph's error bodies, required fields, and 405 for a method
//! a path does not take.

use reqwest::Method;
use serde_json::{Value, json};
use xtsync::providers::DirectoryError;

use super::{LITWARE, Org};
use crate::manifests::{CONTOSO, FABRIKAM, NORTHWIND};

#[tokio::test]
async fn the_fake_answers_as_graph_documents() {
    let org = Org::start().await;
    let client = org.client(CONTOSO);
    let url = |path: &str| {
        client
            .endpoints
            .v1(&format!("/tenantRelationships/multiTenantOrganization{path}"))
    };
    let rejected = |result: Result<Value, DirectoryError>| match result {
        Err(DirectoryError::Rejected { status, code, detail }) => {
            (status, code.unwrap_or_default(), detail.unwrap_or_default())
        }
        other => panic!("expected a refusal, got {other:?}"),
    };
    // A tenant in no organization: 200, state inactive.
    let none = client.send(Method::GET, &url(""), None, false).await.expect("200");
    assert_eq!(none["state"], "inactive");
    let (status, _, detail) = rejected(client.send(Method::PUT, &url(""), Some(&json!({})), false).await);
    assert_eq!(status, 400, "{detail}");
    let created = client
        .send(Method::PUT, &url(""), Some(&json!({ "displayName": "Contoso" })), false)
        .await
        .expect("201");
    assert_eq!(
        created["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#tenantRelationships/multiTenantOrganization/$entity"
    );
    let (status, _, _) = rejected(client.send(Method::DELETE, &url(""), None, false).await);
    assert_eq!(status, 405);
    let add = json!({ "tenantId": FABRIKAM, "displayName": "Fabrikam" });
    let added = client
        .send(Method::POST, &url("/tenants"), Some(&add), false)
        .await
        .expect("201");
    assert_eq!(
        (added["state"].as_str(), added["role"].as_str()),
        (Some("pending"), Some("member"))
    );
    let (status, code, detail) = rejected(client.send(Method::POST, &url("/tenants"), Some(&add), false).await);
    assert_eq!(
        (
            status,
            code.as_str(),
            detail.starts_with("Tenant is already being added")
        ),
        (400, "Request_BadRequest", true)
    );
    let (status, _, _) = rejected(
        client
            .send(
                Method::POST,
                &url("/tenants"),
                Some(&json!({ "tenantId": NORTHWIND })),
                false,
            )
            .await,
    );
    assert_eq!(status, 400, "displayName is required");
    let unknown = client
        .send(Method::GET, &url(&format!("/tenants/{LITWARE}")), None, false)
        .await;
    assert!(matches!(unknown, Err(DirectoryError::NotFound)), "{unknown:?}");
    let member = org.client(FABRIKAM);
    let join = member
        .endpoints
        .v1("/tenantRelationships/multiTenantOrganization/joinRequest");
    let (status, _, _) = rejected(
        member
            .send(Method::PATCH, &join, Some(&json!({ "role": "member" })), false)
            .await,
    );
    assert_eq!(status, 400, "addedByTenantId is required");
    // Only owners manage the organization.
    member
        .send(
            Method::PATCH,
            &join,
            Some(&json!({ "addedByTenantId": CONTOSO })),
            false,
        )
        .await
        .expect("204");
    let (status, _, _) = rejected(
        member
            .send(
                Method::POST,
                &member
                    .endpoints
                    .v1("/tenantRelationships/multiTenantOrganization/tenants"),
                Some(&add),
                false,
            )
            .await,
    );
    assert_eq!(status, 403);
}
