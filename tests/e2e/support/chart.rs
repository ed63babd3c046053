//! The chart, installed with Helm's own SDK (`tests/chart/release.py`) into the test control
//! plane, and what its Deployment would run — there is no kubelet here, so a test starts that
//! process itself, as a pod would: the container's args and environment, its ServiceAccount.

use std::path::PathBuf;
use std::process::Command;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Container;
use serde_json::Value;

use super::{TestNs, root};

/// Held while Helm applies the chart's CRDs (`helm install` does, with server-side apply) and
/// while the chart test stands an earlier CRD in for the upgrade check: the CRDs are shared by
/// every test of the process, and an install would conflict with that earlier CRD's fields.
pub static CRDS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn python() -> PathBuf {
    std::path::Path::new(super::scim_server_executable()).with_file_name("python")
}

/// `release.py` with `args`: its exit status and output.
async fn release_py(args: Vec<String>) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(python())
            .arg(root().join("tests/chart/release.py"))
            .args(&args)
            .output()
            .expect("python runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    })
    .await
    .expect("helm thread")
}

/// `helm install <release> charts/xtsync -n <namespace> --values <values>`; its manifest.
pub async fn install(t: &TestNs, namespace: &str, release: &str, values: Value) -> String {
    let _crds = CRDS.lock().await;
    let (ok, text) = release_py(vec![
        "install".into(),
        root().join("charts/xtsync").display().to_string(),
        t.env.kubeconfig.display().to_string(),
        namespace.into(),
        release.into(),
        values.to_string(),
    ])
    .await;
    assert!(ok, "helm install {release}: {text}");
    text
}

/// `helm test <release> -n <namespace>`: Ok with Helm's word when its test hooks passed.
pub async fn helm_test(t: &TestNs, namespace: &str, release: &str) -> Result<String, String> {
    let (ok, text) = release_py(vec![
        "test".into(),
        t.env.kubeconfig.display().to_string(),
        namespace.into(),
        release.into(),
        "120".into(),
    ])
    .await;
    if ok { Ok(text) } else { Err(text) }
}

/// The Deployment's one container.
pub fn container(deployment: &Deployment) -> Container {
    let pod = deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("a pod template");
    assert_eq!(pod.containers.len(), 1, "one container");
    pod.containers[0].clone()
}

/// The container's environment as the kubelet would give it to a pod `pod_name` in
/// `namespace`: values as they are, the downward API's metadata fields resolved.
pub fn environment(container: &Container, namespace: &str, pod_name: &str) -> Vec<(String, String)> {
    container
        .env
        .iter()
        .flatten()
        .map(|e| {
            let value = match e.value_from.as_ref().and_then(|v| v.field_ref.as_ref()) {
                Some(field) => match field.field_path.as_str() {
                    "metadata.namespace" => namespace.to_owned(),
                    "metadata.name" => pod_name.to_owned(),
                    other => panic!("a field the tests do not resolve: {other}"),
                },
                None => e.value.clone().unwrap_or_default(),
            };
            (e.name.clone(), value)
        })
        .collect()
}

/// The ServiceAccount the Deployment's pods run as.
pub fn service_account(deployment: &Deployment) -> String {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.service_account_name.clone())
        .expect("a serviceAccountName")
}
