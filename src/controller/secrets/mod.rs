//! Reading credentials. Secrets are read only from the referrer's own namespace and only when
//! they opt in with the label `xtsync.io/credentials: "true"` (as Argo CD's Secrets do), and
//! only for the URLs their annotation `xtsync.io/credentials-for` lists: who may create a
//! Tenant cannot make xtsync send just any Secret to a host of their choice. A value never
//! leaves this module except to authenticate: it is not logged, evented or stored.

mod allowed;

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use crate::providers::{ConnectError, Setup};

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

/// The credential of a Tenant set up as `setup`, or why it cannot be used. The outer error is
/// the API call's (retry).
pub async fn read_key(
    client: &Client,
    ns: &str,
    setup: &Setup<'_>,
) -> Result<Result<String, SecretProblem>, kube::Error> {
    let secret = Api::<Secret>::namespaced(client.clone(), ns)
        .get_opt(&setup.secret().name)
        .await?;
    Ok(key_of(secret.as_ref(), ns, setup))
}

/// The credential `setup` names, from `secret` (the Secret it names, if it exists), or why it
/// cannot be used: only a Secret labelled as directory credentials and allowed to go where
/// `setup` would send it is, and it is judged before its value is looked at.
pub fn key_of(secret: Option<&Secret>, ns: &str, setup: &Setup<'_>) -> Result<String, SecretProblem> {
    let key_ref = setup.secret();
    let name = &key_ref.name;
    let Some(secret) = secret else {
        return Err(SecretProblem::NotFound(format!(
            "Secret '{name}' not found in namespace '{ns}'"
        )));
    };
    allowed::check(secret, ns, setup.destinations()).map_err(SecretProblem::NotAllowed)?;
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

#[cfg(test)]
mod tests;
