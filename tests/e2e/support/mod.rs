//! The test environment of real parts (README, "Test environment"): one kube-apiserver + etcd and one
//! scim2-server per test process, started on first use by the scripts in `tests/env/` and
//! stopped when the process ends (they exit when our end of their stdin closes).
//! Every test gets its own namespace and runs its own controllers, scoped to that namespace,
//! so tests run in parallel without seeing each other.

#![allow(dead_code)]

pub mod accounts;
pub mod audit;
pub mod background;
pub mod chart;
pub mod cut;
pub mod faults;
pub mod image;
pub mod operator;
pub mod pki;
pub mod provisioning_log;
pub mod scim;
pub mod tls_front;

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::PostParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use xtsync::api::conditions::ConditionReason;
use xtsync::api::reasons::ReadyReason;
use xtsync::controller::Settings;

pub use background::Background;

pub const SCIM_TOKEN: &str = "e2e-token";

/// Anything `TestNs::apply` takes: structured manifests, or YAML as written in a file.
pub trait Manifest {
    fn yaml(&self) -> String;
}

impl Manifest for str {
    fn yaml(&self) -> String {
        self.to_owned()
    }
}

impl Manifest for String {
    fn yaml(&self) -> String {
        self.clone()
    }
}

pub struct Env {
    pub kubeconfig: PathBuf,
    pub scim_base: String,
    _control_plane: Background,
}

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shared environment, started once per test process.
pub fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("xtsync-e2e-")
            .tempdir()
            .expect("temp dir")
            .keep();
        let control_plane = Background::start(
            Command::new("bash")
                .arg(root().join("tests/env/control-plane.sh"))
                .arg("serve")
                .arg(&dir),
            Duration::from_secs(900),
        );
        let kubeconfig = PathBuf::from(control_plane.ready_line.clone());
        kubectl(&kubeconfig, &["apply", "-f", &root().join("crds").to_string_lossy()]);
        kubectl(
            &kubeconfig,
            &["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"],
        );
        Env {
            kubeconfig,
            scim_base: scim_server().to_owned(),
            _control_plane: control_plane,
        }
    })
}

/// The scim2-server executable in the test venv (its python, with helm-python-sdk, is beside it).
pub fn scim_server_executable() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        let out = Command::new("bash")
            .arg(root().join("tests/env/install-scim-server.sh"))
            .output()
            .expect("installer runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    })
}

/// The shared scim2-server (base URL `http://127.0.0.1:PORT`), started once per process;
/// tenants are created on first use.
pub fn scim_server() -> &'static str {
    static SCIM: OnceLock<Background> = OnceLock::new();
    &SCIM.get_or_init(start_scim_server).ready_line
}

/// A scim2-server of its own (a directory on another machine, as far as its load goes): it
/// stops when the returned handle is dropped; `ready_line` is its base URL.
pub fn start_scim_server() -> Background {
    start_scim_server_on(None)
}

/// `start_scim_server`, on CPU `cpu` only when given (`taskset`): a directory with a core of
/// its own, as on a machine of its own.
pub fn start_scim_server_on(cpu: Option<usize>) -> Background {
    let port = free_port();
    let mut command = match cpu {
        Some(cpu) => {
            let mut pinned = Command::new("taskset");
            pinned.args(["-c", &cpu.to_string(), "bash"]);
            pinned
        }
        None => Command::new("bash"),
    };
    Background::start(
        command
            .arg(root().join("tests/env/scim-server.sh"))
            .arg("serve")
            .arg(port.to_string())
            .arg(SCIM_TOKEN),
        Duration::from_secs(300),
    )
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// Runs kubectl against the test apiserver; panics with its output when it fails.
pub fn kubectl(kubeconfig: &Path, args: &[&str]) -> String {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {} failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `kubectl apply -f -` of `yaml`; returns Err with kubectl's message when the apiserver refuses.
pub fn kubectl_apply(kubeconfig: &Path, namespace: &str, yaml: &str) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["apply", "-n", namespace, "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(yaml.as_bytes())
        .expect("write manifest");
    let out = child.wait_with_output().expect("kubectl finishes");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A namespace of one test, with a client and (optionally) the controllers running in it.
pub struct TestNs {
    pub name: String,
    pub client: Client,
    pub env: &'static Env,
    controllers: Option<tokio::task::JoinHandle<()>>,
}

impl TestNs {
    /// A fresh namespace named after the test.
    pub async fn new(test: &str) -> TestNs {
        let env = env();
        let config = kube::Config::from_custom_kubeconfig(
            Kubeconfig::read_from(&env.kubeconfig).expect("kubeconfig readable"),
            &KubeConfigOptions::default(),
        )
        .await
        .expect("kubeconfig valid");
        let client = Client::try_from(config).expect("client");
        let suffix: u32 = rand_suffix();
        let name = format!(
            "{}-{suffix:08x}",
            test.replace('_', "-").chars().take(40).collect::<String>()
        );
        let ns = Namespace {
            metadata: kube::api::ObjectMeta {
                name: Some(name.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .expect("create namespace");
        TestNs {
            name,
            client,
            env,
            controllers: None,
        }
    }

    /// Starts the controllers, watching this namespace only.
    pub fn start_controllers(&mut self, tweak: impl FnOnce(&mut Settings)) {
        let clients = xtsync::providers::Clients::new().expect("the HTTP client builds");
        self.start_controllers_with(clients, tweak);
    }

    /// Starts the controllers with `clients` (e.g. a federated token of the test's own).
    pub fn start_controllers_with(&mut self, clients: xtsync::providers::Clients, tweak: impl FnOnce(&mut Settings)) {
        provisioning_log::install();
        let mut settings = Settings {
            namespace: Some(self.name.clone()),
            tenant_retry: Duration::from_secs(2),
            ..Settings::default()
        };
        tweak(&mut settings);
        let client = self.client.clone();
        let health = std::sync::Arc::new(xtsync::ops::http::Health::default());
        self.controllers = Some(tokio::spawn(xtsync::controller::run_with(
            client, settings, health, clients,
        )));
    }

    // kubectl runs on a blocking thread: the controllers share this test's runtime, and a
    // blocked runtime would starve them (e.g. during `kubectl wait`).
    pub fn stop_controllers(&mut self) {
        if let Some(handle) = self.controllers.take() {
            handle.abort();
        }
    }

    pub async fn apply(&self, manifests: &(impl Manifest + ?Sized)) {
        if let Err(e) = self.try_apply(manifests).await {
            panic!("kubectl apply failed: {e}");
        }
    }

    pub async fn try_apply(&self, manifests: &(impl Manifest + ?Sized)) -> Result<String, String> {
        let (kubeconfig, ns, yaml) = (self.env.kubeconfig.clone(), self.name.clone(), manifests.yaml());
        tokio::task::spawn_blocking(move || kubectl_apply(&kubeconfig, &ns, &yaml))
            .await
            .expect("kubectl thread")
    }

    pub async fn kubectl(&self, args: &[&str]) -> String {
        let mut all = vec!["-n".to_owned(), self.name.clone()];
        all.extend(args.iter().map(|a| a.to_string()));
        let kubeconfig = self.env.kubeconfig.clone();
        tokio::task::spawn_blocking(move || kubectl(&kubeconfig, &all.iter().map(String::as_str).collect::<Vec<_>>()))
            .await
            .expect("kubectl thread")
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    /// Waits for the SyncConfiguration `name` to be `Ready=status` with `reason`.
    pub async fn config_ready(&self, name: &str, status: &str, reason: ReadyReason) -> Condition {
        wait_ready(&self.api::<xtsync::api::SyncConfiguration>(), name, status, reason).await
    }

    /// Write requests (POST, PUT, PATCH, DELETE) the scim2-server logged for this test's
    /// tenant `tenant`, as "METHOD /path" lines.
    pub fn scim_writes(&self, tenant: &str) -> Vec<String> {
        self.scim_requests(tenant, &["POST ", "PUT ", "PATCH ", "DELETE "])
    }

    /// `GET /Users…` requests the scim2-server logged for this test's tenant `tenant`.
    pub fn scim_reads(&self, tenant: &str) -> Vec<String> {
        self.scim_requests(tenant, &["GET "])
            .into_iter()
            .filter(|r| r.contains("/Users"))
            .collect()
    }

    pub fn scim_requests(&self, tenant: &str, methods: &[&str]) -> Vec<String> {
        let port = self.env.scim_base.rsplit(':').next().unwrap_or_default();
        let log = std::env::temp_dir().join(format!("xtsync-scim2-server-{port}.log"));
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let prefix = format!(" /{}-{tenant}/v2/", self.name);
        text.lines()
            .filter_map(|l| l.split('"').nth(1))
            .filter(|r| r.contains(&prefix) && methods.iter().any(|m| r.starts_with(m)))
            .map(|r| r.trim_end_matches(" HTTP/1.1").to_owned())
            .collect()
    }

    /// A client for this test's SCIM tenant `tenant`.
    pub fn scim(&self, tenant: &str) -> scim::Scim {
        scim::Scim::new(self.scim_url(tenant))
    }

    /// Polls until `check` holds, or panics after 30 s with `what`.
    pub async fn eventually<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !check().await {
            assert!(Instant::now() < deadline, "not within 30 s: {what}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn config(&self, name: &str) -> xtsync::api::SyncConfiguration {
        self.api::<xtsync::api::SyncConfiguration>()
            .get(name)
            .await
            .expect("configuration")
    }

    /// A SCIM tenant URL on the shared scim2-server, private to this test.
    pub fn scim_url(&self, tenant: &str) -> String {
        format!("{}/{}-{}/v2", self.env.scim_base, self.name, tenant)
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        if let Some(handle) = self.controllers.take() {
            handle.abort();
        }
    }
}

fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish() as u32
}

/// Polls `name` until its condition `type_` satisfies `accept`, or panics after `within`
/// with the last conditions seen (so a failure says what the operator did instead).
pub async fn wait_condition<K>(
    api: &Api<K>,
    name: &str,
    type_: &str,
    within: Duration,
    accept: impl Fn(&Condition) -> bool,
) -> Condition
where
    K: Resource + Clone + DeserializeOwned + Debug + serde::Serialize,
{
    let deadline = Instant::now() + within;
    let mut last = None;
    loop {
        if let Ok(Some(object)) = api.get_opt(name).await {
            let conditions = conditions_of(&object);
            if let Some(c) = conditions.iter().find(|c| c.type_ == type_ && accept(c)) {
                return c.clone();
            }
            last = Some(conditions);
        }
        assert!(
            Instant::now() < deadline,
            "{name}: condition {type_} not as expected within {within:?}; last conditions: {last:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The condition of `reason`'s type with the given status and reason.
pub async fn wait_ready<K, R>(api: &Api<K>, name: &str, status: &str, reason: R) -> Condition
where
    K: Resource + Clone + DeserializeOwned + Debug + serde::Serialize,
    R: ConditionReason,
{
    wait_condition(api, name, R::TYPE, Duration::from_secs(30), |c| {
        c.status == status && c.reason == reason.as_str()
    })
    .await
}

fn conditions_of<K: serde::Serialize>(object: &K) -> Vec<Condition> {
    let value = serde_json::to_value(object).expect("object serializes");
    serde_json::from_value(value.pointer("/status/conditions").cloned().unwrap_or_default()).unwrap_or_default()
}
