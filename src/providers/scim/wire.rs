//! SCIM answers as xtsync keeps them: a list response (RFC 7644 §3.4.2) whose `Resources` are
//! counted as they are parsed — no more than the `count` asked for (§3.4.2.4: "MUST NOT
//! return more results than specified") — and User (RFC 7643 §4.1, enterprise extension §4.3)
//! and Group (§4.2) resources with only the attributes xtsync reads. Everything else is skipped
//! as it is parsed, unbuilt, so that a page costs memory in proportion to what is kept.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::providers::wire::{AtMost, DeserializeOwnedStruct, Entry, flag, number, object, text};

/// Emails one user may have: directories hold a handful; a list longer than this is a peer
/// built to make each user expensive.
pub const MAX_EMAILS: usize = 100;

/// One page of a listing: its `totalResults` and at most `count` resources.
pub struct Page<T> {
    pub total_results: Option<u64>,
    pub resources: Vec<T>,
}

/// Parses a page of at most `most` resources of `T`.
pub struct PageOf<T> {
    pub most: usize,
    pub resource: PhantomData<T>,
}

impl<T> PageOf<T> {
    pub fn new(most: usize) -> Self {
        PageOf {
            most,
            resource: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for PageOf<T> {
    type Value = Page<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Page<T>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for PageOf<T> {
    type Value = Page<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a SCIM list response")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page<T>, A::Error> {
        let mut page = Page {
            total_results: None,
            resources: Vec::new(),
        };
        let mut listed = false;
        while let Some(key) = map.next_key::<PageKey>()? {
            match key {
                PageKey::TotalResults => page.total_results = map.next_value::<Count>()?.0,
                PageKey::Resources if listed => return Err(de::Error::duplicate_field("Resources")),
                PageKey::Resources => {
                    listed = true;
                    page.resources = map.next_value_seed(AtMost::new(self.most, "resources asked for"))?;
                }
                PageKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(page)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum PageKey {
    #[serde(rename = "totalResults")]
    TotalResults,
    Resources,
    #[serde(other)]
    Other,
}

/// A lenient count (`totalResults`): absent when it is not a whole number.
struct Count(Option<u64>);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Count, D::Error> {
        number(deserializer).map(Count)
    }
}

/// A User resource, as much of it as xtsync reads.
#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ScimUser {
    #[serde(default, deserialize_with = "text")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub user_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub user_type: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub external_id: Option<String>,
    #[serde(default, deserialize_with = "object")]
    pub name: Option<Name>,
    #[serde(default, deserialize_with = "emails")]
    pub emails: Vec<Email>,
    #[serde(default, deserialize_with = "flag")]
    pub active: Option<bool>,
    #[serde(
        default,
        rename = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        deserialize_with = "object"
    )]
    pub enterprise: Option<Enterprise>,
    #[serde(default, deserialize_with = "object")]
    pub meta: Option<Meta>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Name {
    #[serde(default, deserialize_with = "text")]
    pub given_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub family_name: Option<String>,
}

/// One of a user's `emails`.
#[derive(Deserialize, Default, Debug)]
pub struct Email {
    #[serde(default, deserialize_with = "text")]
    pub value: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "text")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    pub primary: Option<bool>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Enterprise {
    #[serde(default, deserialize_with = "text")]
    pub department: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub employee_number: Option<String>,
    #[serde(default, deserialize_with = "object")]
    pub manager: Option<Reference>,
}

/// A reference to another resource (`manager`, a group's member): its id.
#[derive(Deserialize, Default, Debug)]
pub struct Reference {
    #[serde(default, deserialize_with = "text")]
    pub value: Option<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default, deserialize_with = "text")]
    pub version: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub last_modified: Option<String>,
}

/// A Group resource, as much of it as xtsync reads: members are kept by id only.
#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ScimGroup {
    #[serde(default, deserialize_with = "text")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub external_id: Option<String>,
    /// `None` when the answer has no `members` (not the same as a group without members).
    #[serde(default, deserialize_with = "member_ids")]
    pub members: Option<Vec<String>>,
    #[serde(default, deserialize_with = "object")]
    pub meta: Option<Meta>,
}

impl DeserializeOwnedStruct for Name {}
impl DeserializeOwnedStruct for Email {}
impl DeserializeOwnedStruct for Enterprise {}
impl DeserializeOwnedStruct for Reference {}
impl DeserializeOwnedStruct for Meta {}

/// `emails`: at most `MAX_EMAILS` of them (entries that are not objects are dropped).
fn emails<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Email>, D::Error> {
    AtMost::kept(MAX_EMAILS, "emails", |e: Entry<Email>| e.0).deserialize(deserializer)
}

/// `members`: the ids of the entries that have one, nothing else of them kept; a list only
/// as long as the (capped) body allows.
fn member_ids<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
    let keep = |e: Entry<Reference>| e.0?.value;
    AtMost::kept(usize::MAX, "members", keep)
        .deserialize(deserializer)
        .map(Some)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::providers::wire::parse_seeded;

    fn user(value: serde_json::Value) -> ScimUser {
        serde_json::from_value(value).expect("a user")
    }

    #[test]
    fn what_is_not_the_expected_kind_is_absent_not_an_error() {
        // As `Value::as_str` and friends read them: a number for a string, a string for an
        // object, a list for a flag.
        let u = user(json!({ "id": "u1", "title": 5, "name": "Alice", "active": [true],
                             "emails": "a@contoso.com", "meta": null, "userName": "" }));
        assert_eq!(u.id.as_deref(), Some("u1"));
        assert!(u.title.is_none() && u.name.is_none() && u.active.is_none() && u.meta.is_none());
        assert!(
            u.emails.is_empty() && u.user_name.is_none(),
            "an empty string is no value"
        );
        let u = user(json!({ "id": 7, "emails": [3, { "value": "a@contoso.com" }] }));
        assert!(u.id.is_none());
        assert_eq!(u.emails.len(), 1, "entries that are not objects are dropped");
    }

    #[test]
    fn a_page_without_resources_or_with_null_ones_is_empty() {
        for body in [r#"{"totalResults":0}"#, r#"{"totalResults":0,"Resources":null}"#] {
            let page = parse_seeded(body.as_bytes(), PageOf::<ScimUser>::new(10)).expect("a page");
            assert_eq!((page.total_results, page.resources.len()), (Some(0), 0));
        }
        let twice = r#"{"totalResults":0,"Resources":[],"Resources":[]}"#;
        assert!(parse_seeded(twice.as_bytes(), PageOf::<ScimUser>::new(10)).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        /// A page is read whole when it holds no more resources than asked for, and refused
        /// when it holds more — whatever else its resources carry.
        #[test]
        fn a_page_holds_at_most_the_count_asked_for(
            names in proptest::collection::vec("[a-z]{0,12}", 0..40),
            count in 0usize..40,
            junk in proptest::collection::vec(0u8..3, 0..20),
        ) {
            let resources: Vec<_> = names
                .iter()
                .enumerate()
                .map(|(i, name)| json!({ "id": format!("u{i}"), "userName": name, "x": junk, "y": { "z": junk } }))
                .collect();
            let body = json!({ "totalResults": names.len(), "Resources": resources }).to_string();
            let page = parse_seeded(body.as_bytes(), PageOf::<ScimUser>::new(count));
            match page {
                Ok(page) => {
                    prop_assert!(names.len() <= count);
                    let kept: Vec<String> = page.resources.into_iter().map(|u| u.user_name.unwrap_or_default()).collect();
                    prop_assert_eq!(kept, names);
                }
                Err(e) => {
                    prop_assert!(names.len() > count);
                    prop_assert!(e.to_string().contains("resources asked for"), "{}", e);
                }
            }
        }
    }
}
