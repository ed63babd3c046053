//! Graph answers as xtsync keeps them: a collection page (`value`, `@odata.nextLink`,
//! `@odata.deltaLink`) whose items are counted as they are parsed — no more than the `$top`
//! asked for, and never more than Graph's largest page (Microsoft Learn, "Paging Microsoft
//! Graph data in your app") — and `user` resources with only the properties xtsync selects.
//! Everything else is skipped as it is parsed, unbuilt.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::providers::wire::{AtMost, DeserializeOwnedStruct, Entry, flag, object, present, text};

/// The largest page Graph serves (`$top` up to 999 for users and groups); a page asked for
/// without `$top` (a delta round) holds no more.
pub const MAX_PAGE: usize = 999;

/// One page of a collection.
pub struct GraphPage<T> {
    pub values: Vec<T>,
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
}

/// Parses a page of at most `most` items of `T`; a page without `value` is not one.
pub struct GraphPageOf<T> {
    pub most: usize,
    pub item: PhantomData<T>,
}

impl<T> GraphPageOf<T> {
    pub fn new(most: usize) -> Self {
        GraphPageOf {
            most,
            item: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for GraphPageOf<T> {
    type Value = GraphPage<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<GraphPage<T>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for GraphPageOf<T> {
    type Value = GraphPage<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a collection page")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GraphPage<T>, A::Error> {
        let (mut values, mut next_link, mut delta_link) = (None, None, None);
        while let Some(key) = map.next_key::<PageKey>()? {
            match key {
                PageKey::Value if values.is_some() => return Err(de::Error::duplicate_field("value")),
                PageKey::Value => {
                    values = Some(map.next_value_seed(AtMost::new(self.most, "items asked for").strict())?)
                }
                PageKey::NextLink => next_link = map.next_value::<Text>()?.0,
                PageKey::DeltaLink => delta_link = map.next_value::<Text>()?.0,
                PageKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(GraphPage {
            values: values.ok_or_else(|| de::Error::missing_field("value"))?,
            next_link,
            delta_link,
        })
    }
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum PageKey {
    #[serde(rename = "value")]
    Value,
    #[serde(rename = "@odata.nextLink")]
    NextLink,
    #[serde(rename = "@odata.deltaLink")]
    DeltaLink,
    #[serde(other)]
    Other,
}

/// A lenient string, as a value of its own.
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        text(deserializer).map(Text)
    }
}

/// A `user` (or an item of a users delta round), as much of it as xtsync selects.
#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct GraphUser {
    #[serde(default, deserialize_with = "text")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub user_principal_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub given_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub surname: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub mail: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub job_title: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub department: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub employee_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub user_type: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    pub account_enabled: Option<bool>,
    #[serde(default, deserialize_with = "text")]
    pub creation_type: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub external_user_state: Option<String>,
    #[serde(default, deserialize_with = "object")]
    pub on_premises_extension_attributes: Option<Extensions>,
    #[serde(default, deserialize_with = "object")]
    pub manager: Option<DirectoryReference>,
    /// `manager@delta`, as users delta returns the manager: the first entry not `@removed`.
    #[serde(default, rename = "manager@delta", deserialize_with = "manager_delta")]
    pub manager_delta: Option<Option<String>>,
    /// The item reports the user removed (`@removed`, whatever its reason).
    #[serde(default, rename = "@removed", deserialize_with = "present")]
    pub removed: bool,
    #[serde(default, deserialize_with = "addresses")]
    pub other_mails: Vec<String>,
    #[serde(default, deserialize_with = "addresses")]
    pub proxy_addresses: Vec<String>,
}

/// Addresses one user may hold in `otherMails` or `proxyAddresses`: Exchange keeps a few
/// hundred at most; a longer list is a peer built to make each user expensive (the read fails,
/// and nothing is deprovisioned after it).
pub const MAX_ADDRESSES: usize = 1000;

/// A list entry that is a string, or anything else (skipped).
struct Address(Option<String>);

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Address, D::Error> {
        text(deserializer).map(Address)
    }
}

/// `otherMails`, `proxyAddresses`: at most `MAX_ADDRESSES` strings.
fn addresses<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    AtMost::kept(MAX_ADDRESSES, "addresses", |a: Address| a.0).deserialize(deserializer)
}

impl GraphUser {
    /// One of the plain string properties (`STRING_PROPERTIES`), taken out.
    pub fn take_string(&mut self, property: &str) -> Option<String> {
        match property {
            "displayName" => self.display_name.take(),
            "givenName" => self.given_name.take(),
            "surname" => self.surname.take(),
            "mail" => self.mail.take(),
            "jobTitle" => self.job_title.take(),
            "department" => self.department.take(),
            "employeeId" => self.employee_id.take(),
            _ => None,
        }
    }
}

/// A directory object as a reference (`manager`): its id.
#[derive(Deserialize, Default, Debug)]
pub struct DirectoryReference {
    #[serde(default, deserialize_with = "text")]
    pub id: Option<String>,
}

/// An entry of `manager@delta`.
#[derive(Deserialize, Default, Debug)]
struct ManagerChange {
    #[serde(default, deserialize_with = "text")]
    id: Option<String>,
    #[serde(default, rename = "@removed", deserialize_with = "present")]
    removed: bool,
}

impl DeserializeOwnedStruct for DirectoryReference {}
impl DeserializeOwnedStruct for ManagerChange {}
impl DeserializeOwnedStruct for Extensions {}

/// A user has one manager: a delta item lists its old and new one, not a crowd.
const MAX_MANAGER_CHANGES: usize = 16;

fn manager_delta<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    let keep = |e: Entry<ManagerChange>| e.0.filter(|m| !m.removed).map(|m| m.id);
    let current = AtMost::kept(MAX_MANAGER_CHANGES, "manager changes", keep).deserialize(deserializer)?;
    Ok(Some(current.into_iter().next().flatten()))
}

/// `onPremisesExtensionAttributes`: `extensionAttribute1` … `extensionAttribute15` by number,
/// the string ones only.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Extensions(pub BTreeMap<u8, String>);

impl<'de> Deserialize<'de> for Extensions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Extensions, D::Error> {
        struct Fifteen;
        impl<'de> Visitor<'de> for Fifteen {
            type Value = Extensions;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("onPremisesExtensionAttributes")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Extensions, A::Error> {
                let mut kept = BTreeMap::new();
                while let Some(key) = map.next_key::<ExtensionKey>()? {
                    let value = map.next_value::<Text>()?.0;
                    if let (ExtensionKey(Some(n)), Some(value)) = (key, value) {
                        kept.insert(n, value);
                    }
                }
                Ok(Extensions(kept))
            }
        }
        deserializer.deserialize_map(Fifteen)
    }
}

/// `extensionAttributeN` → `Some(N)` for N in 1…15; any other key → `None`.
struct ExtensionKey(Option<u8>);

impl<'de> Deserialize<'de> for ExtensionKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ExtensionKey, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = ExtensionKey;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<ExtensionKey, E> {
                let number = key
                    .strip_prefix("extensionAttribute")
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=15).contains(n));
                Ok(ExtensionKey(number))
            }
        }
        deserializer.deserialize_str(Name)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_fifteen_extension_attributes_are_kept_and_only_as_strings() {
        let user: GraphUser = serde_json::from_value(json!({
            "id": "u1",
            "onPremisesExtensionAttributes": {
                "extensionAttribute1": "one", "extensionAttribute2": 2, "extensionAttribute15": "t/1",
                "extensionAttribute16": "no", "other": { "deep": [1, 2, 3] }
            },
            "@removed": null
        }))
        .expect("a user");
        let kept = user.on_premises_extension_attributes.expect("kept").0;
        assert_eq!(kept, BTreeMap::from([(1, "one".to_owned()), (15, "t/1".to_owned())]));
        assert!(user.removed, "`@removed` is there, whatever its value");
    }

    #[test]
    fn a_page_without_value_is_not_a_page() {
        let parse = |body: &str| {
            crate::providers::wire::parse_seeded(body.as_bytes(), GraphPageOf::<GraphUser>::new(10))
                .map(|p| (p.values.len(), p.next_link, p.delta_link))
        };
        assert!(parse(r#"{"@odata.nextLink":"x"}"#).is_err());
        assert!(parse(r#"{"value":{}}"#).is_err(), "a value that is not a list");
        assert_eq!(
            parse(r#"{"value":[{"id":"a"}],"@odata.deltaLink":"d"}"#).ok(),
            Some((1, None, Some("d".to_owned())))
        );
    }
}
