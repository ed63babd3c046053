//! Groups over Microsoft Graph (README, "Groups"): security groups listed with their members
//! (a target's groups), the members of the groups `scope.groups` names and the groups delta (a
//! source's). Changes to a target's groups are in `target_groups.rs`.
//!
//! The anchor lives in a directory extension of the app's own registration,
//! `extension_<appId without dashes>_xtsyncGroupAnchor` (Microsoft Learn, "Add custom
//! properties to resources using directory extensions"): groups have no
//! `onPremisesExtensionAttributes`, and a directory extension is a documented, writable,
//! `$select`able string that only this app defines, so no administrator edits it by chance.

use reqwest::Method;
use serde_json::Value;

use std::collections::HashSet;

use super::client::BatchRequest;
use super::directory::MsGraphDirectory;
use super::endpoints::is_object_id;
use super::resource::odata_literal;
use crate::engine::groups::TargetGroup;
use crate::providers::DirectoryError;
use crate::providers::directory::{GroupRead, carries_name};

/// The name of the directory extension that holds the anchor, for the app `client_id`.
pub fn anchor_property(client_id: &str) -> String {
    format!("extension_{}_xtsyncGroupAnchor", client_id.replace('-', ""))
}

/// A group as Graph lists it, with its anchor from `property`.
fn to_group(value: &Value, property: &str) -> Option<TargetGroup> {
    let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    Some(TargetGroup {
        id: text("id")?,
        display_name: text("displayName").unwrap_or_default(),
        description: text("description").filter(|d| !d.is_empty()),
        external_id: text(property),
        ..TargetGroup::default()
    })
}

/// A group of an answer; one without an id makes the answer invalid.
fn read_group(value: &Value, property: &str) -> Result<TargetGroup, DirectoryError> {
    to_group(value, property).ok_or_else(|| DirectoryError::InvalidResponse("a group without id".into()))
}

impl MsGraphDirectory {
    pub(super) fn group_anchor(&self) -> String {
        anchor_property(self.client.client_id())
    }

    /// The users of the groups `scope.groups` names (their `transitiveMembers`). Each entry
    /// names exactly one group, by displayName or else by id; one that names several, none, or
    /// a group whose members cannot be read fails the read — never the union of several
    /// groups, never an empty group, either of which would provision or deprovision the wrong
    /// people.
    pub(super) async fn assigned_members(&self, groups: &[String]) -> Result<HashSet<String>, DirectoryError> {
        let mut members = HashSet::new();
        for group in groups {
            let id = self.assigned_group(group).await?;
            let url = self.url(
                &["groups", &id, "transitiveMembers", "microsoft.graph.user"],
                &[("$select", "id"), ("$top", "999")],
            )?;
            let values = match self.client.list_all(&url, false).await {
                Ok((values, _)) => values,
                Err(DirectoryError::NotFound) => return Err(assigned_group_not_found(group)),
                Err(e) => return Err(e),
            };
            members.extend(
                values
                    .iter()
                    .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_owned)),
            );
        }
        Ok(members)
    }

    /// The id of the one group `entry` names: by displayName ("List groups" with `$filter`,
    /// which compares case-insensitively), or else by id ("Get group").
    async fn assigned_group(&self, entry: &str) -> Result<String, DirectoryError> {
        let filter = format!("displayName eq {}", odata_literal(entry));
        let url = self.url(&["groups"], &[("$select", "id,displayName"), ("$filter", &filter)])?;
        let (found, _) = self.client.list_all(&url, false).await?;
        // Only groups that carry the name: a peer that ignored the filter names no group.
        let named: Vec<&str> = found
            .iter()
            .filter(|g| carries_name(g, entry))
            .filter_map(|g| g.get("id").and_then(Value::as_str))
            .collect();
        match named.as_slice() {
            [one] => return Ok((*one).to_owned()),
            [] => {}
            several => {
                return Err(DirectoryError::InvalidResponse(format!(
                    "{} source groups are named '{entry}' in scope.groups; name one by its id",
                    several.len()
                )));
            }
        }
        // A Graph object id is a GUID: anything else names no group, and is not sent as a path.
        if !is_object_id(entry) {
            return Err(assigned_group_not_found(entry));
        }
        let url = self.url(&["groups", entry], &[("$select", "id")])?;
        match self.client.send(Method::GET, &url, None, false).await {
            Ok(group) => group
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| DirectoryError::InvalidResponse(format!("group '{entry}' was answered without an id"))),
            Err(DirectoryError::NotFound) => Err(assigned_group_not_found(entry)),
            Err(e) => Err(e),
        }
    }

    /// Every group with its direct members (one members read per group, batched).
    pub(super) async fn groups(&self) -> Result<Vec<TargetGroup>, DirectoryError> {
        let property = self.group_anchor();
        let select = format!("id,displayName,description,{property}");
        let url = self.url(&["groups"], &[("$select", &select), ("$top", "999")])?;
        let (values, _) = self.client.list_all(&url, false).await?;
        let mut groups = values
            .iter()
            .map(|v| read_group(v, &property))
            .collect::<Result<Vec<_>, _>>()?;
        self.read_members(&mut groups).await?;
        Ok(groups)
    }

    /// The direct members of each group (one read per group, batched).
    async fn read_members(&self, groups: &mut [TargetGroup]) -> Result<(), DirectoryError> {
        let reads = groups
            .iter()
            .map(|g| {
                let query = [("$select", "id"), ("$top", "999")];
                BatchRequest::new(Method::GET, &["groups", &g.id, "members"], &query, None)
            })
            .collect();
        for (group, page) in groups.iter_mut().zip(self.run(reads).await) {
            let mut page = page?;
            let mut members = take_values(&mut page)?;
            if let Some(next) = page.get("@odata.nextLink").and_then(Value::as_str) {
                members.extend(self.client.list_all(next, false).await?.0);
            }
            group.members = members
                .iter()
                .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect();
        }
        Ok(())
    }

    /// The source's groups through the groups delta ("group: delta"): from the start, every
    /// group with its members (`members@delta`, a group's members possibly spread over pages);
    /// from a delta link, the groups changed since, whose members are then read in full (a
    /// changed group is planned whole). An expired link (410) starts a full round.
    pub(super) async fn groups_delta(&self, since: Option<&str>) -> Result<GroupRead, DirectoryError> {
        if let Some(link) = since.filter(|l| self.client.is_ours(l)) {
            match self.client.list_all(link, false).await {
                Ok((values, Some(delta_link))) => return self.changed_groups(&values, delta_link).await,
                Ok((_, None)) => return Err(no_delta_link()),
                Err(DirectoryError::Rejected { status: 410, .. }) => {
                    tracing::info!("Graph asked for a resync of the groups delta; reading every group");
                }
                Err(e) => return Err(e),
            }
        }
        let url = self.url(&["groups", "delta"], &[("$select", "displayName,description,members")])?;
        let (values, delta_link) = self.client.list_all(&url, false).await?;
        let mut groups: Vec<TargetGroup> = Vec::new();
        let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for value in &values {
            if value.get("@removed").is_some() {
                continue;
            }
            let group = read_group(value, "")?;
            let index = *at.entry(group.id.clone()).or_insert_with(|| {
                groups.push(group.clone());
                groups.len() - 1
            });
            let entry = &mut groups[index];
            // Later pages of a group carry more of its members, and maybe its properties.
            if entry.display_name.is_empty() {
                entry.display_name = group.display_name;
            }
            entry.members.extend(
                value
                    .get("members@delta")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|m| m.get("@removed").is_none())
                    .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_owned)),
            );
        }
        Ok(GroupRead {
            groups,
            watermark: Some(delta_link.ok_or_else(no_delta_link)?),
            full: true,
        })
    }

    /// The groups a delta round named as changed, read whole (properties and members).
    async fn changed_groups(&self, values: &[Value], delta_link: String) -> Result<GroupRead, DirectoryError> {
        let mut ids: Vec<&str> = values
            .iter()
            .filter(|v| v.get("@removed").is_none())
            .filter_map(|v| v.get("id").and_then(Value::as_str))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let reads = ids
            .iter()
            .map(|id| {
                let query = [("$select", "id,displayName,description")];
                BatchRequest::new(Method::GET, &["groups", id], &query, None)
            })
            .collect();
        let mut groups = Vec::new();
        for read in self.run(reads).await {
            let value = read?;
            groups.push(read_group(&value, "")?);
        }
        self.read_members(&mut groups).await?;
        Ok(GroupRead {
            groups,
            watermark: Some(delta_link),
            full: false,
        })
    }
}

fn assigned_group_not_found(entry: &str) -> DirectoryError {
    DirectoryError::InvalidResponse(format!(
        "assigned group '{entry}' not found in the source (renamed or deleted?); fix scope.groups"
    ))
}

fn no_delta_link() -> DirectoryError {
    DirectoryError::InvalidResponse("a groups delta round ended without @odata.deltaLink".into())
}

fn take_values(page: &mut Value) -> Result<Vec<Value>, DirectoryError> {
    match page.get_mut("value").map(Value::take) {
        Some(Value::Array(values)) => Ok(values),
        _ => Err(DirectoryError::InvalidResponse("a members page without 'value'".into())),
    }
}
