//! `hunter run` as CI uses it: the report files, `--out` and `--keep-snapshots`, the `[gate]`
//! table and `--baseline`, on a small leaking app hunted for real.

mod cli_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cli_support::run_hunter;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(180);

/// A server-like app keeping 20 `Ticket`s per call of `work()`, and with `receipts`, 10
/// `Receipt`s too.
fn write_app(dir: &Path, receipts: bool, gate: &str) -> PathBuf {
    let app = format!(
        "class Ticket {{ constructor(i) {{ this.i = i; }} }}\n\
         class Receipt {{ constructor(i) {{ this.i = i; }} }}\n\
         const tickets = [];\n\
         const receipts = [];\n\
         globalThis.work = () => {{\n\
           for (let i = 0; i < 20; i++) tickets.push(new Ticket(i));\n\
           if ({receipts}) for (let i = 0; i < 10; i++) receipts.push(new Receipt(i));\n\
         }};\n\
         setInterval(() => {{}}, 60000);\n\
         console.log('tickets ready');\n"
    );
    std::fs::write(dir.join("app.js"), app).unwrap();
    let scenario = dir.join("scenario.toml");
    std::fs::write(
        &scenario,
        format!(
            "name = \"tickets\"\n\
             [target]\ncommand = [\"node\", \"app.js\"]\nready = {{ log = \"tickets ready\" }}\n\
             [workload]\neval = \"work()\"\n{gate}"
        ),
    )
    .unwrap();
    scenario
}

/// `hunter run SCENARIO ARGS…`, with the usual time limit.
fn hunt(scenario: &Path, args: &[&std::ffi::OsStr]) -> cli_support::Finished {
    let mut all = vec!["run".as_ref(), scenario.as_os_str()];
    all.extend_from_slice(args);
    run_hunter(all, LIMIT)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn leak_names(report: &Value) -> Vec<String> {
    report["scenarios"][0]["processes"][0]["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|leak| leak["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_report_file_tells_the_same_leak_and_out_keeps_snapshots_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_app(dir.path(), false, "");
    let files = dir.path().join("reports");
    let out = dir.path().join("out");
    let run = hunt(
        &scenario,
        &[
            "--json".as_ref(),
            files.join("r.json").as_os_str(),
            "--junit".as_ref(),
            files.join("r.xml").as_os_str(),
            "--markdown".as_ref(),
            files.join("r.md").as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
    );
    assert_eq!(run.code(), Some(1), "{}", run.describe());

    let report = read_json(&files.join("r.json"));
    assert_eq!(report["scenarios"][0]["verdict"], "leak");
    assert_eq!(leak_names(&report), ["Ticket"]);
    assert_eq!(read_json(&out.join("report.json")), report);

    let junit = std::fs::read_to_string(files.join("r.xml")).unwrap();
    assert!(junit.contains("<failure"), "{junit}");
    assert!(junit.contains("Ticket"), "{junit}");
    let markdown = std::fs::read_to_string(files.join("r.md")).unwrap();
    assert!(markdown.contains("Ticket"), "{markdown}");

    // A baseline snapshot and one per measured iteration, each a whole snapshot.
    let mut snapshots: Vec<PathBuf> = std::fs::read_dir(out.join("tickets/snapshots"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    snapshots.sort();
    assert_eq!(snapshots.len(), 6, "{snapshots:?}");
    let classes = dir.path().join("classes.json");
    let summary = run_hunter(
        [
            "summary".as_ref(),
            snapshots[5].as_os_str(),
            "--json".as_ref(),
            classes.as_os_str(),
        ],
        LIMIT,
    );
    assert_eq!(summary.code(), Some(0), "{}", summary.describe());
    // The last measured snapshot: the warmup and 5 iterations made 20 Tickets each.
    let tickets = read_json(&classes)["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|class| class["name"] == "Ticket")
        .map(|class| class["count"].clone());
    assert_eq!(tickets, Some(serde_json::json!(120)));

    let log = std::fs::read_to_string(out.join("tickets/target-output.log")).unwrap();
    assert!(log.contains("tickets ready"), "{log}");
}

#[test]
fn a_baseline_passes_the_leaks_it_has_and_fails_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_app(dir.path(), false, "");
    let baseline = dir.path().join("baseline.json");
    let first = hunt(&scenario, &["--json".as_ref(), baseline.as_os_str()]);
    assert_eq!(first.code(), Some(1), "{}", first.describe());

    let same = hunt(&scenario, &["--baseline".as_ref(), baseline.as_os_str()]);
    assert_eq!(same.code(), Some(0), "{}", same.describe());

    write_app(dir.path(), true, "");
    let json = dir.path().join("second.json");
    let new_leak = hunt(
        &scenario,
        &[
            "--baseline".as_ref(),
            baseline.as_os_str(),
            "--json".as_ref(),
            json.as_os_str(),
        ],
    );
    assert_eq!(new_leak.code(), Some(1), "{}", new_leak.describe());
    assert_eq!(leak_names(&read_json(&json)), ["Ticket", "Receipt"]);
    assert!(new_leak.stdout.contains("Receipt"), "{}", new_leak.stdout);
}

#[test]
fn gate_ignore_and_threshold_report_the_leak_without_failing() {
    for gate in [
        "[gate]\nignore = [\"^Ticket$\"]\n",
        "[gate]\nmin_bytes_per_iteration = 1000000\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let scenario = write_app(dir.path(), false, gate);
        let json = dir.path().join("r.json");
        let run = hunt(&scenario, &["--json".as_ref(), json.as_os_str()]);
        assert_eq!(run.code(), Some(0), "{gate}\n{}", run.describe());
        // Still reported: the gate decides what fails, not what is found.
        assert_eq!(leak_names(&read_json(&json)), ["Ticket"], "{gate}");
    }
}

#[test]
fn a_bad_baseline_is_bad_usage_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_app(dir.path(), false, "");
    let baseline = dir.path().join("baseline.json");
    std::fs::write(&baseline, "{ \"version\": 1, \"scenarios\": [ }").unwrap();
    let run = hunt(&scenario, &["--baseline".as_ref(), baseline.as_os_str()]);
    assert_eq!(run.code(), Some(2), "{}", run.describe());
    assert!(run.stderr.contains("baseline.json:1:"), "{}", run.stderr);
}

#[test]
fn numbers_pushed_into_an_array_empty_at_the_baseline_are_found_without_warmup() {
    let scenario = cli_support::corpus_dir().join("leak-numbers-in-array");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let run = hunt(
        &scenario,
        &[
            "--warmup".as_ref(),
            "0".as_ref(),
            "--iterations".as_ref(),
            "3".as_ref(),
            "--json".as_ref(),
            json.as_os_str(),
        ],
    );
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    let report = read_json(&json);
    assert_eq!(leak_names(&report), ["Array"]);
    let leak = &report["scenarios"][0]["processes"][0]["leaks"][0];
    assert_eq!(leak["type"], "collection");
    assert_eq!(leak["count"], serde_json::json!([300, 600, 900]));
}

/// Hunts a small app written for one test: `files` (name, text) in a temporary directory, the
/// target `node app.js`, ready when it prints `ready`, the workload `eval`, and `hunt_table`
/// as the scenario's `[hunt]` table. Returns the run and its JSON report.
fn hunt_app(
    files: &[(&str, &str)],
    eval: &str,
    hunt_table: &str,
) -> (cli_support::Finished, Value) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(
        &scenario,
        format!(
            "[target]\ncommand = [\"node\", \"app.js\"]\nready = {{ log = \"ready\" }}\n\
             [workload]\neval = \"{eval}\"\n[hunt]\n{hunt_table}\n"
        ),
    )
    .unwrap();
    let json = dir.path().join("r.json");
    let run = hunt(&scenario, &["--json".as_ref(), json.as_os_str()]);
    let report =
        serde_json::from_slice(&std::fs::read(&json).unwrap_or_default()).unwrap_or(Value::Null);
    (run, report)
}

#[test]
fn a_failure_in_the_extra_allocation_tracking_iteration_keeps_the_verdict() {
    // Three calls succeed (the warmup and two measured iterations); the fourth, which only
    // the allocation-site iteration makes, throws.
    let app = "class Trace { constructor(i) { this.i = i; } }\n\
               const kept = [];\n\
               let calls = 0;\n\
               globalThis.work = (n) => {\n\
                 if (++calls > 3) throw new Error('quota exhausted');\n\
                 for (let i = 0; i < n; i++) kept.push(new Trace(i));\n\
               };\n\
               setInterval(() => {}, 60000);\n\
               console.log('ready');\n";
    let (run, report) = hunt_app(
        &[("app.js", app)],
        "work(200)",
        "iterations = 2\nwarmup = 1",
    );
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert_eq!(report["scenarios"][0]["verdict"], "leak");
    assert_eq!(leak_names(&report), ["Trace"]);
    assert!(run.stderr.contains("quota exhausted"), "{}", run.stderr);
}

#[test]
fn a_child_that_exits_during_the_allocation_tracking_iteration_is_not_said_to_have_left_early() {
    // The child answers three jobs (the warmup and two measured iterations), keeping a Job per
    // job; at the fourth, which only the allocation-site iteration sends, it exits.
    let child = "class Job { constructor(i) { this.i = i; } }\n\
                 const kept = [];\n\
                 let jobs = 0;\n\
                 process.on('message', (n) => {\n\
                   if (++jobs > 3) process.exit(0);\n\
                   for (let i = 0; i < n; i++) kept.push(new Job(i));\n\
                   process.send('done');\n\
                 });\n\
                 process.send('up');\n";
    let app = "const child = require('child_process').fork(require('path').join(__dirname, 'child.js'));\n\
               let pending = null;\n\
               child.on('message', () => { const p = pending; pending = null; p && p(); });\n\
               child.on('exit', () => { const p = pending; pending = null; p && p(); });\n\
               globalThis.work = (n) => new Promise((resolve) => { pending = resolve; child.send(n); });\n\
               setInterval(() => {}, 60000);\n\
               // Ready once the child runs, so that it is measured from the baseline on.\n\
               child.once('message', () => console.log('ready'));\n";
    let (run, report) = hunt_app(
        &[("app.js", app), ("child.js", child)],
        "await work(100)",
        "iterations = 2\nwarmup = 1",
    );
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    let processes = report["scenarios"][0]["processes"].as_array().unwrap();
    let child = processes
        .iter()
        .find(|p| p["role"] == "child")
        .unwrap_or_else(|| panic!("no child in {report}"));
    assert_eq!(child["verdict"], "leak", "{report}");
    assert_eq!(child["leaks"][0]["name"], "Job", "{report}");
    assert_eq!(child["exited_early"], false, "{report}");
    assert!(
        !run.stdout.contains("exited before the last iteration"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_hunt_cut_short_still_reports_a_collection_growing_in_its_snapshots() {
    // 40 references to existing strings per iteration: an array that grows with no new object,
    // seen in the snapshots themselves (the warmup fills it before the baseline, so it is not
    // a collection of numbers followed in the target). The fifth call (the fourth measured
    // iteration) throws, which stops the hunt: exit 3, with three iterations measured.
    let app = "const STATUSES = ['queued', 'running', 'done'];\n\
               const statusLog = [];\n\
               let calls = 0;\n\
               globalThis.work = () => {\n\
                 if (++calls > 4) throw new Error('the queue is gone');\n\
                 for (let i = 0; i < 40; i++) statusLog.push(STATUSES[i % 3]);\n\
               };\n\
               setInterval(() => {}, 60000);\n\
               console.log('ready');\n";
    let (run, report) = hunt_app(&[("app.js", app)], "work()", "iterations = 10\nwarmup = 1");
    assert_eq!(run.code(), Some(3), "{}", run.describe());
    let scenario = &report["scenarios"][0];
    assert_eq!(scenario["verdict"], "error", "{report}");
    let leaks = scenario["processes"][0]["leaks"].as_array().unwrap();
    let array = leaks
        .iter()
        .find(|l| l["name"] == "Array" && l["type"] == "collection")
        .unwrap_or_else(|| panic!("no growing Array in {report}"));
    assert_eq!(
        array["count"],
        serde_json::json!([80, 120, 160]),
        "{report}"
    );
}

#[test]
fn a_collection_that_no_longer_answers_does_not_hide_the_others() {
    // `odd` is a Map of numbers registered at the baseline whose prototype the app then
    // removes (so it is no longer `instanceof Map`); `latencies` is an array of numbers that
    // grows by 100 per iteration.
    let app = "const odd = new Map([[1, 2]]);\n\
               const latencies = [];\n\
               globalThis.work = () => {\n\
                 Object.setPrototypeOf(odd, null);\n\
                 for (let i = 0; i < 100; i++) latencies.push(i);\n\
               };\n\
               setInterval(() => {}, 60000);\n\
               console.log('ready', odd.size);\n";
    let (run, report) = hunt_app(&[("app.js", app)], "work()", "iterations = 3\nwarmup = 0");
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    let leak = &report["scenarios"][0]["processes"][0]["leaks"][0];
    assert_eq!(leak["name"], "Array", "{report}");
    assert_eq!(
        leak["count"],
        serde_json::json!([100, 200, 300]),
        "{report}"
    );
}
