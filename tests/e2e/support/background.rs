//! A helper process that prints `ready <value>` once it is up, and exits when its stdin closes.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Background {
    pub ready_line: String,
    _child: Child,
    // Held open for the life of the process; closing it tells the helper to stop.
    _stdin: ChildStdin,
}

impl Background {
    pub fn start(command: &mut Command, within: Duration) -> Background {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("helper starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("ready ") {
                    let _ = tx.send(rest.to_owned());
                }
            }
        });
        let ready_line = rx
            .recv_timeout(within)
            .unwrap_or_else(|_| panic!("helper {command:?} did not become ready within {within:?}"));
        Background {
            ready_line,
            _child: child,
            _stdin: stdin,
        }
    }
}
