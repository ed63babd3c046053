//! Which Secrets may be used, and sent where: judged on the Secret's metadata and the
//! Tenant's spec alone, before any byte goes out.

use k8s_openapi::api::core::v1::Secret;
use serde_json::{Value, json};

use super::{SecretProblem, key_of};
use crate::api::TenantSpec;
use crate::providers::Setup;

fn scim_spec(url: &str) -> TenantSpec {
    spec(json!({ "scim": {
        "url": url,
        "auth": { "bearerTokenSecretRef": { "name": "contoso-scim", "key": "token" } },
    } }))
}

fn graph_spec(cloud: &str, endpoints: Value) -> TenantSpec {
    let mut spec = spec(json!({ "msgraph": {
        "clientId": "11111111-2222-4333-8444-555555555555",
        "clientSecretRef": { "name": "contoso-scim", "key": "token" },
        "endpoints": endpoints,
    } }));
    spec.cloud = serde_json::from_value(json!(cloud)).expect("a cloud");
    spec
}

fn spec(directory: Value) -> TenantSpec {
    serde_json::from_value(json!({
        "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "directory": directory,
    }))
    .expect("a Tenant spec")
}

/// The Secret `contoso-scim`, labelled, with `annotation` as its `xtsync.io/credentials-for`.
fn secret(annotation: Option<&str>) -> Secret {
    let mut secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": { "name": "contoso-scim", "namespace": "tenants", "labels": { "xtsync.io/credentials": "true" } },
        "stringData": { "token": "s3cret" },
    });
    if let Some(annotation) = annotation {
        secret["metadata"]["annotations"] = json!({ "xtsync.io/credentials-for": annotation });
    }
    serde_json::from_value(secret).expect("a Secret")
}

fn key(secret: &Secret, spec: &TenantSpec) -> Result<String, SecretProblem> {
    let setup = Setup::of(spec).expect("a usable spec");
    key_of(Some(secret), "tenants", &setup)
}

fn refusal(secret: &Secret, spec: &TenantSpec) -> String {
    match key(secret, spec) {
        Err(SecretProblem::NotAllowed(message)) => {
            assert!(!message.contains("s3cret"), "the value never shows: {message}");
            message
        }
        other => panic!("expected SecretNotAllowed, got {other:?}"),
    }
}

#[test]
fn a_secret_is_used_for_a_url_its_annotation_covers() {
    let spec = scim_spec("http://127.0.0.1:8080/contoso/v2");
    for annotation in [
        "http://127.0.0.1:8080/",
        "http://127.0.0.1:8080/contoso/v2/",
        "https://scim.fabrikam.example/v2, http://127.0.0.1:8080/contoso",
    ] {
        let found = key(&secret(Some(annotation)), &spec);
        assert_eq!(found.ok().as_deref(), Some("s3cret"), "{annotation}");
    }
}

#[test]
fn a_secret_without_the_annotation_is_not_allowed_and_the_message_gives_the_command() {
    let message = refusal(&secret(None), &scim_spec("http://127.0.0.1:8080/contoso/v2/"));
    assert!(
        message.ends_with(
            "kubectl annotate secret -n tenants contoso-scim xtsync.io/credentials-for=http://127.0.0.1:8080/contoso/v2"
        ),
        "{message}"
    );
    assert!(message.contains("spec.directory.scim.url"), "{message}");
    assert!(message.contains("nothing was sent"), "{message}");
}

#[test]
fn a_secret_for_another_directory_is_not_allowed_and_keeps_its_prefixes_in_the_command() {
    let message = refusal(
        &secret(Some("https://a.example, not-a-url")),
        &scim_spec("https://a.example.evil/v2"),
    );
    assert!(
        message.ends_with(
            "kubectl annotate secret -n tenants contoso-scim --overwrite xtsync.io/credentials-for=https://a.example,https://a.example.evil/v2"
        ),
        "{message}"
    );
    assert!(
        message.contains("'not-a-url' has no scheme"),
        "the ignored entry is named: {message}"
    );
}

#[test]
fn the_label_is_still_needed() {
    let mut unlabelled = secret(Some("http://127.0.0.1:8080/"));
    unlabelled.metadata.labels = None;
    let message = refusal(&unlabelled, &scim_spec("http://127.0.0.1:8080/contoso/v2"));
    assert!(message.contains("xtsync.io/credentials: \"true\""), "{message}");
}

#[test]
fn graphs_default_cloud_endpoints_need_no_annotation() {
    let found = key(&secret(None), &graph_spec("Global", json!(null)));
    assert_eq!(found.ok().as_deref(), Some("s3cret"));
    let explicit = graph_spec(
        "USGovernment",
        json!({ "login": "https://login.microsoftonline.us/", "graph": "https://GRAPH.microsoft.us" }),
    );
    assert_eq!(key(&secret(None), &explicit).ok().as_deref(), Some("s3cret"));
}

#[test]
fn a_graph_endpoint_override_needs_the_annotation() {
    let overridden = graph_spec("Global", json!({ "login": "http://127.0.0.1:9000/login" }));
    let message = refusal(&secret(None), &overridden);
    assert!(message.contains("spec.directory.msgraph.endpoints.login"), "{message}");
    assert!(
        message.ends_with("xtsync.io/credentials-for=http://127.0.0.1:9000/login"),
        "{message}"
    );
    // Both overrides must be covered: the client secret goes to `login`, its token to `graph`.
    let both = graph_spec(
        "Global",
        json!({ "login": "http://127.0.0.1:9000/login", "graph": "http://127.0.0.1:9001" }),
    );
    let message = refusal(&secret(Some("http://127.0.0.1:9000/")), &both);
    assert!(message.contains("endpoints.graph"), "{message}");
    assert!(!message.contains("endpoints.login"), "{message}");
    assert!(
        message.ends_with("--overwrite xtsync.io/credentials-for=http://127.0.0.1:9000,http://127.0.0.1:9001"),
        "{message}"
    );
    let allowed = key(&secret(Some("http://127.0.0.1:9000/, http://127.0.0.1:9001/")), &both);
    assert_eq!(allowed.ok().as_deref(), Some("s3cret"));
}

#[test]
fn a_command_with_characters_special_to_a_shell_is_quoted() {
    let message = refusal(&secret(None), &scim_spec("http://[::1]:8080/scim"));
    assert!(
        message.ends_with("xtsync.io/credentials-for='http://[::1]:8080/scim'"),
        "{message}"
    );
}
