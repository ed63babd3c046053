//! A directory behind a private CA (README, "Private CAs"): trusted through the Tenant's
//! `caBundleRef` in addition to the public roots; without it, or with a bundle of another CA,
//! the Tenant says `TLSError` and why; a malformed bundle is `InvalidCABundle` naming the
//! field. Against a real TLS endpoint (rustls in front of scim2-server) with a CA made here.

use serde_json::{Value, json};
use xtsync::api::Tenant;
use xtsync::api::reasons::TenantReadyReason;

use crate::manifests::{self, CONTOSO, Manifests};
use crate::support::pki::Pki;
use crate::support::tls_front::TlsFront;
use crate::support::{TestNs, wait_ready};

/// A ConfigMap `name` holding `pem` under `ca.crt`.
fn config_map(name: &str, pem: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": { "name": name },
        "data": { "ca.crt": pem },
    })
}

/// The SCIM Tenant `contoso` at `url`, with `ca_bundle` as its `caBundleRef` (if any).
fn tenant(url: &str, ca_bundle: Option<Value>) -> Manifests {
    let mut tenant = manifests::scim_tenant_at("contoso", CONTOSO, "", url);
    if let Some(reference) = ca_bundle {
        tenant["spec"]["directory"]["scim"]["caBundleRef"] = reference;
    }
    Manifests::of([manifests::scim_secret("contoso", url), tenant])
}

#[tokio::test]
async fn a_ca_bundle_trusts_a_private_ca_and_a_tls_failure_says_why() {
    let mut t = TestNs::new("private-ca").await;
    t.start_controllers(|_| {});
    let pki = Pki::new();
    let (ca, other_ca) = (pki.ca("corp-ca"), pki.ca("other-ca"));
    let server = pki.server("scim", &ca);
    let upstream = t.env.scim_base.trim_start_matches("http://").to_owned();
    let front = TlsFront::start(&server, upstream).await;
    let url = t.scim_url("contoso").replacen(&t.env.scim_base, &front.base, 1);
    let api = t.api::<Tenant>();

    // The public roots alone do not trust the private CA: a TLS error naming the problem, and
    // no handshake completed, so nothing was sent.
    t.apply(&tenant(&url, None)).await;
    let refused = wait_ready(&api, "contoso", "False", TenantReadyReason::TLSError).await;
    assert!(refused.message.contains("UnknownIssuer"), "{}", refused.message);
    assert!(refused.message.contains("caBundleRef"), "{}", refused.message);
    assert_eq!(front.handshakes(), 0);

    // The CA's bundle in a ConfigMap: trusted, in addition to the public roots.
    let bundle = json!({ "kind": "ConfigMap", "name": "corp-ca", "key": "ca.crt" });
    t.apply(&config_map("corp-ca", &ca.certificate)).await;
    t.apply(&tenant(&url, Some(bundle.clone()))).await;
    wait_ready(&api, "contoso", "True", TenantReadyReason::Connected).await;
    assert!(front.handshakes() > 0);

    // The bundle replaced by another CA's: untrusted again, as soon as the ConfigMap changes.
    t.apply(&config_map("corp-ca", &other_ca.certificate)).await;
    let refused = wait_ready(&api, "contoso", "False", TenantReadyReason::TLSError).await;
    assert!(refused.message.contains("UnknownIssuer"), "{}", refused.message);

    // A malformed bundle names the field and what is wrong with it.
    t.apply(&config_map(
        "corp-ca",
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    ))
    .await;
    let invalid = wait_ready(&api, "contoso", "False", TenantReadyReason::InvalidCABundle).await;
    assert!(
        invalid
            .message
            .starts_with("spec.directory.scim.caBundleRef: key 'ca.crt' of ConfigMap 'corp-ca'"),
        "{}",
        invalid.message
    );

    // A bundle in a Secret, which needs no credentials label: a CA is not a credential.
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": { "name": "corp-ca-secret" },
        "stringData": { "bundle.pem": ca.certificate },
    });
    t.apply(&secret).await;
    let in_secret = json!({ "kind": "Secret", "name": "corp-ca-secret", "key": "bundle.pem" });
    t.apply(&tenant(&url, Some(in_secret))).await;
    wait_ready(&api, "contoso", "True", TenantReadyReason::Connected).await;

    // A reference to nothing is a clear reason too, never a crash loop.
    let missing = json!({ "kind": "ConfigMap", "name": "no-such-ca", "key": "ca.crt" });
    t.apply(&tenant(&url, Some(missing))).await;
    let invalid = wait_ready(&api, "contoso", "False", TenantReadyReason::InvalidCABundle).await;
    assert!(
        invalid.message.contains("ConfigMap 'no-such-ca' not found"),
        "{}",
        invalid.message
    );
}

#[tokio::test]
async fn a_graph_tenant_trusts_its_login_and_graph_endpoints_through_its_ca_bundle() {
    let mut t = TestNs::new("graph-private-ca").await;
    t.start_controllers(|_| {});
    let fake = crate::fake_graph::FakeGraph::start().await;
    fake.add_tenant(CONTOSO, "contoso", manifests::GRAPH_APP, manifests::GRAPH_SECRET);
    let pki = Pki::new();
    let ca = pki.ca("proxy-ca");
    let server = pki.server("proxy", &ca);
    // A TLS-inspecting proxy with a private CA in front of login and Graph alike.
    let front = TlsFront::start(&server, fake.base.trim_start_matches("http://").to_owned()).await;
    let graph_tenant = |bundle: Option<Value>| {
        let mut objects = manifests::graph_tenant("contoso", CONTOSO, "Global", Some(&front.base)).0;
        if let Some(reference) = bundle {
            objects[1]["spec"]["directory"]["msgraph"]["caBundleRef"] = reference;
        }
        Manifests(objects)
    };
    let api = t.api::<Tenant>();
    t.apply(&graph_tenant(None)).await;
    let refused = wait_ready(&api, "contoso", "False", TenantReadyReason::TLSError).await;
    assert!(refused.message.contains("UnknownIssuer"), "{}", refused.message);
    assert_eq!(fake.tokens_issued(), 0, "the secret was not sent");

    t.apply(&config_map("proxy-ca", &ca.certificate)).await;
    t.apply(&graph_tenant(Some(json!({ "name": "proxy-ca", "key": "ca.crt" }))))
        .await;
    wait_ready(&api, "contoso", "True", TenantReadyReason::Connected).await;
    assert!(fake.tokens_issued() >= 1);
}
