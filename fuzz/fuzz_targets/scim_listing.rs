//! Any sequence of SCIM list responses (pages separated by a 0xFF byte, each JSON or not),
//! each asked for with the `count` of the first byte: the listing never panics, a page never
//! yields more resources than its `count`, and a listing it calls complete has every user once
//! and exactly `totalResults` of them.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use xtsync::engine::user::User;
use xtsync::providers::scim::listing::{self, Listing, Next};
use xtsync::providers::scim::resource;

fuzz_target!(|data: &[u8]| {
    let Some((&count, data)) = data.split_first() else {
        return;
    };
    let count = usize::from(count);
    let mut listing: Listing = Listing::default();
    let mut total = None;
    for bytes in data.split(|&b| b == 0xFF) {
        // The resource parser on its own, on whatever the page holds.
        if let Ok(page) = serde_json::from_slice::<serde_json::Value>(bytes) {
            for r in page.get("Resources").and_then(|r| r.as_array()).into_iter().flatten() {
                let _ = resource::to_user(r);
            }
        }
        let Ok(page) = listing::parse::<User>(bytes, count) else {
            return;
        };
        assert!(
            page.resources.len() <= count,
            "a page held more resources than asked for"
        );
        total = page.total_results.or(total);
        match listing.take(page) {
            Err(_) => return,
            Ok(Next::Page { .. }) => continue,
            Ok(Next::Done) => {
                let users = listing.into_users();
                let ids: HashSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
                assert_eq!(ids.len(), users.len(), "a user listed twice was accepted");
                assert_eq!(
                    Some(users.len() as u64),
                    total,
                    "a complete listing has totalResults users"
                );
                return;
            }
        }
    }
});
