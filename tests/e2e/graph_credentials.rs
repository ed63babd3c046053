//! Graph credentials without client secrets (README, "Credentials without client secrets"),
//! against the fake Graph's token endpoint, which checks client assertions as Entra does:
//! a certificate (`clientCertificateSecretRef`) and workload identity federation (the
//! operator's federated token — here a real service account token of the test apiserver,
//! verified against its JWKS). What Entra refuses the fake refuses, and the Tenant says so.

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::PostParams;
use serde_json::{Value, json};
use xtsync::api::Tenant;
use xtsync::api::reasons::TenantReadyReason;
use xtsync::providers::Clients;
use xtsync::providers::msgraph::Federation;

use crate::credentials::Tripwire;
use crate::fake_graph::{EXCHANGE_AUDIENCE, FakeGraph, FederatedCredential};
use crate::manifests::{CONTOSO, FABRIKAM, GRAPH_APP, GRAPH_SECRET, Manifests};
use crate::support::pki::{Pem, Pki};
use crate::support::{TestNs, wait_ready};

/// A Graph Tenant `name` whose app authenticates with `credential` (fields of `msgraph`),
/// login at `login` and Graph at `graph`.
fn graph_tenant(name: &str, tenant_id: &str, credential: Value, login: &str, graph: &str) -> Value {
    let mut msgraph = json!({ "clientId": GRAPH_APP, "endpoints": { "login": login, "graph": graph } });
    crate::manifests::merge(&mut msgraph, credential);
    json!({
        "apiVersion": "xtsync.io/v1alpha1", "kind": "Tenant",
        "metadata": { "name": name },
        "spec": { "tenantId": tenant_id, "directory": { "msgraph": msgraph } },
    })
}

/// `tenant` with a display name: a spec change, which checks the Tenant again at once.
fn renamed(mut tenant: Value) -> Value {
    tenant["spec"]["displayName"] = json!("Contoso, checked again");
    tenant
}

/// A `kubernetes.io/tls` Secret `name` with `pem`, labelled and annotated like any credential.
fn tls_secret(name: &str, certificate: &str, key: &str, allowed: &[&str]) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {
            "name": name,
            "labels": { "xtsync.io/credentials": "true" },
            "annotations": { "xtsync.io/credentials-for": allowed.join(",") },
        },
        "stringData": { "tls.crt": certificate, "tls.key": key },
    })
}

/// A fake Graph with contoso as an Entra tenant whose app has `certificate` and no secret.
async fn fake_with_certificate(certificate: &Pem) -> FakeGraph {
    let fake = FakeGraph::start().await;
    fake.add_tenant(CONTOSO, "contoso", GRAPH_APP, GRAPH_SECRET);
    fake.remove_secret(CONTOSO);
    fake.add_certificate(CONTOSO, &certificate.certificate);
    fake
}

/// The token endpoint's JSON answer to `form`.
async fn token_request(fake: &FakeGraph, tenant: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/{tenant}/oauth2/v2.0/token", fake.base))
        .form(form)
        .send()
        .await
        .expect("the fake answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn a_certificate_authenticates_and_entra_refuses_a_wrong_audience_an_expired_or_a_replayed_assertion() {
    let mut t = TestNs::new("graph-certificate").await;
    t.start_controllers(|_| {});
    let pki = Pki::new();
    let certificate = pki.client("contoso-app", 30);
    let fake = fake_with_certificate(&certificate).await;
    let api = t.api::<Tenant>();
    let secret = tls_secret(
        "contoso-cert",
        &certificate.certificate,
        &certificate.key,
        &[&fake.base],
    );
    let credential = json!({ "clientCertificateSecretRef": { "name": "contoso-cert" } });
    t.apply(&Manifests::of([
        secret,
        graph_tenant("contoso", CONTOSO, credential.clone(), &fake.base, &fake.base),
    ]))
    .await;

    // Accepted: the assertion carried what the fake checks (its signature against the
    // registered certificate, the audience, the time range, a new jti); the certificate's
    // expiry is in the status.
    wait_ready(&api, "contoso", "True", TenantReadyReason::Connected).await;
    let status = api.get("contoso").await.expect("tenant").status.expect("status");
    let expiry = status.credential_expiry.expect("status.credentialExpiry").0;
    assert_eq!(expiry.to_string(), Pki::not_after(&certificate));
    let issued = fake.tokens_issued();
    assert!(issued >= 1);

    // Replayed: the same assertion a second time is refused (its jti was used).
    let assertion = fake.last_assertion().expect("an assertion was presented");
    let form = [
        ("client_id", GRAPH_APP),
        ("scope", &format!("{}/.default", fake.base)),
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", &assertion),
    ];
    let (status, body) = token_request(&fake, CONTOSO, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .starts_with("AADSTS700236"),
        "{body}"
    );
    // …while the operator's next request, with a fresh jti, is accepted.
    fake.revoke_tokens();
    t.apply(&renamed(graph_tenant(
        "contoso",
        CONTOSO,
        credential.clone(),
        &fake.base,
        &fake.base,
    )))
    .await;
    t.eventually("a new token for a new assertion", || async {
        fake.tokens_issued() > issued
    })
    .await;
    wait_ready(&api, "contoso", "True", TenantReadyReason::Connected).await;

    // Expired: a token endpoint whose clock runs 20 minutes ahead finds the assertion (valid
    // 10 minutes, 5 minutes of skew) expired.
    fake.set_clock_offset(20 * 60);
    fake.revoke_tokens();
    t.apply(&graph_tenant(
        "contoso",
        CONTOSO,
        credential.clone(),
        &fake.base,
        &fake.base,
    ))
    .await;
    let expired = wait_ready(&api, "contoso", "False", TenantReadyReason::AuthenticationFailed).await;
    assert!(expired.message.contains("AADSTS700024"), "{}", expired.message);
    fake.set_clock_offset(0);
    wait_ready(&api, "contoso", "True", TenantReadyReason::Connected).await;

    // Another audience: reached as `localhost`, the assertion names a token endpoint that is
    // not the fake's own.
    let localhost = fake.base.replace("127.0.0.1", "localhost");
    let allowed = [fake.base.as_str(), localhost.as_str()];
    t.apply(&Manifests::of([
        tls_secret("contoso-cert", &certificate.certificate, &certificate.key, &allowed),
        graph_tenant("contoso", CONTOSO, credential, &localhost, &fake.base),
    ]))
    .await;
    let audience = wait_ready(&api, "contoso", "False", TenantReadyReason::AuthenticationFailed).await;
    assert!(audience.message.contains("AADSTS700212"), "{}", audience.message);
}

#[tokio::test]
async fn a_graph_tenant_with_no_or_two_credentials_or_an_unusable_certificate_says_which_field() {
    let mut t = TestNs::new("graph-credential-spec").await;
    t.start_controllers(|_| {});
    let pki = Pki::new();
    let (certificate, other) = (pki.client("contoso-app", 30), pki.client("other-app", 30));
    let fake = fake_with_certificate(&certificate).await;
    let api = t.api::<Tenant>();
    let tenant = |credential: Value| graph_tenant("contoso", CONTOSO, credential, &fake.base, &fake.base);

    let two = json!({
        "clientSecretRef": { "name": "contoso-graph", "key": "client-secret" },
        "clientCertificateSecretRef": { "name": "contoso-cert" },
    });
    t.apply(&tenant(two)).await;
    let invalid = wait_ready(&api, "contoso", "False", TenantReadyReason::InvalidSpec).await;
    assert!(
        invalid
            .message
            .contains("exactly one of clientSecretRef, clientCertificateSecretRef and workloadIdentity"),
        "{}",
        invalid.message
    );

    let certificate_ref = json!({ "clientCertificateSecretRef": { "name": "contoso-cert" } });
    t.apply(&tenant(certificate_ref.clone())).await;
    let missing = wait_ready(&api, "contoso", "False", TenantReadyReason::SecretNotFound).await;
    assert!(
        missing.message.contains("'contoso-cert' not found"),
        "{}",
        missing.message
    );

    // A key of another certificate: refused before anything is sent.
    t.apply(&tls_secret(
        "contoso-cert",
        &certificate.certificate,
        &other.key,
        &[&fake.base],
    ))
    .await;
    let mismatched = wait_ready(&api, "contoso", "False", TenantReadyReason::InvalidCertificate).await;
    assert!(
        mismatched
            .message
            .contains("spec.directory.msgraph.clientCertificateSecretRef")
            && mismatched
                .message
                .contains("tls.key is not the private key of the certificate in tls.crt"),
        "{}",
        mismatched.message
    );
    assert_eq!(fake.tokens_issued(), 0);
    assert_eq!(fake.last_assertion(), None, "nothing was sent");

    // A certificate the app does not have registered: Entra's refusal.
    t.apply(&tls_secret(
        "contoso-cert",
        &other.certificate,
        &other.key,
        &[&fake.base],
    ))
    .await;
    let unknown = wait_ready(&api, "contoso", "False", TenantReadyReason::AuthenticationFailed).await;
    assert!(unknown.message.contains("AADSTS700027"), "{}", unknown.message);

    t.apply(&tls_secret(
        "contoso-cert",
        &certificate.certificate,
        &certificate.key,
        &[&fake.base],
    ))
    .await;
    wait_ready(&api, "contoso", "True", TenantReadyReason::Connected).await;
}

/// A service account token of the test apiserver for `account`, for Entra's token exchange.
async fn service_account_token(t: &TestNs, account: &str, lifetime: i64) -> String {
    let accounts = t.api::<ServiceAccount>();
    if accounts.get_opt(account).await.expect("read").is_none() {
        let sa: ServiceAccount =
            serde_json::from_value(json!({ "metadata": { "name": account } })).expect("an account");
        accounts
            .create(&PostParams::default(), &sa)
            .await
            .expect("create the account");
    }
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec![EXCHANGE_AUDIENCE.to_owned()],
            expiration_seconds: Some(lifetime),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = accounts
        .create_token_request(account, &PostParams::default(), &request)
        .await
        .expect("a token");
    answer.status.expect("token status").token
}

/// The apiserver's service account issuer and its signing keys (`/openid/v1/jwks`).
async fn issuer_keys(t: &TestNs) -> Value {
    let request = hyper::Request::get("/openid/v1/jwks")
        .body(Vec::new())
        .expect("a request");
    let text = t.client.request_text(request).await.expect("the JWKS");
    serde_json::from_str(&text).expect("JSON")
}

#[tokio::test]
async fn workload_identity_sends_the_operators_federated_token_only_to_trusted_endpoints() {
    let mut t = TestNs::new("workload-identity").await;
    let fake = FakeGraph::start().await;
    for (id, name) in [(CONTOSO, "contoso"), (FABRIKAM, "fabrikam")] {
        fake.add_tenant(id, name, GRAPH_APP, GRAPH_SECRET);
        fake.remove_secret(id);
    }
    // As `az identity federated-credential create` would: this namespace's account `xtsync`,
    // issued by the test apiserver, for Entra's token exchange.
    let issuer = "https://kubernetes.default.svc";
    fake.add_issuer(issuer, &issuer_keys(&t).await);
    fake.add_federated_credential(
        CONTOSO,
        FederatedCredential {
            issuer: issuer.into(),
            subject: format!("system:serviceaccount:{}:xtsync", t.name),
            audience: EXCHANGE_AUDIENCE.into(),
        },
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let token_file = dir.path().join("azure-identity-token");
    std::fs::write(&token_file, service_account_token(&t, "xtsync", 3600).await).expect("token file");
    // The fake stands in for the cloud's login endpoint: trusted by the operator.
    let federation = Federation::new(token_file.clone(), std::slice::from_ref(&fake.base)).expect("federation");
    t.start_controllers_with(Clients::new().expect("clients").with_federation(federation), |_| {});
    let api = t.api::<Tenant>();

    let workload = json!({ "workloadIdentity": {} });
    t.apply(&graph_tenant(
        "contoso",
        CONTOSO,
        workload.clone(),
        &fake.base,
        &fake.base,
    ))
    .await;
    wait_ready(&api, "contoso", "True", TenantReadyReason::Connected).await;
    let first = std::fs::read_to_string(&token_file).expect("token");
    assert_eq!(fake.last_assertion().as_deref(), Some(first.as_str()));

    // The kubelet rotates the token: the next token request reads the new one.
    // (Another lifetime: two tokens asked for in the same second are otherwise the same.)
    let rotated = service_account_token(&t, "xtsync", 3660).await;
    assert_ne!(rotated, first);
    std::fs::write(&token_file, &rotated).expect("rotate");
    fake.revoke_tokens();
    t.apply(&renamed(graph_tenant(
        "contoso",
        CONTOSO,
        workload.clone(),
        &fake.base,
        &fake.base,
    )))
    .await;
    t.eventually("the rotated token is presented", || async {
        fake.last_assertion().as_deref() == Some(rotated.as_str())
    })
    .await;
    wait_ready(&api, "contoso", "True", TenantReadyReason::Connected).await;

    // A login endpoint only the Tenant names never receives it: nothing is sent.
    let tripwire = Tripwire::start().await;
    t.apply(&graph_tenant(
        "fabrikam",
        FABRIKAM,
        workload.clone(),
        &tripwire.url,
        &fake.base,
    ))
    .await;
    let untrusted = wait_ready(&api, "fabrikam", "False", TenantReadyReason::LoginEndpointNotTrusted).await;
    assert!(untrusted.message.contains(&tripwire.url), "{}", untrusted.message);
    assert_eq!(tripwire.connections(), 0, "the federated token went nowhere");

    // Another account's token (a subject the app has no federated credential for) is refused
    // as Entra refuses it.
    std::fs::write(&token_file, service_account_token(&t, "someone-else", 3600).await).expect("token file");
    fake.revoke_tokens();
    t.apply(&graph_tenant("contoso", CONTOSO, workload, &fake.base, &fake.base))
        .await;
    let refused = wait_ready(&api, "contoso", "False", TenantReadyReason::AuthenticationFailed).await;
    assert!(refused.message.contains("AADSTS700213"), "{}", refused.message);
}
