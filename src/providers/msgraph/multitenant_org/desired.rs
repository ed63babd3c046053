//! What an Entra multitenant organization should be, in plain types: the organization, its
//! member tenants and their roles, and the two templates each tenant holds. A template field
//! left `None` is never sent, so it changes nothing in Entra.

use super::super::client::GraphClient;

/// The cloud a tenant lives in. The multitenant organization APIs exist in the global service
/// only: every page of them on Microsoft Learn ("Create multiTenantOrganization", "Add
/// multiTenantOrganizationMember", "Update multiTenantOrganizationJoinRequestRecord", "Update
/// multiTenantOrganizationPartnerConfigurationTemplate", "Update
/// multiTenantOrganizationIdentitySyncPolicyTemplate", …) marks them unavailable in US
/// Government L4, US Government L5 (DOD) and China operated by 21Vianet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::Display)]
pub enum EntraCloud {
    Global,
    USGovernment,
    China21Vianet,
}

impl EntraCloud {
    /// Microsoft Graph serves multitenant organizations in this cloud.
    pub fn has_multitenant_organizations(self) -> bool {
        self == EntraCloud::Global
    }
}

/// A tenant's role in the organization (`multiTenantOrganizationMemberRole`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Owner,
    Member,
}

impl Role {
    /// Graph's spelling.
    pub fn as_graph(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }

    /// Graph's spelling read back; `None` for `unknownFutureValue` or anything else.
    pub fn from_graph(text: &str) -> Option<Role> {
        match text {
            "owner" => Some(Role::Owner),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// One tenant of the organization, and how xtsync reaches its Graph.
pub struct Participant<'a> {
    /// The tenant's id (a GUID), as `spec.tenantId` names it.
    pub tenant_id: String,
    /// The name the owner lists it under (`displayName`, required when it is added, and not
    /// changeable afterwards: Microsoft Learn, "Add multiTenantOrganizationMember").
    pub display_name: String,
    pub role: Role,
    pub cloud: EntraCloud,
    /// A Graph client authenticated in this tenant.
    pub client: &'a GraphClient,
}

/// The organization as its owner creates it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Organization {
    pub display_name: String,
    /// Left `None`: whatever Entra has stays.
    pub description: Option<String>,
}

/// Which partners a template is applied to (`templateApplicationLevel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntraApplyTo {
    /// Only partners without a partner-specific configuration yet (`newPartners`).
    NewPartners,
    /// Those and the partners already configured (`newPartners,existingPartners`).
    ExistingPartners,
}

impl EntraApplyTo {
    /// The `templateApplicationLevel` value Graph takes.
    pub fn as_graph(self) -> &'static str {
        match self {
            EntraApplyTo::NewPartners => "newPartners",
            EntraApplyTo::ExistingPartners => "newPartners,existingPartners",
        }
    }

    /// `level`, as Graph answers it, applies the template to the same partners: the flags
    /// compare as a set, in any order and spacing.
    pub fn is_level(self, level: &str) -> bool {
        let flags = |text: &str| {
            let mut flags: Vec<String> = text
                .split(',')
                .map(|f| f.trim().to_ascii_lowercase())
                .filter(|f| !f.is_empty())
                .collect();
            flags.sort();
            flags.dedup();
            flags
        };
        flags(level) == flags(self.as_graph())
    }
}

/// `crossTenantAccessPolicyInboundTrust`: which claims of the partner's Conditional Access are
/// trusted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InboundTrust {
    pub mfa_accepted: Option<bool>,
    pub compliant_device_accepted: Option<bool>,
    pub hybrid_joined_device_accepted: Option<bool>,
}

/// Who B2B collaboration lets through (`usersAndGroups` of a `crossTenantAccessPolicyB2BSetting`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsersAccess {
    AllUsers,
    NoUsers,
    /// These user ids only.
    Only(Vec<String>),
    /// Everyone but these user ids.
    AllBut(Vec<String>),
}

/// The partner configuration template (`multiTenantOrganizationPartnerConfigurationTemplate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntraPartnerTemplate {
    pub inbound_trust: Option<InboundTrust>,
    /// `automaticUserConsentSettings.inboundAllowed`: redeem invitations from partners' users.
    pub redeem_inbound: Option<bool>,
    /// `automaticUserConsentSettings.outboundAllowed`: redeem this tenant's users' invitations.
    pub redeem_outbound: Option<bool>,
    pub b2b_collaboration_inbound: Option<UsersAccess>,
    pub b2b_collaboration_outbound: Option<UsersAccess>,
    pub apply_to: EntraApplyTo,
}

/// The identity synchronization template (`multiTenantOrganizationIdentitySyncPolicyTemplate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentitySyncTemplate {
    /// `userSyncInbound.isSyncAllowed`: users of partners may be synchronized into this tenant.
    pub allow_users_sync: Option<bool>,
    pub apply_to: EntraApplyTo,
}

/// The templates every tenant of the organization gets; `None`: that template is left alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Templates {
    pub partner: Option<EntraPartnerTemplate>,
    pub identity_sync: Option<IdentitySyncTemplate>,
}
