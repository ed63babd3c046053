//! `xtsync plan`: what the next Initial cycle of each configuration in some manifests would
//! do, without a cluster and without a write. The Tenants are checked as the Tenant controller
//! checks them, the gate is evaluated from the same caches the controller dereferences (filled
//! from the manifests instead of watches), and the cycle is the controller's own, in dry run:
//! it reads both directories and writes to neither. An Organization among the manifests has
//! fanned out first (`world::generated`): its configurations are planned as if the controller
//! had created them, after it is shown (`organizations`). The output is written as it is
//! produced (`output`).

pub mod organizations;
pub mod output;

use std::convert::Infallible;
use std::io::Write;

use kube::ResourceExt;

use super::world::manifests::Manifests;
use super::world::{CycleStart, Directories, GateVerdict, ManifestWorld, Runnable, UnusableTenant, World, evaluate};
use crate::api::SyncConfiguration;
use crate::api::conditions::ConditionReason;
use crate::api::organization::ORGANIZATION_LABEL;
use crate::api::reasons::ReadyReason;
use crate::cycle::audit::{Collected, Record, Sink};
use crate::cycle::{CycleError, CycleReport};
use crate::providers::Clients;
use output::{PreviewFormat, Printer};

/// What one configuration's next Initial cycle would do, or why none would run; its records
/// went to the plan's sink as they came.
pub struct ConfigPlan {
    /// `namespace/name`.
    pub configuration: String,
    /// The Organization that generates it (its label), if one does.
    pub organization: Option<String>,
    /// Why no cycle would run: the `Ready=False` reason and message.
    pub closed: Option<(&'static str, String)>,
    /// The cycle could not run (a read failed): its error.
    pub error: Option<String>,
    pub report: Option<CycleReport>,
}

/// `xtsync plan` (and `kubectl xtsync plan`): the plan of the manifests in `files` on stdout,
/// as a table or JSON, written as it is produced; warnings on stderr; the exit code
/// (`output::exit_code`).
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
    let format = if json {
        PreviewFormat::Json
    } else {
        PreviewFormat::Table
    };
    let printer = Printer::new(format, std::io::BufWriter::new(std::io::stdout()));
    let plans = plan(&manifests, &clients, &printer).await;
    if let Err(error) = printer.finish(output::changes_pending(&plans)) {
        eprintln!("error: cannot write the plan: {error}");
        return 1;
    }
    output::exit_code(&plans, detailed)
}

/// Plans every SyncConfiguration of `manifests` and those its Organizations generate, each
/// written to `printer` as it is planned.
pub async fn plan<O: Write + Send>(manifests: &Manifests, clients: &Clients, printer: &Printer<O>) -> Vec<ConfigPlan> {
    let world = ManifestWorld::of(manifests, clients).await;
    printer.organizations(&organizations::plans(&world));
    plan_all(&world, world.configurations(), printer).await
}

/// Plans `configs` in `world`, in order, each written to `printer` — its records as the cycle
/// produces them — before the next is planned.
pub async fn plan_all<W, O>(world: &W, configs: &[SyncConfiguration], printer: &Printer<O>) -> Vec<ConfigPlan>
where
    W: World<ApiError = Infallible>,
    O: Write + Send,
{
    let mut plans = Vec::with_capacity(configs.len());
    for config in configs {
        let organization = config.labels().get(ORGANIZATION_LABEL).cloned();
        printer.begin(&name_of(config), organization.as_deref());
        let plan = plan_of(world, config, printer).await;
        printer.end(&plan);
        plans.push(plan);
    }
    plans
}

fn name_of(config: &SyncConfiguration) -> String {
    format!("{}/{}", config.namespace().unwrap_or_default(), config.name_any())
}

/// What the configuration's next Initial cycle would do, or why none would run; each of its
/// records (one per action and per skip, as the provisioning log would have them) goes to
/// `audit` as the cycle produces it.
pub async fn plan_of<W: World<ApiError = Infallible>>(
    world: &W,
    config: &SyncConfiguration,
    audit: &dyn Sink,
) -> ConfigPlan {
    let mut plan = ConfigPlan {
        configuration: name_of(config),
        organization: config.labels().get(ORGANIZATION_LABEL).cloned(),
        closed: None,
        error: None,
        report: None,
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
    match opened.dry_run_into(audit).await {
        Ok(report) => plan.report = Some(report),
        Err(error) => plan.error = Some(format!("{error}; a cycle would write nothing")),
    }
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
        let result = self.dry_run_into(&log).await;
        (result, log.take())
    }

    /// The same dry run, each record given to `audit` as the cycle produces it.
    pub async fn dry_run_into(&self, audit: &dyn Sink) -> Result<CycleReport, CycleError> {
        self.runnable
            .run_cycle(&self.directories, CycleStart::dry_run(audit))
            .await
    }
}

#[cfg(test)]
mod output_tests;
#[cfg(test)]
mod tests;
