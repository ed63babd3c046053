//! SCIM User resources (RFC 7643 §4.1, enterprise extension §4.3) ⇄ the engine's neutral users,
//! and attribute changes → PATCH operations (RFC 7644 §3.5.2).

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::wire::Email;
pub use super::wire::ScimUser;
use crate::engine::attributes::WORK_EMAIL;
use crate::engine::plan::Changes;
use crate::engine::user::{Attributes, User};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Enterprise extension attributes.
const ENTERPRISE: [&str; 2] = ["department", "employeeNumber"];

pub fn to_user(resource: &Value) -> Option<User> {
    ScimUser::deserialize(resource).ok()?.into_user()
}

impl ScimUser {
    /// The engine's user; `None` without an id.
    pub fn into_user(self) -> Option<User> {
        let id = self.id?;
        let mut attributes = Attributes::new();
        let mut put = |name: &'static str, value: Option<String>| {
            if let Some(v) = value {
                attributes.insert(name, v);
            }
        };
        let (work_email, other_addresses) = work_email(self.emails);
        let (name, enterprise) = (self.name.unwrap_or_default(), self.enterprise.unwrap_or_default());
        put("userName", self.user_name);
        put("displayName", self.display_name);
        put("title", self.title);
        put("userType", self.user_type);
        put("externalId", self.external_id);
        put("name.givenName", name.given_name);
        put("name.familyName", name.family_name);
        put(WORK_EMAIL, work_email);
        put("department", enterprise.department);
        put("employeeNumber", enterprise.employee_number);
        put("manager", enterprise.manager.and_then(|m| m.value));
        put("active", self.active.map(|a| a.to_string()));
        let meta = self.meta.unwrap_or_default();
        Some(User {
            id,
            attributes: attributes.into(),
            version: meta.version,
            modified: meta.last_modified,
            other_addresses,
            ..User::default()
        })
    }
}

/// Is this `emails` entry of type work? Canonical values are case-insensitive (RFC 7643
/// §2.3.1 leaves case to the server; "Work" is work).
fn is_work(email: &Value) -> bool {
    email
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("work"))
}

/// The work email — the `emails` entry of type work (in any case), else the primary one, else
/// the first — and every other email.
fn work_email(emails: Vec<Email>) -> (Option<String>, Vec<String>) {
    let is_work = |e: &Email| e.kind.as_deref().is_some_and(|t| t.trim().eq_ignore_ascii_case("work"));
    let pick = |pred: &dyn Fn(&Email) -> bool| emails.iter().position(pred);
    let chosen = pick(&is_work)
        .or_else(|| pick(&|e| e.primary == Some(true)))
        .or_else(|| (!emails.is_empty()).then_some(0));
    let mut work = None;
    let mut others: Vec<String> = Vec::new();
    for (i, email) in emails.into_iter().enumerate() {
        match email.value {
            Some(value) if Some(i) == chosen => work = Some(value),
            Some(value) if !value.trim().is_empty() && !others.contains(&value) => others.push(value),
            _ => {}
        }
    }
    // Every other email, of any type, is an address matching recognises the user by (README,
    // "How a sync works").
    others.retain(|o| Some(o) != work.as_ref());
    (work, others)
}

/// A new SCIM User from neutral attributes.
pub fn to_resource(attributes: &Attributes) -> Value {
    let mut resource = Map::new();
    let mut enterprise = Map::new();
    for (name, value) in attributes {
        match *name {
            "active" => {
                resource.insert("active".into(), Value::Bool(value == "true"));
            }
            "name.givenName" | "name.familyName" => {
                let name_obj = resource.entry("name").or_insert_with(|| json!({}));
                if let Some(obj) = name_obj.as_object_mut() {
                    obj.insert(name.trim_start_matches("name.").into(), Value::String(value.clone()));
                }
            }
            n if n == WORK_EMAIL => {
                resource.insert("emails".into(), work_emails(value));
            }
            "manager" => {
                enterprise.insert("manager".into(), json!({ "value": value }));
            }
            n if ENTERPRISE.contains(&n) => {
                enterprise.insert(n.into(), Value::String(value.clone()));
            }
            n => {
                resource.insert(n.into(), Value::String(value.clone()));
            }
        }
    }
    let mut schemas = vec![Value::String(USER_SCHEMA.into())];
    if !enterprise.is_empty() {
        schemas.push(Value::String(ENTERPRISE_SCHEMA.into()));
        resource.insert(ENTERPRISE_SCHEMA.into(), Value::Object(enterprise));
    }
    resource.insert("schemas".into(), Value::Array(schemas));
    Value::Object(resource)
}

fn work_emails(address: &str) -> Value {
    json!([{ "type": "work", "value": address, "primary": true }])
}

/// The user's emails with the work email set to `address`, or removed: every other email stays
/// (a user's home or other addresses are not xtsync's to drop).
fn with_work_email(current: Option<&Value>, address: Option<&str>) -> Value {
    let mut emails: Vec<Value> = current
        .and_then(|r| r.get("emails"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match (emails.iter().position(is_work), address) {
        (Some(i), Some(a)) => emails[i]["value"] = json!(a),
        (Some(i), None) => {
            emails.remove(i);
        }
        (None, Some(a)) => emails.push(json!({ "type": "work", "value": a, "primary": emails.is_empty() })),
        (None, None) => {}
    }
    Value::Array(emails)
}

/// One PATCH request body carrying exactly the changed attributes. `current` is the target's
/// resource, needed only when the work email changes (the other emails are kept).
pub fn to_patch(changes: &Changes, current: Option<&Value>) -> Value {
    let operations: Vec<Value> = changes
        .iter()
        .map(|(name, value)| {
            let path = match *name {
                n if n == WORK_EMAIL => "emails".to_owned(),
                "manager" => format!("{ENTERPRISE_SCHEMA}:manager"),
                n if ENTERPRISE.contains(&n) => format!("{ENTERPRISE_SCHEMA}:{n}"),
                n => n.to_owned(),
            };
            match (value, *name) {
                (value, n) if n == WORK_EMAIL => {
                    json!({ "op": "replace", "path": path, "value": with_work_email(current, value.as_deref()) })
                }
                (None, _) => json!({ "op": "remove", "path": path }),
                (Some(v), _) => json!({ "op": "replace", "path": path, "value": scim_value(name, v) }),
            }
        })
        .collect();
    json!({ "schemas": [PATCH_SCHEMA], "Operations": operations })
}

/// A neutral attribute's value as SCIM writes it.
fn scim_value(name: &str, value: &str) -> Value {
    match name {
        "active" => Value::Bool(value == "true"),
        "manager" => json!({ "value": value }),
        _ => Value::String(value.to_owned()),
    }
}

/// Applies changes to the target's current resource, for directories without PATCH (PUT
/// replaces the resource whole): each mapped attribute is set in place, and everything else —
/// phones, addresses, other emails, other extensions — stays as the directory has it.
pub fn apply_to_resource(resource: &mut Value, changes: &Changes) {
    let Some(object) = resource.as_object_mut() else { return };
    for (name, value) in changes {
        let (container, key): (&mut Map<String, Value>, &str) = match *name {
            n if n == WORK_EMAIL => {
                let emails = with_work_email(Some(&Value::Object(object.clone())), value.as_deref());
                object.insert("emails".into(), emails);
                continue;
            }
            "name.givenName" | "name.familyName" => {
                let name_obj = object.entry("name").or_insert_with(|| json!({}));
                match name_obj.as_object_mut() {
                    Some(o) => (o, name.trim_start_matches("name.")),
                    None => continue,
                }
            }
            n if n == "manager" || ENTERPRISE.contains(&n) => {
                if value.is_some() {
                    add_enterprise_schema(object);
                }
                match object
                    .entry(ENTERPRISE_SCHEMA)
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                {
                    Some(o) => (o, n),
                    None => continue,
                }
            }
            n => (&mut *object, n),
        };
        match value {
            Some(v) => container.insert(key.into(), scim_value(name, v)),
            None => container.remove(key),
        };
    }
}

fn add_enterprise_schema(object: &mut Map<String, Value>) {
    let schemas = object.entry("schemas").or_insert_with(|| json!([USER_SCHEMA]));
    if let Some(list) = schemas.as_array_mut()
        && !list.iter().any(|s| s == ENTERPRISE_SCHEMA)
    {
        list.push(json!(ENTERPRISE_SCHEMA));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "id": "2819c223",
            "externalId": "72f988bf-86f1-41af-91ab-2d7cd011db47/a1",
            "userName": "bjensen@example.com",
            "name": { "familyName": "Jensen", "givenName": "Barbara" },
            "displayName": "Babs Jensen",
            "emails": [
                { "value": "bjensen@home.example", "type": "home" },
                { "value": "bjensen@example.com", "type": "work", "primary": true }
            ],
            "userType": "Employee",
            "title": "Tour Guide",
            "active": true,
            "meta": { "version": "W/\"3694e05e9dff591\"" },
            ENTERPRISE_SCHEMA: { "employeeNumber": "701984", "department": "Tour Operations", "manager": { "value": "26118915" } }
        })
    }

    #[test]
    fn every_email_of_every_type_is_an_address_and_work_is_any_case() {
        let resource = json!({
            "id": "u1",
            "userName": "alice.l@fabrikam.example",
            "emails": [
                { "type": "home", "value": "alice@home.example", "primary": true },
                { "type": "Work", "value": "alice@contoso.com" },
                { "value": "a@other.example" },
                { "type": "home", "value": "alice@home.example" }
            ]
        });
        let user = to_user(&resource).expect("user");
        assert_eq!(user.email(), Some("alice@contoso.com"), "type Work is the work email");
        assert_eq!(user.other_addresses, ["alice@home.example", "a@other.example"]);
        let every: Vec<&str> = user.every_address().collect();
        assert_eq!(
            every,
            [
                "alice.l@fabrikam.example",
                "alice@contoso.com",
                "alice@home.example",
                "a@other.example"
            ]
        );
    }

    #[test]
    fn reads_the_rfc_7643_example() {
        let u = to_user(&sample()).expect("a user");
        assert_eq!(u.id, "2819c223");
        assert_eq!(u.user_name(), "bjensen@example.com");
        assert_eq!(u.get("name.givenName"), Some("Barbara"));
        assert_eq!(u.email(), Some("bjensen@example.com"));
        assert_eq!(u.get("department"), Some("Tour Operations"));
        assert_eq!(u.get("employeeNumber"), Some("701984"));
        assert_eq!(u.get("manager"), Some("26118915"));
        assert_eq!(u.get("active"), Some("true"));
        assert_eq!(u.version.as_deref(), Some("W/\"3694e05e9dff591\""));
        assert!(u.anchor().is_some());
    }

    #[test]
    fn writes_a_resource_that_reads_back_the_same() {
        let u = to_user(&sample()).expect("a user");
        let back = to_user(&{
            let mut r = to_resource(&u.attributes.to_map());
            r["id"] = json!("2819c223");
            r
        })
        .expect("a user");
        assert_eq!(back.attributes, u.attributes);
    }

    #[test]
    fn patch_carries_only_the_changes() {
        let mut changes = Changes::new();
        changes.insert("displayName", Some("Barbara J".into()));
        changes.insert("department", None);
        changes.insert("active", Some("false".into()));
        let patch = to_patch(&changes, None);
        assert_eq!(patch["schemas"][0], PATCH_SCHEMA);
        let ops = patch["Operations"].as_array().expect("operations");
        assert_eq!(ops.len(), 3);
        assert!(ops.contains(&json!({"op": "replace", "path": "displayName", "value": "Barbara J"})));
        assert!(ops.contains(&json!({"op": "remove", "path": format!("{ENTERPRISE_SCHEMA}:department")})));
        assert!(ops.contains(&json!({"op": "replace", "path": "active", "value": false})));
    }

    #[test]
    fn put_fallback_applies_changes_to_the_whole_resource() {
        let mut r = sample();
        let mut changes = Changes::new();
        changes.insert("title", None);
        changes.insert("name.givenName", Some("Babs".into()));
        apply_to_resource(&mut r, &changes);
        let u = to_user(&r).expect("a user");
        assert_eq!(u.get("title"), None);
        assert_eq!(u.get("name.givenName"), Some("Babs"));
        assert_eq!(u.id, "2819c223");
    }

    #[test]
    fn put_fallback_keeps_every_attribute_it_does_not_map() {
        // README, "Safety": PUT once rebuilt the resource from the mapped attributes and wiped the
        // rest.
        let mut r = sample();
        r["phoneNumbers"] = json!([{ "value": "555-555-8377", "type": "work" }]);
        r["addresses"] = json!([{ "locality": "Hollywood", "type": "work" }]);
        r["urn:example:extension:1.0:User"] = json!({ "badge": "42" });
        let mut changes = Changes::new();
        changes.insert("displayName", Some("Barbara J".into()));
        changes.insert(WORK_EMAIL, Some("barbara@example.com".into()));
        apply_to_resource(&mut r, &changes);
        assert_eq!(r["displayName"], "Barbara J");
        assert_eq!(r["phoneNumbers"][0]["value"], "555-555-8377");
        assert_eq!(r["addresses"][0]["locality"], "Hollywood");
        assert_eq!(r["urn:example:extension:1.0:User"]["badge"], "42");
        assert_eq!(r[ENTERPRISE_SCHEMA]["employeeNumber"], "701984");
        let emails = r["emails"].as_array().expect("emails");
        assert!(
            emails.iter().any(|e| e["value"] == "bjensen@home.example"),
            "{emails:?}"
        );
        assert_eq!(to_user(&r).expect("user").email(), Some("barbara@example.com"));
    }

    #[test]
    fn a_patch_of_the_work_email_keeps_the_other_emails() {
        let mut changes = Changes::new();
        changes.insert(WORK_EMAIL, Some("barbara@example.com".into()));
        let patch = to_patch(&changes, Some(&sample()));
        let emails = patch["Operations"][0]["value"].as_array().expect("emails").clone();
        assert_eq!(patch["Operations"][0]["path"], "emails");
        assert!(
            emails.iter().any(|e| e["value"] == "bjensen@home.example"),
            "{emails:?}"
        );
        assert!(
            emails
                .iter()
                .any(|e| e["value"] == "barbara@example.com" && e["type"] == "work")
        );
        assert_eq!(emails.len(), 2);
    }
}
