//! What a provider is told about a Tenant's directory, in the providers' own words: where it is,
//! where its credential and CA bundle are, how it deletes, what it announced it supports. The
//! controller builds these from the Tenant resource (`controller::provider_settings`), so that
//! nothing under `providers/` knows the Kubernetes API types (docs/architecture.md, "The
//! floors").

/// A Tenant's directory: its tenant id, its cloud, its provider.
#[derive(Clone, Debug, PartialEq)]
pub struct DirectorySettings {
    pub tenant_id: String,
    pub cloud: NationalCloud,
    pub provider: ProviderSettings,
}

/// The one provider a Tenant names.
#[derive(Clone, Debug, PartialEq)]
pub enum ProviderSettings {
    Scim(ScimSettings),
    Graph(GraphSettings),
}

/// A SCIM 2.0 service provider (RFC 7643/7644).
#[derive(Clone, Debug, PartialEq)]
pub struct ScimSettings {
    /// The base URL, below which every request goes.
    pub url: String,
    /// The Secret key holding the bearer token.
    pub bearer_token: SecretKeyLocation,
    pub deletion: ScimDeletion,
    /// Requests in flight at once towards the directory (`None`: the default).
    pub max_concurrency: Option<u32>,
    pub ca_bundle: Option<CaBundleLocation>,
}

/// How a SCIM directory soft-deletes a user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScimDeletion {
    /// `PATCH active=false`: restorable.
    #[default]
    Deactivate,
    /// `DELETE /Users/{id}`.
    Delete,
}

/// A Microsoft Entra tenant through Microsoft Graph. At most one credential must be named;
/// `Setup::of` says so when not exactly one is.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphSettings {
    /// The app registration's client id.
    pub client_id: String,
    pub client_secret: Option<SecretKeyLocation>,
    /// The name of a `kubernetes.io/tls` Secret holding the app's certificate and key.
    pub client_certificate_secret: Option<String>,
    /// The operator's federated token as the credential.
    pub workload_identity: Option<WorkloadIdentitySettings>,
    pub ca_bundle: Option<CaBundleLocation>,
    pub endpoints: Option<EndpointOverrides>,
    /// The attribute that holds the anchor (`None`: the provider's default).
    pub anchor_attribute: Option<String>,
    pub max_concurrency: Option<u32>,
}

/// Workload identity federation: the operator's own federated token is the client assertion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkloadIdentitySettings {
    /// The client id the federated credential is registered on, when it is not the app's.
    pub client_id: Option<String>,
}

/// The national cloud of an Entra tenant (Microsoft Learn, "National clouds").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NationalCloud {
    #[default]
    Global,
    USGovernment,
    China21Vianet,
}

impl std::fmt::Display for NationalCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NationalCloud::Global => "Global",
            NationalCloud::USGovernment => "USGovernment",
            NationalCloud::China21Vianet => "China21Vianet",
        })
    }
}

/// Login and Graph endpoints that replace the cloud's own (tests, proxies).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointOverrides {
    pub login: Option<String>,
    pub graph: Option<String>,
}

/// A key of a Secret in the Tenant's namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretKeyLocation {
    pub name: String,
    pub key: String,
}

/// Where a PEM bundle of CA certificates is: a key of a ConfigMap or of a Secret in the
/// Tenant's namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaBundleLocation {
    pub holder: CaBundleHolder,
    pub name: String,
    pub key: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaBundleHolder {
    ConfigMap,
    Secret,
}

/// What a directory announced it supports (SCIM: `/ServiceProviderConfig`, RFC 7644 §4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectoryFeatures {
    pub patch: bool,
    pub bulk: bool,
    pub filter: bool,
    pub etag: bool,
    /// Changes since a watermark can be read (SCIM: filtering on `meta.lastModified`).
    pub change_tracking: bool,
    /// The largest Bulk request the directory accepts, when it supports Bulk.
    pub bulk_max_operations: Option<u32>,
}
