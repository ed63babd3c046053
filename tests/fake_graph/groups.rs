//! The group endpoints of a fake tenant, as Microsoft Learn documents them: "List groups"
//! (`$select`, `$filter`, `$top` paging), "Create group" (security groups: `mailEnabled` false,
//! `mailNickname`, `securityEnabled` true; up to 20 `members@odata.bind`), "Update group" (the
//! same binding to add up to 20 members), "List group members", "Remove member"
//! (`DELETE /groups/{id}/members/{memberId}/$ref`) and "Delete group" — a security group is
//! deleted permanently, not moved to deleted items ("Delete group": "This isn't applicable to
//! Security groups … which are permanently deleted immediately").

use serde_json::{Map, Value, json};

use super::IdSource;
use super::directory::{Call, Reply, TenantState, link};
use super::odata::{self, Filter};

/// Members one create or update may bind ("Add members": up to 20 in one request).
const BIND_LIMIT: usize = 20;
const PAGE: usize = 100;

/// Properties a create or update may set; `extension_…` directory extensions too.
const WRITABLE: [&str; 6] = [
    "displayName",
    "description",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
    "groupTypes",
];

/// A group: its properties as Graph returns them, and its direct members (users and groups).
#[derive(Clone, Debug)]
pub struct FakeGroup {
    pub value: Value,
    pub members: Vec<String>,
}

impl FakeGroup {
    pub fn new(id: &str, name: &str, members: &[String]) -> FakeGroup {
        FakeGroup {
            value: json!({
                "id": id, "displayName": name, "description": null,
                "mailEnabled": false, "mailNickname": name.replace(' ', ""), "securityEnabled": true,
                "groupTypes": [],
            }),
            members: members.to_vec(),
        }
    }

    pub fn name(&self) -> &str {
        self.value["displayName"].as_str().unwrap_or_default()
    }
}

fn bad_request(message: &str) -> Reply {
    Reply::error(400, "Request_BadRequest", message)
}

impl TenantState {
    /// The group endpoints. `None`: not a path this module serves.
    pub fn handle_groups(&mut self, call: &Call<'_>, ids: &mut IdSource<'_>) -> Option<Reply> {
        let segments: Vec<&str> = call.path.trim_start_matches('/').split('/').collect();
        Some(match (call.method, segments.as_slice()) {
            ("GET", ["groups"]) => self.list_groups(call),
            ("GET", ["groups", "delta"]) => self.groups_delta(call),
            ("POST", ["groups"]) => self.create_group(&call.body, ids),
            ("GET", ["groups", id]) => match self.groups.get(*id) {
                Some(group) => Reply::json(200, odata::select(&group.value, call.query.get("$select"))),
                None => Reply::not_found(id),
            },
            ("PATCH", ["groups", id]) => self.update_group(id, &call.body),
            ("DELETE", ["groups", id]) => match self.groups.remove(*id) {
                Some(_) => {
                    self.touch_group(id);
                    Reply::no_content()
                }
                None => Reply::not_found(id),
            },
            ("GET", ["groups", id, "members"]) => match self.groups.get(*id) {
                Some(group) => {
                    let members: Vec<Value> = group.members.iter().map(|m| self.member_object(m)).collect();
                    page(call, &members)
                }
                None => Reply::not_found(id),
            },
            ("DELETE", ["groups", id, "members", member, "$ref"]) => match self.groups.get_mut(*id) {
                Some(group) if group.members.iter().any(|m| m == member) => {
                    group.members.retain(|m| m != member);
                    self.touch_group(id);
                    Reply::no_content()
                }
                Some(_) => Reply::not_found(member),
                None => Reply::not_found(id),
            },
            ("GET", ["groups", id, "transitiveMembers", "microsoft.graph.user"]) => match self.groups.get(*id) {
                Some(group) => Reply::json(
                    200,
                    json!({ "value": group.members.iter().map(|m| json!({ "id": m })).collect::<Vec<_>>() }),
                ),
                None => Reply::not_found(id),
            },
            _ => return None,
        })
    }

    /// A member as "List group members" returns it: a directory object with its type.
    fn member_object(&self, id: &str) -> Value {
        let kind = if self.groups.contains_key(id) { "group" } else { "user" };
        json!({ "@odata.type": format!("#microsoft.graph.{kind}"), "id": id })
    }

    fn list_groups(&self, call: &Call<'_>) -> Reply {
        let filter = match call.query.get("$filter").map(|f| Filter::parse(f)) {
            Some(Err(message)) => return Reply::error(400, "BadRequest", &message),
            Some(Ok(f)) => Some(f),
            None => None,
        };
        let groups: Vec<Value> = self
            .groups
            .values()
            .filter(|g| filter.as_ref().is_none_or(|f| f.matches(&g.value)))
            .map(|g| odata::select(&g.value, call.query.get("$select")))
            .collect();
        page(call, &groups)
    }

    fn create_group(&mut self, body: &Value, ids: &mut IdSource<'_>) -> Reply {
        let Some(object) = body.as_object() else {
            return bad_request("A group is an object.");
        };
        for required in ["displayName", "mailEnabled", "mailNickname", "securityEnabled"] {
            if object.get(required).is_none_or(Value::is_null) {
                return bad_request(&format!("Property '{required}' is required when creating the group."));
            }
        }
        let members = match self.bindings(object) {
            Ok(members) => members,
            Err(reply) => return reply,
        };
        let id = ids.next();
        let mut group = FakeGroup::new(&id, "", &members);
        if let Err(reply) = set_properties(&mut group.value, object) {
            return reply;
        }
        let created = group.value.clone();
        self.groups.insert(id.clone(), group);
        self.touch_group(&id);
        Reply::json(201, created)
    }

    fn update_group(&mut self, id: &str, body: &Value) -> Reply {
        let Some(object) = body.as_object() else {
            return bad_request("An update is an object.");
        };
        let added = match self.bindings(object) {
            Ok(members) => members,
            Err(reply) => return reply,
        };
        let Some(group) = self.groups.get_mut(id) else {
            return Reply::not_found(id);
        };
        if added.iter().any(|m| group.members.contains(m)) {
            return bad_request(
                "One or more added object references already exist for the following modified properties: 'members'.",
            );
        }
        let mut value = group.value.clone();
        if let Err(reply) = set_properties(&mut value, object) {
            return reply;
        }
        group.value = value;
        group.members.extend(added);
        self.touch_group(id);
        Reply::no_content()
    }

    /// The member ids of `members@odata.bind` (at most 20, each an existing object).
    fn bindings(&self, object: &Map<String, Value>) -> Result<Vec<String>, Reply> {
        let Some(bindings) = object.get("members@odata.bind") else {
            return Ok(Vec::new());
        };
        let references = bindings
            .as_array()
            .ok_or_else(|| bad_request("members@odata.bind is a list."))?;
        if references.len() > BIND_LIMIT {
            return Err(bad_request(
                "The maximum number of 20 members that can be added in a single request has been exceeded.",
            ));
        }
        references
            .iter()
            .map(|r| {
                let id = r.as_str().and_then(|r| r.rsplit('/').next()).unwrap_or_default();
                if self.users.contains_key(id) || self.groups.contains_key(id) {
                    Ok(id.to_owned())
                } else {
                    Err(bad_request("Invalid object identifier."))
                }
            })
            .collect()
    }
}

impl TenantState {
    /// `GET /groups/delta` ("group: delta"): a round from the start lists every group with its
    /// members as `members@delta`; a round from a `$deltatoken` lists the groups changed since,
    /// with their selected properties (a deleted group as `@removed`). Unlike Graph, those
    /// later rounds carry no `members@delta` — xtsync reads a changed group's members itself —
    /// and a round is one page.
    fn groups_delta(&self, call: &Call<'_>) -> Reply {
        let since = match call.query.get("$deltatoken").map(|t| t.parse::<u64>()) {
            None => None,
            Some(Ok(since)) if since <= self.sequence() => Some(since),
            Some(_) => {
                return Reply::error(
                    410,
                    "SyncStateNotFound",
                    "The sync state generation is not found. Start a new sync round.",
                );
            }
        };
        let select = call.query.get("$select");
        let present = |id: &str, with_members: bool| match self.groups.get(id) {
            Some(group) => {
                let mut out = odata::select(&group.value, select);
                out["id"] = json!(id);
                if let Some(out) = out.as_object_mut() {
                    out.remove("members");
                }
                if with_members {
                    out["members@delta"] = Value::Array(group.members.iter().map(|m| self.member_object(m)).collect());
                }
                out
            }
            None => json!({ "id": id, "@removed": { "reason": "deleted" } }),
        };
        let value: Vec<Value> = match since {
            None => self.groups.keys().map(|id| present(id, true)).collect(),
            Some(since) => {
                let mut ids: Vec<&String> = self
                    .group_history
                    .iter()
                    .filter(|(seq, _)| *seq > since)
                    .map(|(_, id)| id)
                    .collect();
                ids.sort();
                ids.dedup();
                ids.into_iter().map(|id| present(id, false)).collect()
            }
        };
        let mut query = std::collections::BTreeMap::new();
        if let Some(select) = select {
            query.insert("$select".to_owned(), select.clone());
        }
        query.insert("$deltatoken".to_owned(), self.sequence().to_string());
        Reply::json(
            200,
            json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups",
                "value": value,
                "@odata.deltaLink": link(call.base, "/groups/delta", &query),
            }),
        )
    }
}

/// Sets the writable properties of `object` on `value`; anything else is refused.
fn set_properties(value: &mut Value, object: &Map<String, Value>) -> Result<(), Reply> {
    for (key, v) in object {
        if key == "members@odata.bind" {
            continue;
        }
        if !WRITABLE.contains(&key.as_str()) && !key.starts_with("extension_") {
            return Err(bad_request(&format!(
                "Property '{key}' does not exist on type 'microsoft.graph.group'."
            )));
        }
        value[key.as_str()] = v.clone();
    }
    Ok(())
}

/// One page of `values` (`$top`, `$skiptoken`), with `@odata.nextLink` while more remain.
fn page(call: &Call<'_>, values: &[Value]) -> Reply {
    let (top, skip) = odata::paging(&call.query, PAGE);
    let mut body = json!({ "value": values.iter().skip(skip).take(top).cloned().collect::<Vec<_>>() });
    if skip + top < values.len() {
        let mut query = call.query.clone();
        query.insert("$skiptoken".into(), (skip + top).to_string());
        body["@odata.nextLink"] = json!(link(call.base, call.path, &query));
    }
    Reply::json(200, body)
}
