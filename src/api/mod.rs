//! The four custom resources of `xtsync.io/v1alpha1` (README, "The resources") and the pieces they
//! share.
//!
//! Plain data only: the schema the apiserver enforces comes from these types (`xtsync crds`);
//! every rule a schema cannot express lives in the controller and surfaces as `InvalidSpec`.

pub mod conditions;
pub mod organization;
pub mod policy;
pub mod reasons;
pub mod sync_config;
pub mod tenant;

pub use organization::{Organization, OrganizationSpec, OrganizationStatus};
pub use policy::{CrossTenantAccessPolicy, CrossTenantAccessPolicySpec, CrossTenantAccessPolicyStatus};
pub use sync_config::{SyncConfiguration, SyncConfigurationSpec, SyncConfigurationStatus};
pub use tenant::{Tenant, TenantSpec, TenantStatus};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// API group of every xtsync resource.
pub const GROUP: &str = "xtsync.io";
/// Field manager of every status write (README, "Conditions and reasons").
pub const FIELD_MANAGER: &str = "xtsync";
/// Annotations a user sets on a SyncConfiguration (README, "How a sync works"): approve the
/// deprovisionings the threshold holds, start over with an Initial cycle, provision one user now.
pub const APPROVE_DELETIONS: &str = "xtsync.io/approve-deletions";
pub const RESTART: &str = "xtsync.io/restart";
pub const PROVISION_ON_DEMAND: &str = "xtsync.io/provision-on-demand";
/// The label that makes a Secret usable as directory credentials (value `"true"`;
/// README, "Credentials").
pub const CREDENTIALS_LABEL: &str = "xtsync.io/credentials";
/// The annotation that says where a Secret may be sent: comma-separated URL prefixes.
pub const CREDENTIALS_FOR: &str = "xtsync.io/credentials-for";
/// Present only while `onConfigurationDelete: Deprovision` asks for cleanup (docs/architecture.md,
/// "The deletion path").
pub const FINALIZER: &str = "xtsync.io/cleanup";

/// A tenant id is an Entra directory id: a GUID.
pub const GUID_PATTERN: &str = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// A reference to another xtsync resource in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct LocalRef {
    /// Name of the referenced resource, in the referrer's namespace.
    #[schemars(length(min = 1))]
    pub name: String,
}

/// A key of a Secret in the referrer's namespace (Secrets are never read across namespaces).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct SecretKeyRef {
    /// Name of the Secret, in the referrer's namespace.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Key within the Secret's data.
    #[schemars(length(min = 1))]
    pub key: String,
}
