//! Shared by tests/summary_*.rs: real Node heap snapshots made by tools/make-snapshots.js,
//! Chrome DevTools' own Summary (tools/devtools-summary.mjs, npm heap-snapshot-toolkit), and
//! child processes that cannot outlive a test.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tools")
}

/// Installs the reference tools from tools/package-lock.json once, when missing. Scripts are
/// skipped: memlab's dependency puppeteer would download a browser, which is not needed here.
pub fn ensure_npm_deps() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        if tools_dir()
            .join("node_modules/heap-snapshot-toolkit/package.json")
            .exists()
        {
            return;
        }
        let mut command = Command::new("npm");
        command.args(["ci", "--prefix"]).arg(tools_dir()).args([
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
        ]);
        let out = run(command, Duration::from_secs(600));
        assert!(
            out.status.success(),
            "npm ci failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Kills the child if the test panics or times out.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a command to completion with a generous timeout (a hang guard, not a speed assertion).
pub fn run(mut command: Command, timeout: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let mut guard = KillOnDrop(child);
    let stdout = guard.0.stdout.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = std::io::Read::read_to_end(&mut s, &mut buf);
            buf
        })
    });
    let stderr = guard.0.stderr.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = std::io::Read::read_to_end(&mut s, &mut buf);
            buf
        })
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = guard.0.try_wait().expect("wait for child") {
            break status;
        }
        assert!(
            start.elapsed() < timeout,
            "{command:?} did not finish within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default(),
        stderr: stderr
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default(),
    }
}

/// Runs tools/make-snapshots.js MODE DIR (real `node`, real `v8.writeHeapSnapshot`).
pub fn make_snapshots(mode: &str, dir: &Path) {
    let mut command = Command::new("node");
    command
        .arg(tools_dir().join("make-snapshots.js"))
        .arg(mode)
        .arg(dir);
    let out = run(command, Duration::from_secs(300));
    assert!(
        out.status.success(),
        "make-snapshots {mode}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// DevTools' Summary of a file as JSON.
pub fn devtools_summary(file: &Path) -> serde_json::Value {
    ensure_npm_deps();
    let mut command = Command::new("node");
    command
        .arg(tools_dir().join("devtools-summary.mjs"))
        .arg(file);
    let out = run(command, Duration::from_secs(300));
    assert!(
        out.status.success(),
        "devtools-summary: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("devtools-summary prints JSON")
}

/// `hunter summary FILE ARGS…`.
pub fn hunter_summary(file: &Path, args: &[&std::ffi::OsStr]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hunter"));
    command.arg("summary").arg(file).args(args);
    run(command, Duration::from_secs(300))
}

/// Rows as sorted (name, count, self, retained) tuples: a class name may label several rows.
pub fn rows(summary: &serde_json::Value) -> Vec<(String, u64, u64, u64)> {
    let mut rows: Vec<(String, u64, u64, u64)> = summary["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_owned(),
                c["count"].as_u64().expect("count"),
                c["self_bytes"].as_u64().expect("self_bytes"),
                c["retained_bytes"].as_u64().expect("retained_bytes"),
            )
        })
        .collect();
    rows.sort();
    rows
}
