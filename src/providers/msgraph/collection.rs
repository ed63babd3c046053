//! Graph collections page by page along `@odata.nextLink` (Microsoft Learn, "Paging Microsoft
//! Graph data in your app"): each page parsed as it is read, no more items than were asked
//! for, a loop or a collection without end a failed read.

use reqwest::Method;
use serde_json::Value;

use super::client::GraphClient;
use super::wire::{GraphPage, GraphPageOf, GraphUser, MAX_PAGE};
use crate::providers::{DirectoryError, json};

/// A collection longer than this many pages is taken for a Graph that pages forever
/// (100,000 users are 1,000 pages of 100, or 101 of 999).
const MAX_PAGES: usize = 20_000;

/// An item of a collection page: a typed resource, or (for collections xtsync reads few
/// properties of) a `Value` within the memory budget of `json`.
pub trait Item: serde::de::DeserializeOwned + Send {
    /// Parses a page of at most `most` items.
    fn page(body: &[u8], most: usize) -> Result<GraphPage<Self>, DirectoryError> {
        typed_page(body, most)
    }
}

impl Item for GraphUser {}

impl Item for Value {
    /// A tree of `Value`s is costed before it is built.
    fn page(body: &[u8], most: usize) -> Result<GraphPage<Value>, DirectoryError> {
        json::tree_cost(body, json::budget(body.len()))?;
        typed_page(body, most)
    }
}

fn typed_page<T: Item>(body: &[u8], most: usize) -> Result<GraphPage<T>, DirectoryError> {
    crate::providers::wire::parse_seeded(body, GraphPageOf::new(most))
        .map_err(|e| DirectoryError::InvalidResponse(format!("not a collection page ({e})")))
}

/// The `$top` a collection URL asks for.
fn top_of(url: &str) -> Option<usize> {
    let url = reqwest::Url::parse(url).ok()?;
    let top = url.query_pairs().find(|(k, _)| k == "$top")?.1;
    top.parse().ok()
}

impl GraphClient {
    /// Every item of a collection, following `@odata.nextLink`; also the `@odata.deltaLink`
    /// that ends a delta round, if any. A page that fails fails the whole read.
    pub async fn list_all(&self, url: &str, eventual: bool) -> Result<(Vec<Value>, Option<String>), DirectoryError> {
        self.list_all_of(url, eventual).await
    }

    /// `list_all`, each item parsed as `T`.
    pub async fn list_all_of<T: Item>(
        &self,
        url: &str,
        eventual: bool,
    ) -> Result<(Vec<T>, Option<String>), DirectoryError> {
        let mut items = Vec::new();
        let delta = self
            .each_page(url, eventual, |values| {
                items.extend(values);
                std::future::ready(Ok(()))
            })
            .await?;
        Ok((items, delta))
    }

    /// The collection page by page: each page's items go to `take` as soon as it is read.
    /// Returns the `@odata.deltaLink` that ends a delta round, if any. A page with more items
    /// than its `$top` asked for (or than Graph's largest page, without one) fails the read.
    pub async fn each_page<T, F, Fut>(
        &self,
        url: &str,
        eventual: bool,
        mut take: F,
    ) -> Result<Option<String>, DirectoryError>
    where
        T: Item,
        F: FnMut(Vec<T>) -> Fut + Send,
        Fut: Future<Output = Result<(), DirectoryError>> + Send,
    {
        // The size asked for is ours, in the first URL; a nextLink's is the peer's to change.
        let most = top_of(url).unwrap_or(MAX_PAGE).min(MAX_PAGE);
        let mut next = url.to_owned();
        let mut followed = std::collections::HashSet::new();
        loop {
            // A Graph that loops its nextLink, or pages without end, fails the read in bounded
            // time and memory instead of holding the cycle forever.
            if !followed.insert(next.clone()) {
                return Err(DirectoryError::InvalidResponse(
                    "@odata.nextLink points at a page already read".into(),
                ));
            }
            if followed.len() > MAX_PAGES {
                return Err(DirectoryError::InvalidResponse(format!(
                    "the collection did not end after {MAX_PAGES} pages"
                )));
            }
            let body = self.send_for_body(Method::GET, &next, None, eventual).await?;
            let page = T::page(&body, most)?;
            drop(body);
            take(page.values).await?;
            if let Some(link) = page.next_link {
                next = link;
                continue;
            }
            return Ok(page.delta_link);
        }
    }
}
