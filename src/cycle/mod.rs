//! One sync cycle from a `SourceDirectory` to a `TargetDirectory`: read → plan → apply (docs/architecture.md, rules 3–9).
//! Knows nothing of Kubernetes: the controller decides when a cycle runs and writes what it
//! reports.
//!
//! `read` (assignments, target look-ups; in an Incremental cycle, `membership`: who joined or
//! left the assigned groups) → `pass`: each source page → `engine::plan` (pure) →
//! `apply` (writes, counted into a `report`) while the next page is read; then the
//! deprovisionings a complete read allows. `on_demand` is the same for one user; `cleanup` deprovisions what a
//! deleted configuration provisioned.

mod apply;
pub mod audit;
pub mod cleanup;
mod creations;
pub mod deadline;
mod from_shared;
pub(crate) mod groups;
mod membership;
pub mod on_demand;
mod pass;
pub mod progress;
pub(crate) mod read;
pub mod report;
pub mod shared_read;
#[cfg(test)]
mod tests;

pub use deadline::Deadline;
pub use on_demand::{OnDemandOutcome, OnDemandVerdict, provision_on_demand};
pub use report::{CycleError, CycleReport, UnwrittenUser};
pub use shared_read::{SharedSource, SourceReads};

use tokio::sync::oneshot;

use crate::engine::rules::SyncRules;
use crate::providers::directory::{DirectoryError, SourceDirectory, TargetDirectory};
use crate::providers::directory::{PageSink, with_removed};
use progress::Phase;

/// Source pages read ahead of the writes (up to 128,000 users): enough for a source of
/// 100,000 users to be read in full while the target is read and indexed, so that a cycle with
/// nothing to write costs the longer of the two reads, not their sum (it peaks at 104 MiB with
/// both directories held, docs/performance.md); bounded so that a larger source read faster
/// than the target is written waits instead of holding the whole directory in memory.
const PAGES_AHEAD: usize = 128;

/// Up to this many changed source users, an incremental cycle looks their target users up;
/// above it, it reads the target in full.
const LOOKUPS_UP_TO: usize = 100;

pub struct CycleInput<'a> {
    pub source_tenant_id: &'a str,
    /// The source tenant's domains, in compared form (`engine::address::domains`): only an
    /// external target user matched by an address in one of them is adopted (rule 5).
    pub source_domains: &'a [String],
    pub rules: &'a SyncRules,
    /// The value of `xtsync.io/approve-deletions` not consumed yet, if any: lets the set of
    /// deprovisionings with that token through the accidental-deletion threshold.
    pub approval: Option<&'a str>,
    /// `Some`: an Incremental cycle, reading only the source users changed after it, and the
    /// target users they match. `None`: an Initial cycle, full reads of both.
    pub watermark: Option<&'a str>,
    /// With group provisioning, in an Incremental cycle: where the read of changed source
    /// groups starts (`None`: all groups are read).
    pub groups_watermark: Option<&'a str>,
    /// The digest of the assigned groups' members the last cycle read (`None`: unknown). An
    /// Incremental cycle that reads another provisions who joined and deprovisions who left.
    pub group_members_digest: Option<&'a str>,
    /// Plan, count and log, but write nothing to the target.
    pub dry_run: bool,
    /// The provisioning log: one record per action and per skip.
    pub audit: &'a dyn audit::Sink,
    /// Where the cycle says how far it is.
    pub progress: &'a dyn progress::Progress,
    /// When the cycle stops if it has not begun to deprovision.
    pub deadline: deadline::Deadline,
    /// Where an Initial cycle finds a recent complete read of its source, and keeps its own
    /// (`shared_read`); `None`: it reads the source itself, and keeps nothing.
    pub shared_source: Option<SharedSource<'a>>,
}

pub async fn run(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    input: &CycleInput<'_>,
) -> Result<CycleReport, CycleError> {
    input.progress.report(Phase::Reading, 0, 0);
    let cycle = async {
        match input.watermark {
            None => initial(source, target, input).await,
            Some(watermark) => incremental(source, target, input, watermark).await,
        }
    };
    input.deadline.bound(cycle).await
}

/// An Initial cycle: the source is read page by page while the target and the assignments are read,
/// and each page is applied as soon as the target's index is there (docs/architecture.md,
/// "One cycle, step by step") — or, when another cycle has just read this source in full, from
/// that read (`from_shared`).
async fn initial(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    input: &CycleInput<'_>,
) -> Result<CycleReport, CycleError> {
    // An Incremental cycle that turned into an Initial one has applied its own, newer read.
    let shared = input.shared_source.as_ref().filter(|_| input.watermark.is_none());
    if let Some(read) = shared.and_then(SharedSource::recent) {
        return from_shared::initial(source, target, input, &read).await;
    }
    let began = tokio::time::Instant::now();
    let (sink, pages) = match shared {
        Some(_) => PageSink::keeping(PAGES_AHEAD, shared_read::SHARED_UP_TO),
        None => PageSink::channel(PAGES_AHEAD),
    };
    let (ended, read_end) = oneshot::channel();
    let reading = async move {
        let result = source.read_source_pages(&sink).await;
        // The pages end before the answer: the pass sees the channel close, then the end.
        let kept = sink.into_kept();
        if let (Ok(watermark), Some(users), Some(shared)) = (&result, kept, shared) {
            shared.keep(users, watermark.clone(), began);
        }
        let _ = ended.send(result);
    };
    let syncing = async move {
        let (target_users, assignments, source_domains) = futures::try_join!(
            async { target.list_users().await.map_err(CycleError::TargetRead) },
            read::assignments(source, input),
            async { Ok(read::source_domains(source, input).await) },
        )?;
        let against = pass::Against {
            target_users: &target_users,
            assignments: &assignments,
            source_domains: &source_domains,
        };
        let read_end = async {
            let watermark = read_end.await.unwrap_or(Err(DirectoryError::Stopped))?;
            Ok(pass::ReadEnd { watermark, full: true })
        };
        users_then_groups(source, target, input, against, pages, read_end, true).await
    };
    let ((), result) = tokio::join!(reading, syncing);
    result
}

/// An Incremental cycle: the changed source users, then only the target users they match —
/// or, when there are many, or change tracking started over, the whole target.
async fn incremental(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    input: &CycleInput<'_>,
    watermark: &str,
) -> Result<CycleReport, CycleError> {
    let read = source
        .read_source(Some(watermark))
        .await
        .map_err(CycleError::SourceRead)?;
    let mut source_users = with_removed(read.users, &read.removed);
    let assignments = read::assignments(source, input).await?;
    // Who joined or left the assigned groups shows only against the whole target.
    let members_moved =
        membership::digest(input, &assignments).is_some_and(|d| input.group_members_digest != Some(d.as_str()));
    let whole_target = members_moved || read.full || source_users.len() > LOOKUPS_UP_TO;
    let target_users = if whole_target {
        target.list_users().await
    } else {
        read::matching_target_users(target, &source_users, input).await
    }
    .map_err(CycleError::TargetRead)?;
    if members_moved {
        let moved = membership::moved(&target_users, &assignments, input, &source_users);
        if moved.len() > membership::DIRECT_READS_UP_TO {
            return initial(source, target, input).await;
        }
        let read = membership::read(source, &moved).await;
        source_users.extend(read.map_err(CycleError::SourceRead)?);
    }
    let end = pass::ReadEnd {
        watermark: read.watermark,
        full: read.full,
    };
    let read = ReadWhole {
        source_users,
        end,
        target_users,
        assignments,
        whole_target,
    };
    pass_over_read(source, target, input, read).await
}

/// A cycle's reads, made before its pass: the source users, how their read ended, the target
/// users and who is assigned.
struct ReadWhole {
    source_users: Vec<crate::engine::user::User>,
    end: pass::ReadEnd,
    target_users: Vec<crate::engine::user::User>,
    assignments: crate::engine::scope::Assignments,
    /// `target_users` are all of them (see `users_then_groups`).
    whole_target: bool,
}

/// The pass over source users already read (one page), then the groups.
async fn pass_over_read(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    input: &CycleInput<'_>,
    read: ReadWhole,
) -> Result<CycleReport, CycleError> {
    let (sink, pages) = PageSink::channel(1);
    sink.send(read.source_users).await.map_err(CycleError::SourceRead)?;
    drop(sink);
    let source_domains = read::source_domains(source, input).await;
    let against = pass::Against {
        target_users: &read.target_users,
        assignments: &read.assignments,
        source_domains: &source_domains,
    };
    let end = read.end;
    users_then_groups(
        source,
        target,
        input,
        against,
        pages,
        async { Ok(end) },
        read.whole_target,
    )
    .await
}

/// The users' pass, then, with group provisioning, the groups: users first, so that a new
/// member's target user exists when it is added. `whole_target`: the target users are all of
/// them, not only those an Incremental cycle's changed users match (the group step reads the
/// rest if it has a group to plan).
async fn users_then_groups(
    source: &dyn SourceDirectory,
    target: &dyn TargetDirectory,
    input: &CycleInput<'_>,
    against: pass::Against<'_>,
    pages: tokio::sync::mpsc::Receiver<Vec<crate::engine::user::User>>,
    ended: impl Future<Output = Result<pass::ReadEnd, DirectoryError>>,
    whole_target: bool,
) -> Result<CycleReport, CycleError> {
    let members_digest = membership::digest(input, against.assignments);
    let mut members = input
        .rules
        .groups
        .as_ref()
        .map(|_| groups::Members::of(against.target_users, input.source_tenant_id, whole_target));
    let mut report = pass::run(source, target, input, against, pages, ended, members.as_mut()).await?;
    if let Some(members) = &members {
        groups::run(source, target, input, members, &mut report, None).await?;
    }
    report.group_members_digest = members_digest;
    Ok(report)
}
