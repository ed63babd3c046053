//! A user as the engine sees it: provider-neutral attribute names (see `attributes`) mapped to
//! values. Booleans are "true"/"false", absent means null. Providers convert to and from this.

use std::collections::BTreeMap;

use super::anchor::Anchor;
use super::packed::PackedAttributes;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct User {
    /// The directory's immutable id of the user.
    pub id: String,
    /// Canonical attribute name → value, packed: a cycle holds a whole directory of these.
    pub attributes: PackedAttributes,
    /// The directory's version of the resource (SCIM ETag), for conditional writes.
    pub version: Option<String>,
    /// When the directory last changed the user (RFC 3339), for incremental reads.
    pub modified: Option<String>,
    /// The directory itself says the user is an external identity (Graph: `creationType`
    /// Invitation, a `#EXT#` userPrincipalName), whatever its userType.
    pub external: bool,
    /// Soft-deleted and restorable (Graph: in deleted items). Reported inactive.
    pub deleted: bool,
    /// Every other address the directory holds for the user, as it holds them: emails of any
    /// type besides the work email (SCIM), `otherMails`, `proxyAddresses` and a
    /// `userPrincipalName` that differs from the userName (Graph). Only matching reads them
    /// (rule 5: an internal user is recognised by any of its addresses); never written.
    pub other_addresses: Vec<String>,
}

/// Attributes being built or compared: what a mapping makes, what a directory is sent.
pub type Attributes = BTreeMap<&'static str, String>;

impl User {
    pub fn get(&self, attribute: &str) -> Option<&str> {
        self.attributes.get(attribute)
    }

    pub fn user_name(&self) -> &str {
        self.get("userName").unwrap_or_default()
    }

    /// Users are active unless a directory says otherwise.
    pub fn active(&self) -> bool {
        !self.get("active").is_some_and(|a| a.eq_ignore_ascii_case("false"))
    }

    pub fn email(&self) -> Option<&str> {
        self.get(super::attributes::WORK_EMAIL)
    }

    /// The userName, the work email and every other address, as the directory holds them.
    pub fn every_address(&self) -> impl Iterator<Item = &str> {
        [self.get("userName"), self.email()]
            .into_iter()
            .flatten()
            .chain(self.other_addresses.iter().map(String::as_str))
    }

    pub fn anchor(&self) -> Option<Anchor> {
        self.get("externalId").and_then(Anchor::parse)
    }

    /// The source user id its anchor names, when the anchor names source tenant `tenant_id`
    /// (the tenant id compared without regard to case, as every anchor is: rule 4).
    pub fn anchored_from(&self, tenant_id: &str) -> Option<&str> {
        let (tenant, source_id) = self.get("externalId").and_then(Anchor::split)?;
        tenant.eq_ignore_ascii_case(tenant_id).then_some(source_id)
    }

    /// It carries `anchor` as its externalId (without regard to case, which only widens it).
    pub fn carries_anchor(&self, anchor: &str) -> bool {
        self.get("externalId").is_some_and(|a| a.eq_ignore_ascii_case(anchor))
    }

    /// External to its own directory (docs/architecture.md, rule 3): a guest, or a user that
    /// carries an anchor — i.e. was provisioned into this directory from another tenant.
    pub fn is_external(&self) -> bool {
        self.external
            || self.get("userType").is_some_and(|t| t.eq_ignore_ascii_case("Guest"))
            || self.anchor().is_some()
    }

    /// How people recognise the user in status and logs.
    pub fn label(&self) -> &str {
        let name = self.user_name();
        if name.is_empty() { &self.id } else { name }
    }
}

#[cfg(test)]
pub fn user(id: &str, attributes: &[(&'static str, &str)]) -> User {
    User {
        id: id.to_owned(),
        attributes: attributes.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        ..User::default()
    }
}
