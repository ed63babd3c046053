//! The OData pieces of Graph the fake needs: query options, the `$filter` forms xtsync sends
//! (`eq`, `in`, on plain and `onPremisesExtensionAttributes/…` properties), `$select`, and
//! Graph's error body.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Query options by name (`$select`, `$filter`, …), decoded.
pub fn query(uri_query: Option<&str>) -> BTreeMap<String, String> {
    let Some(q) = uri_query else { return BTreeMap::new() };
    reqwest::Url::parse(&format!("http://fake/?{q}"))
        .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default()
}

/// Graph's error body (Microsoft Graph REST API: error responses).
pub fn error(code: &str, message: &str) -> Value {
    json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": "2026-11-25T00:00:00",
                "request-id": "00000000-fake-4000-8000-000000000000",
                "client-request-id": "00000000-fake-4000-8000-000000000000"
            }
        }
    })
}

/// A parsed filter: `property eq 'v'` or `property in ('a', 'b')`.
#[derive(Debug)]
pub struct Filter {
    /// `userPrincipalName`, or `onPremisesExtensionAttributes/extensionAttribute15`.
    pub path: String,
    pub values: Vec<String>,
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, String> {
        let text = text.trim();
        let (path, rest) = text.split_once(' ').ok_or("Invalid filter clause")?;
        let rest = rest.trim_start();
        let values = if let Some(literal) = rest.strip_prefix("eq ") {
            vec![string_literal(literal.trim())?]
        } else if let Some(list) = rest.strip_prefix("in ") {
            let list = list
                .trim()
                .strip_prefix('(')
                .and_then(|l| l.strip_suffix(')'))
                .ok_or("Invalid filter clause: 'in' needs a parenthesised list")?;
            split_literals(list)?
        } else {
            return Err(format!("Invalid filter clause: unsupported operator in '{text}'"));
        };
        Ok(Filter {
            path: path.to_owned(),
            values,
        })
    }

    /// Advanced queries (Microsoft Learn: "Advanced query capabilities on Microsoft Entra ID
    /// objects"): filtering on `onPremisesExtensionAttributes` needs `ConsistencyLevel:
    /// eventual` and `$count=true`.
    pub fn is_advanced(&self) -> bool {
        self.path.starts_with("onPremisesExtensionAttributes/")
    }

    /// String comparisons of Entra directory objects ignore case.
    pub fn matches(&self, object: &Value) -> bool {
        let value = self
            .path
            .split('/')
            .try_fold(object, |v, key| v.get(key))
            .and_then(Value::as_str);
        value.is_some_and(|v| self.values.iter().any(|want| want.eq_ignore_ascii_case(v)))
    }
}

fn string_literal(text: &str) -> Result<String, String> {
    let inner = text
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .ok_or_else(|| format!("Invalid filter clause: expected a string literal, found {text}"))?;
    Ok(inner.replace("''", "'"))
}

/// `'a', 'b''c'` → [a, b'c] (a quote inside a literal is doubled).
fn split_literals(list: &str) -> Result<Vec<String>, String> {
    let mut values = Vec::new();
    let mut chars = list.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        match chars.next() {
            None => return Ok(values),
            Some('\'') => {}
            Some(c) => return Err(format!("Invalid filter clause: unexpected '{c}'")),
        }
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                    value.push('\'');
                }
                Some('\'') => break,
                Some(c) => value.push(c),
                None => return Err("Invalid filter clause: unterminated string".into()),
            }
        }
        values.push(value);
    }
}

/// `$select`: `id` and the listed properties (a property never set is returned as null, as
/// Graph does for selected properties).
pub fn select(object: &Value, select: Option<&String>) -> Value {
    let Some(select) = select else { return object.clone() };
    let mut out = Map::new();
    out.insert("id".into(), object.get("id").cloned().unwrap_or(Value::Null));
    for property in select.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        out.insert(
            property.to_owned(),
            object.get(property).cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}

/// A page's size (`$top`, 1–999, else `default`) and its offset (`$skiptoken`, as the fake
/// writes it: the number of items before the page).
pub fn paging(query: &BTreeMap<String, String>, default: usize) -> (usize, usize) {
    let number = |key: &str| query.get(key).and_then(|t| t.parse::<usize>().ok());
    (
        number("$top").unwrap_or(default).clamp(1, 999),
        number("$skiptoken").unwrap_or(0),
    )
}
