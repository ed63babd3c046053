//! The member entries of a SCIM Group (RFC 7643 §4.2): what each names, and whether it is a
//! group or a user.

use serde_json::Value;

use crate::providers::DirectoryError;

/// The member entries of a group read as assigned (`named` in words): a group answered without
/// `members` cannot be told from one that could not be read, and fails the read.
pub(super) fn member_entries(group: &Value, named: &str) -> Result<Vec<Value>, DirectoryError> {
    match group.get("members").and_then(Value::as_array) {
        Some(members) => Ok(members.clone()),
        None => Err(DirectoryError::InvalidResponse(format!(
            "group '{named}' was answered without its members"
        ))),
    }
}

/// The id a member entry names (its `value`).
pub(super) fn member_id(entry: &Value) -> Option<&str> {
    entry.get("value").and_then(Value::as_str)
}

/// What a member entry says it is: a group or a user, by its `type` (RFC 7643 §4.2: "User" or
/// "Group"), else by its `$ref` (the URI of the resource, ".../Groups/{id}"); `None` when it
/// says neither, as many servers send only `value`.
pub(super) fn member_is_group(entry: &Value) -> Option<bool> {
    if let Some(kind) = entry.get("type").and_then(Value::as_str) {
        return Some(kind.eq_ignore_ascii_case("Group"));
    }
    let reference = entry.get("$ref").and_then(Value::as_str)?;
    let lower = reference.to_ascii_lowercase();
    if lower.contains("/groups/") {
        Some(true)
    } else {
        lower.contains("/users/").then_some(false)
    }
}
