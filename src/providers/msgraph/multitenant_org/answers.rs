//! Entra's answers about a multitenant organization, typed and bounded: only the properties
//! xtsync reads are built (the rest is skipped as it is parsed), a text kept for status is cut
//! to a few hundred characters, and a member list longer than any organization can be fails
//! the read instead of filling memory.

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::super::client::GraphClient;
use super::super::collection::Item;
use super::desired::Role;
use crate::providers::DirectoryError;
use crate::providers::wire::{DeserializeOwnedStruct, object, text};

/// An organization is limited to 100 active tenants (Microsoft Learn, "Multitenant organization
/// API overview": size limit); pending and leaving ones come on top. A list past this is not
/// Entra's.
pub const MAX_MEMBERS: usize = 1_000;
/// The most of a `details` text kept: enough for Entra's explanations, not a peer's novel.
const DETAILS_KEPT: usize = 512;

/// `multiTenantOrganization` (Microsoft Learn, "Get multiTenantOrganization").
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationAnswer {
    #[serde(default, deserialize_with = "text")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub description: Option<String>,
    /// `active` once created; `inactive` when the tenant is in no organization.
    #[serde(default, deserialize_with = "text")]
    pub state: Option<String>,
}

impl OrganizationAnswer {
    pub fn exists(&self) -> bool {
        self.state.as_deref() == Some("active")
    }
}

/// `multiTenantOrganizationMember` (Microsoft Learn, "multiTenantOrganizationMember resource type").
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct MemberAnswer {
    #[serde(default, deserialize_with = "text")]
    pub tenant_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub role: Option<String>,
    /// `pending`, `active` or `removed`.
    #[serde(default, deserialize_with = "text")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "object")]
    pub transition_details: Option<TransitionAnswer>,
}

impl MemberAnswer {
    pub fn role(&self) -> Option<Role> {
        self.role.as_deref().and_then(Role::from_graph)
    }

    /// Its tenant id, in lower case, when it is one (a GUID).
    pub fn tenant(&self) -> Option<String> {
        self.tenant_id
            .as_deref()
            .filter(|t| super::super::endpoints::is_object_id(t))
            .map(str::to_ascii_lowercase)
    }
}

impl Item for MemberAnswer {}

/// `multiTenantOrganizationMemberTransitionDetails` and
/// `multiTenantOrganizationJoinRequestTransitionDetails`: what an asynchronous change is doing.
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct TransitionAnswer {
    /// The member's (`desiredState`) or the join request's (`desiredMemberState`) target state.
    #[serde(default, deserialize_with = "text", alias = "desiredMemberState")]
    pub desired_state: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub desired_role: Option<String>,
    /// `notStarted`, `running`, `succeeded` or `failed`.
    #[serde(default, deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub details: Option<String>,
}

impl DeserializeOwnedStruct for TransitionAnswer {}

impl TransitionAnswer {
    pub fn failed(&self) -> bool {
        self.status.as_deref() == Some("failed")
    }

    /// `details` cut to what status may carry.
    pub fn kept_details(&self) -> Option<String> {
        self.details.as_deref().map(|d| cut(d, DETAILS_KEPT))
    }
}

/// `text`, at most `most` characters of it (an ellipsis marks a cut).
pub fn cut(text: &str, most: usize) -> String {
    match text.char_indices().nth(most) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// `multiTenantOrganizationJoinRequestRecord` (Microsoft Learn, "Get
/// multiTenantOrganizationJoinRequestRecord").
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct JoinRequestAnswer {
    /// The owner the tenant asked to join; all zeros (or nothing) before any request.
    #[serde(default, deserialize_with = "text")]
    pub added_by_tenant_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub member_state: Option<String>,
    #[serde(default, deserialize_with = "object")]
    pub transition_details: Option<TransitionAnswer>,
}

/// The tenant id that resets a join request (Microsoft Learn, "Update
/// multiTenantOrganizationJoinRequestRecord": "To reset a failed join request, set
/// addedByTenantId to 00000000-0000-0000-0000-000000000000").
pub const NO_TENANT: &str = "00000000-0000-0000-0000-000000000000";

impl JoinRequestAnswer {
    /// The owner this request names, in lower case; `None` before any request (or when what
    /// it names is not a tenant id).
    pub fn owner(&self) -> Option<String> {
        self.added_by_tenant_id
            .as_deref()
            .filter(|t| super::super::endpoints::is_object_id(t))
            .map(str::to_ascii_lowercase)
            .filter(|t| t != NO_TENANT)
    }
}

/// A single resource at `url`, typed: the body is read within the client's cap and parsed
/// without building what `T` does not hold.
pub async fn get<T: DeserializeOwned>(client: &GraphClient, url: &str) -> Result<T, DirectoryError> {
    let body = client.send_for_body(Method::GET, url, None, false).await?;
    serde_json::from_slice(&body).map_err(|e| DirectoryError::InvalidResponse(format!("{url}: {e}")))
}

/// Every member the owner lists, following `@odata.nextLink`; more than `MAX_MEMBERS` fails
/// the read as soon as the page past it arrives.
pub async fn members(client: &GraphClient, url: &str) -> Result<Vec<MemberAnswer>, DirectoryError> {
    let mut members = Vec::new();
    client
        .each_page(url, false, |page: Vec<MemberAnswer>| {
            members.extend(page);
            std::future::ready(if members.len() > MAX_MEMBERS {
                Err(DirectoryError::InvalidResponse(format!(
                    "the multitenant organization lists more than {MAX_MEMBERS} tenants"
                )))
            } else {
                Ok(())
            })
        })
        .await?;
    Ok(members)
}
