//! The public corpus end to end: `hunter run` on every `scenarios/<name>/scenario.toml`, checked
//! against the scenario's `expected.toml` — the exit code, the scenario verdict, each culprit
//! leak group on the right process (role and command), and silence on everything that must
//! stay clean. One test per scenario, so a failure names the scenario.

mod cli_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use cli_support::{corpus_dir, run_hunter, Finished, KillLeftovers};
use serde::Deserialize;
use serde_json::Value;

/// A hunt of one small corpus app takes seconds; this only stops a hung hunt from hanging CI.
const HUNT_LIMIT: Duration = Duration::from_secs(240);

/// `expected.toml`: what `hunter run` must say about a scenario (see scenarios/README.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    verdict: String,
    exit_code: i32,
    why: String,
    #[serde(default)]
    culprit: Vec<Culprit>,
    #[serde(default)]
    clean: Vec<ProcessSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Culprit {
    process: String,
    command: Option<String>,
    name: String,
    /// The leak group must be found on at least this many matching processes.
    #[serde(default = "one")]
    min_processes: usize,
    /// When the app adds exactly this many objects per iteration: the reported growth.
    per_iteration: Option<f64>,
    /// A file named in `allocated_at` (which then must be known).
    allocated_in: Option<String>,
    /// A function named in `allocated_at`: V8 records the allocating function, not the line.
    allocated_by: Option<String>,
    /// The leak group that keeps these objects alive: hunter may report them as a group of
    /// their own, or list them in that group's `includes` (what the leaking root holds).
    within: Option<String>,
}

fn one() -> usize {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessSpec {
    process: String,
    command: Option<String>,
}

macro_rules! corpus {
    ($($test:ident => $dir:literal,)*) => {
        $(
            #[test]
            fn $test() {
                hunt_and_check($dir);
            }
        )*

        /// Every scenario directory the macro lists.
        const LISTED: &[&str] = &[$($dir),*];
    };
}

corpus! {
    clean_console_log => "clean-console-log",
    clean_dedupe_window => "clean-dedupe-window",
    clean_exec_connections => "clean-exec-connections",
    clean_garbage_churn => "clean-garbage-churn",
    clean_http_server => "clean-http-server",
    clean_jit_warmup => "clean-jit-warmup",
    clean_lazy_table => "clean-lazy-table",
    clean_lru_cache => "clean-lru-cache",
    clean_short_timers => "clean-short-timers",
    clean_sliding_window => "clean-sliding-window",
    leak_array_push => "leak-array-push",
    leak_buffers => "leak-buffers",
    leak_closure_context => "leak-closure-context",
    leak_event_listeners => "leak-event-listeners",
    leak_http_handler => "leak-http-handler",
    leak_interval_never_cleared => "leak-interval-never-cleared",
    leak_map_request_id => "leak-map-request-id",
    leak_numbers_in_array => "leak-numbers-in-array",
    leak_promise_resolvers => "leak-promise-resolvers",
    leak_token_in_churn => "leak-token-in-churn",
    leak_seen_ids_set => "leak-seen-ids-set",
    tree_child_exits_midway => "tree-child-exits-midway",
    tree_child_own_env_leak => "tree-child-own-env-leak",
    tree_cluster_leak => "tree-cluster-leak",
    tree_fork_child_leak => "tree-fork-child-leak",
    tree_nested_worker_leak => "tree-nested-worker-leak",
    tree_npm_run_leak => "tree-npm-run-leak",
    tree_piped_child_leak => "tree-piped-child-leak",
    tree_short_lived_children_clean => "tree-short-lived-children-clean",
    tree_worker_leak => "tree-worker-leak",
}

/// A scenario directory nobody lists here would silently go untested.
#[test]
fn every_corpus_scenario_has_a_test_and_an_expectation() {
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(corpus_dir()).expect("scenarios/ is readable") {
        let path = entry.expect("directory entry").path();
        if path.join("scenario.toml").is_file() {
            assert!(
                path.join("expected.toml").is_file(),
                "{} has a scenario.toml but no expected.toml",
                path.display()
            );
            on_disk.insert(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    let listed: BTreeSet<String> = LISTED.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        on_disk, listed,
        "the corpus! list in tests/corpus.rs and scenarios/ disagree"
    );
    assert!(
        listed.len() >= 22,
        "the corpus shrank to {} scenarios",
        listed.len()
    );
}

/// The sidecars themselves must be well-formed and consistent, or the hunts prove nothing.
#[test]
fn every_expectation_is_consistent() {
    for dir in LISTED {
        let expected = read_expected(&corpus_dir().join(dir));
        match expected.verdict.as_str() {
            "leak" => {
                assert_eq!(expected.exit_code, 1, "{dir}: a leak exits 1");
                assert!(
                    !expected.culprit.is_empty(),
                    "{dir}: a leak names a culprit"
                );
            }
            "clean" => {
                assert_eq!(expected.exit_code, 0, "{dir}: a clean scenario exits 0");
                assert!(
                    expected.culprit.is_empty(),
                    "{dir}: a clean scenario has no culprit"
                );
            }
            other => panic!("{dir}: verdict {other:?} is neither leak nor clean"),
        }
        assert!(!expected.why.trim().is_empty(), "{dir}: say why");
        for spec in expected
            .culprit
            .iter()
            .map(|c| c.process.as_str())
            .chain(expected.clean.iter().map(|c| c.process.as_str()))
        {
            assert!(
                ["main", "child", "worker"].contains(&spec),
                "{dir}: unknown process role {spec:?}"
            );
        }
    }
}

fn read_expected(dir: &Path) -> Expected {
    let file = dir.join("expected.toml");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn hunt_and_check(dir_name: &str) {
    let dir = corpus_dir().join(dir_name);
    let expected = read_expected(&dir);
    let out = tempfile::tempdir().expect("temp dir");
    let json_path = out.path().join("r.json");
    // If the hunt fails, kill whatever it left running in the scenario's directory.
    let _leftovers = KillLeftovers {
        marker: dir.to_string_lossy().into_owned(),
        exclude: Vec::new(),
        only_when_failing: true,
    };
    let scenario = dir.join("scenario.toml");
    let finished = run_hunter(
        [
            "run".as_ref(),
            scenario.as_os_str(),
            "--json".as_ref(),
            json_path.as_os_str(),
        ],
        HUNT_LIMIT,
    );
    let context = |what: &str| format!("{dir_name}: {what}\n{}", finished.describe());

    assert_eq!(
        finished.code(),
        Some(expected.exit_code),
        "{}",
        context("wrong exit code")
    );
    let report = read_report(&json_path, &finished);
    let scenarios = report["scenarios"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", context("no scenarios array")));
    assert_eq!(
        scenarios.len(),
        1,
        "{}",
        context("one scenario in, one scenario out")
    );
    let scenario_report = &scenarios[0];
    assert_eq!(
        scenario_report["verdict"],
        expected.verdict.as_str(),
        "{}",
        context("wrong scenario verdict")
    );
    assert!(
        scenario_report["error"].is_null(),
        "{}",
        context("a completed hunt has no error")
    );
    let processes = scenario_report["processes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        processes.iter().any(|p| p["role"] == "main"),
        "{}",
        context("the main process is always reported")
    );

    for culprit in &expected.culprit {
        let holders: Vec<&Value> = processes
            .iter()
            .filter(|p| is_process(p, &culprit.process, culprit.command.as_deref()))
            .filter(|p| leak_named(p, &culprit.name).is_some() || held_within(p, culprit))
            .collect();
        assert!(
            holders.len() >= culprit.min_processes,
            "{}",
            context(&format!(
                "expected a leak group {:?} on {} {} process(es) matching {:?}, found it on {}",
                culprit.name,
                culprit.min_processes,
                culprit.process,
                culprit.command,
                holders.len()
            ))
        );
        for process in holders {
            // Reported under the group that keeps it alive: that group is checked on its own.
            if let Some(leak) = leak_named(process, &culprit.name) {
                check_leak_group(leak, culprit, &context);
            }
            assert_eq!(
                process["verdict"],
                "leak",
                "{}",
                context("a process with a leak group has verdict leak")
            );
        }
    }

    let must_be_clean: Vec<&Value> = if expected.verdict == "clean" {
        processes.iter().collect()
    } else {
        processes
            .iter()
            .filter(|p| {
                expected
                    .clean
                    .iter()
                    .any(|spec| is_process(p, &spec.process, spec.command.as_deref()))
            })
            .collect()
    };
    if expected.verdict == "leak" {
        for spec in &expected.clean {
            assert!(
                processes
                    .iter()
                    .any(|p| is_process(p, &spec.process, spec.command.as_deref())),
                "{}",
                context(&format!(
                    "the {} process that must be clean is not in the report",
                    spec.process
                ))
            );
        }
    }
    for process in must_be_clean {
        let names: Vec<&str> = leaks(process)
            .iter()
            .filter_map(|l| l["name"].as_str())
            .collect();
        assert!(
            names.is_empty(),
            "{}",
            context(&format!(
                "{} process {:?} must be clean but has leak groups {names:?}",
                process["role"], process["command"]
            ))
        );
        assert_eq!(
            process["verdict"],
            "clean",
            "{}",
            context("a clean process has verdict clean")
        );
    }
}

fn read_report(path: &Path, finished: &Finished) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "no JSON report at {}: {e}\n{}",
            path.display(),
            finished.describe()
        )
    });
    let report: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "the JSON report does not parse: {e}\n{text}\n{}",
            finished.describe()
        )
    });
    assert_eq!(
        report["version"],
        1,
        "report version\n{}",
        finished.describe()
    );
    report
}

/// Whether a process report has this role and, when given, a command line (or worker URL or
/// title) containing `command`.
fn is_process(process: &Value, role: &str, command: Option<&str>) -> bool {
    if process["role"] != role {
        return false;
    }
    let Some(needle) = command else { return true };
    let argv: Vec<&str> = process["command"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    argv.join(" ").contains(needle)
        || process["url"].as_str().is_some_and(|u| u.contains(needle))
        || process["title"]
            .as_str()
            .is_some_and(|t| t.contains(needle))
}

fn leaks(process: &Value) -> &[Value] {
    process["leaks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn leak_named<'a>(process: &'a Value, name: &str) -> Option<&'a Value> {
    process["leaks"]
        .as_array()?
        .iter()
        .find(|leak| leak["name"] == name)
}

/// Whether `culprit` is reported inside the `includes` of the leak group named by its `within`.
fn held_within(process: &Value, culprit: &Culprit) -> bool {
    let Some(root) = culprit.within.as_deref() else {
        return false;
    };
    leak_named(process, root).is_some_and(|leak| {
        leak["includes"]
            .as_array()
            .is_some_and(|held| held.iter().any(|name| name == culprit.name.as_str()))
    })
}

fn check_leak_group(leak: &Value, culprit: &Culprit, context: &dyn Fn(&str) -> String) {
    let name = &culprit.name;
    let growth = leak["growth_per_iteration"]["count"]
        .as_f64()
        .unwrap_or(0.0);
    assert!(
        growth > 0.0,
        "{}",
        context(&format!(
            "{name}: growth_per_iteration.count must be > 0, got {leak}"
        ))
    );
    if let Some(exact) = culprit.per_iteration {
        assert!(
            (growth - exact).abs() < 1e-6,
            "{}",
            context(&format!(
                "{name}: the app adds exactly {exact} per iteration, hunter says {growth}"
            ))
        );
    }
    let bytes = leak["growth_per_iteration"]["bytes"]
        .as_f64()
        .unwrap_or(0.0);
    assert!(
        bytes > 0.0,
        "{}",
        context(&format!(
            "{name}: growth_per_iteration.bytes must be > 0, got {leak}"
        ))
    );
    let path: Vec<&str> = leak["retainer_path"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        !path.is_empty(),
        "{}",
        context(&format!("{name}: the retainer path is empty"))
    );
    let allocated_at = leak["allocated_at"].as_str().unwrap_or("");
    if let Some(file) = &culprit.allocated_in {
        assert!(
            allocated_at.contains(&format!("{file}:")),
            "{}",
            context(&format!(
                "{name}: allocated_at should name {file}, got {:?}",
                leak["allocated_at"]
            ))
        );
    }
    if let Some(function) = &culprit.allocated_by {
        assert!(
            allocated_at.contains(function.as_str()),
            "{}",
            context(&format!(
                "{name}: allocated_at should name {function}, got {:?}",
                leak["allocated_at"]
            ))
        );
    }
    let last_step = path.last().copied().unwrap_or("");
    assert!(
        last_step.starts_with(name.as_str()),
        "{}",
        context(&format!(
            "{name}: the retainer path must lead to a {name}, it ends at {last_step:?}"
        ))
    );
    let counts: Vec<u64> = leak["count"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    assert!(
        counts.len() >= 2 && counts.windows(2).all(|w| w[1] > w[0]),
        "{}",
        context(&format!(
            "{name}: the live count must grow in every measured iteration, got {counts:?}"
        ))
    );
}
