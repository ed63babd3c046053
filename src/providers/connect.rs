//! From a Tenant's `spec.directory` to a provider: the one place that knows which providers
//! exist. `Setup::of` checks what the spec alone can tell (exactly one provider, a usable
//! `anchorAttribute`, known Graph endpoints); the caller then fetches the Secret it names and
//! either tests the connection (`probe`) or opens the `Directory` a cycle uses.

use std::sync::Arc;

use super::budget::{Budgets, DEFAULT_CONCURRENCY};
use super::destination::{Destination, UrlPrefix};
use super::msgraph::resource::AnchorAttribute;
use super::msgraph::{Credentials, Endpoints, GraphClient, GraphDirectory, TokenCache};
use super::scim::ScimClient;
use super::{Directory, ProbeError};
use crate::api::SecretKeyRef;
use crate::api::tenant::{
    Capabilities, Cloud, GraphDirectory as GraphSpec, GraphEndpoints, ScimDirectory as ScimSpec, TenantSpec,
};

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
    /// The Secret is not labelled as directory credentials, or its annotation
    /// `xtsync.io/credentials-for` does not list where it would be sent.
    #[error("{0}")]
    SecretNotAllowed(String),
    #[error("Microsoft Graph in the {0} cloud is not supported (no endpoints are known for it)")]
    UnsupportedCloud(Cloud),
    /// The Secret holds something that cannot be sent as a credential.
    #[error("{0}")]
    AuthenticationFailed(String),
}

/// Where `url` sends the credential, which the Secret must allow. Credentials go over TLS:
/// plain `http://` only to the machine itself (tests, a local proxy).
fn checked_destination(field: &'static str, url: &str) -> Result<Destination, ConnectError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| ConnectError::InvalidSpec(format!("{field}: {e}")))?;
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let secure = match parsed.scheme() {
        "https" => true,
        "http" => loopback,
        _ => false,
    };
    let prefix = UrlPrefix::of(&parsed).filter(|_| secure).ok_or_else(|| {
        ConnectError::InvalidSpec(format!(
            "{field}: '{url}' must use https:// (plain http:// only to loopback hosts, so that credentials never cross a network unencrypted)"
        ))
    })?;
    Ok(Destination { field, url: prefix })
}

/// Where a Graph Tenant's credential goes that needs the Secret's permission: an overridden endpoint,
/// unless it is under the cloud's own one (the app registration's secret belongs there;
/// Microsoft Learn, "National clouds").
fn graph_destinations(cloud: Cloud, overrides: Option<&GraphEndpoints>) -> Result<Vec<Destination>, ConnectError> {
    let defaults = Endpoints::resolve(cloud, None);
    let login = overrides.and_then(|e| e.login.as_deref()).map(|url| {
        let default = defaults.as_ref().map(|d| d.login.as_str());
        ("spec.directory.msgraph.endpoints.login", url, default)
    });
    let graph = overrides.and_then(|e| e.graph.as_deref()).map(|url| {
        let default = defaults.as_ref().map(|d| d.graph.as_str());
        ("spec.directory.msgraph.endpoints.graph", url, default)
    });
    let mut destinations = Vec::new();
    for (field, url, default) in [login, graph].into_iter().flatten() {
        let destination = checked_destination(field, url)?;
        let own = default
            .and_then(|d| reqwest::Url::parse(d).ok())
            .and_then(|d| UrlPrefix::of(&d))
            .is_some_and(|d| d.covers(&destination.url));
        if !own {
            destinations.push(destination);
        }
    }
    Ok(destinations)
}

/// A Tenant's provider, checked as far as the spec allows, and where its credential goes.
pub struct Setup<'a> {
    provider: Provider<'a>,
    destinations: Vec<Destination>,
}

enum Provider<'a> {
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
            (Some(scim), None) => Ok(Setup {
                destinations: vec![checked_destination("spec.directory.scim.url", &scim.url)?],
                provider: Provider::Scim(scim),
            }),
            (None, Some(graph)) => {
                let destinations = graph_destinations(tenant.cloud, graph.endpoints.as_ref())?;
                let anchor =
                    AnchorAttribute::of(graph.anchor_attribute.as_deref()).map_err(ConnectError::InvalidSpec)?;
                let endpoints = Endpoints::resolve(tenant.cloud, graph.endpoints.as_ref())
                    .ok_or(ConnectError::UnsupportedCloud(tenant.cloud))?;
                Ok(Setup {
                    provider: Provider::Graph(GraphSetup {
                        spec: graph,
                        tenant_id: &tenant.tenant_id,
                        endpoints,
                        anchor,
                    }),
                    destinations,
                })
            }
            _ => Err(ConnectError::InvalidSpec(
                "spec.directory must set exactly one of scim or msgraph".into(),
            )),
        }
    }

    /// Where the credential would be sent, each to be allowed by the Secret (Graph's own cloud
    /// endpoints are not listed: they need no grant).
    pub fn destinations(&self) -> &[Destination] {
        &self.destinations
    }

    /// The Secret key holding the credential.
    pub fn secret(&self) -> &'a SecretKeyRef {
        match &self.provider {
            Provider::Scim(scim) => &scim.auth.bearer_token_secret_ref,
            Provider::Graph(graph) => &graph.spec.client_secret_ref,
        }
    }

    /// The connection test of the Tenant controller; the capabilities the directory announced.
    pub async fn probe(&self, clients: &Clients, secret: &str) -> Result<Capabilities, ProbeError> {
        match &self.provider {
            Provider::Scim(scim) => super::scim::probe(&clients.http, &scim.url, secret).await,
            Provider::Graph(graph) => super::msgraph::probe(&graph.client(clients, secret)).await,
        }
    }

    /// The directory a cycle reads and writes, with the capabilities the Tenant recorded.
    pub fn directory(
        &self,
        clients: &Clients,
        secret: &str,
        capabilities: Capabilities,
    ) -> Result<Box<dyn Directory>, ConnectError> {
        match &self.provider {
            Provider::Scim(scim) => {
                let key = format!("scim {}", scim.url.trim_end_matches('/'));
                let budget = clients.budgets.of(&key, limit(scim.max_concurrency));
                ScimClient::new(clients.http.clone(), &scim.url, secret, capabilities, scim.soft_delete)
                    .map(|c| Box::new(c.with_budget(budget)) as Box<dyn Directory>)
                    .map_err(|_| {
                        ConnectError::AuthenticationFailed("the token is not a valid HTTP header value".into())
                    })
            }
            Provider::Graph(graph) => {
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
        match &self.provider {
            Provider::Graph(graph) => Some(graph.client(clients, secret)),
            Provider::Scim(_) => None,
        }
    }
}
