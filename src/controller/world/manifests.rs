//! The manifests `xtsync plan` reads: YAML or JSON files, or folders of them, with any number
//! of documents each; Tenants, CrossTenantAccessPolicies, SyncConfigurations and the Secrets
//! and ConfigMaps (CA bundles) they use (other kinds are passed over). Objects without a namespace are in `default`, as
//! `kubectl apply` would put them; their order stands in for creation time ("the oldest wins").

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde_json::Value;

use crate::api::{CrossTenantAccessPolicy, Organization, SyncConfiguration, Tenant};

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: {error}")]
    Unreadable { path: String, error: std::io::Error },
    #[error("{path}: not YAML or JSON: {error}")]
    Malformed { path: String, error: String },
    #[error("{path}: {object}: {error}")]
    Invalid {
        path: String,
        object: String,
        error: String,
    },
}

#[derive(Default)]
pub struct Manifests {
    pub tenants: Vec<Tenant>,
    pub policies: Vec<CrossTenantAccessPolicy>,
    pub configs: Vec<SyncConfiguration>,
    pub organizations: Vec<Organization>,
    pub secrets: Vec<Secret>,
    pub config_maps: Vec<ConfigMap>,
}

impl Manifests {
    pub fn load(paths: &[PathBuf]) -> Result<Manifests, ManifestError> {
        let mut manifests = Manifests::default();
        let mut files = Vec::new();
        for path in paths {
            collect(path, &mut files)?;
        }
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|error| ManifestError::Unreadable {
                path: file.display().to_string(),
                error,
            })?;
            let path = || file.display().to_string();
            // Empty documents are passed over; the first syntax error ends the file, its line
            // and column in the message.
            let documents: Vec<Value> = serde_saphyr::from_multiple(&text).map_err(|e| ManifestError::Malformed {
                path: path(),
                error: e.to_string(),
            })?;
            for value in documents {
                let object = describe(&value);
                manifests.add(value).map_err(|error| ManifestError::Invalid {
                    path: path(),
                    object,
                    error,
                })?;
            }
        }
        Ok(manifests)
    }

    fn add(&mut self, value: Value) -> Result<(), String> {
        let order = self.tenants.len()
            + self.policies.len()
            + self.configs.len()
            + self.organizations.len()
            + self.secrets.len();
        match value.get("kind").and_then(Value::as_str) {
            Some("Tenant") => self.tenants.push(object(value, order)?),
            Some("CrossTenantAccessPolicy") => self.policies.push(object(value, order)?),
            Some("SyncConfiguration") => self.configs.push(object(value, order)?),
            Some("Organization") => self.organizations.push(object(value, order)?),
            Some("Secret") => self.secrets.push(object(value, order)?),
            Some("ConfigMap") => self.config_maps.push(object(value, order)?),
            _ => {}
        }
        Ok(())
    }
}

/// How an error names the object it is about: `Kind/name`, as kubectl does.
fn describe(value: &Value) -> String {
    let field = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("?").to_owned();
    let kind = field(value.get("kind"));
    let name = field(value.get("metadata").and_then(|m| m.get("name")));
    format!("{kind}/{name}")
}

/// Files of `path` (a file, or a folder searched for `.yaml`, `.yml` and `.json`), in name order.
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), ManifestError> {
    if !path.is_dir() {
        files.push(path.to_owned());
        return Ok(());
    }
    let unreadable = |error| ManifestError::Unreadable {
        path: path.display().to_string(),
        error,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(unreadable)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        let manifest = entry
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
        if entry.is_dir() || manifest {
            collect(&entry, files)?;
        }
    }
    Ok(())
}

/// A typed object, in `default` unless it names a namespace, created `order` seconds after the
/// epoch (a stand-in for the cluster's creation time), with a uid of its own.
fn object<K>(value: Value, order: usize) -> Result<K, String>
where
    K: serde::de::DeserializeOwned + kube::Resource,
{
    let mut object: K = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let meta: &mut ObjectMeta = object.meta_mut();
    meta.namespace.get_or_insert_with(|| "default".to_owned());
    let seconds = i64::try_from(order).unwrap_or(i64::MAX);
    if meta.creation_timestamp.is_none() {
        let at = k8s_openapi::jiff::Timestamp::from_second(seconds).map_err(|e| e.to_string())?;
        meta.creation_timestamp = Some(Time(at));
    }
    meta.uid.get_or_insert_with(|| format!("plan-{order}"));
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, text: &str) -> Result<Manifests, ManifestError> {
        let dir = std::env::temp_dir().join(format!("xtsync-manifests-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let file = dir.join("m.yaml");
        std::fs::write(&file, text).expect("the manifest");
        let loaded = Manifests::load(&[file]);
        let _ = std::fs::remove_dir_all(&dir);
        loaded
    }

    #[test]
    fn documents_of_every_kind_are_read_and_empty_ones_passed_over() {
        let text = "---\n# nothing\n---\napiVersion: xtsync.io/v1alpha1\nkind: Tenant\nmetadata: { name: contoso }\nspec: { tenantId: t, directory: { scim: { url: 'https://scim.example/v2', auth: { bearerTokenSecretRef: { name: s, key: token } } } } }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: other }\n";
        let manifests = load("kinds", text).expect("valid manifests");
        assert_eq!(manifests.tenants.len(), 1);
        assert_eq!(manifests.tenants[0].metadata.namespace.as_deref(), Some("default"));
    }

    #[test]
    fn a_syntax_error_names_the_file_and_the_line() {
        let error = load("syntax", "kind: Tenant\nmetadata: { name: [\n")
            .err()
            .expect("an error");
        let message = error.to_string();
        assert!(matches!(error, ManifestError::Malformed { .. }), "{message}");
        assert!(message.contains("m.yaml") && message.contains("line"), "{message}");
    }

    #[test]
    fn an_object_that_does_not_fit_its_kind_is_named() {
        let text = "kind: Tenant\nmetadata: { name: contoso }\nspec: { tenantId: [1, 2] }\n";
        let message = load("kind", text).err().expect("an error").to_string();
        assert!(message.contains("Tenant/contoso"), "{message}");
    }
}
