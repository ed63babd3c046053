//! SCIM Group resources (RFC 7643 §4.2) for group provisioning (README, "Groups"): groups listed
//! with their members, created with the anchor in `externalId`, renamed and given or relieved
//! of members by PATCH (RFC 7644 §3.5.2) — one request per change — and deleted.
//!
//! The core Group schema has no `description`: a SCIM directory holds only `displayName`.

use std::collections::HashSet;

use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::ScimClient;
use super::filter::literal;
use super::members::{member_entries, member_id, member_is_group};
use super::reads::Pages;
use super::resource::PATCH_SCHEMA;
pub use super::wire::ScimGroup;
use crate::engine::digest;
use crate::engine::groups::{GroupChange, TargetGroup};
use crate::providers::directory::GroupRead;
use crate::providers::{DirectoryError, InFlightLimit};

pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// Groups per page: a group's page carries its members, so pages stay small.
const GROUPS_PER_PAGE: usize = 100;
/// How much earlier than the directory's clock at the start of a read the next one starts.
const GROUP_OVERLAP_SECS: i64 = 60;

/// A listed or read group; `None` without an id.
pub fn to_group(resource: &Value) -> Option<TargetGroup> {
    ScimGroup::deserialize(resource).ok()?.into_group()
}

impl ScimGroup {
    /// The engine's group; `None` without an id.
    pub fn into_group(self) -> Option<TargetGroup> {
        Some(TargetGroup {
            id: self.id?,
            display_name: self.display_name.unwrap_or_default(),
            description: self.description,
            external_id: self.external_id,
            members: self.members.unwrap_or_default().into_iter().collect(),
            deleted: false,
            version: self.meta.and_then(|m| m.version),
        })
    }
}

/// Where the next read of changed groups starts, and the groups (id and version) this read
/// saw: the overlap brings them back, and one unchanged since is left out. JSON in
/// `status.groupsWatermark`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct GroupWatermark {
    since: String,
    #[serde(default)]
    seen: Vec<String>,
}

/// Groups remembered as seen; beyond this the rest are planned again (harmlessly).
const MAX_SEEN: usize = 1000;

fn fingerprint(group: &TargetGroup) -> Option<String> {
    let version = group.version.as_deref()?;
    Some(format!("{:016x}", digest::fnv1a([group.id.as_str(), version])))
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

/// Nested groups a flattening follows at most: a deeper nesting is taken for a loop.
const MAX_NESTED_GROUPS: usize = 10_000;

impl ScimClient {
    /// The member entries of the named groups, read at once up to the directory's limit: an
    /// assignment of a hundred groups is a hundred reads.
    pub(super) async fn assigned_entries(&self, groups: &[String]) -> Result<Vec<Value>, DirectoryError> {
        let reads: Vec<BoxFuture<'_, Result<Vec<Value>, DirectoryError>>> =
            groups.iter().map(|group| self.members_of(group).boxed()).collect();
        let mut entries = Vec::new();
        for read in crate::providers::in_input_order(reads, self.concurrency()).await {
            entries.extend(read?);
        }
        Ok(entries)
    }

    /// The ids of the members `entries` name, with those of nested groups, at any depth. A
    /// nested group is known by its entry's `type` or `$ref`, else by its id among the
    /// directory's groups (listed once, only when an entry says neither); each nested group is
    /// read whole, and one that cannot be is a failed read, as an assigned group is.
    pub(super) async fn flattened(&self, entries: Vec<Value>) -> Result<HashSet<String>, DirectoryError> {
        let mut members = HashSet::new();
        let mut groups: Option<HashSet<String>> = None;
        let mut nested = 0;
        let mut pending = entries;
        while let Some(entry) = pending.pop() {
            let Some(id) = member_id(&entry).map(str::to_owned) else {
                continue;
            };
            if !members.insert(id.clone()) {
                continue;
            }
            let is_group = match member_is_group(&entry) {
                Some(known) => known,
                None => {
                    if groups.is_none() {
                        groups = Some(self.groups().await?.into_iter().map(|g| g.id).collect());
                    }
                    groups.as_ref().is_some_and(|g| g.contains(&id))
                }
            };
            if !is_group {
                continue;
            }
            nested += 1;
            if nested > MAX_NESTED_GROUPS {
                return Err(DirectoryError::InvalidResponse(format!(
                    "more than {MAX_NESTED_GROUPS} nested groups"
                )));
            }
            let (_, group) = match self
                .send(Method::GET, self.url(&["Groups", &id])?.as_str(), None, None)
                .await
            {
                Ok(found) => found,
                Err(DirectoryError::NotFound) => {
                    return Err(DirectoryError::InvalidResponse(format!(
                        "nested group {id} not found in the source"
                    )));
                }
                Err(e) => return Err(e),
            };
            pending.extend(member_entries(&group, &id)?);
        }
        Ok(members)
    }

    /// Every group with its members; a listing that cannot be shown complete fails.
    pub(super) async fn groups(&self) -> Result<Vec<TargetGroup>, DirectoryError> {
        Ok(self.groups_since(None).await?.groups)
    }

    /// The groups changed since `since` (`meta.lastModified ge`, RFC 7644 §3.4.2.2), or all.
    /// The next read starts a minute before the directory's clock (`Date`) when this one
    /// began, so that a change made during the read, or in the same second, is read again
    /// rather than missed; a directory that sends no `Date` is read in full every time.
    pub(super) async fn groups_since(&self, since: Option<&str>) -> Result<GroupRead, DirectoryError> {
        let pages = Pages {
            path: "Groups",
            first: GROUPS_PER_PAGE,
            then: GROUPS_PER_PAGE,
        };
        let previous: Option<GroupWatermark> = since.map(|s| {
            serde_json::from_str(s).unwrap_or_else(|_| GroupWatermark {
                since: s.to_owned(),
                seen: Vec::new(),
            })
        });
        let filter = previous
            .as_ref()
            .map(|p| format!("meta.lastModified ge {}", literal(&p.since)));
        let mut groups = Vec::new();
        let began = self
            .each_page_of(&pages, filter.as_deref(), |page: Vec<TargetGroup>| {
                groups.extend(page);
                std::future::ready(Ok(()))
            })
            .await?;
        let seen: Vec<String> = groups.iter().filter_map(fingerprint).take(MAX_SEEN).collect();
        let watermark = began
            .and_then(|b| b.checked_sub(jiff::SignedDuration::from_secs(GROUP_OVERLAP_SECS)).ok())
            .and_then(|since| {
                serde_json::to_string(&GroupWatermark {
                    since: since.to_string(),
                    seen,
                })
                .ok()
            });
        if let Some(previous) = &previous {
            let unchanged: std::collections::HashSet<&str> = previous.seen.iter().map(String::as_str).collect();
            groups.retain(|g| fingerprint(g).is_none_or(|f| !unchanged.contains(f.as_str())));
        }
        Ok(GroupRead {
            groups,
            watermark,
            full: since.is_none(),
        })
    }

    /// One write per change: `Ok(Some(id))` for a created group.
    pub(super) async fn group_change(&self, change: &GroupChange) -> Result<Option<String>, DirectoryError> {
        let url = |id: &str| self.url(&["Groups", id]);
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
                    .send(Method::POST, self.url(&["Groups"])?.as_str(), Some(&body), None)
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
                (Method::PATCH, url(target)?, Some(patch(operations)))
            }
            GroupChange::AddMembers { target, members } => (
                Method::PATCH,
                url(target)?,
                Some(patch(vec![
                    json!({ "op": "add", "path": "members", "value": members_value(members) }),
                ])),
            ),
            GroupChange::RemoveMembers { target, members } => {
                let operations = members
                    .iter()
                    .map(|id| json!({ "op": "remove", "path": format!("members[value eq {}]", literal(id)) }))
                    .collect();
                (Method::PATCH, url(target)?, Some(patch(operations)))
            }
            GroupChange::Delete { target } => (Method::DELETE, url(target)?, None),
            GroupChange::Restore { .. } => {
                return Err(DirectoryError::Unsupported(
                    "restoring a deleted group (SCIM deletes groups for good)",
                ));
            }
        };
        match self.send(method, url.as_str(), body.as_ref(), None).await {
            Ok(_) => Ok(None),
            // Already gone: what a delete wanted.
            Err(DirectoryError::NotFound) if matches!(change, GroupChange::Delete { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
