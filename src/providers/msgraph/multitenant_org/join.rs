//! A member's side: its `tenantRelationships/multiTenantOrganization/joinRequest`, which must
//! name the owner before the member takes part (Microsoft Learn, "Get
//! multiTenantOrganizationJoinRequestRecord", "Update multiTenantOrganizationJoinRequestRecord").
//! The join itself is asynchronous in Entra (up to 2 hours): a request already naming the owner
//! is left to run, a failed one is reset and sent again.

use reqwest::Method;
use serde_json::json;

use super::super::client::GraphClient;
use super::answers::{self, JoinRequestAnswer, NO_TENANT};
use crate::providers::DirectoryError;

const JOIN_REQUEST: [&str; 3] = ["tenantRelationships", "multiTenantOrganization", "joinRequest"];

/// What a member's join request needs.
#[derive(Debug, PartialEq, Eq)]
pub enum JoinStep {
    /// It names the owner and is done or under way.
    Nothing,
    /// Name the owner.
    Join,
    /// A failed request: reset it (all zeros), then name the owner again.
    ResetAndJoin,
    /// The tenant is active in another tenant's organization, and a tenant belongs to one
    /// organization at most ("multiTenantOrganization resource type"): nothing is sent.
    MemberElsewhere(String),
}

/// The step from `current` to a request naming `owner_tenant_id` (pure).
pub fn step(current: &JoinRequestAnswer, owner_tenant_id: &str) -> JoinStep {
    let owner = owner_tenant_id.to_ascii_lowercase();
    let failed = current.transition_details.as_ref().is_some_and(|t| t.failed());
    match current.owner() {
        Some(named) if named == owner => {
            if failed {
                JoinStep::ResetAndJoin
            } else {
                JoinStep::Nothing
            }
        }
        Some(other) if current.member_state.as_deref() == Some("active") => JoinStep::MemberElsewhere(other),
        Some(_) if failed => JoinStep::ResetAndJoin,
        _ => JoinStep::Join,
    }
}

/// The member's join request as Entra has it.
pub async fn read(client: &GraphClient) -> Result<JoinRequestAnswer, DirectoryError> {
    let url: String = client.endpoints.v1_url(&JOIN_REQUEST)?.into();
    answers::get(client, &url).await
}

/// What `join` found and did.
pub struct Joined {
    pub writes: u32,
    /// The request as read before any write.
    pub before: JoinRequestAnswer,
}

/// Makes the member's join request name `owner_tenant_id`.
pub async fn join(client: &GraphClient, owner_tenant_id: &str) -> Result<Joined, DirectoryError> {
    let before = read(client).await?;
    let step = step(&before, owner_tenant_id);
    let url: String = client.endpoints.v1_url(&JOIN_REQUEST)?.into();
    let mut writes = 0;
    if step == JoinStep::ResetAndJoin {
        let reset = json!({ "addedByTenantId": NO_TENANT });
        client.send_for_body(Method::PATCH, &url, Some(&reset), false).await?;
        writes += 1;
    }
    if matches!(step, JoinStep::Join | JoinStep::ResetAndJoin) {
        let request = json!({ "addedByTenantId": owner_tenant_id.to_ascii_lowercase() });
        client.send_for_body(Method::PATCH, &url, Some(&request), false).await?;
        writes += 1;
    }
    Ok(Joined { writes, before })
}
