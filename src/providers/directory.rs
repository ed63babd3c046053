//! The two roles a directory plays in a cycle (docs/architecture.md, "The floors"): read as a
//! source (`SourceDirectory`) and written as a target (`TargetDirectory`). A provider
//! implements the roles it can; the cycle asks for the one it needs, and never knows which
//! provider (SCIM, Microsoft Graph, the in-memory directory of the tests) answers.

use std::collections::HashSet;

use async_trait::async_trait;
use futures::future::BoxFuture;

use crate::engine::groups::{GroupChange, TargetGroup};
use crate::engine::plan::{Changes, TargetRef};
use crate::engine::user::{Attributes, User};
use crate::engine::vocabulary::DeprovisionAction;
use crate::engine::vocabulary::SkipReason;

/// What both roles share: how many requests a client of the directory sends at once.
pub trait InFlightLimit: Send + Sync {
    /// Requests this client sends at once: its directory's budget (the Tenant's
    /// `maxConcurrency`), shared with every other client of that directory.
    fn concurrency(&self) -> usize {
        super::budget::DEFAULT_CONCURRENCY
    }
}

/// A directory read as the source of a configuration: its users and changes, one user by
/// name or id, the evidence a deprovisioning waits for, and the groups of `scope.groups`.
#[async_trait]
pub trait SourceDirectory: InFlightLimit {
    /// Reads the source: every user (`since` is `None`), or the users changed since a watermark
    /// this method returned earlier. The answer carries the next watermark.
    async fn read_source(&self, since: Option<&str>) -> Result<SourceRead, DirectoryError>;

    /// Reads every source user, sending each page to `pages` as soon as it is read, so that the
    /// cycle applies one page while the next is read (docs/architecture.md,
    /// "One cycle, step by step"). Returns the watermark the next incremental read starts from. An
    /// error means the read is incomplete: pages sent may be created and updated from, but nothing
    /// may be deleted. By default one page.
    async fn read_source_pages(&self, pages: &PageSink) -> Result<Option<String>, DirectoryError> {
        let read = self.read_source(None).await?;
        pages.send(with_removed(read.users, &read.removed)).await?;
        Ok(read.watermark)
    }

    /// The one user `who` names, without listing the directory (rule 11): the user whose
    /// userName is `who` (compared without regard to case), else the user whose id is `who`
    /// (a direct read). `None` when neither exists.
    async fn find_user(&self, who: &str) -> Result<Option<User>, DirectoryError>;

    /// Of these users, which are gone: a direct read of each (SCIM `GET /Users/{id}`, Graph
    /// `GET /users/{id}`) answered 404. A user a listing did not show is deprovisioned only on
    /// this evidence (rule 8): offset paging can miss users and still look complete.
    async fn confirm_gone(&self, ids: &[String]) -> Result<HashSet<String>, DirectoryError>;

    /// These users as a direct read of each finds them (SCIM `GET /Users/{id}`, Graph
    /// `GET /users/{id}`); a user the directory answers 404 for is left out. Any other failure
    /// fails the whole read.
    async fn read_users(&self, ids: &[String]) -> Result<Vec<User>, DirectoryError>;

    /// The domains the directory itself has verified as its own (Graph: `GET /domains`); an
    /// address in one of them belongs to one of its users. A directory without that notion
    /// (SCIM) verifies none: then only the Tenant's `spec.domains` say whose an address is.
    async fn verified_domains(&self) -> Result<Vec<String>, DirectoryError> {
        Ok(Vec::new())
    }

    /// Ids of the members of the named groups (by displayName, or by id).
    async fn group_members(&self, groups: &[String]) -> Result<HashSet<String>, DirectoryError>;

    /// `group_members`, with the members of the groups nested in them, at any depth (for
    /// `groupProvisioning.membership: Transitive`). By default `group_members`: Graph reads
    /// `transitiveMembers` for both.
    async fn transitive_group_members(&self, groups: &[String]) -> Result<HashSet<String>, DirectoryError> {
        self.group_members(groups).await
    }

    /// Reads the source's groups, with their direct members: all of them (`since` is `None`),
    /// or those changed since a watermark this method returned earlier. Directories that
    /// cannot tell read all.
    async fn read_groups(&self, since: Option<&str>) -> Result<GroupRead, DirectoryError>;
}

/// A directory written as the target of a configuration: its users indexed and looked up,
/// created, updated and deprovisioned; its groups listed and changed.
#[async_trait]
pub trait TargetDirectory: InFlightLimit {
    /// Every user, all pages. An error means the read is incomplete: nothing may be deleted.
    async fn list_users(&self) -> Result<Vec<User>, DirectoryError>;

    /// Users whose `attribute` (`externalId`, `userName` or the work email) equals `value`.
    async fn find_users(&self, attribute: &str, value: &str) -> Result<Vec<User>, DirectoryError>;

    /// Every user whose anchor names source tenant `tenant_id` as xtsync writes it
    /// (`externalId` starting with `<lower-case tenant id>/`, docs/architecture.md, rule 4), all
    /// pages, as complete as `list_users`; `None` when the directory cannot be asked that way
    /// (then a cycle that needs them reads every user).
    async fn users_anchored_by(&self, tenant_id: &str) -> Result<Option<Vec<User>>, DirectoryError> {
        let _ = tenant_id;
        Ok(None)
    }

    /// Creates users; one result (the new id) per input, in order. Providers may batch.
    async fn create_users(&self, users: &[Attributes]) -> Vec<Result<String, DirectoryError>>;

    /// Changes only the given attributes, conditionally on the version when the directory
    /// supports it.
    async fn update_user(&self, target: &TargetRef, changes: &Changes) -> Result<(), DirectoryError>;

    /// Disables or soft-deletes a user.
    async fn deprovision_user(&self, target: &TargetRef, action: DeprovisionAction) -> Result<(), DirectoryError>;

    /// Updates many users; one result per input, in order. By default `update_user` with
    /// `concurrency()` in flight; providers that batch do better.
    async fn update_users(&self, updates: &[(TargetRef, Changes)]) -> Vec<Result<(), DirectoryError>> {
        let requests: Vec<BoxFuture<'_, Result<(), DirectoryError>>> = updates
            .iter()
            .map(|(target, changes)| self.update_user(target, changes))
            .collect();
        in_input_order(requests, self.concurrency()).await
    }

    /// Deprovisions many users; one result per input, in order (see `update_users`).
    async fn deprovision_users(
        &self,
        targets: &[TargetRef],
        action: DeprovisionAction,
    ) -> Vec<Result<(), DirectoryError>> {
        let requests: Vec<BoxFuture<'_, Result<(), DirectoryError>>> = targets
            .iter()
            .map(|target| self.deprovision_user(target, action))
            .collect();
        in_input_order(requests, self.concurrency()).await
    }

    /// Every group, with its direct members (users and groups, by id) and, on groups xtsync
    /// provisioned, the anchor (`external_id`). An error means the read is incomplete: no
    /// group may be deprovisioned and no member removed.
    async fn list_groups(&self) -> Result<Vec<TargetGroup>, DirectoryError>;

    /// Makes changes to groups; one result per input, in order: `Ok(Some(id))` for a created
    /// group. A provider without batching sends them one by one (`one_group_change_at_a_time`).
    async fn apply_group_changes(&self, changes: &[GroupChange]) -> Vec<Result<Option<String>, DirectoryError>>;

    /// Groups of this directory have a `description` (Graph); SCIM's core schema has none.
    fn holds_group_description(&self) -> bool {
        false
    }
}

/// `apply_group_changes` for a directory that takes one group change per request: `apply`
/// each, with at most `concurrency` in flight.
pub(crate) async fn one_group_change_at_a_time<'a, F>(
    changes: &'a [GroupChange],
    concurrency: usize,
    apply: F,
) -> Vec<Result<Option<String>, DirectoryError>>
where
    F: Fn(&'a GroupChange) -> BoxFuture<'a, Result<Option<String>, DirectoryError>>,
{
    let requests: Vec<BoxFuture<'a, Result<Option<String>, DirectoryError>>> = changes.iter().map(apply).collect();
    in_input_order(requests, concurrency).await
}

/// `confirm_gone` by one direct read per user, `read` answering whether the user exists; with
/// at most `concurrency` reads in flight.
pub(crate) async fn confirm_by_reads<'a, F>(
    ids: &'a [String],
    concurrency: usize,
    read: F,
) -> Result<HashSet<String>, DirectoryError>
where
    F: Fn(&'a str) -> BoxFuture<'a, Result<bool, DirectoryError>>,
{
    let requests: Vec<BoxFuture<'a, Result<bool, DirectoryError>>> = ids.iter().map(|id| read(id)).collect();
    let mut gone = HashSet::new();
    for (id, exists) in ids.iter().zip(in_input_order(requests, concurrency).await) {
        if !exists? {
            gone.insert(id.clone());
        }
    }
    Ok(gone)
}

/// Where a paged read sends its pages: a bounded channel, so that a source read faster than
/// the target is written waits instead of filling memory.
pub struct PageSink {
    sender: tokio::sync::mpsc::Sender<Vec<User>>,
    /// With `keeping`: a copy of every user sent, while there are no more than `up_to`.
    kept: Option<std::sync::Mutex<Kept>>,
}

struct Kept {
    /// `None` once more than `up_to` were sent.
    users: Option<Vec<User>>,
    up_to: usize,
}

impl PageSink {
    /// A sink holding at most `ahead` pages not taken yet, and where they are taken from.
    pub fn channel(ahead: usize) -> (PageSink, tokio::sync::mpsc::Receiver<Vec<User>>) {
        let (sender, receiver) = tokio::sync::mpsc::channel(ahead.max(1));
        (PageSink { sender, kept: None }, receiver)
    }

    /// `channel`, keeping a copy of the users sent as long as there are at most `up_to`
    /// (`into_kept`): a small read can be handed to someone else too.
    pub fn keeping(ahead: usize, up_to: usize) -> (PageSink, tokio::sync::mpsc::Receiver<Vec<User>>) {
        let (mut sink, receiver) = PageSink::channel(ahead);
        let kept = Kept {
            users: Some(Vec::new()),
            up_to,
        };
        sink.kept = Some(std::sync::Mutex::new(kept));
        (sink, receiver)
    }

    pub async fn send(&self, page: Vec<User>) -> Result<(), DirectoryError> {
        if page.is_empty() {
            return Ok(());
        }
        if let Some(kept) = &self.kept
            && let Ok(mut kept) = kept.lock()
        {
            let up_to = kept.up_to;
            kept.users = kept
                .users
                .take()
                .filter(|users| users.len() + page.len() <= up_to)
                .map(|mut users| {
                    users.extend(page.iter().cloned());
                    users
                });
        }
        self.sender.send(page).await.map_err(|_| DirectoryError::Stopped)
    }

    /// Every user sent, if the sink was `keeping` and they were no more than its `up_to`.
    pub fn into_kept(self) -> Option<Vec<User>> {
        self.kept?.into_inner().ok()?.users
    }
}

/// A group as a directory answered it (SCIM or Graph JSON) carries the displayName `name`,
/// compared without regard to case as both directories' filters compare it.
pub(crate) fn carries_name(group: &serde_json::Value, name: &str) -> bool {
    group
        .get("displayName")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|n| n.eq_ignore_ascii_case(name))
}

/// Users the source reported deleted join the changed ones as deleted, inactive users: the plan
/// deprovisions what they were provisioned as (rule 7).
pub fn with_removed(mut users: Vec<User>, removed: &[String]) -> Vec<User> {
    users.extend(removed.iter().map(|id| User {
        id: id.clone(),
        attributes: [("active", "false".to_owned())].into_iter().collect(),
        deleted: true,
        ..User::default()
    }));
    users
}

/// A read of a source directory's groups.
#[derive(Debug, Default)]
pub struct GroupRead {
    pub groups: Vec<TargetGroup>,
    /// Where the next read of changed groups starts; `None` when the directory cannot tell.
    pub watermark: Option<String>,
    /// Every group was read: groups not seen are gone.
    pub full: bool,
}

/// A read of a source directory.
#[derive(Debug, Default)]
pub struct SourceRead {
    pub users: Vec<User>,
    /// Ids of users the directory reported deleted since the watermark (Graph delta
    /// `@removed`). Directories that cannot tell leave it empty; full reads catch deletions.
    pub removed: Vec<String>,
    /// Where the next incremental read starts (SCIM: the latest `meta.lastModified`; Graph: the
    /// delta link). `None` when the directory cannot read changes.
    pub watermark: Option<String>,
    /// Every user was read, even though changes were asked for (the directory's change
    /// tracking expired and it started over): users not seen may count as gone.
    pub full: bool,
}

/// What went wrong talking to a directory. Variant names are the reasons shown in
/// `status.failures`.
#[derive(Clone, Debug, thiserror::Error, strum::IntoStaticStr)]
pub enum DirectoryError {
    #[error("the directory rejected the credentials (HTTP {status})")]
    AuthenticationFailed { status: u16 },
    #[error("HTTP {status}, still failing after {attempts} attempts")]
    Throttled { status: u16, attempts: u32 },
    #[error("the user changed in the directory since it was read (HTTP 412)")]
    PreconditionFailed,
    #[error("not found")]
    NotFound,
    /// The directory refused the request; `code` is its error code (SCIM `scimType`, Graph
    /// `error.code`), `detail` its message.
    #[error("HTTP {status}{}{}", code.as_deref().map(|t| format!(" ({t})")).unwrap_or_default(), detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Rejected {
        status: u16,
        code: Option<String>,
        detail: Option<String>,
    },
    #[error("cannot reach the directory: {0}")]
    Unreachable(String),
    #[error("unexpected answer: {0}")]
    InvalidResponse(String),
    /// The provider found, on the way, that the write would touch a user xtsync may not: it
    /// was not made, and the user is skipped with `reason` as a plan would skip it.
    #[error("{detail}")]
    Refused { reason: SkipReason, detail: String },
    /// The directory cannot make this change (a SCIM directory cannot restore a deleted group).
    #[error("not supported by this directory: {0}")]
    Unsupported(&'static str),
    /// The cycle stopped taking the pages of a read (it failed on the other side).
    #[error("the cycle stopped before the read ended")]
    Stopped,
}

impl DirectoryError {
    /// A write answered with this may have been made all the same: a server error (5xx, or
    /// Graph's 504 after its retries), or a connection lost once the request may have left. A
    /// 429 inside a Bulk answer says the operation was not processed (RFC 6585 §4); it is
    /// settled the same way.
    pub fn may_have_landed(&self) -> bool {
        match self {
            DirectoryError::Rejected { status, .. } => *status >= 500 || *status == 429,
            DirectoryError::Throttled { status, .. } => *status == 504,
            DirectoryError::Unreachable(_) => true,
            _ => false,
        }
    }

    /// The reason shown in `status.failures`: the variant name.
    pub fn reason(&self) -> &'static str {
        match self {
            DirectoryError::Refused { reason, .. } => reason.as_str(),
            other => other.into(),
        }
    }
}

/// Runs `requests` with at most `concurrency` in flight, unordered (one slow request does not
/// hold back the others), and returns the results in input order.
pub(crate) async fn in_input_order<T>(requests: Vec<futures::future::BoxFuture<'_, T>>, concurrency: usize) -> Vec<T> {
    use futures::{FutureExt, StreamExt};
    let indexed: Vec<_> = requests
        .into_iter()
        .enumerate()
        .map(|(i, request)| request.map(move |result| (i, result)))
        .collect();
    let mut results: Vec<(usize, T)> = futures::stream::iter(indexed)
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, result)| result).collect()
}
