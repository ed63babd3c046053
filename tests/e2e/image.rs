//! The operator from its own image (`support::image`: the one `make test` built, or built as
//! `make image` does): buildah runs the image's entrypoint as the image's user against the test
//! control plane, and two users sync.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use xtsync::api::reasons::ReadyReason;

use crate::support::TestNs;
use crate::support::image::{Container, Running, STORAGE, buildah};
use crate::{manifests, sync};

/// The process started as `argv` (its whole command line, not one that merely holds it, as
/// buildah's own does), with its real uid.
fn process_started_as(argv: &[&str]) -> Option<u32> {
    let wanted: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        entry.file_name().to_str()?.parse::<u32>().ok()?;
        if std::fs::read(entry.path().join("cmdline")).ok()? != wanted {
            return None;
        }
        let status = std::fs::read_to_string(entry.path().join("status")).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("Uid:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    })
}

#[tokio::test]
async fn the_operator_runs_from_its_image_as_a_non_root_user_and_syncs() {
    let t = TestNs::new("image").await;
    let (archive, size) = tokio::task::spawn_blocking(crate::support::image::built)
        .await
        .expect("build")
        .clone();
    eprintln!(
        "image: {} ({:.1} MiB unpacked)",
        archive.display(),
        size as f64 / 1048576.0
    );

    let container = tokio::task::spawn_blocking(move || Container::of(&archive))
        .await
        .expect("container");
    assert_eq!(container.inspect("{{.OCIv1.Config.User}}"), "65532:65532");
    assert_eq!(
        container.inspect("{{.OCIv1.Config.Entrypoint}}"),
        "[/usr/local/bin/xtsync]"
    );
    let rootfs = PathBuf::from(buildah(&["mount", &container.0]));
    assert!(rootfs.join("usr/local/bin/xtsync").is_file());
    assert!(!rootfs.join("bin/sh").exists(), "the image has no shell");

    let kubeconfig = t.env.kubeconfig.display().to_string();
    let args = [
        "run",
        "--namespace",
        t.name.as_str(),
        "--http-addr",
        "127.0.0.1:0",
        "--leader-election",
        "false",
    ];
    let _operator = Running::spawn(
        Command::new("buildah")
            .args([STORAGE, "run", "--isolation", "chroot", "--network", "host"])
            .args(["--volume", &format!("{kubeconfig}:/etc/xtsync/kubeconfig:ro")])
            .args(["--env", "KUBECONFIG=/etc/xtsync/kubeconfig", "--env", "RUST_LOG=info"])
            .args([container.0.as_str(), "--", "/usr/local/bin/xtsync"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    );

    let contoso = t.scim("contoso");
    contoso.add_user("alice@contoso.com", sync::sales()).await;
    contoso.add_user("bob@contoso.com", sync::sales()).await;
    t.apply(&manifests::two_tenants(&t).and(manifests::policies())).await;
    t.apply(&sync::sales_config("1h", manifests::nothing())).await;
    t.config_ready(sync::CONFIG, "True", ReadyReason::GateOpen).await;
    let fabrikam = t.scim("fabrikam");
    t.eventually("both users in fabrikam", || async { fabrikam.users().await.len() == 2 })
        .await;

    let argv = [&["/usr/local/bin/xtsync"][..], &args[..]].concat();
    let uid = process_started_as(&argv).expect("the operator's process");
    assert_eq!(uid, 65532, "the operator runs as the image's user");
}
