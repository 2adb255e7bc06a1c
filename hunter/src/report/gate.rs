//! The CI gate: decides, leak group by leak group, which fail `hunter run` (per scenario
//! `[gate]` policy and an optional baseline report), and turns that into the exit code (SPEC §4).
//!
//! The rule, in order, for each leak group of each process:
//! 1. its name matches a `gate.ignore` regex → reported, passes (ignored);
//! 2. it grows by fewer than `gate.min_bytes_per_iteration` bytes per iteration → passes;
//! 3. with a baseline: a leak group with the same scenario name, the same process (role and
//!    command — pids change from run to run) and the same name in the baseline passes unless it
//!    grew beyond it: more than 20 % **and** more than 1 KiB per iteration above the baseline's
//!    `growth_per_iteration.bytes`. Otherwise it is new and fails;
//! 4. without a baseline, it fails.

use std::collections::HashMap;
use std::fmt;

use regex::Regex;

use super::model::{Report, Role, Verdict};
use super::text;

/// A leak group fails against a baseline only if its bytes per iteration exceed the baseline's
/// by more than this factor…
pub const BASELINE_GROWTH_FACTOR: f64 = 1.2;
/// …and by more than this many bytes per iteration (small leaks jitter by a few objects).
pub const BASELINE_SLACK_BYTES: f64 = 1024.0;

/// One scenario's `[gate]`: what never fails, and how small a leak may be before it fails.
#[derive(Debug, Clone, Default)]
pub struct GatePolicy {
    /// Leak groups whose name matches any of these are reported but never fail the gate.
    pub ignore: Vec<Regex>,
    /// Leak groups growing by fewer bytes per iteration than this are reported, not failed.
    pub min_bytes_per_iteration: f64,
}

/// Why a leak group passed or failed the gate.
#[derive(Debug, Clone, PartialEq)]
pub enum GateReason {
    /// Fails: no baseline was given, and the group leaks.
    Leak,
    /// Fails: the baseline has no leak group of this name in this scenario and process.
    New,
    /// Fails: the baseline has this leak group, but it grows markedly faster now.
    GrewBeyondBaseline { baseline_bytes_per_iteration: f64 },
    /// Passes: the name matches a `gate.ignore` pattern.
    Ignored { pattern: String },
    /// Passes: growth is under `gate.min_bytes_per_iteration`.
    BelowThreshold { min_bytes_per_iteration: f64 },
    /// Passes: the baseline has this leak group, growing about as fast.
    InBaseline { baseline_bytes_per_iteration: f64 },
}

impl GateReason {
    /// Whether this leak group fails the gate.
    pub fn fails(&self) -> bool {
        matches!(
            self,
            GateReason::Leak | GateReason::New | GateReason::GrewBeyondBaseline { .. }
        )
    }

    /// A short word for tables: "fails", "new", "grew", "ignored", "below threshold", "in baseline".
    pub fn short(&self) -> &'static str {
        match self {
            GateReason::Leak => "fails",
            GateReason::New => "new",
            GateReason::GrewBeyondBaseline { .. } => "grew",
            GateReason::Ignored { .. } => "ignored",
            GateReason::BelowThreshold { .. } => "below threshold",
            GateReason::InBaseline { .. } => "in baseline",
        }
    }
}

impl fmt::Display for GateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateReason::Leak => f.write_str("grows in every iteration"),
            GateReason::New => f.write_str("new since the baseline"),
            GateReason::GrewBeyondBaseline {
                baseline_bytes_per_iteration,
            } => write!(
                f,
                "grew beyond the baseline ({}/iteration there)",
                text::signed_bytes(*baseline_bytes_per_iteration)
            ),
            GateReason::Ignored { pattern } => write!(f, "ignored by gate.ignore '{pattern}'"),
            GateReason::BelowThreshold {
                min_bytes_per_iteration,
            } => write!(
                f,
                "under gate.min_bytes_per_iteration ({}/iteration)",
                text::bytes(*min_bytes_per_iteration)
            ),
            GateReason::InBaseline {
                baseline_bytes_per_iteration,
            } => write!(
                f,
                "already in the baseline ({}/iteration there)",
                text::signed_bytes(*baseline_bytes_per_iteration)
            ),
        }
    }
}

/// The gate's decision on one leak group.
#[derive(Debug, Clone, PartialEq)]
pub struct GateFinding {
    pub scenario: String,
    /// Indices into the report: `scenarios[scenario_index].processes[process_index].leaks[leak_index]`.
    pub scenario_index: usize,
    pub process_index: usize,
    pub leak_index: usize,
    pub role: Role,
    pub pid: u32,
    pub command: Vec<String>,
    pub leak: String,
    pub bytes_per_iteration: f64,
    pub reason: GateReason,
}

impl GateFinding {
    pub fn fails(&self) -> bool {
        self.reason.fails()
    }
}

impl fmt::Display for GateFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} {} ({}): {} {}/iteration: {}",
            self.scenario,
            self.role,
            self.pid,
            text::command_line(&self.command),
            self.leak,
            text::signed_bytes(self.bytes_per_iteration),
            self.reason
        )
    }
}

/// A hunt that could not complete: a scenario, or one process of it, with verdict error.
#[derive(Debug, Clone, PartialEq)]
pub struct HuntFailure {
    pub scenario: String,
    pub scenario_index: usize,
    /// `None` when the scenario as a whole failed; else the failing process.
    pub process_index: Option<usize>,
    pub message: String,
}

/// Everything the gate decided about a report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GateOutcome {
    /// One per leak group in the report, in report order.
    pub findings: Vec<GateFinding>,
    /// Scenarios and processes whose hunt could not complete.
    pub hunt_failures: Vec<HuntFailure>,
    /// Whether a baseline was compared against.
    pub with_baseline: bool,
}

impl GateOutcome {
    /// The leak groups that fail the gate.
    pub fn failures(&self) -> impl Iterator<Item = &GateFinding> {
        self.findings.iter().filter(|f| f.fails())
    }

    /// The leak groups that are reported but pass (ignored, under threshold, in baseline).
    pub fn passes(&self) -> impl Iterator<Item = &GateFinding> {
        self.findings.iter().filter(|f| !f.fails())
    }

    /// The gate's decision on one leak group, by its indices in the report.
    pub fn finding(
        &self,
        scenario_index: usize,
        process_index: usize,
        leak_index: usize,
    ) -> Option<&GateFinding> {
        self.findings.iter().find(|f| {
            f.scenario_index == scenario_index
                && f.process_index == process_index
                && f.leak_index == leak_index
        })
    }

    /// Whether a scenario (by index) has a leak group that fails the gate.
    pub fn scenario_fails(&self, scenario_index: usize) -> bool {
        self.failures().any(|f| f.scenario_index == scenario_index)
    }

    /// Whether a process (by indices) has a leak group that fails the gate.
    pub fn process_fails(&self, scenario_index: usize, process_index: usize) -> bool {
        self.failures()
            .any(|f| f.scenario_index == scenario_index && f.process_index == process_index)
    }

    /// Whether every hunt completed and no leak group failed.
    pub fn passed(&self) -> bool {
        self.exit_code() == 0
    }

    /// SPEC §4: 3 if a hunt could not complete, else 1 if a leak failed the gate, else 0.
    /// (2, bad usage, is decided by the command line before any hunt starts.)
    pub fn exit_code(&self) -> u8 {
        if !self.hunt_failures.is_empty() {
            3
        } else if self.failures().next().is_some() {
            1
        } else {
            0
        }
    }
}

/// Applies each scenario's policy (`policies[i]` for `report.scenarios[i]`; a missing policy
/// means the default: nothing ignored, no threshold) and the optional baseline to every leak
/// group, and records every hunt that could not complete.
pub fn evaluate_gate(
    report: &Report,
    policies: &[GatePolicy],
    baseline: Option<&Report>,
) -> GateOutcome {
    let default_policy = GatePolicy::default();
    let baseline_index = baseline.map(BaselineIndex::new);
    let mut outcome = GateOutcome {
        with_baseline: baseline.is_some(),
        ..GateOutcome::default()
    };
    for (scenario_index, scenario) in report.scenarios.iter().enumerate() {
        let policy = policies.get(scenario_index).unwrap_or(&default_policy);
        if scenario.verdict == Verdict::Error {
            outcome.hunt_failures.push(HuntFailure {
                scenario: scenario.name.clone(),
                scenario_index,
                process_index: None,
                message: scenario
                    .error
                    .clone()
                    .unwrap_or_else(|| "the hunt could not complete".to_string()),
            });
        }
        for (process_index, process) in scenario.processes.iter().enumerate() {
            if process.verdict == Verdict::Error {
                outcome.hunt_failures.push(HuntFailure {
                    scenario: scenario.name.clone(),
                    scenario_index,
                    process_index: Some(process_index),
                    message: process.error.clone().unwrap_or_else(|| {
                        format!(
                            "the hunt of {} {} could not complete",
                            process.role, process.pid
                        )
                    }),
                });
            }
            for (leak_index, leak) in process.leaks.iter().enumerate() {
                let bytes = leak.growth_per_iteration.bytes;
                let reason = if let Some(pattern) =
                    policy.ignore.iter().find(|re| re.is_match(&leak.name))
                {
                    GateReason::Ignored {
                        pattern: pattern.as_str().to_string(),
                    }
                } else if bytes < policy.min_bytes_per_iteration {
                    GateReason::BelowThreshold {
                        min_bytes_per_iteration: policy.min_bytes_per_iteration,
                    }
                } else if let Some(index) = &baseline_index {
                    match index.bytes_per_iteration(
                        &scenario.name,
                        process.role,
                        &process.command,
                        &leak.name,
                    ) {
                        None => GateReason::New,
                        Some(before) if grew_beyond(bytes, before) => {
                            GateReason::GrewBeyondBaseline {
                                baseline_bytes_per_iteration: before,
                            }
                        }
                        Some(before) => GateReason::InBaseline {
                            baseline_bytes_per_iteration: before,
                        },
                    }
                } else {
                    GateReason::Leak
                };
                outcome.findings.push(GateFinding {
                    scenario: scenario.name.clone(),
                    scenario_index,
                    process_index,
                    leak_index,
                    role: process.role,
                    pid: process.pid,
                    command: process.command.clone(),
                    leak: leak.name.clone(),
                    bytes_per_iteration: bytes,
                    reason,
                });
            }
        }
    }
    outcome
}

/// Whether growth of `now` bytes per iteration is markedly more than `before`.
fn grew_beyond(now: f64, before: f64) -> bool {
    let before = before.max(0.0);
    now > before * BASELINE_GROWTH_FACTOR && now - before > BASELINE_SLACK_BYTES
}

/// The baseline's leak groups by (scenario name, role, command, leak name). Several processes
/// can share a role and command (a pool of identical workers); the key then holds the largest
/// growth among them, so a leak fails only if it outgrows every matching baseline process.
struct BaselineIndex<'a> {
    bytes: HashMap<(&'a str, Role, &'a [String], &'a str), f64>,
}

impl<'a> BaselineIndex<'a> {
    fn new(baseline: &'a Report) -> Self {
        let mut bytes = HashMap::new();
        for scenario in &baseline.scenarios {
            for process in &scenario.processes {
                for leak in &process.leaks {
                    let key = (
                        scenario.name.as_str(),
                        process.role,
                        process.command.as_slice(),
                        leak.name.as_str(),
                    );
                    let growth = leak.growth_per_iteration.bytes;
                    bytes
                        .entry(key)
                        .and_modify(|known: &mut f64| *known = known.max(growth))
                        .or_insert(growth);
                }
            }
        }
        BaselineIndex { bytes }
    }

    fn bytes_per_iteration(
        &self,
        scenario: &str,
        role: Role,
        command: &[String],
        leak: &str,
    ) -> Option<f64> {
        self.bytes.get(&(scenario, role, command, leak)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Growth, Leak, ProcessReport, ScenarioReport};

    fn leak(name: &str, bytes: f64) -> Leak {
        Leak {
            name: name.into(),
            kind: "object".into(),
            count: vec![1, 2, 3],
            self_bytes: vec![100, 200, 300],
            growth_per_iteration: Growth { count: 1.0, bytes },
            retained_bytes: 300,
            retainer_path: vec![],
            allocated_at: None,
            includes: Vec::new(),
        }
    }

    fn process(pid: u32, role: Role, command: &str, leaks: Vec<Leak>) -> ProcessReport {
        let verdict = if leaks.is_empty() {
            Verdict::Clean
        } else {
            Verdict::Leak
        };
        let mut p = ProcessReport::new(
            pid,
            role,
            command.split(' ').map(String::from).collect(),
            verdict,
        );
        p.leaks = leaks;
        p
    }

    fn scenario(name: &str, processes: Vec<ProcessReport>) -> ScenarioReport {
        let verdict = Verdict::worst(processes.iter().map(|p| p.verdict));
        ScenarioReport {
            name: name.into(),
            file: format!("{name}.toml"),
            verdict,
            error: None,
            iterations: 5,
            warmup: 1,
            duration_ms: 100,
            processes,
        }
    }

    fn reasons(outcome: &GateOutcome) -> Vec<(String, GateReason)> {
        outcome
            .findings
            .iter()
            .map(|f| (f.leak.clone(), f.reason.clone()))
            .collect()
    }

    #[test]
    fn without_policy_or_baseline_every_leak_fails_with_exit_code_1() {
        let report = Report::new(vec![scenario(
            "s",
            vec![process(1, Role::Main, "node a.js", vec![leak("A", 10.0)])],
        )]);
        let outcome = evaluate_gate(&report, &[], None);
        assert_eq!(reasons(&outcome), vec![("A".to_string(), GateReason::Leak)]);
        assert_eq!(outcome.exit_code(), 1);
        assert!(outcome.scenario_fails(0) && outcome.process_fails(0, 0));
    }

    #[test]
    fn ignore_regex_and_threshold_let_leaks_pass_with_exit_code_0() {
        let report = Report::new(vec![scenario(
            "s",
            vec![process(
                1,
                Role::Main,
                "node a.js",
                vec![
                    leak("Timeout", 5000.0),
                    leak("Small", 99.0),
                    leak("Edge", 100.0),
                ],
            )],
        )]);
        let policy = GatePolicy {
            ignore: vec![Regex::new("^Time").unwrap()],
            min_bytes_per_iteration: 100.0,
        };
        let outcome = evaluate_gate(&report, std::slice::from_ref(&policy), None);
        assert_eq!(
            reasons(&outcome),
            vec![
                (
                    "Timeout".to_string(),
                    GateReason::Ignored {
                        pattern: "^Time".into()
                    }
                ),
                (
                    "Small".to_string(),
                    GateReason::BelowThreshold {
                        min_bytes_per_iteration: 100.0
                    }
                ),
                // Exactly at the threshold is not "less than" it: it fails.
                ("Edge".to_string(), GateReason::Leak),
            ]
        );
        assert_eq!(outcome.exit_code(), 1);

        let report = Report::new(vec![scenario(
            "s",
            vec![process(
                1,
                Role::Main,
                "node a.js",
                vec![leak("Timeout", 5000.0), leak("Small", 1.0)],
            )],
        )]);
        let outcome = evaluate_gate(&report, &[policy], None);
        assert_eq!(outcome.failures().count(), 0);
        assert_eq!(outcome.passes().count(), 2);
        assert_eq!(outcome.exit_code(), 0);
    }

    #[test]
    fn policies_apply_to_their_own_scenario_only() {
        let report = Report::new(vec![
            scenario(
                "a",
                vec![process(1, Role::Main, "node a.js", vec![leak("X", 10.0)])],
            ),
            scenario(
                "b",
                vec![process(2, Role::Main, "node b.js", vec![leak("X", 10.0)])],
            ),
        ]);
        let policies = [
            GatePolicy {
                ignore: vec![Regex::new("^X$").unwrap()],
                min_bytes_per_iteration: 0.0,
            },
            GatePolicy::default(),
        ];
        let outcome = evaluate_gate(&report, &policies, None);
        assert!(!outcome.scenario_fails(0));
        assert!(outcome.scenario_fails(1));
        let failure = outcome.failures().next().unwrap();
        assert_eq!(failure.scenario, "b");
        assert_eq!(failure.pid, 2);
        assert_eq!(
            failure.to_string(),
            "b: main 2 (node b.js): X +10 B/iteration: grows in every iteration"
        );
    }

    #[test]
    fn baseline_fails_only_new_or_grown_leaks_matching_processes_by_role_and_command() {
        let baseline = Report::new(vec![scenario(
            "s",
            vec![
                process(
                    100,
                    Role::Main,
                    "node server.js",
                    vec![
                        leak("Same", 10_000.0),
                        leak("Grown", 10_000.0),
                        leak("Jitter", 100.0),
                    ],
                ),
                process(
                    101,
                    Role::Worker,
                    "node server.js",
                    vec![leak("WorkerOnly", 500.0)],
                ),
            ],
        )]);
        let report = Report::new(vec![scenario(
            "s",
            vec![
                // Different pid, same role and command: the same process.
                process(
                    200,
                    Role::Main,
                    "node server.js",
                    vec![
                        leak("Same", 11_900.0),    // +19 %: within the baseline
                        leak("Grown", 12_100.0),   // +21 % and +2100 B: grew
                        leak("Jitter", 1_000.0),   // ×10 but only +900 B: within the slack
                        leak("Fresh", 50.0),       // not in the baseline: new
                        leak("WorkerOnly", 500.0), // in the baseline, but for the worker: new here
                    ],
                ),
                process(
                    201,
                    Role::Worker,
                    "node server.js",
                    vec![leak("WorkerOnly", 500.0)],
                ),
                process(202, Role::Child, "node other.js", vec![leak("Same", 10.0)]),
            ],
        )]);
        let outcome = evaluate_gate(&report, &[], Some(&baseline));
        assert!(outcome.with_baseline);
        assert_eq!(
            reasons(&outcome),
            vec![
                (
                    "Same".into(),
                    GateReason::InBaseline {
                        baseline_bytes_per_iteration: 10_000.0
                    }
                ),
                (
                    "Grown".into(),
                    GateReason::GrewBeyondBaseline {
                        baseline_bytes_per_iteration: 10_000.0
                    }
                ),
                (
                    "Jitter".into(),
                    GateReason::InBaseline {
                        baseline_bytes_per_iteration: 100.0
                    }
                ),
                ("Fresh".into(), GateReason::New),
                ("WorkerOnly".into(), GateReason::New),
                (
                    "WorkerOnly".into(),
                    GateReason::InBaseline {
                        baseline_bytes_per_iteration: 500.0
                    }
                ),
                ("Same".into(), GateReason::New),
            ]
        );
        assert_eq!(outcome.failures().count(), 4);
        assert_eq!(outcome.exit_code(), 1);
    }

    #[test]
    fn baseline_of_another_scenario_name_does_not_match() {
        let baseline = Report::new(vec![scenario(
            "old name",
            vec![process(1, Role::Main, "node a.js", vec![leak("A", 10.0)])],
        )]);
        let report = Report::new(vec![scenario(
            "new name",
            vec![process(1, Role::Main, "node a.js", vec![leak("A", 10.0)])],
        )]);
        let outcome = evaluate_gate(&report, &[], Some(&baseline));
        assert_eq!(reasons(&outcome), vec![("A".to_string(), GateReason::New)]);
    }

    #[test]
    fn unchanged_leaks_against_their_own_baseline_pass_with_exit_code_0() {
        let report = Report::new(vec![scenario(
            "s",
            vec![process(
                1,
                Role::Main,
                "node a.js",
                vec![leak("A", 4096.0), leak("B", 0.0)],
            )],
        )]);
        let outcome = evaluate_gate(&report, &[], Some(&report));
        assert_eq!(outcome.failures().count(), 0);
        assert_eq!(outcome.exit_code(), 0);
    }

    #[test]
    fn an_incomplete_hunt_gives_exit_code_3_even_with_failing_leaks() {
        let mut errored = scenario("broken", vec![]);
        errored.verdict = Verdict::Error;
        errored.error = Some("workload threw: TypeError: x is not a function".into());
        let leaking = scenario(
            "leaky",
            vec![process(1, Role::Main, "node a.js", vec![leak("A", 10.0)])],
        );
        let outcome = evaluate_gate(&Report::new(vec![leaking.clone(), errored]), &[], None);
        assert_eq!(outcome.failures().count(), 1);
        assert_eq!(outcome.hunt_failures.len(), 1);
        assert_eq!(outcome.hunt_failures[0].scenario, "broken");
        assert_eq!(
            outcome.hunt_failures[0].message,
            "workload threw: TypeError: x is not a function"
        );
        assert_eq!(outcome.exit_code(), 3);

        // One process of a scenario that could not be hunted to the end also counts.
        let mut lost = process(2, Role::Child, "node child.js", vec![]);
        lost.verdict = Verdict::Error;
        lost.error = Some("inspector connection lost".into());
        let mut with_lost_child = leaking;
        with_lost_child.processes.push(lost);
        let outcome = evaluate_gate(&Report::new(vec![with_lost_child]), &[], None);
        assert_eq!(outcome.hunt_failures[0].process_index, Some(1));
        assert_eq!(outcome.exit_code(), 3);
    }

    #[test]
    fn an_empty_or_clean_report_passes_with_exit_code_0() {
        assert_eq!(evaluate_gate(&Report::default(), &[], None).exit_code(), 0);
        let clean = Report::new(vec![scenario(
            "s",
            vec![process(1, Role::Main, "node a.js", vec![])],
        )]);
        let outcome = evaluate_gate(&clean, &[], None);
        assert!(outcome.passed());
        assert_eq!(outcome.exit_code(), 0);
    }
}
