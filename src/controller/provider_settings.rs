//! The edge between the resources and the providers: a Tenant's spec becomes the settings its
//! provider takes (`providers::settings`), the features a directory announced become
//! `status.capabilities` and back, and a CrossTenantAccessPolicy becomes what Entra is told
//! (`providers::msgraph::policy::EntraPolicy`), and an Organization's `partnerTemplate` the
//! templates of Entra's multitenant organization (`providers::msgraph::multitenant_org`). Nothing under `providers/` knows the resource
//! types; this module is the one conversion (docs/architecture.md, "The floors").

use crate::access;
use crate::api::SecretKeyRef;
use crate::api::organization::{self, MemberRole, PartnerTemplate};
use crate::api::policy::{B2bCollaboration, CrossTenantAccessPolicySpec, EffectiveB2bCollaboration};
use crate::api::tenant::{
    CaBundleKind, CaBundleRef, Capabilities, Cloud, GraphDirectory, GraphEndpoints, ScimDirectory, ScimSoftDelete,
    TenantSpec,
};
use crate::providers::msgraph::multitenant_org;
use crate::providers::msgraph::policy::{B2bAccess, EntraPartner, EntraPolicy};
use crate::providers::settings::{
    CaBundleHolder, CaBundleLocation, DirectoryFeatures, DirectorySettings, EndpointOverrides, GraphSettings,
    NationalCloud, ProviderSettings, ScimDeletion, ScimSettings, SecretKeyLocation, WorkloadIdentitySettings,
};
use crate::providers::{ConnectError, Setup};

/// The provider of a Tenant, checked as far as its spec allows.
pub fn setup(spec: &TenantSpec) -> Result<Setup, ConnectError> {
    Setup::of(directory_settings(spec)?)
}

/// A Tenant's spec as its provider takes it; a spec that names not exactly one provider is
/// `InvalidSpec`.
pub fn directory_settings(spec: &TenantSpec) -> Result<DirectorySettings, ConnectError> {
    let provider = match (&spec.directory.scim, &spec.directory.msgraph) {
        (Some(scim), None) => ProviderSettings::Scim(scim_settings(scim)),
        (None, Some(graph)) => ProviderSettings::Graph(graph_settings(graph)),
        _ => {
            return Err(ConnectError::InvalidSpec(
                "spec.directory must set exactly one of scim or msgraph".into(),
            ));
        }
    };
    Ok(DirectorySettings {
        tenant_id: spec.tenant_id.clone(),
        cloud: national_cloud(spec.cloud),
        provider,
    })
}

fn scim_settings(scim: &ScimDirectory) -> ScimSettings {
    ScimSettings {
        url: scim.url.clone(),
        bearer_token: secret_key(&scim.auth.bearer_token_secret_ref),
        deletion: match scim.soft_delete {
            ScimSoftDelete::Deactivate => ScimDeletion::Deactivate,
            ScimSoftDelete::Delete => ScimDeletion::Delete,
        },
        max_concurrency: scim.max_concurrency,
        ca_bundle: scim.ca_bundle_ref.as_ref().map(ca_bundle),
    }
}

fn graph_settings(graph: &GraphDirectory) -> GraphSettings {
    GraphSettings {
        client_id: graph.client_id.clone(),
        client_secret: graph.client_secret_ref.as_ref().map(secret_key),
        client_certificate_secret: graph.client_certificate_secret_ref.as_ref().map(|r| r.name.clone()),
        workload_identity: graph.workload_identity.as_ref().map(|w| WorkloadIdentitySettings {
            client_id: w.client_id.clone(),
        }),
        ca_bundle: graph.ca_bundle_ref.as_ref().map(ca_bundle),
        endpoints: graph.endpoints.as_ref().map(endpoint_overrides),
        anchor_attribute: graph.anchor_attribute.clone(),
        max_concurrency: graph.max_concurrency,
    }
}

pub fn national_cloud(cloud: Cloud) -> NationalCloud {
    match cloud {
        Cloud::Global => NationalCloud::Global,
        Cloud::USGovernment => NationalCloud::USGovernment,
        Cloud::China21Vianet => NationalCloud::China21Vianet,
    }
}

fn endpoint_overrides(endpoints: &GraphEndpoints) -> EndpointOverrides {
    EndpointOverrides {
        login: endpoints.login.clone(),
        graph: endpoints.graph.clone(),
    }
}

fn secret_key(reference: &SecretKeyRef) -> SecretKeyLocation {
    SecretKeyLocation {
        name: reference.name.clone(),
        key: reference.key.clone(),
    }
}

fn ca_bundle(reference: &CaBundleRef) -> CaBundleLocation {
    CaBundleLocation {
        holder: match reference.kind {
            CaBundleKind::ConfigMap => CaBundleHolder::ConfigMap,
            CaBundleKind::Secret => CaBundleHolder::Secret,
        },
        name: reference.name.clone(),
        key: reference.key.clone(),
    }
}

/// What a Tenant's status recorded, as the provider takes it.
impl From<&Capabilities> for DirectoryFeatures {
    fn from(c: &Capabilities) -> Self {
        DirectoryFeatures {
            patch: c.patch,
            bulk: c.bulk,
            filter: c.filter,
            etag: c.etag,
            change_tracking: c.change_tracking,
            bulk_max_operations: c.bulk_max_operations,
        }
    }
}

/// What a connection test found, as `status.capabilities` shows it.
impl From<DirectoryFeatures> for Capabilities {
    fn from(f: DirectoryFeatures) -> Self {
        Capabilities {
            patch: f.patch,
            bulk: f.bulk,
            filter: f.filter,
            etag: f.etag,
            change_tracking: f.change_tracking,
            bulk_max_operations: f.bulk_max_operations,
        }
    }
}

/// A CrossTenantAccessPolicy as Entra takes it: the default's B2B collaboration when set, and
/// each listed partner's effective settings (`access::effective_partners`) with which of them
/// the policy itself sets.
pub fn entra_policy(spec: &CrossTenantAccessPolicySpec) -> EntraPolicy {
    let default = &spec.default.inbound;
    let partners = access::effective_partners(spec)
        .into_iter()
        .map(|effective| {
            let listed = spec
                .partners
                .iter()
                .find(|p| p.tenant_id.eq_ignore_ascii_case(&effective.tenant_id));
            EntraPartner {
                allow_users_sync: effective.inbound.allow_users_sync,
                allow_groups_sync: effective.inbound.allow_groups_sync,
                inbound_redemption: effective.inbound.automatically_redeem_invitations,
                outbound_redemption: effective.outbound.automatically_redeem_invitations,
                b2b: b2b_access(&effective.inbound.b2b_collaboration),
                b2b_configured: listed.is_some_and(|p| p.inbound.b2b_collaboration.is_some())
                    || default.b2b_collaboration.is_some(),
                groups_configured: listed.is_some_and(|p| p.inbound.allow_groups_sync.is_some())
                    || default.allow_groups_sync.is_some(),
                tenant_id: effective.tenant_id,
            }
        })
        .collect();
    EntraPolicy {
        default_b2b: default.b2b_collaboration.as_ref().map(default_b2b),
        partners,
    }
}

fn b2b_access(effective: &EffectiveB2bCollaboration) -> B2bAccess {
    B2bAccess {
        allowed: effective.allowed,
        include: effective.include.clone(),
        exclude: effective.exclude.clone(),
    }
}

/// The default's B2B collaboration as set: allowed unless it says otherwise.
fn default_b2b(b2b: &B2bCollaboration) -> B2bAccess {
    B2bAccess {
        allowed: b2b.allowed.unwrap_or(true),
        include: b2b.users.as_ref().map(|u| u.include.clone()).unwrap_or_default(),
        exclude: b2b.users.as_ref().map(|u| u.exclude.clone()).unwrap_or_default(),
    }
}

/// A Tenant's cloud as the multitenant organization API knows it.
pub fn organization_cloud(cloud: Cloud) -> multitenant_org::EntraCloud {
    match cloud {
        Cloud::Global => multitenant_org::EntraCloud::Global,
        Cloud::USGovernment => multitenant_org::EntraCloud::USGovernment,
        Cloud::China21Vianet => multitenant_org::EntraCloud::China21Vianet,
    }
}

/// A member's role as Entra lists it.
pub fn organization_role(role: MemberRole) -> multitenant_org::Role {
    match role {
        MemberRole::Owner => multitenant_org::Role::Owner,
        MemberRole::Member => multitenant_org::Role::Member,
    }
}

/// An Organization's `partnerTemplate` as Entra's two templates: `automaticallyRedeemInvitations`
/// (inbound, outbound) → the partner configuration template's `automaticUserConsentSettings`,
/// `inbound.allowUsersSync` → the identity synchronization template's
/// `userSyncInbound.isSyncAllowed`, `applyTo` → `templateApplicationLevel` (Microsoft Learn,
/// "multiTenantOrganizationPartnerConfigurationTemplate resource type",
/// "multiTenantOrganizationIdentitySyncPolicyTemplate resource type"). A template none of whose
/// fields is set is left alone in Entra, as is every field left out.
pub fn organization_templates(template: Option<&PartnerTemplate>) -> multitenant_org::Templates {
    let Some(template) = template else {
        return multitenant_org::Templates::default();
    };
    let apply_to = match template.apply_to {
        organization::ApplyTo::NewPartners => multitenant_org::EntraApplyTo::NewPartners,
        organization::ApplyTo::ExistingPartners => multitenant_org::EntraApplyTo::ExistingPartners,
    };
    let redeem_inbound = template.inbound.automatically_redeem_invitations;
    let redeem_outbound = template.outbound.automatically_redeem_invitations;
    let partner =
        (redeem_inbound.is_some() || redeem_outbound.is_some()).then_some(multitenant_org::EntraPartnerTemplate {
            inbound_trust: None,
            redeem_inbound,
            redeem_outbound,
            b2b_collaboration_inbound: None,
            b2b_collaboration_outbound: None,
            apply_to,
        });
    let identity_sync = template
        .inbound
        .allow_users_sync
        .map(|allow| multitenant_org::IdentitySyncTemplate {
            allow_users_sync: Some(allow),
            apply_to,
        });
    multitenant_org::Templates { partner, identity_sync }
}
