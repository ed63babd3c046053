//! A SCIM directory read as a source (RFC 7644 §3.4.2): paged listings, changes since a
//! `meta.lastModified` watermark, one user by userName or id, direct reads, and the members of
//! the assigned groups.

use std::collections::HashSet;

use async_trait::async_trait;
use futures::FutureExt;

use super::client::ScimClient;
use super::filter::literal;
use super::members;
use super::watermark::{Read, Stamps, Watermark};
use crate::engine::user::User;
use crate::providers::directory::{GroupRead, PageSink, SourceRead, confirm_by_reads};
use crate::providers::{DirectoryError, SourceDirectory};

#[async_trait]
impl SourceDirectory for ScimClient {
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

    /// `userName eq` (RFC 7643 §4.1.1: userName is compared without regard to case), then
    /// `GET /Users/{id}`: one user, never a listing of the directory.
    async fn find_user(&self, who: &str) -> Result<Option<User>, DirectoryError> {
        let named = self.list(Some(&format!("userName eq {}", literal(who)))).await?;
        if let Some(user) = named.into_iter().find(|u| u.user_name().eq_ignore_ascii_case(who)) {
            return Ok(Some(user));
        }
        // An id that cannot be one segment of a path names no user, and is not sent.
        if crate::providers::url_path::one_segment(who).is_err() {
            return Ok(None);
        }
        Ok(self.users_by_id(&[who.to_owned()]).await?.into_iter().next())
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

    async fn read_groups(&self, since: Option<&str>) -> Result<GroupRead, DirectoryError> {
        // A directory that cannot filter on meta.lastModified is read in full.
        self.groups_since(since.filter(|_| self.capabilities.change_tracking))
            .await
    }
}
