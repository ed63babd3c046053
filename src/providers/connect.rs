//! From a Tenant's `spec.directory` to a provider: the one place that knows which providers
//! exist. `Setup::of` checks what the spec alone can tell (exactly one provider, a usable
//! `anchorAttribute`, known Graph endpoints); the caller then fetches the Secret it names and
//! either tests the connection (`probe`) or opens the `Directory` a cycle uses.

use std::sync::Arc;

use super::budget::{Budgets, DEFAULT_CONCURRENCY};
use super::msgraph::resource::AnchorAttribute;
use super::msgraph::{Credentials, Endpoints, GraphClient, GraphDirectory, TokenCache};
use super::scim::ScimClient;
use super::{Directory, ProbeError};
use crate::api::SecretKeyRef;
use crate::api::tenant::{Capabilities, Cloud, GraphDirectory as GraphSpec, ScimDirectory as ScimSpec, TenantSpec};

/// What every provider shares: one HTTP client (connection pools), Graph's token cache, and
/// one budget per directory (requests in flight, throttle hold) across configurations.
#[derive(Clone)]
pub struct Clients {
    pub http: reqwest::Client,
    pub graph_tokens: Arc<TokenCache>,
    pub budgets: Arc<Budgets>,
}

impl Clients {
    /// The shared clients; an HTTP client that cannot be built is an error, at start-up.
    pub fn new() -> Result<Self, super::HttpClientError> {
        Ok(Clients {
            http: super::http_client()?,
            graph_tokens: Arc::default(),
            budgets: Arc::default(),
        })
    }
}

/// The requests in flight a Tenant allows its directory.
fn limit(max_concurrency: Option<u32>) -> usize {
    max_concurrency
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(DEFAULT_CONCURRENCY)
}

/// Why a Tenant's directory cannot be opened. The variant names are condition reasons.
#[derive(Debug, thiserror::Error, strum::IntoStaticStr)]
pub enum ConnectError {
    #[error("Tenant '{0}' does not exist in this namespace")]
    TenantNotFound(String),
    /// The spec names no usable provider, or a bad `anchorAttribute`.
    #[error("{0}")]
    InvalidSpec(String),
    #[error("{0}")]
    SecretNotFound(String),
    /// The Secret is not labelled as directory credentials.
    #[error("{0}")]
    SecretNotAllowed(String),
    #[error("Microsoft Graph in the {0} cloud is not supported (no endpoints are known for it)")]
    UnsupportedCloud(Cloud),
    /// The Secret holds something that cannot be sent as a credential.
    #[error("{0}")]
    AuthenticationFailed(String),
}

/// Credentials go over TLS: plain `http://` only to the machine itself (tests, a local proxy).
fn only_loopback_in_plain_http(field: &str, url: &str) -> Result<(), ConnectError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| ConnectError::InvalidSpec(format!("{field}: {e}")))?;
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(ConnectError::InvalidSpec(format!(
            "{field}: '{url}' must use https:// (plain http:// only to loopback hosts, so that credentials never cross a network unencrypted)"
        ))),
    }
}

/// A Tenant's provider, checked as far as the spec allows.
pub enum Setup<'a> {
    Scim(&'a ScimSpec),
    Graph(GraphSetup<'a>),
}

pub struct GraphSetup<'a> {
    spec: &'a GraphSpec,
    tenant_id: &'a str,
    endpoints: Endpoints,
    anchor: AnchorAttribute,
}

impl GraphSetup<'_> {
    fn client(&self, clients: &Clients, secret: &str) -> GraphClient {
        let credentials = Credentials {
            tenant_id: self.tenant_id.to_owned(),
            client_id: self.spec.client_id.clone(),
            client_secret: secret.to_owned(),
        };
        GraphClient::new(
            clients.http.clone(),
            self.endpoints.clone(),
            credentials,
            clients.graph_tokens.clone(),
        )
    }
}

impl<'a> Setup<'a> {
    pub fn of(tenant: &'a TenantSpec) -> Result<Setup<'a>, ConnectError> {
        match (&tenant.directory.scim, &tenant.directory.msgraph) {
            (Some(scim), None) => {
                only_loopback_in_plain_http("spec.directory.scim.url", &scim.url)?;
                Ok(Setup::Scim(scim))
            }
            (None, Some(graph)) => {
                let overrides = graph.endpoints.as_ref();
                for (field, url) in [
                    ("login", overrides.and_then(|e| e.login.as_deref())),
                    ("graph", overrides.and_then(|e| e.graph.as_deref())),
                ] {
                    if let Some(url) = url {
                        only_loopback_in_plain_http(&format!("spec.directory.msgraph.endpoints.{field}"), url)?;
                    }
                }
                let anchor =
                    AnchorAttribute::of(graph.anchor_attribute.as_deref()).map_err(ConnectError::InvalidSpec)?;
                let endpoints = Endpoints::resolve(tenant.cloud, graph.endpoints.as_ref())
                    .ok_or(ConnectError::UnsupportedCloud(tenant.cloud))?;
                Ok(Setup::Graph(GraphSetup {
                    spec: graph,
                    tenant_id: &tenant.tenant_id,
                    endpoints,
                    anchor,
                }))
            }
            _ => Err(ConnectError::InvalidSpec(
                "spec.directory must set exactly one of scim or msgraph".into(),
            )),
        }
    }

    /// The Secret key holding the credential.
    pub fn secret(&self) -> &'a SecretKeyRef {
        match self {
            Setup::Scim(scim) => &scim.auth.bearer_token_secret_ref,
            Setup::Graph(graph) => &graph.spec.client_secret_ref,
        }
    }

    /// The connection test of the Tenant controller; the capabilities the directory announced.
    pub async fn probe(&self, clients: &Clients, secret: &str) -> Result<Capabilities, ProbeError> {
        match self {
            Setup::Scim(scim) => super::scim::probe(&clients.http, &scim.url, secret).await,
            Setup::Graph(graph) => super::msgraph::probe(&graph.client(clients, secret)).await,
        }
    }

    /// The directory a cycle reads and writes, with the capabilities the Tenant recorded.
    pub fn directory(
        &self,
        clients: &Clients,
        secret: &str,
        capabilities: Capabilities,
    ) -> Result<Box<dyn Directory>, ConnectError> {
        match self {
            Setup::Scim(scim) => {
                let key = format!("scim {}", scim.url.trim_end_matches('/'));
                let budget = clients.budgets.of(&key, limit(scim.max_concurrency));
                ScimClient::new(clients.http.clone(), &scim.url, secret, capabilities, scim.soft_delete)
                    .map(|c| Box::new(c.with_budget(budget)) as Box<dyn Directory>)
                    .map_err(|_| {
                        ConnectError::AuthenticationFailed("the token is not a valid HTTP header value".into())
                    })
            }
            Setup::Graph(graph) => {
                let key = format!(
                    "graph {} {}",
                    graph.endpoints.graph,
                    graph.tenant_id.to_ascii_lowercase()
                );
                let budget = clients.budgets.of(&key, limit(graph.spec.max_concurrency));
                let client = graph.client(clients, secret).with_budget(budget);
                Ok(Box::new(GraphDirectory::new(client, graph.anchor, true)))
            }
        }
    }

    /// A Graph client (for the policy push), when this is a Graph tenant.
    pub fn graph_client(&self, clients: &Clients, secret: &str) -> Option<GraphClient> {
        match self {
            Setup::Graph(graph) => Some(graph.client(clients, secret)),
            Setup::Scim(_) => None,
        }
    }
}
