//! Why a Tenant's directory cannot be opened, and why one side of a pair cannot — in words the cycle's report can carry without
//! knowing the Kubernetes resources (docs/architecture.md, "The floors").

/// Why a Tenant's directory cannot be opened. The variant names are condition reasons.
#[derive(Debug, thiserror::Error, strum::IntoStaticStr)]
pub enum ConnectError {
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
    /// The cloud, as the Tenant names it.
    UnsupportedCloud(String),
    /// The Secret holds something that cannot be sent as a credential.
    #[error("{0}")]
    AuthenticationFailed(String),
    /// The certificate Secret's `tls.crt`/`tls.key` cannot sign a client assertion.
    #[error("{0}")]
    InvalidCertificate(String),
    /// The `caBundleRef` is missing or holds no certificate.
    #[error("{0}")]
    InvalidCABundle(String),
    /// Workload identity towards a login or Graph endpoint the operator does not trust.
    #[error("{0}")]
    LoginEndpointNotTrusted(String),
}

/// Why one side of a pair cannot be opened now: its Tenant is gone, or the Tenant is there and
/// cannot be used. (A Tenant's own check never meets the first.)
#[derive(Debug, thiserror::Error)]
pub enum Unopenable {
    #[error("Tenant '{0}' does not exist in this namespace")]
    TenantNotFound(String),
    #[error(transparent)]
    Unusable(#[from] ConnectError),
}
