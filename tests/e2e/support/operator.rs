//! The operator binary as a process of its own, as a pod runs it: its flags and environment,
//! a kubeconfig, an HTTP port on 127.0.0.1; killed however the test ends.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Operator {
    child: Child,
    pub base: String,
}

impl Operator {
    /// `xtsync <args>` with `env`, reaching the API server through `kubeconfig`, serving
    /// `/healthz`, `/readyz` and `/metrics` on a free port of 127.0.0.1.
    pub fn start<A, K, V>(kubeconfig: &Path, args: &[A], env: &[(K, V)]) -> Operator
    where
        A: AsRef<OsStr>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let port = super::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_xtsync"))
            .args(args)
            .args(["--http-addr", &format!("127.0.0.1:{port}")])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("KUBECONFIG", kubeconfig)
            .env_remove("XTSYNC_HTTP_ADDR")
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the operator starts");
        Operator {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The status and body of `GET <path>`; status 0 while nothing answers.
    pub async fn get(&self, path: &str) -> (u16, String) {
        match reqwest::get(format!("{}{path}", self.base)).await {
            Ok(response) => (response.status().as_u16(), response.text().await.unwrap_or_default()),
            Err(_) => (0, String::new()),
        }
    }

    /// The sum of the metric lines starting with `name` (-1 while nothing answers).
    pub async fn metric(&self, name: &str) -> f64 {
        let (status, text) = self.get("/metrics").await;
        if status != 200 {
            return -1.0;
        }
        text.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
