//! Hostile peers' answers, shared by the benches that read from them: bodies without end,
//! pages built to expand within the size cap, pages with more resources than asked for.

use serde_json::json;

use crate::hostile::{Answer, token};

/// `item` `times` times, comma-separated.
pub fn repeated(item: &str, times: usize) -> String {
    vec![item; times].join(",")
}

/// A SCIM page of 100 users, each wrapped in `junk` attributes xtsync does not read.
pub fn junk_page(junk: &str) -> String {
    let users: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"id":"u{i}","userName":"u{i}@contoso.com","x":[{junk}]}}"#))
        .collect();
    format!(r#"{{"totalResults":100,"Resources":[{}]}}"#, users.join(","))
}

pub type Handler = Box<dyn Fn(&str, &str) -> Answer + Send + Sync>;

/// The hostile peers, by name: each answers every request alike.
pub fn peers() -> Vec<(&'static str, Handler)> {
    let zeros = repeated("0", 15_000_000);
    let junk = junk_page(&repeated("0", 150_000));
    let emails = format!(
        r#"{{"totalResults":1,"Resources":[{{"id":"u1","emails":[{}]}}]}}"#,
        repeated("{}", 10_000_000)
    );
    let single = format!(r#"{{"id":"u1","x":[{zeros}]}}"#);
    let groups = format!(r#"{{"value":[{{"id":"g1","x":[{zeros}]}}]}}"#);
    let users: Vec<String> = (0..999)
        .map(|i| format!(r#"{{"id":"u{i}","x":[{}]}}"#, repeated("[]", 10_000)))
        .collect();
    let users = format!(r#"{{"value":[{}]}}"#, users.join(","));
    let graph = |page: String| -> Handler {
        Box::new(move |_, path| {
            if path.contains("/oauth2/") {
                token()
            } else if path.contains("deletedItems") {
                Answer::json(200, json!({ "value": [] }))
            } else {
                Answer::text(200, &page)
            }
        })
    };
    vec![
        (
            "scim-announced",
            Box::new(|_, _| Answer::endless(r#"{"totalResults":1,"Resources":"#, 2 << 30)),
        ),
        (
            "scim-streamed",
            Box::new(|_, _| Answer::endless(r#"{"totalResults":1,"Resources":"#, 2 << 30).without_length()),
        ),
        (
            "scim-probe",
            Box::new(|_, _| Answer::endless(r#"{"patch":"#, 2 << 30).without_length()),
        ),
        ("scim-junk", Box::new(move |_, _| Answer::text(200, &junk))),
        ("scim-emails", Box::new(move |_, _| Answer::text(200, &emails))),
        ("scim-single", Box::new(move |_, _| Answer::text(200, &single))),
        (
            "scim-overfull",
            Box::new(|_, path| {
                let count: usize = path
                    .split("count=")
                    .nth(1)
                    .and_then(|s| s.split('&').next()?.parse().ok())
                    .unwrap_or(0);
                let users: Vec<_> = (0..count * 100).map(|i| json!({ "id": format!("u{i}") })).collect();
                Answer::json(200, json!({ "totalResults": users.len(), "Resources": users }))
            }),
        ),
        (
            "graph-token",
            Box::new(|_, _| Answer::endless(r#"{"access_token":""#, 2 << 30).without_length()),
        ),
        ("graph-groups", graph(groups)),
        ("graph-users", graph(users)),
    ]
}
