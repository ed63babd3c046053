//! The `xtsync` binary: `run` the controllers, `plan` offline, `probe` a URL, print the `crds`
//! — or, invoked as `kubectl-xtsync`, the kubectl plugin (`xtsync::plugin`).

#![warn(clippy::too_many_lines)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtsync::controller::{self, Settings};
use xtsync::ops::leader;
use xtsync::telemetry::{self, LogFormat};

#[derive(Parser)]
#[command(
    name = "xtsync",
    version,
    about = "Declarative cross-tenant user synchronization for Kubernetes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controllers against the cluster found like kubectl finds it.
    Run(RunArgs),
    /// Print what the next Initial cycle of each SyncConfiguration in the manifests would do,
    /// reading the directories and writing to none; no cluster needed.
    Plan {
        /// Manifests (files or folders): Tenants, policies, SyncConfigurations, their Secrets.
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<std::path::PathBuf>,
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t = PlanOutput::Table)]
        output: PlanOutput,
        /// Exit 2 when changes are pending and 0 when none are (1 is an error either way).
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// GET a URL; exit 0 on a 2xx answer, 1 otherwise (what the chart's `helm test` runs).
    Probe {
        /// The URL, e.g. http://xtsync-metrics.xtsync.svc:8080/readyz.
        #[arg(long)]
        url: String,
        /// How long the whole exchange may take.
        #[arg(long, default_value = "10s", value_parser = xtsync::engine::interval::duration)]
        timeout: std::time::Duration,
    },
    /// Print the CustomResourceDefinitions as YAML.
    Crds {
        /// Write one file per CRD into this folder instead (how `crds/` is made).
        #[arg(long)]
        out_dir: Option<std::path::PathBuf>,
        /// Print the field reference (Markdown) generated from the CRDs instead.
        #[arg(long)]
        reference: bool,
    },
}

/// `xtsync run`'s flags.
#[derive(clap::Args)]
struct RunArgs {
    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "XTSYNC_NAMESPACE")]
    namespace: Option<String>,
    /// Log format.
    #[arg(long, env = "XTSYNC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Where /healthz, /readyz and /metrics are served.
    #[arg(long, env = "XTSYNC_HTTP_ADDR", default_value = "0.0.0.0:8080")]
    http_addr: std::net::SocketAddr,
    /// Run the controllers only while holding the Lease `--lease-name` (needed with replicas > 1).
    #[arg(long, env = "XTSYNC_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    leader_election: bool,
    /// The namespace of the Lease (the operator's own).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    lease_namespace: String,
    /// The Lease's name: one per release, so that releases sharing a namespace elect apart.
    #[arg(long, env = "XTSYNC_LEASE_NAME", default_value = leader::DEFAULT_LEASE_NAME)]
    lease_name: String,
    /// /healthz fails when a controller has had work waiting this long without taking any.
    #[arg(long, env = "XTSYNC_STALL_AFTER", default_value = "2m", value_parser = xtsync::engine::interval::duration)]
    stall_after: std::time::Duration,
    /// Debugging only: this controller (tenant, policy, syncconfiguration) takes no work.
    #[arg(long, env = "XTSYNC_DEBUG_STALL")]
    debug_stall: Option<xtsync::ops::liveness::Controller>,
    /// Cycles of each kind (Initial, Incremental) running at once; the kinds have slots of
    /// their own, so that long Initial cycles never hold incremental ones up.
    #[arg(long, env = "XTSYNC_MAX_CONCURRENT_CYCLES", default_value_t = controller::slots::DEFAULT_MAX_CONCURRENT_CYCLES)]
    max_concurrent_cycles: usize,
    /// A login endpoint (URL prefix) besides the clouds' own that may receive the
    /// operator's federated token (workload identity), e.g. a proxy; repeatable or
    /// comma-separated.
    #[arg(
        long = "trusted-login-endpoint",
        env = "XTSYNC_TRUSTED_LOGIN_ENDPOINTS",
        value_delimiter = ','
    )]
    trusted_login_endpoints: Vec<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PlanOutput {
    Table,
    Json,
}

#[tokio::main]
async fn main() -> ExitCode {
    // Installed as `kubectl-xtsync` (a symlink), the binary is the kubectl plugin.
    if xtsync::plugin::invoked_as_plugin(std::env::args_os().next().as_deref()) {
        return ExitCode::from(xtsync::plugin::run(xtsync::plugin::PluginCli::parse()).await);
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Plan {
            files,
            output,
            detailed_exitcode,
        } => plan(&files, output, detailed_exitcode).await,
        Command::Probe { url, timeout } => probe(&url, timeout).await,
        Command::Crds { out_dir, reference } => match write_crds(out_dir.as_deref(), reference) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("xtsync: cannot write the CRDs: {error}");
                ExitCode::FAILURE
            }
        },
        Command::Run(args) => run(args).await,
    }
}

/// `xtsync run`: the controllers, under leader election unless it is off.
async fn run(args: RunArgs) -> ExitCode {
    let RunArgs {
        namespace,
        log_format,
        http_addr,
        leader_election,
        lease_namespace,
        lease_name,
        stall_after,
        debug_stall,
        max_concurrent_cycles,
        trusted_login_endpoints,
    } = args;
    telemetry::init(log_format, "info,kube=warn");
    let federation = match xtsync::providers::msgraph::Federation::from_env(&trusted_login_endpoints) {
        Ok(federation) => federation,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let clients = match xtsync::providers::Clients::new() {
        Ok(clients) => clients.with_federation(federation),
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let listener = match xtsync::ops::http::bind(http_addr).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, %http_addr, "cannot listen for /healthz, /readyz and /metrics");
            return ExitCode::FAILURE;
        }
    };
    let health = std::sync::Arc::new(xtsync::ops::http::Health::with_stall_after(stall_after));
    tokio::spawn(xtsync::ops::http::serve(listener, health.clone()));
    let client = match kube::Client::try_default().await {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot find a cluster (in-cluster config or KUBECONFIG)");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(%http_addr, "serving /healthz, /readyz and /metrics");
    let settings = Settings {
        namespace,
        max_concurrent_cycles,
        debug_stall,
        ..Settings::default()
    };
    if !leader_election {
        controller::run_with(client, settings, health, clients).await;
        return ExitCode::SUCCESS;
    }
    let identity = std::env::var("POD_NAME").unwrap_or_else(|_| format!("{}-{}", hostname(), std::process::id()));
    let work = || controller::run_with(client.clone(), settings.clone(), health.clone(), clients.clone());
    let lease = leader::LeaseId {
        namespace: &lease_namespace,
        name: &lease_name,
    };
    if let Err(error) = leader::run_while_leader(client.clone(), lease, &identity, health.clone(), work).await {
        // Exiting restarts the pod, which rejoins the election as a candidate.
        tracing::error!(%error, "leading ended");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// `xtsync probe`: the answer to stdout and exit 0, or why not to stderr and exit 1.
async fn probe(url: &str, timeout: std::time::Duration) -> ExitCode {
    match xtsync::ops::probe::probe(url, timeout).await {
        Ok(answer) => {
            println!("{answer}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("xtsync probe: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `xtsync plan`: logs (warnings only) go to stderr, the plan to stdout.
async fn plan(files: &[std::path::PathBuf], output: PlanOutput, detailed: bool) -> ExitCode {
    let json = matches!(output, PlanOutput::Json);
    ExitCode::from(xtsync::controller::preview::command(files, json, detailed).await)
}

fn write_crds(out_dir: Option<&std::path::Path>, reference: bool) -> Result<(), Box<dyn std::error::Error>> {
    use xtsync::crdgen;
    if reference {
        print!("{}", xtsync::reference::markdown(&crdgen::crds()));
        return Ok(());
    }
    let Some(dir) = out_dir else {
        print!("{}", crdgen::all_yaml()?);
        return Ok(());
    };
    std::fs::create_dir_all(dir)?;
    for crd in crdgen::crds() {
        std::fs::write(dir.join(crdgen::file_name(&crd)), crdgen::to_yaml(&crd)?)?;
    }
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "xtsync".into())
}
