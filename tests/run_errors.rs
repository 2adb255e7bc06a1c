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

    /// Runs hunter on this scenario text (with a harmless app.js beside it), which must be
    /// rejected with exit 2 and a message naming each of `needles`, starting nothing.
    fn usage_error(&self, scenario_toml: &str, needles: &[&str]) -> Finished {
        self.write("app.js", APP_STAYS_UP);
        let finished = self.run(&self.scenario(scenario_toml));
        assert_usage_error(&finished, needles);
        assert!(
            processes_with(&self.marker, &[]).is_empty(),
            "nothing may be started for a bad scenario\n{}",
            finished.describe()
        );
        finished
    }

    /// Runs a hunt that must fail: exit 3, `pattern` in the printed message and in the JSON
    /// report's error, and nothing left running. Returns the report's error.
    fn hunt_must_fail(&self, scenario_toml: &str, pattern: &str) -> String {
        let finished = self.run(&self.scenario(scenario_toml));
        assert_hunt_failed(&finished, pattern);
        let error = self.error_report(&finished);
        assert!(
            Regex::new(pattern).unwrap().is_match(&error),
            "the report's error must match {pattern:?}: {error}"
        );
        self.assert_nothing_left(&finished);
        error
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
const READY_APP_UP: &str = "ready = { log = \"app up\" }";

/// A scenario starting `node app.js`, with this `ready` line, `[workload]` line and extra tables.
fn node_scenario(ready: &str, workload: &str, extra: &str) -> String {
    format!(
        "[target]\ncommand = [\"node\", \"app.js\"]\n{ready}\n\n[workload]\n{workload}\n\n{extra}"
    )
}

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

// `node_scenario` lines: 1 [target], 2 command, 3 ready, 5 [workload], 6 the workload, 8… extra.

#[test]
fn toml_syntax_error_exits_2_with_the_line() {
    let case = Case::new("syntax");
    let finished = case.usage_error(
        &node_scenario(READY_APP_UP, "eval = \"1 + 1\" +", ""),
        &["scenario.toml"],
    );
    assert_line(&finished, "scenario.toml", 6);
}

#[test]
fn unknown_key_exits_2_naming_the_key_and_line() {
    let case = Case::new("unknown-key");
    let scenario = node_scenario(READY_APP_UP, "eval = \"1 + 1\"", "[hunt]\niteration = 3\n");
    let finished = case.usage_error(&scenario, &["scenario.toml", "iteration"]);
    assert_line(&finished, "scenario.toml", 9);
}

#[test]
fn unknown_key_in_target_exits_2_naming_it() {
    let case = Case::new("unknown-target-key");
    let scenario = node_scenario("readyy = { log = \"app up\" }", "eval = \"1 + 1\"", "");
    let finished = case.usage_error(&scenario, &["readyy"]);
    assert_line(&finished, "scenario.toml", 3);
}

#[test]
fn wrong_type_exits_2_naming_the_key() {
    let case = Case::new("wrong-type");
    let scenario = node_scenario(
        READY_APP_UP,
        "eval = \"1 + 1\"",
        "[hunt]\niterations = \"five\"\n",
    );
    let finished = case.usage_error(&scenario, &["scenario.toml", "iterations"]);
    assert_line(&finished, "scenario.toml", 9);
}

#[test]
fn invalid_ready_regex_exits_2_naming_the_key() {
    let case = Case::new("bad-regex");
    let scenario = node_scenario(
        "ready = { log = 'listening on (?P<port>\\d+' }",
        "eval = \"1\"",
        "",
    );
    let finished = case.usage_error(&scenario, &["log"]);
    assert_line(&finished, "scenario.toml", 3);
}

#[test]
fn missing_workload_module_exits_2_naming_the_file() {
    let case = Case::new("no-module");
    let scenario = node_scenario(READY_APP_UP, "module = \"no-such-workload.mjs\"", "");
    let finished = case.usage_error(&scenario, &["module", "no-such-workload.mjs"]);
    assert_line(&finished, "scenario.toml", 6);
}

#[test]
fn empty_command_starts_nothing_and_exits_2() {
    let case = Case::new("empty-command");
    let scenario = "[target]\ncommand = []\n\n[workload]\neval = \"1 + 1\"\n";
    let finished = case.usage_error(scenario, &["command"]);
    assert_line(&finished, "scenario.toml", 2);
}

#[test]
fn missing_workload_exits_2_naming_it() {
    let case = Case::new("no-workload");
    case.usage_error(
        "[target]\ncommand = [\"node\", \"app.js\"]\n",
        &["workload"],
    );
}

#[test]
fn unknown_option_exits_2_naming_it() {
    let case = Case::new("bad-flag");
    let scenario = case.scenario(&node_scenario(READY_APP_UP, "eval = \"1\"", ""));
    let finished = run_hunter(
        [
            "run".as_ref(),
            scenario.as_os_str(),
            "--no-such-option".as_ref(),
        ],
        LIMIT,
    );
    assert_usage_error(&finished, &["--no-such-option"]);
}

#[test]
fn directory_without_scenarios_exits_2_naming_it() {
    let case = Case::new("empty-dir");
    let empty = case.dir.path().join("nothing-here");
    std::fs::create_dir(&empty).expect("create dir");
    let finished = case.run(&empty);
    assert_usage_error(&finished, &["nothing-here"]);
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
    let scenario = node_scenario(
        "ready = { log = \"never printed\" }",
        "eval = \"1 + 1\"",
        "",
    );
    let error = case.hunt_must_fail(&scenario, r"(?i)exit");
    assert!(
        Regex::new(r"\b93\b").unwrap().is_match(&error),
        "the error gives the exit code: {error}"
    );
}

#[test]
fn ready_that_never_happens_times_out_with_exit_3() {
    let case = Case::new("never-ready");
    case.write("app.js", APP_STAYS_UP);
    let scenario = node_scenario(
        "ready = { log = \"this line is never printed\" }",
        "eval = \"1 + 1\"",
        "[hunt]\ntimeout_s = 3\n",
    );
    // Whichever limit fires first (waiting for ready, or the whole hunt), the message says the
    // target was not ready or the hunt ran out of time, and gives the 3 s limit.
    case.hunt_must_fail(
        &scenario,
        r"(?i)(not ready|did not finish|timed? ?out)[^\n]*\b3 ?s\b",
    );
}

#[test]
fn workload_that_throws_exits_3_with_the_javascript_error() {
    let case = Case::new("throws");
    case.write("app.js", APP_STAYS_UP);
    let scenario = node_scenario(
        READY_APP_UP,
        "eval = \"throw new Error('cart service is down (e7c1)')\"",
        "",
    );
    case.hunt_must_fail(&scenario, r"cart service is down \(e7c1\)");
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
    let scenario = node_scenario(READY_APP_UP, "eval = \"await charge()\"", "");
    case.hunt_must_fail(&scenario, r"card declined \(b42f\)");
}

#[test]
fn module_workload_that_throws_exits_3_with_the_javascript_error() {
    let case = Case::new("module-throws");
    case.write("app.js", APP_STAYS_UP);
    case.write(
        "workload.js",
        "let n = 0;\nexports.iteration = () => { if (++n === 2) throw new RangeError('quota exhausted (91aa)'); };\n",
    );
    let scenario = node_scenario(READY_APP_UP, "module = \"workload.js\"", "");
    case.hunt_must_fail(&scenario, r"quota exhausted \(91aa\)");
}

#[test]
fn http_connection_refused_exits_3_naming_the_url() {
    let case = Case::new("refused");
    case.write("app.js", APP_STAYS_UP);
    // A port that was just free: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/orders");
    let workload = format!("http = [{{ method = \"GET\", url = \"{url}\", times = 3 }}]");
    let error = case.hunt_must_fail(
        &node_scenario(READY_APP_UP, &workload, ""),
        r"(?i)refused|connect",
    );
    assert!(
        error.contains(&format!("127.0.0.1:{port}")),
        "the error names the URL: {error}"
    );
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
    let scenario = node_scenario(
        "ready = { log = 'listening on (?P<port>\\d+)' }",
        "http = [{ url = \"http://127.0.0.1:{port}/\" }]",
        "",
    );
    case.hunt_must_fail(&scenario, r"\b503\b");
}

#[test]
fn exec_workload_failing_exits_3_with_its_exit_code() {
    let case = Case::new("exec-fails");
    case.write("app.js", APP_STAYS_UP);
    case.write(
        "client.js",
        "console.error('client: upstream unavailable (5d0e)'); process.exit(7);\n",
    );
    let scenario = node_scenario(READY_APP_UP, "exec = [\"node\", \"client.js\"]", "");
    let error = case.hunt_must_fail(&scenario, r"(?i)exit|status");
    assert!(
        Regex::new(r"\b7\b").unwrap().is_match(&error),
        "the error gives the exit code: {error}"
    );
}
