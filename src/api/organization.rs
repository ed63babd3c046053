//! `Organization`: a multitenant organization — its member Tenants, and the SyncConfigurations
//! that follow from them (README, "Organizations").

// `printcolumn(...)` repeats `type_ = ...` by design; clippy mistakes it for a duplicate.
#![allow(clippy::duplicated_attributes)]

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use super::LocalRef;
use super::policy::{InboundSettings, OutboundSettings};
use super::sync_config::SyncConfigurationSpec;

/// The label naming the Organization that generated an object (value: its name).
pub const ORGANIZATION_LABEL: &str = "xtsync.io/organization";
/// The label naming a generated SyncConfiguration's source Tenant.
pub const SOURCE_LABEL: &str = "xtsync.io/source";
/// The label naming a generated SyncConfiguration's target Tenant.
pub const TARGET_LABEL: &str = "xtsync.io/target";
/// The Organization's own finalizer: it stays until every configuration it generated is gone
/// (no garbage collector is assumed; README, "Organizations").
pub const ORGANIZATION_FINALIZER: &str = "xtsync.io/organization";

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "xtsync.io",
    version = "v1alpha1",
    kind = "Organization",
    namespaced,
    status = "OrganizationStatus",
    shortname = "org",
    category = "xtsync",
    doc = "A multitenant organization: its member Tenants and the SyncConfigurations its topology generates between them.",
    printcolumn(name = "Tenants", type_ = "integer", json_path = ".status.tenantCount"),
    printcolumn(name = "Configs", type_ = "integer", json_path = ".status.configurations"),
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
pub struct OrganizationSpec {
    /// The organization's name as people know it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The members: Tenants of the same namespace, each listed once; at least one `Owner`.
    #[serde(default)]
    pub tenants: Vec<OrganizationMember>,
    /// Which ordered pairs of members get a SyncConfiguration.
    #[serde(default)]
    pub topology: Topology,
    /// Passed on to every generated configuration's `spec.suspend`.
    #[serde(default)]
    pub suspend: bool,
    /// Entra's partner-configuration template: the partner settings between members. A field
    /// left out changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_template: Option<PartnerTemplate>,
    /// A SyncConfiguration spec without `sourceRef`, `targetRef` and `suspend`: the spec of
    /// every generated configuration, completed with its pair.
    #[serde(default)]
    pub sync_template: SyncTemplate,
    /// What happens to the users a leaving member's configurations provisioned; overrides
    /// `syncTemplate.deprovision.onConfigurationDelete`.
    #[serde(default)]
    pub on_leave: OnLeave,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationMember {
    /// A Tenant of the Organization's namespace.
    pub tenant_ref: LocalRef,
    #[serde(default)]
    pub role: MemberRole,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum MemberRole {
    /// Runs the organization (in Entra: the tenant that creates it).
    Owner,
    #[default]
    Member,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct Topology {
    #[serde(default)]
    pub mode: TopologyMode,
    /// The hub of `FromHub`, `ToHub` and `HubAndSpoke`: a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<LocalRef>,
    /// Pairs left out of the topology.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<MemberPair>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum TopologyMode {
    /// Every member to every other member.
    #[default]
    Mesh,
    /// The hub to each other member.
    FromHub,
    /// Each other member to the hub.
    ToHub,
    /// Both: the hub to each member and each member to the hub.
    HubAndSpoke,
}

/// An ordered pair of members: `source` → `target`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct MemberPair {
    pub source: LocalRef,
    pub target: LocalRef,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerTemplate {
    /// Inbound settings each member gives the other members.
    #[serde(default)]
    pub inbound: InboundSettings,
    /// Outbound settings each member gives the other members.
    #[serde(default)]
    pub outbound: OutboundSettings,
    #[serde(default)]
    pub apply_to: ApplyTo,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ApplyTo {
    /// The template fills only partner entries a member's own policy does not have.
    #[default]
    NewPartners,
    /// The template's fields win over a member's own policy for the other members.
    ExistingPartners,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum OnLeave {
    /// The users a leaving member's configurations provisioned stay (`onConfigurationDelete: Keep`).
    #[default]
    Retain,
    /// They are deprovisioned by the configurations' own cleanup on delete, threshold and
    /// approval included (`onConfigurationDelete: Deprovision`).
    Deprovision,
}

/// The fields of a SyncConfiguration spec but the pair and `suspend`, kept as written: its
/// schema is the SyncConfiguration's, so every field a SyncConfiguration gains, a template
/// gains too; `controller::organization::fan_out` turns it into a typed spec per pair.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct SyncTemplate(pub serde_json::Map<String, serde_json::Value>);

/// The SyncConfiguration spec's properties a template leaves to the Organization.
pub const NOT_IN_TEMPLATE: [&str; 3] = ["sourceRef", "targetRef", "suspend"];

impl JsonSchema for SyncTemplate {
    fn schema_name() -> Cow<'static, str> {
        "SyncTemplate".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = SyncConfigurationSpec::json_schema(generator);
        if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
            for field in NOT_IN_TEMPLATE {
                properties.remove(field);
            }
        }
        schema.remove("required");
        schema.insert(
            "description".into(),
            "A SyncConfiguration spec without sourceRef, targetRef and suspend.".into(),
        );
        schema
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`: every member Tenant is Ready and every generated configuration exists.
    /// `Applied` (when a member is a Microsoft Graph tenant): Entra's multitenant organization
    /// holds the Graph members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Each member, and each tenant still leaving.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<MemberStatus>,
    /// Members listed in the spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_count: Option<u32>,
    /// Generated configurations that exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configurations: Option<u32>,
    /// Generated configurations whose `Ready` condition is True.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configurations_ready: Option<u32>,
    /// When Entra's multitenant organization was last applied and read (Graph members only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_entra_check: Option<Time>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberStatus {
    /// The Tenant's name.
    pub name: String,
    /// Its tenant id, once the Tenant is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    pub role: MemberRole,
    pub state: MemberState,
    /// Generated configurations whose source or target is this tenant.
    pub configurations: u32,
    /// Of those, the ones whose `Ready` condition is True.
    pub configurations_ready: u32,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum MemberState {
    /// A member whose Tenant is Ready (and, a Microsoft Graph tenant, active in Entra's
    /// multitenant organization).
    Active,
    /// A member whose Tenant is missing or not Ready yet, or a Microsoft Graph tenant whose
    /// join Entra has not completed (the `Applied` condition says what is under way).
    #[default]
    Pending,
    /// No longer a member: its generated configurations are being deleted.
    Leaving,
}
