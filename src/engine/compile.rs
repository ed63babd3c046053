//! Turns a `SyncConfigurationSpec` into the engine's checked form. Everything a schema cannot
//! check (operators, regexes, expressions, intervals, one-of rules) is checked here, and every
//! problem is reported at once so that one `kubectl apply` round fixes them all.

use std::time::Duration;

use super::expression::{self, Expr};
use super::filter::{self, ScopingFilter};
use super::{attributes, interval};
use crate::api::sync_config::{ApplyOn, AttributeMapping, SyncConfigurationSpec};

#[derive(Clone, Debug)]
pub struct CompiledSpec {
    pub interval: Duration,
    pub filter: ScopingFilter,
    /// Explicit mappings; empty means the provider-neutral defaults.
    pub mappings: Vec<Mapping>,
}

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

/// The spec's problems, each a sentence naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct SpecProblems(pub Vec<String>);

pub fn compile(spec: &SyncConfigurationSpec) -> Result<CompiledSpec, SpecProblems> {
    let mut problems = Vec::new();
    let interval = interval::parse(&spec.interval)
        .map_err(|e| problems.push(format!("spec.interval: {e}")))
        .ok();
    let filter = filter::compile(&spec.scope.filters)
        .map_err(|p| problems.extend(p))
        .ok();
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
    match (interval, filter) {
        (Some(interval), Some(filter)) if problems.is_empty() => Ok(CompiledSpec {
            interval,
            filter,
            mappings,
        }),
        _ => Err(SpecProblems(problems)),
    }
}

fn compile_mapping(mapping: &AttributeMapping) -> Result<Mapping, String> {
    let target = attributes::canonical(&mapping.target).ok_or_else(|| attributes::unknown_message(&mapping.target))?;
    if super::mapping::RESERVED_TARGETS.contains(&target) {
        return Err(format!(
            "target '{target}' is managed by xtsync (externalId holds the anchor, active follows the scope)"
        ));
    }
    let value = match (&mapping.source, &mapping.constant, &mapping.expression) {
        (Some(source), None, None) => {
            MappingValue::Source(attributes::canonical(source).ok_or_else(|| attributes::unknown_message(source))?)
        }
        (None, Some(constant), None) => MappingValue::Constant(constant.clone()),
        (None, None, Some(text)) => {
            let expr = expression::parse(text).map_err(|e| format!("expression '{text}' {e}"))?;
            if let Some(unknown) = expr
                .attributes()
                .into_iter()
                .find(|a| attributes::canonical(a).is_none())
            {
                return Err(format!("expression '{text}': {}", attributes::unknown_message(unknown)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::sync_config::{ScopingClause, ScopingFilterGroup};

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
        let compiled = compile(&s).expect("valid");
        assert_eq!(compiled.interval, Duration::from_secs(2400));
        assert!(compiled.mappings.is_empty());
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
        let SpecProblems(problems) = compile(&s).expect_err("invalid");
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
                apply_on: ApplyOn::CreateOnly,
                ..Default::default()
            },
        ];
        let c = compile(&s).expect("valid");
        assert_eq!(c.mappings[0].target, attributes::WORK_EMAIL);
        assert!(matches!(
            c.mappings[0].value,
            MappingValue::Source(attributes::WORK_EMAIL)
        ));
        assert_eq!(c.mappings[1].apply_on, ApplyOn::CreateOnly);
    }
}
