//! Evaluation of parsed mapping expressions against a source user, following Microsoft's
//! "Reference for writing expressions for attribute mappings". Null propagates as `None`;
//! booleans are "True"/"False" as Entra renders them.
//!
//! Every value is bounded by `MAX_VALUE_BYTES`: a function that can grow its input (`Append`,
//! `Join`, `Replace`) builds its output piece by piece and stops before a piece would cross
//! the bound, so nested calls fail the user's mapping instead of allocating gigabytes; a
//! function whose output is at most a small multiple of its input (`ToUpper`, `ToLower`,
//! `NormalizeDiacritics`) is checked when it returns, as is every other value. All the values
//! of one evaluation together are bounded by `MAX_PRODUCED_BYTES`, so the work is too.

use std::cell::Cell;
use std::ops::Range;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::attributes;
use super::expression::REGEX_PATTERN;
use super::expression::{Expr, Function};
use super::user::User;

/// The longest value (in UTF-8 bytes) an expression may produce. Far above any directory
/// attribute — Microsoft Graph's user resource caps `displayName` at 256 characters and most
/// string properties at 64 to 1,024 (Microsoft Learn, "user resource type") — and far below
/// what would strain the operator.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// The most all the values of one evaluation may take together: every call of an expression
/// is evaluated once per user, and sixteen values at the bound are far more than a mapping
/// of directory attributes produces (a few KB), so the work per user stays bounded too.
pub const MAX_PRODUCED_BYTES: usize = 16 * MAX_VALUE_BYTES;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{function}: {message}")]
pub struct EvalError {
    pub function: &'static str,
    pub message: String,
}

impl EvalError {
    fn too_long(function: &'static str) -> Self {
        EvalError {
            function,
            message: format!(
                "the value would exceed {} KiB, the bound of an expression's value",
                MAX_VALUE_BYTES / 1024
            ),
        }
    }
}

type Value = Option<String>;

pub fn evaluate(expr: &Expr, user: &User) -> Result<Value, EvalError> {
    value(
        expr,
        &Evaluation {
            user,
            produced: Cell::new(0),
        },
    )
}

/// One evaluation for one user, and the bytes of every value it produced so far.
struct Evaluation<'u> {
    user: &'u User,
    produced: Cell<usize>,
}

fn value(expr: &Expr, ev: &Evaluation<'_>) -> Result<Value, EvalError> {
    let (value, from) = match expr {
        Expr::Attribute(name) => (
            attributes::canonical(name)
                .and_then(|a| ev.user.get(a))
                .map(str::to_owned),
            "[attribute]",
        ),
        Expr::Text(text) => (Some(text.clone()), "text"),
        Expr::Pattern(pattern) => (Some(pattern.as_str().to_owned()), "text"),
        Expr::Integer(n) => (Some(n.to_string()), "number"),
        Expr::Missing => (None, "empty argument"),
        Expr::Equals(left, right) => (Some(boolean(value(left, ev)? == value(right, ev)?)), "="),
        Expr::Call { function, args } => (call(*function, args, ev)?, function.name()),
    };
    let length = value.as_ref().map_or(0, String::len);
    if length > MAX_VALUE_BYTES {
        return Err(EvalError::too_long(from));
    }
    let produced = ev.produced.get() + length;
    if produced > MAX_PRODUCED_BYTES {
        return Err(EvalError {
            function: from,
            message: format!(
                "the expression's values would exceed {} KiB in all, the bound of one evaluation",
                MAX_PRODUCED_BYTES / 1024
            ),
        });
    }
    ev.produced.set(produced);
    Ok(value)
}

/// A value under construction that refuses, before copying, a piece that would take it past
/// `MAX_VALUE_BYTES`.
struct Bounded {
    text: String,
    function: &'static str,
}

impl Bounded {
    fn new(function: Function) -> Self {
        Bounded {
            text: String::new(),
            function: function.name(),
        }
    }

    fn push(&mut self, piece: &str) -> Result<(), EvalError> {
        if self.text.len() + piece.len() > MAX_VALUE_BYTES {
            return Err(EvalError::too_long(self.function));
        }
        self.text.push_str(piece);
        Ok(())
    }
}

fn boolean(b: bool) -> String {
    if b { "True" } else { "False" }.to_owned()
}

fn truthy(value: &Value) -> bool {
    value.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn call(function: Function, args: &[Expr], ev: &Evaluation<'_>) -> Result<Value, EvalError> {
    let arg = |i: usize| argument(args, i, ev);
    let error = |message: String| EvalError {
        function: function.name(),
        message,
    };
    let integer = |i: usize| -> Result<usize, EvalError> {
        let v = arg(i)?.unwrap_or_default();
        v.trim().parse().map_err(|_| {
            let shown: String = v.chars().take(40).collect();
            error(format!(
                "argument {} must be a non-negative integer, got '{shown}'",
                i + 1
            ))
        })
    };
    Ok(match function {
        Function::Append => {
            let mut out = Bounded::new(function);
            out.push(&arg(0)?.unwrap_or_default())?;
            out.push(&arg(1)?.unwrap_or_default())?;
            Some(out.text)
        }
        Function::Join => Some(join(args, ev)?),
        Function::ToLower => arg(0)?.map(|v| v.to_lowercase()),
        Function::ToUpper => arg(0)?.map(|v| v.to_uppercase()),
        Function::Trim => arg(0)?.map(|v| v.trim().to_owned()),
        Function::NormalizeDiacritics => arg(0)?.map(|v| v.nfd().filter(|c| !is_combining_mark(*c)).collect()),
        Function::Coalesce => coalesce(args, ev)?,
        Function::IIF => {
            if truthy(&arg(0)?) {
                arg(1)?
            } else {
                arg(2)?
            }
        }
        Function::Switch => {
            let source = arg(0)?;
            let mut i = 2;
            let mut found = None;
            while i + 1 < args.len() {
                if arg(i)? == source {
                    found = Some(arg(i + 1)?);
                    break;
                }
                i += 2;
            }
            match found {
                Some(v) => v,
                None => arg(1)?,
            }
        }
        Function::Left => {
            let count = integer(1)?;
            arg(0)?.map(|v| v.chars().take(count).collect())
        }
        Function::Mid => {
            let (start, length) = (integer(1)?, integer(2)?);
            arg(0)?.map(|v| v.chars().skip(start.saturating_sub(1)).take(length).collect())
        }
        Function::Not => Some(boolean(!truthy(&arg(0)?))),
        Function::IsPresent => Some(boolean(arg(0)?.is_some_and(|v| !v.is_empty()))),
        Function::IsNullOrEmpty => Some(boolean(arg(0)?.is_none_or(|v| v.is_empty()))),
        Function::Replace => replace(args, ev)?,
    })
}

/// `Join(separator, source1, source2, …)`: the non-null sources, separated.
fn join(args: &[Expr], ev: &Evaluation<'_>) -> Result<String, EvalError> {
    let separator = argument(args, 0, ev)?.unwrap_or_default();
    let mut out = Bounded::new(Function::Join);
    let mut first = true;
    for i in 1..args.len() {
        let Some(part) = argument(args, i, ev)? else { continue };
        if !first {
            out.push(&separator)?;
        }
        out.push(&part)?;
        first = false;
    }
    Ok(out.text)
}

/// `Coalesce(source1, source2, …)`: the first non-empty value. The rest are not evaluated, so
/// that thousands of bounded values are never held at once.
fn coalesce(args: &[Expr], ev: &Evaluation<'_>) -> Result<Value, EvalError> {
    for i in 0..args.len() {
        if let Some(v) = argument(args, i, ev)?.filter(|v| !v.is_empty()) {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// The `i`th argument's value; null when it is absent.
fn argument(args: &[Expr], i: usize, ev: &Evaluation<'_>) -> Result<Value, EvalError> {
    args.get(i).map_or(Ok(None), |a| value(a, ev))
}

/// `Replace(source, oldValue, regexPattern, regexGroupName, replacementValue,
/// replacementAttributeName, template)`: replaces `oldValue` (or what `regexPattern` — or its
/// group `regexGroupName` — matches) with `replacementValue` or, when that is empty, with the
/// value of `replacementAttributeName`. The output is built within `MAX_VALUE_BYTES`.
fn replace(args: &[Expr], ev: &Evaluation<'_>) -> Result<Value, EvalError> {
    let arg = |i: usize| argument(args, i, ev);
    let Some(source) = arg(0)? else { return Ok(None) };
    let replacement = arg(4)?.or(arg(5)?).unwrap_or_default();
    if let Some(old) = arg(1)?.filter(|o| !o.is_empty()) {
        let spans = source.match_indices(old.as_str()).map(|(at, m)| at..at + m.len());
        return splice(&source, spans, &replacement);
    }
    // The parser put the compiled `regexPattern` here, or left the argument empty.
    let Some(Expr::Pattern(pattern)) = args.get(REGEX_PATTERN) else {
        return Ok(Some(source));
    };
    let re = pattern.regex();
    match arg(3)?.filter(|g| !g.is_empty()) {
        None => splice(&source, re.find_iter(&source).map(|m| m.range()), &replacement),
        Some(group) => {
            let spans = re
                .captures_iter(&source)
                .filter_map(|c| c.name(&group).map(|m| m.range()));
            splice(&source, spans, &replacement)
        }
    }
}

/// `source` with each span (left to right, disjoint) replaced by `replacement`, within the bound.
fn splice(source: &str, spans: impl Iterator<Item = Range<usize>>, replacement: &str) -> Result<Value, EvalError> {
    let mut out = Bounded::new(Function::Replace);
    let mut copied = 0;
    for span in spans {
        out.push(&source[copied..span.start])?;
        out.push(replacement)?;
        copied = span.end;
    }
    out.push(&source[copied..])?;
    Ok(Some(out.text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::expression::parse;
    use crate::engine::user::user;

    fn eval(source: &str) -> Value {
        let u = user(
            "1",
            &[
                ("userName", "jöhn.doe@contoso.com"),
                ("name.givenName", "John"),
                ("name.familyName", "Doe"),
                ("department", "Sales"),
                ("title", "  Rep  "),
            ],
        );
        evaluate(&parse(source).expect("parses"), &u).expect("evaluates")
    }

    #[test]
    fn string_functions() {
        assert_eq!(
            eval(r#"Join(" ", [givenName], [familyName])"#).as_deref(),
            Some("John Doe")
        );
        assert_eq!(
            eval(r#"Join(".", [givenName], [employeeNumber], [familyName])"#).as_deref(),
            Some("John.Doe")
        );
        assert_eq!(
            eval(r#"Append([givenName], "@fabrikam.com")"#).as_deref(),
            Some("John@fabrikam.com")
        );
        assert_eq!(eval("ToLower([givenName])").as_deref(), Some("john"));
        assert_eq!(eval("ToUpper([familyName])").as_deref(), Some("DOE"));
        assert_eq!(eval("Trim([title])").as_deref(), Some("Rep"));
        assert_eq!(eval("Left([givenName], 2)").as_deref(), Some("Jo"));
        assert_eq!(eval("Mid([familyName], 2, 5)").as_deref(), Some("oe"));
        assert_eq!(
            eval("NormalizeDiacritics([userName])").as_deref(),
            Some("john.doe@contoso.com")
        );
    }

    #[test]
    fn replace_variants() {
        assert_eq!(
            eval(r#"Replace([userName], "@contoso.com", , , "@fabrikam.com", , )"#).as_deref(),
            Some("jöhn.doe@fabrikam.com")
        );
        assert_eq!(
            eval(r#"Replace([givenName], , "[aeiou]", , "_", , )"#).as_deref(),
            Some("J_hn")
        );
        assert_eq!(
            eval(r#"Replace([userName], , "@(?<domain>.*)$", "domain", "example.org", , )"#).as_deref(),
            Some("jöhn.doe@example.org")
        );
        assert_eq!(
            eval(r#"Replace([employeeNumber], "a", , , "b", , )"#),
            None,
            "null source stays null"
        );
    }

    #[test]
    fn logic_functions() {
        assert_eq!(eval(r#"IIF([department]="Sales", "S", "O")"#).as_deref(), Some("S"));
        assert_eq!(eval(r#"IIF([department]="Ops", "S", "O")"#).as_deref(), Some("O"));
        assert_eq!(
            eval(r#"Switch([department], "Other", "Ops", "O", "Sales", "S")"#).as_deref(),
            Some("S")
        );
        assert_eq!(
            eval(r#"Switch([title], "Other", "Ops", "O")"#).as_deref(),
            Some("Other")
        );
        assert_eq!(
            eval(r#"Coalesce([employeeNumber], [department])"#).as_deref(),
            Some("Sales")
        );
        assert_eq!(eval("IsPresent([employeeNumber])").as_deref(), Some("False"));
        assert_eq!(eval("IsNullOrEmpty([employeeNumber])").as_deref(), Some("True"));
        assert_eq!(eval("Not(IsPresent([department]))").as_deref(), Some("False"));
    }

    #[test]
    fn bad_integer_arguments_are_errors() {
        let u = user("1", &[("title", "x")]);
        let err = evaluate(&parse(r#"Mid([title], "a", 1)"#).expect("parses"), &u).expect_err("not an integer");
        assert_eq!(err.function, "Mid");
    }
}

#[cfg(test)]
mod limits {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::engine::expression::parse;
    use crate::engine::user::user;

    /// The bound every value an expression produces stays within.
    const BOUND: usize = 64 * 1024;

    fn eval_on(source: &str, user_name: &str) -> Result<Value, EvalError> {
        let u = user("1", &[("userName", user_name), ("department", "Sales")]);
        evaluate(&parse(source).expect("parses"), &u)
    }

    /// `levels` Replace calls, each doubling every "x" of the one inside it.
    fn doubling(levels: usize) -> String {
        (0..levels).fold("[userName]".to_owned(), |inner, _| {
            format!(r#"Replace({inner}, "x", , , "xx", , )"#)
        })
    }

    #[test]
    fn nested_replace_stops_at_the_bound_quickly() {
        // 8 × 2^14 "x" = 128 KiB: twice the bound. Unchecked, 30 levels would be 8 GiB.
        let started = Instant::now();
        let error = eval_on(&doubling(14), "xxxxxxxx").expect_err("over the bound");
        assert_eq!(error.function, "Replace", "{error}");
        assert!(error.message.contains("64 KiB"), "{error}");
        let error = eval_on(&doubling(30), "xxxxxxxx").expect_err("over the bound");
        assert_eq!(error.function, "Replace", "{error}");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        // Within the bound, the same expression works.
        let fine = eval_on(&doubling(3), "x").expect("within").expect("a value");
        assert_eq!(fine, "x".repeat(8));
    }

    #[test]
    fn replace_by_literal_regex_and_group_are_bounded() {
        let long = "y".repeat(1000);
        let value = "x".repeat(100);
        for replace in [
            format!(r#"Replace([userName], "x", , , "{long}", , )"#),
            format!(r#"Replace([userName], , "x", , "{long}", , )"#),
            format!(r#"Replace([userName], , "(?<g>x)", "g", "{long}", , )"#),
        ] {
            let error = eval_on(&replace, &value).expect_err(&replace[..40]);
            assert_eq!(error.function, "Replace", "{error}");
        }
    }

    #[test]
    fn append_and_join_are_bounded() {
        let half = "a".repeat(BOUND / 2 + 1);
        for expression in [
            "Append([userName], [userName])",
            r#"Join("", [userName], [userName])"#,
            r#"Join([userName], "a", "b", "c")"#,
        ] {
            let error = eval_on(expression, &half).expect_err(expression);
            assert!(error.message.contains("64 KiB"), "{expression}: {error}");
        }
        let fits = "a".repeat(BOUND / 2);
        let joined = eval_on(r#"Join("", [userName], [userName])"#, &fits).expect("fits");
        assert_eq!(joined.map(|v| v.len()), Some(BOUND));
    }

    #[test]
    fn case_and_diacritic_functions_that_grow_their_input_are_bounded() {
        // "ŉ" (2 bytes) upper-cases to "ʼN" (3 bytes), "İ" (2 bytes) lower-cases to "i̇" (3
        // bytes); a Hangul syllable (3 bytes) decomposes into two or three jamo of 3 bytes
        // each, no marks.
        let cases = [
            ("ToUpper([userName])", "ŉ".repeat(BOUND / 2 - 1)),
            ("ToLower([userName])", "İ".repeat(BOUND / 2 - 1)),
            ("NormalizeDiacritics([userName])", "가".repeat(BOUND / 3 - 1)),
        ];
        for (expression, input) in cases {
            assert!(input.len() <= BOUND);
            let error = eval_on(expression, &input).expect_err(expression);
            assert!(error.message.contains("64 KiB"), "{expression}: {error}");
        }
    }

    #[test]
    fn an_evaluation_that_produces_too_much_in_all_stops() {
        // Each key of the Switch is a value within the bound, but 20 of them are 1.25 MiB of
        // work for one user; an expression of 10,000 characters could ask for hundreds.
        let keys = r#", ToUpper([userName]), "x""#.repeat(20);
        let switch = format!(r#"Switch([department], "none"{keys})"#);
        let error = eval_on(&switch, &"a".repeat(BOUND)).expect_err("too much work");
        assert!(error.message.contains("in all"), "{error}");
        assert_eq!(eval_on(&switch, "a").expect("little work"), Some("none".into()));
    }

    #[test]
    fn a_source_value_over_the_bound_is_refused_even_passed_through() {
        let huge = "a".repeat(BOUND + 1);
        for expression in [
            "[userName]",
            "Trim([userName])",
            "Coalesce([userName])",
            "Left([userName], 70000)",
        ] {
            assert!(eval_on(expression, &huge).is_err(), "{expression}");
        }
        let fits = "a".repeat(BOUND);
        assert!(eval_on("Trim([userName])", &fits).is_ok());
    }
}
