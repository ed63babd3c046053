//! Evaluation of parsed mapping expressions against a source user, following Microsoft's
//! "Reference for writing expressions for attribute mappings". Null propagates as `None`;
//! booleans are "True"/"False" as Entra renders them.

use regex::Regex;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::attributes;
use super::expression::{Expr, Function};
use super::user::User;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{function}: {message}")]
pub struct EvalError {
    pub function: &'static str,
    pub message: String,
}

type Value = Option<String>;

pub fn evaluate(expr: &Expr, user: &User) -> Result<Value, EvalError> {
    Ok(match expr {
        Expr::Attribute(name) => attributes::canonical(name).and_then(|a| user.get(a)).map(str::to_owned),
        Expr::Text(text) => Some(text.clone()),
        Expr::Integer(n) => Some(n.to_string()),
        Expr::Missing => None,
        Expr::Equals(left, right) => Some(boolean(evaluate(left, user)? == evaluate(right, user)?)),
        Expr::Call { function, args } => call(*function, args, user)?,
    })
}

fn boolean(b: bool) -> String {
    if b { "True" } else { "False" }.to_owned()
}

fn truthy(value: &Value) -> bool {
    value.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn call(function: Function, args: &[Expr], user: &User) -> Result<Value, EvalError> {
    let arg = |i: usize| -> Result<Value, EvalError> { args.get(i).map_or(Ok(None), |a| evaluate(a, user)) };
    let error = |message: String| EvalError {
        function: function.name(),
        message,
    };
    let integer = |i: usize| -> Result<usize, EvalError> {
        let v = arg(i)?.unwrap_or_default();
        v.trim()
            .parse()
            .map_err(|_| error(format!("argument {} must be a non-negative integer, got '{v}'", i + 1)))
    };
    Ok(match function {
        Function::Append => {
            let (source, suffix) = (arg(0)?, arg(1)?);
            Some(format!("{}{}", source.unwrap_or_default(), suffix.unwrap_or_default()))
        }
        Function::Join => {
            let separator = arg(0)?.unwrap_or_default();
            let parts: Vec<String> = (1..args.len())
                .map(arg)
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect();
            Some(parts.join(&separator))
        }
        Function::ToLower => arg(0)?.map(|v| v.to_lowercase()),
        Function::ToUpper => arg(0)?.map(|v| v.to_uppercase()),
        Function::Trim => arg(0)?.map(|v| v.trim().to_owned()),
        Function::NormalizeDiacritics => arg(0)?.map(|v| v.nfd().filter(|c| !is_combining_mark(*c)).collect()),
        Function::Coalesce => (0..args.len())
            .map(arg)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .find(|v| !v.is_empty()),
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
        Function::Replace => replace(args, user, &error)?,
    })
}

/// `Replace(source, oldValue, regexPattern, regexGroupName, replacementValue,
/// replacementAttributeName, template)`: replaces `oldValue` (or what `regexPattern` — or its
/// group `regexGroupName` — matches) with `replacementValue` or, when that is empty, with the
/// value of `replacementAttributeName`.
fn replace(args: &[Expr], user: &User, error: &dyn Fn(String) -> EvalError) -> Result<Value, EvalError> {
    let arg = |i: usize| -> Result<Value, EvalError> { args.get(i).map_or(Ok(None), |a| evaluate(a, user)) };
    let Some(source) = arg(0)? else { return Ok(None) };
    let replacement = arg(4)?.or(arg(5)?).unwrap_or_default();
    if let Some(old) = arg(1)?.filter(|o| !o.is_empty()) {
        return Ok(Some(source.replace(&old, &replacement)));
    }
    let Some(pattern) = arg(2)?.filter(|p| !p.is_empty()) else {
        return Ok(Some(source));
    };
    let re = Regex::new(&pattern).map_err(|e| error(format!("invalid regexPattern '{pattern}': {e}")))?;
    let group = arg(3)?.filter(|g| !g.is_empty());
    Ok(Some(match group {
        None => re.replace_all(&source, regex::NoExpand(&replacement)).into_owned(),
        Some(group) => {
            let mut out = source.clone();
            // Replace the named group of each match, right to left so offsets stay valid.
            let spans: Vec<_> = re
                .captures_iter(&source)
                .filter_map(|c| c.name(&group).map(|m| m.range()))
                .collect();
            for span in spans.into_iter().rev() {
                out.replace_range(span, &replacement);
            }
            out
        }
    }))
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
