//! Which Secrets may be used, and sent where: judged on the Secret's metadata and the
//! Tenant's spec alone, before any byte goes out.

use k8s_openapi::api::core::v1::Secret;
use serde_json::{Value, json};

use super::{SecretProblem, credential_of, key_of};
use crate::api::TenantSpec;
use crate::controller::provider_settings;
use crate::providers::msgraph::Federation;
use crate::providers::{Clients, ConnectError, Credential, CredentialRef};

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
    let setup = provider_settings::setup(spec).expect("a usable spec");
    let CredentialRef::SecretKey(key_ref) = setup.credential() else {
        panic!("a Secret key credential");
    };
    key_of(Some(secret), "tenants", &setup, key_ref)
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

/// `from`'s fields set on `into` (both JSON objects).
fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

/// A Graph Tenant with `credential` (the fields of `msgraph` that name it) and `endpoints`.
fn graph_with(credential: Value, endpoints: Value) -> TenantSpec {
    let mut msgraph = json!({ "clientId": "11111111-2222-4333-8444-555555555555", "endpoints": endpoints });
    merge(&mut msgraph, credential);
    spec(json!({ "msgraph": msgraph }))
}

fn invalid_spec(spec: &TenantSpec) -> String {
    match provider_settings::setup(spec) {
        Err(ConnectError::InvalidSpec(message)) => message,
        Err(other) => panic!("expected InvalidSpec, got {other:?}"),
        Ok(_) => panic!("expected InvalidSpec, got a setup"),
    }
}

#[test]
fn a_graph_tenant_names_exactly_one_credential() {
    let secret = json!({ "clientSecretRef": { "name": "s", "key": "k" } });
    let certificate = json!({ "clientCertificateSecretRef": { "name": "c" } });
    let none = invalid_spec(&graph_with(json!({}), json!({})));
    assert!(
        none.contains("exactly one of clientSecretRef, clientCertificateSecretRef and workloadIdentity (0 set)"),
        "{none}"
    );
    let mut both = secret.clone();
    merge(&mut both, certificate.clone());
    let two = invalid_spec(&graph_with(both, json!({})));
    assert!(
        two.starts_with("spec.directory.msgraph must set exactly one") && two.contains("(2 set)"),
        "{two}"
    );
    for one in [secret, certificate, json!({ "workloadIdentity": {} })] {
        assert!(provider_settings::setup(&graph_with(one, json!({}))).is_ok());
    }
}

/// A labelled `kubernetes.io/tls` Secret `contoso-cert` with `crt` and `key`.
fn tls_secret(labelled: bool, crt: &str, key: Option<&str>) -> Secret {
    let mut data = json!({ "tls.crt": crt });
    if let Some(key) = key {
        data["tls.key"] = json!(key);
    }
    let labels = if labelled {
        json!({ "xtsync.io/credentials": "true" })
    } else {
        json!({})
    };
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": { "name": "contoso-cert", "namespace": "tenants", "labels": labels },
        "stringData": data,
    }))
    .expect("a Secret")
}

fn certificate_credential(secret: Option<&Secret>) -> Result<Credential, ConnectError> {
    let spec = graph_with(
        json!({ "clientCertificateSecretRef": { "name": "contoso-cert" } }),
        json!({}),
    );
    let setup = provider_settings::setup(&spec).expect("a usable spec");
    let clients = Clients::new().expect("clients");
    let now = "2026-12-01T00:00:00Z".parse().expect("a time");
    credential_of(secret, "tenants", &setup, &clients, now)
}

#[test]
fn a_certificate_secret_is_a_labelled_credential_holding_a_certificate_and_its_own_key() {
    let crt = include_str!("../../providers/testdata/client.crt");
    let key = include_str!("../../providers/testdata/client.key");
    let other = include_str!("../../providers/testdata/other.key");
    let credential = certificate_credential(Some(&tls_secret(true, crt, Some(key)))).expect("a certificate");
    assert_eq!(
        credential.expiry().map(|t| t.to_string()).as_deref(),
        Some("2036-12-02T07:18:13Z")
    );
    assert!(matches!(
        certificate_credential(Some(&tls_secret(false, crt, Some(key)))),
        Err(ConnectError::SecretNotAllowed(_))
    ));
    assert!(matches!(
        certificate_credential(None),
        Err(ConnectError::SecretNotFound(_))
    ));
    match certificate_credential(Some(&tls_secret(true, crt, None))) {
        Err(ConnectError::SecretNotFound(message)) => assert!(message.contains("tls.key"), "{message}"),
        other => panic!("expected SecretNotFound, got {other:?}"),
    }
    match certificate_credential(Some(&tls_secret(true, crt, Some(other)))) {
        Err(ConnectError::InvalidCertificate(message)) => {
            assert!(
                message.contains("spec.directory.msgraph.clientCertificateSecretRef"),
                "{message}"
            );
            assert!(
                message.contains("tls.key is not the private key of the certificate in tls.crt"),
                "{message}"
            );
            assert!(!message.contains("PRIVATE KEY"), "{message}");
        }
        other => panic!("expected InvalidCertificate, got {other:?}"),
    }
    match certificate_credential(Some(&tls_secret(true, "garbage", Some(key)))) {
        Err(ConnectError::InvalidCertificate(message)) => assert!(message.contains("tls.crt"), "{message}"),
        other => panic!("expected InvalidCertificate, got {other:?}"),
    }
}

#[test]
fn the_federated_token_never_goes_to_an_endpoint_only_the_tenant_names() {
    let workload = json!({ "workloadIdentity": { "clientId": "22222222-2222-4333-8444-555555555555" } });
    let federation = Federation::new("/nonexistent".into(), &["http://127.0.0.1:9/".into()]).expect("federation");
    let clients = Clients::new().expect("clients").with_federation(federation);
    let federated = |endpoints: Value| {
        let spec = graph_with(workload.clone(), endpoints);
        let setup = provider_settings::setup(&spec).expect("a usable spec");
        credential_of(None, "tenants", &setup, &clients, k8s_openapi::jiff::Timestamp::now())
    };
    assert!(matches!(federated(json!({})), Ok(Credential::Federated)));
    assert!(matches!(
        federated(json!({ "login": "http://127.0.0.1:9", "graph": "http://127.0.0.1:9" })),
        Ok(Credential::Federated)
    ));
    for untrusted in [
        json!({ "login": "https://login.attacker.example" }),
        json!({ "graph": "https://graph.attacker.example" }),
    ] {
        match federated(untrusted) {
            Err(ConnectError::LoginEndpointNotTrusted(message)) => {
                assert!(
                    message.contains("attacker.example") && message.contains("nothing was sent"),
                    "{message}"
                );
            }
            other => panic!("expected LoginEndpointNotTrusted, got {other:?}"),
        }
    }
}
