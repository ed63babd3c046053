//! Validation, the step before the gate: a `SyncConfigurationSpec` becomes the engine's
//! `SyncRules` (and the interval the scheduler needs), or `InvalidSpec` with every problem at
//! once, so that one `kubectl apply` round fixes them all. Everything a schema cannot check
//! (operators, regexes, expressions, intervals, one-of rules) is checked here; later steps only
//! ever see a valid configuration.

use std::time::Duration;

use crate::api::sync_config::{self as api, AttributeMapping, SyncConfigurationSpec};
use crate::engine::expression;
use crate::engine::filter::{self, WrittenClause};
use crate::engine::groups;
use crate::engine::mapping::{self, Mapping, MappingValue};
use crate::engine::rules::{ActionSwitches, Deprovisioning, GroupRules, Scope, SyncRules};
use crate::engine::vocabulary::Membership;
use crate::engine::{attributes, interval};

/// A spec that passed validation.
#[derive(Clone, Debug)]
pub struct ValidSpec {
    pub rules: SyncRules,
    pub interval: Duration,
}

/// The spec's problems, each a sentence naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct SpecProblems(pub Vec<String>);

pub fn validate(spec: &SyncConfigurationSpec) -> Result<ValidSpec, SpecProblems> {
    let mut problems = Vec::new();
    let interval = interval::parse(&spec.interval)
        .map_err(|e| problems.push(format!("spec.interval: {e}")))
        .ok();
    let written: Vec<Vec<WrittenClause<'_>>> = spec
        .scope
        .filters
        .iter()
        .map(|group| {
            group
                .clauses
                .iter()
                .map(|c| WrittenClause {
                    attribute: &c.attribute,
                    operator: &c.operator,
                    value: c.value.as_deref(),
                })
                .collect()
        })
        .collect();
    let filter = filter::compile(&written).map_err(|p| problems.extend(p)).ok();
    let mut mappings = Vec::with_capacity(spec.attribute_mappings.len());
    for (i, mapping) in spec.attribute_mappings.iter().enumerate() {
        match compile_mapping(mapping) {
            Ok(m) => {
                if mappings.iter().any(|other: &Mapping| other.target == m.target) {
                    problems.push(format!("attributeMappings[{i}]: target '{}' is mapped twice", m.target));
                }
                mappings.push(m);
            }
            Err(why) => problems.push(format!("attributeMappings[{i}]: {why}")),
        }
    }
    let groups = group_rules(spec, &mut problems);
    match (interval, filter) {
        (Some(interval), Some(filter)) if problems.is_empty() => Ok(ValidSpec {
            rules: SyncRules {
                groups,
                ..rules(spec, filter, mapping::effective(&mappings))
            },
            interval,
        }),
        _ => Err(SpecProblems(problems)),
    }
}

/// The checked parts joined with the fields that need no checking.
fn rules(spec: &SyncConfigurationSpec, filter: filter::ScopingFilter, mappings: Vec<Mapping>) -> SyncRules {
    SyncRules {
        scope: Scope {
            mode: spec.scope.mode,
            users: spec.scope.users.clone(),
            groups: spec.scope.groups.clone(),
            filter,
        },
        mappings,
        user_type: spec.user_type,
        adopt_existing: spec.matching.adopt_existing,
        deprovision: Deprovisioning {
            action: spec.deprovision.action,
            threshold: usize::try_from(spec.deprovision.accidental_deletion_threshold).unwrap_or(usize::MAX),
        },
        actions: ActionSwitches {
            create: spec.actions.create,
            update: spec.actions.update,
            deprovision: spec.actions.deprovision,
        },
        groups: None,
    }
}

/// The attributes a mapping may name: a user's, or a group's.
struct Names {
    canonical: fn(&str) -> Option<&'static str>,
    unknown: fn(&str) -> String,
}

const USER_ATTRIBUTES: Names = Names {
    canonical: attributes::canonical,
    unknown: attributes::unknown_message,
};

const GROUP_ATTRIBUTES: Names = Names {
    canonical: |name| {
        groups::GROUP_ATTRIBUTES
            .into_iter()
            .find(|a| a.eq_ignore_ascii_case(name))
    },
    unknown: |name| format!("'{name}' is not a group attribute (displayName, description)"),
};

fn compile_mapping(mapping: &AttributeMapping) -> Result<Mapping, String> {
    let compiled = compile_with(mapping, &USER_ATTRIBUTES)?;
    if mapping::RESERVED_TARGETS.contains(&compiled.target) {
        return Err(format!(
            "target '{}' is managed by xtsync (externalId holds the anchor, active follows the scope)",
            compiled.target
        ));
    }
    Ok(compiled)
}

fn compile_with(mapping: &AttributeMapping, names: &Names) -> Result<Mapping, String> {
    let canonical = |name: &str| (names.canonical)(name).ok_or_else(|| (names.unknown)(name));
    let target = canonical(&mapping.target)?;
    let value = match (&mapping.source, &mapping.constant, &mapping.expression) {
        (Some(source), None, None) => MappingValue::Source(canonical(source)?),
        (None, Some(constant), None) => MappingValue::Constant(constant.clone()),
        (None, None, Some(text)) => {
            let expr = expression::parse(text).map_err(|e| format!("expression '{text}' {e}"))?;
            if let Some(unknown) = expr.attributes().into_iter().find(|a| (names.canonical)(a).is_none()) {
                return Err(format!("expression '{text}': {}", (names.unknown)(unknown)));
            }
            MappingValue::Expression(expr)
        }
        _ => {
            return Err(format!(
                "target '{}' needs exactly one of source, constant or expression",
                mapping.target
            ));
        }
    };
    Ok(Mapping {
        target,
        value,
        apply_on: mapping.apply_on,
    })
}

/// `groupProvisioning`, checked: the groups it provisions are `scope.groups`, so it needs some;
/// its mappings name group attributes.
fn group_rules(spec: &SyncConfigurationSpec, problems: &mut Vec<String>) -> Option<GroupRules> {
    let provisioning = spec.group_provisioning.as_ref().filter(|g| g.enabled)?;
    if spec.scope.groups.is_empty() {
        problems.push("groupProvisioning.enabled: scope.groups lists no group to provision".into());
    }
    let mut mappings: Vec<Mapping> = Vec::new();
    for (i, mapping) in provisioning.attribute_mappings.iter().enumerate() {
        match compile_with(mapping, &GROUP_ATTRIBUTES) {
            Ok(m) if mappings.iter().any(|other| other.target == m.target) => problems.push(format!(
                "groupProvisioning.attributeMappings[{i}]: target '{}' is mapped twice",
                m.target
            )),
            Ok(m) => mappings.push(m),
            Err(why) => problems.push(format!("groupProvisioning.attributeMappings[{i}]: {why}")),
        }
    }
    Some(GroupRules {
        membership: match provisioning.membership {
            api::GroupMembership::Direct => Membership::Direct,
            api::GroupMembership::Transitive => Membership::Transitive,
        },
        mappings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::sync_config::{ScopingClause, ScopingFilterGroup};
    use crate::engine::vocabulary::ApplyOn;

    fn spec() -> SyncConfigurationSpec {
        serde_json::from_value(serde_json::json!({
            "sourceRef": {"name": "contoso"},
            "targetRef": {"name": "fabrikam"},
        }))
        .expect("minimal spec deserializes")
    }

    #[test]
    fn minimal_spec_gets_documented_defaults() {
        let s = spec();
        assert_eq!(s.interval, "40m");
        assert_eq!(s.deprovision.accidental_deletion_threshold, 500);
        assert!(s.matching.adopt_existing);
        let valid = validate(&s).expect("valid");
        assert_eq!(valid.interval, Duration::from_secs(2400));
        assert_eq!(valid.rules.mappings.len(), 7, "the documented defaults");
        assert_eq!(valid.rules.deprovision.threshold, 500);
        assert!(valid.rules.adopt_existing);
        assert_eq!(
            valid.rules.actions,
            ActionSwitches::default(),
            "every target object action on"
        );
    }

    #[test]
    fn actions_left_out_stay_on() {
        let s: SyncConfigurationSpec = serde_json::from_value(serde_json::json!({
            "sourceRef": {"name": "contoso"},
            "targetRef": {"name": "fabrikam"},
            "actions": {"deprovision": false},
        }))
        .expect("deserializes");
        let actions = validate(&s).expect("valid").rules.actions;
        assert_eq!(
            (actions.create, actions.update, actions.deprovision),
            (true, true, false)
        );
    }

    #[test]
    fn collects_every_problem() {
        let mut s = spec();
        s.interval = "5s".into();
        s.scope.filters = vec![ScopingFilterGroup {
            clauses: vec![ScopingClause {
                attribute: "department".into(),
                operator: "LIKE".into(),
                value: Some("x".into()),
            }],
        }];
        s.attribute_mappings = vec![
            AttributeMapping {
                target: "title".into(),
                expression: Some("Join(\" \", [givenName]".into()),
                ..Default::default()
            },
            AttributeMapping {
                target: "displayName".into(),
                ..Default::default()
            },
            AttributeMapping {
                target: "department".into(),
                source: Some("costCenter".into()),
                ..Default::default()
            },
            AttributeMapping {
                target: "externalId".into(),
                source: Some("userName".into()),
                ..Default::default()
            },
        ];
        let SpecProblems(problems) = validate(&s).expect_err("invalid");
        assert_eq!(problems.len(), 6, "{problems:?}");
        assert!(problems[0].starts_with("spec.interval: interval '5s' is shorter"));
        assert!(problems[1].contains("unknown operator 'LIKE'"));
        assert!(problems[2].starts_with("attributeMappings[0]: expression 'Join(\" \", [givenName]' at column"));
        assert!(problems[3].contains("exactly one of source, constant or expression"));
        assert!(problems[4].contains("unknown attribute 'costCenter'"));
        assert!(problems[5].contains("'externalId' is managed by xtsync"));
    }

    #[test]
    fn mappings_compile_to_canonical_names() {
        let mut s = spec();
        s.attribute_mappings = vec![
            AttributeMapping {
                target: "email".into(),
                source: Some("mail".into()),
                ..Default::default()
            },
            AttributeMapping {
                target: "userType".into(),
                constant: Some("Member".into()),
                apply_on: api::ApplyOn::CreateOnly,
                ..Default::default()
            },
        ];
        let c = validate(&s).expect("valid").rules;
        assert_eq!(c.mappings[0].target, attributes::WORK_EMAIL);
        assert!(matches!(
            c.mappings[0].value,
            MappingValue::Source(attributes::WORK_EMAIL)
        ));
        assert_eq!(c.mappings[1].apply_on, ApplyOn::CreateOnly);
    }

    #[test]
    fn an_expression_nested_too_deep_is_an_invalid_spec_not_a_crash() {
        let mut s = spec();
        s.attribute_mappings = vec![AttributeMapping {
            target: "title".into(),
            expression: Some(format!("{}[userName]{}", "Trim(".repeat(6000), ")".repeat(6000))),
            ..Default::default()
        }];
        let SpecProblems(problems) = validate(&s).expect_err("invalid");
        assert!(problems[0].contains("at most 10000 are allowed"), "{problems:?}");
    }

    fn with_title_expression(expression: &str) -> SyncConfigurationSpec {
        let mut s = spec();
        s.attribute_mappings = vec![AttributeMapping {
            target: "title".into(),
            expression: Some(expression.into()),
            ..Default::default()
        }];
        s
    }

    #[test]
    fn a_replace_regex_is_compiled_when_the_spec_is_validated() {
        let s = with_title_expression(r#"Replace([userName], , "([a-z", , "x", , )"#);
        let SpecProblems(problems) = validate(&s).expect_err("invalid regexPattern");
        assert!(problems[0].starts_with("attributeMappings[0]: "), "{problems:?}");
        assert!(problems[0].contains("([a-z"), "{problems:?}");
        // A pattern that is not a literal would be compiled for every user: refused.
        let s = with_title_expression(r#"Replace([userName], , [department], , "x", , )"#);
        let SpecProblems(problems) = validate(&s).expect_err("pattern from an attribute");
        assert!(problems[0].contains("regexPattern"), "{problems:?}");
    }

    #[test]
    fn a_regex_too_large_to_compile_within_its_bound_is_an_invalid_spec() {
        // `\w` is a Unicode class: 100 of them compile to megabytes.
        let huge = r"\w{100}";
        let s = with_title_expression(&format!(r#"Replace([userName], , "{huge}", , "x", , )"#));
        let SpecProblems(problems) = validate(&s).expect_err("too large");
        assert!(problems[0].starts_with("attributeMappings[0]: "), "{problems:?}");
        assert!(problems[0].contains("size limit"), "{problems:?}");
        let mut s = spec();
        s.scope.filters = vec![ScopingFilterGroup {
            clauses: vec![ScopingClause {
                attribute: "department".into(),
                operator: "REGEX MATCH".into(),
                value: Some(huge.into()),
            }],
        }];
        let SpecProblems(problems) = validate(&s).expect_err("too large");
        assert!(problems[0].starts_with("scope.filters[0].clauses[0]: "), "{problems:?}");
        assert!(problems[0].contains("size limit"), "{problems:?}");
    }

    #[test]
    fn group_provisioning_needs_scope_groups_and_maps_group_attributes_only() {
        let mut s = spec();
        s.group_provisioning = Some(
            serde_json::from_value(serde_json::json!({
                "enabled": true, "membership": "Transitive",
                "attributeMappings": [
                    {"target": "displayName", "expression": "Join(\" \", \"Partner\", [displayName])"},
                    {"target": "description", "source": "department"},
                ],
            }))
            .expect("groupProvisioning"),
        );
        let SpecProblems(problems) = validate(&s).expect_err("invalid");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("scope.groups lists no group"), "{problems:?}");
        assert!(
            problems[1].contains("attributeMappings[1]") && problems[1].contains("not a group attribute"),
            "{problems:?}"
        );

        s.scope.groups = vec!["Sales".into()];
        s.group_provisioning.as_mut().expect("set").attribute_mappings.pop();
        let groups = validate(&s).expect("valid").rules.groups.expect("enabled");
        assert_eq!(groups.membership, Membership::Transitive);
        assert_eq!(groups.mappings.len(), 1);
        s.group_provisioning.as_mut().expect("set").enabled = false;
        assert!(
            validate(&s).expect("valid").rules.groups.is_none(),
            "off when not enabled"
        );
    }
}
