//! Reading credentials. Secrets are read only from the referrer's own namespace, and a value
//! never leaves this module except to authenticate: it is not logged, evented or stored.

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use crate::api::SecretKeyRef;

/// The value of one key, or why it is not there (a message for a condition). The outer error
/// is the API call's (retry).
pub async fn read_key(
    client: &Client,
    ns: &str,
    key_ref: &SecretKeyRef,
) -> Result<Result<String, String>, kube::Error> {
    let Some(secret) = Api::<Secret>::namespaced(client.clone(), ns)
        .get_opt(&key_ref.name)
        .await?
    else {
        return Ok(Err(format!("Secret '{}' not found in namespace '{ns}'", key_ref.name)));
    };
    let value = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&key_ref.key))
        .map(|v| String::from_utf8_lossy(&v.0).trim().to_owned())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(&key_ref.key))
                .map(|v| v.trim().to_owned())
        });
    Ok(match value {
        Some(v) if !v.is_empty() => Ok(v),
        Some(_) => Err(format!("key '{}' of Secret '{}' is empty", key_ref.key, key_ref.name)),
        None => Err(format!("Secret '{}' has no key '{}'", key_ref.name, key_ref.key)),
    })
}
