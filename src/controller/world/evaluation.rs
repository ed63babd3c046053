//! The one evaluation of a SyncConfiguration against a world: dereference → validate → gate,
//! and what the cycle, the cleanup on delete and the dry run need from it — the cycle's input,
//! the directories, the cleanup's target — built here and nowhere else. `reconcile`, the
//! finalizer and `xtsync plan` call it and decide only what to do with its answer
//! (docs/architecture.md, "One cycle, step by step" and "The deletion path").

use std::sync::Arc;

use super::World;
use super::dereference::{self, Dereferenced};
use crate::api::SyncConfiguration;
use crate::controller::Vetted;
use crate::cycle::audit::Sink;
use crate::cycle::cleanup::{self, Cleanup};
use crate::cycle::progress::{Progress, Untracked};
use crate::cycle::{self, CycleError, CycleInput, CycleReport, OnDemandOutcome};
use crate::engine::rules::{ActionSwitches, Deprovisioning};
use crate::gate::{self, Closed, OpenPair};
use crate::providers::{DirectoryError, SourceDirectory, TargetDirectory, Unopenable};
use crate::validate::{self, SpecProblems, ValidSpec};

/// What a configuration is, in its world.
pub struct Evaluation {
    pub found: Dereferenced,
    pub verdict: GateVerdict,
    refs: TenantRefs,
}

/// The spec's and the gate's answer, in rule 1's order.
pub enum GateVerdict {
    /// `InvalidSpec`: the spec's problems; the gate was not asked.
    Invalid(SpecProblems),
    /// The gate is closed: its first failing check.
    Closed { valid: ValidSpec, closed: Closed },
    /// The gate is open: the pair may sync.
    Open(Box<Runnable>),
}

/// The Tenants a configuration names, in its namespace.
#[derive(Clone, Debug)]
struct TenantRefs {
    ns: String,
    source: String,
    target: String,
}

/// Evaluates `config` (in namespace `ns`) against `world`. `claimed_pair` is the pair its
/// latest written status holds (`status.claimedPair`), which the world's copy may not show yet.
pub fn evaluate<W: World>(world: &W, config: &SyncConfiguration, ns: &str, claimed_pair: Option<&str>) -> Evaluation {
    let found = dereference::dereference(world, config, ns);
    let refs = TenantRefs {
        ns: ns.to_owned(),
        source: config.spec.source_ref.name.clone(),
        target: config.spec.target_ref.name.clone(),
    };
    let verdict = match validate::validate(&config.spec) {
        Err(problems) => GateVerdict::Invalid(problems),
        Ok(valid) => match gate::evaluate(&found.gate_input(config, claimed_pair)) {
            Err(closed) => GateVerdict::Closed { valid, closed },
            Ok(pair) => GateVerdict::Open(Box::new(Runnable {
                pair,
                valid,
                source_tracks_changes: found.source_tracks_changes,
                refs: refs.clone(),
            })),
        },
    };
    Evaluation { found, verdict, refs }
}

/// A configuration whose gate is open: everything its cycles need but the directories, which
/// `connect` opens when a cycle is about to run.
pub struct Runnable {
    pub pair: OpenPair,
    pub valid: ValidSpec,
    /// The source can list the users changed since a watermark, so incremental cycles work.
    pub source_tracks_changes: bool,
    refs: TenantRefs,
}

/// Where a cycle starts and what it tells: the caller's part of a `CycleInput`.
pub struct CycleStart<'a> {
    pub approval: Option<&'a str>,
    pub watermark: Option<&'a str>,
    pub groups_watermark: Option<&'a str>,
    pub group_members_digest: Option<&'a str>,
    pub dry_run: bool,
    pub audit: &'a dyn Sink,
    pub progress: &'a dyn Progress,
    /// Where a first cycle shares complete reads of small sources (`None`: it reads its own).
    pub shared_reads: Option<cycle::shared_read::Sharing<'a>>,
}

impl<'a> CycleStart<'a> {
    /// A dry run of an Initial cycle (`xtsync plan`): no watermark, no approval, nothing written.
    pub fn dry_run(audit: &'a dyn Sink) -> CycleStart<'a> {
        CycleStart {
            approval: None,
            watermark: None,
            groups_watermark: None,
            group_members_digest: None,
            dry_run: true,
            audit,
            progress: &Untracked,
            shared_reads: None,
        }
    }
}

/// Both directories of an open pair.
pub struct Directories {
    pub source: Arc<dyn SourceDirectory>,
    pub target: Arc<dyn TargetDirectory>,
}

/// A Tenant of an open pair cannot be used now.
#[derive(Debug)]
pub struct UnusableTenant {
    pub role: &'static str,
    pub error: Unopenable,
}

impl From<UnusableTenant> for CycleError {
    fn from(unusable: UnusableTenant) -> Self {
        CycleError::Unusable {
            role: unusable.role,
            error: unusable.error,
        }
    }
}

impl Runnable {
    /// The cycle's input: the pair's source, the rules, the deadline, and the caller's start.
    pub fn input<'a>(&'a self, start: CycleStart<'a>) -> CycleInput<'a> {
        CycleInput {
            source_tenant_id: &self.pair.source.tenant_id,
            source_domains: &self.pair.source.domains,
            rules: &self.valid.rules,
            approval: start.approval,
            watermark: start.watermark,
            groups_watermark: start.groups_watermark,
            group_members_digest: start.group_members_digest,
            dry_run: start.dry_run,
            audit: start.audit,
            progress: start.progress,
            deadline: cycle::Deadline::of_interval(self.valid.interval),
            shared_source: start.shared_reads.map(|sharing| cycle::SharedSource {
                sharing,
                // Two Tenants never share a read, even of one directory; nor one Tenant across an
                // edit that moves it to another directory.
                key: format!(
                    "{}/{}/{}/{}",
                    self.refs.ns, self.refs.source, self.pair.source.tenant_id, self.pair.source.directory
                ),
            }),
        }
    }

    /// Opens both directories, the source first.
    pub async fn connect<W: World>(&self, world: &W) -> Vetted<Directories, UnusableTenant, W::ApiError> {
        let source = world.open_source(&self.refs.ns, &self.refs.source).await?;
        let target = world.open_target(&self.refs.ns, &self.refs.target).await?;
        Ok(match (source, target) {
            (Ok(source), Ok(target)) => Ok(Directories { source, target }),
            (Err(error), _) => Err(UnusableTenant { role: "source", error }),
            (_, Err(error)) => Err(UnusableTenant { role: "target", error }),
        })
    }

    /// One cycle over the opened directories.
    pub async fn run_cycle(&self, directories: &Directories, start: CycleStart<'_>) -> Result<CycleReport, CycleError> {
        let input = self.input(start);
        let result = cycle::run(directories.source.as_ref(), directories.target.as_ref(), &input).await;
        if let Some(shared) = &input.shared_source {
            shared.applied();
        }
        result
    }

    /// One user (or group) now, with every rule of a cycle but deprovisioning (rule 11).
    pub async fn provision_on_demand(
        &self,
        directories: &Directories,
        start: CycleStart<'_>,
        request: &str,
    ) -> Result<OnDemandOutcome, CycleError> {
        let input = self.input(start);
        let answer = cycle::provision_on_demand(
            directories.source.as_ref(),
            directories.target.as_ref(),
            &input,
            request,
        )
        .await;
        // What it wrote may be newer than a read kept now: the first cycle after it reads its own.
        if let Some(shared) = &input.shared_source {
            shared.applied();
        }
        answer
    }
}

/// Why a cleanup on delete cannot run now.
#[derive(Debug, thiserror::Error)]
pub enum CleanupBlocked {
    #[error("the spec is invalid ({0})")]
    InvalidSpec(SpecProblems),
    #[error("source Tenant '{0}' is gone, and its tenant id names the users to deprovision")]
    SourceTenantGone(String),
    #[error("the target cannot be used: {0}")]
    TargetUnusable(Unopenable),
}

/// A cleanup on delete that can run: the target opened, the source tenant that names the users,
/// and the spec's deprovisioning.
pub struct Cleanable {
    target: Arc<dyn TargetDirectory>,
    source_tenant_id: String,
    deprovision: Deprovisioning,
    actions: ActionSwitches,
}

impl Evaluation {
    /// What a cleanup on delete needs — a valid spec, the source Tenant (its tenant id names the
    /// users), the target opened — checked in that order. The gate is not asked: a pair that
    /// can no longer sync may still be cleaned up.
    pub async fn cleanable<W: World>(&self, world: &W) -> Vetted<Cleanable, CleanupBlocked, W::ApiError> {
        let valid = match &self.verdict {
            GateVerdict::Invalid(problems) => return Ok(Err(CleanupBlocked::InvalidSpec(problems.clone()))),
            GateVerdict::Closed { valid, .. } => valid,
            GateVerdict::Open(runnable) => &runnable.valid,
        };
        let Some(source_tenant_id) = self.found.source_tenant_id.clone() else {
            return Ok(Err(CleanupBlocked::SourceTenantGone(self.refs.source.clone())));
        };
        Ok(match world.open_target(&self.refs.ns, &self.refs.target).await? {
            Ok(target) => Ok(Cleanable {
                target,
                source_tenant_id,
                deprovision: valid.rules.deprovision,
                actions: valid.rules.actions,
            }),
            Err(error) => Err(CleanupBlocked::TargetUnusable(error)),
        })
    }
}

impl Cleanable {
    /// The source tenant whose users the cleanup deprovisions (compared form).
    pub fn source_tenant_id(&self) -> &str {
        &self.source_tenant_id
    }

    /// Whether `spec.actions` lets the cleanup deprovision.
    pub fn deprovisions(&self) -> bool {
        self.actions.deprovision
    }

    /// Deprovisions the target users provisioned from the source, within the threshold, each
    /// logged to `audit` (a switched-off deprovisioning is logged and not sent).
    pub async fn clean_up(&self, approval: Option<&str>, audit: &dyn Sink) -> Result<Cleanup, DirectoryError> {
        let cleaning = cleanup::Cleaning {
            deprovision: self.deprovision,
            actions: self.actions,
            audit,
        };
        cleanup::clean_up(self.target.as_ref(), &self.source_tenant_id, &cleaning, approval).await
    }
}
