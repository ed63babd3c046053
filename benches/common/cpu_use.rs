//! Where the two cores went during a measurement: the CPU time of this process and of the
//! scim2-servers, their niceness, and pinning to a core.

use std::time::Duration;

use crate::{proc_status, support};

/// The scim2-server behind `server` (found by its port).
pub fn server_pid(server: &support::Background) -> Option<u32> {
    let port = server.ready_line.rsplit(':').next().unwrap_or_default().to_owned();
    proc_status::pid_of(&["--port", &port])
}

/// Sets the niceness of `pid`; whether it worked.
pub fn renice(pid: Option<u32>, niceness: i32) -> bool {
    pid.is_some_and(|pid| {
        std::process::Command::new("renice")
            .args(["-n", &niceness.to_string(), "-p", &pid.to_string()])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The CPU time xtsync (this process), the target's server and the source's server use
/// during a measurement: where the two cores went.
pub struct CpuUse {
    pids: [Option<u32>; 3],
    before: [f64; 3],
}

impl CpuUse {
    pub fn start(target: &support::Background, source: &support::Background) -> CpuUse {
        let pids = [Some(std::process::id()), server_pid(target), server_pid(source)];
        CpuUse {
            before: Self::now(&pids),
            pids,
        }
    }

    fn now(pids: &[Option<u32>; 3]) -> [f64; 3] {
        pids.map(|pid| pid.map_or(0.0, proc_status::cpu_seconds))
    }

    /// The CPU seconds spent since `start`.
    pub fn stop(&self) -> [f64; 3] {
        let after = Self::now(&self.pids);
        [0, 1, 2].map(|i| after[i] - self.before[i])
    }

    pub fn print(&self, n: usize, wall: Duration) {
        print_cpu(self.stop(), n, wall);
    }
}

/// Where the CPU went, and how much of the wall time the target was busy: the part of it that
/// waited for its client, whether the floor's or xtsync.
pub fn print_cpu([this, target, source]: [f64; 3], n: usize, wall: Duration) {
    println!(
        "          CPU: this process {this:.1} s ({:.0} µs per user), target server {target:.1} s (busy {:.0} % of the time), source server {source:.1} s",
        this * 1e6 / n as f64,
        target * 100.0 / wall.as_secs_f64()
    );
}

/// Every thread of this process on CPU `cpu` (`taskset -a -p`); whether it worked.
pub fn pin_this_process_to(cpu: usize) -> bool {
    std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", &cpu.to_string(), &std::process::id().to_string()])
        .output()
        .is_ok_and(|o| o.status.success())
}
