//! A Tenant's private CA: the PEM bundle its `caBundleRef` names, from a ConfigMap or a Secret
//! of its namespace. Public certificates, not credentials: the Secret needs no label.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};

use super::Vetted;
use crate::providers::credential::BundleRef;
use crate::providers::settings::CaBundleHolder;
use crate::providers::tls::CaBundle;
use crate::providers::{ConnectError, Setup};

/// The CA bundle `setup` names, if any, or why it cannot be used. The outer error is the API
/// call's (retry).
pub async fn read(client: &Client, ns: &str, setup: &Setup) -> Vetted<Option<CaBundle>, ConnectError, kube::Error> {
    let Some(reference) = setup.ca_bundle() else {
        return Ok(Ok(None));
    };
    let name = &reference.bundle.name;
    let data = match reference.bundle.holder {
        CaBundleHolder::ConfigMap => Api::<ConfigMap>::namespaced(client.clone(), ns)
            .get_opt(name)
            .await?
            .map(|c| config_map_data(&c)),
        CaBundleHolder::Secret => Api::<Secret>::namespaced(client.clone(), ns)
            .get_opt(name)
            .await?
            .map(|s| secret_data(&s)),
    };
    Ok(bundle_of(reference, ns, data.as_ref()).map(Some))
}

/// The keys of a ConfigMap (`data`, and `binaryData` for a bundle kept as bytes).
pub fn config_map_data(config_map: &ConfigMap) -> BTreeMap<String, Vec<u8>> {
    let text = config_map
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone().into_bytes()));
    let binary = config_map
        .binary_data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.0.clone()));
    text.chain(binary).collect()
}

/// The keys of a Secret (`data`, else `stringData`).
pub fn secret_data(secret: &Secret) -> BTreeMap<String, Vec<u8>> {
    let string = secret
        .string_data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone().into_bytes()));
    let data = secret.data.iter().flatten().map(|(k, v)| (k.clone(), v.0.clone()));
    string.chain(data).collect()
}

/// The bundle in `data` (the keys of the object `reference` names, `None` when it does not
/// exist), or `InvalidCABundle` naming the field and what is wrong.
pub fn bundle_of(
    reference: BundleRef<'_>,
    ns: &str,
    data: Option<&BTreeMap<String, Vec<u8>>>,
) -> Result<CaBundle, ConnectError> {
    let BundleRef { field, bundle } = reference;
    let kind = match bundle.holder {
        CaBundleHolder::ConfigMap => "ConfigMap",
        CaBundleHolder::Secret => "Secret",
    };
    let object = format!("{kind} '{}'", bundle.name);
    let Some(data) = data else {
        return Err(ConnectError::InvalidCABundle(format!(
            "{field}: {object} not found in namespace '{ns}'"
        )));
    };
    let pem = data
        .get(&bundle.key)
        .ok_or_else(|| ConnectError::InvalidCABundle(format!("{field}: {object} has no key '{}'", bundle.key)))?;
    CaBundle::from_pem(pem)
        .map_err(|e| ConnectError::InvalidCABundle(format!("{field}: key '{}' of {object} {e}", bundle.key)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::settings::CaBundleLocation;

    #[test]
    fn a_missing_or_malformed_bundle_names_its_field_and_what_is_wrong() {
        let bundle = CaBundleLocation {
            holder: CaBundleHolder::ConfigMap,
            name: "corp-ca".into(),
            key: "ca.crt".into(),
        };
        let reference = BundleRef {
            field: "spec.directory.scim.caBundleRef",
            bundle: &bundle,
        };
        let message = |data: Option<&BTreeMap<String, Vec<u8>>>| match bundle_of(reference, "tenants", data) {
            Err(ConnectError::InvalidCABundle(message)) => message,
            other => panic!("not InvalidCABundle: {other:?}"),
        };
        assert_eq!(
            message(None),
            "spec.directory.scim.caBundleRef: ConfigMap 'corp-ca' not found in namespace 'tenants'"
        );
        assert!(message(Some(&BTreeMap::new())).contains("has no key 'ca.crt'"));
        let garbage = BTreeMap::from([("ca.crt".to_owned(), b"not a certificate".to_vec())]);
        let text = message(Some(&garbage));
        assert!(
            text.starts_with(
                "spec.directory.scim.caBundleRef: key 'ca.crt' of ConfigMap 'corp-ca' holds no PEM certificate"
            ),
            "{text}"
        );
    }
}
