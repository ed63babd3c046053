//! A user's attributes as a cycle keeps them: every value in one string, a bit per name that
//! has one, and where each value ends. A cycle holds a whole target — and, with nothing to write, a
//! whole source beside it — so each user's attributes are two allocations instead of a map
//! node and one string per value (docs/performance.md, "a cycle with nothing changed").
//! Names are the canonical names of `engine::attributes`, iterated in a `BTreeMap`'s order;
//! a user has a dozen at most, so a change rebuilds the whole.

use std::collections::BTreeMap;
use std::fmt;

use super::attributes::WORK_EMAIL;

/// `engine::user::Attributes`, spelled out: that module builds on this one.
type Attributes = BTreeMap<&'static str, String>;

/// Every name a user or group attribute may have: `engine::attributes::KNOWN` and a group's
/// `description`, sorted as `&str`s sort, so that table order is a map's order.
const NAMES: [&str; 13] = [
    "active",
    "department",
    "description",
    "displayName",
    WORK_EMAIL,
    "employeeNumber",
    "externalId",
    "manager",
    "name.familyName",
    "name.givenName",
    "title",
    "userName",
    "userType",
];

fn slot(name: &str) -> Option<usize> {
    NAMES.binary_search(&name).ok()
}

#[derive(Clone, Default, PartialEq, Eq)]
pub struct PackedAttributes {
    /// Bit i: `NAMES[i]` has a value.
    present: u16,
    /// Where each present value ends in `text`, in `NAMES` order.
    ends: Box<[u32]>,
    /// The values, one after another in `NAMES` order.
    text: Box<str>,
}

impl PackedAttributes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        let slot = slot(name)?;
        if self.present & (1 << slot) == 0 {
            return None;
        }
        let below = (self.present & ((1 << slot) - 1)).count_ones() as usize;
        Some(self.value_at(below))
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// (name, value) in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        let names = NAMES
            .iter()
            .enumerate()
            .filter(|(slot, _)| self.present & (1 << slot) != 0)
            .map(|(_, name)| *name);
        names.enumerate().map(|(at, name)| (name, self.value_at(at)))
    }

    pub fn values(&self) -> impl Iterator<Item = &str> + '_ {
        self.iter().map(|(_, value)| value)
    }

    /// Sets `name`, returning the value it had.
    pub fn insert(&mut self, name: &'static str, value: String) -> Option<String> {
        let mut map = self.to_map();
        let previous = map.insert(name, value);
        *self = Self::from(map);
        previous
    }

    /// Removes `name`, returning the value it had.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let mut map = self.to_map();
        let previous = map.remove(name);
        if previous.is_some() {
            *self = Self::from(map);
        }
        previous
    }

    /// The attributes as a map, to build changes from.
    pub fn to_map(&self) -> Attributes {
        self.iter().map(|(name, value)| (name, value.to_owned())).collect()
    }

    fn value_at(&self, at: usize) -> &str {
        let start = if at == 0 { 0 } else { self.ends[at - 1] as usize };
        let end = self.ends[at] as usize;
        self.text.get(start..end).unwrap_or_default()
    }
}

impl<'a> FromIterator<(&'static str, &'a str)> for PackedAttributes {
    fn from_iter<I: IntoIterator<Item = (&'static str, &'a str)>>(pairs: I) -> Self {
        // As in a map, the last value of a name wins.
        let mut values: [Option<&str>; NAMES.len()] = [None; NAMES.len()];
        for (name, value) in pairs {
            match slot(name) {
                Some(slot) => values[slot] = Some(value),
                // Every name comes from `engine::attributes` (validated specs, providers'
                // literals): another is a mistake in xtsync, caught by its tests.
                None => debug_assert!(false, "attribute name {name} is not in engine::packed::NAMES"),
            }
        }
        let mut packed = PackedAttributes::default();
        let mut text = String::with_capacity(values.iter().flatten().map(|v| v.len()).sum());
        let mut ends = Vec::with_capacity(values.iter().flatten().count());
        for (slot, value) in values.iter().enumerate() {
            let Some(value) = value else { continue };
            // A user's attributes never reach 4 GiB: a directory's answer is bounded far
            // below that (`providers::wire`). Past it, the rest would be left out, never misplaced.
            let Ok(end) = u32::try_from(text.len() + value.len()) else {
                break;
            };
            text.push_str(value);
            ends.push(end);
            packed.present |= 1 << slot;
        }
        packed.ends = ends.into_boxed_slice();
        packed.text = text.into_boxed_str();
        packed
    }
}

impl FromIterator<(&'static str, String)> for PackedAttributes {
    fn from_iter<I: IntoIterator<Item = (&'static str, String)>>(pairs: I) -> Self {
        let owned: Vec<(&'static str, String)> = pairs.into_iter().collect();
        owned.iter().map(|(name, value)| (*name, value.as_str())).collect()
    }
}

impl From<Attributes> for PackedAttributes {
    fn from(map: Attributes) -> Self {
        Self::from(&map)
    }
}

impl From<&Attributes> for PackedAttributes {
    fn from(map: &Attributes) -> Self {
        map.iter().map(|(name, value)| (*name, value.as_str())).collect()
    }
}

impl fmt::Debug for PackedAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&'static str, &str)]) -> Attributes {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    }

    #[test]
    fn the_names_are_sorted_and_hold_every_known_attribute() {
        assert!(NAMES.windows(2).all(|w| w[0] < w[1]));
        assert!(NAMES.len() <= 16, "one bit each in `present`");
        for name in super::super::attributes::KNOWN {
            assert!(slot(name).is_some(), "{name}");
        }
    }

    #[test]
    fn it_answers_as_the_map_it_was_made_from() {
        let from = map(&[
            ("userName", "a@contoso.com"),
            ("displayName", "A"),
            ("active", ""),
            ("title", "é"),
        ]);
        let packed = PackedAttributes::from(&from);
        assert_eq!(packed.to_map(), from);
        assert_eq!(packed.get("displayName"), Some("A"));
        assert_eq!(packed.get("active"), Some(""), "an empty value is a value");
        assert_eq!(packed.get("title"), Some("é"));
        assert_eq!(packed.get("department"), None);
        let names: Vec<&str> = packed.iter().map(|(n, _)| n).collect();
        assert_eq!(names, from.keys().copied().collect::<Vec<_>>(), "in the map's order");
    }

    #[test]
    fn insert_and_remove_say_what_was_there() {
        let mut packed = PackedAttributes::from(map(&[("userName", "a"), ("title", "t")]));
        assert_eq!(packed.insert("title", "u".into()), Some("t".into()));
        assert_eq!(packed.insert("department", "d".into()), None);
        assert_eq!(packed.remove("userName"), Some("a".into()));
        assert_eq!(packed.remove("userName"), None);
        assert_eq!(packed.to_map(), map(&[("department", "d"), ("title", "u")]));
        assert_eq!(packed.len(), 2);
    }

    #[test]
    fn the_last_value_of_a_name_wins_as_in_a_map() {
        let packed: PackedAttributes = [("title", "first"), ("title", "last")].into_iter().collect();
        assert_eq!(packed.get("title"), Some("last"));
        assert_eq!(packed.len(), 1);
    }
}
