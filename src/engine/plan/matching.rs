//! Rule 5 over the target users a new or renamed user matches (README, "How a sync works"):
//! internal users are never taken, users provisioned from elsewhere are not ours, and an
//! external user is adopted only by an address in one of the source's domains.

use super::index::Candidate;
use crate::engine::address;
use crate::engine::user::User;
use crate::engine::vocabulary::SkipReason;

/// An internal target user among `candidates` other than `itself`.
pub(super) fn internal_among<'a>(candidates: &[Candidate<'a>], itself: &User) -> Option<&'a User> {
    candidates
        .iter()
        .map(|c| c.user)
        .find(|c| c.id != itself.id && !c.is_external())
}

/// Rule 5 over every candidate one of whose addresses a new user's userName or email matches:
/// none → create; any internal one → never; one already provisioned → not ours; one external
/// → adopt, when allowed and matched by an address in one of the source's domains; several
/// external → ambiguous, nothing is taken.
pub(super) fn matching_candidate<'a>(
    candidates: &[Candidate<'a>],
    adopt_existing: bool,
    source_domains: &[String],
) -> Result<Option<&'a User>, (SkipReason, String)> {
    if let Some(internal) = candidates.iter().map(|c| c.user).find(|c| !c.is_external()) {
        let message = format!(
            "target user '{}' is an internal user of the target with the same userName or email; it is never adopted or changed",
            internal.label()
        );
        return Err((SkipReason::ConflictsWithInternalUser, message));
    }
    if let Some((provisioned, other)) = candidates.iter().find_map(|c| c.user.anchor().map(|a| (c.user, a))) {
        let message = format!(
            "target user '{}' is already provisioned from {other}",
            provisioned.label()
        );
        return Err((SkipReason::ConflictsWithProvisionedUser, message));
    }
    match candidates {
        [] => Ok(None),
        [one] if !adopt_existing => Err((
            SkipReason::AdoptionDisabled,
            format!(
                "external target user '{}' matches, and matching.adoptExisting is off",
                one.user.label()
            ),
        )),
        [one] if one.shared.iter().any(|a| address::in_domains(a, source_domains)) => Ok(Some(one.user)),
        [one] => Err((
            SkipReason::ConflictsWithForeignUser,
            foreign_message(one, source_domains),
        )),
        several => {
            let labels: Vec<&str> = several.iter().map(|c| c.user.label()).collect();
            let message = format!(
                "several external target users match ({}); none is adopted",
                labels.join(", ")
            );
            Err((SkipReason::AmbiguousMatch, message))
        }
    }
}

/// Why an external user matched by an address outside the source's domains is left alone.
fn foreign_message(candidate: &Candidate<'_>, source_domains: &[String]) -> String {
    let shared = candidate.shared.join(", ");
    let label = candidate.user.label();
    if source_domains.is_empty() {
        format!(
            "external target user '{label}' matches by {shared}, but the source tenant has no known domain (spec.domains, or a Graph tenant's verified domains), so no user is adopted from it"
        )
    } else {
        format!(
            "external target user '{label}' matches by {shared}, which is in none of the source tenant's domains ({}): it may be another tenant's guest, so it is not adopted",
            source_domains.join(", ")
        )
    }
}
