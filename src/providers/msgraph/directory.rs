//! A Microsoft Entra tenant as a directory: the Graph client (`client.rs`), the anchor
//! attribute and whether writes are batched, and what both roles use (URLs, users as answered,
//! the initial domain). What it reads as a source is in `source.rs`, what it writes as a
//! target in `target.rs`.

use reqwest::Method;
use tokio::sync::OnceCell;

use super::client::GraphClient;
use super::resource::{self, AnchorAttribute, GraphUser};
use crate::engine::user::User;
use crate::providers::{DirectoryError, InFlightLimit, url_path};

pub struct MsGraphDirectory {
    pub(super) client: GraphClient,
    pub(super) anchor: AnchorAttribute,
    /// Send writes through `$batch` (20 per request) rather than one request each.
    pub(super) batching: bool,
    /// The tenant's initial domain (`*.onmicrosoft.com`), which names invited users.
    initial_domain: OnceCell<String>,
}

impl MsGraphDirectory {
    pub fn new(client: GraphClient, anchor: AnchorAttribute, batching: bool) -> Self {
        MsGraphDirectory {
            client,
            anchor,
            batching,
            initial_domain: OnceCell::new(),
        }
    }

    /// The v1.0 URL of `segments` (each one segment, `url_path`) with `query`.
    pub(super) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<String, DirectoryError> {
        let mut url = self.client.endpoints.v1_url(segments)?;
        url_path::with_query(&mut url, query);
        Ok(url.into())
    }

    pub(super) async fn initial_domain(&self) -> Result<&str, DirectoryError> {
        self.initial_domain
            .get_or_try_init(|| async {
                let url = self.url(&["organization"], &[("$select", "id,verifiedDomains")])?;
                let answer = self.client.send(Method::GET, &url, None, false).await?;
                super::probe::initial_domain(&answer)
                    .ok_or_else(|| DirectoryError::InvalidResponse("the organization has no initial domain".into()))
            })
            .await
            .map(String::as_str)
    }

    pub(super) fn users(&self, values: Vec<GraphUser>, deleted: bool) -> Result<Vec<User>, DirectoryError> {
        values
            .into_iter()
            .map(|v| {
                let user = if deleted {
                    resource::to_deleted_user(v, self.anchor)
                } else {
                    v.into_user(self.anchor)
                };
                user.ok_or_else(|| DirectoryError::InvalidResponse("a listed user has no id".into()))
            })
            .collect()
    }
}

impl InFlightLimit for MsGraphDirectory {
    fn concurrency(&self) -> usize {
        self.client.limit()
    }
}
