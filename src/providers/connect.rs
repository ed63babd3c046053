//! From a Tenant's directory settings (`settings.rs`) to a provider: the one place that knows
//! which providers exist. `Setup::of` checks what the settings alone can tell (exactly one provider, exactly one
//! Graph credential, a usable `anchorAttribute`, known Graph endpoints); the caller then reads
//! the credential it names (`credential`, `ca_bundle`) and either tests the connection
//! (`probe`) or opens the directory a cycle reads or writes (`OpenedDirectory`).

use std::sync::Arc;

use super::budget::{Budgets, DEFAULT_CONCURRENCY};
use super::connect_error::ConnectError;
use super::credential::{Access, BundleRef, Credential, CredentialRef};
use super::destination::{Destination, UrlPrefix, is_loopback};
use super::msgraph::resource::AnchorAttribute;
use super::msgraph::{ClientCredential, Credentials, Endpoints, Federation, GraphClient, MsGraphDirectory, TokenCache};
use super::scim::ScimClient;
use super::settings::{
    DirectoryFeatures, DirectorySettings, EndpointOverrides, GraphSettings, NationalCloud, ProviderSettings,
    ScimSettings, SecretKeyLocation,
};
use super::tls::TrustingClients;
use super::{DirectoryError, ProbeError, SourceDirectory, TargetDirectory};

/// What every provider shares: one HTTP client (connection pools) and one per private CA,
/// Graph's token cache, the operator's federated token, and one budget per directory
/// (requests in flight, throttle hold) across configurations.
#[derive(Clone)]
pub struct Clients {
    pub http: reqwest::Client,
    pub graph_tokens: Arc<TokenCache>,
    pub budgets: Arc<Budgets>,
    trusting: Arc<TrustingClients>,
    federation: Arc<Federation>,
}

impl Clients {
    /// The shared clients; an HTTP client that cannot be built is an error, at start-up.
    pub fn new() -> Result<Self, super::HttpClientError> {
        Ok(Clients {
            http: super::http_client()?,
            graph_tokens: Arc::default(),
            budgets: Arc::default(),
            trusting: Arc::default(),
            federation: Arc::default(),
        })
    }

    /// Where the operator's federated token is and where it may go (workload identity).
    pub fn with_federation(mut self, federation: Federation) -> Self {
        self.federation = Arc::new(federation);
        self
    }

    /// The HTTP client for a directory with `access` (its CA bundle, if any).
    fn http_for(&self, access: &Access) -> Result<reqwest::Client, ConnectError> {
        match &access.ca_bundle {
            None => Ok(self.http.clone()),
            Some(bundle) => self
                .trusting
                .client(bundle)
                .map_err(|e| ConnectError::InvalidCABundle(format!("the CA bundle cannot be used: {e}"))),
        }
    }
}

/// The requests in flight a Tenant allows its directory.
fn limit(max_concurrency: Option<u32>) -> usize {
    max_concurrency
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(DEFAULT_CONCURRENCY)
}

/// Where `url` sends the credential, which the Secret must allow. Credentials go over TLS:
/// plain `http://` only to the machine itself (tests, a local proxy).
fn checked_destination(field: &'static str, url: &str) -> Result<Destination, ConnectError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| ConnectError::InvalidSpec(format!("{field}: {e}")))?;
    let secure = parsed.scheme() == "https" || is_loopback(&parsed);
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
fn graph_destinations(
    cloud: NationalCloud,
    overrides: Option<&EndpointOverrides>,
) -> Result<Vec<Destination>, ConnectError> {
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

/// A Tenant's provider, checked as far as its settings allow, and where its credential goes.
pub struct Setup {
    provider: Provider,
    destinations: Vec<Destination>,
}

enum Provider {
    Scim(ScimSettings),
    // Boxed: a Graph setup holds far more than a SCIM one.
    Graph(Box<GraphSetup>),
}

pub struct GraphSetup {
    settings: GraphSettings,
    tenant_id: String,
    cloud: NationalCloud,
    endpoints: Endpoints,
    anchor: AnchorAttribute,
    credential: GraphCredential,
}

/// The one credential a Graph Tenant names.
enum GraphCredential {
    Secret(SecretKeyLocation),
    Certificate(String),
    WorkloadIdentity,
}

impl GraphSetup {
    fn client(&self, clients: &Clients, access: &Access) -> Result<GraphClient, ConnectError> {
        let app = &self.settings.client_id;
        let (client_id, secret) = match &access.credential {
            Credential::Token(secret) => (app.clone(), ClientCredential::Secret(secret.clone())),
            Credential::Certificate(certificate) => (app.clone(), ClientCredential::Certificate(certificate.clone())),
            Credential::Federated => {
                let client_id = self
                    .settings
                    .workload_identity
                    .as_ref()
                    .and_then(|w| w.client_id.clone());
                (
                    client_id.unwrap_or_else(|| app.clone()),
                    ClientCredential::Federated(clients.federation.clone()),
                )
            }
        };
        let credentials = Credentials {
            tenant_id: self.tenant_id.clone(),
            client_id,
            secret,
        };
        let client = GraphClient::new(
            clients.http_for(access)?,
            self.endpoints.clone(),
            credentials,
            clients.graph_tokens.clone(),
        );
        // Directory extensions are named after the app registration, whoever authenticates.
        Ok(client.with_app_id(app))
    }
}

/// The one credential a Graph Tenant names, or why it names not exactly one.
fn graph_credential(settings: &GraphSettings) -> Result<GraphCredential, ConnectError> {
    let named: Vec<GraphCredential> = [
        settings.client_secret.clone().map(GraphCredential::Secret),
        settings
            .client_certificate_secret
            .clone()
            .map(GraphCredential::Certificate),
        settings
            .workload_identity
            .as_ref()
            .map(|_| GraphCredential::WorkloadIdentity),
    ]
    .into_iter()
    .flatten()
    .collect();
    let count = named.len();
    match <[GraphCredential; 1]>::try_from(named) {
        Ok([one]) => Ok(one),
        Err(_) => Err(ConnectError::InvalidSpec(format!(
            "spec.directory.msgraph must set exactly one of clientSecretRef, clientCertificateSecretRef and workloadIdentity ({count} set)"
        ))),
    }
}

impl Setup {
    pub fn of(settings: DirectorySettings) -> Result<Setup, ConnectError> {
        let DirectorySettings {
            tenant_id,
            cloud,
            provider,
        } = settings;
        match provider {
            ProviderSettings::Scim(scim) => Ok(Setup {
                destinations: vec![checked_destination("spec.directory.scim.url", &scim.url)?],
                provider: Provider::Scim(scim),
            }),
            ProviderSettings::Graph(graph) => {
                let credential = graph_credential(&graph)?;
                let destinations = graph_destinations(cloud, graph.endpoints.as_ref())?;
                let anchor =
                    AnchorAttribute::of(graph.anchor_attribute.as_deref()).map_err(ConnectError::InvalidSpec)?;
                let endpoints = Endpoints::resolve(cloud, graph.endpoints.as_ref())
                    .ok_or_else(|| ConnectError::UnsupportedCloud(cloud.to_string()))?;
                Ok(Setup {
                    provider: Provider::Graph(Box::new(GraphSetup {
                        settings: graph,
                        tenant_id,
                        cloud,
                        endpoints,
                        anchor,
                        credential,
                    })),
                    destinations,
                })
            }
        }
    }

    /// Where the credential would be sent, each to be allowed by the Secret (Graph's own cloud
    /// endpoints are not listed: they need no grant).
    pub fn destinations(&self) -> &[Destination] {
        &self.destinations
    }

    /// Where the credential is to be found.
    pub fn credential(&self) -> CredentialRef<'_> {
        match &self.provider {
            Provider::Scim(scim) => CredentialRef::SecretKey(&scim.bearer_token),
            Provider::Graph(graph) => match &graph.credential {
                GraphCredential::Secret(key) => CredentialRef::SecretKey(key),
                GraphCredential::Certificate(name) => CredentialRef::TlsSecret(name),
                GraphCredential::WorkloadIdentity => CredentialRef::WorkloadIdentity,
            },
        }
    }

    /// The CA bundle the Tenant trusts besides the public roots, if any.
    pub fn ca_bundle(&self) -> Option<BundleRef<'_>> {
        match &self.provider {
            Provider::Scim(scim) => scim.ca_bundle.as_ref().map(|bundle| BundleRef {
                field: "spec.directory.scim.caBundleRef",
                bundle,
            }),
            Provider::Graph(graph) => graph.settings.ca_bundle.as_ref().map(|bundle| BundleRef {
                field: "spec.directory.msgraph.caBundleRef",
                bundle,
            }),
        }
    }

    /// The operator's federated token, for a Tenant with workload identity whose login and
    /// Graph endpoints the operator trusts: the token (and the access token it buys) never
    /// goes where only a Tenant says.
    pub fn federated(&self, clients: &Clients) -> Result<Credential, ConnectError> {
        let Provider::Graph(graph) = &self.provider else {
            return Err(ConnectError::InvalidSpec(
                "workload identity is for Microsoft Graph only".into(),
            ));
        };
        let untrusted: Vec<String> = [
            ("spec.directory.msgraph.endpoints.login", &graph.endpoints.login),
            ("spec.directory.msgraph.endpoints.graph", &graph.endpoints.graph),
        ]
        .into_iter()
        .filter(|(_, url)| !clients.federation.trusts(graph.cloud, url))
        .map(|(field, url)| format!("{url} ({field})"))
        .collect();
        if untrusted.is_empty() {
            return Ok(Credential::Federated);
        }
        Err(ConnectError::LoginEndpointNotTrusted(format!(
            "workload identity sends the operator's federated token only to the {} cloud's own endpoints or to those the operator trusts (--trusted-login-endpoint, XTSYNC_TRUSTED_LOGIN_ENDPOINTS), not to {}; nothing was sent",
            graph.cloud,
            untrusted.join(" and ")
        )))
    }

    /// The connection test of the Tenant controller; the capabilities the directory announced.
    pub async fn probe(&self, clients: &Clients, access: &Access) -> Result<DirectoryFeatures, TestError> {
        match &self.provider {
            Provider::Scim(scim) => {
                let http = clients.http_for(access)?;
                let token = bearer(access)?;
                Ok(super::scim::probe(&http, &scim.url, token).await?)
            }
            Provider::Graph(graph) => Ok(super::msgraph::probe(&graph.client(clients, access)?).await?),
        }
    }

    /// The directory a cycle reads or writes, with the capabilities the Tenant recorded.
    pub fn directory(
        &self,
        clients: &Clients,
        access: &Access,
        capabilities: DirectoryFeatures,
    ) -> Result<OpenedDirectory, ConnectError> {
        match &self.provider {
            Provider::Scim(scim) => {
                let key = format!("scim {}", scim.url.trim_end_matches('/'));
                let budget = clients.budgets.of(&key, limit(scim.max_concurrency));
                ScimClient::new(
                    clients.http_for(access)?,
                    &scim.url,
                    bearer(access)?,
                    capabilities,
                    scim.deletion,
                )
                .map(|c| OpenedDirectory::Scim(c.with_budget(budget)))
                .map_err(|e| match e {
                    DirectoryError::AuthenticationFailed { .. } => {
                        ConnectError::AuthenticationFailed("the token is not a valid HTTP header value".into())
                    }
                    other => ConnectError::InvalidSpec(format!("spec.directory.scim.url: {other}")),
                })
            }
            Provider::Graph(graph) => {
                let key = format!(
                    "graph {} {}",
                    graph.endpoints.graph,
                    graph.tenant_id.to_ascii_lowercase()
                );
                let budget = clients.budgets.of(&key, limit(graph.settings.max_concurrency));
                let client = graph.client(clients, access)?.with_budget(budget);
                Ok(OpenedDirectory::Graph(MsGraphDirectory::new(
                    client,
                    graph.anchor,
                    true,
                )))
            }
        }
    }

    /// A Graph client (for the policy push), when this is a Graph tenant.
    pub fn graph_client(&self, clients: &Clients, access: &Access) -> Result<Option<GraphClient>, ConnectError> {
        match &self.provider {
            Provider::Graph(graph) => graph.client(clients, access).map(Some),
            Provider::Scim(_) => Ok(None),
        }
    }
}

/// A Tenant's directory, opened. Every provider reads as a source and writes as a target; the
/// caller takes the role it needs (docs/architecture.md, "The floors").
pub enum OpenedDirectory {
    Scim(ScimClient),
    Graph(MsGraphDirectory),
}

impl OpenedDirectory {
    pub fn into_source(self) -> Box<dyn SourceDirectory> {
        match self {
            OpenedDirectory::Scim(scim) => Box::new(scim),
            OpenedDirectory::Graph(graph) => Box::new(graph),
        }
    }

    pub fn into_target(self) -> Box<dyn TargetDirectory> {
        match self {
            OpenedDirectory::Scim(scim) => Box::new(scim),
            OpenedDirectory::Graph(graph) => Box::new(graph),
        }
    }
}

/// The bearer token of a SCIM Tenant.
fn bearer(access: &Access) -> Result<&str, ConnectError> {
    match &access.credential {
        Credential::Token(token) => Ok(token),
        _ => Err(ConnectError::InvalidSpec(
            "a SCIM directory authenticates with a bearer token".into(),
        )),
    }
}

/// Why a connection test failed: before anything was sent, or the directory's answer.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Probe(#[from] ProbeError),
}
