//! The manifests `xtsync plan` reads: YAML or JSON files, or folders of them, with any number
//! of documents each; Tenants, CrossTenantAccessPolicies, SyncConfigurations and the Secrets
//! and ConfigMaps (CA bundles) they use (other kinds are passed over). Objects without a namespace are in `default`, as
//! `kubectl apply` would put them; their order stands in for creation time ("the oldest wins").

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::Deserialize;
use serde_json::Value;

use crate::api::{CrossTenantAccessPolicy, SyncConfiguration, Tenant};

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: {error}")]
    Unreadable { path: String, error: std::io::Error },
    #[error("{path}: document {document}: {error}")]
    Invalid {
        path: String,
        document: usize,
        error: String,
    },
}

#[derive(Default)]
pub struct Manifests {
    pub tenants: Vec<Tenant>,
    pub policies: Vec<CrossTenantAccessPolicy>,
    pub configs: Vec<SyncConfiguration>,
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
            for (document, yaml) in serde_yaml::Deserializer::from_str(&text).enumerate() {
                let invalid = |error: String| ManifestError::Invalid {
                    path: file.display().to_string(),
                    document: document + 1,
                    error,
                };
                let value = Value::deserialize(yaml).map_err(|e| invalid(e.to_string()))?;
                manifests.add(value).map_err(invalid)?;
            }
        }
        Ok(manifests)
    }

    fn add(&mut self, value: Value) -> Result<(), String> {
        let order = self.tenants.len() + self.policies.len() + self.configs.len() + self.secrets.len();
        match value.get("kind").and_then(Value::as_str) {
            Some("Tenant") => self.tenants.push(object(value, order)?),
            Some("CrossTenantAccessPolicy") => self.policies.push(object(value, order)?),
            Some("SyncConfiguration") => self.configs.push(object(value, order)?),
            Some("Secret") => self.secrets.push(object(value, order)?),
            Some("ConfigMap") => self.config_maps.push(object(value, order)?),
            _ => {}
        }
        Ok(())
    }
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
