//! The chart on the test control plane (README, "Install"): releases installed with Helm's own
//! SDK, their operators run as their Deployments and ServiceAccounts say (there is no kubelet
//! here, so the test starts the processes a pod would run), and `helm test` judged by Helm itself
//! while the test plays the kubelet for the hook Pod: it runs the Pod's exact command from the
//! operator's image and reports how it ended.

use std::process::Stdio;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;
use xtsync::api::reasons::ReadyReason;

use crate::support::image::{Container, Running};
use crate::support::operator::Operator;
use crate::support::{TestNs, accounts, chart, free_port};
use crate::{manifests, sync};

const QUIET: (&str, &str) = ("RUST_LOG", "warn,kube_client=error");

/// Starts the operator of `release` (in `home`) as its Deployment says, authenticated as its
/// ServiceAccount.
async fn operator_of(home: &TestNs, release: &str) -> Operator {
    let deployment = home.api::<Deployment>().get(release).await.expect("the Deployment");
    let container = chart::container(&deployment);
    let mut env = chart::environment(&container, &home.name, &format!("{release}-pod"));
    env.push((QUIET.0.into(), QUIET.1.into()));
    let kubeconfig = accounts::kubeconfig_for(home, &home.name, &chart::service_account(&deployment)).await;
    Operator::start(&kubeconfig, &container.args.unwrap_or_default(), &env)
}

#[tokio::test]
async fn helm_releases_sharing_a_namespace_each_lead_on_their_own_lease_and_sync_their_own_namespace() {
    let home = TestNs::new("helm-two-releases").await;
    let teams = [TestNs::new("helm-team-a").await, TestNs::new("helm-team-b").await];
    let releases = ["sync-a", "sync-b"];
    let mut operators = Vec::new();
    for (release, team) in releases.iter().zip(&teams) {
        chart::install(&home, &home.name, release, json!({ "watchNamespace": team.name })).await;
        operators.push(operator_of(&home, release).await);
    }

    // Both lead at once, each on the Lease named after its release: two elections, not one.
    home.eventually("both releases lead", || async {
        operators[0].metric("xtsync_leader").await == 1.0 && operators[1].metric("xtsync_leader").await == 1.0
    })
    .await;
    let leases = home
        .kubectl(&[
            "get",
            "leases",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name}={.spec.holderIdentity} {end}",
        ])
        .await;
    let mut leases: Vec<&str> = leases.split_whitespace().collect();
    leases.sort_unstable();
    assert_eq!(leases, ["sync-a=sync-a-pod", "sync-b=sync-b-pod"]);

    // Each syncs the namespace it watches.
    for team in &teams {
        let contoso = team.scim("contoso");
        contoso.add_user("alice@contoso.com", sync::sales()).await;
        contoso.add_user("bob@contoso.com", sync::sales()).await;
        team.apply(&manifests::two_tenants(team).and(manifests::policies()))
            .await;
        team.apply(&sync::sales_config("1h", manifests::nothing())).await;
    }
    for team in &teams {
        team.config_ready(sync::CONFIG, "True", ReadyReason::GateOpen).await;
        let fabrikam = team.scim("fabrikam");
        team.eventually("both users in the team's fabrikam", || async {
            fabrikam.users().await.len() == 2
        })
        .await;
    }
}

/// Runs `helm test <release>` while playing the kubelet for its hook Pod: the Pod as the API
/// server has it, its container's exact command run from the image (the Service's name
/// resolving to 127.0.0.1, where the release's operator listens), and its phase reported by
/// how that command ended. Helm's verdict, and the command's output.
async fn helm_test_with_a_kubelet(
    t: &TestNs,
    release: &str,
    archive: &std::path::Path,
) -> (Result<String, String>, String) {
    let kubelet = async {
        let pods = t.api::<Pod>();
        let name = format!("{release}-probe");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let pod = loop {
            let found = pods.get_opt(&name).await.ok().flatten();
            // A Pod of an earlier `helm test` may still be there, ended: Helm replaces it.
            if let Some(pod) = found.filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending")) {
                break pod;
            }
            assert!(std::time::Instant::now() < deadline, "helm test created no hook Pod");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        };
        let spec = pod.spec.as_ref().expect("spec");
        let user = spec.security_context.as_ref().and_then(|c| c.run_as_user);
        assert_eq!(user, Some(65532), "the image's own user (buildah runs as it)");
        assert_eq!(spec.containers.len(), 1);
        let probe = &spec.containers[0];
        assert!(probe.command.is_none(), "the image's entrypoint runs the args");
        assert_eq!(
            probe.image.as_deref(),
            Some(format!("localhost/xtsync:{}", env!("CARGO_PKG_VERSION")).as_str()),
            "the operator's own image, as image/build.sh tags it"
        );
        let args = probe.args.clone().expect("args");
        let url = args.iter().find(|a| a.starts_with("http://")).expect("a URL");
        let host = url
            .trim_start_matches("http://")
            .split([':', '/'])
            .next()
            .expect("a host");
        assert_eq!(
            host,
            format!("{release}-metrics.{}.svc", t.name),
            "the release's Service"
        );
        let hosts = std::env::temp_dir().join(format!("xtsync-hosts-{}-{release}", t.name));
        std::fs::write(&hosts, format!("127.0.0.1 localhost {host}\n")).expect("hosts");
        let archive = archive.to_owned();
        let (success, output) = tokio::task::spawn_blocking(move || {
            let container = Container::of(&archive);
            let argv = [container.entrypoint(), args].concat();
            let out = container
                .run(&[(&hosts, "/etc/hosts")], &[], &argv)
                .stdin(Stdio::null())
                .output()
                .expect("buildah run");
            let output = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), output)
        })
        .await
        .expect("the hook's container");
        let phase = if success { "Succeeded" } else { "Failed" };
        let patch = json!({ "status": { "phase": phase } }).to_string();
        t.kubectl(&[
            "patch",
            "pod",
            &name,
            "--subresource=status",
            "--type=merge",
            "-p",
            &patch,
        ])
        .await;
        output
    };
    tokio::join!(chart::helm_test(t, &t.name, release), kubelet)
}

#[tokio::test]
async fn helm_test_runs_the_hooks_command_from_the_image_and_passes_only_against_a_running_release() {
    let t = TestNs::new("helm-test").await;
    let release = "probed";
    // The Service's port is the operator's: a free one of this machine, as every test's.
    let port = free_port();
    chart::install(
        &t,
        &t.name,
        release,
        json!({ "watchNamespace": t.name, "httpPort": port }),
    )
    .await;
    let (archive, _) = tokio::task::spawn_blocking(crate::support::image::built)
        .await
        .expect("build")
        .clone();

    // Nothing runs the release yet: the hook's command fails, and Helm says so.
    let (verdict, output) = helm_test_with_a_kubelet(&t, release, &archive).await;
    assert!(
        verdict.is_err(),
        "helm test passed with no operator running: {verdict:?}"
    );
    assert!(output.contains("xtsync probe:"), "{output}");

    // The release's operator, from the image, as its Deployment says — listening on the
    // loopback address that stands for its pod's here.
    let deployment = t.api::<Deployment>().get(release).await.expect("the Deployment");
    let container = chart::container(&deployment);
    let mut env = chart::environment(&container, &t.name, &format!("{release}-pod"));
    for (name, value) in &mut env {
        if name == "XTSYNC_HTTP_ADDR" {
            assert_eq!(*value, format!("0.0.0.0:{port}"));
            *value = format!("127.0.0.1:{port}");
        }
    }
    env.push(("KUBECONFIG".into(), "/etc/xtsync/kubeconfig".into()));
    env.push((QUIET.0.into(), QUIET.1.into()));
    let kubeconfig = accounts::kubeconfig_for(&t, &t.name, &chart::service_account(&deployment)).await;
    let args = container.args.unwrap_or_default();
    let image = archive.clone();
    // Dropped in order: the operator's process group killed, then its container removed.
    let _operator = tokio::task::spawn_blocking(move || {
        let container = Container::of(&image);
        let argv = [container.entrypoint(), args].concat();
        let running = Running::spawn(
            container
                .run(&[(&kubeconfig, "/etc/xtsync/kubeconfig")], &env, &argv)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit()),
        );
        (running, container)
    })
    .await
    .expect("the operator's container");
    t.eventually("the release's operator is ready", || async {
        reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;

    let (verdict, output) = helm_test_with_a_kubelet(&t, release, &archive).await;
    assert!(verdict.is_ok(), "{verdict:?}: {output}");
    assert!(output.contains("200 OK"), "{output}");
}
