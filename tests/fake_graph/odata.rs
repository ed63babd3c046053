//! The OData pieces of Graph the fake needs: query options, the `$filter` forms xtsync sends
//! (`eq`, `in`, on plain and `onPremisesExtensionAttributes/…` properties, `any` on string
//! collections, clauses joined by `or`), `$select`, and Graph's error body.

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

/// A parsed filter: clauses joined by `or`, each `property eq 'v'`, `property in ('a', 'b')` or,
/// on a string collection (`otherMails`, `proxyAddresses`), `property/any(x:x eq 'v')`
/// (Microsoft Learn, "Use the $filter query parameter": lambda operators).
#[derive(Debug)]
pub struct Filter {
    clauses: Vec<Clause>,
}

#[derive(Debug)]
struct Clause {
    /// `userPrincipalName`, or `onPremisesExtensionAttributes/extensionAttribute15`.
    path: String,
    values: Vec<String>,
    /// `path/any(…)`: the property is a collection, any of whose items may match.
    any: bool,
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, String> {
        let clauses = split_outside_quotes(text.trim(), " or ")
            .into_iter()
            .map(Clause::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Filter { clauses })
    }

    /// Advanced queries (Microsoft Learn: "Advanced query capabilities on Microsoft Entra ID
    /// objects"): filtering on `onPremisesExtensionAttributes` needs `ConsistencyLevel:
    /// eventual` and `$count=true`.
    pub fn is_advanced(&self) -> bool {
        self.clauses
            .iter()
            .any(|c| c.path.starts_with("onPremisesExtensionAttributes/"))
    }

    /// The property an advanced query is needed for, for Graph's error message.
    pub fn advanced_property(&self) -> Option<&str> {
        self.clauses
            .iter()
            .find_map(|c| c.path.strip_prefix("onPremisesExtensionAttributes/"))
    }

    /// String comparisons of Entra directory objects ignore case.
    pub fn matches(&self, object: &Value) -> bool {
        self.clauses.iter().any(|c| c.matches(object))
    }
}

impl Clause {
    fn parse(text: &str) -> Result<Clause, String> {
        let text = text.trim();
        if let Some((path, lambda)) = text.split_once("/any(") {
            let body = lambda
                .strip_suffix(')')
                .ok_or("Invalid filter clause: unterminated lambda")?;
            let (variable, predicate) = body
                .split_once(':')
                .ok_or("Invalid filter clause: lambda without ':'")?;
            let literal = predicate
                .trim()
                .strip_prefix(variable.trim())
                .and_then(|p| p.trim_start().strip_prefix("eq "))
                .ok_or_else(|| format!("Invalid filter clause: unsupported lambda in '{text}'"))?;
            return Ok(Clause {
                path: path.to_owned(),
                values: vec![string_literal(literal.trim())?],
                any: true,
            });
        }
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
        Ok(Clause {
            path: path.to_owned(),
            values,
            any: false,
        })
    }

    fn matches(&self, object: &Value) -> bool {
        let Some(value) = self.path.split('/').try_fold(object, |v, key| v.get(key)) else {
            return false;
        };
        let wanted = |v: &str| self.values.iter().any(|want| want.eq_ignore_ascii_case(v));
        if self.any {
            value
                .as_array()
                .is_some_and(|items| items.iter().filter_map(Value::as_str).any(wanted))
        } else {
            value.as_str().is_some_and(wanted)
        }
    }
}

/// `text` split at every `separator` that is not inside a string literal.
fn split_outside_quotes<'t>(text: &'t str, separator: &str) -> Vec<&'t str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        if text.as_bytes()[i] == b'\'' {
            quoted = !quoted;
        } else if !quoted && text[i..].starts_with(separator) {
            parts.push(&text[start..i]);
            i += separator.len();
            start = i;
            continue;
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
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
