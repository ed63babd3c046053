//! One tenant of the fake: users, deleted items, groups, the change history behind the users
//! delta query, and the user endpoints (Microsoft Learn: user, user: delta, invitation,
//! directory deleted items, manager).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::IdSource;
use super::groups::FakeGroup;
use super::odata::{self, Filter};
use super::policy::Policies;

/// An answer: status, body, extra headers.
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body,
            headers: Vec::new(),
        }
    }

    pub fn no_content() -> Reply {
        Reply::json(204, Value::Null)
    }

    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::json(status, odata::error(code, message))
    }

    pub fn not_found(what: &str) -> Reply {
        Reply::error(
            404,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{what}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }
}

/// What a request looks like to a handler.
pub struct Call<'a> {
    pub method: &'a str,
    /// Path below `/v1.0`, e.g. `/users/123`.
    pub path: &'a str,
    pub query: BTreeMap<String, String>,
    pub eventual: bool,
    pub body: Value,
    /// `http://127.0.0.1:PORT`, for links.
    pub base: &'a str,
    /// Asked of `/beta` rather than `/v1.0`.
    pub beta: bool,
}

/// Properties PATCH may set on a user (the subset of Microsoft Learn's "Update user" xtsync
/// and the tests use); anything else is refused as Graph refuses unknown properties.
const WRITABLE: [&str; 11] = [
    "accountEnabled",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "jobTitle",
    "department",
    "employeeId",
    "userType",
    "userPrincipalName",
    "onPremisesExtensionAttributes",
];

const PAGE: usize = 100;

pub struct TenantState {
    pub id: String,
    pub client_id: String,
    /// How the app authenticates: its secret, certificates, federated credentials.
    pub app: super::assertions::AppCredentials,
    pub initial_domain: String,
    /// Custom domains besides the initial one: (name, isVerified).
    pub custom_domains: Vec<(String, bool)>,
    pub display_name: String,
    /// Live users by id, as Graph stores them.
    pub users: BTreeMap<String, Value>,
    /// Soft-deleted users (directory deleted items) by id.
    pub deleted: BTreeMap<String, Value>,
    /// Groups by id (`groups.rs`).
    pub groups: BTreeMap<String, FakeGroup>,
    /// Manager of each user that has one.
    pub managers: BTreeMap<String, String>,
    /// (sequence, user id) for every change, for delta queries.
    history: Vec<(u64, String)>,
    /// (sequence, group id) for every change of a group, for the groups delta.
    pub(super) group_history: Vec<(u64, String)>,
    sequence: u64,
    pub policies: Policies,
}

impl TenantState {
    pub fn new(id: &str, name: &str, client_id: &str, secret: &str) -> TenantState {
        TenantState {
            id: id.to_ascii_lowercase(),
            client_id: client_id.to_owned(),
            app: super::assertions::AppCredentials {
                secret: Some(secret.to_owned()),
                ..Default::default()
            },
            initial_domain: format!("{name}.onmicrosoft.com"),
            custom_domains: Vec::new(),
            display_name: name.to_owned(),
            users: BTreeMap::new(),
            deleted: BTreeMap::new(),
            groups: BTreeMap::new(),
            managers: BTreeMap::new(),
            history: Vec::new(),
            group_history: Vec::new(),
            sequence: 0,
            policies: Policies::default(),
        }
    }

    /// Records a change of a group, for the groups delta.
    pub(super) fn touch_group(&mut self, id: &str) {
        self.sequence += 1;
        self.group_history.push((self.sequence, id.to_owned()));
    }

    /// The sequence of the latest change (a delta round's end).
    pub(super) fn sequence(&self) -> u64 {
        self.sequence
    }

    fn touch(&mut self, id: &str) {
        self.sequence += 1;
        self.history.push((self.sequence, id.to_owned()));
    }

    /// An internal member with `attributes` (Graph property names) over the defaults.
    pub fn add_member(&mut self, id: String, user_principal_name: &str, attributes: Value) -> String {
        let mut user = json!({
            "id": id,
            "userPrincipalName": user_principal_name,
            "displayName": user_principal_name.split('@').next().unwrap_or_default(),
            "mail": user_principal_name,
            "accountEnabled": true,
            "userType": "Member",
            "creationType": null,
            "externalUserState": null,
            "onPremisesExtensionAttributes": empty_extension_attributes(),
        });
        merge(&mut user, &attributes);
        self.users.insert(id.clone(), user);
        self.touch(&id);
        id
    }

    /// Changes a user as an administrator would (recorded for delta).
    pub fn update(&mut self, id: &str, attributes: Value) {
        if let Some(user) = self.users.get_mut(id) {
            merge(user, &attributes);
            self.touch(id);
        }
    }

    /// Soft-deletes a user as an administrator would.
    pub fn delete(&mut self, id: &str) {
        if let Some(user) = self.users.remove(id) {
            self.deleted.insert(id.to_owned(), user);
            self.touch(id);
        }
    }

    pub fn add_group(&mut self, id: String, name: &str, members: &[String]) {
        let group = FakeGroup::new(&id, name, members);
        self.touch_group(&id);
        self.groups.insert(id, group);
    }

    pub fn organization(&self) -> Value {
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#organization",
            "value": [{
                "id": self.id,
                "displayName": self.display_name,
                "verifiedDomains": [{
                    "capabilities": "Email, OfficeCommunicationsOnline",
                    "isDefault": true,
                    "isInitial": true,
                    "name": self.initial_domain,
                    "type": "Managed"
                }]
            }]
        })
    }

    /// `GET /domains` (Microsoft Learn, "List domains"): the initial domain, verified, and the
    /// custom ones, verified or not.
    pub fn domains(&self) -> Value {
        let domain = |name: &str, initial: bool, verified: bool| {
            json!({
                "id": name,
                "authenticationType": "Managed",
                "isAdminManaged": true,
                "isDefault": initial,
                "isInitial": initial,
                "isRoot": true,
                "isVerified": verified,
                "supportedServices": ["Email"]
            })
        };
        let mut value = vec![domain(&self.initial_domain, true, true)];
        value.extend(
            self.custom_domains
                .iter()
                .map(|(name, verified)| domain(name, false, *verified)),
        );
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#domains",
            "value": value
        })
    }

    /// The user endpoints. `None`: not a path this module serves.
    pub fn handle(&mut self, call: &Call<'_>, ids: &mut IdSource<'_>) -> Option<Reply> {
        let segments: Vec<&str> = call.path.trim_start_matches('/').split('/').collect();
        Some(match (call.method, segments.as_slice()) {
            ("GET", ["organization"]) => Reply::json(200, self.organization()),
            ("GET", ["domains"]) => {
                let all = self.domains();
                let selected: Vec<Value> = all["value"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| odata::select(d, call.query.get("$select")))
                    .collect();
                Reply::json(
                    200,
                    json!({ "@odata.context": all["@odata.context"], "value": selected }),
                )
            }
            ("GET", ["users"]) => self.list(call, false),
            ("GET", ["users", "delta"]) => self.delta(call),
            // "Get user" takes `$expand=manager` as "List users" does.
            ("GET", ["users", id]) => match self.users.get(*id) {
                Some(user) => Reply::json(200, self.present(user, call)),
                None => Reply::not_found(id),
            },
            ("PATCH", ["users", id]) => self.patch(id, &call.body),
            ("DELETE", ["users", id]) => {
                if self.users.contains_key(*id) {
                    self.delete(id);
                    Reply::no_content()
                } else {
                    Reply::not_found(id)
                }
            }
            ("PUT", ["users", id, "manager", "$ref"]) => {
                let manager = call
                    .body
                    .get("@odata.id")
                    .and_then(Value::as_str)
                    .and_then(|r| r.rsplit('/').next())
                    .map(str::to_owned);
                match manager {
                    Some(m) if self.users.contains_key(*id) && self.users.contains_key(&m) => {
                        self.managers.insert((*id).to_owned(), m);
                        self.touch(id);
                        Reply::no_content()
                    }
                    _ => Reply::error(400, "Request_BadRequest", "Invalid object identifier."),
                }
            }
            ("DELETE", ["users", id, "manager", "$ref"]) => {
                if self.managers.remove(*id).is_some() {
                    self.touch(id);
                    Reply::no_content()
                } else {
                    Reply::not_found(id)
                }
            }
            ("POST", ["invitations"]) => self.invite(&call.body, ids),
            ("GET", ["directory", "deletedItems", "microsoft.graph.user"]) => self.list(call, true),
            ("POST", ["directory", "deletedItems", id, "restore"]) => match self.deleted.remove(*id) {
                Some(user) => {
                    self.users.insert((*id).to_owned(), user.clone());
                    self.touch(id);
                    Reply::json(200, user)
                }
                None => Reply::not_found(id),
            },
            _ => return self.handle_groups(call, ids),
        })
    }

    /// A user as returned: `$select`ed, with `manager` when `$expand=manager` asked for it.
    fn present(&self, user: &Value, call: &Call<'_>) -> Value {
        let mut out = odata::select(user, call.query.get("$select"));
        if call.query.get("$expand").is_some_and(|e| e.starts_with("manager"))
            && let Some(manager) = user
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| self.managers.get(id))
        {
            let manager = json!({ "@odata.type": "#microsoft.graph.user", "id": manager });
            // Users delta returns the expanded manager as an array `manager@delta`
            // (Microsoft Learn, "user: delta"); `/users` as the object `manager`.
            if call.path.ends_with("/delta") {
                out["manager@delta"] = json!([manager]);
            } else {
                out["manager"] = manager;
            }
        }
        out
    }

    fn list(&self, call: &Call<'_>, deleted: bool) -> Reply {
        let filter = match call.query.get("$filter").map(|f| Filter::parse(f)) {
            Some(Err(message)) => return Reply::error(400, "BadRequest", &message),
            Some(Ok(f)) => Some(f),
            None => None,
        };
        if let Some(f) = &filter
            && f.is_advanced()
            && !(call.eventual && call.query.get("$count").is_some_and(|c| c == "true"))
        {
            return Reply::error(
                400,
                "Request_UnsupportedQuery",
                &format!(
                    "Unsupported or invalid query filter clause specified for property '{}' of resource 'User'.",
                    f.advanced_property().unwrap_or_default()
                ),
            );
        }
        let source = if deleted { &self.deleted } else { &self.users };
        let matching: Vec<&Value> = source
            .values()
            .filter(|u| filter.as_ref().is_none_or(|f| f.matches(u)))
            .collect();
        let (top, skip) = odata::paging(&call.query, PAGE);
        let page: Vec<Value> = matching
            .iter()
            .skip(skip)
            .take(top)
            .map(|u| self.present(u, call))
            .collect();
        let mut body = json!({ "value": page });
        if call.query.get("$count").is_some_and(|c| c == "true") {
            body["@odata.count"] = json!(matching.len());
        }
        if skip + top < matching.len() {
            let mut query = call.query.clone();
            query.insert("$skiptoken".into(), (skip + top).to_string());
            body["@odata.nextLink"] = json!(link(call.base, call.path, &query));
        }
        Reply::json(200, body)
    }

    /// `GET /users/delta`: a round from the start lists every user; a round from a delta token
    /// lists the users changed since (deleted ones as `@removed`). Pages of 100 along
    /// `@odata.nextLink`, then `@odata.deltaLink`.
    fn delta(&self, call: &Call<'_>) -> Reply {
        let (since, upto, offset) = if let Some(skip) = call.query.get("$skiptoken") {
            let parts: Vec<u64> = skip.split('.').filter_map(|p| p.parse().ok()).collect();
            match parts.as_slice() {
                [since, upto, offset] => (*since, *upto, *offset as usize),
                _ => return Reply::error(400, "BadRequest", "Invalid $skiptoken."),
            }
        } else if let Some(token) = call.query.get("$deltatoken") {
            match token.parse::<u64>() {
                Ok(since) if since <= self.sequence => (since, self.sequence, 0),
                _ => {
                    return Reply::error(
                        410,
                        "SyncStateNotFound",
                        "The sync state generation is not found. Start a new sync round.",
                    );
                }
            }
        } else {
            (0, self.sequence, 0)
        };
        let mut ids: Vec<&String> = if since == 0 {
            // A first round: the users as they are (deleted ones are not listed).
            self.users.keys().collect()
        } else {
            self.history
                .iter()
                .filter(|(seq, _)| *seq > since && *seq <= upto)
                .map(|(_, id)| id)
                .collect()
        };
        ids.sort();
        ids.dedup();
        let page: Vec<Value> = ids
            .iter()
            .skip(offset)
            .take(PAGE)
            .map(|id| match self.users.get(*id) {
                Some(user) => self.present(user, call),
                None => json!({ "id": id, "@removed": { "reason": if self.deleted.contains_key(*id) { "changed" } else { "deleted" } } }),
            })
            .collect();
        let mut query: BTreeMap<String, String> = call
            .query
            .iter()
            .filter(|(k, _)| *k == "$select" || *k == "$expand")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut body = json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id)",
            "value": page
        });
        if offset + PAGE < ids.len() {
            query.insert("$skiptoken".into(), format!("{since}.{upto}.{}", offset + PAGE));
            body["@odata.nextLink"] = json!(link(call.base, "/users/delta", &query));
        } else {
            query.insert("$deltatoken".into(), upto.to_string());
            body["@odata.deltaLink"] = json!(link(call.base, "/users/delta", &query));
        }
        Reply::json(200, body)
    }

    fn patch(&mut self, id: &str, body: &Value) -> Reply {
        let Some(object) = body.as_object() else {
            return Reply::error(400, "BadRequest", "Empty Payload. JSON content expected.");
        };
        if let Some(bad) = object.keys().find(|k| !WRITABLE.contains(&k.as_str())) {
            return Reply::error(
                400,
                "Request_BadRequest",
                &format!("Property '{bad}' is read-only and cannot be set."),
            );
        }
        if let Some(upn) = object.get("userPrincipalName").and_then(Value::as_str)
            && !upn.to_ascii_lowercase().ends_with(&format!("@{}", self.initial_domain))
        {
            return Reply::error(
                400,
                "Request_BadRequest",
                "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
            );
        }
        if !self.users.contains_key(id) {
            return Reply::not_found(id);
        }
        self.update(id, body.clone());
        Reply::no_content()
    }

    /// `POST /invitations`: creates an external user named after the invited address, or
    /// returns the external user that address already has.
    fn invite(&mut self, body: &Value, ids: &mut IdSource<'_>) -> Reply {
        let text = |key: &str| body.get(key).and_then(Value::as_str);
        let Some(address) = text("invitedUserEmailAddress").filter(|a| a.contains('@')) else {
            return Reply::error(
                400,
                "BadRequest",
                "The invitedUserEmailAddress is required and must be an email address.",
            );
        };
        if text("inviteRedirectUrl").is_none() {
            return Reply::error(400, "BadRequest", "The inviteRedirectUrl is required.");
        }
        let user_type = text("invitedUserType").unwrap_or("Guest");
        if user_type != "Guest" && user_type != "Member" {
            return Reply::error(400, "BadRequest", "invitedUserType must be Guest or Member.");
        }
        let existing = self.users.values().find(|u| {
            u.get("mail")
                .and_then(Value::as_str)
                .is_some_and(|m| m.eq_ignore_ascii_case(address))
        });
        let user_id = match existing {
            Some(user) if user.get("creationType").and_then(Value::as_str) == Some("Invitation") => {
                user["id"].as_str().unwrap_or_default().to_owned()
            }
            Some(_) => {
                return Reply::error(
                    400,
                    "BadRequest",
                    "The invited user already exists in the directory as an internal user.",
                );
            }
            None => {
                let id = ids.next();
                let user = json!({
                    "id": id,
                    "userPrincipalName": format!("{}#EXT#@{}", address.replace('@', "_"), self.initial_domain),
                    "displayName": text("invitedUserDisplayName").unwrap_or(address),
                    "mail": address,
                    "otherMails": [address],
                    "accountEnabled": true,
                    "userType": user_type,
                    "creationType": "Invitation",
                    "externalUserState": "PendingAcceptance",
                    "onPremisesExtensionAttributes": empty_extension_attributes(),
                });
                self.users.insert(id.clone(), user);
                self.touch(&id);
                id
            }
        };
        Reply::json(
            201,
            json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#invitations/$entity",
                "id": ids.next(),
                "inviteRedeemUrl": format!("https://login.microsoftonline.com/redeem?rd=fake&tenant={}", self.id),
                "invitedUserDisplayName": text("invitedUserDisplayName"),
                "invitedUserEmailAddress": address,
                "invitedUserType": user_type,
                "sendInvitationMessage": body.get("sendInvitationMessage").cloned().unwrap_or(json!(false)),
                "inviteRedirectUrl": text("inviteRedirectUrl"),
                "status": "PendingAcceptance",
                "invitedUser": { "id": user_id }
            }),
        )
    }
}

fn empty_extension_attributes() -> Value {
    Value::Object(
        (1..=15)
            .map(|n| (format!("extensionAttribute{n}"), Value::Null))
            .collect(),
    )
}

/// Merges `patch` into `target` one level deep (Graph PATCH semantics; complex properties such
/// as `onPremisesExtensionAttributes` merge by member).
fn merge(target: &mut Value, patch: &Value) {
    let (Some(target), Some(patch)) = (target.as_object_mut(), patch.as_object()) else {
        return;
    };
    for (key, value) in patch {
        match (target.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(members)) => {
                for (k, v) in members {
                    existing.insert(k.clone(), v.clone());
                }
            }
            _ => {
                target.insert(key.clone(), value.clone());
            }
        }
    }
}

/// `base/v1.0/path?query`, encoded.
pub fn link(base: &str, path: &str, query: &BTreeMap<String, String>) -> String {
    let mut url = reqwest::Url::parse(&format!("{base}/v1.0{path}")).expect("link");
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    url.to_string()
}
