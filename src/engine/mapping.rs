//! Attribute mappings: what a source user becomes in the target (README, "How a sync works",
//! step 3).

use super::anchor::Anchor;
use super::attributes::WORK_EMAIL;
use super::evaluate::{EvalError, evaluate};
use super::expression::Expr;
use super::user::{Attributes, User};
use crate::engine::vocabulary::{ApplyOn, UserType};

/// One target attribute and where its value comes from.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub target: &'static str,
    pub value: MappingValue,
    pub apply_on: ApplyOn,
}

#[derive(Clone, Debug)]
pub enum MappingValue {
    Source(&'static str),
    Constant(String),
    Expression(Expr),
}

/// Copied one to one when the configuration lists no mappings (README, "How a sync works", step 3);
/// `active`, `userType` and the anchor are always written by the engine itself.
const DEFAULT_SOURCES: [&str; 7] = [
    "userName",
    "displayName",
    "name.givenName",
    "name.familyName",
    WORK_EMAIL,
    "title",
    "department",
];

/// Attributes the engine owns; mappings cannot target them.
pub const RESERVED_TARGETS: [&str; 2] = ["externalId", "active"];

/// The mappings in force: the configured ones, or the defaults; `userName` is always mapped
/// because every directory requires one.
pub fn effective(configured: &[Mapping]) -> Vec<Mapping> {
    let mut mappings: Vec<Mapping> = if configured.is_empty() {
        DEFAULT_SOURCES
            .iter()
            .map(|a| Mapping {
                target: a,
                value: MappingValue::Source(a),
                apply_on: ApplyOn::Always,
            })
            .collect()
    } else {
        configured.to_vec()
    };
    if !mappings.iter().any(|m| m.target == "userName") {
        mappings.push(Mapping {
            target: "userName",
            value: MappingValue::Source("userName"),
            apply_on: ApplyOn::Always,
        });
    }
    mappings
}

/// What the target user should look like. `creating` includes `CreateOnly` mappings. A mapping
/// that yields null leaves the attribute absent (so an update clears it).
pub fn desired(
    mappings: &[Mapping],
    source: &User,
    anchor: &Anchor,
    user_type: UserType,
    creating: bool,
) -> Result<Attributes, EvalError> {
    let mut out = Attributes::new();
    out.insert("userType", <&str>::from(user_type).to_owned());
    for mapping in mappings {
        if mapping.apply_on == ApplyOn::CreateOnly && !creating {
            // Not managed after creation: take it out of the comparison altogether.
            out.remove(mapping.target);
            continue;
        }
        let value = match &mapping.value {
            MappingValue::Source(attribute) => source.get(attribute).map(str::to_owned),
            MappingValue::Constant(constant) => Some(constant.clone()),
            MappingValue::Expression(expr) => evaluate(expr, source)?,
        };
        match value.filter(|v| !v.is_empty()) {
            Some(v) => {
                out.insert(mapping.target, v);
            }
            None => {
                out.remove(mapping.target);
            }
        }
    }
    out.insert("externalId", anchor.to_string());
    out.insert("active", "true".to_owned());
    Ok(out)
}

/// The attributes managed by `mappings` after creation (what an update may change).
pub fn managed(mappings: &[Mapping]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = mappings
        .iter()
        .filter(|m| m.apply_on == ApplyOn::Always)
        .map(|m| m.target)
        .collect();
    if !mappings.iter().any(|m| m.target == "userType") {
        out.push("userType");
    }
    out.extend(["externalId", "active"]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::expression::parse;
    use crate::engine::user::user;

    const SOURCE_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn defaults_copy_the_documented_attributes_and_add_the_anchor() {
        let alice = user(
            "a1",
            &[
                ("userName", "alice@contoso.com"),
                ("displayName", "Alice"),
                ("employeeNumber", "7"),
            ],
        );
        let got = desired(
            &effective(&[]),
            &alice,
            &Anchor::new(SOURCE_TENANT, "a1"),
            UserType::Member,
            true,
        )
        .expect("evaluates");
        assert_eq!(got.get("userName").map(String::as_str), Some("alice@contoso.com"));
        assert_eq!(got.get("displayName").map(String::as_str), Some("Alice"));
        assert_eq!(
            got.get("externalId").map(String::as_str),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47/a1")
        );
        assert_eq!(got.get("userType").map(String::as_str), Some("Member"));
        assert_eq!(got.get("active").map(String::as_str), Some("true"));
        assert!(!got.contains_key("employeeNumber"), "not a default mapping");
    }

    #[test]
    fn create_only_mappings_apply_on_create() {
        let mappings = vec![
            Mapping {
                target: "title",
                value: MappingValue::Constant("New hire".into()),
                apply_on: ApplyOn::CreateOnly,
            },
            Mapping {
                target: "displayName",
                value: MappingValue::Expression(parse(r#"Join(" ", [givenName], [familyName])"#).expect("parses")),
                apply_on: ApplyOn::Always,
            },
        ];
        let bob = user(
            "b",
            &[
                ("userName", "bob"),
                ("name.givenName", "Bob"),
                ("name.familyName", "Builder"),
            ],
        );
        let anchor = Anchor::new(SOURCE_TENANT, "b");
        let created = desired(&effective(&mappings), &bob, &anchor, UserType::Guest, true).expect("evaluates");
        assert_eq!(created.get("title").map(String::as_str), Some("New hire"));
        assert_eq!(created.get("displayName").map(String::as_str), Some("Bob Builder"));
        assert_eq!(
            created.get("userName").map(String::as_str),
            Some("bob"),
            "userName always mapped"
        );
        assert_eq!(created.get("userType").map(String::as_str), Some("Guest"));
        let updated = desired(&effective(&mappings), &bob, &anchor, UserType::Guest, false).expect("evaluates");
        assert!(!updated.contains_key("title"));
        assert!(!managed(&effective(&mappings)).contains(&"title"));
    }
}
