//! `kubectl xtsync` end to end (README, "The kubectl plugin"): the binary run under the name
//! `kubectl-xtsync` (a symlink made here) against the real control plane and scim2-server —
//! and through kubectl's own plugin discovery, which finds `kubectl-xtsync` on `PATH`.

mod approve;
mod explain;
mod krew;
mod requests;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{Value, json};
use xtsync::api::conditions::ConditionReason;
use xtsync::api::reasons::SyncedReason;

use crate::manifests;
use crate::support::TestNs;
use crate::sync::{CONFIG, cycle_done, sales, sales_config};

/// What one run of the plugin printed, and its exit code.
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A folder of its own holding `kubectl-xtsync`, a symlink to the `xtsync` binary under test.
pub(crate) fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("xtsync-plugin-")
            .tempdir()
            .expect("temp dir")
            .keep();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_xtsync"), dir.join("kubectl-xtsync")).expect("symlink");
        dir
    })
}

/// Runs `program args…` with `KUBECONFIG` pointing at the test cluster and `input` on stdin
/// (on a blocking thread: the controllers share the test's runtime).
pub(crate) async fn run(
    t: &TestNs,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    input: &str,
) -> Run {
    let (kubeconfig, input) = (t.env.kubeconfig.clone(), input.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(&program)
            .args(&args)
            .env("KUBECONFIG", &kubeconfig)
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{} runs: {e}", program.display()));
        let _ = child.stdin.take().expect("stdin").write_all(input.as_bytes());
        let out = child.wait_with_output().expect("the plugin ends");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("thread")
}

/// `kubectl-xtsync args… -n <the test's namespace>`, nothing on stdin.
pub(crate) async fn xtsync(t: &TestNs, args: &[&str]) -> Run {
    answering(t, args, "").await
}

/// `kubectl-xtsync args… -n <the test's namespace>` with `input` on stdin.
pub(crate) async fn answering(t: &TestNs, args: &[&str], input: &str) -> Run {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend(["-n".to_owned(), t.name.clone()]);
    run(t, plugin_dir().join("kubectl-xtsync"), all, Vec::new(), input).await
}

/// A namespace with two SCIM tenants, their policies and the controllers running; `users`
/// of department Sales in the source, synced by the configuration `contoso-to-fabrikam`
/// (interval 1h: after the first cycle, only requests make anything happen).
pub(crate) async fn synced(name: &str, users: &[&str], extra: Value) -> TestNs {
    let mut t = TestNs::new(name).await;
    t.start_controllers(|_| {});
    t.apply(&manifests::two_tenants(&t).and(manifests::policies())).await;
    for user in users {
        t.scim("contoso").add_user(user, sales()).await;
    }
    t.apply(&sales_config("1h", extra)).await;
    cycle_done(&t, &[SyncedReason::CycleSucceeded]).await;
    t
}

#[tokio::test]
async fn kubectl_finds_the_plugin_on_its_path_and_runs_it() {
    let t = synced("plugin-discovery", &["alice@contoso.com"], json!({})).await;
    let path = format!(
        "{}:{}",
        plugin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = vec![("PATH".to_owned(), path)];
    let list = run(
        &t,
        "kubectl".into(),
        vec!["plugin".into(), "list".into()],
        env.clone(),
        "",
    )
    .await;
    assert!(list.stdout.contains("kubectl-xtsync"), "{list}");
    let args = ["xtsync", "status", "-n", &t.name].map(str::to_owned).to_vec();
    let status = run(&t, "kubectl".into(), args, env, "").await;
    assert_eq!(status.code, 0, "{status}");
    let line = status.stdout.lines().nth(1).unwrap_or_default();
    assert!(line.starts_with(CONFIG), "{status}");
    assert!(line.contains("contoso → fabrikam") && line.contains("1/1"), "{status}");
}

#[tokio::test]
async fn status_prints_one_line_per_configuration_name_first_in_any_namespace_or_context() {
    let t = synced("plugin-status", &["alice@contoso.com", "bob@contoso.com"], json!({})).await;
    let table = xtsync(&t, &["status"]).await;
    assert_eq!(table.code, 0, "{table}");
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one line: {table}");
    for column in [
        "NAME",
        "SOURCE → TARGET",
        "READY",
        "SYNCED",
        "USERS",
        "PENDING",
        "QUARANTINE",
        "LAST SYNC",
    ] {
        assert!(lines[0].contains(column), "{column}: {table}");
    }
    let cells: Vec<&str> = lines[1].split("   ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(
        cells[..7],
        [CONFIG, "contoso → fabrikam", "True", "True", "2/2", "-", "-"],
        "{table}"
    );
    assert!(cells[7].ends_with("s ago"), "{table}");

    let json = xtsync(&t, &["status", "-o", "json"]).await;
    let parsed: Value = serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(parsed[0]["name"], CONFIG);
    assert_eq!(
        (
            parsed[0]["usersProvisioned"].as_u64(),
            parsed[0]["usersInScope"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(parsed[0]["synced"]["reason"], SyncedReason::CycleSucceeded.as_str());

    let everywhere = xtsync(&t, &["status", "-A"]).await;
    let ours = format!("{}/{CONFIG} ", t.name);
    assert!(everywhere.stdout.lines().any(|l| l.starts_with(&ours)), "{everywhere}");

    // `--context` picks a context of the kubeconfig, whose namespace is then the default.
    let admin = std::fs::read_to_string(&t.env.kubeconfig).expect("kubeconfig");
    let two = admin.replace("current-context: xtsync-test", "")
        + &format!(
            "- name: ours\n  context: {{ cluster: xtsync-test, user: admin, namespace: {} }}\ncurrent-context: nowhere\n",
            t.name
        );
    let two = two.replacen(
        "contexts:\n",
        "contexts:\n- name: nowhere\n  context: { cluster: xtsync-test, user: nobody }\n",
        1,
    );
    let file = std::env::temp_dir().join(format!("xtsync-plugin-{}.kubeconfig", t.name));
    std::fs::write(&file, two).expect("kubeconfig written");
    let by_context = ["status", "--kubeconfig", &file.to_string_lossy(), "--context", "ours"].map(str::to_owned);
    let chosen = run(
        &t,
        plugin_dir().join("kubectl-xtsync"),
        by_context.to_vec(),
        Vec::new(),
        "",
    )
    .await;
    assert_eq!(chosen.code, 0, "{chosen}");
    assert!(
        chosen.stdout.lines().nth(1).is_some_and(|l| l.starts_with(CONFIG)),
        "{chosen}"
    );

    let missing = xtsync(&t, &["status", "no-such-configuration"]).await;
    assert_eq!(missing.code, 1, "{missing}");
    assert!(missing.stderr.contains("no-such-configuration"), "{missing}");
}

#[tokio::test]
async fn plan_is_xtsync_plan_under_the_plugins_name() {
    let t = TestNs::new("plugin-plan").await;
    t.scim("contoso").add_user("alice@contoso.com", sales()).await;
    let manifests = manifests::two_tenants(&t)
        .and(manifests::policies())
        .and(sales_config("10m", manifests::nothing()));
    let file = std::env::temp_dir().join(format!("xtsync-plugin-plan-{}.yaml", t.name));
    std::fs::write(&file, crate::support::Manifest::yaml(&manifests)).expect("manifests written");
    let planned = xtsync(
        &t,
        &[
            "plan",
            "-f",
            &file.to_string_lossy(),
            "-o",
            "json",
            "--detailed-exitcode",
        ],
    )
    .await;
    assert_eq!(planned.code, 2, "changes pending: {planned}");
    let json: Value = serde_json::from_str(&planned.stdout).unwrap_or_else(|e| panic!("{e}: {planned}"));
    assert_eq!(json["configurations"][0]["summary"]["created"], 1, "{planned}");
    assert!(t.scim_writes("fabrikam").is_empty(), "plan writes nothing");
}
