//! A SCIM directory written as a target (RFC 7644 §3.3, §3.5, §3.7): its users listed and
//! looked up by filter, created (in Bulk when announced), updated with PATCH and `If-Match`
//! (PUT otherwise), deactivated or deleted; its groups listed and changed.

use async_trait::async_trait;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{ScimClient, rejected};
use super::filter::literal;
use super::resource;
use crate::engine::attributes::WORK_EMAIL;
use crate::engine::groups::{GroupChange, TargetGroup};
use crate::engine::plan::{Changes, TargetRef};
use crate::engine::user::{Attributes, User};
use crate::engine::vocabulary::DeprovisionAction;
use crate::providers::directory::one_group_change_at_a_time;
use crate::providers::settings::ScimDeletion;
use crate::providers::{DirectoryError, TargetDirectory};

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// Operations per Bulk request; well under scim2-server's 1 MiB payload limit.
const BULK_CHUNK: usize = 200;

#[async_trait]
impl TargetDirectory for ScimClient {
    /// Every user, with every write of xtsync's to this directory held back meanwhile: the
    /// target of many configurations could otherwise never be listed whole.
    async fn list_users(&self) -> Result<Vec<User>, DirectoryError> {
        let _still = self.pacer.still().await;
        self.list(None).await
    }

    async fn find_users(&self, attribute: &str, value: &str) -> Result<Vec<User>, DirectoryError> {
        let path = if attribute == crate::engine::attributes::WORK_EMAIL {
            "emails.value"
        } else {
            attribute
        };
        self.list(Some(&format!("{path} eq {}", literal(value)))).await
    }

    /// `externalId sw "<tenant id>/" or externalId sw "<TENANT ID>/"` (RFC 7644 §3.4.2.2):
    /// `externalId` is case-exact (RFC 7643 §3.1); xtsync writes the tenant id in lower case,
    /// and the upper-case form finds the anchors another writer made. Paged and checked like any
    /// listing, with xtsync's writes to this directory held back as for `list_users`.
    async fn users_anchored_by(&self, tenant_id: &str) -> Result<Option<Vec<User>>, DirectoryError> {
        if !self.capabilities.filter {
            return Ok(None);
        }
        let [lower, upper] = [tenant_id.to_ascii_lowercase(), tenant_id.to_ascii_uppercase()];
        let filter = format!(
            "externalId sw {} or externalId sw {}",
            literal(&format!("{lower}/")),
            literal(&format!("{upper}/"))
        );
        let _still = self.pacer.still().await;
        Ok(Some(self.list(Some(&filter)).await?))
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
        match (action, self.deletion) {
            (DeprovisionAction::None, _) => Ok(()),
            (DeprovisionAction::SoftDelete, ScimDeletion::Delete) => {
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

    async fn list_groups(&self) -> Result<Vec<TargetGroup>, DirectoryError> {
        self.groups().await
    }

    async fn apply_group_changes(&self, changes: &[GroupChange]) -> Vec<Result<Option<String>, DirectoryError>> {
        one_group_change_at_a_time(changes, self.pacer.limit(), |change| self.group_change(change).boxed()).await
    }
}

impl ScimClient {
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
