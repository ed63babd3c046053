//! `CrossTenantAccessPolicy`: a tenant's inbound and outbound settings per partner, as in Entra.

// `printcolumn(...)` repeats `type_ = ...` by design; clippy mistakes it for a duplicate.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{GUID_PATTERN, LocalRef};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "xtsync.io",
    version = "v1alpha1",
    kind = "CrossTenantAccessPolicy",
    namespaced,
    status = "CrossTenantAccessPolicyStatus",
    shortname = "ctap",
    category = "xtsync",
    doc = "A tenant's cross-tenant access settings: defaults plus per-partner overrides.",
    printcolumn(name = "Tenant", type_ = "string", json_path = ".spec.tenantRef.name"),
    printcolumn(name = "Partners", type_ = "integer", json_path = ".status.partnerCount"),
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
pub struct CrossTenantAccessPolicySpec {
    /// The Tenant these settings belong to. At most one policy per tenant.
    pub tenant_ref: LocalRef,
    /// Settings for partners not listed in `partners`. Absent fields deny.
    #[serde(default)]
    pub default: PolicySettings,
    /// Per-partner overrides; a field left out inherits `default`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<PartnerSettings>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PolicySettings {
    #[serde(default)]
    pub inbound: InboundSettings,
    #[serde(default)]
    pub outbound: OutboundSettings,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerSettings {
    /// The partner's tenant id.
    #[schemars(regex(pattern = GUID_PATTERN))]
    pub tenant_id: String,
    #[serde(default)]
    pub inbound: InboundSettings,
    #[serde(default)]
    pub outbound: OutboundSettings,
}

/// What this tenant lets partners do to it. Every field is optional so that a partner entry
/// can inherit the default field by field.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboundSettings {
    /// "Allow users sync into this tenant".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_users_sync: Option<bool>,
    /// "Allow group sync into this tenant" (Entra's `groupSyncInbound.isSyncAllowed`): needed
    /// by SyncConfigurations with `groupProvisioning.enabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_groups_sync: Option<bool>,
    /// Suppress consent prompts for users arriving from the partner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatically_redeem_invitations: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_collaboration: Option<B2bCollaboration>,
}

/// What this tenant lets its own users do towards partners.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboundSettings {
    /// Suppress consent prompts for this tenant's users going to the partner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatically_redeem_invitations: Option<bool>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct B2bCollaboration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<UserSelection>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct UserSelection {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossTenantAccessPolicyStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`: the policy is valid and is the only one for its tenant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The settings in force for each partner entry: the default merged into each listed
    /// partner, and the entries the `partnerTemplate` of an Organization the tenant is a member
    /// of adds or overrides, each with its origin.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effective: Vec<EffectivePartnerPolicy>,
    /// Number of listed partners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_count: Option<u32>,
    /// Partners configured in the directory (Entra) that this policy does not list. xtsync
    /// leaves them alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmanaged_partners: Vec<String>,
}

/// The settings in force for one partner: nothing left to inherit.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectivePartnerPolicy {
    pub tenant_id: String,
    /// Where the entry comes from: the policy's own `partners`, or an Organization's
    /// `partnerTemplate`.
    #[serde(default)]
    pub origin: EntryOrigin,
    /// The Organization whose `partnerTemplate` made or overrode the entry (origin
    /// `Organization`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    pub inbound: EffectiveInbound,
    pub outbound: EffectiveOutbound,
}

/// Where an effective partner entry comes from (README, "Organizations").
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum EntryOrigin {
    /// The policy's own `partners` entry (or, for a partner not listed, its `default`).
    #[default]
    Policy,
    /// An Organization's `partnerTemplate`: an entry the policy does not have, or, with
    /// `applyTo: ExistingPartners`, one whose fields the template overrides.
    Organization,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveInbound {
    pub allow_users_sync: bool,
    #[serde(default)]
    pub allow_groups_sync: bool,
    pub automatically_redeem_invitations: bool,
    pub b2b_collaboration: EffectiveB2bCollaboration,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct EffectiveB2bCollaboration {
    pub allowed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveOutbound {
    pub automatically_redeem_invitations: bool,
}
