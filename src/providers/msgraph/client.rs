//! Authenticated requests to Microsoft Graph: bearer tokens from the cache, throttling (429,
//! 503, 504) retried honouring `Retry-After`, Graph error bodies turned into typed errors,
//! paging (`collection`), and JSON batching (`POST /$batch`, 20 requests at most).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use serde_json::{Value, json};

use super::auth::{Credentials, TokenCache};
use super::endpoints::Endpoints;
use crate::providers::retry::{self, Attempt, Pacer, retry_after};
use crate::providers::{DirectoryError, ProbeError, describe};

/// Attempts for a failing request before giving up on it (throttling is paced instead).
const ATTEMPTS: u32 = 6;
/// Graph's limit of requests in one JSON batch.
pub const BATCH_LIMIT: usize = 20;

pub struct GraphClient {
    http: reqwest::Client,
    pub endpoints: Endpoints,
    credentials: Credentials,
    /// The app registration whose directory extensions hold anchors (its client id).
    app_id: String,
    tokens: Arc<TokenCache>,
    /// One pace for every request of this client: a client lives for one cycle.
    pacer: Pacer,
}

/// One request of a JSON batch; `url` is relative to the version (`/users/{id}`).
#[derive(Clone, Debug)]
pub struct BatchRequest {
    pub method: Method,
    pub url: String,
    pub body: Option<Value>,
}

impl BatchRequest {
    /// The request of `segments` (each one segment of the path, `url_path`) and `query`; an id
    /// that cannot be one segment is refused here, before anything is sent.
    pub fn new(
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<BatchRequest, DirectoryError> {
        Ok(BatchRequest {
            method,
            url: crate::providers::url_path::relative(segments, query)?,
            body,
        })
    }
}

/// One request as `send` was asked for it, for each attempt to rebuild.
#[derive(Clone, Copy)]
struct Request<'a> {
    method: &'a Method,
    url: &'a str,
    body: Option<&'a Value>,
    eventual: bool,
}

/// The indexes of the requests one batch carried, and Graph's answer to it.
type BatchAnswer<'a> = (&'a [usize], Result<Value, DirectoryError>);

/// Throttling and transient failures Graph asks clients to retry (429, 503, 504).
fn is_retryable(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
}

/// Worth sending again after a backoff: Graph's transient answers and, for a request other
/// than a creation, any server error — a PATCH or DELETE sent twice does what it did once
/// (RFC 9110 §9.2.2), while an invitation (POST) is looked up by the cycle before it is sent
/// again.
fn is_worth_again(status: u16, method: &Method) -> bool {
    if *method == Method::POST {
        is_throttling(status)
    } else {
        is_retryable(status) || (500..600).contains(&status)
    }
}

/// Graph's flow control (429, 503): paced and waited out, never a failure (README, "Safety").
fn is_throttling(status: u16) -> bool {
    matches!(status, 429 | 503)
}

impl GraphClient {
    pub fn new(http: reqwest::Client, endpoints: Endpoints, credentials: Credentials, tokens: Arc<TokenCache>) -> Self {
        GraphClient {
            http,
            endpoints,
            app_id: credentials.client_id.clone(),
            credentials,
            tokens,
            pacer: Pacer::default(),
        }
    }

    /// Shares `budget` (requests in flight, throttle hold) with every other client of this
    /// tenant's Graph.
    pub fn with_budget(mut self, budget: Arc<crate::providers::budget::DirectoryBudget>) -> Self {
        self.pacer = Pacer::sharing(budget, retry::THROTTLE_BUDGET);
        self
    }

    /// Requests in flight at once towards this tenant's Graph.
    pub fn limit(&self) -> usize {
        self.pacer.limit()
    }

    /// The app registration's client id (names its directory extensions).
    pub fn client_id(&self) -> &str {
        &self.app_id
    }

    /// Names directory extensions after `app_id`: with workload identity the identity that
    /// authenticates may be a managed identity, not the app registration.
    pub fn with_app_id(mut self, app_id: &str) -> Self {
        self.app_id = app_id.to_owned();
        self
    }

    pub fn tenant_id(&self) -> &str {
        &self.credentials.tenant_id
    }

    /// A token, as the `Authorization` header. Token failures are the directory's answer.
    pub async fn authorization(&self) -> Result<HeaderValue, ProbeError> {
        let token = self
            .tokens
            .token(&self.http, &self.endpoints, &self.credentials)
            .await?;
        let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| ProbeError::InvalidResponse {
            url: self.endpoints.token_url(&self.credentials.tenant_id),
            what: "the token is not a valid header value".into(),
        })?;
        value.set_sensitive(true);
        Ok(value)
    }

    async fn authorization_for_directory(&self) -> Result<HeaderValue, DirectoryError> {
        self.authorization().await.map_err(|e| match e {
            ProbeError::AuthenticationFailed { status, .. } => DirectoryError::AuthenticationFailed { status },
            ProbeError::Unreachable { cause, .. } => DirectoryError::Unreachable(cause),
            ProbeError::Tls { cause, .. } => DirectoryError::Unreachable(format!("TLS: {cause}")),
            other => DirectoryError::InvalidResponse(other.to_string()),
        })
    }

    /// Sends one request. `eventual` adds `ConsistencyLevel: eventual` (advanced queries).
    /// Retries throttling, a refused token once (it may have been revoked), and transport
    /// failures of reads; a write is never re-sent after it may have reached Graph.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        eventual: bool,
    ) -> Result<Value, DirectoryError> {
        let body = self.send_for_body(method, url, body, eventual).await?;
        Ok(crate::providers::json::value(&body)?)
    }

    /// `send`, the body as read (at most `body::ANSWER_CAP` bytes).
    pub(super) async fn send_for_body(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        eventual: bool,
    ) -> Result<Vec<u8>, DirectoryError> {
        self.check_url(url)?;
        let request = Request {
            method: &method,
            url,
            body,
            eventual,
        };
        let token_renewed = &AtomicBool::new(false);
        retry::with_retries(ATTEMPTS, &self.pacer, move |attempt| {
            self.attempt(request, token_renewed, attempt)
        })
        .await
    }

    async fn attempt(
        &self,
        request: Request<'_>,
        token_renewed: &AtomicBool,
        attempt: u32,
    ) -> Attempt<Result<Vec<u8>, DirectoryError>> {
        let authorization = match self.authorization_for_directory().await {
            Ok(authorization) => authorization,
            Err(e) => return Attempt::Done(Err(e)),
        };
        let mut builder = self
            .http
            .request(request.method.clone(), request.url)
            .header(AUTHORIZATION, authorization)
            .header(ACCEPT, "application/json");
        if request.eventual {
            builder = builder.header("ConsistencyLevel", "eventual");
        }
        if let Some(body) = request.body {
            builder = builder.header(CONTENT_TYPE, "application/json").body(body.to_string());
        }
        let url = request.url;
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                let error = Err(DirectoryError::Unreachable(describe(&e)));
                if *request.method != Method::GET {
                    return Attempt::Done(error);
                }
                tracing::debug!(url, error = %describe(&e), "retrying read");
                return Attempt::Retry {
                    after: None,
                    give_up: error,
                };
            }
        };
        let status = response.status().as_u16();
        if is_worth_again(status, request.method) {
            let after = retry_after(response.headers().get(RETRY_AFTER));
            tracing::debug!(url, status, ?after, "Graph asked to retry");
            let give_up = Err(graph_error(status, &Value::Null, attempt));
            return if is_throttling(status) {
                Attempt::Throttled { after, give_up }
            } else {
                Attempt::Retry { after, give_up }
            };
        }
        if status == 401 && !token_renewed.swap(true, Ordering::Relaxed) {
            self.tokens.forget(&self.endpoints, &self.credentials);
            let give_up = Err(DirectoryError::AuthenticationFailed { status });
            return Attempt::Retry {
                after: Some(Duration::ZERO),
                give_up,
            };
        }
        Attempt::Done(if (200..300).contains(&status) {
            crate::providers::body::read(response, crate::providers::body::ANSWER_CAP)
                .await
                .map_err(DirectoryError::from)
        } else {
            // An error keeps its status even when its body is not JSON (a proxy's HTML page).
            let body = crate::providers::body::error_json(response).await;
            Err(graph_error(status, &body, attempt))
        })
    }

    /// Graph links (`@odata.nextLink`, delta links kept in status) must point at this tenant's
    /// Graph endpoint: the token goes with them.
    fn check_url(&self, url: &str) -> Result<(), DirectoryError> {
        if self.is_ours(url) {
            Ok(())
        } else {
            Err(DirectoryError::InvalidResponse(format!(
                "refusing to send the token to {url}: not under {}/",
                self.endpoints.graph
            )))
        }
    }

    /// The URL is under this tenant's Graph endpoint: the same origin (RFC 6454), and a path
    /// below the endpoint's once both are parsed, so that a host's case or a default port
    /// changes nothing and a `..` cannot climb out of it.
    pub fn is_ours(&self, url: &str) -> bool {
        let (Ok(url), Ok(graph)) = (reqwest::Url::parse(url), reqwest::Url::parse(&self.endpoints.graph)) else {
            return false;
        };
        let below = format!("{}/", graph.path().trim_end_matches('/'));
        url.origin() == graph.origin() && url.username().is_empty() && url.path().starts_with(&below)
    }

    /// Runs requests through `POST /$batch`, 20 at a time; one result per request, in order.
    /// Requests Graph throttled inside a batch are sent again in a later batch once the longest
    /// `Retry-After` they carried has passed, paced like single requests (README, "Safety").
    pub async fn batch(&self, requests: &[BatchRequest]) -> Vec<Result<Value, DirectoryError>> {
        let mut results: Vec<Option<Result<Value, DirectoryError>>> = requests.iter().map(|_| None).collect();
        let mut pending: Vec<usize> = (0..requests.len()).collect();
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            let mut round = Round {
                pacer: &self.pacer,
                requests,
                results: &mut results,
                again: Vec::new(),
                wait: None,
                throttled: false,
                attempt,
            };
            for (chunk, answer) in self.send_batches(requests, &pending).await {
                round.settle(chunk, answer);
            }
            let (again, wait) = (round.again, round.wait.unwrap_or_default());
            if !again.is_empty() {
                tracing::debug!(
                    requests = again.len(),
                    ?wait,
                    "Graph asked to send requests of a batch again"
                );
                if round.throttled {
                    // The requests keep their Throttled answer when the budget is spent.
                    if !self.pacer.hold(wait) {
                        break;
                    }
                } else {
                    tokio::time::sleep(wait).await;
                }
            }
            pending = again;
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(DirectoryError::InvalidResponse(
                        "no answer in the batch response".into(),
                    ))
                })
            })
            .collect()
    }

    /// The `pending` requests in batches of 20, sent concurrently like single requests would be.
    async fn send_batches<'a>(&self, requests: &[BatchRequest], pending: &'a [usize]) -> Vec<BatchAnswer<'a>> {
        let batch_url = self.endpoints.v1_url(&["$batch"]);
        let sends: Vec<BoxFuture<'_, BatchAnswer<'a>>> = pending
            .chunks(BATCH_LIMIT)
            .map(|chunk| {
                let body = json!({
                    "requests": chunk.iter().map(|&i| batch_item(i, &requests[i])).collect::<Vec<_>>()
                });
                let batch_url = batch_url.clone();
                async move {
                    let answer = match batch_url {
                        Ok(url) => self.send(Method::POST, url.as_str(), Some(&body), false).await,
                        Err(e) => Err(e),
                    };
                    (chunk, answer)
                }
                .boxed()
            })
            .collect();
        futures::stream::iter(sends)
            .buffer_unordered(self.limit())
            .collect()
            .await
    }
}

/// One round of batches: the results so far, and what to send again after how long.
struct Round<'r> {
    pacer: &'r Pacer,
    requests: &'r [BatchRequest],
    results: &'r mut [Option<Result<Value, DirectoryError>>],
    again: Vec<usize>,
    wait: Option<Duration>,
    /// Some request was throttled (rather than only failing for a moment).
    throttled: bool,
    attempt: u32,
}

impl Round<'_> {
    fn settle(&mut self, chunk: &[usize], answer: Result<Value, DirectoryError>) {
        let answer = match answer {
            Ok(answer) => answer,
            // The batch failed as a whole: each request shares its error, so that a server
            // error leaves every invitation open (to be looked up by anchor), and a refusal none.
            Err(e) => {
                for &i in chunk {
                    self.results[i] = Some(Err(e.clone()));
                }
                return;
            }
        };
        for response in answer.get("responses").and_then(Value::as_array).into_iter().flatten() {
            let Some(i) = response
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| id.parse::<usize>().ok())
                .filter(|i| chunk.contains(i))
            else {
                continue;
            };
            let status = response
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(0);
            let body = response.get("body").cloned().unwrap_or(Value::Null);
            // Throttled requests are paced; other transient failures are sent again a bounded
            // number of times.
            let throttled = is_throttling(status);
            let again = throttled || (is_worth_again(status, &self.requests[i].method) && self.attempt < ATTEMPTS);
            if again {
                let this = retry_after(item_retry_after(response).as_ref())
                    .unwrap_or_else(|| self.pacer.backoff(self.attempt));
                self.wait = Some(self.wait.map_or(this, |w| w.max(this)));
                self.throttled |= throttled;
                self.again.push(i);
            }
            self.results[i] = Some(if (200..300).contains(&status) {
                Ok(body)
            } else {
                Err(graph_error(status, &body, self.attempt))
            });
        }
    }
}

/// The `Retry-After` header of one response in a batch (a string or a number there).
fn item_retry_after(response: &Value) -> Option<HeaderValue> {
    let value = response.pointer("/headers/Retry-After")?;
    let text = value
        .as_str()
        .map(str::to_owned)
        .or_else(|| value.as_u64().map(|n| n.to_string()))?;
    HeaderValue::from_str(&text).ok()
}

fn batch_item(id: usize, request: &BatchRequest) -> Value {
    let mut item = json!({ "id": id.to_string(), "method": request.method.as_str(), "url": request.url });
    if let Some(body) = &request.body {
        item["body"] = body.clone();
        item["headers"] = json!({ "Content-Type": "application/json" });
    }
    item
}

/// A Graph error answer (`{"error": {"code", "message", "innerError": {"request-id"}}}`) as a
/// typed error; the request id is kept because Microsoft support asks for it.
pub fn graph_error(status: u16, body: &Value, attempts: u32) -> DirectoryError {
    match status {
        401 => DirectoryError::AuthenticationFailed { status },
        404 => DirectoryError::NotFound,
        412 => DirectoryError::PreconditionFailed,
        // Throttling and unavailability are flow control; any other 5xx is a failure (and may
        // count towards quarantine), with Graph's error code and message below.
        s if is_retryable(s) => DirectoryError::Throttled { status: s, attempts },
        _ => {
            let error = body.get("error");
            let text = |key: &str| error.and_then(|e| e.get(key)).and_then(Value::as_str);
            let request_id = error
                .and_then(|e| e.get("innerError").or_else(|| e.get("innererror")))
                .and_then(|i| i.get("request-id"))
                .and_then(Value::as_str);
            let detail = match (text("message"), request_id) {
                (Some(m), Some(id)) => Some(format!("{m} (request-id {id})")),
                (Some(m), None) => Some(m.to_owned()),
                (None, Some(id)) => Some(format!("request-id {id}")),
                (None, None) => None,
            };
            DirectoryError::Rejected {
                status,
                code: text("code").map(str::to_owned),
                detail,
            }
        }
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
