//! Scoping filters (docs/reference.md, `spec.scope.filters`): Entra's operators, compiled once per
//! spec so that an unknown operator, a missing operand or an invalid regex is an `InvalidSpec`, not
//! a surprise mid-cycle.

use regex::Regex;

use super::{attributes, pattern};

/// A clause as a spec writes it, before it is compiled.
#[derive(Clone, Copy, Debug)]
pub struct WrittenClause<'a> {
    pub attribute: &'a str,
    pub operator: &'a str,
    pub value: Option<&'a str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Equals,
    NotEquals,
    IsTrue,
    IsFalse,
    IsNull,
    IsNotNull,
    RegexMatch,
    NotRegexMatch,
    GreaterThan,
    GreaterThanOrEquals,
    LessThan,
    LessThanOrEquals,
    Includes,
}

impl Operator {
    /// Entra spells operators both `NOT EQUALS` and `NOT_EQUALS`, in any case; so do we.
    pub fn parse(text: &str) -> Option<Operator> {
        let normalized = text
            .trim()
            .replace('_', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase();
        Some(match normalized.as_str() {
            "EQUALS" => Operator::Equals,
            "NOT EQUALS" => Operator::NotEquals,
            "IS TRUE" => Operator::IsTrue,
            "IS FALSE" => Operator::IsFalse,
            "IS NULL" => Operator::IsNull,
            "IS NOT NULL" => Operator::IsNotNull,
            "REGEX MATCH" => Operator::RegexMatch,
            "NOT REGEX MATCH" => Operator::NotRegexMatch,
            "GREATER THAN" => Operator::GreaterThan,
            "GREATER THAN OR EQUALS" => Operator::GreaterThanOrEquals,
            "LESS THAN" => Operator::LessThan,
            "LESS THAN OR EQUALS" => Operator::LessThanOrEquals,
            "INCLUDES" => Operator::Includes,
            _ => return None,
        })
    }

    fn takes_value(self) -> bool {
        !matches!(
            self,
            Operator::IsTrue | Operator::IsFalse | Operator::IsNull | Operator::IsNotNull
        )
    }

    fn is_numeric(self) -> bool {
        matches!(
            self,
            Operator::GreaterThan | Operator::GreaterThanOrEquals | Operator::LessThan | Operator::LessThanOrEquals
        )
    }
}

/// The operand of a clause, checked against its operator.
#[derive(Clone, Debug)]
pub enum Operand {
    None,
    Text(String),
    Integer(i64),
    Pattern(Regex),
}

#[derive(Clone, Debug)]
pub struct Clause {
    pub attribute: &'static str,
    pub operator: Operator,
    pub operand: Operand,
}

/// Groups are OR'ed; the clauses of a group are AND'ed (Entra's scoping filter semantics).
#[derive(Clone, Debug, Default)]
pub struct ScopingFilter {
    pub groups: Vec<Vec<Clause>>,
}

/// Compiles every clause; returns every problem found, each naming where it is.
pub fn compile(groups: &[Vec<WrittenClause<'_>>]) -> Result<ScopingFilter, Vec<String>> {
    let mut problems = Vec::new();
    let mut compiled = Vec::with_capacity(groups.len());
    for (g, group) in groups.iter().enumerate() {
        if group.is_empty() {
            problems.push(format!("scope.filters[{g}] has no clauses"));
        }
        let mut clauses = Vec::with_capacity(group.len());
        for (c, clause) in group.iter().enumerate() {
            match compile_clause(clause) {
                Ok(clause) => clauses.push(clause),
                Err(why) => problems.push(format!("scope.filters[{g}].clauses[{c}]: {why}")),
            }
        }
        compiled.push(clauses);
    }
    if problems.is_empty() {
        Ok(ScopingFilter { groups: compiled })
    } else {
        Err(problems)
    }
}

fn compile_clause(clause: &WrittenClause<'_>) -> Result<Clause, String> {
    let attribute =
        attributes::canonical(clause.attribute).ok_or_else(|| attributes::unknown_message(clause.attribute))?;
    let operator = Operator::parse(clause.operator).ok_or_else(|| {
        format!(
            "unknown operator '{}' (use EQUALS, NOT EQUALS, IS TRUE, IS FALSE, IS NULL, IS NOT NULL, REGEX MATCH, \
             NOT REGEX MATCH, Greater_Than, Greater_Than_OR_EQUALS, Less_Than, Less_Than_OR_EQUALS or includes)",
            clause.operator
        )
    })?;
    let operand = match (clause.value, operator.takes_value()) {
        (None, true) => return Err(format!("operator '{}' needs a value", clause.operator)),
        (Some(_), false) | (None, false) => Operand::None,
        (Some(v), true) if operator.is_numeric() => Operand::Integer(
            v.trim()
                .parse()
                .map_err(|_| format!("operator '{}' compares integers; '{v}' is not one", clause.operator))?,
        ),
        (Some(v), true) if matches!(operator, Operator::RegexMatch | Operator::NotRegexMatch) => {
            Operand::Pattern(pattern::compile(v)?)
        }
        (Some(v), true) => Operand::Text(v.to_owned()),
    };
    Ok(Clause {
        attribute,
        operator,
        operand,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause<'a>(attribute: &'a str, operator: &'a str, value: Option<&'a str>) -> Vec<WrittenClause<'a>> {
        vec![WrittenClause {
            attribute,
            operator,
            value,
        }]
    }

    #[test]
    fn accepts_spaced_and_underscore_spellings() {
        for (text, op) in [
            ("EQUALS", Operator::Equals),
            ("NOT EQUALS", Operator::NotEquals),
            ("NOT_EQUALS", Operator::NotEquals),
            ("IS_NOT_NULL", Operator::IsNotNull),
            ("Greater_Than_OR_EQUALS", Operator::GreaterThanOrEquals),
            ("GREATER THAN OR EQUALS", Operator::GreaterThanOrEquals),
            ("includes", Operator::Includes),
            ("regex match", Operator::RegexMatch),
        ] {
            assert_eq!(Operator::parse(text), Some(op), "{text}");
        }
        assert_eq!(Operator::parse("CONTAINS"), None);
    }

    #[test]
    fn compiles_valid_filters() {
        let f = compile(&[
            clause("department", "EQUALS", Some("Sales")),
            clause("email", "REGEX MATCH", Some("^a.*@contoso\\.com$")),
        ])
        .expect("valid");
        assert_eq!(f.groups.len(), 2);
        assert!(matches!(f.groups[1][0].operand, Operand::Pattern(_)));
        assert_eq!(f.groups[1][0].attribute, attributes::WORK_EMAIL);
    }

    #[test]
    fn reports_each_problem_with_its_place() {
        let problems = compile(&[
            clause("department", "CONTAINS", Some("x")),
            clause("department", "REGEX MATCH", Some("([a-z")),
            clause("employeeNumber", "Greater_Than", Some("ten")),
            clause("department", "EQUALS", None),
            clause("departmnet", "EQUALS", Some("x")),
        ])
        .expect_err("invalid");
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[0].starts_with("scope.filters[0].clauses[0]: unknown operator 'CONTAINS'"));
        assert!(problems[1].contains("invalid regex '([a-z'"), "{}", problems[1]);
        assert!(!problems[1].contains('\n'));
        assert!(problems[2].contains("'ten' is not one"));
        assert!(problems[3].contains("needs a value"));
        assert!(problems[4].contains("unknown attribute 'departmnet'"));
    }

    #[test]
    fn unary_operators_need_no_value() {
        assert!(compile(&[clause("active", "IS TRUE", None)]).is_ok());
    }
}
