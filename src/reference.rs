//! The field reference (docs/reference.md), generated from the same CRD schemas the apiserver
//! enforces, so the documentation of every field cannot drift from the code.

use std::fmt::Write;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps, JSONSchemaPropsOrArray,
};

/// Markdown: one section per kind, one table row per field of `spec` and `status`; then every
/// condition with its reasons, from the reason enums (`api::reasons`).
pub fn markdown(crds: &[CustomResourceDefinition]) -> String {
    let mut out = fields(crds);
    out.push_str(&reasons(&crate::api::reasons::catalogue()));
    out
}

/// Every condition type of every kind, one table of reasons each.
fn reasons(tables: &[crate::api::reasons::ReasonTable]) -> String {
    let mut out = String::from("\n## Conditions and their reasons\n");
    for table in tables {
        let _ = write!(
            out,
            "\n### {} `{}` — {}\n\n| reason | meaning |\n|---|---|\n",
            table.kind, table.type_, table.about
        );
        for (reason, meaning) in &table.reasons {
            let _ = writeln!(out, "| `{reason}` | {} |", meaning.replace('|', "\\|"));
        }
    }
    out
}

fn fields(crds: &[CustomResourceDefinition]) -> String {
    let mut out = String::from(
        "# Field reference\n\nGenerated from the CRDs by `make crds`; a test fails when it is stale. \
         `[]` marks a list, `*` a required field.\n",
    );
    for crd in crds {
        let version = &crd.spec.versions[0];
        let _ = write!(
            out,
            "\n## {} (`{}/{}`)\n",
            crd.spec.names.kind, crd.spec.group, version.name
        );
        let Some(root) = version.schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref()) else {
            continue;
        };
        if let Some(description) = &root.description {
            let _ = writeln!(out, "\n{description}");
        }
        out.push_str("\n| field | type | default | description |\n|---|---|---|---|\n");
        for top in ["spec", "status"] {
            if let Some(schema) = root.properties.as_ref().and_then(|p| p.get(top)) {
                walk(
                    &mut out,
                    top,
                    schema,
                    root.required.as_deref().unwrap_or_default().iter().any(|r| r == top),
                );
            }
        }
    }
    out
}

fn walk(out: &mut String, path: &str, schema: &JSONSchemaProps, required: bool) {
    let mut kind = schema.type_.clone().unwrap_or_else(|| "object".into());
    if let Some(values) = &schema.enum_ {
        let names: Vec<String> = values
            .iter()
            .map(|v| v.0.as_str().map_or_else(|| v.0.to_string(), str::to_owned))
            .collect();
        kind = names.join(" \\| ");
    }
    if let Some(pattern) = &schema.pattern {
        kind = format!("{kind} (pattern `{pattern}`)");
    }
    let default = schema
        .default
        .as_ref()
        .map(|d| format!("`{}`", d.0))
        .unwrap_or_default();
    let description = schema
        .description
        .as_deref()
        .unwrap_or_default()
        .replace('\n', " ")
        .replace('|', "\\|");
    let _ = writeln!(
        out,
        "| `{path}`{} | {kind} | {default} | {description} |",
        if required { " *" } else { "" }
    );
    let required_children = schema.required.as_deref().unwrap_or_default();
    if let Some(properties) = &schema.properties {
        for (name, child) in properties {
            walk(
                out,
                &format!("{path}.{name}"),
                child,
                required_children.iter().any(|r| r == name),
            );
        }
    }
    if let Some(JSONSchemaPropsOrArray::Schema(item)) = &schema.items {
        for (name, child) in item.properties.iter().flatten() {
            let required = item.required.as_deref().unwrap_or_default().iter().any(|r| r == name);
            walk(out, &format!("{path}[].{name}"), child, required);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn checked_in_reference_matches_the_crds() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference.md");
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        let generated = super::markdown(&crate::crdgen::crds());
        assert!(
            current == generated,
            "docs/reference.md is stale: run `make crds` and commit it"
        );
        for field in [
            "spec.deprovision.accidentalDeletionThreshold",
            "spec.scope.filters[].clauses[].operator",
            "status.lastCycle.created",
        ] {
            assert!(generated.contains(&format!("`{field}`")), "{field} missing");
        }
        let reason = crate::api::reasons::ReadyReason::DuplicatePair;
        assert!(generated.contains(&format!("| `{reason}` |")), "{reason} missing");
    }
}
