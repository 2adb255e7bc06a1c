//! `hunter run`: hunts each scenario, prints the summary, writes the reports, and exits with the
//! gate's verdict.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use hunter::hunt::{self, HuntOptions};
use hunter::report::{self, GatePolicy, Report};
use hunter::scenario::{self, Scenario};

use super::{EXIT_INCOMPLETE, EXIT_USAGE};

/// Hunt leaks: run each scenario's workload, snapshot every heap, report what keeps growing.
///
/// Examples:
///
///   hunter run scenarios/leak-map-request-id
///
///   hunter run scenarios/ --json report.json --junit junit.xml --baseline main.json
///
/// Exit codes: 0 clean, 1 a leak failed the gate, 2 bad usage or scenario, 3 a hunt could not
/// complete. Ctrl-C stops the hunt, writes what was measured and exits 130 (again: at once).
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct RunArgs {
    /// Scenario files, or directories: a directory's scenario.toml, else every *.toml in it,
    /// else every */scenario.toml below it.
    #[arg(required = true, value_name = "SCENARIO|DIR")]
    scenarios: Vec<PathBuf>,
    /// Write the JSON report (version 1) here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a JUnit XML report here (one test case per process).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a Markdown summary here (for a pull request comment).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Keep everything in this directory: snapshots, the target's output, report.json.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Measured iterations (overrides [hunt] iterations; at least 2).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..))]
    iterations: Option<u32>,
    /// Warmup iterations before the first snapshot (overrides [hunt] warmup).
    #[arg(long, value_name = "N")]
    warmup: Option<u32>,
    /// An earlier --json report: fail only on leaks that are new or grew beyond it.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Keep the heap snapshots (in --out, or ./hunter-snapshots) to open in Chrome DevTools.
    #[arg(long)]
    keep_snapshots: bool,
    /// Do not echo the target's output on stderr.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: RunArgs) -> ExitCode {
    // Everything that can be wrong with the input is found before anything starts.
    let scenarios = match load_scenarios(&args.scenarios) {
        Ok(scenarios) => scenarios,
        Err(message) => return usage_error(&message),
    };
    let baseline = match &args.baseline {
        Some(path) => match report::read_baseline(path) {
            Ok(baseline) => Some(baseline),
            Err(e) => return usage_error(&e.to_string()),
        },
        None => None,
    };

    let runtime = match super::async_runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let report = runtime.block_on(async {
        hunter::launch::install_cleanup_handlers();
        let mut reports = Vec::new();
        for scenario in &scenarios {
            // After an interrupt, the scenarios not yet started are left out of the report.
            if hunter::launch::interruption_code().is_some() {
                break;
            }
            let options = hunt_options(&args, scenario);
            reports.push(hunt::run(scenario, &options).await);
        }
        Report::new(reports)
    });

    let policies: Vec<GatePolicy> = scenarios.iter().map(gate_policy).collect();
    let outcome = report::evaluate_gate(&report, &policies, baseline.as_ref());
    print!(
        "{}",
        report::render_human(&report, &outcome, std::io::stdout().is_terminal())
    );

    let mut written = vec![];
    if let Some(out) = &args.out {
        written.push(report::write_json(&report, &out.join("report.json")));
    }
    if let Some(path) = &args.json {
        written.push(report::write_json(&report, path));
    }
    if let Some(path) = &args.junit {
        written.push(report::write_junit(&report, &outcome, path));
    }
    if let Some(path) = &args.markdown {
        written.push(report::write_markdown(&report, &outcome, path));
    }
    let mut code = outcome.exit_code();
    for result in written {
        if let Err(e) = result {
            eprintln!("hunter: {e}");
            // A report that could not be written is a hunt whose result is lost.
            code = code.max(EXIT_INCOMPLETE);
        }
    }
    // An interrupted run exits as shells expect of an interrupted command, whatever it found.
    if let Some(signal_code) = hunter::launch::interruption_code() {
        code = signal_code;
    }
    ExitCode::from(code)
}

fn load_scenarios(inputs: &[PathBuf]) -> Result<Vec<Scenario>, String> {
    let files = scenario::expand_inputs(inputs).map_err(|e| e.to_string())?;
    if files.is_empty() {
        return Err("no scenario files found".to_owned());
    }
    files
        .iter()
        .map(|file| scenario::load(file).map_err(|e| e.to_string()))
        .collect()
}

fn hunt_options(args: &RunArgs, scenario: &Scenario) -> HuntOptions {
    let scenario_dir = |root: &Path| root.join(file_safe(&scenario.name));
    let out = args.out.as_deref().map(scenario_dir);
    let snapshot_dir = match (&out, args.keep_snapshots) {
        (Some(out), _) => Some(out.join("snapshots")),
        (None, true) => Some(scenario_dir(Path::new("hunter-snapshots"))),
        (None, false) => None,
    };
    HuntOptions {
        iterations: args.iterations,
        warmup: args.warmup,
        snapshot_dir,
        log_dir: out,
        quiet_target: args.quiet,
    }
}

fn gate_policy(scenario: &Scenario) -> GatePolicy {
    GatePolicy {
        ignore: scenario.gate.ignore.clone(),
        min_bytes_per_iteration: scenario.gate.min_bytes_per_iteration,
    }
}

/// A scenario name as a directory name: letters, digits, `-`, `_` and `.` kept, the rest `-`.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("hunter: {message}");
    ExitCode::from(EXIT_USAGE)
}
