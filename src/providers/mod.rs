//! Directory providers behind one trait (`Directory`), plus the connection test the Tenant
//! controller runs.

pub mod budget;
pub mod connect;
pub mod destination;
pub mod directory;
#[cfg(test)]
pub mod hostile;
pub mod memory;
pub mod msgraph;
pub mod retry;
pub mod scim;

pub use connect::{Clients, ConnectError, Setup};
pub use directory::{Directory, DirectoryError};

use std::time::Duration;

/// Every call to a directory is bounded, so that a hung peer never stalls a reconcile.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Why a directory could not be used. Variant names are the `Ready=False` reasons of a Tenant.
#[derive(Debug, thiserror::Error, strum::IntoStaticStr)]
pub enum ProbeError {
    /// The directory refused our credentials (401/403).
    #[error("the directory rejected the credentials: HTTP {status}{}", detail_suffix(.detail))]
    AuthenticationFailed { status: u16, detail: Option<String> },
    /// No answer: DNS, connection refused, TLS or a timeout.
    #[error("cannot reach {url}: {cause}")]
    Unreachable { url: String, cause: String },
    /// The credentials work, but for another tenant than `spec.tenantId`.
    #[error("the directory belongs to tenant {found}, not to spec.tenantId {expected}")]
    TenantIdMismatch { expected: String, found: String },
    /// An answer that is not what the protocol promises.
    #[error("unexpected answer from {url}: {what}")]
    InvalidResponse { url: String, what: String },
}

fn detail_suffix(detail: &Option<String>) -> String {
    detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
}

/// The largest response body read: a page of 1,000 users is about 1 MiB; anything near this
/// is a peer gone wrong, and reading on would exhaust memory.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// A response body as JSON; an empty (204) body is `Null`. A body that is not JSON, or larger
/// than `MAX_BODY`, is an error: a read that cannot be understood is a failed read.
pub(crate) async fn json_body(mut response: reqwest::Response) -> Result<serde_json::Value, DirectoryError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| DirectoryError::Unreachable(describe(&e)))?
    {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(DirectoryError::InvalidResponse(format!(
                "the answer is larger than {} MiB; it was not read further",
                MAX_BODY / (1024 * 1024)
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|e| DirectoryError::InvalidResponse(format!("the answer is not JSON ({e})")))
}

/// Runs `requests` with at most `concurrency` in flight, unordered (one slow request does not
/// hold back the others), and returns the results in input order.
pub(crate) async fn in_input_order<T>(requests: Vec<futures::future::BoxFuture<'_, T>>, concurrency: usize) -> Vec<T> {
    use futures::{FutureExt, StreamExt};
    let indexed: Vec<_> = requests
        .into_iter()
        .enumerate()
        .map(|(i, request)| request.map(move |result| (i, result)))
        .collect();
    let mut results: Vec<(usize, T)> = futures::stream::iter(indexed)
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, result)| result).collect()
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
