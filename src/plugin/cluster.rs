//! Finding the cluster the way kubectl does: `--kubeconfig`, else `KUBECONFIG` (several files
//! merged), else `~/.kube/config`, else the in-cluster service account; `--context` picks a
//! context; `-n` a namespace, else the context's, else `default`.

use std::path::PathBuf;

use kube::Client;
use kube::config::{Config, KubeConfigOptions, Kubeconfig};

use super::PluginError;

/// The flags kubectl users give every command.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ClusterFlags {
    /// Path to the kubeconfig file (default: `KUBECONFIG`, else ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace (default: the context's, else `default`).
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
}

/// A client of the cluster, and the namespace commands work in.
pub struct Cluster {
    pub client: Client,
    pub namespace: String,
}

impl ClusterFlags {
    pub async fn connect(&self) -> Result<Cluster, PluginError> {
        let config = self.config().await?;
        let namespace = self
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let client = Client::try_from(config).map_err(|e| PluginError::NoCluster(e.to_string()))?;
        Ok(Cluster { client, namespace })
    }

    async fn config(&self) -> Result<Config, PluginError> {
        let options = KubeConfigOptions {
            context: self.context.clone(),
            ..KubeConfigOptions::default()
        };
        let found = match (&self.kubeconfig, &self.context) {
            (Some(path), _) => {
                let kubeconfig = Kubeconfig::read_from(path)
                    .map_err(|e| PluginError::NoCluster(format!("{}: {e}", path.display())))?;
                Config::from_custom_kubeconfig(kubeconfig, &options).await
            }
            (None, Some(_)) => Config::from_kubeconfig(&options).await,
            (None, None) => return Config::infer().await.map_err(|e| PluginError::NoCluster(e.to_string())),
        };
        found.map_err(|e| PluginError::NoCluster(e.to_string()))
    }
}
