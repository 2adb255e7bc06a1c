//! The report data model: the serde types that serialise to the JSON report, version 1
//! (SPEC §5), and read it back for `--baseline`.
//!
//! Field names and meanings are the user contract: fields may be added, never renamed.
//! Absent optional values (`error`, `allocated_at`) serialise as `null` because the spec shows
//! them that way; fields added beyond the spec that only some processes have (`title`, `url`,
//! `parent_pid`) are omitted when absent. Deserialisation ignores unknown fields and defaults
//! added ones, so reports from newer or older hunters can serve as baselines.

use serde::{Deserialize, Serialize};

/// The JSON report format version this module writes and reads.
pub const REPORT_VERSION: u32 = 1;

/// The whole report: one entry per scenario, in the order they ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub version: u32,
    pub scenarios: Vec<ScenarioReport>,
}

impl Report {
    /// A version-1 report of these scenarios.
    pub fn new(scenarios: Vec<ScenarioReport>) -> Self {
        Report {
            version: REPORT_VERSION,
            scenarios,
        }
    }
}

impl Default for Report {
    fn default() -> Self {
        Report::new(Vec::new())
    }
}

/// The outcome of a leak hunt or a hunt that could not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// At least one leak group was found.
    Leak,
    /// The hunt completed and found no leak group.
    Clean,
    /// The hunt could not complete (target exited, timed out, workload threw, inspector lost).
    Error,
}

impl Verdict {
    /// The word used in every format: "leak", "clean" or "error".
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Leak => "leak",
            Verdict::Clean => "clean",
            Verdict::Error => "error",
        }
    }

    /// The verdict of a whole made of parts with these verdicts: error beats leak beats clean.
    pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts
            .into_iter()
            .fold(Verdict::Clean, |worst, v| match (worst, v) {
                (Verdict::Error, _) | (_, Verdict::Error) => Verdict::Error,
                (Verdict::Leak, _) | (_, Verdict::Leak) => Verdict::Leak,
                _ => Verdict::Clean,
            })
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a hunted process is to the scenario's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The process started by `[target]`.
    Main,
    /// A Node child process started by the target or its children, at any depth.
    Child,
    /// A worker thread of any of them.
    Worker,
}

impl Role {
    /// The word used in every format: "main", "child" or "worker".
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Main => "main",
            Role::Child => "child",
            Role::Worker => "worker",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One scenario's hunt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub name: String,
    /// The scenario file as given on the command line.
    pub file: String,
    pub verdict: Verdict,
    /// Why the hunt could not complete; `null` unless the verdict is error.
    #[serde(default)]
    pub error: Option<String>,
    pub iterations: u32,
    pub warmup: u32,
    pub duration_ms: u64,
    #[serde(default)]
    pub processes: Vec<ProcessReport>,
}

/// One hunted process (main, child or worker) of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessReport {
    pub pid: u32,
    pub role: Role,
    /// The process's argv; for a worker, the argv of the process that hosts it.
    pub command: Vec<String>,
    pub verdict: Verdict,
    /// `process.memoryUsage().heapUsed`-style heap size after each measured iteration's GC.
    #[serde(default)]
    pub heap_used_bytes: Vec<u64>,
    /// Sorted by `growth_per_iteration.bytes`, largest first.
    #[serde(default)]
    pub leaks: Vec<Leak>,
    /// Added field: why this process's hunt could not complete; `null` otherwise.
    #[serde(default)]
    pub error: Option<String>,
    /// Added field: the process exited before the last measured iteration.
    #[serde(default)]
    pub exited_early: bool,
    /// Added field: the pid of the process that started this one (children) or hosts it (workers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_pid: Option<u32>,
    /// Added field: the inspector target title (workers: the worker's name when it has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Added field: the inspector target URL (workers: the worker script).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl ProcessReport {
    /// A process report with no leaks, no error and no added details; fill in the rest.
    pub fn new(pid: u32, role: Role, command: Vec<String>, verdict: Verdict) -> Self {
        ProcessReport {
            pid,
            role,
            command,
            verdict,
            heap_used_bytes: Vec::new(),
            leaks: Vec::new(),
            error: None,
            exited_early: false,
            parent_pid: None,
            title: None,
            url: None,
        }
    }
}

impl ProcessReport {
    /// Puts `leaks` in report order: `growth_per_iteration.bytes` largest first, ties by name,
    /// so the same leaks always print the same way. Call before [`evaluate_gate`], whose
    /// findings refer to leaks by index.
    ///
    /// [`evaluate_gate`]: super::evaluate_gate
    pub fn sort_leaks(&mut self) {
        self.leaks.sort_by(|a, b| {
            b.growth_per_iteration
                .bytes
                .total_cmp(&a.growth_per_iteration.bytes)
                .then_with(|| a.name.cmp(&b.name))
        });
    }
}

/// A leak group in one process (SPEC §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leak {
    /// Constructor, closure name, or DevTools summary category such as `(string)`.
    pub name: String,
    /// The heap snapshot node type of the group's objects ("object", "closure", "array", …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Live count at each measured snapshot (for collections: the number of entries).
    pub count: Vec<u64>,
    /// Total self size at each measured snapshot.
    pub self_bytes: Vec<u64>,
    pub growth_per_iteration: Growth,
    /// Retained size at the final snapshot.
    pub retained_bytes: u64,
    /// From a GC root to a representative object, each step as DevTools shows it.
    #[serde(default)]
    pub retainer_path: Vec<String>,
    /// Source location that allocated the representative object; `null` when unknown.
    #[serde(default)]
    pub allocated_at: Option<String>,
    /// Added field: other groups that grow only because this group's objects hold them (the
    /// `Subscription` inside each leaked listener), most first. They are part of
    /// `retained_bytes` and not listed as leak groups of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<String>,
}

/// Growth of a leak group per measured iteration.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Growth {
    pub count: f64,
    pub bytes: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec_example() -> Report {
        let mut process = ProcessReport::new(
            4242,
            Role::Main,
            vec!["node".into(), "server.js".into()],
            Verdict::Leak,
        );
        process.heap_used_bytes = vec![123456, 130000];
        process.leaks = vec![Leak {
            name: "RequestTrace".into(),
            kind: "object".into(),
            count: vec![40, 80, 120],
            self_bytes: vec![3200, 6400, 9600],
            growth_per_iteration: Growth {
                count: 40.0,
                bytes: 3200.0,
            },
            retained_bytes: 9600,
            retainer_path: vec![
                "(GC roots)".into(),
                "traces (property)".into(),
                "[119] (element)".into(),
                "RequestTrace".into(),
            ],
            allocated_at: None,
            includes: Vec::new(),
        }];
        Report::new(vec![ScenarioReport {
            name: "traces".into(),
            file: "path/to/scenario.toml".into(),
            verdict: Verdict::Leak,
            error: None,
            iterations: 5,
            warmup: 1,
            duration_ms: 4210,
            processes: vec![process],
        }])
    }

    #[test]
    fn serialises_exactly_to_spec_version_1_shape_with_nulls() {
        let value = serde_json::to_value(spec_example()).unwrap();
        let expected = json!({
            "version": 1,
            "scenarios": [{
                "name": "traces", "file": "path/to/scenario.toml",
                "verdict": "leak",
                "error": null,
                "iterations": 5, "warmup": 1, "duration_ms": 4210,
                "processes": [{
                    "pid": 4242, "role": "main", "command": ["node", "server.js"],
                    "verdict": "leak",
                    "heap_used_bytes": [123456, 130000],
                    "leaks": [{
                        "name": "RequestTrace", "type": "object",
                        "count": [40, 80, 120], "self_bytes": [3200, 6400, 9600],
                        "growth_per_iteration": { "count": 40.0, "bytes": 3200.0 },
                        "retained_bytes": 9600,
                        "retainer_path": ["(GC roots)", "traces (property)", "[119] (element)", "RequestTrace"],
                        "allocated_at": null
                    }],
                    "error": null,
                    "exited_early": false
                }]
            }]
        });
        assert_eq!(value, expected);
        // Growth values are floats in the text, as the spec shows them.
        let text = serde_json::to_string(&spec_example()).unwrap();
        assert!(text.contains(r#""growth_per_iteration":{"count":40.0,"bytes":3200.0}"#));
    }

    #[test]
    fn worker_details_appear_only_when_known() {
        let mut worker = ProcessReport::new(7, Role::Worker, vec!["node".into()], Verdict::Clean);
        worker.title = Some("hasher".into());
        worker.url = Some("file:///app/hash.js".into());
        worker.parent_pid = Some(6);
        let value = serde_json::to_value(&worker).unwrap();
        assert_eq!(value["role"], "worker");
        assert_eq!(value["verdict"], "clean");
        assert_eq!(value["title"], "hasher");
        assert_eq!(value["url"], "file:///app/hash.js");
        assert_eq!(value["parent_pid"], 6);
        let bare = serde_json::to_value(ProcessReport::new(8, Role::Child, vec![], Verdict::Error))
            .unwrap();
        assert_eq!(bare["role"], "child");
        assert_eq!(bare["verdict"], "error");
        assert!(bare.get("title").is_none() && bare.get("url").is_none());
        assert!(bare.get("parent_pid").is_none());
    }

    #[test]
    fn round_trips_and_tolerates_added_and_missing_optional_fields() {
        let report = spec_example();
        let text = serde_json::to_string_pretty(&report).unwrap();
        let back: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(back, report);

        // A spec-only report (no added fields) with extra unknown fields still reads.
        let minimal = r#"{"version":1,"future":true,"scenarios":[{"name":"s","file":"s.toml",
            "verdict":"error","error":"target exited with code 1","iterations":5,"warmup":1,
            "duration_ms":10,"processes":[{"pid":1,"role":"main","command":["node"],
            "verdict":"clean","heap_used_bytes":[],"leaks":[],"new_field":{"x":1}}]}]}"#;
        let read: Report = serde_json::from_str(minimal).unwrap();
        assert_eq!(read.scenarios[0].verdict, Verdict::Error);
        assert_eq!(
            read.scenarios[0].error.as_deref(),
            Some("target exited with code 1")
        );
        assert!(!read.scenarios[0].processes[0].exited_early);
        assert_eq!(read.scenarios[0].processes[0].error, None);
    }

    #[test]
    fn leaks_sort_by_bytes_per_iteration_largest_first_then_name() {
        let mut process = spec_example().scenarios[0].processes[0].clone();
        let template = process.leaks[0].clone();
        let with = |name: &str, bytes: f64| Leak {
            name: name.into(),
            growth_per_iteration: Growth { count: 1.0, bytes },
            ..template.clone()
        };
        process.leaks = vec![with("b", 10.0), with("c", 500.0), with("a", 10.0)];
        process.sort_leaks();
        let names: Vec<&str> = process.leaks.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["c", "a", "b"]);
    }

    #[test]
    fn worst_verdict_prefers_error_then_leak() {
        use Verdict::*;
        assert_eq!(Verdict::worst([]), Clean);
        assert_eq!(Verdict::worst([Clean, Leak, Clean]), Leak);
        assert_eq!(Verdict::worst([Leak, Error, Clean]), Error);
    }
}
