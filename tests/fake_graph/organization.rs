//! Multitenant organizations across the fake's tenants (Microsoft Learn: multiTenantOrganization,
//! multiTenantOrganizationMember, multiTenantOrganizationJoinRequestRecord — Create, Get,
//! Update, List/Add/Get/Update/Remove tenants, Get/Update joinRequest), and each tenant's
//! templates (`mto_templates.rs`). An organization is one object here, seen from every tenant
//! in it; a join completes as soon as the joining tenant's request names an owner that lists
//! it as pending (Entra takes up to 2 hours), unless `hold_joins` keeps it `notStarted`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::TenantState;
use super::directory::{Call, Reply};
use super::mto_templates::TenantTemplates;

const CONTEXT: &str = "https://graph.microsoft.com/v1.0/$metadata#tenantRelationships/multiTenantOrganization";
const NO_TENANT: &str = "00000000-0000-0000-0000-000000000000";
const NOW: &str = "2026-11-25T00:00:00Z";

pub struct FakeOrganization {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    /// `multiTenantOrganizationMember`s by tenant id (lower case).
    pub members: BTreeMap<String, Value>,
}

impl FakeOrganization {
    fn is_active(&self, tenant: &str, role: Option<&str>) -> bool {
        self.members
            .get(tenant)
            .is_some_and(|m| m["state"] == "active" && role.is_none_or(|r| m["role"] == r))
    }

    fn answer(&self) -> Value {
        json!({
            "@odata.context": format!("{CONTEXT}/$entity"),
            "id": self.id,
            "createdDateTime": NOW,
            "displayName": self.display_name,
            "description": self.description,
            "state": "active"
        })
    }
}

#[derive(Default)]
pub struct Organizations {
    /// By the tenant id of the tenant that created it.
    pub organizations: BTreeMap<String, FakeOrganization>,
    /// Each tenant's join request record, by tenant id.
    pub join_requests: BTreeMap<String, Value>,
    /// Each tenant's templates, by tenant id.
    pub templates: BTreeMap<String, TenantTemplates>,
    /// Join requests wait (`pending`, `notStarted`) until `complete_joins`.
    pub hold_joins: bool,
    ids: u64,
}

/// `405 Method Not Allowed`, as Graph's directory resources answer a method a path does not
/// take (OData 4.0 §9.2.2: with `Allow`).
pub fn method_not_allowed(allow: &str) -> Reply {
    let mut reply = Reply::error(
        405,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
    );
    reply.headers.push(("Allow".into(), allow.into()));
    reply
}

fn bad_request(message: &str) -> Reply {
    Reply::error(400, "Request_BadRequest", message)
}

fn forbidden() -> Reply {
    Reply::error(
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

/// The first property of `body` not in `allowed`, as Graph refuses it.
fn unknown_property(body: &Value, allowed: &[&str]) -> Option<Reply> {
    let Some(body) = body.as_object() else {
        return Some(bad_request("The request body is not a JSON object."));
    };
    let bad = body.keys().find(|k| !allowed.contains(&k.as_str()))?;
    Some(bad_request(&format!("Invalid property '{bad}'.")))
}

fn is_guid(text: &str) -> bool {
    text.len() == 36 && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn unjoined(id: String) -> Value {
    json!({ "id": id, "addedByTenantId": NO_TENANT, "memberState": null, "role": null, "transitionDetails": null })
}

impl Organizations {
    fn next_id(&mut self) -> String {
        self.ids += 1;
        format!("{:08x}-0000-4000-8000-{:012x}", 0x0a6_u32, self.ids)
    }

    /// The creator key of the organization `tenant` is active in.
    pub fn organization_of(&self, tenant: &str) -> Option<String> {
        self.organizations
            .iter()
            .find(|(_, o)| o.is_active(tenant, None))
            .map(|(k, _)| k.clone())
    }

    pub fn handle(
        &mut self,
        tenant: &str,
        call: &Call<'_>,
        tenants: &mut BTreeMap<String, TenantState>,
    ) -> Option<Reply> {
        let segments: Vec<&str> = call.path.trim_start_matches('/').split('/').collect();
        let rest = match segments.as_slice() {
            ["tenantRelationships", "multiTenantOrganization", rest @ ..] => rest,
            ["policies", "crossTenantAccessPolicy", "templates", ..] => {
                return self.templates.entry(tenant.to_owned()).or_default().handle(call);
            }
            _ => return None,
        };
        Some(match (call.method, rest) {
            ("GET", []) => match self.organization_of(tenant) {
                Some(key) => Reply::json(200, self.organizations[&key].answer()),
                // "Get multiTenantOrganization": a tenant in no organization.
                None => Reply::json(
                    200,
                    json!({ "createdDateTime": null, "displayName": null, "description": null, "state": "inactive" }),
                ),
            },
            ("PUT", []) => self.create(tenant, &call.body, tenants),
            ("PATCH", []) => self.update(tenant, &call.body),
            (_, []) => method_not_allowed("GET, PUT, PATCH"),
            ("GET", ["tenants"]) => self.list(tenant),
            ("POST", ["tenants"]) => self.add(tenant, &call.body),
            (_, ["tenants"]) => method_not_allowed("GET, POST"),
            ("GET", ["tenants", id]) => self.get_member(tenant, id),
            ("PATCH", ["tenants", id]) => self.change_role(tenant, id, &call.body),
            ("DELETE", ["tenants", id]) => self.remove(tenant, id),
            (_, ["tenants", _]) => method_not_allowed("GET, PATCH, DELETE"),
            ("GET", ["joinRequest"]) => {
                let next = self.next_id();
                let mut record = self
                    .join_requests
                    .entry(tenant.to_owned())
                    .or_insert_with(|| unjoined(next))
                    .clone();
                record["@odata.context"] = json!(format!("{CONTEXT}/joinRequest/$entity"));
                Reply::json(200, record)
            }
            ("PATCH", ["joinRequest"]) => self.request_join(tenant, &call.body, tenants),
            (_, ["joinRequest"]) => method_not_allowed("GET, PATCH"),
            _ => Reply::error(
                400,
                "BadRequest",
                &format!("Resource not found for the segment '{}'.", rest.join("/")),
            ),
        })
    }

    /// "Create multiTenantOrganization": the creator becomes its active owner.
    fn create(&mut self, tenant: &str, body: &Value, tenants: &BTreeMap<String, TenantState>) -> Reply {
        if let Some(refusal) = unknown_property(body, &["displayName", "description"]) {
            return refusal;
        }
        let Some(name) = body["displayName"].as_str().filter(|n| !n.is_empty()) else {
            return bad_request("displayName is required.");
        };
        if self.organization_of(tenant).is_some() {
            return bad_request("The tenant is already part of a multitenant organization.");
        }
        let own_name = tenants.get(tenant).map(|t| t.display_name.clone()).unwrap_or_default();
        let owner = json!({
            "tenantId": tenant, "displayName": own_name, "addedDateTime": NOW, "joinedDateTime": null,
            "addedByTenantId": tenant, "role": "owner", "state": "active", "transitionDetails": null
        });
        let organization = FakeOrganization {
            id: self.next_id(),
            display_name: name.to_owned(),
            description: body["description"].as_str().map(str::to_owned),
            members: BTreeMap::from([(tenant.to_owned(), owner)]),
        };
        let answer = organization.answer();
        self.organizations.insert(tenant.to_owned(), organization);
        Reply::json(201, answer)
    }

    /// The organization `tenant` is an active owner of, for the owners' operations.
    fn owned(&mut self, tenant: &str) -> Result<&mut FakeOrganization, Reply> {
        let key = self
            .organization_of(tenant)
            .ok_or_else(|| Reply::not_found("multiTenantOrganization"))?;
        let organization = self.organizations.get_mut(&key).ok_or_else(forbidden)?;
        if organization.is_active(tenant, Some("owner")) {
            Ok(organization)
        } else {
            Err(forbidden())
        }
    }

    fn update(&mut self, tenant: &str, body: &Value) -> Reply {
        if let Some(refusal) = unknown_property(body, &["displayName", "description"]) {
            return refusal;
        }
        let organization = match self.owned(tenant) {
            Ok(o) => o,
            Err(reply) => return reply,
        };
        if let Some(name) = body.get("displayName").and_then(Value::as_str) {
            organization.display_name = name.to_owned();
        }
        if let Some(description) = body.get("description") {
            organization.description = description.as_str().map(str::to_owned);
        }
        Reply::no_content()
    }

    fn list(&self, tenant: &str) -> Reply {
        match self.organization_of(tenant) {
            Some(key) => Reply::json(
                200,
                json!({
                    "@odata.context": format!("{CONTEXT}/tenants"),
                    "value": self.organizations[&key].members.values().cloned().collect::<Vec<_>>()
                }),
            ),
            None => Reply::not_found("multiTenantOrganization"),
        }
    }

    fn get_member(&self, tenant: &str, id: &str) -> Reply {
        let member = self
            .organization_of(tenant)
            .and_then(|key| self.organizations[&key].members.get(&id.to_ascii_lowercase()).cloned());
        match member {
            Some(mut member) => {
                member["@odata.context"] = json!(format!("{CONTEXT}/tenants/$entity"));
                Reply::json(200, member)
            }
            None => Reply::not_found(id),
        }
    }

    /// "Add multiTenantOrganizationMember": `tenantId` and `displayName` required; pending.
    fn add(&mut self, tenant: &str, body: &Value) -> Reply {
        if let Some(refusal) = unknown_property(body, &["tenantId", "displayName", "role"]) {
            return refusal;
        }
        let Some(added) = body["tenantId"]
            .as_str()
            .filter(|t| is_guid(t))
            .map(str::to_ascii_lowercase)
        else {
            return bad_request("tenantId is required and must be a tenant id.");
        };
        let Some(name) = body["displayName"].as_str().filter(|n| !n.is_empty()) else {
            return bad_request("displayName is required.");
        };
        let role = match &body["role"] {
            Value::Null => "member",
            Value::String(r) if r == "owner" || r == "member" => r.as_str(),
            _ => return bad_request("Invalid value for property 'role'."),
        };
        let organization = match self.owned(tenant) {
            Ok(o) => o,
            Err(reply) => return reply,
        };
        if organization.members.contains_key(&added) {
            return bad_request("Tenant is already being added in Multi-Tenant Organization.");
        }
        let member = json!({
            "tenantId": added, "displayName": name, "addedDateTime": NOW, "joinedDateTime": null,
            "addedByTenantId": tenant, "role": role, "state": "pending", "transitionDetails": null
        });
        organization.members.insert(added, member.clone());
        let mut answer = member;
        answer["@odata.context"] = json!(format!("{CONTEXT}/tenants/$entity"));
        Reply::json(201, answer)
    }

    /// "Update multiTenantOrganizationMember": only `role`, only by an owner.
    fn change_role(&mut self, tenant: &str, id: &str, body: &Value) -> Reply {
        if let Some(refusal) = unknown_property(body, &["role"]) {
            return refusal;
        }
        let Some(role) = body["role"].as_str().filter(|r| *r == "owner" || *r == "member") else {
            return bad_request("Invalid value for property 'role'.");
        };
        let organization = match self.owned(tenant) {
            Ok(o) => o,
            Err(reply) => return reply,
        };
        match organization.members.get_mut(&id.to_ascii_lowercase()) {
            Some(member) => {
                member["role"] = json!(role);
                Reply::no_content()
            }
            None => Reply::not_found(id),
        }
    }

    /// "Remove multiTenantOrganizationMember": an active member may remove itself, an owner any
    /// other tenant, and itself while another active owner remains or no other active tenant
    /// does (which deletes the organization).
    fn remove(&mut self, tenant: &str, id: &str) -> Reply {
        let id = id.to_ascii_lowercase();
        let Some(key) = self.organization_of(tenant) else {
            return Reply::not_found("multiTenantOrganization");
        };
        let organization = &self.organizations[&key];
        if !organization.members.contains_key(&id) {
            return Reply::not_found(&id);
        }
        let is_owner = organization.is_active(tenant, Some("owner"));
        let others_active = |role: Option<&str>| {
            organization
                .members
                .keys()
                .any(|t| *t != id && organization.is_active(t, role))
        };
        let allowed = match (id == tenant, is_owner) {
            (false, owner) => owner,
            (true, false) => true,
            (true, true) => others_active(Some("owner")) || !others_active(None),
        };
        if !allowed {
            return forbidden();
        }
        let dissolve = id == tenant && is_owner && !others_active(None);
        let leaving: Vec<String> = if dissolve {
            organization.members.keys().cloned().collect()
        } else {
            vec![id.clone()]
        };
        if dissolve {
            self.organizations.remove(&key);
        } else if let Some(organization) = self.organizations.get_mut(&key) {
            organization.members.remove(&id);
        }
        for gone in leaving {
            let next = self.next_id();
            self.join_requests.insert(gone, unjoined(next));
        }
        Reply::no_content()
    }
}

/// Join requests and what a completed join does.
#[path = "organization_join.rs"]
mod join;
