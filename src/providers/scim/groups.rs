//! SCIM Group resources (RFC 7643 §4.2) for group provisioning (issue Groups): groups listed
//! with their members, created with the anchor in `externalId`, renamed and given or relieved
//! of members by PATCH (RFC 7644 §3.5.2) — one request per change — and deleted.
//!
//! The core Group schema has no `description`: a SCIM directory holds only `displayName`.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{ScimClient, literal};
use super::reads::Pages;
use super::resource::PATCH_SCHEMA;
use crate::engine::groups::{GroupChange, TargetGroup};
use crate::providers::DirectoryError;

pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// Groups per page: a group's page carries its members, so pages stay small.
const GROUPS_PER_PAGE: usize = 100;

/// A listed or read group; `None` without an id.
pub fn to_group(resource: &Value) -> Option<TargetGroup> {
    let text = |name: &str| resource.get(name).and_then(Value::as_str).map(str::to_owned);
    Some(TargetGroup {
        id: text("id")?,
        display_name: text("displayName").unwrap_or_default(),
        description: text("description"),
        external_id: text("externalId"),
        members: resource
            .get("members")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_owned))
            .collect(),
        deleted: false,
    })
}

fn members_value<'a>(members: impl IntoIterator<Item = &'a String>) -> Value {
    Value::Array(
        members
            .into_iter()
            .map(|id| json!({ "value": id, "type": "User" }))
            .collect(),
    )
}

fn patch(operations: Vec<Value>) -> Value {
    json!({ "schemas": [PATCH_SCHEMA], "Operations": operations })
}

impl ScimClient {
    /// Every group with its members; a listing that cannot be shown complete fails.
    pub(super) async fn groups(&self) -> Result<Vec<TargetGroup>, DirectoryError> {
        let pages = Pages {
            path: "Groups",
            first: GROUPS_PER_PAGE,
            then: GROUPS_PER_PAGE,
        };
        let mut groups = Vec::new();
        self.each_page_of(&pages, None, |page: Vec<TargetGroup>| {
            groups.extend(page);
            std::future::ready(Ok(()))
        })
        .await?;
        Ok(groups)
    }

    /// One write per change: `Ok(Some(id))` for a created group.
    pub(super) async fn group_change(&self, change: &GroupChange) -> Result<Option<String>, DirectoryError> {
        let url = |id: &str| format!("{}/Groups/{id}", self.base);
        let (method, url, body) = match change {
            GroupChange::Create {
                display_name,
                anchor,
                members,
                ..
            } => {
                let body = json!({
                    "schemas": [GROUP_SCHEMA],
                    "displayName": display_name,
                    "externalId": anchor,
                    "members": members_value(members),
                });
                let (_, created) = self
                    .send(Method::POST, &format!("{}/Groups", self.base), Some(&body), None)
                    .await?;
                let id = created
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| DirectoryError::InvalidResponse("created group has no id".into()))?;
                return Ok(Some(id.to_owned()));
            }
            GroupChange::Update { target, changes } => {
                let operations: Vec<Value> = changes
                    .iter()
                    .filter(|(attribute, _)| **attribute == "displayName")
                    .map(|(attribute, value)| json!({ "op": "replace", "path": attribute, "value": value }))
                    .collect();
                if operations.is_empty() {
                    return Ok(None);
                }
                (Method::PATCH, url(target), Some(patch(operations)))
            }
            GroupChange::AddMembers { target, members } => (
                Method::PATCH,
                url(target),
                Some(patch(vec![
                    json!({ "op": "add", "path": "members", "value": members_value(members) }),
                ])),
            ),
            GroupChange::RemoveMembers { target, members } => {
                let operations = members
                    .iter()
                    .map(|id| json!({ "op": "remove", "path": format!("members[value eq {}]", literal(id)) }))
                    .collect();
                (Method::PATCH, url(target), Some(patch(operations)))
            }
            GroupChange::Delete { target } => (Method::DELETE, url(target), None),
            GroupChange::Restore { .. } => {
                return Err(DirectoryError::Unsupported(
                    "restoring a deleted group (SCIM deletes groups for good)",
                ));
            }
        };
        match self.send(method, &url, body.as_ref(), None).await {
            Ok(_) => Ok(None),
            // Already gone: what a delete wanted.
            Err(DirectoryError::NotFound) if matches!(change, GroupChange::Delete { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
