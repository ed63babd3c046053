//! A Microsoft Entra tenant written as a target: invitations and one PATCH per created user,
//! PATCH for updates, DELETE / restore from deleted items for soft deletion, security groups,
//! batched where batching saves round trips (Microsoft Learn, "Create invitation", "Update
//! user", "Restore deleted item", "JSON batching").

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use super::client::BatchRequest;
use super::directory::MsGraphDirectory;
use super::resource::{self, EXPAND_MANAGER, SELECT, odata_literal};
use super::{invited, lookup};
use crate::engine::groups::{GroupChange, TargetGroup};
use crate::engine::plan::{Changes, TargetRef};
use crate::engine::user::{Attributes, User};
use crate::engine::vocabulary::DeprovisionAction;
use crate::providers::{DirectoryError, TargetDirectory};

/// Where an invited user would land after redeeming; no one is sent there (no invitation
/// email is sent) but the API requires it.
const REDIRECT_URL: &str = "https://myapps.microsoft.com";

impl MsGraphDirectory {
    /// Reads each invited user (one batch per 20) and refuses, in `results`, those this
    /// configuration may not write (`invited::may_write`).
    async fn check_invited(&self, users: &[Attributes], results: &mut [Result<String, DirectoryError>]) {
        let invited: Vec<usize> = (0..users.len()).filter(|&i| results[i].is_ok()).collect();
        let reads = invited
            .iter()
            .filter_map(|&i| results[i].as_ref().ok())
            .map(|id| BatchRequest::new(Method::GET, &["users", id], &[("$select", SELECT)], None))
            .collect();
        for (&i, read) in invited.iter().zip(self.run(reads).await) {
            let verdict = read.and_then(|value| {
                let user = resource::to_user(&value, self.anchor)
                    .ok_or_else(|| DirectoryError::InvalidResponse("an invited user without id".into()))?;
                invited::may_write(&user, &users[i])
            });
            if let Err(e) = verdict {
                results[i] = Err(e);
            }
        }
    }

    /// Soft-deleted users that carry an anchor: the ones a restore may bring back.
    async fn deleted_users(&self, filter: Option<&str>) -> Result<Vec<User>, DirectoryError> {
        let mut query = vec![("$select", SELECT), ("$top", "999")];
        if let Some(filter) = filter {
            query.extend([("$filter", filter), ("$count", "true")]);
        }
        let url = self.url(&["directory", "deletedItems", "microsoft.graph.user"], &query)?;
        let (values, _) = self.client.list_all_of(&url, filter.is_some()).await?;
        Ok(self
            .users(values, true)?
            .into_iter()
            .filter(|u| u.get("externalId").is_some())
            .collect())
    }

    /// The PATCH that sets `changes` (without the manager), if there is anything to send.
    async fn patch_request(&self, id: &str, changes: &Changes) -> Result<Option<BatchRequest>, DirectoryError> {
        let domain = if changes.get("userName").is_some_and(Option::is_some) {
            Some(self.initial_domain().await?)
        } else {
            None
        };
        let body = resource::to_patch(changes, self.anchor, domain);
        if body.as_object().is_none_or(|b| b.is_empty()) {
            return Ok(None);
        }
        BatchRequest::new(Method::PATCH, &["users", id], &[], Some(body)).map(Some)
    }

    /// `PUT /users/{id}/manager/$ref`, or `DELETE` to clear it.
    async fn set_manager(&self, id: &str, manager: Option<&str>) -> Result<(), DirectoryError> {
        let url = self.url(&["users", id, "manager", "$ref"], &[])?;
        match manager {
            Some(manager) => {
                let reference = json!({ "@odata.id": self.client.endpoints.v1_url(&["users", manager])?.as_str() });
                self.client.send(Method::PUT, &url, Some(&reference), false).await?;
            }
            None => match self.client.send(Method::DELETE, &url, None, false).await {
                Ok(_) | Err(DirectoryError::NotFound) => {}
                Err(e) => return Err(e),
            },
        }
        Ok(())
    }
}

#[async_trait]
impl TargetDirectory for MsGraphDirectory {
    async fn list_groups(&self) -> Result<Vec<TargetGroup>, DirectoryError> {
        self.groups().await
    }

    async fn apply_group_changes(&self, changes: &[GroupChange]) -> Vec<Result<Option<String>, DirectoryError>> {
        self.group_changes(changes).await
    }

    fn holds_group_description(&self) -> bool {
        true
    }

    async fn list_users(&self) -> Result<Vec<User>, DirectoryError> {
        let url = self.url(
            &["users"],
            &[("$select", SELECT), ("$expand", EXPAND_MANAGER), ("$top", "999")],
        )?;
        let (values, _) = self.client.list_all_of(&url, false).await?;
        let mut users = self.users(values, false)?;
        // Deleted users last, so that a live user of the same name is the one matched.
        users.extend(self.deleted_users(None).await?);
        Ok(users)
    }

    async fn find_users(&self, attribute: &str, value: &str) -> Result<Vec<User>, DirectoryError> {
        if attribute == "externalId" {
            // The anchor: an advanced query (ConsistencyLevel: eventual, $count), also among
            // deleted users so that a returning user is restored, not invited again.
            let filter = format!("{} eq {}", self.anchor.filter_path(), odata_literal(value));
            let url = self.url(
                &["users"],
                &[("$select", SELECT), ("$filter", &filter), ("$count", "true")],
            )?;
            let (values, _) = self.client.list_all_of(&url, true).await?;
            let mut users = self.users(values, false)?;
            users.extend(self.deleted_users(Some(&filter)).await?);
            return Ok(users);
        }
        let invited = match attribute {
            "userName" => Some(resource::external_upn(value, self.initial_domain().await?)),
            _ => None,
        };
        let filter = lookup::address_filter(attribute, value, invited.as_deref()).ok_or_else(|| {
            DirectoryError::InvalidResponse(format!("cannot look users up by '{attribute}' in Microsoft Graph"))
        })?;
        let url = self.url(&["users"], &[("$select", SELECT), ("$filter", &filter)])?;
        let (values, _) = self.client.list_all_of(&url, false).await?;
        self.users(values, false)
    }

    async fn create_users(&self, users: &[Attributes]) -> Vec<Result<String, DirectoryError>> {
        // Step 1: one invitation each (an external user of the configured type, no email).
        let invitations = users
            .iter()
            .map(|a| {
                BatchRequest::new(
                    Method::POST,
                    &["invitations"],
                    &[],
                    resource::invitation(a, REDIRECT_URL),
                )
            })
            .collect();
        let invited = self.run(invitations).await;
        let mut results: Vec<Result<String, DirectoryError>> = invited
            .into_iter()
            .map(|r| {
                r.and_then(|answer| {
                    answer
                        .pointer("/invitedUser/id")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| DirectoryError::InvalidResponse("an invitation without invitedUser.id".into()))
                })
            })
            .collect();
        // Step 2: an invitation of an address the tenant knows answers with the existing user;
        // only a new invitee, or this source user's own, is changed (rule 5).
        self.check_invited(users, &mut results).await;
        // Step 3: the anchor and the attributes an invitation cannot set, as an update of the
        // new user. If it fails, the user exists without its anchor: the next cycle adopts it
        // (an invitation of an existing address returns the same user).
        let invited: Vec<usize> = (0..users.len()).filter(|&i| results[i].is_ok()).collect();
        let updates: Vec<(TargetRef, Changes)> = invited
            .iter()
            .filter_map(|&i| {
                let id = results[i].as_ref().ok()?;
                let target = TargetRef {
                    id: id.clone(),
                    label: id.clone(),
                    version: None,
                    deleted: false,
                };
                Some((target, resource::after_invitation(&users[i])))
            })
            .collect();
        let outcomes = self.update_users(&updates).await;
        keep_failures(&mut results, &invited, outcomes);
        results
    }

    async fn update_user(&self, target: &TargetRef, changes: &Changes) -> Result<(), DirectoryError> {
        let one = [(target.clone(), changes.clone())];
        first_result(self.update_users(&one).await)
    }

    async fn deprovision_user(&self, target: &TargetRef, action: DeprovisionAction) -> Result<(), DirectoryError> {
        first_result(self.deprovision_users(std::slice::from_ref(target), action).await)
    }

    /// Restores from deleted items first (one batch), then one PATCH per user (batched), then
    /// manager references (one request each; rare).
    async fn update_users(&self, updates: &[(TargetRef, Changes)]) -> Vec<Result<(), DirectoryError>> {
        let mut results: Vec<Result<(), DirectoryError>> = updates.iter().map(|_| Ok(())).collect();
        let restores: Vec<usize> = (0..updates.len()).filter(|&i| updates[i].0.deleted).collect();
        let requests = restores
            .iter()
            .map(|&i| {
                let restore = ["directory", "deletedItems", &updates[i].0.id, "restore"];
                BatchRequest::new(Method::POST, &restore, &[], Some(json!({})))
            })
            .collect();
        keep_failures(&mut results, &restores, self.run(requests).await);
        let mut patched = Vec::new();
        let mut patches = Vec::new();
        for (i, (target, changes)) in updates.iter().enumerate() {
            if results[i].is_err() {
                continue;
            }
            match self.patch_request(&target.id, changes).await {
                Ok(Some(request)) => {
                    patched.push(i);
                    patches.push(Ok(request));
                }
                Ok(None) => {}
                Err(e) => results[i] = Err(e),
            }
        }
        keep_failures(&mut results, &patched, self.run(patches).await);
        for (i, (target, changes)) in updates.iter().enumerate() {
            if let (Ok(()), Some(manager)) = (&results[i], changes.get("manager"))
                && let Err(e) = self.set_manager(&target.id, manager.as_deref()).await
            {
                results[i] = Err(e);
            }
        }
        results
    }

    /// `DELETE /users/{id}` (to deleted items) or `PATCH accountEnabled: false`, batched.
    async fn deprovision_users(
        &self,
        targets: &[TargetRef],
        action: DeprovisionAction,
    ) -> Vec<Result<(), DirectoryError>> {
        let mut disable = Changes::new();
        disable.insert("active", Some("false".into()));
        // Users already in deleted items have nothing left to disable or delete.
        let pending: Vec<usize> = (0..targets.len())
            .filter(|&i| action != DeprovisionAction::None && !targets[i].deleted)
            .collect();
        let requests = pending
            .iter()
            .map(|&i| {
                let user = ["users", targets[i].id.as_str()];
                match action {
                    DeprovisionAction::Disable => BatchRequest::new(
                        Method::PATCH,
                        &user,
                        &[],
                        Some(resource::to_patch(&disable, self.anchor, None)),
                    ),
                    _ => BatchRequest::new(Method::DELETE, &user, &[], None),
                }
            })
            .collect();
        let mut results: Vec<Result<(), DirectoryError>> = targets.iter().map(|_| Ok(())).collect();
        for (i, result) in pending.into_iter().zip(self.run(requests).await) {
            results[i] = match result {
                // Gone already: what a deletion wants.
                Ok(_) | Err(DirectoryError::NotFound) => Ok(()),
                Err(e) => Err(e),
            };
        }
        results
    }
}

/// Records the failures among `outcomes`, the answers to the requests of users `indexes`.
fn keep_failures<R, T>(
    results: &mut [Result<R, DirectoryError>],
    indexes: &[usize],
    outcomes: Vec<Result<T, DirectoryError>>,
) {
    for (&i, outcome) in indexes.iter().zip(outcomes) {
        if let Err(e) = outcome {
            results[i] = Err(e);
        }
    }
}

fn first_result(mut results: Vec<Result<(), DirectoryError>>) -> Result<(), DirectoryError> {
    results
        .pop()
        .unwrap_or_else(|| Err(DirectoryError::InvalidResponse("no result".into())))
}
