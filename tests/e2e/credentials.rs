//! A Secret is sent only where its annotation `xtsync.io/credentials-for` allows; a Tenant
//! it does not allow is `SecretNotAllowed`, its message the exact command that allows it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use xtsync::api::Tenant;
use xtsync::api::conditions::ConditionReason;
use xtsync::api::reasons::TenantReadyReason;

use crate::manifests::{self, CONTOSO, Manifests};
use crate::support::{SCIM_TOKEN, TestNs, wait_ready};

/// A loopback TCP listener that counts the connections made to it and answers none: whatever
/// reaches it was sent.
pub(crate) struct Tripwire {
    pub(crate) url: String,
    connections: Arc<AtomicUsize>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Tripwire {
    pub(crate) async fn start() -> Tripwire {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let accepting = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                stream.set_nodelay(true).expect("TCP_NODELAY");
                counted.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        Tripwire {
            url,
            connections,
            accepting,
        }
    }

    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Tripwire {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Applies the Secret and the Tenant `contoso`; its `Ready=False/SecretNotAllowed` condition.
async fn refused(t: &TestNs, secret_and_tenant: Manifests) -> Condition {
    t.apply(&secret_and_tenant).await;
    wait_ready(
        &t.api::<Tenant>(),
        "contoso",
        "False",
        TenantReadyReason::SecretNotAllowed,
    )
    .await
}

/// The command a `SecretNotAllowed` message ends with, as arguments after `kubectl`.
fn annotate_command(message: &str) -> Vec<String> {
    let command = message
        .rsplit_once("kubectl annotate ")
        .map(|(_, rest)| format!("annotate {rest}"))
        .unwrap_or_else(|| panic!("no kubectl annotate command in: {message}"));
    command.split_whitespace().map(str::to_owned).collect()
}

#[tokio::test]
async fn a_secret_is_never_sent_where_its_annotation_does_not_allow() {
    let mut t = TestNs::new("credentials-for").await;
    t.start_controllers(|_| {});
    let tripwire = Tripwire::start().await;
    let url = format!("{}/contoso/v2", tripwire.url);
    // Prefixes of another directory, of a longer path, and one with a query (ignored).
    let elsewhere = t.scim_url("fabrikam");
    let longer = format!("{}/contoso/v20", tripwire.url);
    let with_query = format!("{url}?x=1");
    let allowed = [elsewhere.as_str(), &longer, &with_query];
    let c = refused(
        &t,
        Manifests::of([
            manifests::secret("contoso-scim", "token", SCIM_TOKEN, &allowed),
            manifests::scim_tenant_at("contoso", CONTOSO, "Global", &url),
        ]),
    )
    .await;
    assert_eq!(tripwire.connections(), 0, "nothing was sent to the Tenant's URL");
    assert!(
        c.message.contains("query"),
        "the ignored prefix is named: {}",
        c.message
    );
    assert!(
        c.message.ends_with(&format!(
            "kubectl annotate secret -n {} contoso-scim --overwrite xtsync.io/credentials-for={elsewhere},{longer},{url}",
            t.name
        )),
        "{}",
        c.message
    );
}

#[tokio::test]
async fn annotating_a_secret_as_its_message_says_makes_the_tenant_ready_at_once() {
    let mut t = TestNs::new("credentials-annotate").await;
    // Retries are an hour away: only the Secret watch can make the Tenant Ready in time.
    t.start_controllers(|s| s.tenant_retry = Duration::from_secs(3600));
    // A Secret as an installation from before the annotation has it: labelled only.
    let c = refused(
        &t,
        Manifests::of([
            manifests::secret("contoso-scim", "token", SCIM_TOKEN, &[]),
            manifests::scim_tenant(&t, "contoso", CONTOSO, "Global"),
        ]),
    )
    .await;
    assert!(t.scim_reads("contoso").is_empty(), "nothing was sent to the directory");
    // The README's listing of every Tenant waiting for an annotation shows this one's message.
    let waiting = format!(
        r#"jsonpath={{range .items[*].status.conditions[?(@.reason=="{}")]}}{{.message}}{{"\n"}}{{end}}"#,
        TenantReadyReason::SecretNotAllowed.as_str()
    );
    let listed = t.kubectl(&["get", "tenants", "-o", &waiting]).await;
    assert_eq!(listed.trim_end(), c.message);
    let command = annotate_command(&c.message);
    assert!(
        command.contains(&format!("xtsync.io/credentials-for={}", t.scim_url("contoso"))),
        "{}",
        c.message
    );
    t.kubectl(&command.iter().map(String::as_str).collect::<Vec<_>>()).await;
    wait_ready(&t.api::<Tenant>(), "contoso", "True", TenantReadyReason::Connected).await;
}

#[tokio::test]
async fn a_graph_secret_is_never_sent_to_endpoint_overrides_its_annotation_does_not_list() {
    let mut t = TestNs::new("credentials-for-graph").await;
    t.start_controllers(|_| {});
    let tripwire = Tripwire::start().await;
    // Login and Graph both overridden to the listener; the Secret lists neither.
    let tenant = manifests::graph_tenant("contoso", CONTOSO, "Global", Some(&tripwire.url)).with(
        "Secret",
        "contoso-graph",
        |s| {
            s["metadata"].as_object_mut().expect("metadata").remove("annotations");
        },
    );
    let c = refused(&t, tenant).await;
    assert_eq!(tripwire.connections(), 0, "no token request, no Graph request");
    for field in ["endpoints.login", "endpoints.graph"] {
        assert!(c.message.contains(field), "{field} is named: {}", c.message);
    }
    assert!(
        c.message.ends_with(&format!(
            "kubectl annotate secret -n {} contoso-graph xtsync.io/credentials-for={}",
            t.name, tripwire.url
        )),
        "{}",
        c.message
    );
}
