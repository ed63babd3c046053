//! The read half of a cycle: who is assigned, and — for incremental cycles and provisioning
//! on demand — the few target users that matter to the changed source users.

use std::collections::HashSet;

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
        let provisioned = users
            .iter()
            .find(|t| t.anchored_from(input.source_tenant_id) == Some(user.id.as_str()));
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

/// What `anchored_and_matching` found.
pub enum TargetUsers {
    /// The users anchored by this source and those the in-scope users match.
    Found(Vec<User>),
    /// The target cannot be searched by anchor (or the search failed): read it whole.
    NotSearchable,
}

/// For an Initial cycle from a shared source read with few users in scope: every target user
/// anchored by this source — what `engine::plan` deprovisions from, so it comes from a listing as
/// complete as a full read — and those the in-scope users match (`matching_target_users`). A
/// look-up that finds a user anchored by this source whom the listing left out shows the listing
/// is not complete (a server whose `sw` answers less than it should): the target is then read
/// whole, so that neither a creation nor a deprovisioning rests on it.
pub async fn anchored_and_matching(
    target: &dyn TargetDirectory,
    in_scope: &[User],
    input: &CycleInput<'_>,
) -> Result<TargetUsers, DirectoryError> {
    let mut users = match target.users_anchored_by(input.source_tenant_id).await {
        Ok(Some(users)) => users,
        Ok(None) => return Ok(TargetUsers::NotSearchable),
        Err(error) => {
            tracing::warn!(%error, "the target users anchored by this source could not be listed; the target is read whole");
            return Ok(TargetUsers::NotSearchable);
        }
    };
    let mut ids: HashSet<String> = users.iter().map(|u| u.id.clone()).collect();
    for user in matching_target_users(target, in_scope, input).await? {
        if !ids.insert(user.id.clone()) {
            continue;
        }
        if user.anchored_from(input.source_tenant_id).is_some() {
            tracing::warn!(
                user = user.label(),
                "the target's listing of the users anchored by this source left this one out; the target is read whole"
            );
            return Ok(TargetUsers::NotSearchable);
        }
        users.push(user);
    }
    Ok(TargetUsers::Found(users))
}

/// A look-up's answer, with the `(attribute, value)` it asked for.
type Answered<'a> = (Result<Vec<User>, DirectoryError>, &'a (&'static str, String));

/// The target users each `(attribute, value)` finds, `concurrency` look-ups at a time, each
/// user once. Of each answer only the users the value names are kept (`named_by`): a server that
/// ignores the filter and answers its whole directory costs the look-ups in flight, not a copy
/// of the directory per look-up.
async fn look_up(
    target: &dyn TargetDirectory,
    lookups: &[(&'static str, String)],
) -> Result<Vec<User>, DirectoryError> {
    let requests: Vec<BoxFuture<'_, Answered<'_>>> = lookups
        .iter()
        .map(|lookup| {
            target
                .find_users(lookup.0, &lookup.1)
                .map(move |found| (found, lookup))
                .boxed()
        })
        .collect();
    let mut answers = futures::stream::iter(requests).buffer_unordered(target.concurrency());
    let mut users: Vec<User> = Vec::new();
    let mut ids = HashSet::new();
    while let Some((found, (attribute, value))) = answers.next().await {
        for user in found? {
            if named_by(&user, attribute, value) && ids.insert(user.id.clone()) {
                users.push(user);
            }
        }
    }
    Ok(users)
}

/// The look-up of `attribute` = `value` may find `user`: it carries the value as its anchor, or
/// one of its addresses equals it in compared form — as
/// the plan's target index finds candidates (`engine::plan::index`), so nothing left out here
/// could have been one.
fn named_by(user: &User, attribute: &str, value: &str) -> bool {
    if attribute == "externalId" {
        return user.carries_anchor(value);
    }
    let wanted = address::normalized(value);
    user.every_address().any(|a| address::normalized(a) == wanted)
}
