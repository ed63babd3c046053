//! Entra's multitenant organization (Microsoft Learn, "Multitenant organization API
//! overview"), applied from plain types: the owner creates the organization and lists its
//! tenants, each member's join request names the owner, and every tenant holds the partner
//! configuration and identity synchronization templates. As with the policy push
//! (`msgraph/policy.rs`), everything is read first and only what differs is written, so an
//! organization already in place costs no write; the writes sent are reported, and so is each
//! tenant's state as Entra reports it (pending, active, removed, and what is under way).
//!
//! Order matters in Entra: a tenant's templates are applied to its partner configurations at
//! the moment a tenant joins, so the owner's templates are written before it adds anyone, and
//! each member's before it joins.
//!
//! Permissions (application): `MultiTenantOrganization.ReadWrite.All` for the organization,
//! its tenants and the join requests, `Policy.ReadWrite.CrossTenantAccess` for the templates
//! (Microsoft Learn, the permissions table of each page named in the submodules).

mod answers;
mod desired;
#[cfg(test)]
mod hostile_tests;
mod join;
mod owner;
mod templates;
#[cfg(test)]
mod tests;

pub use answers::MAX_MEMBERS;
pub use desired::{
    EntraApplyTo, EntraCloud, EntraPartnerTemplate, IdentitySyncTemplate, InboundTrust, Organization, Participant,
    Role, Templates, UsersAccess,
};

use crate::providers::DirectoryError;
use answers::{JoinRequestAnswer, MemberAnswer};

/// A tenant's state in the organization (`multiTenantOrganizationMemberState`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntraMemberState {
    /// Added by an owner; takes part once its join request has been processed.
    Pending,
    Active,
    /// Being removed.
    Removed,
    /// Not listed by the owner (yet, or any more).
    NotListed,
    /// A value this version does not know (`unknownFutureValue` and later ones).
    Other(String),
}

/// The most of an enumeration value Entra answers that is kept: its names are short words.
const VALUE_KEPT: usize = 64;

impl EntraMemberState {
    fn from_graph(state: Option<&str>) -> EntraMemberState {
        match state {
            Some("pending") => EntraMemberState::Pending,
            Some("active") => EntraMemberState::Active,
            Some("removed") => EntraMemberState::Removed,
            Some(other) => EntraMemberState::Other(answers::cut(other, VALUE_KEPT)),
            None => EntraMemberState::NotListed,
        }
    }
}

/// An asynchronous change under way or failed (`transitionDetails`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transition {
    /// The state it moves to (`desiredState`, `desiredMemberState`).
    pub desired_state: Option<String>,
    pub desired_role: Option<String>,
    /// `notStarted`, `running`, `succeeded` or `failed`.
    pub status: Option<String>,
    /// Entra's explanation, cut to a few hundred characters.
    pub details: Option<String>,
}

/// One tenant as Entra reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reported {
    pub tenant_id: String,
    /// The role the owner lists it with.
    pub role: Option<Role>,
    pub state: EntraMemberState,
    /// The owner's `transitionDetails`, else (for a join under way or failed) the member's
    /// join request's.
    pub transition: Option<Transition>,
    /// A tenant active in another tenant's organization: the owner it belongs to. Entra lets
    /// a tenant belong to one organization only, so it cannot join this one.
    pub member_elsewhere: Option<String>,
}

/// What `apply` did.
#[derive(Debug, Default)]
pub struct EntraApplied {
    /// Writes sent (PUT, POST, PATCH, DELETE); 0 when Entra already had everything.
    pub writes: u32,
    /// Every tenant of the organization, the owner first, then as given, then those removed.
    pub tenants: Vec<Reported>,
    /// Tenants the owner listed but the organization no longer holds: removed from it.
    pub removed: Vec<String>,
}

/// Why an organization could not be applied.
#[derive(Debug, thiserror::Error, strum::IntoStaticStr)]
pub enum ApplyError {
    /// A tenant lives in a cloud without these APIs; nothing was sent.
    #[error(
        "Microsoft Graph offers multitenant organizations in the global service only, not in the {cloud} cloud of tenant {tenant_id}"
    )]
    UnsupportedCloud { tenant_id: String, cloud: EntraCloud },
    /// The owner is in a multitenant organization it does not own (a tenant belongs to one
    /// organization at most, and only its owners manage it); nothing was written.
    #[error(
        "tenant {tenant_id} is in a multitenant organization it is not an active owner of: only that organization's owners can add it as an owner, or it can leave it"
    )]
    NotAnOwner { tenant_id: String },
    /// Graph refused or failed a request of this tenant.
    #[error("tenant {tenant_id}: {source}")]
    Directory {
        tenant_id: String,
        #[source]
        source: DirectoryError,
    },
}

/// `DirectoryError` → `ApplyError` naming the tenant that met it.
fn at(tenant: &Participant<'_>) -> impl Fn(DirectoryError) -> ApplyError + use<> {
    let tenant_id = tenant.tenant_id.clone();
    move |source| ApplyError::Directory {
        tenant_id: tenant_id.clone(),
        source,
    }
}

/// Every tenant is in a cloud with multitenant organizations; checked before any request.
pub fn check_clouds(owner: &Participant<'_>, members: &[Participant<'_>]) -> Result<(), ApplyError> {
    match std::iter::once(owner)
        .chain(members)
        .find(|t| !t.cloud.has_multitenant_organizations())
    {
        Some(t) => Err(ApplyError::UnsupportedCloud {
            tenant_id: t.tenant_id.clone(),
            cloud: t.cloud,
        }),
        None => Ok(()),
    }
}

/// Applies `organization`, owned by `owner` and holding `members` (every other tenant, owners
/// included; the owner itself, if listed, is left out), with `templates` in every tenant.
pub async fn apply(
    organization: &Organization,
    owner: &Participant<'_>,
    members: &[Participant<'_>],
    templates: &Templates,
) -> Result<EntraApplied, ApplyError> {
    check_clouds(owner, members)?;
    // The owner is in the organization by creating it: it neither is added nor joins.
    let members: Vec<&Participant<'_>> = members
        .iter()
        .filter(|m| !m.tenant_id.eq_ignore_ascii_case(&owner.tenant_id))
        .collect();
    let (mut writes, listed, removed) = apply_owner(organization, owner, &members, templates).await?;
    let mut joins = Vec::with_capacity(members.len());
    for member in &members {
        writes += templates::apply(member.client, templates).await.map_err(at(member))?;
        let joined = join::join(member.client, &owner.tenant_id).await.map_err(at(member))?;
        writes += joined.writes;
        joins.push(joined);
    }
    // The owner's list after the writes, for the states they led to.
    let listed = if writes > 0 {
        owner::list_members(owner.client).await.map_err(at(owner))?
    } else {
        listed
    };
    let requests: Vec<(&str, Option<&JoinRequestAnswer>)> = members
        .iter()
        .zip(&joins)
        .map(|(m, j)| (m.tenant_id.as_str(), (j.writes == 0).then_some(&j.before)))
        .collect();
    Ok(EntraApplied {
        writes,
        tenants: report(&owner.tenant_id, &listed, &requests, &removed),
        removed,
    })
}

/// The owner's part: its organization (created, or renamed when it manages it), its
/// templates, then its list of tenants. Returns the writes sent, the list as read before its
/// changes, and the tenants removed.
async fn apply_owner(
    organization: &Organization,
    owner: &Participant<'_>,
    members: &[&Participant<'_>],
    templates: &Templates,
) -> Result<(u32, Vec<MemberAnswer>, Vec<String>), ApplyError> {
    let current = owner::read(owner.client).await.map_err(at(owner))?;
    let mut writes = 0;
    if !current.organization.exists() {
        owner::create(owner.client, organization).await.map_err(at(owner))?;
        writes += 1;
    } else if owner::manages(&owner.tenant_id, &current.listed) {
        writes += owner::rename(owner.client, &current.organization, organization)
            .await
            .map_err(at(owner))?;
    } else {
        return Err(ApplyError::NotAnOwner {
            tenant_id: owner.tenant_id.clone(),
        });
    }
    writes += templates::apply(owner.client, templates).await.map_err(at(owner))?;
    let wanted: Vec<owner::Wanted<'_>> = members
        .iter()
        .map(|m| owner::Wanted {
            tenant_id: &m.tenant_id,
            display_name: &m.display_name,
            role: m.role,
        })
        .collect();
    let changes = owner::member_changes(&owner.tenant_id, &current.listed, &wanted);
    writes += owner::send_member_changes(owner.client, &changes)
        .await
        .map_err(at(owner))?;
    Ok((writes, current.listed, changes.remove))
}

/// Each tenant's state as Entra reports it, without writing: the owner's organization and
/// list, and each member's join request.
pub async fn read(owner: &Participant<'_>, members: &[Participant<'_>]) -> Result<Vec<Reported>, ApplyError> {
    check_clouds(owner, members)?;
    let listed = owner::read(owner.client).await.map_err(at(owner))?.listed;
    let mut requests = Vec::with_capacity(members.len());
    for member in members {
        requests.push(join::read(member.client).await.map_err(at(member))?);
    }
    let requests: Vec<(&str, Option<&JoinRequestAnswer>)> = members
        .iter()
        .zip(&requests)
        .map(|(m, r)| (m.tenant_id.as_str(), Some(r)))
        .collect();
    Ok(report(&owner.tenant_id, &listed, &requests, &[]))
}

/// The owner, then each member (with its join request, when one was read after the last
/// write), then the tenants removed (pure).
fn report(
    owner_tenant_id: &str,
    listed: &[MemberAnswer],
    members: &[(&str, Option<&JoinRequestAnswer>)],
    removed: &[String],
) -> Vec<Reported> {
    let owner = std::iter::once((owner_tenant_id, None));
    let gone = removed.iter().map(|t| (t.as_str(), None));
    owner
        .chain(members.iter().copied())
        .chain(gone)
        .map(|(tenant_id, request)| reported(tenant_id, listed, request, owner_tenant_id))
        .collect()
}

fn reported(
    tenant_id: &str,
    listed: &[MemberAnswer],
    request: Option<&JoinRequestAnswer>,
    owner_tenant_id: &str,
) -> Reported {
    let tenant = tenant_id.to_ascii_lowercase();
    let member = listed.iter().find(|m| m.tenant().as_deref() == Some(tenant.as_str()));
    let value = |v: &Option<String>| v.as_deref().map(|v| answers::cut(v, VALUE_KEPT));
    let transition_of = |t: &answers::TransitionAnswer| Transition {
        desired_state: value(&t.desired_state),
        desired_role: value(&t.desired_role),
        status: value(&t.status),
        details: t.kept_details(),
    };
    let transition = member
        .and_then(|m| m.transition_details.as_ref())
        .or_else(|| request.and_then(|r| r.transition_details.as_ref()))
        .map(transition_of);
    let member_elsewhere = request.and_then(|r| match join::step(r, owner_tenant_id) {
        join::JoinStep::MemberElsewhere(other) => Some(other),
        _ => None,
    });
    Reported {
        tenant_id: tenant,
        role: member.and_then(MemberAnswer::role),
        state: EntraMemberState::from_graph(member.and_then(|m| m.state.as_deref())),
        transition,
        member_elsewhere,
    }
}
