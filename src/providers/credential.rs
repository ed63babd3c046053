//! What a Tenant authenticates with, once read: the kinds of credential a provider can be
//! handed, and where each comes from. Reading them (Secrets, the federated token's trust) is
//! the controller's; using them is the providers'.

use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;

use super::msgraph::ClientCertificate;
use super::settings::{CaBundleLocation, SecretKeyLocation};
use super::tls::CaBundle;

/// Where a Tenant's credential is to be found.
#[derive(Clone, Copy, Debug)]
pub enum CredentialRef<'a> {
    /// A key of a labelled Secret: a SCIM bearer token, a Graph client secret.
    SecretKey(&'a SecretKeyLocation),
    /// A labelled `kubernetes.io/tls` Secret: a Graph app's certificate and key.
    TlsSecret(&'a str),
    /// The operator's own federated token; no Secret.
    WorkloadIdentity,
}

impl CredentialRef<'_> {
    /// The Secret it is read from, if any.
    pub fn secret_name(&self) -> Option<&str> {
        match self {
            CredentialRef::SecretKey(key) => Some(&key.name),
            CredentialRef::TlsSecret(name) => Some(name),
            CredentialRef::WorkloadIdentity => None,
        }
    }
}

/// A credential, read.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A bearer token or a client secret.
    Token(String),
    Certificate(Arc<ClientCertificate>),
    /// The operator's federated token, read anew for every token request.
    Federated,
}

impl Credential {
    /// When it stops working, when it says.
    pub fn expiry(&self) -> Option<Timestamp> {
        match self {
            Credential::Certificate(certificate) => Some(certificate.not_after()),
            Credential::Token(_) | Credential::Federated => None,
        }
    }
}

/// Everything a provider needs to reach a Tenant's directory beyond its spec.
#[derive(Clone, Debug)]
pub struct Access {
    pub credential: Credential,
    /// CA certificates trusted for the directory besides the public roots.
    pub ca_bundle: Option<CaBundle>,
}

impl Access {
    /// A bearer token alone (tests, SCIM).
    pub fn token(token: &str) -> Access {
        Access {
            credential: Credential::Token(token.to_owned()),
            ca_bundle: None,
        }
    }
}

/// A Tenant's `caBundleRef`, with the field that holds it (for messages).
#[derive(Clone, Copy, Debug)]
pub struct BundleRef<'a> {
    pub field: &'static str,
    pub bundle: &'a CaBundleLocation,
}
