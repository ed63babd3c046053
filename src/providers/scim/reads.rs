//! The read side of a SCIM client: listings taken page by page, up to `totalResults` and no
//! further, and the members of assigned groups.

use jiff::Timestamp;
use reqwest::Method;
use serde_json::Value;

use super::client::ScimClient;
use super::filter::literal;
use super::listing::{self, Listed, Listing, Next, incomplete};
use crate::engine::user::User;
use crate::providers::directory::carries_name;
use crate::providers::{DirectoryError, url_path};

/// Page size for reads (servers may return fewer; RFC 7644 §3.4.2.4).
const PAGE_SIZE: usize = 1000;
/// The first page is smaller: an Initial cycle starts writing once it is read. The pages after
/// it double up to `PAGE_SIZE`, so that each is read before the writes of the one before have
/// ended (a page of 1,000 straight after the first 100 left the target idle while it was read).
const FIRST_PAGE_SIZE: usize = 100;
/// A listing longer than this many pages is taken for a server that pages forever.
const MAX_PAGES: usize = 10_000;

/// Where a listing reads and how many resources it asks for per page.
pub(super) struct Pages {
    /// `Users` or `Groups`.
    pub path: &'static str,
    pub first: usize,
    /// The size pages grow to, doubling from `first`.
    pub then: usize,
}

impl Pages {
    /// The count asked for in page `number` (from 0).
    fn size(&self, number: usize) -> usize {
        let doublings = u32::try_from(number).unwrap_or(u32::MAX).min(usize::BITS - 1);
        self.first.saturating_mul(1 << doublings).min(self.then.max(self.first))
    }
}

impl ScimClient {
    /// Every user matching `filter` (or all), following pages up to `totalResults`; a listing
    /// that cannot be shown complete is a failed read (`Listing`), and so is one without end.
    pub(super) async fn list(&self, filter: Option<&str>) -> Result<Vec<User>, DirectoryError> {
        Ok(self.list_dated(filter).await?.0)
    }

    /// `list`, and the directory's clock when it answered the first page.
    pub(super) async fn list_dated(
        &self,
        filter: Option<&str>,
    ) -> Result<(Vec<User>, Option<Timestamp>), DirectoryError> {
        let mut users = Vec::new();
        let answered = self
            .each_page(filter, |page| {
                users.extend(page);
                std::future::ready(Ok(()))
            })
            .await?;
        Ok((users, answered))
    }

    /// The listing, each page's users handed to `take` as soon as the page is read; a page
    /// that makes the listing incomplete fails it (after the pages before it were taken).
    /// Returns the directory's clock when it answered the first page: every change after it
    /// carries a later stamp (what the next watermark starts from).
    pub(super) async fn each_page<F, Fut>(
        &self,
        filter: Option<&str>,
        take: F,
    ) -> Result<Option<Timestamp>, DirectoryError>
    where
        F: FnMut(Vec<User>) -> Fut + Send,
        Fut: Future<Output = Result<(), DirectoryError>> + Send,
    {
        let pages = Pages {
            path: "Users",
            first: FIRST_PAGE_SIZE,
            then: PAGE_SIZE,
        };
        self.each_page_of(&pages, filter, take).await
    }

    /// `each_page` of any listed resource (users, groups).
    pub(super) async fn each_page_of<T, F, Fut>(
        &self,
        pages: &Pages,
        filter: Option<&str>,
        mut take: F,
    ) -> Result<Option<Timestamp>, DirectoryError>
    where
        T: Listed + Send,
        F: FnMut(Vec<T>) -> Fut + Send,
        Fut: Future<Output = Result<(), DirectoryError>> + Send,
    {
        let mut listing = Listing::<T>::default();
        let mut next = Listing::first();
        let mut first_answered = None;
        for page_number in 0..MAX_PAGES {
            let Next::Page { start_index } = next else {
                return Ok(first_answered);
            };
            let mut url = self.url(&[pages.path])?;
            let count = pages.size(page_number);
            url.query_pairs_mut()
                .append_pair("startIndex", &start_index.to_string())
                .append_pair("count", &count.to_string());
            if let Some(filter) = filter {
                url.query_pairs_mut().append_pair("filter", filter);
            }
            let (_, body, date) = self.send_dated(Method::GET, url.as_str(), None, None).await?;
            if page_number == 0 {
                first_answered = date;
            }
            let page = listing::parse::<T>(&body, count)?;
            drop(body);
            next = listing.take(page)?;
            take(listing.take_users()).await?;
        }
        match next {
            Next::Done => Ok(first_answered),
            Next::Page { .. } => Err(incomplete(format!("the listing did not end after {MAX_PAGES} pages"))),
        }
    }

    /// The members of one assigned group, found by displayName or else by id. A group not
    /// found, or one whose answer has no `members`, is a failed read, never an empty group:
    /// an empty group would deprovision everyone it assigned (README, "Safety").
    pub(super) async fn members_of(&self, group: &str) -> Result<Vec<Value>, DirectoryError> {
        let filter = format!("displayName eq {}", literal(group));
        let mut url = self.url(&["Groups"])?;
        url_path::with_query(&mut url, &[("filter", filter.as_str())]);
        let (_, page) = self.send(Method::GET, url.as_str(), None, None).await?;
        let found = page
            .get("Resources")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| incomplete(format!("the group search for '{group}' has no Resources")))?;
        // Only groups that carry the name (a server may ignore the filter), and all of them
        // (a server may answer with a first page of its own size).
        let named: Vec<&Value> = found.iter().filter(|g| carries_name(g, group)).collect();
        let total = page.get("totalResults").and_then(Value::as_u64).unwrap_or(0);
        if total > found.len() as u64 {
            return Err(incomplete(format!(
                "the group search for '{group}' answered {total} results but listed {}",
                found.len()
            )));
        }
        let group_resource = match named.as_slice() {
            [one] => (*one).clone(),
            [] => match self
                .send(Method::GET, self.url(&["Groups", group])?.as_str(), None, None)
                .await
            {
                Ok((_, g)) => g,
                Err(DirectoryError::NotFound) => {
                    return Err(incomplete(format!(
                        "assigned group '{group}' not found in the source (renamed or deleted?); fix scope.groups"
                    )));
                }
                Err(e) => return Err(e),
            },
            several => {
                return Err(incomplete(format!(
                    "{} source groups are named '{group}' in scope.groups; name one by its id",
                    several.len()
                )));
            }
        };
        super::members::member_entries(&group_resource, group)
    }
}

#[cfg(test)]
mod tests {
    use super::Pages;

    #[test]
    fn pages_double_from_the_first_up_to_the_page_size() {
        let pages = Pages {
            path: "Users",
            first: 100,
            then: 1000,
        };
        let sizes: Vec<usize> = (0..7).map(|n| pages.size(n)).collect();
        assert_eq!(sizes, [100, 200, 400, 800, 1000, 1000, 1000]);
        assert_eq!(pages.size(usize::MAX), 1000, "no overflow, however long the listing");
    }

    #[test]
    fn pages_of_one_size_stay_that_size() {
        let pages = Pages {
            path: "Groups",
            first: 50,
            then: 50,
        };
        assert!((0..70).all(|n| pages.size(n) == 50));
    }
}
