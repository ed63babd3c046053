//! The owner's side: its `tenantRelationships/multiTenantOrganization` (created with PUT,
//! renamed with PATCH) and the tenants it lists (added with POST, re-roled with PATCH, removed
//! with DELETE) — Microsoft Learn, "Create multiTenantOrganization", "Update
//! multiTenantOrganization", "List multiTenantOrganizationMembers", "Add
//! multiTenantOrganizationMember", "Update multiTenantOrganizationMember", "Remove
//! multiTenantOrganizationMember". Each is read first; only what differs is written.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::super::client::GraphClient;
use super::answers::{self, MemberAnswer, OrganizationAnswer};
use super::desired::{Organization, Role};
use crate::providers::DirectoryError;

const ORGANIZATION: [&str; 2] = ["tenantRelationships", "multiTenantOrganization"];

fn url(client: &GraphClient, below: &[&str]) -> Result<String, DirectoryError> {
    let segments: Vec<&str> = ORGANIZATION.iter().chain(below).copied().collect();
    Ok(client.endpoints.v1_url(&segments)?.into())
}

/// The owner's organization as Entra has it, and the tenants it lists (none when there is no
/// organization yet: "Get multiTenantOrganization" answers `state: inactive` then).
pub struct Current {
    pub organization: OrganizationAnswer,
    pub listed: Vec<MemberAnswer>,
}

pub async fn read(client: &GraphClient) -> Result<Current, DirectoryError> {
    let organization: OrganizationAnswer = answers::get(client, &url(client, &[])?).await?;
    let listed = if organization.exists() {
        list_members(client).await?
    } else {
        Vec::new()
    };
    Ok(Current { organization, listed })
}

/// `tenant` manages the organization it is in: its owners do, and only while active
/// ("Update multiTenantOrganizationMember": only owner tenants can call it; likewise for
/// adding and removing tenants).
pub fn manages(tenant: &str, listed: &[MemberAnswer]) -> bool {
    listed.iter().any(|m| {
        m.tenant().is_some_and(|t| t.eq_ignore_ascii_case(tenant))
            && m.role() == Some(Role::Owner)
            && m.state.as_deref() == Some("active")
    })
}

/// "Create multiTenantOrganization": PUT, `displayName` required, `description` optional.
pub async fn create(client: &GraphClient, desired: &Organization) -> Result<(), DirectoryError> {
    let mut body = json!({ "displayName": desired.display_name });
    if let Some(description) = &desired.description {
        body["description"] = json!(description);
    }
    client
        .send_for_body(Method::PUT, &url(client, &[])?, Some(&body), false)
        .await?;
    Ok(())
}

/// Brings the organization's name and description to `desired`; returns the writes sent (0
/// or 1).
pub async fn rename(
    client: &GraphClient,
    current: &OrganizationAnswer,
    desired: &Organization,
) -> Result<u32, DirectoryError> {
    let mut changes = Map::new();
    if current.display_name.as_deref() != Some(desired.display_name.as_str()) {
        changes.insert("displayName".into(), json!(desired.display_name));
    }
    if let Some(description) = &desired.description
        && current.description.as_deref().unwrap_or_default() != description
    {
        changes.insert("description".into(), json!(description));
    }
    if changes.is_empty() {
        return Ok(0);
    }
    client
        .send_for_body(Method::PATCH, &url(client, &[])?, Some(&Value::Object(changes)), false)
        .await?;
    Ok(1)
}

/// The tenants the owner lists, every state (pending, active, removed).
pub async fn list_members(client: &GraphClient) -> Result<Vec<MemberAnswer>, DirectoryError> {
    answers::members(client, &url(client, &["tenants"])?).await
}

/// A tenant the organization should hold besides its owner.
pub struct Wanted<'a> {
    pub tenant_id: &'a str,
    pub display_name: &'a str,
    pub role: Role,
}

/// What the owner must send for its list to hold exactly `wanted` (and itself).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MemberChanges {
    /// Tenant id, display name, role: POSTed as pending members.
    pub add: Vec<(String, String, Role)>,
    /// Tenant id and its new role.
    pub change_role: Vec<(String, Role)>,
    /// Tenant ids listed but not wanted.
    pub remove: Vec<String>,
}

/// The changes from `listed` to `wanted` (pure). The owner itself is never removed nor
/// re-roled; a tenant Entra is already removing (`removed`) is neither added again nor
/// removed twice until it is gone.
pub fn member_changes(owner_tenant_id: &str, listed: &[MemberAnswer], wanted: &[Wanted<'_>]) -> MemberChanges {
    let owner = owner_tenant_id.to_ascii_lowercase();
    let mut changes = MemberChanges::default();
    for want in wanted {
        let tenant = want.tenant_id.to_ascii_lowercase();
        if tenant == owner {
            continue;
        }
        match listed.iter().find(|m| m.tenant().as_deref() == Some(tenant.as_str())) {
            None => changes.add.push((tenant, want.display_name.to_owned(), want.role)),
            Some(member) if member.state.as_deref() == Some("removed") => {}
            Some(member) if member.role() != Some(want.role) => changes.change_role.push((tenant, want.role)),
            Some(_) => {}
        }
    }
    for member in listed {
        let Some(tenant) = member.tenant() else { continue };
        let is_wanted = wanted.iter().any(|w| w.tenant_id.eq_ignore_ascii_case(&tenant));
        if tenant != owner && !is_wanted && member.state.as_deref() != Some("removed") {
            changes.remove.push(tenant);
        }
    }
    changes
}

/// Sends `changes`; returns the writes sent.
pub async fn send_member_changes(client: &GraphClient, changes: &MemberChanges) -> Result<u32, DirectoryError> {
    let mut writes = 0;
    for (tenant_id, display_name, role) in &changes.add {
        // "Add multiTenantOrganizationMember": `tenantId` and `displayName` required, `role`
        // optional (member by default).
        let body = json!({ "tenantId": tenant_id, "displayName": display_name, "role": role.as_graph() });
        client
            .send_for_body(Method::POST, &url(client, &["tenants"])?, Some(&body), false)
            .await?;
        writes += 1;
    }
    for (tenant_id, role) in &changes.change_role {
        let body = json!({ "role": role.as_graph() });
        client
            .send_for_body(
                Method::PATCH,
                &url(client, &["tenants", tenant_id])?,
                Some(&body),
                false,
            )
            .await?;
        writes += 1;
    }
    for tenant_id in &changes.remove {
        match client
            .send_for_body(Method::DELETE, &url(client, &["tenants", tenant_id])?, None, false)
            .await
        {
            // Gone already: what was wanted.
            Ok(_) | Err(DirectoryError::NotFound) => writes += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(writes)
}
