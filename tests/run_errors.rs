//! `hunter run` on bad input and on hunts that cannot complete, through the real binary:
//! exit code 2 with a message naming the file, line and key when the scenario file is wrong
//! (nothing is started), exit code 3 with a message saying what went wrong when the hunt
//! cannot complete (SPEC §4). The broken scenarios are written into temp dirs by each test.

mod cli_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cli_support::{eventually, processes_with, run_hunter, unique_marker, Finished, KillLeftovers};
use regex::Regex;
use serde_json::Value;

/// Generous: only stops a hung hunter from hanging the test run.
const LIMIT: Duration = Duration::from_secs(120);

/// A temp dir holding a scenario file and its small Node app, named with a marker so that the
/// test can find (and must not find) the processes it started.
struct Case {
    /// Declared first so it runs first: whatever a failing hunt left running in the temp dir is
    /// killed before the dir goes away. The marker is unique to this test, so this touches
    /// nothing else.
    _cleanup: KillLeftovers,
    dir: tempfile::TempDir,
    marker: String,
}

impl Case {
    fn new(label: &str) -> Case {
        let marker = unique_marker(label);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{marker}-"))
            .tempdir()
            .expect("temp dir");
        let _cleanup = KillLeftovers {
            marker: marker.clone(),
            exclude: Vec::new(),
            only_when_failing: false,
        };
        Case {
            _cleanup,
            dir,
            marker,
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }

    fn scenario(&self, toml: &str) -> PathBuf {
        self.write("scenario.toml", toml)
    }

    fn json(&self) -> PathBuf {
        self.dir.path().join("report.json")
    }

    /// `hunter run <scenario> --json <report>`.
    fn run(&self, scenario: &Path) -> Finished {
        run_hunter(
            [
                "run".as_ref(),
                scenario.as_os_str(),
                "--json".as_ref(),
                self.json().as_os_str(),
            ],
            LIMIT,
        )
    }

    /// After the hunt: none of the processes it started is still running.
    fn assert_nothing_left(&self, finished: &Finished) {
        let gone = eventually(Duration::from_secs(10), || {
            processes_with(&self.marker, &[]).is_empty()
        });
        let left = processes_with(&self.marker, &[]);
        assert!(
            gone,
            "processes left behind after the hunt: {left:?}\n{}",
            finished.describe()
        );
    }

    /// The JSON report of a hunt that could not complete: verdict error with a message.
    fn error_report(&self, finished: &Finished) -> String {
        let text = std::fs::read_to_string(self.json()).unwrap_or_else(|e| {
            panic!(
                "a failed hunt still writes its report ({e})\n{}",
                finished.describe()
            )
        });
        let report: Value = serde_json::from_str(&text).expect("the report parses");
        let scenario = &report["scenarios"][0];
        assert_eq!(
            scenario["verdict"],
            "error",
            "report: {text}\n{}",
            finished.describe()
        );
        scenario["error"]
            .as_str()
            .unwrap_or_else(|| panic!("a failed scenario carries an error message: {text}"))
            .to_string()
    }
}

fn assert_usage_error(finished: &Finished, needles: &[&str]) {
    assert_eq!(
        finished.code(),
        Some(2),
        "bad input exits 2\n{}",
        finished.describe()
    );
    for needle in needles {
        assert!(
            finished.stderr.contains(needle),
            "the message must name {needle:?}\n{}",
            finished.describe()
        );
    }
}

fn assert_line(finished: &Finished, file: &str, line: usize) {
    let pattern = Regex::new(&format!(
        r"{}:{line}(:\d+)?\b|line {line}\b",
        regex::escape(file)
    ))
    .unwrap();
    assert!(
        pattern.is_match(&finished.stderr),
        "the message must point at {file} line {line}\n{}",
        finished.describe()
    );
}

fn assert_hunt_failed(finished: &Finished, pattern: &str) {
    assert_eq!(
        finished.code(),
        Some(3),
        "a hunt that cannot complete exits 3\n{}",
        finished.describe()
    );
    let re = Regex::new(pattern).unwrap();
    assert!(
        re.is_match(&finished.output()),
        "the message must match {pattern:?}\n{}",
        finished.describe()
    );
}

const APP_STAYS_UP: &str = "console.log('app up'); setInterval(() => {}, 1 << 30);\n";

// ---------------------------------------------------------------------------------------------
// Exit code 2: the scenario file is wrong, nothing is started.

#[test]
fn missing_scenario_file_exits_2_naming_the_file() {
    let case = Case::new("missing");
    let missing = case.dir.path().join("no-such-scenario.toml");
    let finished = case.run(&missing);
    assert_usage_error(&finished, &["no-such-scenario.toml"]);
    assert!(
        Regex::new(r"(?i)no such file|not found|does not exist")
            .unwrap()
            .is_match(&finished.stderr),
        "the message says the file is missing\n{}",
        finished.describe()
    );
}

#[test]
fn toml_syntax_error_exits_2_with_the_line() {
    let case = Case::new("syntax");
    case.write("app.js", APP_STAYS_UP);
    let scenario = case.scenario(
        "[target]\n\
         command = [\"node\", \"app.js\"]\n\
         \n\
         [workload]\n\
         eval = \"1 + 1\" +\n",
    );
    let finished = case.run(&scenario);
    assert_usage_error(&finished, &["scenario.toml"]);
    assert_line(&finished, "scenario.toml", 5);
    assert!(
        processes_with(&case.marker, &[]).is_empty(),
        "nothing is started on bad input"
    );
}

#[test]
fn unknown_key_exits_2_naming_the_key_and_line() {
    let case = Case::new("unknown-key");
    case.write("app.js", APP_STAYS_UP);
    let scenario = case.scenario(
        "[target]\n\
         command = [\"node\", \"app.js\"]\n\
         \n\
         [workload]\n\
         eval = \"1 + 1\"\n\
         \n\
         [hunt]\n\
         iteration = 3\n",
    );
    let finished = case.run(&scenario);
    assert_usage_error(&finished, &["scenario.toml", "iteration"]);
    assert_line(&finished, "scenario.toml", 8);
}

#[test]
fn unknown_key_in_target_exits_2_naming_it() {
    let case = Case::new("unknown-target-key");
    case.write("app.js", APP_STAYS_UP);
    let scenario = case.scenario(
        "[target]\n\
         command = [\"node\", \"app.js\"]\n\
         readyy = { log = \"app up\" }\n\
         \n\
         [workload]\n\
         eval = \"1 + 1\"\n",
    );
    let finished = case.run(&scenario);
    assert_usage_error(&finished, &["readyy"]);
    assert_line(&finished, "scenario.toml", 3);
}

#[test]
fn wrong_type_exits_2_naming_the_key() {
    let case = Case::new("wrong-type");
    case.write("app.js", APP_STAYS_UP);
    let scenario = case.scenario(
        "[target]\n\
         command = [\"node\", \"app.js\"]\n\
         \n\
         [workload]\n\
         eval = \"1 + 1\"\n\
         \n\
         [hunt]\n\
         iterations = \"five\"\n",
    );
    let finished = case.run(&scenario);
    assert_usage_error(&finished, &["scenario.toml", "iterations"]);
    assert_line(&finished, "scenario.toml", 8);
}

#[test]
fn empty_command_starts_nothing_and_exits_2() {
    let case = Case::new("empty-command");
    let scenario = case.scenario(
        "[target]\n\
         command = []\n\
         \n\
         [workload]\n\
         eval = \"1 + 1\"\n",
    );
    let finished = case.run(&scenario);
    assert_usage_error(&finished, &["command"]);
    assert_line(&finished, "scenario.toml", 2);
}

#[test]
fn missing_workload_exits_2_naming_it() {
    let case = Case::new("no-workload");
    case.write("app.js", APP_STAYS_UP);
    let scenario = case.scenario("[target]\ncommand = [\"node\", \"app.js\"]\n");
    let finished = case.run(&scenario);
    assert_usage_error(&finished, &["workload"]);
}

// ---------------------------------------------------------------------------------------------
// Exit code 3: the hunt started but could not complete.

#[test]
fn command_not_found_exits_3_naming_the_program() {
    let case = Case::new("not-found");
    let program = format!("{}-no-such-program", case.marker);
    let scenario = case.scenario(&format!(
        "[target]\n\
         command = [\"{program}\", \"app.js\"]\n\
         \n\
         [workload]\n\
         eval = \"1 + 1\"\n"
    ));
    let finished = case.run(&scenario);
    assert_hunt_failed(&finished, &regex::escape(&program));
    assert!(case.error_report(&finished).contains(&program));
}

#[test]
fn target_exiting_before_ready_exits_3_with_its_exit_code() {
    let case = Case::new("exits-early");
    case.write(
        "app.js",
        "console.log('starting, then giving up'); process.exit(93);\n",
    );
    let scenario = case.scenario(
        "[target]\n\
         command = [\"node\", \"app.js\"]\n\
         ready = { log = \"never printed\" }\n\
         \n\
         [workload]\n\
         eval = \"1 + 1\"\n",
    );
    let finished = case.run(&scenario);
    assert_hunt_failed(&finished, r"(?i)exit");
    let error = case.error_report(&finished);
    assert!(
        Regex::new(r"(?i)exit").unwrap().is_match(&error),
        "error: {error}"
    );
    assert!(
        Regex::new(r"\b93\b").unwrap().is_match(&error),
        "the error gives the exit code: {error}"
    );
    case.assert_nothing_left(&finished);
}

#[test]
fn ready_that_never_happens_times_out_with_exit_3() {
    let case = Case::new("never-ready");
    case.write("app.js", APP_STAYS_UP);
    let scenario = case.scenario(
        "[target]\n\
         command = [\"node\", \"app.js\"]\n\
         ready = { log = \"this line is never printed\" }\n\
         \n\
         [workload]\n\
         eval = \"1 + 1\"\n\
         \n\
         [hunt]\n\
         timeout_s = 3\n",
    );
    let finished = case.run(&scenario);
    assert_hunt_failed(&finished, r"(?i)time");
    let error = case.error_report(&finished);
    assert!(
        Regex::new(r"(?i)time").unwrap().is_match(&error),
        "error: {error}"
    );
    case.assert_nothing_left(&finished);
}

#[test]
fn workload_that_throws_exits_3_with_the_javascript_error() {
    let case = Case::new("throws");
    case.write("app.js", APP_STAYS_UP);
    let scenario = case.scenario(
        "[target]\n\
         command = [\"node\", \"app.js\"]\n\
         ready = { log = \"app up\" }\n\
         \n\
         [workload]\n\
         eval = \"throw new Error('cart service is down (e7c1)')\"\n",
    );
    let finished = case.run(&scenario);
    assert_hunt_failed(&finished, r"cart service is down \(e7c1\)");
    assert!(case
        .error_report(&finished)
        .contains("cart service is down (e7c1)"));
    case.assert_nothing_left(&finished);
}

#[test]
fn workload_promise_rejection_exits_3_with_the_javascript_error() {
    let case = Case::new("rejects");
    case.write(
        "app.js",
        "globalThis.charge = async () => { await new Promise((r) => setTimeout(r, 10)); \
         throw new TypeError('card declined (b42f)'); };\n\
         console.log('app up'); setInterval(() => {}, 1 << 30);\n",
    );
    let scenario = case.scenario(
        "[target]\n\
         command = [\"node\", \"app.js\"]\n\
         ready = { log = \"app up\" }\n\
         \n\
         [workload]\n\
         eval = \"await charge()\"\n",
    );
    let finished = case.run(&scenario);
    assert_hunt_failed(&finished, r"card declined \(b42f\)");
    case.assert_nothing_left(&finished);
}

#[test]
fn module_workload_that_throws_exits_3_with_the_javascript_error() {
    let case = Case::new("module-throws");
    case.write("app.js", APP_STAYS_UP);
    case.write(
        "workload.js",
        "let n = 0;\nexports.iteration = () => { if (++n === 2) throw new RangeError('quota exhausted (91aa)'); };\n",
    );
    let scenario = case.scenario(
        "[target]\n\
         command = [\"node\", \"app.js\"]\n\
         ready = { log = \"app up\" }\n\
         \n\
         [workload]\n\
         module = \"workload.js\"\n",
    );
    let finished = case.run(&scenario);
    assert_hunt_failed(&finished, r"quota exhausted \(91aa\)");
    case.assert_nothing_left(&finished);
}

#[test]
fn http_connection_refused_exits_3() {
    let case = Case::new("refused");
    case.write("app.js", APP_STAYS_UP);
    // A port that was just free: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().unwrap().port()
    };
    let scenario = case.scenario(&format!(
        "[target]\n\
         command = [\"node\", \"app.js\"]\n\
         ready = {{ log = \"app up\" }}\n\
         \n\
         [workload]\n\
         http = [{{ method = \"GET\", url = \"http://127.0.0.1:{port}/orders\", times = 3 }}]\n"
    ));
    let finished = case.run(&scenario);
    assert_hunt_failed(&finished, r"(?i)refused|connect");
    assert!(
        finished.output().contains(&port.to_string()),
        "the message names the URL\n{}",
        finished.describe()
    );
    case.assert_nothing_left(&finished);
}

#[test]
fn http_error_status_exits_3_with_the_status() {
    let case = Case::new("status");
    case.write(
        "app.js",
        "const http = require('http');\n\
         const s = http.createServer((req, res) => { res.statusCode = 503; res.end('overloaded'); });\n\
         s.listen(0, '127.0.0.1', () => console.log(`listening on ${s.address().port}`));\n",
    );
    let scenario = case.scenario(
        "[target]\n\
         command = [\"node\", \"app.js\"]\n\
         ready = { log = 'listening on (?P<port>\\d+)' }\n\
         \n\
         [workload]\n\
         http = [{ url = \"http://127.0.0.1:{port}/\" }]\n",
    );
    let finished = case.run(&scenario);
    assert_hunt_failed(&finished, r"\b503\b");
    case.assert_nothing_left(&finished);
}

#[test]
fn exec_workload_failing_exits_3() {
    let case = Case::new("exec-fails");
    case.write("app.js", APP_STAYS_UP);
    case.write(
        "client.js",
        "console.error('client: upstream unavailable (5d0e)'); process.exit(7);\n",
    );
    let scenario = case.scenario(
        "[target]\n\
         command = [\"node\", \"app.js\"]\n\
         ready = { log = \"app up\" }\n\
         \n\
         [workload]\n\
         exec = [\"node\", \"client.js\"]\n",
    );
    let finished = case.run(&scenario);
    assert_hunt_failed(&finished, r"(?i)exit|status");
    let error = case.error_report(&finished);
    assert!(
        Regex::new(r"\b7\b").unwrap().is_match(&error),
        "the error gives the exit code: {error}"
    );
    case.assert_nothing_left(&finished);
}
