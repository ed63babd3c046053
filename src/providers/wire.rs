//! The pieces the typed answers of both providers are built from: a page whose resources are
//! counted as they are parsed (no more than were asked for), text and flags read leniently as
//! the `Value` accessors did (a number where a string was expected is absent, not an error),
//! and objects or lists skipped without being built when they are not what xtsync reads.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A list of at most `most` items of `T`, parsed one by one: the one past `most` fails the
/// parse before it is built. Each item is turned into what is kept of it (`keep`) as soon as
/// it is parsed, so that an item that keeps nothing costs nothing. Anything but a list is an
/// empty list, as `Value::as_array` made it.
pub struct AtMost<T, U = T> {
    most: usize,
    /// What the list holds, for the error ("resources asked for", "emails").
    what: &'static str,
    keep: fn(T) -> Option<U>,
    /// Anything but a list fails the parse (rather than being an empty list).
    strict: bool,
}

impl<T> AtMost<T> {
    pub fn new(most: usize, what: &'static str) -> Self {
        AtMost::kept(most, what, Some)
    }
}

impl<T, U> AtMost<T, U> {
    pub fn kept(most: usize, what: &'static str, keep: fn(T) -> Option<U>) -> Self {
        AtMost {
            most,
            what,
            keep,
            strict: false,
        }
    }

    /// Only a list will do.
    pub fn strict(self) -> Self {
        AtMost { strict: true, ..self }
    }
}

impl<'de, T: Deserialize<'de>, U> DeserializeSeed<'de> for AtMost<T, U> {
    type Value = Vec<U>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<U>, D::Error> {
        if self.strict {
            deserializer.deserialize_seq(self)
        } else {
            deserializer.deserialize_any(self)
        }
    }
}

impl<'de, T: Deserialize<'de>, U> Visitor<'de> for AtMost<T, U> {
    type Value = Vec<U>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of at most {} {}", self.most, self.what)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<U>, A::Error> {
        let mut items = Vec::new();
        let mut parsed = 0;
        while let Some(item) = seq.next_element()? {
            if parsed == self.most {
                return Err(de::Error::custom(format_args!(
                    "more than the {} {}",
                    self.most, self.what
                )));
            }
            parsed += 1;
            items.extend((self.keep)(item));
        }
        Ok(items)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<U>, A::Error> {
        IgnoredAny.visit_map(map)?;
        Ok(Vec::new())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Vec<U>, E> {
        Ok(Vec::new())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Vec<U>, E> {
        Ok(Vec::new())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Vec<U>, E> {
        Ok(Vec::new())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Vec<U>, E> {
        Ok(Vec::new())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Vec<U>, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<U>, E> {
        Ok(Vec::new())
    }
}

/// A string attribute: `None` when it is absent, empty, or not a string (an object or a list
/// there is skipped unbuilt).
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(deserializer.deserialize_any(Lenient::<String>::default())?.0)
}

/// A boolean attribute: `None` when it is absent or not a boolean.
pub fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    Ok(deserializer.deserialize_any(Lenient::<bool>::default())?.0)
}

/// A count: `None` when it is absent or not a whole number.
pub fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(deserializer.deserialize_any(Lenient::<u64>::default())?.0)
}

/// A complex attribute (a JSON object): `None` when it is anything else.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de> + DeserializeOwnedStruct>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Ok(deserializer.deserialize_any(Lenient::<T>::default())?.0)
}

/// A JSON value of the wanted kind, or `None` for any other kind (skipped without being built).
struct Lenient<T>(Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

/// What a lenient value keeps of each kind of JSON.
trait Kept: Sized {
    fn from_str(_: &str) -> Option<Self> {
        None
    }
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
    fn from_u64(_: u64) -> Option<Self> {
        None
    }
    fn is_object() -> bool {
        false
    }
}

impl Kept for String {
    fn from_str(text: &str) -> Option<String> {
        (!text.is_empty()).then(|| text.to_owned())
    }
}

impl Kept for bool {
    fn from_bool(value: bool) -> Option<bool> {
        Some(value)
    }
}

impl Kept for u64 {
    fn from_u64(value: u64) -> Option<u64> {
        Some(value)
    }
}

/// Any typed object is kept from a JSON object.
impl<T: DeserializeOwnedStruct> Kept for T {
    fn is_object() -> bool {
        true
    }
}

/// The typed objects `object` reads (a marker: strings and flags are read by `text`, `flag`).
pub trait DeserializeOwnedStruct {}

impl<'de, T: Kept + Deserialize<'de>> Visitor<'de> for Lenient<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Lenient(T::from_str(value)))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Lenient(T::from_bool(value)))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Lenient(None))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Lenient(T::from_u64(value)))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Lenient(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Lenient(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Lenient(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        if T::is_object() {
            return T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Lenient(Some(t)));
        }
        IgnoredAny.visit_map(map)?;
        Ok(Lenient(None))
    }
}

/// Parses `bytes` as `T` with `seed`; the error is serde_json's, with its line and column.
pub fn parse_seeded<T, S>(bytes: &[u8], seed: S) -> Result<T, serde_json::Error>
where
    S: for<'de> DeserializeSeed<'de, Value = T>,
{
    let mut parser = serde_json::Deserializer::from_slice(bytes);
    let parsed = seed.deserialize(&mut parser)?;
    parser.end()?;
    Ok(parsed)
}

/// A key that is there, whatever its value (Graph's `@removed`).
pub fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// A list entry that is an object of `T`, or anything else (skipped).
pub struct Entry<T>(pub Option<T>);

impl<'de, T: Deserialize<'de> + DeserializeOwnedStruct> Deserialize<'de> for Entry<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Entry<T>, D::Error> {
        object(deserializer).map(Entry)
    }
}
