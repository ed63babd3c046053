//! Any text as an attribute-mapping expression: parsing never panics nor overflows the stack
//! (Trust #9), and what parses evaluates against a user without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xtsync::engine::evaluate::evaluate;
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
            .collect(),
            ..User::default()
        };
        let _ = evaluate(&expr, &user);
    }
});
