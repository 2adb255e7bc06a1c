//! `hunter diff` on real snapshot series written by a real Node process.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs tests/fixtures/snapshot-series.js and returns its snapshot files, oldest first.
fn snapshot_series(dir: &Path, mode: &str) -> Vec<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/snapshot-series.js");
    let status = Command::new("node")
        .arg(&script)
        .arg(dir)
        .arg(mode)
        .status()
        .expect("node runs");
    assert!(status.success(), "the snapshot script failed");
    (0..=5)
        .map(|k| dir.join(format!("s{k}.heapsnapshot")))
        .collect()
}

fn hunter_diff(files: &[PathBuf], json: &Path) -> (i32, String, serde_json::Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_hunter"))
        .arg("diff")
        .args(files)
        .arg("--json")
        .arg(json)
        .output()
        .expect("hunter runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let report = serde_json::from_slice(&std::fs::read(json).unwrap_or_default())
        .unwrap_or(serde_json::Value::Null);
    (output.status.code().unwrap_or(-1), stdout, report)
}

#[test]
fn a_leak_across_snapshots_is_one_group_with_exact_growth_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let files = snapshot_series(dir.path(), "leak");
    let (code, stdout, report) = hunter_diff(&files, &dir.path().join("r.json"));
    assert_eq!(code, 1, "{stdout}");
    let scenario = &report["scenarios"][0];
    assert_eq!(scenario["verdict"], "leak");
    let leaks = scenario["processes"][0]["leaks"].as_array().unwrap();
    // The churn, the bounded cache and the sliding window are not leaks; the numbers inside
    // each Session are part of Session, not a second group.
    let names: Vec<&str> = leaks.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Session"], "{stdout}");
    let session = &leaks[0];
    assert_eq!(
        session["count"],
        serde_json::json!([50, 100, 150, 200, 250])
    );
    assert_eq!(session["growth_per_iteration"]["count"], 50.0);
    // Each Session's `startedAt` number grows with it and is shown as held by Session.
    assert_eq!(session["includes"], serde_json::json!(["(heap number)"]));
    let path: Vec<&str> = session["retainer_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(path.last(), Some(&"Session"));
    assert!(
        path.iter().any(|step| step.starts_with("sessions ")),
        "the path names the variable that keeps them: {path:?}"
    );
    assert!(stdout.contains("Session"), "{stdout}");
}

#[test]
fn the_same_program_without_the_leak_is_clean_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let files = snapshot_series(dir.path(), "clean");
    let (code, stdout, report) = hunter_diff(&files, &dir.path().join("r.json"));
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(report["scenarios"][0]["verdict"], "clean");
    assert_eq!(
        report["scenarios"][0]["processes"][0]["leaks"],
        serde_json::json!([])
    );
}

#[test]
fn an_array_growing_without_new_objects_is_a_collection_leak() {
    let dir = tempfile::tempdir().unwrap();
    let files = snapshot_series(dir.path(), "statuses");
    let (code, stdout, report) = hunter_diff(&files, &dir.path().join("r.json"));
    assert_eq!(code, 1, "{stdout}");
    let leaks = report["scenarios"][0]["processes"][0]["leaks"]
        .as_array()
        .unwrap();
    let names: Vec<(&str, &str)> = leaks
        .iter()
        .map(|l| (l["name"].as_str().unwrap(), l["type"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("Array", "collection")], "{stdout}");
    assert_eq!(leaks[0]["growth_per_iteration"]["count"], 40.0);
    let path = leaks[0]["retainer_path"].to_string();
    assert!(
        path.contains("statusLog"),
        "the path names the array: {path}"
    );
}

#[test]
fn a_truncated_snapshot_is_exit_2_naming_the_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let files = snapshot_series(dir.path(), "leak");
    let bytes = std::fs::read(&files[2]).unwrap();
    std::fs::write(&files[2], &bytes[..bytes.len() / 2]).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_hunter"))
        .arg("diff")
        .args(&files)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("s2.heapsnapshot"), "{stderr}");
    assert!(
        stderr.contains("offset") || stderr.contains("byte"),
        "{stderr}"
    );
}
