//! What an invitation answered with (docs/architecture.md, rule 5). `POST /invitations` of an
//! address the tenant already knows answers with that existing user (Microsoft Learn,
//! "Create invitation"), and the PATCH that follows would then rewrite it. So the invited user is
//! read first, and only a user this configuration may write is changed: an external user that
//! carries no anchor yet (a new invitee) or this very source user's anchor (a creation whose PATCH
//! failed).

use crate::engine::user::{Attributes, User};
use crate::engine::vocabulary::SkipReason;
use crate::providers::DirectoryError;

/// Whether the invited user may be given the attributes `desired` (which carry the anchor).
pub fn may_write(invited: &User, desired: &Attributes) -> Result<(), DirectoryError> {
    let desired_anchor = desired.get("externalId").map(String::as_str);
    let refused = |reason, why: String| {
        Err(DirectoryError::Refused {
            reason,
            detail: format!(
                "the invitation answered with the existing user {} ({why}); it was not changed",
                invited.label()
            ),
        })
    };
    match invited.get("externalId") {
        Some(anchor) if Some(anchor) == desired_anchor => Ok(()),
        Some(anchor) => refused(
            SkipReason::ConflictsWithProvisionedUser,
            format!("provisioned from {anchor}"),
        ),
        None if !invited.is_external() => refused(SkipReason::ConflictsWithInternalUser, "an internal user".into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::user::user;

    fn desired() -> Attributes {
        [("externalId", "t1/u1".to_owned())].into_iter().collect()
    }

    fn reason(result: Result<(), DirectoryError>) -> &'static str {
        result.err().map_or("written", |e| e.reason())
    }

    #[test]
    fn only_a_new_invitee_or_this_source_users_own_user_is_written() {
        let mut invitee = user("x", &[("userName", "alice@contoso.com")]);
        invitee.external = true;
        assert_eq!(reason(may_write(&invitee, &desired())), "written");
        let ours = user("x", &[("externalId", "t1/u1")]);
        assert_eq!(reason(may_write(&ours, &desired())), "written");
        let theirs = user("x", &[("externalId", "t2/u9")]);
        assert_eq!(reason(may_write(&theirs, &desired())), "ConflictsWithProvisionedUser");
        let internal = user("x", &[("userName", "alice@fabrikam.com"), ("userType", "Member")]);
        assert_eq!(reason(may_write(&internal, &desired())), "ConflictsWithInternalUser");
    }
}
