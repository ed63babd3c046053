//! CRD YAML generated from the Rust types. `crds/` holds the output, checked in; a test fails
//! when it is stale, so the schema the cluster enforces is always the one the code reads.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::api::{CrossTenantAccessPolicy, Organization, SyncConfiguration, Tenant};

/// The CRDs, in the order they should be applied.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        Tenant::crd(),
        CrossTenantAccessPolicy::crd(),
        SyncConfiguration::crd(),
        Organization::crd(),
    ]
}

/// The file under `crds/` that holds a CRD: its name, e.g. `tenants.xtsync.io.yaml`.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or("unnamed"))
}

pub fn to_yaml(crd: &CustomResourceDefinition) -> Result<String, serde_saphyr::SerializeError> {
    serde_saphyr::to_string(crd)
}

/// All CRDs as one multi-document YAML stream (what `xtsync crds` prints).
pub fn all_yaml() -> Result<String, serde_saphyr::SerializeError> {
    let docs: Result<Vec<_>, _> = crds().iter().map(to_yaml).collect();
    Ok(docs?.iter().map(|d| format!("---\n{d}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked_in(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds").join(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} unreadable ({e}); run `make crds`", path.display()))
    }

    #[test]
    fn checked_in_crds_match_the_code() {
        for crd in crds() {
            let name = file_name(&crd);
            let generated = to_yaml(&crd).expect("CRD serializes");
            assert!(
                checked_in(&name) == generated,
                "crds/{name} is stale: run `make crds` and commit the result"
            );
        }
    }

    #[test]
    fn the_checked_in_yaml_reads_back_as_the_crds() {
        // Long descriptions are folded (`>-`): what kubectl reads must be the text the types hold.
        for crd in crds() {
            let read: serde_json::Value = serde_saphyr::from_str(&checked_in(&file_name(&crd))).expect("YAML");
            assert_eq!(read, serde_json::to_value(&crd).expect("JSON"), "{}", file_name(&crd));
        }
    }

    #[test]
    fn crds_have_no_cel_rules() {
        // README, "Test environment": apiserver 1.20 drops them and kubectl rejects them.
        let all = all_yaml().expect("CRDs serialize");
        assert!(!all.contains("x-kubernetes-validations"));
    }

    #[test]
    fn crds_are_namespaced_and_in_the_xtsync_category() {
        for crd in crds() {
            assert_eq!(crd.spec.scope, "Namespaced");
            assert_eq!(crd.spec.names.categories.as_deref(), Some(&["xtsync".to_string()][..]));
            assert_eq!(crd.spec.group, "xtsync.io");
            assert!(
                crd.spec.versions[0]
                    .subresources
                    .as_ref()
                    .is_some_and(|s| s.status.is_some())
            );
        }
    }
}
