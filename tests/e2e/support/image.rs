//! The operator's image, built and run as the tests need it: the image `make test` built
//! (`XTSYNC_IMAGE_BUILT`), or else `image/build.sh` builds the OCI archive (as `make image` does,
//! with the lighter `image` profile unless `XTSYNC_IMAGE_PROFILE` says otherwise) once per test
//! process; buildah runs containers of it on the host's network — no kubelet here, so a test
//! runs what a pod would run.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use super::root;

/// buildah's storage here: vfs works without overlay mounts, in this sandbox as in CI.
pub const STORAGE: &str = "--storage-driver=vfs";

/// Runs buildah with `args`; panics with its error output when it fails.
pub fn buildah(args: &[&str]) -> String {
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
/// when the tests run without it, the image built now, once (blocking: call it from a blocking
/// thread): its OCI archive and the size of its unpacked files.
pub fn built() -> &'static (PathBuf, u64) {
    static IMAGE: OnceLock<(PathBuf, u64)> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let printed = match std::env::var("XTSYNC_IMAGE_BUILT") {
            Ok(file) => std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}")),
            Err(_) => build(),
        };
        let mut lines = printed.lines();
        let archive = PathBuf::from(lines.next().expect("the archive's path"));
        let size = lines
            .next()
            .and_then(|l| l.strip_prefix("size ")?.parse().ok())
            .expect("the unpacked size");
        (archive, size)
    })
}

/// Runs image/build.sh (with the lighter `image` profile unless `XTSYNC_IMAGE_PROFILE` says
/// otherwise) and returns what it printed.
fn build() -> String {
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
pub struct Container(pub String);

impl Container {
    pub fn of(archive: &Path) -> Container {
        Container(buildah(&[
            "from",
            "--quiet",
            &format!("oci-archive:{}", archive.display()),
        ]))
    }

    pub fn inspect(&self, format: &str) -> String {
        buildah(&["inspect", "--type", "container", "--format", format, &self.0])
    }

    /// The image's entrypoint, which a pod that gives only `args` runs them with.
    pub fn entrypoint(&self) -> Vec<String> {
        // (buildah 1.28's --format has no `json` function: read the whole inspection.)
        let inspection: serde_json::Value =
            serde_json::from_str(&buildah(&["inspect", "--type", "container", &self.0])).expect("buildah inspect JSON");
        serde_json::from_value(inspection["OCIv1"]["config"]["Entrypoint"].clone()).expect("an entrypoint")
    }

    /// `buildah run` of `argv` in this container, as a pod on the host's network would run it:
    /// `mounts` (host path, path inside), `env`; stdout and stderr are the caller's to set.
    pub fn run(&self, mounts: &[(&Path, &str)], env: &[(String, String)], argv: &[String]) -> Command {
        let mut command = Command::new("buildah");
        command
            .args([STORAGE, "run", "--isolation", "chroot", "--network", "host"])
            .args(
                mounts
                    .iter()
                    .flat_map(|(host, inside)| ["--volume".to_owned(), format!("{}:{inside}:ro", host.display())]),
            )
            .args(env.iter().flat_map(|(k, v)| ["--env".to_owned(), format!("{k}={v}")]))
            .args([self.0.as_str(), "--"])
            .args(argv);
        command
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("buildah").args([STORAGE, "rm", &self.0]).output();
    }
}

/// `buildah run` in a process group of its own, the whole group killed however the test ends:
/// killing buildah alone would leave the operator it started running.
pub struct Running(Child);

impl Running {
    pub fn spawn(command: &mut Command) -> Running {
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
