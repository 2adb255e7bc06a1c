//! The JUnit XML report (`--junit`): one test suite per scenario, one test case per hunted
//! process. A process fails when one of its leak groups fails the gate, and errors when its
//! hunt (or the scenario's) could not complete, so CI test views show leaks like failing tests.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::error::ReportError;
use super::gate::GateOutcome;
use super::model::{ProcessReport, Report, ScenarioReport, Verdict};
use super::text;
use super::write::write_atomically;

/// Writes the JUnit XML report to `path`, atomically.
pub fn write_junit(report: &Report, gate: &GateOutcome, path: &Path) -> Result<(), ReportError> {
    let xml = render_junit(report, gate).map_err(|message| ReportError::render(path, message))?;
    write_atomically(path, xml.as_bytes())
}

/// The JUnit XML text of a report.
pub fn render_junit(report: &Report, gate: &GateOutcome) -> Result<String, String> {
    let mut junit = quick_junit::Report::new("hunter");
    for (scenario_index, scenario) in report.scenarios.iter().enumerate() {
        junit.add_test_suite(scenario_suite(scenario_index, scenario, gate));
    }
    junit.to_string().map_err(|error| error.to_string())
}

fn scenario_suite(
    scenario_index: usize,
    scenario: &ScenarioReport,
    gate: &GateOutcome,
) -> TestSuite {
    let mut suite = TestSuite::new(scenario.name.as_str());
    suite.set_time(Duration::from_millis(scenario.duration_ms));
    suite.add_properties([
        Property::new("file", scenario.file.as_str()),
        Property::new("verdict", scenario.verdict.as_str()),
        Property::new("iterations", scenario.iterations.to_string()),
        Property::new("warmup", scenario.warmup.to_string()),
    ]);
    if scenario.verdict == Verdict::Error {
        let message = scenario
            .error
            .clone()
            .unwrap_or_else(|| "the hunt could not complete".to_string());
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(message.as_str());
        status.set_type("hunt error");
        let mut case = TestCase::new("hunt", status);
        case.set_classname(scenario.name.as_str());
        suite.add_test_case(case);
    }
    // Test case names must be stable across runs for CI test history, so they use the role
    // and command, not the pid; identical processes are numbered.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (process_index, process) in scenario.processes.iter().enumerate() {
        let base = format!("{}: {}", process.role, text::process_label(process));
        let occurrence = seen.entry(base.clone()).or_insert(0);
        *occurrence += 1;
        let name = if *occurrence > 1 {
            format!("{base} [{occurrence}]")
        } else {
            base
        };
        let mut case = TestCase::new(
            name,
            process_status(scenario_index, process_index, process, gate),
        );
        case.set_classname(scenario.name.as_str());
        case.add_property(Property::new("pid", process.pid.to_string()));
        case.add_property(Property::new("verdict", process.verdict.as_str()));
        if let (Some(first), Some(last)) = (
            process.heap_used_bytes.first(),
            process.heap_used_bytes.last(),
        ) {
            case.add_property(Property::new("heap_used_first_bytes", first.to_string()));
            case.add_property(Property::new("heap_used_last_bytes", last.to_string()));
        }
        suite.add_test_case(case);
    }
    suite
}

fn process_status(
    scenario_index: usize,
    process_index: usize,
    process: &ProcessReport,
    gate: &GateOutcome,
) -> TestCaseStatus {
    if process.verdict == Verdict::Error {
        let message = process
            .error
            .clone()
            .unwrap_or_else(|| "the hunt of this process could not complete".to_string());
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(message.as_str());
        status.set_type("hunt error");
        return status;
    }
    let failing: Vec<_> = process
        .leaks
        .iter()
        .enumerate()
        .filter_map(|(leak_index, leak)| {
            let finding = gate.finding(scenario_index, process_index, leak_index)?;
            finding.fails().then_some((leak, finding))
        })
        .collect();
    if failing.is_empty() {
        return TestCaseStatus::success();
    }
    let summary = failing
        .iter()
        .map(|(leak, _)| {
            format!(
                "{} {}/iteration ({} objects)",
                leak.name,
                text::signed_bytes(leak.growth_per_iteration.bytes),
                text::signed_count(leak.growth_per_iteration.count)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let plural = if failing.len() == 1 { "" } else { "s" };
    let message = format!(
        "{} leak group{plural} failed the gate: {summary}",
        failing.len()
    );
    let mut description = String::new();
    for (leak, finding) in &failing {
        description.push_str(&format!(
            "{} ({}): {}/iteration, {} objects/iteration, {} retained; {}\n",
            leak.name,
            leak.kind,
            text::signed_bytes(leak.growth_per_iteration.bytes),
            text::signed_count(leak.growth_per_iteration.count),
            text::bytes(leak.retained_bytes as f64),
            finding.reason
        ));
        if !leak.retainer_path.is_empty() {
            description.push_str(&format!(
                "  retained by: {}\n",
                leak.retainer_path.join(text::ARROW)
            ));
        }
        if let Some(at) = &leak.allocated_at {
            description.push_str(&format!("  allocated at: {at}\n"));
        }
    }
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(message);
    status.set_type("memory leak");
    status.set_description(description);
    status
}
