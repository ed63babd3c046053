//! The read half of a cycle: who is assigned, and — for incremental cycles and provisioning
//! on demand — the few target users that matter to the changed source users.

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};

use super::CycleInput;
use super::report::CycleError;
use crate::engine::address;
use crate::engine::anchor::Anchor;
use crate::engine::attributes::WORK_EMAIL;
use crate::engine::mapping;
use crate::engine::scope::Assignments;
use crate::engine::user::User;
use crate::engine::vocabulary::Membership;
use crate::providers::directory::{DirectoryError, SourceDirectory, TargetDirectory};

/// Who is assigned: the listed users and the members of the listed groups.
pub async fn assignments(source: &dyn SourceDirectory, input: &CycleInput<'_>) -> Result<Assignments, CycleError> {
    let scope = &input.rules.scope;
    // With `Transitive` group provisioning, members of nested groups are members too: a
    // target group cannot hold a user who is not provisioned.
    let transitive = input
        .rules
        .groups
        .as_ref()
        .is_some_and(|g| g.membership == Membership::Transitive);
    let group_members = if scope.groups.is_empty() {
        Ok(Default::default())
    } else if transitive {
        source.transitive_group_members(&scope.groups).await
    } else {
        source.group_members(&scope.groups).await
    }
    .map_err(CycleError::SourceRead)?;
    Ok(Assignments::new(&scope.users, group_members))
}

/// The source tenant's domains, compared form: its `spec.domains` and those its directory
/// verified (only asked when adoption is on). A directory that cannot answer leaves the spec's:
/// fewer users are adopted, none wrongly.
pub async fn source_domains(source: &dyn SourceDirectory, input: &CycleInput<'_>) -> Vec<String> {
    if !input.rules.adopt_existing {
        return input.source_domains.to_vec();
    }
    match source.verified_domains().await {
        Ok(verified) => address::domains(input.source_domains.iter().chain(verified.iter()).map(String::as_str)),
        Err(error) => {
            tracing::warn!(%error, "the source's verified domains could not be read; only spec.domains are the source's");
            input.source_domains.to_vec()
        }
    }
}

/// For an incremental cycle (or one user on demand), the target users that may matter to the
/// changed source users: those anchored to them, and those their userName or email would match
/// (adoption and conflicts). A few lookups per changed user instead of a full read.
pub async fn matching_target_users(
    target: &dyn TargetDirectory,
    changed: &[User],
    input: &CycleInput<'_>,
) -> Result<Vec<User>, DirectoryError> {
    let mut lookups: Vec<(&'static str, String)> = Vec::new();
    for user in changed {
        let anchor = Anchor::new(input.source_tenant_id, &user.id);
        lookups.push(("externalId", anchor.to_string()));
        if user.deleted {
            continue;
        }
        // Rule 5 compares the desired userName and email with every address of the target's
        // users: each value is looked up both ways (the email lookup finds every email, and
        // Graph's other addresses). A server's `eq` may compare case or Unicode forms exactly:
        // the value is looked up in each form `lookup_forms` lists, and the plan compares what
        // comes back in compared form.
        if let Ok(desired) = mapping::desired(&input.rules.mappings, user, &anchor, input.rules.user_type, true) {
            for value in ["userName", WORK_EMAIL].iter().filter_map(|k| desired.get(k)) {
                for form in address::lookup_forms(value) {
                    for attribute in ["userName", WORK_EMAIL] {
                        if !lookups.iter().any(|(a, v)| *a == attribute && *v == form) {
                            lookups.push((attribute, form.clone()));
                        }
                    }
                }
            }
        }
    }
    let requests: Vec<BoxFuture<'_, Result<Vec<User>, DirectoryError>>> = lookups
        .iter()
        .map(|(attribute, value)| target.find_users(attribute, value).boxed())
        .collect();
    let found: Vec<_> = futures::stream::iter(requests)
        .buffer_unordered(target.concurrency())
        .collect()
        .await;
    let mut users: Vec<User> = Vec::new();
    for result in found {
        for user in result? {
            if !users.iter().any(|u| u.id == user.id) {
                users.push(user);
            }
        }
    }
    Ok(users)
}
