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
/// (adoption and conflicts). A few look-ups per changed user instead of a full read — and only
/// one for a user already provisioned whose userName and email stay as they are: rule 5 compares
/// a user with the target's other users only when it is created, adopted or renamed
/// (`engine::plan`), so its anchor is all the plan needs of the target.
pub async fn matching_target_users(
    target: &dyn TargetDirectory,
    changed: &[User],
    input: &CycleInput<'_>,
) -> Result<Vec<User>, DirectoryError> {
    let anchors: Vec<(&'static str, String)> = changed
        .iter()
        .map(|user| ("externalId", Anchor::new(input.source_tenant_id, &user.id).to_string()))
        .collect();
    let mut users = look_up(target, &anchors).await?;
    let mut lookups: Vec<(&'static str, String)> = Vec::new();
    for user in changed.iter().filter(|user| !user.deleted) {
        let anchor = Anchor::new(input.source_tenant_id, &user.id);
        let provisioned = users.iter().find(|t| {
            t.get("externalId")
                .and_then(Anchor::split)
                .is_some_and(|(tenant, source_id)| {
                    tenant.eq_ignore_ascii_case(input.source_tenant_id) && source_id == user.id
                })
        });
        let rules = input.rules;
        let creating = provisioned.is_none();
        let Ok(desired) = mapping::desired(&rules.mappings, user, &anchor, rules.user_type, creating) else {
            continue;
        };
        let keeps_addresses = provisioned.is_some_and(|existing| {
            ["userName", WORK_EMAIL]
                .iter()
                .all(|k| desired.get(k).is_none_or(|want| existing.get(k) == Some(want.as_str())))
        });
        if keeps_addresses {
            continue;
        }
        // Rule 5 compares the desired userName and email with every address of the target's
        // users: each value is looked up both ways (the email lookup finds every email, and
        // Graph's other addresses). A server's `eq` may compare case or Unicode forms exactly:
        // the value is looked up in each form `lookup_forms` lists, and the plan compares what
        // comes back in compared form.
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
    for user in look_up(target, &lookups).await? {
        if !users.iter().any(|u| u.id == user.id) {
            users.push(user);
        }
    }
    Ok(users)
}

/// The target users each `(attribute, value)` finds, `concurrency` look-ups at a time, each
/// user once.
async fn look_up(
    target: &dyn TargetDirectory,
    lookups: &[(&'static str, String)],
) -> Result<Vec<User>, DirectoryError> {
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
