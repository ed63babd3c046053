//! The operator from its own image: `image/build.sh` builds the OCI archive (as `make image`
//! does, with the lighter `image` profile; `make test` builds it before the tests),
//! buildah runs the image's entrypoint as the image's user against the test control plane, and
//! two users sync.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use xtsync::api::reasons::ReadyReason;

use crate::support::{TestNs, root};
use crate::{manifests, sync};

/// buildah's storage here: vfs works without overlay mounts, in this sandbox as in CI.
const STORAGE: &str = "--storage-driver=vfs";

/// Runs buildah with `args`; panics with its error output when it fails.
fn buildah(args: &[&str]) -> String {
    let out = Command::new("buildah")
        .arg(STORAGE)
        .args(args)
        .output()
        .expect("buildah runs");
    assert!(
        out.status.success(),
        "buildah {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The image `make test` built (`XTSYNC_IMAGE_BUILT` names what image/build.sh printed), or,
/// when the test runs alone, the image built now: the OCI archive and the size of its files.
fn built_image() -> (PathBuf, u64) {
    let printed = match std::env::var("XTSYNC_IMAGE_BUILT") {
        Ok(file) => std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}")),
        Err(_) => build_image(),
    };
    let mut lines = printed.lines();
    let archive = PathBuf::from(lines.next().expect("the archive's path"));
    let size = lines
        .next()
        .and_then(|l| l.strip_prefix("size ")?.parse().ok())
        .expect("the unpacked size");
    (archive, size)
}

/// Runs image/build.sh (with the lighter `image` profile unless `XTSYNC_IMAGE_PROFILE` says
/// otherwise) and returns what it printed.
fn build_image() -> String {
    let profile = std::env::var("XTSYNC_IMAGE_PROFILE").unwrap_or_else(|_| "image".into());
    let out = Command::new("bash")
        .arg(root().join("image/build.sh"))
        .env("XTSYNC_IMAGE_PROFILE", profile)
        .stderr(Stdio::inherit())
        .output()
        .expect("image/build.sh runs");
    assert!(out.status.success(), "image/build.sh failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A working container of the image, removed however the test ends.
struct Container(String);

impl Container {
    fn of(archive: &Path) -> Container {
        Container(buildah(&[
            "from",
            "--quiet",
            &format!("oci-archive:{}", archive.display()),
        ]))
    }

    fn inspect(&self, format: &str) -> String {
        buildah(&["inspect", "--type", "container", "--format", format, &self.0])
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("buildah").args([STORAGE, "rm", &self.0]).output();
    }
}

/// `buildah run` in a process group of its own, the whole group killed however the test ends:
/// killing buildah alone would leave the operator it started running.
struct Running(Child);

impl Running {
    fn spawn(command: &mut Command) -> Running {
        Running(command.process_group(0).spawn().expect("buildah run"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

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
    let (archive, size) = tokio::task::spawn_blocking(built_image).await.expect("build");
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
