//! Interrupting `hunter run` (Ctrl-C or a plain `kill`) leaves no process behind: the target,
//! its children (including one that made itself a new session) — whatever the hunt started is
//! gone shortly after hunter exits, and hunter reports failure rather than success, with what
//! it measured until then in its reports.
//!
//! The targets live in temp dirs named with a marker unique to the test; their processes are
//! found by that marker in their command line or working directory.

mod cli_support;

use std::path::PathBuf;
use std::time::Duration;

use cli_support::{eventually, hunter, processes_with, unique_marker, KillLeftovers, Running};

/// Generous bounds that only keep a broken hunter from hanging the suite.
const STARTUP_LIMIT: Duration = Duration::from_secs(90);
const EXIT_LIMIT: Duration = Duration::from_secs(30);
const CLEANUP_LIMIT: Duration = Duration::from_secs(10);

/// The parent forks a child and, on each (slow, one second) iteration, asks it for work. A file
/// named `iterating` appears once the first iteration has reached the target.
const PARENT: &str = r#"
const { fork } = require('child_process');
const fs = require('fs');
const path = require('path');
const child = fork(path.join(__dirname, 'child.js'));
globalThis.slowIteration = async () => {
  fs.writeFileSync(path.join(__dirname, 'iterating'), '');
  child.send('work');
  await new Promise((resolve) => setTimeout(resolve, 1000));
};
child.once('message', () => console.log('parent ready'));
setInterval(() => {}, 1 << 30);
"#;

const CHILD: &str = r#"
process.on('message', () => {});
process.send('up');
setInterval(() => {}, 1 << 30);
"#;

/// Like PARENT, plus a grandchild that leaves the process group (`detached: true` makes it a
/// session leader), as daemonising helpers do; killing hunter's or the target's process group
/// alone would miss it.
const PARENT_WITH_DETACHED: &str = r#"
const { fork, spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const child = fork(path.join(__dirname, 'child.js'));
const daemon = spawn(process.execPath, [path.join(__dirname, 'daemon.js')], { detached: true, stdio: 'ignore' });
daemon.unref();
globalThis.slowIteration = async () => {
  fs.writeFileSync(path.join(__dirname, 'iterating'), '');
  await new Promise((resolve) => setTimeout(resolve, 1000));
};
child.once('message', () => console.log('parent ready'));
setInterval(() => {}, 1 << 30);
"#;

const DAEMON: &str = "setInterval(() => {}, 1 << 30);\n";

const SLOW_SCENARIO: &str = r#"
[target]
command = ["node", "parent.js"]
ready = { log = "parent ready" }

[workload]
eval = "await slowIteration()"

[hunt]
iterations = 40
warmup = 0
"#;

/// The target never becomes ready: the hunt is interrupted while it waits.
const NEVER_READY_SCENARIO: &str = r#"
[target]
command = ["node", "parent.js"]
ready = { log = "this line is never printed" }

[workload]
eval = "await slowIteration()"
"#;

struct Target {
    /// Declared first so it runs first: kills anything left (the marker is unique to the test).
    _cleanup: KillLeftovers,
    dir: tempfile::TempDir,
    marker: String,
}

impl Target {
    fn new(label: &str, parent: &str, scenario: &str) -> Target {
        let marker = unique_marker(label);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{marker}-"))
            .tempdir()
            .expect("temp dir");
        for (name, text) in [
            ("parent.js", parent),
            ("child.js", CHILD),
            ("daemon.js", DAEMON),
            ("scenario.toml", scenario),
        ] {
            std::fs::write(dir.path().join(name), text).expect("write test file");
        }
        let _cleanup = KillLeftovers {
            marker: marker.clone(),
            exclude: Vec::new(),
            only_when_failing: false,
        };
        Target {
            _cleanup,
            dir,
            marker,
        }
    }

    fn scenario(&self) -> PathBuf {
        self.dir.path().join("scenario.toml")
    }

    fn start_hunt(&self) -> Running {
        self.start_hunt_with(&[])
    }

    fn start_hunt_with(&self, args: &[&std::ffi::OsStr]) -> Running {
        let mut command = hunter();
        command.arg("run").arg(self.scenario()).args(args);
        Running::start(command)
    }

    /// Waits until at least `count` target processes run (hunter itself excluded).
    fn wait_for_processes(&self, hunt: &Running, count: usize) {
        let up = eventually(STARTUP_LIMIT, || {
            processes_with(&self.marker, &[hunt.pid()]).len() >= count
        });
        assert!(
            up,
            "the target's {count} processes never came up: {:?}",
            processes_with(&self.marker, &[hunt.pid()])
        );
    }

    fn wait_for_first_iteration(&self) {
        let marker_file = self.dir.path().join("iterating");
        assert!(
            eventually(STARTUP_LIMIT, || marker_file.exists()),
            "the hunt never reached its first iteration"
        );
    }

    /// Sends `signal` to hunter, then checks it fails and that nothing it started survives.
    fn interrupt_and_check(&self, hunt: Running, signal: &str) {
        let before = processes_with(&self.marker, &[hunt.pid()]);
        hunt.signal(signal);
        let finished = hunt.wait(EXIT_LIMIT);
        assert!(
            !finished.status.success(),
            "an interrupted hunt must not report success\n{}",
            finished.describe()
        );
        let gone = eventually(CLEANUP_LIMIT, || {
            processes_with(&self.marker, &[]).is_empty()
        });
        assert!(
            gone,
            "processes left behind after SIG{signal}: {:?} (running before: {before:?})\n{}",
            processes_with(&self.marker, &[]),
            finished.describe()
        );
    }
}

/// Starts a slow hunt of `parent`, waits until its `processes` run and the first iteration has
/// reached the target, then interrupts hunter with `signal` and checks the aftermath.
fn interrupt_mid_hunt(label: &str, parent: &str, processes: usize, signal: &str) {
    let target = Target::new(label, parent, SLOW_SCENARIO);
    let hunt = target.start_hunt();
    target.wait_for_processes(&hunt, processes);
    target.wait_for_first_iteration();
    target.interrupt_and_check(hunt, signal);
}

#[test]
fn sigint_mid_hunt_leaves_no_process_behind() {
    interrupt_mid_hunt("sigint", PARENT, 2, "INT");
}

#[test]
fn sigterm_mid_hunt_leaves_no_process_behind() {
    interrupt_mid_hunt("sigterm", PARENT, 2, "TERM");
}

#[test]
fn sigint_also_takes_down_a_child_that_left_the_process_group() {
    interrupt_mid_hunt("sigint-detached", PARENT_WITH_DETACHED, 3, "INT");
}

#[test]
fn sigint_while_waiting_for_ready_leaves_no_process_behind() {
    let target = Target::new("sigint-ready", PARENT, NEVER_READY_SCENARIO);
    let hunt = target.start_hunt();
    target.wait_for_processes(&hunt, 2);
    target.interrupt_and_check(hunt, "INT");
}

/// Ctrl-C mid-hunt still writes the report, with the iterations measured so far, the reason,
/// and exit code 130 (as a shell reports an interrupted command).
#[test]
fn sigint_mid_hunt_writes_what_was_measured() {
    let target = Target::new("sigint-report", PARENT, SLOW_SCENARIO);
    let report = target.dir.path().join("report.json");
    let hunt = target.start_hunt_with(&["--json".as_ref(), report.as_os_str()]);
    target.wait_for_processes(&hunt, 2);
    target.wait_for_first_iteration();
    // Let a boundary or two pass, so that there is something to report.
    std::thread::sleep(Duration::from_secs(3));
    hunt.signal("INT");
    let finished = hunt.wait(EXIT_LIMIT);
    assert_eq!(finished.code(), Some(130), "{}", finished.describe());
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no report after Ctrl-C ({e})\n{}", finished.describe()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("the report is JSON");
    let scenario = &json["scenarios"][0];
    assert_eq!(scenario["verdict"], "error", "{text}");
    let error = scenario["error"].as_str().unwrap_or("");
    assert!(error.starts_with("interrupted by SIGINT"), "{error}");
    let main = scenario["processes"]
        .as_array()
        .and_then(|processes| processes.iter().find(|p| p["role"] == "main"))
        .unwrap_or_else(|| panic!("no main process in {text}"));
    let boundaries = main["heap_used_bytes"].as_array().map_or(0, Vec::len);
    // The baseline was taken before the first iteration reached the target; how many more
    // depends on the machine's load.
    assert!(
        (1..40).contains(&boundaries),
        "expected the baseline and maybe a few iterations, got {boundaries} boundaries: {text}"
    );
    assert!(
        eventually(CLEANUP_LIMIT, || processes_with(&target.marker, &[])
            .is_empty()),
        "processes left behind: {:?}",
        processes_with(&target.marker, &[])
    );
}

/// Ctrl-C pressed twice (the second stops without waiting for the report): exit 130, nothing
/// left behind.
#[test]
fn two_sigints_in_a_row_exit_130_and_leave_nothing() {
    let target = Target::new("sigint-twice", PARENT, SLOW_SCENARIO);
    let hunt = target.start_hunt();
    target.wait_for_processes(&hunt, 2);
    target.wait_for_first_iteration();
    hunt.signal("INT");
    std::thread::sleep(Duration::from_millis(50));
    hunt.signal("INT");
    let finished = hunt.wait(EXIT_LIMIT);
    assert_eq!(finished.code(), Some(130), "{}", finished.describe());
    assert!(
        eventually(CLEANUP_LIMIT, || processes_with(&target.marker, &[])
            .is_empty()),
        "processes left behind: {:?}",
        processes_with(&target.marker, &[])
    );
}
