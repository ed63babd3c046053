//! Reading credentials. Secrets are read only from the referrer's own namespace and only when
//! they opt in with the label `xtsync.io/credentials: "true"` (as Argo CD's Secrets do), and
//! only for the URLs their annotation `xtsync.io/credentials-for` lists: who may create a
//! Tenant cannot make xtsync send just any Secret to a host of their choice. A value never
//! leaves this module except to authenticate: it is not logged, evented or stored.

mod allowed;

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::{Api, Client};

use super::Vetted;
use crate::providers::msgraph::ClientCertificate;
use crate::providers::settings::SecretKeyLocation;
use crate::providers::{Clients, ConnectError, Credential, CredentialRef, Setup};

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
pub async fn read_credential(
    client: &Client,
    ns: &str,
    setup: &Setup,
    clients: &Clients,
) -> Vetted<Credential, ConnectError, kube::Error> {
    let secret = match setup.credential().secret_name() {
        Some(name) => Api::<Secret>::namespaced(client.clone(), ns).get_opt(name).await?,
        None => None,
    };
    Ok(credential_of(secret.as_ref(), ns, setup, clients, Timestamp::now()))
}

/// The credential `setup` names — from `secret`, the Secret it names if it exists, or the
/// operator's federated token — at `now`.
pub fn credential_of(
    secret: Option<&Secret>,
    ns: &str,
    setup: &Setup,
    clients: &Clients,
    now: Timestamp,
) -> Result<Credential, ConnectError> {
    match setup.credential() {
        CredentialRef::SecretKey(key) => Ok(Credential::Token(key_of(secret, ns, setup, key)?)),
        CredentialRef::TlsSecret(name) => {
            let secret = allowed(secret, ns, setup, name)?;
            let certificate = read_value(secret, "tls.crt")
                .zip(read_value(secret, "tls.key"))
                .ok_or_else(|| {
                    SecretProblem::NotFound(format!(
                        "Secret '{name}' (spec.directory.msgraph.clientCertificateSecretRef) needs the keys tls.crt and tls.key of a kubernetes.io/tls Secret"
                    ))
                })?;
            ClientCertificate::from_pem(&certificate.0, &certificate.1, now)
                .map(|c| Credential::Certificate(Arc::new(c)))
                .map_err(|e| {
                    ConnectError::InvalidCertificate(format!(
                        "Secret '{name}' (spec.directory.msgraph.clientCertificateSecretRef): {e}; nothing was sent"
                    ))
                })
        }
        CredentialRef::WorkloadIdentity => setup.federated(clients),
    }
}

/// `secret`, when it exists and may be used where `setup` would send it.
fn allowed<'s>(secret: Option<&'s Secret>, ns: &str, setup: &Setup, name: &str) -> Result<&'s Secret, SecretProblem> {
    let Some(secret) = secret else {
        return Err(SecretProblem::NotFound(format!(
            "Secret '{name}' not found in namespace '{ns}'"
        )));
    };
    allowed::check(secret, ns, setup.destinations()).map_err(SecretProblem::NotAllowed)?;
    Ok(secret)
}

/// The bytes of `key` in `secret` (`data`, else `stringData`).
fn read_value(secret: &Secret, key: &str) -> Option<Vec<u8>> {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|v| v.0.clone())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|v| v.clone().into_bytes())
        })
        .filter(|v| !v.is_empty())
}

/// The token `key_ref` names, from `secret` (the Secret it names, if it exists), or why it
/// cannot be used: only a Secret labelled as directory credentials and allowed to go where
/// `setup` would send it is, and it is judged before its value is looked at.
pub fn key_of(
    secret: Option<&Secret>,
    ns: &str,
    setup: &Setup,
    key_ref: &SecretKeyLocation,
) -> Result<String, SecretProblem> {
    let name = &key_ref.name;
    let secret = allowed(secret, ns, setup, name)?;
    let value = read_value(secret, &key_ref.key).map(|v| String::from_utf8_lossy(&v).trim().to_owned());
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        Some(_) => Err(SecretProblem::NotFound(format!(
            "key '{}' of Secret '{name}' is empty",
            key_ref.key
        ))),
        None => Err(SecretProblem::NotFound(format!(
            "Secret '{name}' has no key '{}' (or it is empty)",
            key_ref.key
        ))),
    }
}

#[cfg(test)]
mod tests;
