//! The provider-neutral user attributes that filters and mappings may name (README,
//! "How a sync works"), written as SCIM paths. Providers translate them to their own names.

/// The work email, in SCIM path syntax.
pub const WORK_EMAIL: &str = r#"emails[type eq "work"].value"#;

/// Canonical attribute names.
pub const KNOWN: [&str; 12] = [
    "userName",
    "displayName",
    "name.givenName",
    "name.familyName",
    WORK_EMAIL,
    "title",
    "department",
    "employeeNumber",
    "manager",
    "userType",
    "active",
    "externalId",
];

/// Short spellings people write, as in Entra's mapping editor (`[givenName]`, `email`).
const ALIASES: [(&str, &str); 5] = [
    ("email", WORK_EMAIL),
    ("mail", WORK_EMAIL),
    ("givenName", "name.givenName"),
    ("familyName", "name.familyName"),
    ("surname", "name.familyName"),
];

/// The canonical name of an attribute, or `None` when xtsync does not know it. SCIM attribute
/// names are case-insensitive (RFC 7643 §2.1), so is this.
pub fn canonical(name: &str) -> Option<&'static str> {
    let name = name.trim();
    let squeezed: String = name.split_whitespace().collect::<Vec<_>>().join(" ");
    KNOWN
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(&squeezed))
        .or_else(|| {
            ALIASES
                .iter()
                .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
                .map(|(_, c)| *c)
        })
}

/// A message listing what is accepted, for `InvalidSpec`.
pub fn unknown_message(name: &str) -> String {
    format!(
        "unknown attribute '{name}' (known: {}; short forms: email, givenName, familyName)",
        KNOWN.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names_aliases_and_case() {
        assert_eq!(canonical("department"), Some("department"));
        assert_eq!(canonical("Department"), Some("department"));
        assert_eq!(canonical("email"), Some(WORK_EMAIL));
        assert_eq!(canonical(r#"emails[type eq "work"].value"#), Some(WORK_EMAIL));
        assert_eq!(canonical("givenName"), Some("name.givenName"));
        assert_eq!(canonical("departmnet"), None);
    }
}
