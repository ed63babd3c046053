//! A peer's JSON as a `serde_json::Value` tree, within a memory budget. A tree costs far more
//! than its text when the text is made of tiny values: `{},` is 3 bytes and a 64-byte node,
//! so a 32 MiB body of them would take gigabytes. The tree a body would make is costed first,
//! as it is parsed and without building it, and a body over the budget is refused.
//!
//! Listing pages are not read this way: they are parsed into typed structures that keep only
//! what xtsync uses (`scim::wire`, `msgraph::wire`).

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A body may take this many times its size as a tree (as costed below). An answer of real
/// users and groups costs 4–6 times (every small object is a map); 12 leaves room for dense
/// ones and refuses a body built to expand — tiny values cost 17 to 32 times their size.
pub const EXPANSION: usize = 12;
/// Small answers (an error, an empty page) are never refused for their ratio.
const FLOOR: usize = 64 * 1024;

/// What one node of the tree costs: the `Value`, and as much again for the `Vec` or map that
/// holds it (vectors grow by doubling; a map entry also holds its key's `String`).
const NODE: usize = 2 * std::mem::size_of::<Value>();

/// `bytes` as JSON; an empty (204) or blank body is `Null`. A body that is not JSON, or whose
/// tree would take more than `EXPANSION` times its size, is an error: a read that cannot be
/// understood, or that would exhaust memory, is a failed read.
pub fn value(bytes: &[u8]) -> Result<Value, Refused> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let budget = budget(bytes.len());
    let cost = tree_cost(bytes, budget)?;
    debug_assert!(cost <= budget);
    serde_json::from_slice(bytes).map_err(|e| Refused::NotJson(e.to_string()))
}

/// What the tree of a body of `size` bytes may cost.
pub fn budget(size: usize) -> usize {
    size.saturating_mul(EXPANSION).max(FLOOR)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("the answer is not JSON ({0})")]
    NotJson(String),
    #[error("the answer would take more than {budget} bytes in memory ({size} bytes of tiny values); it was not kept")]
    TooExpansive { size: usize, budget: usize },
}

impl From<Refused> for super::DirectoryError {
    fn from(refused: Refused) -> Self {
        super::DirectoryError::InvalidResponse(refused.to_string())
    }
}

/// What the tree of `bytes` would cost, in bytes; refused as soon as it passes `budget`.
pub fn tree_cost(bytes: &[u8], budget: usize) -> Result<usize, Refused> {
    let mut cost = 0;
    let mut parser = serde_json::Deserializer::from_slice(bytes);
    let result = Costed {
        cost: &mut cost,
        budget,
    }
    .deserialize(&mut parser)
    .and_then(|()| parser.end());
    match result {
        Ok(()) => Ok(cost),
        Err(_) if cost > budget => Err(Refused::TooExpansive {
            size: bytes.len(),
            budget,
        }),
        Err(e) => Err(Refused::NotJson(e.to_string())),
    }
}

/// Adds one node (and its text) to the cost; fails once the cost passes the budget.
struct Costed<'a> {
    cost: &'a mut usize,
    budget: usize,
}

impl Costed<'_> {
    fn add<E: de::Error>(&mut self, bytes: usize) -> Result<(), E> {
        *self.cost = self.cost.saturating_add(bytes);
        if *self.cost > self.budget {
            return Err(E::custom("over budget"));
        }
        Ok(())
    }

    fn again(&mut self) -> Costed<'_> {
        Costed {
            cost: self.cost,
            budget: self.budget,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Costed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Costed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E: de::Error>(mut self, _: bool) -> Result<(), E> {
        self.add(NODE)
    }

    fn visit_i64<E: de::Error>(mut self, _: i64) -> Result<(), E> {
        self.add(NODE)
    }

    fn visit_u64<E: de::Error>(mut self, _: u64) -> Result<(), E> {
        self.add(NODE)
    }

    fn visit_f64<E: de::Error>(mut self, _: f64) -> Result<(), E> {
        self.add(NODE)
    }

    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.add(NODE)
    }

    fn visit_str<E: de::Error>(mut self, text: &str) -> Result<(), E> {
        self.add(NODE + text.len())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.add::<A::Error>(NODE)?;
        while seq.next_element_seed(self.again())?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.add::<A::Error>(NODE)?;
        while let Some(key) = map.next_key::<Key>()? {
            // The key's `String` beside the entry's value.
            self.add::<A::Error>(std::mem::size_of::<String>() + key.0)?;
            map.next_value_seed(self.again())?;
        }
        Ok(())
    }
}

/// A map key, as its length.
struct Key(usize);

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        struct Length;
        impl Visitor<'_> for Length {
            type Value = Key;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(Key(key.len()))
            }
        }
        deserializer.deserialize_str(Length)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn repeated(item: &str, times: usize) -> Vec<u8> {
        let mut text = String::from("[");
        for i in 0..times {
            if i > 0 {
                text.push(',');
            }
            text.push_str(item);
        }
        text.push(']');
        text.into_bytes()
    }

    #[test]
    fn real_answers_fit_their_budget_with_room_to_spare() {
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "userName": "bjensen@example.com",
            "name": { "familyName": "Jensen", "givenName": "Barbara" },
            "emails": [{ "value": "bjensen@example.com", "type": "work", "primary": true }],
            "active": true,
            "meta": { "resourceType": "User", "version": "W/\"3694e05e9dff591\"",
                      "lastModified": "2011-05-13T04:42:34Z" }
        });
        let page = json!({ "totalResults": 1000, "Resources": vec![user; 1000] }).to_string();
        let cost = tree_cost(page.as_bytes(), usize::MAX).expect("JSON");
        assert!(cost <= page.len() * EXPANSION / 2, "{cost} for {} bytes", page.len());
        assert_eq!(
            value(page.as_bytes()).map(|v| v["totalResults"].clone()),
            Ok(json!(1000))
        );
    }

    #[test]
    fn a_body_of_tiny_values_is_refused_before_it_is_built() {
        for item in ["{}", "0", "[]", "\"\"", "null", "{\"a\":{}}"] {
            let body = repeated(item, 200_000);
            let refused = value(&body).expect_err(item);
            assert!(matches!(refused, Refused::TooExpansive { .. }), "{item}: {refused}");
        }
    }

    #[test]
    fn blank_is_null_and_garbage_is_not_json() {
        assert_eq!(value(b"  \n"), Ok(Value::Null));
        assert!(matches!(value(b"<html>"), Err(Refused::NotJson(_))));
        assert!(matches!(value(b"{} {}"), Err(Refused::NotJson(_))));
        assert!(matches!(value(&[b'['; 1000]), Err(Refused::NotJson(_))), "too deep");
    }
}
