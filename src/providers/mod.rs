//! Directory providers behind two roles (`SourceDirectory`, `TargetDirectory`), plus the
//! connection test the Tenant controller runs.

pub mod body;
pub mod budget;
pub mod connect;
pub mod connect_error;
pub mod credential;
pub mod destination;
pub mod directory;
#[cfg(test)]
pub mod hostile;
pub mod http_date;
pub mod json;
pub mod memory;
pub mod msgraph;
pub mod retry;
pub mod scim;
pub mod settings;
pub mod tls;
pub mod url_path;
pub mod wire;
pub mod x509;

pub use connect::{Clients, OpenedDirectory, Setup, TestError};
pub use connect_error::{ConnectError, Unopenable};
pub use credential::{Access, Credential, CredentialRef};
pub(crate) use directory::in_input_order;
pub use directory::{DirectoryError, InFlightLimit, SourceDirectory, TargetDirectory};

use std::time::Duration;

/// Every call to a directory is bounded, so that a hung peer never stalls a reconcile.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Why a directory could not be used. Variant names are the `Ready=False` reasons of a Tenant.
#[derive(Debug, thiserror::Error, strum::IntoStaticStr)]
pub enum ProbeError {
    /// The directory refused our credentials (401/403); status 0: they could not be sent.
    #[error("{}{}", status_prefix(*.status), detail_suffix(.detail))]
    AuthenticationFailed { status: u16, detail: Option<String> },
    /// No answer: DNS, connection refused or a timeout.
    #[error("cannot reach {url}: {cause}")]
    Unreachable { url: String, cause: String },
    /// The TLS handshake failed; `cause` says what is wrong with the certificate.
    #[error("TLS with {url} failed: {cause}")]
    Tls { url: String, cause: String },
    /// The credentials work, but for another tenant than `spec.tenantId`.
    #[error("the directory belongs to tenant {found}, not to spec.tenantId {expected}")]
    TenantIdMismatch { expected: String, found: String },
    /// An answer that is not what the protocol promises.
    #[error("unexpected answer from {url}: {what}")]
    InvalidResponse { url: String, what: String },
}

fn status_prefix(status: u16) -> String {
    if status == 0 {
        "no credentials could be sent".to_owned()
    } else {
        format!("the directory rejected the credentials: HTTP {status}")
    }
}

/// `error`, met sending a request to `url`, as a connection test's verdict: a TLS failure
/// (`Tls`, naming the certificate problem) or any other failure to reach it (`Unreachable`).
pub(crate) fn unreachable(url: &str, error: &reqwest::Error) -> ProbeError {
    match tls::failure(error) {
        Some(cause) => ProbeError::Tls {
            url: url.to_owned(),
            cause,
        },
        None => ProbeError::Unreachable {
            url: url.to_owned(),
            cause: describe(error),
        },
    }
}

fn detail_suffix(detail: &Option<String>) -> String {
    detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
}

/// The HTTP client all providers share: rustls, timeouts, no redirects to other hosts' tokens.
pub fn http_client() -> Result<reqwest::Client, HttpClientError> {
    built(client_builder())
}

/// How every client to a directory is made (`tls.rs` adds a Tenant's CA bundle to it).
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .user_agent(concat!("xtsync/", env!("CARGO_PKG_VERSION")))
}

/// The HTTP client could not be built (no TLS backend, say). There is no fallback: a client
/// without timeouts would let one hung directory stall every reconcile.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client for directories: {0}")]
pub struct HttpClientError(String);

fn built(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, HttpClientError> {
    builder.build().map_err(|e| HttpClientError(describe(&e)))
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_that_cannot_be_built_is_an_error_not_a_client_without_timeouts() {
        // rustls offers no TLS version between 1.3 and 1.2: the builder cannot succeed.
        let impossible = reqwest::Client::builder()
            .min_tls_version(reqwest::tls::Version::TLS_1_3)
            .max_tls_version(reqwest::tls::Version::TLS_1_2);
        let error = super::built(impossible).expect_err("no client");
        assert!(error.to_string().starts_with("cannot build the HTTP client"), "{error}");
        assert!(super::http_client().is_ok());
    }
}
