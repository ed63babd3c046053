//! The requests one cycle sent to a directory, grouped by what they ask (a counting proxy's
//! log): how many of each kind, and how long they took in all — where a cycle's time goes.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::counting_proxy::Logged;

/// What a SCIM request asks for, read from its method, path and filter.
fn kind(request: &Logged) -> String {
    let url = reqwest::Url::parse(&format!("http://directory{}", request.path_and_query));
    let Ok(url) = url else {
        return format!("{} (unparsable)", request.method);
    };
    let filter = url
        .query_pairs()
        .find(|(name, _)| name == "filter")
        .map(|(_, value)| value.into_owned());
    let path = url.path();
    let below_users = path.rsplit_once("/Users/").is_some_and(|(_, id)| !id.is_empty());
    match (request.method.as_str(), filter) {
        ("GET", Some(filter)) => {
            let attribute = filter.split_whitespace().next().unwrap_or_default().to_owned();
            let terms = filter.matches(" or ").count() + 1;
            if terms > 1 {
                format!("GET filter {attribute} … ({terms} terms)")
            } else {
                format!("GET filter {attribute}")
            }
        }
        ("GET", None) if below_users => "GET /Users/{id} (direct read)".to_owned(),
        ("GET", None) if path.ends_with("/Users") => "GET /Users (listing page)".to_owned(),
        (method, _) if below_users => format!("{method} /Users/{{id}}"),
        (method, _) => format!("{method} {}", path.rsplit('/').next().unwrap_or_default()),
    }
}

/// Prints one line per kind of request `side` was sent: count, total time, slowest.
pub fn print(side: &str, log: &[Logged]) {
    let mut kinds: BTreeMap<String, (usize, Duration, Duration)> = BTreeMap::new();
    for request in log {
        let entry = kinds.entry(kind(request)).or_default();
        entry.0 += 1;
        entry.1 += request.took;
        entry.2 = entry.2.max(request.took);
    }
    for (kind, (count, total, slowest)) in kinds {
        println!("          {side:<6} {kind:<44} {count:>5} requests, {total:>9.2?} in all, slowest {slowest:.2?}");
    }
}
