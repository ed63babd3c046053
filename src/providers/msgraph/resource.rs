//! Graph `user` resources ↔ the engine's provider-neutral users (README,
//! "Microsoft Graph (Entra) tenants": Graph names `userPrincipalName`, `givenName`, `surname`,
//! `mail`, `jobTitle`, `employeeId`, `accountEnabled`), the anchor attribute, and the `#EXT#` names
//! Entra gives invited users.

use serde::Deserialize;
use serde_json::{Map, Value, json};

pub use super::wire::GraphUser;
use crate::engine::attributes::WORK_EMAIL;
use crate::engine::plan::Changes;
use crate::engine::user::{Attributes, User};
use crate::providers::DirectoryError;
use crate::providers::directory::SourceRead;

/// The properties xtsync reads: every mappable one, and what tells external identities apart.
/// `onPremisesExtensionAttributes` and `creationType` are returned only when selected.
/// `otherMails` and `proxyAddresses` are read for matching only: an internal user is
/// recognised by any of its addresses.
pub const SELECT: &str = "id,userPrincipalName,displayName,givenName,surname,mail,jobTitle,department,employeeId,\
userType,accountEnabled,creationType,externalUserState,onPremisesExtensionAttributes,otherMails,proxyAddresses";

/// Where the manager's id is read from: `$expand=manager($select=id)`.
pub const EXPAND_MANAGER: &str = "manager($select=id)";

/// Graph property ↔ canonical attribute, for the plain string properties.
const STRING_PROPERTIES: [(&str, &str); 7] = [
    ("displayName", "displayName"),
    ("givenName", "name.givenName"),
    ("surname", "name.familyName"),
    ("mail", WORK_EMAIL),
    ("jobTitle", "title"),
    ("department", "department"),
    ("employeeId", "employeeNumber"),
];

/// One of `onPremisesExtensionAttributes.extensionAttribute1…15`: documented, writable on
/// cloud users (members and guests), filterable with an advanced query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnchorAttribute(u8);

impl AnchorAttribute {
    /// The default: the last of the fifteen, the one least likely to be in use already.
    pub const DEFAULT: AnchorAttribute = AnchorAttribute(15);

    /// The Tenant's `anchorAttribute`, or the default when it names none.
    pub fn of(configured: Option<&str>) -> Result<AnchorAttribute, String> {
        configured.map_or(Ok(AnchorAttribute::DEFAULT), AnchorAttribute::parse)
    }

    /// `extensionAttribute7` or `onPremisesExtensionAttributes/extensionAttribute7`.
    pub fn parse(text: &str) -> Result<AnchorAttribute, String> {
        let name = text
            .trim()
            .trim_start_matches("onPremisesExtensionAttributes/")
            .trim_start_matches("onPremisesExtensionAttributes.");
        name.strip_prefix("extensionAttribute")
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=15).contains(n))
            .map(AnchorAttribute)
            .ok_or_else(|| format!("anchorAttribute '{text}' is not one of extensionAttribute1 … extensionAttribute15"))
    }

    pub fn name(self) -> String {
        format!("extensionAttribute{}", self.0)
    }

    /// The OData path used in `$filter`.
    pub fn filter_path(self) -> String {
        format!("onPremisesExtensionAttributes/{}", self.name())
    }
}

/// `alice@contoso.com` invited into a tenant whose initial domain is `fabrikam.onmicrosoft.com`
/// is named `alice_contoso.com#EXT#@fabrikam.onmicrosoft.com` there.
pub fn external_upn(address: &str, initial_domain: &str) -> String {
    format!("{}#EXT#@{initial_domain}", address.replace('@', "_"))
}

/// The address an `#EXT#` name was made from (the last `_` was the `@`: domains have none);
/// other names as they are.
pub fn user_name_of(upn: &str) -> String {
    match upn.split_once("#EXT#") {
        Some((local, _)) => match local.rfind('_') {
            Some(at) => format!("{}@{}", &local[..at], &local[at + 1..]),
            None => local.to_owned(),
        },
        None => upn.to_owned(),
    }
}

/// A Graph user → an engine user. `None` without an id.
pub fn to_user(resource: &Value, anchor: AnchorAttribute) -> Option<User> {
    GraphUser::deserialize(resource).ok()?.into_user(anchor)
}

impl GraphUser {
    /// The engine's user; `None` without an id.
    pub fn into_user(mut self, anchor: AnchorAttribute) -> Option<User> {
        let id = self.id.take()?;
        let external = self
            .creation_type
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("Invitation"))
            || self.user_principal_name.as_deref().is_some_and(|u| u.contains("#EXT#"))
            || self.external_user_state.is_some();
        let mut attributes = Attributes::new();
        let mut put = |name: &'static str, value: Option<String>| {
            if let Some(v) = value {
                attributes.insert(name, v);
            }
        };
        put("userName", self.user_principal_name.as_deref().map(user_name_of));
        for (property, canonical) in STRING_PROPERTIES {
            put(canonical, self.take_string(property));
        }
        put("userType", self.user_type.take());
        put("active", self.account_enabled.map(|enabled| enabled.to_string()));
        let mut extensions = self.on_premises_extension_attributes.unwrap_or_default().0;
        put("externalId", extensions.remove(&anchor.0));
        // Users delta returns the manager as `manager@delta` (Microsoft Learn, "user: delta"),
        // whose entry may be `@removed`; `/users` as the `$expand`ed `manager`.
        let manager = match self.manager_delta {
            Some(current) => current,
            None => self.manager.and_then(|m| m.id),
        };
        put("manager", manager);
        let mut candidates = std::mem::take(&mut self.other_mails);
        candidates.extend(smtp_addresses(std::mem::take(&mut self.proxy_addresses)));
        candidates.extend(self.user_principal_name.take());
        let other_addresses = other_addresses(candidates, &attributes);
        Some(User {
            id,
            attributes: attributes.into(),
            external,
            other_addresses,
            ..User::default()
        })
    }
}

/// The SMTP entries of `proxyAddresses` (`SMTP:` primary, `smtp:` secondary), without their
/// prefix; X.400 and other kinds are no address a userName or email can equal.
fn smtp_addresses(proxy_addresses: Vec<String>) -> impl Iterator<Item = String> {
    proxy_addresses.into_iter().filter_map(|p| {
        p.split_once(':')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("smtp"))
            .map(|(_, address)| address.to_owned())
    })
}

/// The addresses of a user besides its userName and `mail` — `otherMails`, SMTP proxy
/// addresses and the `userPrincipalName` when the userName was made from an `#EXT#` name
/// (Microsoft Learn, "user resource type") — each once: matching recognises a user by any.
fn other_addresses(candidates: Vec<String>, attributes: &Attributes) -> Vec<String> {
    let known = [attributes.get("userName"), attributes.get(WORK_EMAIL)];
    let mut others: Vec<String> = Vec::new();
    for address in candidates {
        let address = address.trim();
        let seen = |a: &str| a.eq_ignore_ascii_case(address);
        if !address.is_empty() && !known.iter().flatten().any(|k| seen(k)) && !others.iter().any(|o| seen(o)) {
            others.push(address.to_owned());
        }
    }
    others
}

/// The items of a users delta round: users, and the ids of those reported `@removed`
/// (soft-deleted, reason `changed`, or gone for good, reason `deleted`).
pub fn delta_page(values: Vec<GraphUser>, anchor: AnchorAttribute) -> Result<SourceRead, DirectoryError> {
    let mut read = SourceRead::default();
    for value in values {
        if value.removed {
            read.removed.extend(value.id);
        } else {
            read.users.push(
                value
                    .into_user(anchor)
                    .ok_or_else(|| DirectoryError::InvalidResponse("a listed user has no id".into()))?,
            );
        }
    }
    Ok(read)
}

/// A user from `directory/deletedItems`: restorable, and inactive until restored.
pub fn to_deleted_user(resource: GraphUser, anchor: AnchorAttribute) -> Option<User> {
    let mut user = resource.into_user(anchor)?;
    user.attributes.insert("active", "false".into());
    user.deleted = true;
    Some(user)
}

/// The body of `PATCH /users/{id}` for `changes` (null clears). The manager is not a property
/// (it is set through `/manager/$ref`) and is left out; so is a userName without a domain to
/// name it in.
pub fn to_patch(changes: &Changes, anchor: AnchorAttribute, initial_domain: Option<&str>) -> Value {
    let mut body = Map::new();
    let mut extensions = Map::new();
    for (attribute, value) in changes {
        let value_json = value.clone().map_or(Value::Null, Value::String);
        match *attribute {
            "userName" => {
                if let (Some(name), Some(domain)) = (value, initial_domain) {
                    body.insert("userPrincipalName".into(), json!(external_upn(name, domain)));
                }
            }
            "active" => {
                body.insert(
                    "accountEnabled".into(),
                    json!(!value.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("false"))),
                );
            }
            "externalId" => {
                extensions.insert(anchor.name(), value_json);
            }
            "userType" => {
                if let Some(user_type) = value {
                    body.insert("userType".into(), json!(user_type));
                }
            }
            "manager" => {}
            other => {
                if let Some((property, _)) = STRING_PROPERTIES.iter().find(|(_, c)| *c == other) {
                    body.insert((*property).into(), value_json);
                }
            }
        }
    }
    if !extensions.is_empty() {
        body.insert("onPremisesExtensionAttributes".into(), Value::Object(extensions));
    }
    Value::Object(body)
}

/// The address an invitation goes to: the work email, else the userName.
pub fn invited_address(attributes: &Attributes) -> Option<&str> {
    attributes
        .get(WORK_EMAIL)
        .or_else(|| attributes.get("userName"))
        .map(String::as_str)
}

/// The body of `POST /invitations`: an external user of the configured type, no email sent
/// (cross-tenant sync redeems automatically).
pub fn invitation(attributes: &Attributes, redirect_url: &str) -> Option<Value> {
    let address = invited_address(attributes)?;
    let mut body = json!({
        "invitedUserEmailAddress": address,
        "inviteRedirectUrl": redirect_url,
        "invitedUserType": attributes.get("userType").map_or("Guest", String::as_str),
        "sendInvitationMessage": false,
    });
    if let Some(name) = attributes.get("displayName") {
        body["invitedUserDisplayName"] = json!(name);
    }
    Some(body)
}

/// What is left to set after the invitation created the user: everything the invitation did
/// not already set (display name, user type, the invited address as mail and name).
pub fn after_invitation(attributes: &Attributes) -> Changes {
    let address = invited_address(attributes).map(str::to_owned);
    attributes
        .iter()
        .filter(|(attribute, value)| match **attribute {
            "displayName" | "userType" => false,
            "userName" | WORK_EMAIL => Some(*value) != address.as_ref(),
            "active" => value.eq_ignore_ascii_case("false"),
            _ => true,
        })
        .map(|(attribute, value)| (*attribute, Some(value.clone())))
        .collect()
}

/// An OData string literal: single quotes doubled.
pub fn odata_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The user of Microsoft Learn's "Get user" example, plus the properties xtsync selects.
    fn documented_user() -> Value {
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
            "businessPhones": ["+1 425 555 0109"],
            "displayName": "Adele Vance",
            "givenName": "Adele",
            "jobTitle": "Retail Manager",
            "mail": "AdeleV@contoso.com",
            "officeLocation": "18/2111",
            "preferredLanguage": "en-US",
            "surname": "Vance",
            "userPrincipalName": "AdeleV@contoso.com",
            "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
            "accountEnabled": true,
            "userType": "Member",
            "creationType": null,
            "externalUserState": null,
            "onPremisesExtensionAttributes": { "extensionAttribute1": null, "extensionAttribute15": null },
            "manager": { "@odata.type": "#microsoft.graph.user", "id": "5bde3e51-d13b-4db1-9948-fe4b109d11a7" }
        })
    }

    fn typed(user: &Value) -> GraphUser {
        GraphUser::deserialize(user).expect("a user")
    }

    #[test]
    fn other_mails_smtp_proxy_addresses_and_an_ext_upn_are_addresses() {
        let mut resource = documented_user();
        resource["otherMails"] = json!(["adele@home.example", "AdeleV@contoso.com"]);
        resource["proxyAddresses"] = json!([
            "SMTP:AdeleV@contoso.com",
            "smtp:adele.vance@contoso.com",
            "X500:/o=ExchangeLabs/ou=Exchange"
        ]);
        let user = to_user(&resource, AnchorAttribute::DEFAULT).expect("user");
        assert_eq!(user.other_addresses, ["adele@home.example", "adele.vance@contoso.com"]);

        let guest = json!({ "id": "g", "userPrincipalName": "bob_litware.com#EXT#@contoso.onmicrosoft.com" });
        let guest = to_user(&guest, AnchorAttribute::DEFAULT).expect("user");
        assert_eq!(guest.user_name(), "bob@litware.com");
        assert_eq!(guest.other_addresses, ["bob_litware.com#EXT#@contoso.onmicrosoft.com"]);
    }

    #[test]
    fn a_delta_item_names_its_manager_in_manager_at_delta() {
        // README, "Safety": users delta returns an expanded manager as an array `manager@delta`
        // (Microsoft Learn, "user: delta"), not as `manager`.
        let mut item = documented_user();
        item.as_object_mut().expect("object").remove("manager");
        item["manager@delta"] =
            json!([{ "@odata.type": "#microsoft.graph.user", "id": "5bde3e51-d13b-4db1-9948-fe4b109d11a7" }]);
        let read = delta_page(vec![typed(&item)], AnchorAttribute::DEFAULT).expect("page");
        assert_eq!(
            read.users[0].get("manager"),
            Some("5bde3e51-d13b-4db1-9948-fe4b109d11a7")
        );
        item["manager@delta"] =
            json!([{ "id": "5bde3e51-d13b-4db1-9948-fe4b109d11a7", "@removed": { "reason": "deleted" } }]);
        let read = delta_page(vec![typed(&item)], AnchorAttribute::DEFAULT).expect("page");
        assert_eq!(read.users[0].get("manager"), None, "a removed manager is no manager");
    }

    #[test]
    fn a_documented_member_maps_to_canonical_attributes() {
        let user = to_user(&documented_user(), AnchorAttribute::DEFAULT).expect("user");
        assert_eq!(user.id, "87d349ed-44d7-43e1-9a83-5f2406dee5bd");
        assert_eq!(user.get("userName"), Some("AdeleV@contoso.com"));
        assert_eq!(user.get("name.givenName"), Some("Adele"));
        assert_eq!(user.get("name.familyName"), Some("Vance"));
        assert_eq!(user.email(), Some("AdeleV@contoso.com"));
        assert_eq!(user.get("title"), Some("Retail Manager"));
        assert_eq!(user.get("active"), Some("true"));
        assert_eq!(user.get("manager"), Some("5bde3e51-d13b-4db1-9948-fe4b109d11a7"));
        assert_eq!(user.get("externalId"), None);
        assert!(!user.is_external());
    }

    #[test]
    fn invited_users_are_external_whatever_their_user_type() {
        let mut invited = documented_user();
        invited["userPrincipalName"] = json!("adelev_contoso.com#EXT#@fabrikam.onmicrosoft.com");
        invited["creationType"] = json!("Invitation");
        invited["externalUserState"] = json!("Accepted");
        invited["onPremisesExtensionAttributes"]["extensionAttribute15"] =
            json!("72f988bf-86f1-41af-91ab-2d7cd011db47/87d349ed");
        let user = to_user(&invited, AnchorAttribute::DEFAULT).expect("user");
        assert!(user.is_external(), "a Member by type, but invited");
        assert_eq!(user.get("userName"), Some("adelev@contoso.com"));
        assert_eq!(user.anchor().map(|a| a.user_id), Some("87d349ed".to_owned()));
        let deleted = to_deleted_user(typed(&invited), AnchorAttribute::DEFAULT).expect("user");
        assert!(deleted.deleted && !deleted.active());
    }

    #[test]
    fn a_documented_delta_page_has_users_and_removals() {
        // Shaped like Microsoft Learn's "user: delta" response examples.
        let page = json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(displayName,givenName,surname)",
            "@odata.deltaLink": "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=oEcOySpF_hWYmTIUZBOIfPzcwisr_rPe8o9M54L45qEXQGmvQC6T2dbL-9O7nhU-04JGYE",
            "value": [
                { "displayName": "Alex Wilber", "givenName": "Alex", "surname": "Wilber",
                  "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "userPrincipalName": "AlexW@contoso.com" },
                { "id": "60424bc8-5ad9-4e58-a9ef-d4a36e6ef9c7", "@removed": { "reason": "changed" } },
                { "id": "9f2ad1d4-6ce1-46a4-9d02-30cd14d0ad04", "@removed": { "reason": "deleted" } }
            ]
        });
        use crate::providers::msgraph::collection::Item;
        let values = GraphUser::page(page.to_string().as_bytes(), 999)
            .expect("a page")
            .values;
        let read = delta_page(values, AnchorAttribute::DEFAULT).expect("parses");
        assert_eq!(read.users.len(), 1);
        assert_eq!(read.users[0].get("name.familyName"), Some("Wilber"));
        assert_eq!(
            read.removed,
            [
                "60424bc8-5ad9-4e58-a9ef-d4a36e6ef9c7",
                "9f2ad1d4-6ce1-46a4-9d02-30cd14d0ad04"
            ]
        );
    }

    #[test]
    fn external_names_round_trip() {
        let upn = external_upn("first_last@sub.contoso.com", "fabrikam.onmicrosoft.com");
        assert_eq!(upn, "first_last_sub.contoso.com#EXT#@fabrikam.onmicrosoft.com");
        assert_eq!(user_name_of(&upn), "first_last@sub.contoso.com");
        assert_eq!(user_name_of("bob@contoso.com"), "bob@contoso.com");
    }

    #[test]
    fn anchor_attribute_names() {
        assert_eq!(AnchorAttribute::parse("extensionAttribute3"), Ok(AnchorAttribute(3)));
        assert_eq!(
            AnchorAttribute::parse("onPremisesExtensionAttributes/extensionAttribute15"),
            Ok(AnchorAttribute::DEFAULT)
        );
        assert!(AnchorAttribute::parse("extensionAttribute16").is_err());
        assert!(AnchorAttribute::parse("employeeId").is_err());
        assert_eq!(
            AnchorAttribute::DEFAULT.filter_path(),
            "onPremisesExtensionAttributes/extensionAttribute15"
        );
    }

    #[test]
    fn patches_carry_only_the_changes_in_graph_names() {
        let mut changes = Changes::new();
        changes.insert("title", Some("Dev".into()));
        changes.insert("department", None);
        changes.insert("active", Some("false".into()));
        changes.insert("externalId", Some("t/1".into()));
        changes.insert("userName", Some("bob@contoso.com".into()));
        changes.insert("manager", Some("m".into()));
        let body = to_patch(&changes, AnchorAttribute(2), Some("fabrikam.onmicrosoft.com"));
        assert_eq!(
            body,
            json!({
                "jobTitle": "Dev",
                "department": null,
                "accountEnabled": false,
                "userPrincipalName": "bob_contoso.com#EXT#@fabrikam.onmicrosoft.com",
                "onPremisesExtensionAttributes": { "extensionAttribute2": "t/1" }
            })
        );
    }

    #[test]
    fn invitations_and_what_follows_them() {
        let attributes: Attributes = [
            ("userName", "alice@contoso.com"),
            (WORK_EMAIL, "alice.smith@contoso.com"),
            ("displayName", "Alice"),
            ("userType", "Member"),
            ("active", "true"),
            ("title", "Dev"),
            ("externalId", "t/1"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect();
        let body = invitation(&attributes, "https://myapps.microsoft.com").expect("invitation");
        assert_eq!(
            body,
            json!({
                "invitedUserEmailAddress": "alice.smith@contoso.com",
                "inviteRedirectUrl": "https://myapps.microsoft.com",
                "invitedUserType": "Member",
                "sendInvitationMessage": false,
                "invitedUserDisplayName": "Alice"
            })
        );
        let rest: Vec<&str> = after_invitation(&attributes).keys().copied().collect();
        assert_eq!(rest, ["externalId", "title", "userName"]);
        assert_eq!(odata_literal("O'Neil"), "'O''Neil'");
    }
}
