//! `Tenant`: a directory whose users xtsync reads or writes.

// `printcolumn(...)` repeats `type_ = ...` by design; clippy mistakes it for a duplicate.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{GUID_PATTERN, LocalRef, SecretKeyRef};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "xtsync.io",
    version = "v1alpha1",
    kind = "Tenant",
    namespaced,
    status = "TenantStatus",
    shortname = "tenant",
    category = "xtsync",
    doc = "A directory (SCIM 2.0 or Microsoft Graph) whose users xtsync reads or writes.",
    printcolumn(name = "Tenant ID", type_ = "string", json_path = ".spec.tenantId"),
    printcolumn(name = "Cloud", type_ = "string", json_path = ".spec.cloud"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct TenantSpec {
    /// The directory's tenant id (a GUID). Anchors of provisioned users name it.
    #[schemars(regex(pattern = GUID_PATTERN))]
    pub tenant_id: String,
    /// A name for people; not used by the sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The cloud the tenant lives in. Synchronization never crosses clouds.
    #[serde(default)]
    pub cloud: Cloud,
    /// Verified domains of the tenant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    /// How to reach the tenant's users: exactly one provider.
    pub directory: Directory,
}

/// The national cloud of a tenant, as in Entra.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum Cloud {
    #[default]
    Global,
    USGovernment,
    China21Vianet,
}

impl std::fmt::Display for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cloud::Global => "Global",
            Cloud::USGovernment => "USGovernment",
            Cloud::China21Vianet => "China21Vianet",
        })
    }
}

/// The provider of a tenant's directory. Exactly one field must be set.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[schemars(extend("minProperties" = 1, "maxProperties" = 1))]
pub struct Directory {
    /// A SCIM 2.0 service provider (RFC 7643/7644).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim: Option<ScimDirectory>,
    /// A Microsoft Entra tenant through Microsoft Graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msgraph: Option<GraphDirectory>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScimDirectory {
    /// Base URL of the SCIM service provider, e.g. `https://scim.example.com/v2`.
    #[schemars(regex(pattern = "^https?://"))]
    pub url: String,
    pub auth: ScimAuth,
    /// How a soft delete is done: `Deactivate` (PATCH active=false) or `Delete`.
    #[serde(default)]
    pub soft_delete: ScimSoftDelete,
    /// Requests in flight at once towards this directory, shared by every configuration that
    /// reads or writes it (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 64))]
    pub max_concurrency: Option<u32>,
    /// CA certificates (PEM) trusted for `url` in addition to the public roots: a private CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle_ref: Option<CaBundleRef>,
}

/// A PEM bundle of CA certificates in a ConfigMap or Secret of the Tenant's namespace. It is not
/// a credential: its Secret needs no label or annotation.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct CaBundleRef {
    /// `ConfigMap` (default) or `Secret`.
    #[serde(default)]
    pub kind: CaBundleKind,
    /// Name of the ConfigMap or Secret, in the Tenant's namespace.
    #[schemars(length(min = 1))]
    pub name: String,
    /// The key holding the PEM certificates (e.g. `ca.crt`).
    #[schemars(length(min = 1))]
    pub key: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum CaBundleKind {
    #[default]
    ConfigMap,
    Secret,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScimAuth {
    /// The Secret key holding the bearer token. The Secret is used only with the label
    /// `xtsync.io/credentials: "true"` and a prefix of `url` in its annotation
    /// `xtsync.io/credentials-for`.
    pub bearer_token_secret_ref: SecretKeyRef,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ScimSoftDelete {
    #[default]
    Deactivate,
    Delete,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GraphDirectory {
    /// Application (client) id of the app registration in this tenant.
    #[schemars(length(min = 1))]
    pub client_id: String,
    /// The app's credential is exactly one of `clientSecretRef`, `clientCertificateSecretRef`
    /// and `workloadIdentity`. This one: the Secret key holding a client secret. The Secret is
    /// used only with the label `xtsync.io/credentials: "true"`, and with `endpoints` set only
    /// when its annotation `xtsync.io/credentials-for` lists a prefix of each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_ref: Option<SecretKeyRef>,
    /// A `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`: an RSA certificate registered on the
    /// app and its private key): each token request sends a client assertion signed with it
    /// (RS256). Labelled and annotated like any credential Secret; its expiry shows in
    /// `status.credentialExpiry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_secret_ref: Option<LocalRef>,
    /// Workload identity federation: the operator's own federated token (the file named by its
    /// `AZURE_FEDERATED_TOKEN_FILE`, as the AKS workload identity webhook injects it) is the
    /// client assertion. It is sent only to the cloud's own login endpoint or to one the
    /// operator trusts (`--trusted-login-endpoint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_identity: Option<WorkloadIdentity>,
    /// CA certificates (PEM) trusted for the login and Graph endpoints in addition to the
    /// public roots (a TLS-inspecting proxy, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle_ref: Option<CaBundleRef>,
    /// Endpoint overrides (tests, proxies); the defaults follow `spec.cloud`. An override that
    /// is not the cloud's own endpoint must be allowed by the Secret's annotation
    /// `xtsync.io/credentials-for`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<GraphEndpoints>,
    /// The target attribute that holds the anchor; the provider documents its default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_attribute: Option<String>,
    /// Requests (or `$batch` requests) in flight at once towards this tenant's Graph, shared
    /// by every configuration that reads or writes it (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 64))]
    pub max_concurrency: Option<u32>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadIdentity {
    /// The client id the federated credential is registered on (an app or a user-assigned
    /// managed identity); default `clientId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct GraphEndpoints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`: the credentials were found and the connection tested.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// What the directory announced it supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    /// When the connection was last tested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_connection_check: Option<Time>,
    /// When the credential stops working: the `notAfter` of a client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_expiry: Option<Time>,
}

/// Directory features, discovered (SCIM: `/ServiceProviderConfig`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    pub patch: bool,
    pub bulk: bool,
    pub filter: bool,
    pub etag: bool,
    /// Changes since a watermark can be read (SCIM: filtering on `meta.lastModified`).
    pub change_tracking: bool,
    /// The largest Bulk request the directory accepts, when it supports Bulk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_max_operations: Option<u32>,
}
