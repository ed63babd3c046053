//! The Krew manifest (krew/xtsync.yaml) and archive `make plugin-archive` makes: the manifest
//! names the archive by its sha256, and the archive, laid out as Krew installs it — its files
//! unpacked, `bin` linked as `kubectl-xtsync` on `PATH` — is the plugin kubectl runs.

use std::process::Command;

use serde_json::Value;

use super::run;
use crate::manifests;
use crate::support::{TestNs, root, scim_server_executable};
use crate::sync::CONFIG;

fn sha256(path: &std::path::Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A YAML file as JSON, read by PyYAML of the test environment's virtualenv (beside scim2-server).
fn yaml(path: &std::path::Path) -> Value {
    let python = std::path::Path::new(scim_server_executable()).with_file_name("python");
    let out = Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(path)
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[tokio::test]
async fn the_krew_archive_installed_as_krew_lays_it_out_is_the_plugin() {
    let t = TestNs::new("plugin-krew").await;
    t.apply(&manifests::sync_config(
        CONFIG,
        "contoso",
        "fabrikam",
        manifests::nothing(),
    ))
    .await;
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().to_owned();
    let packaged = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .arg(root().join("krew/package.sh"))
            .arg(&dir)
            .env("XTSYNC_PLUGIN_BINARY", env!("CARGO_BIN_EXE_xtsync"))
            .output()
            .expect("package.sh runs")
    })
    .await
    .expect("thread");
    assert!(
        packaged.status.success(),
        "{}",
        String::from_utf8_lossy(&packaged.stderr)
    );

    let text = std::fs::read_to_string(out.path().join("xtsync.yaml")).expect("the manifest");
    let manifest = yaml(&out.path().join("xtsync.yaml"));
    assert_eq!(manifest["apiVersion"], "krew.googlecontainertools.github.com/v1alpha2");
    assert_eq!(
        (manifest["kind"].as_str(), manifest["metadata"]["name"].as_str()),
        (Some("Plugin"), Some("xtsync"))
    );
    assert_eq!(manifest["spec"]["version"], format!("v{}", env!("CARGO_PKG_VERSION")));
    let platform = &manifest["spec"]["platforms"][0];
    assert_eq!(platform["selector"]["matchLabels"]["os"], "linux");
    let uri = platform["uri"].as_str().expect("a uri");
    let archive = out.path().join(uri.rsplit('/').next().expect("a file name"));
    assert_eq!(platform["sha256"].as_str(), Some(sha256(&archive).as_str()), "{text}");

    // As Krew installs it: the archive unpacked, `bin` linked as kubectl-<name> on PATH.
    let (store, bin) = (out.path().join("store"), out.path().join("bin"));
    std::fs::create_dir_all(&store).expect("store");
    std::fs::create_dir_all(&bin).expect("bin");
    let unpacked = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&store)
        .status()
        .expect("tar runs");
    assert!(unpacked.success());
    let executable = store.join(platform["bin"].as_str().expect("bin"));
    std::os::unix::fs::symlink(&executable, bin.join("kubectl-xtsync")).expect("link");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let args = ["xtsync", "status", "-n", &t.name].map(str::to_owned).to_vec();
    let status = run(&t, "kubectl".into(), args, vec![("PATH".into(), path)], "").await;
    assert_eq!(status.code, 0, "{status}");
    assert!(
        status.stdout.lines().nth(1).is_some_and(|l| l.starts_with(CONFIG)),
        "{status}"
    );
}
