//! Properties of the expression language over generated expressions and users: whatever a
//! spec nests and whatever a directory holds, an expression's value never exceeds
//! `MAX_VALUE_BYTES` — it is produced within the bound, or the evaluation fails.

use proptest::prelude::*;

use super::evaluate::{MAX_VALUE_BYTES, evaluate};
use super::expression::parse;
use super::user::user;

/// Expressions built from the functions that can grow a value, around operands that can be
/// long (the user's attributes) or that multiply (each "x" of the source).
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("[userName]".to_owned()),
        Just("[displayName]".to_owned()),
        Just(r#""x""#.to_owned()),
        Just(r#""ßŉ가é""#.to_owned()),
        Just("3".to_owned()),
    ];
    leaf.prop_recursive(6, 48, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("Append({a}, {b})")),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(s, a, b)| format!("Join({s}, {a}, {b}, {a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!(r#"Replace({a}, "x", , , {b}, , )"#)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!(r#"Replace({a}, , "x|é", , {b}, , )"#)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!(r#"Replace({a}, , "(?<g>x+)", "g", {b}, , )"#)),
            inner.clone().prop_map(|a| format!("ToUpper({a})")),
            inner.clone().prop_map(|a| format!("ToLower({a})")),
            inner.clone().prop_map(|a| format!("NormalizeDiacritics({a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("Coalesce({a}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("IIF({a} = {b}, {a}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!(r#"Switch({a}, {b}, "x", {a})"#)),
            inner.clone().prop_map(|a| format!("Left({a}, 40000)")),
            inner.prop_map(|a| format!("Trim({a})")),
        ]
    })
}

/// An attribute value: empty, short, or near (and past) the bound.
fn value() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("x"), Just("xé"), Just("가"), Just("ab")],
        prop_oneof![0..8usize, 20_000..40_000usize],
    )
        .prop_map(|(unit, times)| unit.repeat(times))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn an_expressions_output_never_exceeds_its_bound(text in expression(), name in value(), display in value()) {
        let expr = parse(&text).expect("generated expressions parse");
        let u = user("1", &[("userName", &name), ("displayName", &display)]);
        match evaluate(&expr, &u) {
            Ok(value) => prop_assert!(value.is_none_or(|v| v.len() <= MAX_VALUE_BYTES)),
            Err(error) => prop_assert!(error.message.contains("KiB"), "{text}: {error}"),
        }
    }
}
