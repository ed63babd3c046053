//! Who is in scope (docs/reference.md, `spec.scope`; docs/architecture.md, rule 3): internal,
//! enabled users that are assigned (or all users) and pass the scoping filters.

use std::collections::HashSet;

use super::filter::{Clause, Operand, Operator, ScopingFilter};
use super::rules::Scope;
use super::user::User;
use crate::engine::vocabulary::ScopeMode;

/// Who is assigned to the configuration, resolved against the source directory.
#[derive(Clone, Debug, Default)]
pub struct Assignments {
    /// Lower-cased userNames and ids listed in `scope.users`.
    pub users: HashSet<String>,
    /// Ids of the members of the groups listed in `scope.groups`.
    pub group_members: HashSet<String>,
}

impl Assignments {
    pub fn new(users: &[String], group_members: HashSet<String>) -> Self {
        Assignments {
            users: users.iter().map(|u| u.to_lowercase()).collect(),
            group_members,
        }
    }

    fn includes(&self, user: &User) -> bool {
        self.users.contains(&user.user_name().to_lowercase())
            || self.users.contains(&user.id.to_lowercase())
            || self.group_members.contains(&user.id)
    }
}

/// Why a source user is not provisioned; `None` from [`exclusion`] means in scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exclusion {
    /// A guest or a user provisioned from another tenant: never synced (no loops in a mesh).
    External,
    Disabled,
    NotAssigned,
    FilteredOut,
}

pub fn exclusion(scope: &Scope, assignments: &Assignments, user: &User) -> Option<Exclusion> {
    if user.is_external() {
        return Some(Exclusion::External);
    }
    if !user.active() {
        return Some(Exclusion::Disabled);
    }
    if scope.mode == ScopeMode::AssignedUsersAndGroups && !assignments.includes(user) {
        return Some(Exclusion::NotAssigned);
    }
    if !passes(&scope.filter, user) {
        return Some(Exclusion::FilteredOut);
    }
    None
}

/// Scoping filter groups are OR'ed, clauses within a group AND'ed; no groups = everyone.
pub fn passes(filter: &ScopingFilter, user: &User) -> bool {
    filter.groups.is_empty()
        || filter
            .groups
            .iter()
            .any(|clauses| clauses.iter().all(|c| clause_holds(c, user)))
}

/// Entra's clause semantics: string comparisons are case-sensitive, a null attribute fails
/// every positive test and passes every negative one.
fn clause_holds(clause: &Clause, user: &User) -> bool {
    let value = user.get(clause.attribute).filter(|v| !v.is_empty());
    match (clause.operator, &clause.operand) {
        (Operator::IsNull, _) => value.is_none(),
        (Operator::IsNotNull, _) => value.is_some(),
        (Operator::IsTrue, _) => value.is_some_and(|v| v.eq_ignore_ascii_case("true")),
        (Operator::IsFalse, _) => value.is_some_and(|v| v.eq_ignore_ascii_case("false")),
        (Operator::Equals, Operand::Text(x)) => value == Some(x.as_str()),
        (Operator::NotEquals, Operand::Text(x)) => value != Some(x.as_str()),
        (Operator::Includes, Operand::Text(x)) => value.is_some_and(|v| v.contains(x.as_str())),
        (Operator::RegexMatch, Operand::Pattern(re)) => value.is_some_and(|v| re.is_match(v)),
        (Operator::NotRegexMatch, Operand::Pattern(re)) => !value.is_some_and(|v| re.is_match(v)),
        (op, Operand::Integer(x)) => {
            let Some(n) = value.and_then(|v| v.trim().parse::<i64>().ok()) else {
                return false;
            };
            match op {
                Operator::GreaterThan => n > *x,
                Operator::GreaterThanOrEquals => n >= *x,
                Operator::LessThan => n < *x,
                Operator::LessThanOrEquals => n <= *x,
                _ => false,
            }
        }
        // `filter::compile` pairs every operator with its operand kind; nothing else arrives.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::filter::{self, WrittenClause};
    use crate::engine::user::user;

    fn compiled(groups: &[&[(&str, &str, Option<&str>)]]) -> ScopingFilter {
        let groups: Vec<Vec<WrittenClause<'_>>> = groups
            .iter()
            .map(|clauses| {
                clauses
                    .iter()
                    .map(|&(attribute, operator, value)| WrittenClause {
                        attribute,
                        operator,
                        value,
                    })
                    .collect()
            })
            .collect();
        filter::compile(&groups).expect("valid filter")
    }

    fn scope(mode: ScopeMode) -> Scope {
        Scope {
            mode,
            ..Scope::default()
        }
    }

    #[test]
    fn groups_are_ored_and_clauses_anded() {
        let f = compiled(&[
            &[
                ("department", "EQUALS", Some("Sales")),
                ("title", "EQUALS", Some("Rep")),
            ],
            &[("employeeNumber", "Greater_Than", Some("100"))],
        ]);
        assert!(passes(&f, &user("1", &[("department", "Sales"), ("title", "Rep")])));
        assert!(!passes(&f, &user("2", &[("department", "Sales"), ("title", "Boss")])));
        assert!(passes(&f, &user("3", &[("employeeNumber", "101")])));
        assert!(!passes(&f, &user("4", &[("employeeNumber", "abc")])));
    }

    #[test]
    fn operators_follow_entra_semantics() {
        let u = user("1", &[("department", "Sales"), ("active", "true"), ("title", "")]);
        let holds = |a: &str, o: &str, v: Option<&str>| passes(&compiled(&[&[(a, o, v)]]), &u);
        assert!(!holds("department", "EQUALS", Some("sales")), "case-sensitive");
        assert!(holds("department", "NOT_EQUALS", Some("Ops")));
        assert!(holds("title", "NOT EQUALS", Some("x")), "null passes negative tests");
        assert!(holds("title", "IS NULL", None), "empty counts as null");
        assert!(holds("department", "IS NOT NULL", None));
        assert!(holds("active", "IS TRUE", None));
        assert!(!holds("active", "IS FALSE", None));
        assert!(holds("department", "REGEX MATCH", Some("^S.l")));
        assert!(holds("title", "NOT REGEX MATCH", Some(".")));
        assert!(holds("department", "includes", Some("ale")));
        assert!(holds("employeeNumber", "NOT EQUALS", Some("1")));
        assert!(
            !holds("employeeNumber", "Less_Than", Some("1")),
            "null fails comparisons"
        );
    }

    #[test]
    fn externals_disabled_and_unassigned_users_are_excluded() {
        let assigned = Assignments::new(&["Alice@Contoso.com".into()], ["g-member".to_string()].into());
        let mode = &scope(ScopeMode::AssignedUsersAndGroups);
        let alice = user("a", &[("userName", "alice@contoso.com")]);
        assert_eq!(exclusion(mode, &assigned, &alice), None);
        assert_eq!(
            exclusion(mode, &assigned, &user("g-member", &[("userName", "bob")])),
            None
        );
        assert_eq!(
            exclusion(mode, &assigned, &user("c", &[("userName", "carol")])),
            Some(Exclusion::NotAssigned)
        );
        assert_eq!(exclusion(&scope(ScopeMode::AllUsers), &assigned, &user("c", &[])), None);
        let guest = user("a", &[("userName", "alice@contoso.com"), ("userType", "Guest")]);
        assert_eq!(exclusion(mode, &assigned, &guest), Some(Exclusion::External));
        let synced_in = user(
            "a",
            &[
                ("userName", "alice@contoso.com"),
                ("externalId", "9188040d-6c67-4c5b-b112-36a304b66dad/x"),
            ],
        );
        assert_eq!(exclusion(mode, &assigned, &synced_in), Some(Exclusion::External));
        let disabled = user("a", &[("userName", "alice@contoso.com"), ("active", "false")]);
        assert_eq!(exclusion(mode, &assigned, &disabled), Some(Exclusion::Disabled));
    }
}
