//! Any text as an attribute-mapping expression: parsing never panics nor overflows the stack
//! (README, "Safety"), and what parses evaluates against a user without panicking, to a value within
//! `MAX_VALUE_BYTES` (one attribute is long, so that growing functions reach the bound).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xtsync::engine::evaluate::{MAX_VALUE_BYTES, evaluate};
use xtsync::engine::expression::parse;
use xtsync::engine::user::User;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    if let Ok(expr) = parse(&source) {
        let _ = expr.attributes();
        let user = User {
            id: "u1".into(),
            attributes: [
                ("userName", "alice@contoso.com"),
                ("givenName", "Alice"),
                ("surname", "Smith"),
                ("department", "Sales"),
                ("jobTitle", "Lead, EMEA"),
            ]
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .chain([("displayName", "xß가".repeat(2048))])
            .collect(),
            ..User::default()
        };
        if let Ok(Some(value)) = evaluate(&expr, &user) {
            assert!(value.len() <= MAX_VALUE_BYTES, "{} bytes", value.len());
        }
    }
});
