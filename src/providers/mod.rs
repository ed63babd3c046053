//! Directory providers behind one trait (`Directory`), plus the connection test the Tenant
//! controller runs.

pub mod directory;
pub mod scim;

pub use directory::{Directory, DirectoryError};

use std::time::Duration;

/// Every call to a directory is bounded, so that a hung peer never stalls a reconcile.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a directory could not be used. Variant names are the `Ready=False` reasons of a Tenant.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The directory refused our credentials (401/403).
    #[error("the directory rejected the credentials: HTTP {status}{}", detail_suffix(.detail))]
    AuthenticationFailed { status: u16, detail: Option<String> },
    /// No answer: DNS, connection refused, TLS or a timeout.
    #[error("cannot reach {url}: {cause}")]
    Unreachable { url: String, cause: String },
    /// An answer that is not what the protocol promises.
    #[error("unexpected answer from {url}: {what}")]
    InvalidResponse { url: String, what: String },
}

impl ProbeError {
    pub fn reason(&self) -> &'static str {
        match self {
            ProbeError::AuthenticationFailed { .. } => "AuthenticationFailed",
            ProbeError::Unreachable { .. } => "Unreachable",
            ProbeError::InvalidResponse { .. } => "InvalidResponse",
        }
    }
}

fn detail_suffix(detail: &Option<String>) -> String {
    detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
}

/// The HTTP client all providers share: rustls, timeouts, no redirects to other hosts' tokens.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .user_agent(concat!("xtsync/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Renders a reqwest error as its root cause ("tcp connect error: Connection refused"): the
/// outer layers repeat the URL the caller already names. Never includes a header, so never a
/// token.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".to_owned();
    }
    let mut deepest: &dyn std::error::Error = error;
    while let Some(cause) = deepest.source() {
        deepest = cause;
    }
    deepest.to_string()
}
