//! `hunter watch` against real Node processes: the growth hint for a growing heap (process and
//! worker thread) and not for a flat one, the end of the watch when the command exits or on
//! Ctrl-C, nothing left running afterwards, and the exit codes of bad usage and a failed start.

mod cli_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cli_support::{
    eventually, hunter, processes_with, run_hunter, unique_marker, KillLeftovers, Running,
};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(90);

/// Keeps ~2,000 small objects more every 50 ms: megabytes within a second.
const GROWING: &str =
    "const kept = []; setInterval(() => { for (let i = 0; i < 2000; i++) kept.push({ i, s: 'x' + i }); }, 50);";
/// Allocates next to nothing and keeps nothing.
const FLAT: &str = "setInterval(() => {}, 50);";

/// A script file named after `marker` (so that its processes can be found) in a fresh directory.
fn script(marker: &str, source: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{marker}.js"));
    std::fs::write(&path, source).unwrap();
    (dir, path)
}

fn leftovers(marker: &str) -> KillLeftovers {
    KillLeftovers {
        marker: marker.to_string(),
        exclude: Vec::new(),
        only_when_failing: false,
    }
}

/// `hunter watch --interval 0.5 --duration 3 --json FILE -- node SCRIPT`, to completion.
fn watch_for_3s(script: &Path, json: &Path) -> cli_support::Finished {
    run_hunter(
        [
            "watch",
            "--interval",
            "0.5",
            "--duration",
            "3",
            "--json",
            json.to_str().unwrap(),
            "--",
            "node",
            script.to_str().unwrap(),
        ],
        LIMIT,
    )
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the --json file was written");
    serde_json::from_str(&text).expect("the --json file is JSON")
}

/// The entries of `processes` with this role.
fn with_role<'a>(report: &'a Value, role: &str) -> Vec<&'a Value> {
    report["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter(|p| p["role"] == role)
        .collect()
}

fn sample_count(process: &Value) -> usize {
    process["samples"].as_array().expect("samples").len()
}

#[test]
fn a_growing_heap_is_flagged_as_growing_steadily() {
    let marker = unique_marker("watch-grow");
    let _guard = leftovers(&marker);
    let (dir, path) = script(&marker, GROWING);
    let json = dir.path().join("watch.json");
    let run = watch_for_3s(&path, &json);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let report = read_json(&json);
    let main = with_role(&report, "main");
    assert_eq!(main.len(), 1, "{report:#}");
    let main = main[0];
    assert_eq!(main["command"][1], path.to_str().unwrap());
    assert!(sample_count(main) >= 4, "{main:#}");
    assert_eq!(
        main["summary"]["samples"].as_u64(),
        Some(sample_count(main) as u64)
    );
    assert!(
        main["summary"]["growth_bytes_per_s"].as_f64().unwrap() > 0.0,
        "{main:#}"
    );
    assert_eq!(main["summary"]["grows_steadily"], true, "{main:#}");
    assert!(
        main["summary"]["last_bytes"].as_f64() > main["summary"]["first_bytes"].as_f64(),
        "{main:#}"
    );
    assert!(run.stdout.contains("grows steadily"), "{}", run.describe());
}

#[test]
fn a_flat_heap_is_not_flagged() {
    let marker = unique_marker("watch-flat");
    let _guard = leftovers(&marker);
    let (dir, path) = script(&marker, FLAT);
    let json = dir.path().join("watch.json");
    let run = watch_for_3s(&path, &json);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let report = read_json(&json);
    let main = with_role(&report, "main");
    assert_eq!(main.len(), 1, "{report:#}");
    assert!(sample_count(main[0]) >= 4, "{report:#}");
    assert_eq!(main[0]["summary"]["grows_steadily"], false, "{report:#}");
    assert!(!run.stdout.contains("grows steadily"), "{}", run.describe());
}

#[test]
fn a_growing_worker_thread_is_watched_on_its_own() {
    let marker = unique_marker("watch-worker");
    let _guard = leftovers(&marker);
    let source = format!(
        "const {{ Worker }} = require('worker_threads'); \
         new Worker({GROWING:?}, {{ eval: true }}); setInterval(() => {{}}, 1000);"
    );
    let (dir, path) = script(&marker, &source);
    let json = dir.path().join("watch.json");
    let run = watch_for_3s(&path, &json);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let report = read_json(&json);
    let main = with_role(&report, "main");
    let workers = with_role(&report, "worker");
    assert_eq!((main.len(), workers.len()), (1, 1), "{report:#}");
    assert_eq!(workers[0]["pid"], main[0]["pid"]);
    assert!(sample_count(workers[0]) >= 4, "{report:#}");
    assert_eq!(workers[0]["summary"]["grows_steadily"], true, "{report:#}");
    assert_eq!(main[0]["summary"]["grows_steadily"], false, "{report:#}");
}

#[test]
fn nothing_watch_started_outlives_it() {
    let marker = unique_marker("watch-gone");
    let _guard = leftovers(&marker);
    let (dir, path) = script(&marker, FLAT);
    let json = dir.path().join("watch.json");
    let run = watch_for_3s(&path, &json);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let report = read_json(&json);
    let pid = with_role(&report, "main")[0]["pid"].as_u64().unwrap() as u32;
    assert!(pid > 0);
    // SIGKILL is delivered asynchronously: allow the kernel a moment, not the process.
    assert!(
        eventually(Duration::from_secs(5), || processes_with(&marker, &[])
            .is_empty()),
        "still running after watch returned: {:?}",
        processes_with(&marker, &[])
    );
}

#[test]
fn watch_ends_when_the_command_exits() {
    let marker = unique_marker("watch-exits");
    let _guard = leftovers(&marker);
    // Node with a debugger attached waits for it to disconnect at exit: watch must let it go.
    let (dir, path) = script(&marker, "setTimeout(() => console.log('done'), 1500);");
    let json = dir.path().join("watch.json");
    let run = run_hunter(
        [
            "watch",
            "--interval",
            "0.5",
            "--json",
            json.to_str().unwrap(),
            "--",
            "node",
            path.to_str().unwrap(),
        ],
        LIMIT,
    );
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    assert!(run.stderr.contains("done"), "{}", run.describe());
    let report = read_json(&json);
    let main = with_role(&report, "main");
    assert_eq!(main.len(), 1, "{report:#}");
    assert_eq!(main[0]["end"], "exited", "{report:#}");
    assert!(sample_count(main[0]) >= 1, "{report:#}");
    assert_eq!(report["complete"], true);
}

#[test]
fn ctrl_c_ends_the_watch_with_a_summary() {
    let marker = unique_marker("watch-interrupt");
    let _guard = leftovers(&marker);
    let (dir, path) = script(&marker, FLAT);
    let json = dir.path().join("watch.json");
    let mut command = hunter();
    command.args([
        "watch",
        "--interval",
        "0.2",
        "--json",
        json.to_str().unwrap(),
        "--",
        "node",
        path.to_str().unwrap(),
    ]);
    let running = Running::start(command);
    let hunter_pid = running.pid();
    let node_running = || !processes_with(&marker, &[hunter_pid]).is_empty();
    // hunter listens for SIGINT before it starts the command; the pause lets it attach to
    // Node and take a few samples first.
    assert!(
        eventually(Duration::from_secs(30), node_running),
        "node never started"
    );
    std::thread::sleep(Duration::from_secs(2));
    running.signal("INT");
    let run = running.wait(LIMIT);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains("hunter watch: node"),
        "{}",
        run.describe()
    );
    let report = read_json(&json);
    assert_eq!(with_role(&report, "main").len(), 1, "{report:#}");
    assert!(
        eventually(Duration::from_secs(5), || !node_running()),
        "still running after watch returned"
    );
}

#[test]
fn a_process_that_closes_its_inspector_is_reported_lost_with_exit_3() {
    let marker = unique_marker("watch-lost");
    let _guard = leftovers(&marker);
    let (dir, path) = script(
        &marker,
        "setTimeout(() => require('inspector').close(), 1000); setInterval(() => {}, 100);",
    );
    let json = dir.path().join("watch.json");
    let run = watch_for_3s(&path, &json);
    assert_eq!(run.code(), Some(3), "{}", run.describe());
    assert!(
        run.stderr.contains("lost the inspector of process"),
        "{}",
        run.describe()
    );
    let report = read_json(&json);
    assert_eq!(report["complete"], false, "{report:#}");
    assert_eq!(
        with_role(&report, "main")[0]["end"],
        "inspector_lost",
        "{report:#}"
    );
}

#[test]
fn a_command_that_cannot_start_exits_3() {
    let run = run_hunter(["watch", "--", "hunter-no-such-command"], LIMIT);
    assert_eq!(run.code(), Some(3), "{}", run.describe());
    assert!(
        run.stderr.contains("cannot start `hunter-no-such-command`"),
        "{}",
        run.describe()
    );
}

#[test]
fn a_zero_interval_is_bad_usage() {
    let run = run_hunter(["watch", "--interval", "0", "--", "node", "-e", "0"], LIMIT);
    assert_eq!(run.code(), Some(2), "{}", run.describe());
    assert!(
        run.stderr.contains("must be a positive number of seconds"),
        "{}",
        run.describe()
    );
}
