//! Any JSON as a Graph answer: a user (`/users`, delta items with `manager@delta`, deleted
//! items) and a delta page parse without panicking (Trust #5, #10).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xtsync::providers::msgraph::resource::{self, AnchorAttribute};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(anchor) = AnchorAttribute::of(None) else {
        return;
    };
    let _ = resource::to_user(&value, anchor);
    let _ = resource::to_deleted_user(&value, anchor);
    if let Some(values) = value.get("value").and_then(|v| v.as_array()) {
        let _ = resource::delta_page(values.clone(), anchor);
    }
});
