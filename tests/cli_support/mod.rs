//! Running the real `hunter` binary from the integration tests: with a generous time limit
//! against hangs, its output captured for failure messages, and never outliving the test.
//!
//! Each test file uses a different subset of these helpers, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A `hunter` command, ready for arguments.
pub fn hunter() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hunter"))
}

/// The `scenarios/` corpus directory of this checkout.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// How a `hunter` run ended, with everything it printed.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The exit code; `None` when hunter was killed by a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// stdout and stderr together, for message assertions that should not care which stream.
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Everything a failing assertion should show.
    pub fn describe(&self) -> String {
        format!(
            "hunter exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// A running `hunter`, killed (with its process group) if the test ends while it still runs.
pub struct Running {
    child: Option<Child>,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

impl Running {
    /// Starts `command` with captured output, in a process group of its own so that a test
    /// giving up on it can take down whatever it started and did not clean up.
    pub fn start(mut command: Command) -> Running {
        use std::os::unix::process::CommandExt;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.process_group(0);
        let mut child = command.spawn().expect("cannot start the hunter binary");
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        Running {
            child: Some(child),
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends a signal (e.g. "INT", "TERM") to hunter itself.
    pub fn signal(&self, name: &str) {
        send_signal(&self.pid().to_string(), name);
    }

    /// Waits for hunter to exit; past `limit` it is terminated and the test fails with its output.
    pub fn wait(mut self, limit: Duration) -> Finished {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().expect("cannot wait for hunter") {
                break Some(status);
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let status = match status {
            Some(status) => status,
            None => {
                kill_group(&child);
                let finished = self.collect(child.wait().expect("hunter status"));
                panic!(
                    "hunter did not finish within {limit:?}\n{}",
                    finished.describe()
                );
            }
        };
        self.collect(status)
    }

    fn collect(&mut self, status: ExitStatus) -> Finished {
        let join = |handle: Option<JoinHandle<String>>| {
            handle
                .map(|h| h.join().unwrap_or_default())
                .unwrap_or_default()
        };
        Finished {
            status,
            stdout: join(self.stdout.take()),
            stderr: join(self.stderr.take()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(&child);
            let _ = child.wait();
        }
    }
}

/// Runs hunter with these arguments to completion (at most `limit`).
pub fn run_hunter<I, S>(args: I, limit: Duration) -> Finished
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = hunter();
    command.args(args);
    Running::start(command).wait(limit)
}

fn drain(mut stream: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn kill_group(child: &Child) {
    send_signal(&format!("-{}", child.id()), "KILL");
}

fn send_signal(target: &str, name: &str) {
    // `kill` from procps/coreutils: the tests need no libc binding for two signals.
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg("--")
        .arg(target)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Pids of live processes whose command line or working directory contains `marker`, except
/// `exclude` and this test process. Zombies (exited, not yet reaped) are not counted: they hold
/// no resources and cannot run.
pub fn processes_with(marker: &str, exclude: &[u32]) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if exclude.contains(&pid) || pid == std::process::id() {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cwd = std::fs::read_link(entry.path().join("cwd")).unwrap_or_default();
        if !String::from_utf8_lossy(&cmdline).contains(marker)
            && !cwd.to_string_lossy().contains(marker)
        {
            continue;
        }
        let state = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = state
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'));
        if !zombie {
            found.push(pid);
        }
    }
    found.sort_unstable();
    found
}

/// Polls until `check` holds or `limit` passes; returns whether it held.
pub fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A name no other test or leftover process shares, to find this test's processes by.
pub fn unique_marker(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("hunter-{label}-{}-{nanos}", std::process::id())
}

/// Kills (SIGKILL) every process `processes_with(marker)` finds when dropped: the last line of
/// defence so that a failing test does not leave Node processes behind for the next one.
pub struct KillLeftovers {
    pub marker: String,
    pub exclude: Vec<u32>,
    /// Only when the test is failing: on success the hunt itself must have cleaned up, and
    /// somebody else's hunt of the same shared scenario must not be disturbed.
    pub only_when_failing: bool,
}

impl Drop for KillLeftovers {
    fn drop(&mut self) {
        if self.only_when_failing && !std::thread::panicking() {
            return;
        }
        for pid in processes_with(&self.marker, &self.exclude) {
            send_signal(&pid.to_string(), "KILL");
        }
    }
}
