//! The pages of one SCIM listing, as they come (RFC 7644 §3.4.2.4). Offset paging can look
//! complete and still miss users (a deletion between pages shifts them; a server may ignore
//! `startIndex`), so a listing with a user listed twice, a total that changes or is exceeded,
//! a page without a total, or one that stops short is a failed read (docs/architecture.md, rule 8).
//! A page is parsed into typed resources (`wire`), no more of them than were asked for.
//! Pure, so that it can be fuzzed with any sequence of pages.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

use super::wire::{Page, PageOf, ScimGroup, ScimUser};
use crate::engine::groups::TargetGroup;
use crate::engine::user::User;
use crate::providers::DirectoryError;

/// A resource a listing holds: users, or groups.
pub trait Listed: Sized {
    /// The resource as a page carries it.
    type Wire: serde::de::DeserializeOwned;
    /// The resource of a listing's page, or `None` when it has no id.
    fn from_wire(resource: Self::Wire) -> Option<Self>;
    fn id(&self) -> &str;
}

impl Listed for User {
    type Wire = ScimUser;

    fn from_wire(resource: ScimUser) -> Option<Self> {
        resource.into_user()
    }

    fn id(&self) -> &str {
        &self.id
    }
}

impl Listed for TargetGroup {
    type Wire = ScimGroup;

    fn from_wire(resource: ScimGroup) -> Option<Self> {
        resource.into_group()
    }

    fn id(&self) -> &str {
        &self.id
    }
}

/// What the listing needs next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// The page starting at this 1-based index.
    Page { start_index: usize },
    /// Every user has been read.
    Done,
}

pub struct Listing<T = User> {
    /// Resources read and not taken yet (`take_users`).
    users: Vec<T>,
    /// Every id read, as its hash under `keys`: a user listed twice fails the read. A hash
    /// instead of the id keeps a listing of 100,000 users to 1 MiB; two ids that collide under
    /// a key no peer knows (about 1 in 10⁹ at that size) fail the read, which is the safe side:
    /// the next read draws other keys.
    seen: HashSet<u64>,
    keys: RandomState,
    total: Option<u64>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Listing {
            users: Vec::new(),
            seen: HashSet::new(),
            keys: RandomState::new(),
            total: None,
        }
    }
}

impl Listing {
    /// The first page to ask for.
    pub fn first() -> Next {
        Next::Page { start_index: 1 }
    }
}

/// A page's body as a page of at most `count` resources: a body that is not a list response,
/// or that holds more resources than were asked for (RFC 7644 §3.4.2.4), fails the listing.
pub fn parse<T: Listed>(body: &[u8], count: usize) -> Result<Page<T::Wire>, DirectoryError> {
    crate::providers::wire::parse_seeded(body, PageOf::new(count))
        .map_err(|e| incomplete(format!("the answer is not a JSON SCIM list response ({e})")))
}

impl<T: Listed> Listing<T> {
    /// Takes the next page; says what to read next, or why the listing failed.
    pub fn take(&mut self, page: Page<T::Wire>) -> Result<Next, DirectoryError> {
        let total = page
            .total_results
            .ok_or_else(|| incomplete("list response without totalResults".into()))?;
        if let Some(first) = self.total.filter(|&t| t != total) {
            return Err(incomplete(format!(
                "totalResults changed from {first} to {total} during the read"
            )));
        }
        self.total = Some(total);
        let listed = page.resources.len();
        for r in page.resources {
            let user = T::from_wire(r).ok_or_else(|| incomplete("a listed resource has no id".into()))?;
            if !self.seen.insert(self.keys.hash_one(user.id())) {
                return Err(incomplete(format!("{} was listed twice", user.id())));
            }
            self.users.push(user);
        }
        let read = self.seen.len() as u64;
        if read > total {
            return Err(incomplete(format!(
                "listed {read} resources, more than totalResults {total}"
            )));
        }
        if read == total {
            return Ok(Next::Done);
        }
        if listed == 0 {
            // A server that stops short of totalResults gave an incomplete read.
            return Err(incomplete(format!("listed {read} of {total} resources")));
        }
        Ok(Next::Page {
            start_index: self.seen.len() + 1,
        })
    }

    /// The users read since the last call: a listing taken page by page keeps only ids.
    pub fn take_users(&mut self) -> Vec<T> {
        std::mem::take(&mut self.users)
    }

    /// The users read and not taken, once `take` said `Done`.
    pub fn into_users(self) -> Vec<T> {
        self.users
    }
}

/// A read that cannot be shown complete.
pub fn incomplete(why: String) -> DirectoryError {
    DirectoryError::InvalidResponse(why)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn page(total: u64, ids: &[&str]) -> Value {
        let resources: Vec<_> = ids.iter().map(|id| json!({ "id": id })).collect();
        json!({ "totalResults": total, "Resources": resources })
    }

    /// `page` as the listing takes it, having asked for 100 resources.
    fn typed(page: &Value) -> Page<ScimUser> {
        parse::<User>(page.to_string().as_bytes(), 100).expect("a list response")
    }

    #[test]
    fn pages_are_followed_to_the_total_and_no_further() {
        let mut listing: Listing = Listing::default();
        assert_eq!(
            listing.take(typed(&page(3, &["a", "b"]))).ok(),
            Some(Next::Page { start_index: 3 })
        );
        assert_eq!(listing.take(typed(&page(3, &["c"]))).ok(), Some(Next::Done));
        assert_eq!(listing.into_users().len(), 3);
        // Taken page by page, the listing still knows where it is.
        let mut paged: Listing = Listing::default();
        assert!(paged.take(typed(&page(3, &["a", "b"]))).is_ok());
        assert_eq!(paged.take_users().len(), 2);
        assert_eq!(
            paged.take(typed(&page(3, &["a"]))).ok(),
            None,
            "a listed twice across a taken page"
        );
        assert_eq!(
            Listing::<User>::default().take(typed(&page(0, &[]))).ok(),
            Some(Next::Done)
        );
    }

    #[test]
    fn a_listing_that_cannot_be_shown_complete_fails() {
        for pages in [
            vec![page(4, &["a", "b"]), page(4, &["a", "b"])],
            vec![page(3, &["a", "b"]), page(4, &["c"])],
            vec![page(1, &["a", "b"])],
            vec![page(3, &["a"]), page(3, &[])],
            vec![json!({ "Resources": [] })],
        ] {
            let mut listing: Listing = Listing::default();
            let failed = pages.iter().any(|p| listing.take(typed(p)).is_err());
            assert!(failed, "{pages:?}");
        }
    }
}
