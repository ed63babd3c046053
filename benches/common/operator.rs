//! The operator's release binary, run by a bench against the test control plane.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The operator process, stopped however the bench ends.
pub struct Operator(Child);

impl Operator {
    /// Starts `xtsync run` with `args` besides its HTTP address, logging (warnings and up) to
    /// a file named after `part`.
    pub fn start(kubeconfig: &Path, part: &str, args: &[&str]) -> Operator {
        let log = std::env::temp_dir().join(format!("xtsync-bench-{part}-{}.log", std::process::id()));
        eprintln!("operator log: {}", log.display());
        Operator(
            wrapped()
                .args(["run", "--http-addr", "127.0.0.1:0"])
                .args(args)
                .env("KUBECONFIG", kubeconfig)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("log file"))
                .spawn()
                .expect("operator starts"),
        )
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary, or `heaptrack <binary>` when XTSYNC_BENCH_HEAPTRACK names an output file.
fn wrapped() -> Command {
    match std::env::var("XTSYNC_BENCH_HEAPTRACK") {
        Ok(out) => {
            let mut c = Command::new("heaptrack");
            c.args(["-o", &out, env!("CARGO_BIN_EXE_xtsync")]);
            c
        }
        Err(_) => Command::new(env!("CARGO_BIN_EXE_xtsync")),
    }
}
