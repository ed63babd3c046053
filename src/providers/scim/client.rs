//! HTTP to a SCIM 2.0 service provider (RFC 7644): one client per Tenant, its requests
//! authenticated, conditional on the version when ETags are announced, throttling paced and 5xx
//! retried, honouring `Retry-After`. What it reads as a source is in `source.rs`, what it
//! writes as a target in `target.rs`.

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, IF_MATCH, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::providers::retry::{self, Attempt, Pacer, retry_after};
use crate::providers::settings::{DirectoryFeatures, ScimDeletion};
use crate::providers::{DirectoryError, InFlightLimit, describe};

const SCIM_JSON: &str = "application/scim+json";
/// Attempts for a failing request before giving up on it (throttling is paced instead).
const ATTEMPTS: u32 = 5;
/// Requests in flight at once towards one directory, unless its Tenant says otherwise.
const CONCURRENCY: usize = crate::providers::budget::DEFAULT_CONCURRENCY;

pub struct ScimClient {
    http: reqwest::Client,
    /// The Tenant's `spec.directory.scim.url`; request URLs are built below it (`url_path`).
    base: reqwest::Url,
    auth: HeaderValue,
    pub(super) capabilities: DirectoryFeatures,
    pub(super) deletion: ScimDeletion,
    /// One pace for every request of this client: a client lives for one cycle.
    pub(super) pacer: Pacer,
}

impl ScimClient {
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        token: &str,
        capabilities: DirectoryFeatures,
        deletion: ScimDeletion,
    ) -> Result<Self, DirectoryError> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| DirectoryError::AuthenticationFailed { status: 0 })?;
        auth.set_sensitive(true);
        let base = reqwest::Url::parse(base_url.trim_end_matches('/'))
            .map_err(|e| DirectoryError::InvalidResponse(format!("the base URL {base_url:?} is not a URL: {e}")))?;
        Ok(ScimClient {
            http,
            base,
            auth,
            capabilities,
            deletion,
            pacer: Pacer::default(),
        })
    }

    /// Shares `budget` (requests in flight, throttle hold) with every other client of this
    /// directory.
    pub fn with_budget(mut self, budget: std::sync::Arc<crate::providers::budget::DirectoryBudget>) -> Self {
        self.pacer = Pacer::sharing(budget, retry::THROTTLE_BUDGET);
        self
    }

    /// `{base}/{segments…}`, each segment one segment of the path however it is spelled: an id
    /// a directory answered names that resource and no other (`url_path`).
    pub(super) fn url(&self, segments: &[&str]) -> Result<reqwest::Url, DirectoryError> {
        crate::providers::url_path::below(&self.base, segments)
    }

    /// Sends a request, pacing throttling (429, 503) and retrying other 5xx (and connection
    /// failures of reads) with backoff; `Retry-After` is honoured (`retry::retry_after`). Returns status and body of the final answer.
    pub(super) async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        version: Option<&str>,
    ) -> Result<(StatusCode, Value), DirectoryError> {
        let (status, body, _) = self.send_dated(method, url, body, version).await?;
        Ok((status, crate::providers::json::value(&body)?))
    }

    /// `send`, the body as read, with the directory's clock when it answered (its `Date`
    /// header, if it sent one).
    pub(super) async fn send_dated(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        version: Option<&str>,
    ) -> Result<ScimReply, DirectoryError> {
        let method = &method;
        let attempt = move |attempt| self.attempt(method, url, body, version, attempt);
        if *method == Method::GET {
            retry::with_retries(ATTEMPTS, &self.pacer, attempt).await
        } else {
            retry::writing_with_retries(ATTEMPTS, &self.pacer, attempt).await
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
        version: Option<&str>,
        attempt: u32,
    ) -> Attempt<Result<ScimReply, DirectoryError>> {
        let mut request = self
            .http
            .request(method.clone(), url)
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, SCIM_JSON);
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, SCIM_JSON).body(body.to_string());
        }
        if let Some(version) = version.filter(|_| self.capabilities.etag) {
            request = request.header(IF_MATCH, version);
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let error = Err(DirectoryError::Unreachable(describe(&e)));
                // A write may have reached the server: only reads are retried blind.
                if *method != Method::GET {
                    return Attempt::Done(error);
                }
                tracing::debug!(url, error = %describe(&e), "retrying read");
                return Attempt::Retry {
                    after: None,
                    give_up: error,
                };
            }
        };
        let status = response.status();
        if retryable(method, status) {
            let after = retry_after(response.headers().get(RETRY_AFTER));
            tracing::debug!(url, status = status.as_u16(), ?after, "directory asked to retry");
            // Throttling (429, 503) is flow control, paced; another 5xx is a failure.
            return match status {
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Attempt::Throttled {
                    after,
                    give_up: Err(DirectoryError::Throttled {
                        status: status.as_u16(),
                        attempts: attempt,
                    }),
                },
                s => Attempt::Retry {
                    after,
                    give_up: Err(rejected(s.as_u16(), &Value::Null)),
                },
            };
        }
        let date = server_date(response.headers().get(reqwest::header::DATE));
        if status.is_success() {
            let body = crate::providers::body::read(response, crate::providers::body::ANSWER_CAP).await;
            return Attempt::Done(body.map(|b| (status, b, date)).map_err(DirectoryError::from));
        }
        // An error keeps its status even when its body is not JSON (a proxy's HTML page).
        let body = crate::providers::body::error_json(response).await;
        Attempt::Done(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(DirectoryError::AuthenticationFailed {
                status: status.as_u16(),
            }),
            StatusCode::NOT_FOUND => Err(DirectoryError::NotFound),
            StatusCode::PRECONDITION_FAILED => Err(DirectoryError::PreconditionFailed),
            s => Err(rejected(s.as_u16(), &body)),
        })
    }

    pub(super) async fn get_resource(&self, id: &str) -> Result<Value, DirectoryError> {
        Ok(self
            .send(Method::GET, self.url(&["Users", id])?.as_str(), None, None)
            .await?
            .1)
    }
}

/// Worth sending again: throttling (429) and unavailability (503) say the request was not
/// processed; other 5xx may come after the server acted, so a creation (POST: a user, a Bulk
/// request) is not sent again after them — it could create the user twice (docs/architecture.md,
/// "Destructive actions and their evidence").
fn retryable(method: &Method, status: StatusCode) -> bool {
    match status {
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => true,
        s if s.is_server_error() => *method != Method::POST,
        _ => false,
    }
}

impl InFlightLimit for ScimClient {
    fn concurrency(&self) -> usize {
        self.pacer.limit()
    }
}

/// An answer: status, body as read, and the directory's clock when it answered.
pub(super) type ScimReply = (StatusCode, Vec<u8>, Option<jiff::Timestamp>);

/// An HTTP `Date` (RFC 9110 §5.6.7).
pub(super) fn server_date(header: Option<&HeaderValue>) -> Option<jiff::Timestamp> {
    crate::providers::http_date::parse(header?.to_str().ok()?)
}

/// RFC 7644 §3.12 error body → typed error.
pub(super) fn rejected(status: u16, body: &Value) -> DirectoryError {
    DirectoryError::Rejected {
        status,
        code: body.get("scimType").and_then(Value::as_str).map(str::to_owned),
        detail: body.get("detail").and_then(Value::as_str).map(str::to_owned),
    }
}

pub const fn concurrency() -> usize {
    CONCURRENCY
}
