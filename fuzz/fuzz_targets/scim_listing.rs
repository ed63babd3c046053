//! Any sequence of SCIM list responses (pages separated by a 0xFF byte, each JSON or not):
//! the listing never panics, and a listing it calls complete has every user once and exactly
//! `totalResults` of them (Trust #2, #10).
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use xtsync::providers::scim::listing::{Listing, Next};
use xtsync::providers::scim::resource;

fuzz_target!(|data: &[u8]| {
    let mut listing: Listing = Listing::default();
    let mut total = None;
    for bytes in data.split(|&b| b == 0xFF) {
        let Ok(page) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            return;
        };
        // The resource parser on its own, on whatever the page holds.
        for r in page.get("Resources").and_then(|r| r.as_array()).into_iter().flatten() {
            let _ = resource::to_user(r);
        }
        total = page.get("totalResults").and_then(serde_json::Value::as_u64).or(total);
        match listing.take(&page) {
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
