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
    if assignment(scope, assignments, user) == Assignment::NotAssigned {
        return Some(Exclusion::NotAssigned);
    }
    if !passes(&scope.filter, user) {
        return Some(Exclusion::FilteredOut);
    }
    None
}

/// How a user is assigned to the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assignment {
    /// `scope.mode: AllUsers`: everyone is.
    AllUsers,
    /// Named in `scope.users` (by userName or id).
    Listed,
    /// A member of one of `scope.groups`.
    GroupMember,
    NotAssigned,
}

pub fn assignment(scope: &Scope, assignments: &Assignments, user: &User) -> Assignment {
    if scope.mode == ScopeMode::AllUsers {
        Assignment::AllUsers
    } else if assignments.users.contains(&user.user_name().to_lowercase())
        || assignments.users.contains(&user.id.to_lowercase())
    {
        Assignment::Listed
    } else if assignments.group_members.contains(&user.id) {
        Assignment::GroupMember
    } else {
        Assignment::NotAssigned
    }
}

/// How the scoping filter judged a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterVerdict {
    /// No filter groups: everyone passes.
    NoFilter,
    /// The first filter group (0-based) whose every clause holds.
    Matched(usize),
    /// No group matched: each group's first clause (0-based) that does not hold.
    NoGroupMatched(Vec<usize>),
}

/// Scoping filter groups are OR'ed, clauses within a group AND'ed; no groups = everyone.
pub fn passes(filter: &ScopingFilter, user: &User) -> bool {
    filter.groups.is_empty()
        || filter
            .groups
            .iter()
            .any(|clauses| first_failing(clauses, user).is_none())
}

/// [`passes`], saying which group matched or why none did (`kubectl xtsync explain`).
pub fn filter_verdict(filter: &ScopingFilter, user: &User) -> FilterVerdict {
    if filter.groups.is_empty() {
        return FilterVerdict::NoFilter;
    }
    let mut failing = Vec::with_capacity(filter.groups.len());
    for (group, clauses) in filter.groups.iter().enumerate() {
        match first_failing(clauses, user) {
            None => return FilterVerdict::Matched(group),
            Some(clause) => failing.push(clause),
        }
    }
    FilterVerdict::NoGroupMatched(failing)
}

/// The first clause of a filter group that does not hold for `user`; `None`: the group matches.
fn first_failing(clauses: &[Clause], user: &User) -> Option<usize> {
    clauses.iter().position(|c| !clause_holds(c, user))
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
    fn the_filter_verdict_names_the_group_that_matched_or_each_groups_first_failing_clause() {
        let f = compiled(&[
            &[
                ("department", "EQUALS", Some("Sales")),
                ("title", "EQUALS", Some("Rep")),
            ],
            &[("employeeNumber", "Greater_Than", Some("100"))],
        ]);
        let boss = user("2", &[("department", "Sales"), ("title", "Boss")]);
        assert_eq!(filter_verdict(&f, &boss), FilterVerdict::NoGroupMatched(vec![1, 0]));
        let senior = user("3", &[("department", "Ops"), ("employeeNumber", "101")]);
        assert_eq!(filter_verdict(&f, &senior), FilterVerdict::Matched(1));
        assert_eq!(filter_verdict(&compiled(&[]), &boss), FilterVerdict::NoFilter);
        for u in [&boss, &senior] {
            let verdict = filter_verdict(&f, u);
            assert_eq!(passes(&f, u), !matches!(verdict, FilterVerdict::NoGroupMatched(_)));
        }
    }

    #[test]
    fn the_assignment_says_by_what_a_user_is_assigned() {
        let assigned = Assignments::new(&["alice@contoso.com".into()], ["g-member".to_string()].into());
        let mode = &scope(ScopeMode::AssignedUsersAndGroups);
        let alice = user("a", &[("userName", "Alice@Contoso.com")]);
        assert_eq!(assignment(mode, &assigned, &alice), Assignment::Listed);
        let member = user("g-member", &[("userName", "bob")]);
        assert_eq!(assignment(mode, &assigned, &member), Assignment::GroupMember);
        let carol = user("c", &[("userName", "carol")]);
        assert_eq!(assignment(mode, &assigned, &carol), Assignment::NotAssigned);
        let all = &scope(ScopeMode::AllUsers);
        assert_eq!(assignment(all, &assigned, &carol), Assignment::AllUsers);
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
