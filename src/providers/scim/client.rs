//! A SCIM 2.0 service provider as a `Directory` (RFC 7644): paged reads, PATCH with `If-Match`
//! when announced (PUT otherwise), Bulk creation when announced, throttling paced and 5xx
//! retried, honouring `Retry-After`.

use std::collections::HashSet;

use async_trait::async_trait;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, IF_MATCH, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::filter::literal;
use super::watermark::{Read, Stamps, Watermark};
use super::{members, resource};
use crate::api::tenant::{Capabilities, ScimSoftDelete};
use crate::engine::attributes::WORK_EMAIL;
use crate::engine::groups::{GroupChange, TargetGroup};
use crate::engine::plan::{Changes, TargetRef};
use crate::engine::user::{Attributes, User};
use crate::engine::vocabulary::DeprovisionAction;
use crate::providers::directory::{GroupRead, PageSink, SourceRead, confirm_by_reads};
use crate::providers::retry::{self, Attempt, Pacer, retry_after};
use crate::providers::{Directory, DirectoryError, describe};

const SCIM_JSON: &str = "application/scim+json";
const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// Operations per Bulk request; well under scim2-server's 1 MiB payload limit.
const BULK_CHUNK: usize = 200;
/// Attempts for a failing request before giving up on it (throttling is paced instead).
const ATTEMPTS: u32 = 5;
/// Requests in flight at once towards one directory, unless its Tenant says otherwise.
const CONCURRENCY: usize = crate::providers::budget::DEFAULT_CONCURRENCY;

pub struct ScimClient {
    http: reqwest::Client,
    /// The Tenant's `spec.directory.scim.url`; request URLs are built below it (`url_path`).
    base: reqwest::Url,
    auth: HeaderValue,
    capabilities: Capabilities,
    soft_delete: ScimSoftDelete,
    /// One pace for every request of this client: a client lives for one cycle.
    pacer: Pacer,
}

impl ScimClient {
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        token: &str,
        capabilities: Capabilities,
        soft_delete: ScimSoftDelete,
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
            soft_delete,
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
    ) -> Result<Answer, DirectoryError> {
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
    ) -> Attempt<Result<Answer, DirectoryError>> {
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

    async fn create_one(&self, attributes: &Attributes) -> Result<String, DirectoryError> {
        let (_, body) = self
            .send(
                Method::POST,
                self.url(&["Users"])?.as_str(),
                Some(&resource::to_resource(attributes)),
                None,
            )
            .await?;
        body.get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| DirectoryError::InvalidResponse("created user has no id".into()))
    }

    /// One Bulk request (RFC 7644 §3.7) of creations; results in input order.
    async fn create_bulk(&self, users: &[Attributes]) -> Vec<Result<String, DirectoryError>> {
        let operations: Vec<Value> = users
            .iter()
            .enumerate()
            .map(|(i, a)| json!({ "method": "POST", "path": "/Users", "bulkId": i.to_string(), "data": resource::to_resource(a) }))
            .collect();
        let request = json!({ "schemas": [BULK_REQUEST], "Operations": operations });
        let sent = match self.url(&["Bulk"]) {
            Ok(url) => self.send(Method::POST, url.as_str(), Some(&request), None).await,
            Err(e) => Err(e),
        };
        let body = match sent {
            Ok((_, body)) => body,
            // The request failed as a whole: each operation shares its error, so that a
            // server error leaves every creation open (to be looked up), and a refusal none.
            Err(e) => return users.iter().map(|_| Err(e.clone())).collect(),
        };
        let mut results: Vec<Result<String, DirectoryError>> = users
            .iter()
            .map(|_| {
                Err(DirectoryError::InvalidResponse(
                    "no answer for this operation in the bulk response".into(),
                ))
            })
            .collect();
        for op in body.get("Operations").and_then(Value::as_array).into_iter().flatten() {
            let Some(i) = op
                .get("bulkId")
                .and_then(Value::as_str)
                .and_then(|b| b.parse::<usize>().ok())
                .filter(|i| *i < users.len())
            else {
                continue;
            };
            let status: u16 = op
                .get("status")
                .and_then(|s| {
                    s.as_str()
                        .and_then(|s| s.parse().ok())
                        .or_else(|| s.as_u64().and_then(|n| n.try_into().ok()))
                })
                .unwrap_or(0);
            results[i] = if (200..300).contains(&status) {
                op.get("location")
                    .and_then(Value::as_str)
                    .and_then(|l| l.rsplit('/').next())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        DirectoryError::InvalidResponse("bulk operation succeeded without a location".into())
                    })
            } else {
                Err(rejected(status, op.get("response").unwrap_or(&Value::Null)))
            };
        }
        results
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

#[async_trait]
impl Directory for ScimClient {
    fn concurrency(&self) -> usize {
        self.pacer.limit()
    }

    /// Every user, with every write of xtsync's to this directory held back meanwhile: the
    /// target of many configurations could otherwise never be listed whole.
    async fn list_users(&self) -> Result<Vec<User>, DirectoryError> {
        let _still = self.pacer.still().await;
        self.list(None).await
    }

    async fn read_source(&self, since: Option<&str>) -> Result<SourceRead, DirectoryError> {
        let previous = since.map(Watermark::parse);
        let started = std::time::Instant::now();
        let (users, answered) = self
            .list_dated(previous.as_ref().map(Watermark::filter).as_deref())
            .await?;
        let read = Read {
            began: answered,
            took: started.elapsed(),
        };
        let watermark = Watermark::after(&users, previous.as_ref(), read).map(|w| w.encode());
        let users = users
            .into_iter()
            .filter(|u| !previous.as_ref().is_some_and(|p| p.already_seen(u)))
            .collect();
        Ok(SourceRead {
            users,
            watermark,
            ..SourceRead::default()
        })
    }

    async fn read_source_pages(&self, pages: &PageSink) -> Result<Option<String>, DirectoryError> {
        let started = std::time::Instant::now();
        let mut stamps = Stamps::default();
        let answered = self
            .each_page(None, |users| {
                stamps.add(&users);
                pages.send(users)
            })
            .await?;
        let read = Read {
            began: answered,
            took: started.elapsed(),
        };
        Ok(stamps.watermark(None, read).map(|w| w.encode()))
    }

    async fn find_users(&self, attribute: &str, value: &str) -> Result<Vec<User>, DirectoryError> {
        let path = if attribute == crate::engine::attributes::WORK_EMAIL {
            "emails.value"
        } else {
            attribute
        };
        self.list(Some(&format!("{path} eq {}", literal(value)))).await
    }

    async fn confirm_gone(&self, ids: &[String]) -> Result<HashSet<String>, DirectoryError> {
        confirm_by_reads(ids, self.pacer.limit(), |id| {
            async move {
                // An id that cannot be one segment of a path is not sent; nor is it taken for
                // gone: its user is skipped, never deprovisioned, on such evidence.
                if crate::providers::url_path::one_segment(id).is_err() {
                    return Ok(true);
                }
                match self.get_resource(id).await {
                    Ok(_) => Ok(true),
                    Err(DirectoryError::NotFound) => Ok(false),
                    Err(e) => Err(e),
                }
            }
            .boxed()
        })
        .await
    }

    async fn read_users(&self, ids: &[String]) -> Result<Vec<User>, DirectoryError> {
        self.users_by_id(ids).await
    }

    /// The groups are read at once, up to the directory's limit: an assignment of a hundred
    /// groups is a hundred reads.
    async fn group_members(&self, groups: &[String]) -> Result<HashSet<String>, DirectoryError> {
        let entries = self.assigned_entries(groups).await?;
        Ok(entries
            .iter()
            .filter_map(members::member_id)
            .map(str::to_owned)
            .collect())
    }

    async fn transitive_group_members(&self, groups: &[String]) -> Result<HashSet<String>, DirectoryError> {
        let entries = self.assigned_entries(groups).await?;
        self.flattened(entries).await
    }

    async fn list_groups(&self) -> Result<Vec<TargetGroup>, DirectoryError> {
        self.groups().await
    }

    async fn read_groups(&self, since: Option<&str>) -> Result<GroupRead, DirectoryError> {
        // A directory that cannot filter on meta.lastModified is read in full.
        self.groups_since(since.filter(|_| self.capabilities.change_tracking))
            .await
    }

    async fn apply_group_change(&self, change: &GroupChange) -> Result<Option<String>, DirectoryError> {
        self.group_change(change).await
    }

    async fn create_users(&self, users: &[Attributes]) -> Vec<Result<String, DirectoryError>> {
        if self.capabilities.bulk && users.len() > 1 {
            let chunk = self
                .capabilities
                .bulk_max_operations
                .map_or(BULK_CHUNK, |m| (m as usize).clamp(1, BULK_CHUNK));
            // Futures are boxed before they enter the stream: async-trait's Send bound and a
            // closure inside `stream::map` otherwise trip over higher-ranked lifetimes.
            let requests: Vec<BoxFuture<'_, Vec<Result<String, DirectoryError>>>> =
                users.chunks(chunk).map(|c| self.create_bulk(c).boxed()).collect();
            let results: Vec<Vec<_>> = futures::stream::iter(requests).buffered(2).collect().await;
            return results.into_iter().flatten().collect();
        }
        let requests: Vec<BoxFuture<'_, Result<String, DirectoryError>>> =
            users.iter().map(|u| self.create_one(u).boxed()).collect();
        crate::providers::in_input_order(requests, self.pacer.limit()).await
    }

    async fn update_user(&self, target: &TargetRef, changes: &Changes) -> Result<(), DirectoryError> {
        if changes.is_empty() {
            return Ok(());
        }
        // Refused before anything is read or written when the id cannot be one segment.
        let url = self.url(&["Users", &target.id])?;
        if self.capabilities.patch {
            // A new work email replaces `emails`: the other emails are read first and kept.
            let current = if changes.contains_key(WORK_EMAIL) {
                Some(self.get_resource(&target.id).await?)
            } else {
                None
            };
            let patch = resource::to_patch(changes, current.as_ref());
            self.send(Method::PATCH, url.as_str(), Some(&patch), target.version.as_deref())
                .await?;
        } else {
            let mut full = self.get_resource(&target.id).await?;
            resource::apply_to_resource(&mut full, changes);
            self.send(Method::PUT, url.as_str(), Some(&full), target.version.as_deref())
                .await?;
        }
        Ok(())
    }

    async fn deprovision_user(&self, target: &TargetRef, action: DeprovisionAction) -> Result<(), DirectoryError> {
        match (action, self.soft_delete) {
            (DeprovisionAction::None, _) => Ok(()),
            (DeprovisionAction::SoftDelete, ScimSoftDelete::Delete) => {
                let url = self.url(&["Users", &target.id])?;
                match self
                    .send(Method::DELETE, url.as_str(), None, target.version.as_deref())
                    .await
                {
                    Ok(_) | Err(DirectoryError::NotFound) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            // Disable, and the default soft delete: PATCH active=false, restorable.
            _ => {
                let mut changes = Changes::new();
                changes.insert("active", Some("false".into()));
                self.update_user(target, &changes).await
            }
        }
    }
}

/// An answer: status, body as read, and the directory's clock when it answered.
pub(super) type Answer = (StatusCode, Vec<u8>, Option<jiff::Timestamp>);

/// An HTTP `Date` (RFC 9110 §5.6.7).
pub(super) fn server_date(header: Option<&HeaderValue>) -> Option<jiff::Timestamp> {
    crate::providers::http_date::parse(header?.to_str().ok()?)
}

/// RFC 7644 §3.12 error body → typed error.
fn rejected(status: u16, body: &Value) -> DirectoryError {
    DirectoryError::Rejected {
        status,
        code: body.get("scimType").and_then(Value::as_str).map(str::to_owned),
        detail: body.get("detail").and_then(Value::as_str).map(str::to_owned),
    }
}

pub const fn concurrency() -> usize {
    CONCURRENCY
}
