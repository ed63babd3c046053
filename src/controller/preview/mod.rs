//! `xtsync plan`: what the next Initial cycle of each configuration in some manifests would
//! do, without a cluster and without a write. The Tenants are checked as the Tenant controller
//! checks them, the gate is evaluated from the same caches the controller dereferences (filled
//! from the manifests instead of watches), and the cycle is the controller's own, in dry run:
//! it reads both directories and writes to neither.

pub mod output;

use std::convert::Infallible;

use kube::ResourceExt;

use super::world::manifests::Manifests;
use super::world::{CycleStart, Directories, GateVerdict, ManifestWorld, Runnable, UnusableTenant, World, evaluate};
use crate::api::SyncConfiguration;
use crate::api::conditions::ConditionReason;
use crate::api::reasons::ReadyReason;
use crate::cycle::audit::{Collected, Record};
use crate::cycle::{CycleError, CycleReport};
use crate::providers::Clients;

/// What one configuration's next Initial cycle would do, or why none would run.
pub struct ConfigPlan {
    /// `namespace/name`.
    pub configuration: String,
    /// Why no cycle would run: the `Ready=False` reason and message.
    pub closed: Option<(&'static str, String)>,
    /// The cycle could not run (a read failed): its error.
    pub error: Option<String>,
    pub report: Option<CycleReport>,
    /// One per action and per skip, as the provisioning log would have them.
    pub records: Vec<Record>,
}

/// `xtsync plan` (and `kubectl xtsync plan`): the plan of the manifests in `files` on stdout,
/// as a table or JSON; warnings on stderr; the exit code (`output::exit_code`).
pub async fn command(files: &[std::path::PathBuf], json: bool, detailed: bool) -> u8 {
    crate::telemetry::init(crate::telemetry::LogFormat::Text, "warn");
    let manifests = match Manifests::load(files) {
        Ok(manifests) => manifests,
        Err(error) => {
            eprintln!("error: {error}");
            return 1;
        }
    };
    let clients = match Clients::new() {
        Ok(clients) => clients,
        Err(error) => {
            eprintln!("error: {error}");
            return 1;
        }
    };
    let plans = plan(&manifests, &clients).await;
    if json {
        println!("{:#}", output::json(&plans));
    } else {
        print!("{}", output::table(&plans));
    }
    output::exit_code(&plans, detailed)
}

/// Plans every SyncConfiguration of `manifests`.
pub async fn plan(manifests: &Manifests, clients: &Clients) -> Vec<ConfigPlan> {
    let world = ManifestWorld::of(manifests, clients).await;
    let mut plans = Vec::new();
    for config in &manifests.configs {
        plans.push(plan_of(&world, config).await);
    }
    plans
}

/// What the configuration's next Initial cycle would do, or why none would run.
pub async fn plan_of<W: World<ApiError = Infallible>>(world: &W, config: &SyncConfiguration) -> ConfigPlan {
    let mut plan = ConfigPlan {
        configuration: format!("{}/{}", config.namespace().unwrap_or_default(), config.name_any()),
        closed: None,
        error: None,
        report: None,
        records: Vec::new(),
    };
    let opened = match open(world, config).await {
        Ok(opened) => opened,
        Err(Unopened::Closed(reason, message)) => {
            plan.closed = Some((reason, message));
            return plan;
        }
        Err(Unopened::Unusable(unusable)) => {
            plan.error = Some(unusable.error.to_string());
            return plan;
        }
    };
    let (result, records) = opened.dry_run().await;
    match result {
        Ok(report) => plan.report = Some(report),
        Err(error) => plan.error = Some(format!("{error}; a cycle would write nothing")),
    }
    plan.records = records;
    plan
}

/// A configuration whose gate is open, and its two directories.
pub struct Opened {
    pub runnable: Runnable,
    pub directories: Directories,
}

/// Why a configuration's directories were not opened.
#[derive(Debug)]
pub enum Unopened {
    /// No cycle would run: the `Ready=False` reason and message.
    Closed(&'static str, String),
    /// A Tenant the gate found Ready cannot be used.
    Unusable(UnusableTenant),
}

/// The configuration evaluated as the controller evaluates it (with the pair it holds, when
/// its status says so) and, when its gate is open, its directories opened.
pub async fn open<W: World<ApiError = Infallible>>(world: &W, config: &SyncConfiguration) -> Result<Opened, Unopened> {
    let ns = config.namespace().unwrap_or_default();
    let holds = config.status.as_ref().and_then(|s| s.claimed_pair.as_deref());
    let runnable = match evaluate(world, config, &ns, holds).verdict {
        GateVerdict::Invalid(problems) => {
            return Err(Unopened::Closed(
                ReadyReason::InvalidSpec.as_str(),
                problems.to_string(),
            ));
        }
        GateVerdict::Closed { closed, .. } => return Err(Unopened::Closed(closed.reason.as_str(), closed.message)),
        GateVerdict::Open(runnable) => *runnable,
    };
    // A world of manifests reads no API: its only errors are the Tenants'.
    let Ok(connected) = runnable.connect(world).await;
    match connected {
        Ok(directories) => Ok(Opened { runnable, directories }),
        Err(unusable) => Err(Unopened::Unusable(unusable)),
    }
}

impl Opened {
    /// The controller's own cycle, in dry run: it reads both directories and writes to neither;
    /// with the provisioning log's records (one per action and per skip).
    pub async fn dry_run(&self) -> (Result<CycleReport, CycleError>, Vec<Record>) {
        let log = Collected::default();
        let result = self
            .runnable
            .run_cycle(&self.directories, CycleStart::dry_run(&log))
            .await;
        (result, log.take())
    }
}

#[cfg(test)]
mod tests;
