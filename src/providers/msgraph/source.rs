//! A Microsoft Entra tenant read as a source: the users delta query with the delta link as
//! watermark (Microsoft Learn, "user: delta"), one user by userPrincipalName or id, direct
//! reads, verified domains, and the members of the assigned groups.

use std::collections::HashSet;

use async_trait::async_trait;
use futures::FutureExt;
use reqwest::Method;
use serde_json::Value;

use super::directory::MsGraphDirectory;
use super::endpoints::is_object_id;
use super::lookup;
use super::resource::{self, EXPAND_MANAGER, GraphUser, SELECT};
use crate::engine::user::User;
use crate::providers::directory::{GroupRead, PageSink, SourceRead, confirm_by_reads, with_removed};
use crate::providers::{DirectoryError, SourceDirectory};

impl MsGraphDirectory {
    /// A full delta round from the start: every user, and the link to the next changes.
    async fn delta_from_start(&self) -> Result<SourceRead, DirectoryError> {
        let url = self.url(&["users", "delta"], &[("$select", SELECT), ("$expand", EXPAND_MANAGER)])?;
        self.delta(&url, false).await
    }

    async fn delta(&self, url: &str, full: bool) -> Result<SourceRead, DirectoryError> {
        let (values, delta_link) = self.client.list_all_of(url, false).await?;
        let Some(delta_link) = delta_link else {
            return Err(DirectoryError::InvalidResponse(
                "a delta round ended without @odata.deltaLink".into(),
            ));
        };
        let mut read = resource::delta_page(values, self.anchor)?;
        read.watermark = Some(delta_link);
        read.full = full;
        Ok(read)
    }
}

#[async_trait]
impl SourceDirectory for MsGraphDirectory {
    async fn read_groups(&self, since: Option<&str>) -> Result<GroupRead, DirectoryError> {
        self.groups_delta(since).await
    }

    async fn read_source(&self, since: Option<&str>) -> Result<SourceRead, DirectoryError> {
        // A link of another endpoint (the Tenant's endpoints changed) is not followed: the
        // token would go with it. Start over instead.
        let Some(link) = since.filter(|l| self.client.is_ours(l)) else {
            let mut read = self.delta_from_start().await?;
            read.full = since.is_some();
            return Ok(read);
        };
        match self.delta(link, false).await {
            // An expired or unknown delta token: Graph asks for a full resync (410 Gone).
            Err(DirectoryError::Rejected { status: 410, .. }) => {
                tracing::info!("Graph asked for a resync of the users delta; reading every user");
                let mut read = self.delta_from_start().await?;
                read.full = true;
                Ok(read)
            }
            other => other,
        }
    }

    async fn read_source_pages(&self, pages: &PageSink) -> Result<Option<String>, DirectoryError> {
        let url = self.url(&["users", "delta"], &[("$select", SELECT), ("$expand", EXPAND_MANAGER)])?;
        let anchor = self.anchor;
        let delta_link = self
            .client
            .each_page(&url, false, |values: Vec<GraphUser>| async move {
                let read = resource::delta_page(values, anchor)?;
                pages.send(with_removed(read.users, &read.removed)).await
            })
            .await?;
        delta_link
            .map(Some)
            .ok_or_else(|| DirectoryError::InvalidResponse("a delta round ended without @odata.deltaLink".into()))
    }

    /// `userPrincipalName eq` (Microsoft Learn, "List users": `$filter`), then "Get user" by
    /// object id: one user, never a listing of the tenant.
    async fn find_user(&self, who: &str) -> Result<Option<User>, DirectoryError> {
        if let Some(filter) = lookup::address_filter("userName", who, None) {
            let query = [
                ("$select", SELECT),
                ("$expand", EXPAND_MANAGER),
                ("$filter", filter.as_str()),
            ];
            let url = self.url(&["users"], &query)?;
            let (values, _) = self.client.list_all_of(&url, false).await?;
            let named = self.users(values, false)?;
            if let Some(user) = named.into_iter().find(|u| u.user_name().eq_ignore_ascii_case(who)) {
                return Ok(Some(user));
            }
        }
        Ok(self.users_by_id(&[who.to_owned()]).await?.into_iter().next())
    }

    /// `GET /domains` (Microsoft Learn, "List domains"): the verified ones.
    async fn verified_domains(&self) -> Result<Vec<String>, DirectoryError> {
        let url = self.url(&["domains"], &[("$select", "id,isVerified")])?;
        let (values, _) = self.client.list_all(&url, false).await?;
        Ok(values
            .iter()
            .filter(|d| d.get("isVerified").and_then(Value::as_bool) == Some(true))
            .filter_map(|d| d.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect())
    }

    async fn confirm_gone(&self, ids: &[String]) -> Result<HashSet<String>, DirectoryError> {
        confirm_by_reads(ids, self.client.limit(), |id| {
            async move {
                // An id that is no object id is not sent as a path; nor is it taken for gone:
                // its user is skipped, never deprovisioned, on such evidence.
                if !is_object_id(id) {
                    return Ok(true);
                }
                let url = self.url(&["users", id], &[("$select", "id")])?;
                match self.client.send(Method::GET, &url, None, false).await {
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

    async fn group_members(&self, groups: &[String]) -> Result<HashSet<String>, DirectoryError> {
        self.assigned_members(groups).await
    }
}
