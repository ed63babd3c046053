//! Any JSON as a Graph answer: a user (`/users`, delta items with `manager@delta`, deleted
//! items) and a users page parse without panicking, and a page never yields more items than
//! its `$top`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xtsync::providers::msgraph::collection::Item;
use xtsync::providers::msgraph::resource::{self, AnchorAttribute, GraphUser};

/// The `$top` the fuzzed pages are asked for.
const TOP: usize = 20;

fuzz_target!(|data: &[u8]| {
    let Ok(anchor) = AnchorAttribute::of(None) else {
        return;
    };
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = resource::to_user(&value, anchor);
        if let Ok(user) = serde_json::from_value::<GraphUser>(value.clone()) {
            let _ = resource::to_deleted_user(user, anchor);
        }
    }
    if let Ok(page) = GraphUser::page(data, TOP) {
        assert!(page.values.len() <= TOP, "a page held more items than its $top");
        let _ = resource::delta_page(page.values, anchor);
    }
    if let Ok(page) = serde_json::Value::page(data, TOP) {
        assert!(page.values.len() <= TOP, "a page held more items than its $top");
    }
});
