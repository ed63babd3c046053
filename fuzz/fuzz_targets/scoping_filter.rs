//! Any scoping filter: lines of `attribute|operator|value`, groups separated by blank lines.
//! Compiling never panics (a bad regex or number is a problem, not a crash), and a compiled
//! filter judges a user without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xtsync::engine::filter::{WrittenClause, compile};
use xtsync::engine::scope::passes;
use xtsync::engine::user::User;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let groups: Vec<Vec<WrittenClause<'_>>> = text
        .split("\n\n")
        .map(|group| {
            group
                .lines()
                .map(|line| {
                    let mut parts = line.splitn(3, '|');
                    WrittenClause {
                        attribute: parts.next().unwrap_or_default(),
                        operator: parts.next().unwrap_or_default(),
                        value: parts.next(),
                    }
                })
                .collect()
        })
        .collect();
    if let Ok(filter) = compile(&groups) {
        let user = User {
            id: "u1".into(),
            attributes: [("department", "Sales"), ("employeeId", "42"), ("active", "true")]
                .into_iter()
                .map(|(k, v)| (k, v.to_owned()))
                .collect(),
            ..User::default()
        };
        let _ = passes(&filter, &user);
    }
});
