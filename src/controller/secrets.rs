//! Reading credentials. Secrets are read only from the referrer's own namespace and only when
//! they opt in with the label `xtsync.io/credentials: "true"` (as Argo CD's Secrets do): who may
//! create a Tenant cannot make xtsync send just any Secret to a host of their choice. A value
//! never leaves this module except to authenticate: it is not logged, evented or stored.

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use crate::api::{CREDENTIALS_LABEL, SecretKeyRef};
use crate::providers::ConnectError;

/// Why a Secret cannot be used (a message for a condition).
#[derive(Debug, thiserror::Error)]
pub enum SecretProblem {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    NotAllowed(String),
}

/// A Secret that cannot be used makes its Tenant's directory one that cannot be opened.
impl From<SecretProblem> for ConnectError {
    fn from(problem: SecretProblem) -> Self {
        match problem {
            SecretProblem::NotFound(message) => ConnectError::SecretNotFound(message),
            SecretProblem::NotAllowed(message) => ConnectError::SecretNotAllowed(message),
        }
    }
}

/// The value of one key, or why it cannot be used. The outer error is the API call's (retry).
pub async fn read_key(
    client: &Client,
    ns: &str,
    key_ref: &SecretKeyRef,
) -> Result<Result<String, SecretProblem>, kube::Error> {
    let secret = Api::<Secret>::namespaced(client.clone(), ns)
        .get_opt(&key_ref.name)
        .await?;
    Ok(key_of(secret.as_ref(), ns, key_ref))
}

/// The value of one key of `secret` (the Secret named by `key_ref`, if it exists), or why it
/// cannot be used: only a Secret labelled as directory credentials is.
pub fn key_of(secret: Option<&Secret>, ns: &str, key_ref: &SecretKeyRef) -> Result<String, SecretProblem> {
    let name = &key_ref.name;
    let Some(secret) = secret else {
        return Err(SecretProblem::NotFound(format!(
            "Secret '{name}' not found in namespace '{ns}'"
        )));
    };
    let labels = secret.metadata.labels.as_ref();
    if labels.and_then(|l| l.get(CREDENTIALS_LABEL)).map(String::as_str) != Some("true") {
        return Err(SecretProblem::NotAllowed(format!(
            "Secret '{name}' lacks the label {CREDENTIALS_LABEL}: \"true\"; xtsync uses only Secrets labelled as directory credentials, and sent nothing"
        )));
    }
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
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        Some(_) => Err(SecretProblem::NotFound(format!(
            "key '{}' of Secret '{name}' is empty",
            key_ref.key
        ))),
        None => Err(SecretProblem::NotFound(format!(
            "Secret '{name}' has no key '{}'",
            key_ref.key
        ))),
    }
}
