//! `kubectl xtsync`: the kubectl plugin (README, "The kubectl plugin"). The `xtsync` binary
//! answers as the plugin when it is invoked as `kubectl-xtsync`, the name kubectl looks for on
//! `PATH`. Every command works through what a kubectl user has: it reads SyncConfigurations
//! and sets the annotations the controller answers (`xtsync.io/approve-deletions`,
//! `xtsync.io/restart`, `xtsync.io/provision-on-demand`); `explain` and `plan` run the
//! controller's own evaluation in dry run (`controller::preview`), writing nothing.
//!
//! Exit codes: 0 done; 1 an error, or not done (declined, changed, timed out, failed); 2 an
//! answer that is not a success: `plan --detailed-exitcode` with changes pending, `provision`
//! answered without provisioning (not found, out of scope, skipped).

pub mod approve;
pub mod cluster;
mod explain;
mod provision;
mod resource;
mod restart;
mod status;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

pub use cluster::ClusterFlags;

/// The name the binary answers to as the plugin (`kubectl-<plugin>` on `PATH`).
pub const EXECUTABLE: &str = "kubectl-xtsync";

/// Whether the process was started as the plugin: its `argv[0]`'s file name is
/// `kubectl-xtsync` (a symlink to `xtsync`, or a copy).
pub fn invoked_as_plugin(argv0: Option<&std::ffi::OsStr>) -> bool {
    argv0
        .map(std::path::Path::new)
        .and_then(std::path::Path::file_name)
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == EXECUTABLE || n.strip_suffix(".exe") == Some(EXECUTABLE))
}

#[derive(Parser, Debug)]
#[command(
    name = "kubectl xtsync",
    bin_name = "kubectl xtsync",
    version,
    about = "Look after xtsync's SyncConfigurations: status, approvals, restarts, provisioning on demand, explanations, plans"
)]
pub struct PluginCli {
    #[command(flatten)]
    cluster: ClusterFlags,
    #[command(subcommand)]
    command: PluginCommand,
}

#[derive(Subcommand, Debug)]
enum PluginCommand {
    /// One line per SyncConfiguration, its name first: source → target, Ready, Synced, users
    /// provisioned of those in scope, pending deletions, quarantine, last successful sync.
    Status {
        /// Only this SyncConfiguration.
        name: Option<String>,
        /// Every namespace (names are shown as namespace/name).
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
        output: Format,
    },
    /// Show the deprovisionings the accidental-deletion threshold holds and their token, ask,
    /// then approve exactly that set (`xtsync.io/approve-deletions`).
    Approve {
        /// The SyncConfiguration.
        name: String,
        /// Approve without asking.
        #[arg(short = 'y', long)]
        yes: bool,
        /// Approve only if the pending set still has this token (what you reviewed).
        #[arg(long)]
        token: Option<String>,
        #[command(flatten)]
        wait: WaitFlags,
    },
    /// Run an Initial cycle now and lift quarantine (`xtsync.io/restart`).
    Restart {
        /// The SyncConfiguration.
        name: String,
        #[command(flatten)]
        wait: WaitFlags,
    },
    /// Provision one user now (`xtsync.io/provision-on-demand`), wait for the answer, print it.
    Provision {
        /// The SyncConfiguration.
        name: String,
        /// The source user's userName or id (`group:<name>` for a group of scope.groups).
        #[arg(long)]
        user: String,
        /// How long to wait for the answer.
        #[arg(long, default_value = "2m", value_parser = duration)]
        timeout: Duration,
        #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
        output: Format,
    },
    /// Why a user is in or out of scope, skipped, or what the next cycle would do with it
    /// (reads both directories with the configuration's credentials; writes nothing).
    Explain {
        /// The SyncConfiguration.
        name: String,
        /// The source user's userName or id.
        #[arg(long)]
        user: String,
        #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
        output: Format,
    },
    /// What the next Initial cycle of each SyncConfiguration in the manifests would do
    /// (`xtsync plan`; no cluster needed).
    Plan {
        /// Manifests (files or folders): Tenants, policies, SyncConfigurations, their Secrets.
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<PathBuf>,
        #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
        output: Format,
        /// Exit 2 when changes are pending and 0 when none are (1 is an error either way).
        #[arg(long)]
        detailed_exitcode: bool,
    },
}

/// How a command prints: for people, or for tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// `--wait`: stay until the controller has acted on the request, and print what it did.
#[derive(clap::Args, Clone, Copy, Debug)]
struct WaitFlags {
    /// Wait until the cycle the request starts has completed, and print it.
    #[arg(long)]
    wait: bool,
    /// How long `--wait` waits.
    #[arg(long, default_value = "5m", value_parser = duration)]
    timeout: Duration,
}

fn duration(text: &str) -> Result<Duration, String> {
    crate::engine::interval::duration(text).map_err(|e| e.to_string())
}

/// What stops a command.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("cannot find a cluster: {0}")]
    NoCluster(String),
    #[error("{0}")]
    Api(#[from] kube::Error),
    #[error("syncconfiguration '{name}' not found in namespace '{namespace}'")]
    NotFound { namespace: String, name: String },
    /// The command did not do what it was asked, and says why (nothing was changed unless the
    /// message says so).
    #[error("{0}")]
    NotDone(String),
}

/// Runs the plugin; the process's exit code.
pub async fn run(cli: PluginCli) -> u8 {
    dispatch(cli.command, &cli.cluster).await.unwrap_or_else(|error| {
        eprintln!("error: {error}");
        1
    })
}

/// Each command; all but `plan` connect to the cluster first.
async fn dispatch(command: PluginCommand, flags: &ClusterFlags) -> Result<u8, PluginError> {
    match command {
        PluginCommand::Plan {
            files,
            output,
            detailed_exitcode,
        } => Ok(crate::controller::preview::command(&files, output == Format::Json, detailed_exitcode).await),
        PluginCommand::Status {
            name,
            all_namespaces,
            output,
        } => status::command(&flags.connect().await?, name.as_deref(), all_namespaces, output).await,
        PluginCommand::Approve { name, yes, token, wait } => {
            let asked = approve::Asked {
                yes,
                token,
                wait: wait.wait.then_some(wait.timeout),
            };
            approve::command(&flags.connect().await?, &name, &asked, &mut approve::Terminal).await
        }
        PluginCommand::Restart { name, wait } => {
            restart::command(&flags.connect().await?, &name, wait.wait.then_some(wait.timeout)).await
        }
        PluginCommand::Provision {
            name,
            user,
            timeout,
            output,
        } => provision::command(&flags.connect().await?, &name, &user, timeout, output).await,
        PluginCommand::Explain { name, user, output } => {
            explain::command(&flags.connect().await?, &name, &user, output).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_is_the_plugin_when_named_kubectl_xtsync() {
        let named = |n: &str| invoked_as_plugin(Some(std::ffi::OsStr::new(n)));
        assert!(named("/usr/local/bin/kubectl-xtsync"));
        assert!(named("kubectl-xtsync"));
        assert!(named("kubectl-xtsync.exe"));
        assert!(!named("/usr/local/bin/xtsync"));
        assert!(!named("kubectl-xtsync-old"));
        assert!(!invoked_as_plugin(None));
    }

    #[test]
    fn cluster_flags_go_before_or_after_the_command() {
        let cli = PluginCli::try_parse_from(["kubectl xtsync", "-n", "team-a", "status", "--context", "prod"])
            .expect("parses");
        assert_eq!(cli.cluster.namespace.as_deref(), Some("team-a"));
        assert_eq!(cli.cluster.context.as_deref(), Some("prod"));
        let cli = PluginCli::try_parse_from(["kubectl xtsync", "provision", "c", "--user", "alice", "-n", "x"])
            .expect("parses");
        assert_eq!(cli.cluster.namespace.as_deref(), Some("x"));
        assert!(matches!(cli.command, PluginCommand::Provision { ref user, .. } if user == "alice"));
    }
}
