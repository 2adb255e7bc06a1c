//! The report files and the human summary, through the public API: exact JSON on disk, atomic
//! replacement, JUnit failure and error counts, Markdown and terminal content.

use std::fs;
use std::path::Path;

use hunter::report::{
    evaluate_gate, read_baseline, render_human, render_junit, render_markdown, write_json,
    write_junit, write_markdown, GatePolicy, Growth, Leak, ProcessReport, Report, Role,
    ScenarioReport, Verdict,
};

fn leak(name: &str, bytes: f64, count: f64) -> Leak {
    Leak {
        name: name.to_string(),
        kind: "object".to_string(),
        count: vec![40, 80, 120],
        self_bytes: vec![3200, 6400, 9600],
        growth_per_iteration: Growth { count, bytes },
        retained_bytes: 9600,
        retainer_path: vec![
            "(GC roots)".into(),
            "(Global handles)".into(),
            "Module (object)".into(),
            "traces (property)".into(),
            "[119] (element)".into(),
            name.to_string(),
        ],
        allocated_at: Some("server.js:4:13 (anonymous)".into()),
        includes: Vec::new(),
    }
}

fn process(pid: u32, role: Role, verdict: Verdict, leaks: Vec<Leak>) -> ProcessReport {
    let mut p = ProcessReport::new(pid, role, vec!["node".into(), "server.js".into()], verdict);
    p.heap_used_bytes = vec![4_000_000, 4_100_000, 4_200_000];
    p.leaks = leaks;
    p
}

/// Three scenarios: one leaking in main and a worker, one clean, one that could not complete.
fn sample() -> Report {
    let mut worker = process(
        4243,
        Role::Worker,
        Verdict::Leak,
        vec![leak("Timeout", 300.0, 2.0)],
    );
    worker.url = Some("file:///app/hash.js".into());
    worker.parent_pid = Some(4242);
    Report::new(vec![
        ScenarioReport {
            name: "traces".into(),
            file: "scenarios/traces.toml".into(),
            verdict: Verdict::Leak,
            error: None,
            iterations: 5,
            warmup: 1,
            duration_ms: 4210,
            processes: vec![
                process(
                    4242,
                    Role::Main,
                    Verdict::Leak,
                    vec![
                        leak("RequestTrace", 3200.0, 40.0),
                        leak("Session", 2000.0, 10.0),
                    ],
                ),
                worker,
            ],
        },
        ScenarioReport {
            name: "idle".into(),
            file: "scenarios/idle.toml".into(),
            verdict: Verdict::Clean,
            error: None,
            iterations: 5,
            warmup: 1,
            duration_ms: 1500,
            processes: vec![process(5000, Role::Main, Verdict::Clean, vec![])],
        },
        ScenarioReport {
            name: "crashy".into(),
            file: "scenarios/crashy.toml".into(),
            verdict: Verdict::Error,
            error: Some("target exited with code 1 before the first iteration".into()),
            iterations: 5,
            warmup: 1,
            duration_ms: 300,
            processes: vec![],
        },
    ])
}

fn policies() -> Vec<GatePolicy> {
    vec![
        GatePolicy {
            ignore: vec![regex::Regex::new("^Timeout$").unwrap()],
            min_bytes_per_iteration: 0.0,
        },
        GatePolicy::default(),
        GatePolicy::default(),
    ]
}

fn temp_entries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect()
}

#[test]
fn json_file_has_spec_shape_and_reads_back_as_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/report.json");
    let report = sample();
    write_json(&report, &path).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["version"], 1);
    assert_eq!(
        value["scenarios"][0]["processes"][0]["leaks"][0]["type"],
        "object"
    );
    assert_eq!(
        value["scenarios"][0]["processes"][0]["leaks"][0]["growth_per_iteration"],
        serde_json::json!({"count": 40.0, "bytes": 3200.0})
    );
    assert_eq!(value["scenarios"][1]["error"], serde_json::Value::Null);
    assert_eq!(value["scenarios"][2]["verdict"], "error");
    assert_eq!(value["scenarios"][0]["processes"][1]["role"], "worker");
    assert_eq!(read_baseline(&path).unwrap(), report);
    assert!(temp_entries(path.parent().unwrap()).is_empty());
}

#[test]
fn json_write_replaces_an_existing_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    fs::write(&path, "old contents").unwrap();
    write_json(&sample(), &path).unwrap();
    assert_eq!(read_baseline(&path).unwrap(), sample());
    assert!(temp_entries(dir.path()).is_empty());
}

#[test]
fn failed_write_names_the_path_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    // The target is a directory: the rename must fail and the directory stays as it was.
    let target = dir.path().join("report.json");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep.txt"), "keep").unwrap();
    let error = write_json(&sample(), &target).unwrap_err();
    assert!(error.is_io());
    assert_eq!(error.path(), target.as_path());
    assert!(error.to_string().contains("report.json"), "{error}");
    assert_eq!(fs::read_to_string(target.join("keep.txt")).unwrap(), "keep");
    assert!(temp_entries(dir.path()).is_empty());
}

#[test]
fn failed_write_keeps_the_existing_report_intact() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("report.json");
    fs::write(&existing, "previous report").unwrap();
    // A parent that is a file: the directory cannot be created, nothing is touched.
    let blocked = existing.join("inner.json");
    let error = write_junit(
        &sample(),
        &evaluate_gate(&sample(), &policies(), None),
        &blocked,
    )
    .unwrap_err();
    assert!(error.is_io());
    assert!(error.to_string().contains("report.json"), "{error}");
    assert_eq!(fs::read_to_string(&existing).unwrap(), "previous report");
    assert!(temp_entries(dir.path()).is_empty());
}

#[test]
fn junit_has_one_suite_per_scenario_and_failures_per_leaking_process() {
    let report = sample();
    let gate = evaluate_gate(&report, &policies(), None);
    let xml = render_junit(&report, &gate).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    assert_eq!(parsed.test_suites.len(), 3);
    assert_eq!(parsed.failures, 1, "{xml}");
    assert_eq!(parsed.errors, 1, "{xml}");
    assert_eq!(parsed.tests, 4, "{xml}");

    let traces = &parsed.test_suites[0];
    assert_eq!(traces.name.as_str(), "traces");
    assert_eq!(traces.failures, 1);
    assert_eq!(traces.test_cases[0].name.as_str(), "main: node server.js");
    match &traces.test_cases[0].status {
        quick_junit::TestCaseStatus::NonSuccess {
            kind,
            message,
            description,
            ..
        } => {
            assert_eq!(*kind, quick_junit::NonSuccessKind::Failure);
            let message = message.as_ref().unwrap().as_str();
            assert!(
                message.starts_with("2 leak groups failed the gate"),
                "{message}"
            );
            assert!(
                message.contains("RequestTrace +3.1 KiB/iteration (+40 objects)"),
                "{message}"
            );
            let description = description.as_ref().unwrap().as_str();
            assert!(
                description.contains("retained by: (GC roots) → (Global handles) → Module (object) → traces (property) → [119] (element) → RequestTrace"),
                "{description}"
            );
            assert!(description.contains("allocated at: server.js:4:13 (anonymous)"));
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    // The worker's only leak group is ignored by the gate: it passes.
    assert_eq!(
        traces.test_cases[1].name.as_str(),
        "worker: /app/hash.js in node server.js"
    );
    assert!(matches!(
        traces.test_cases[1].status,
        quick_junit::TestCaseStatus::Success { .. }
    ));
    assert_eq!(parsed.test_suites[1].failures, 0);
    assert_eq!(parsed.test_suites[2].errors, 1);
    assert!(xml.contains("target exited with code 1 before the first iteration"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    write_junit(&report, &gate, &path).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), xml);
}

#[test]
fn markdown_lists_scenarios_and_leak_groups_with_gate_decisions() {
    let report = sample();
    let gate = evaluate_gate(&report, &policies(), None);
    let md = render_markdown(&report, &gate);
    assert!(
        md.starts_with("## hunter: 1 hunt could not complete, 2 leak groups failed the gate\n"),
        "{md}"
    );
    assert!(md.contains("3 scenarios: 1 leak, 1 clean, 1 error"), "{md}");
    assert!(
        md.contains("| traces | **leak** | **failed** (2) | 3 | 4.2 s |"),
        "{md}"
    );
    assert!(md.contains("| idle | clean | passed | 0 | 1.5 s |"), "{md}");
    assert!(md.contains(
        "| main 4242 | `RequestTrace` | +40 | +3.1 KiB | 9.4 KiB | `(GC roots) → (Global handles) → Module (object) → traces (property) → [119] (element) → RequestTrace` | `server.js:4:13 (anonymous)` | **fails**: grows in every iteration |"
    ), "{md}");
    assert!(
        md.contains("| worker 4243 | `Timeout` | +2 | +300 B |"),
        "{md}"
    );
    assert!(md.contains("ignored by gate.ignore '^Timeout$' |"), "{md}");
    assert!(
        md.contains("> **The hunt could not complete:** target exited with code 1"),
        "{md}"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("summary.md");
    write_markdown(&report, &gate, &path).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), md);
}

#[test]
fn human_summary_shows_verdicts_leaks_paths_and_tally() {
    let report = sample();
    let gate = evaluate_gate(&report, &policies(), None);
    let text = render_human(&report, &gate, false);
    assert!(!text.contains('\x1b'), "no color when not asked");
    assert!(
        text.contains("LEAK   traces  4.2 s, 5 iterations after 1 warmup"),
        "{text}"
    );
    assert!(text.contains("CLEAN  idle"), "{text}");
    assert!(text.contains("ERROR  crashy"), "{text}");
    assert!(
        text.contains("the hunt could not complete: target exited with code 1"),
        "{text}"
    );
    assert!(
        text.contains("\n  main      4242  node server.js        "),
        "{text}"
    );
    assert!(
        text.contains("heap 3.8 MiB → 4.0 MiB (+195.3 KiB)"),
        "{text}"
    );
    assert!(text.contains("RequestTrace"), "{text}");
    assert!(
        text.contains("         +40     +3.1 KiB    9.4 KiB  FAILS\n"),
        "{text}"
    );
    // The path is longer than fits: elided in the middle, both ends kept.
    assert!(
        text.contains("      retained by   (GC roots) → … → traces (property) → [119] (element) → RequestTrace\n"),
        "{text}"
    );
    assert!(
        text.contains("allocated at  server.js:4:13 (anonymous)"),
        "{text}"
    );
    assert!(
        text.contains("ignored by gate.ignore '^Timeout$'"),
        "{text}"
    );
    assert!(
        text.contains("3 scenarios: 1 leak, 1 clean, 1 error\n"),
        "{text}"
    );
    assert!(text.contains("could not complete: crashy"), "{text}");
    assert!(
        text.contains("gate failed: traces (2 leak groups)"),
        "{text}"
    );
    for line in text.lines() {
        assert!(
            line.chars().count() <= 100,
            "line wider than 100 columns: {line}"
        );
    }
    let colored = render_human(&report, &gate, true);
    assert!(colored.contains("\x1b[1;31mLEAK \x1b[0m"), "{colored}");
}

#[test]
fn human_summary_separates_failed_hunts_from_children_that_exited_early() {
    let mut main = process(10, Role::Main, Verdict::Error, vec![]);
    main.error = Some("inspector connection lost".into());
    let mut child = process(11, Role::Child, Verdict::Clean, vec![]);
    child.command = vec!["node".into(), "job.js".into()];
    child.exited_early = true;
    child.error = Some("exited with code 0 after 1 snapshot".into());
    let report = Report::new(vec![ScenarioReport {
        name: "tree".into(),
        file: "tree.toml".into(),
        verdict: Verdict::Error,
        error: Some("inspector connection lost".into()),
        iterations: 5,
        warmup: 1,
        duration_ms: 900,
        processes: vec![main, child],
    }]);
    let gate = evaluate_gate(&report, &[], None);
    assert_eq!(gate.exit_code(), 3);
    let text = render_human(&report, &gate, false);
    assert!(
        text.contains("    could not complete: inspector connection lost\n"),
        "{text}"
    );
    assert!(text.contains("  child       11  node job.js"), "{text}");
    assert!(
        text.contains("    exited before the last iteration\n"),
        "{text}"
    );
    assert!(
        text.contains("    not judged: exited with code 0 after 1 snapshot\n"),
        "{text}"
    );
    assert!(
        text.ends_with("1 scenario: 1 error\ncould not complete: tree\n"),
        "{text}"
    );
}
