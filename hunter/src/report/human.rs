//! The human summary printed on stdout after a hunt: per scenario a headline, per process a
//! line, a table of leak groups with why they are alive and where they were allocated, and a
//! closing tally with the gate's result. Fits 100 columns; plain ANSI color when asked.

use std::fmt::Write as _;

use super::gate::{GateFinding, GateOutcome, GateReason};
use super::model::{Leak, ProcessReport, Report, ScenarioReport, Verdict};
use super::text;

/// The width the summary is laid out for.
const WIDTH: usize = 100;
/// Leak groups listed per process; failing ones first, the rest counted.
const MAX_LEAK_ROWS: usize = 10;
const NAME_WIDTH: usize = 34;

/// Renders the human summary of a report and the gate's decisions. With `color`, verdicts and
/// failing leak groups are highlighted with ANSI escapes (pass it only when stdout is a TTY).
pub fn render_human(report: &Report, gate: &GateOutcome, color: bool) -> String {
    let paint = Paint { color };
    let mut out = String::new();
    for (scenario_index, scenario) in report.scenarios.iter().enumerate() {
        render_scenario(&mut out, &paint, scenario_index, scenario, gate);
        out.push('\n');
    }
    let _ = writeln!(out, "{}", paint.bold(&tally_line(report, gate)));
    let _ = writeln!(out, "{}", gate_line(report, gate, &paint));
    out
}

fn render_scenario(
    out: &mut String,
    paint: &Paint,
    scenario_index: usize,
    scenario: &ScenarioReport,
    gate: &GateOutcome,
) {
    let verdict = format!("{:<5}", scenario.verdict.as_str().to_uppercase());
    let _ = writeln!(
        out,
        "{}  {}  {}",
        paint.verdict(scenario.verdict, &verdict),
        paint.bold(&scenario.name),
        paint.dim(&format!(
            "{}, {} iteration{} after {} warmup",
            text::duration_ms(scenario.duration_ms),
            scenario.iterations,
            if scenario.iterations == 1 { "" } else { "s" },
            scenario.warmup
        ))
    );
    let _ = writeln!(out, "       {}", paint.dim(&scenario.file));
    if let Some(error) = &scenario.error {
        let _ = writeln!(
            out,
            "       {} {}",
            paint.red("the hunt could not complete:"),
            error
        );
    }
    for (process_index, process) in scenario.processes.iter().enumerate() {
        render_process(out, paint, scenario_index, process_index, process, gate);
    }
}

fn render_process(
    out: &mut String,
    paint: &Paint,
    scenario_index: usize,
    process_index: usize,
    process: &ProcessReport,
    gate: &GateOutcome,
) {
    let heap = match (
        process.heap_used_bytes.first(),
        process.heap_used_bytes.last(),
    ) {
        (Some(first), Some(last)) => format!(
            "heap {} → {} ({})",
            text::bytes(*first as f64),
            text::bytes(*last as f64),
            text::signed_bytes(*last as f64 - *first as f64)
        ),
        _ => String::new(),
    };
    let head = format!("{:<6} {:>7}  ", process.role.as_str(), process.pid);
    let tail_plain = format!("  {:<5}  {heap}", process.verdict.as_str());
    let command_width = WIDTH
        .saturating_sub(2 + head.chars().count() + tail_plain.chars().count())
        .max(20);
    let command = text::elide_end(&text::short_process_label(process), command_width);
    let _ = writeln!(
        out,
        "  {head}{command:<command_width$}  {}  {}",
        paint.verdict(process.verdict, &format!("{:<5}", process.verdict.as_str())),
        paint.dim(&heap)
    );
    let indent = "    ";
    if process.exited_early {
        let _ = writeln!(
            out,
            "{indent}{}",
            paint.dim("exited before the last iteration")
        );
    }
    if let Some(error) = &process.error {
        // Only an error verdict means the hunt failed; a short-lived child that exited before
        // it could be judged carries the reason as a note.
        if process.verdict == Verdict::Error {
            let _ = writeln!(out, "{indent}{} {error}", paint.red("could not complete:"));
        } else {
            let _ = writeln!(
                out,
                "{indent}{}",
                paint.dim(&format!("not judged: {error}"))
            );
        }
    }
    if process.leaks.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{indent}{}",
        paint.dim(&format!(
            "{:<NAME_WIDTH$} {:>11} {:>12} {:>10}  {}",
            "leak group", "+count/iter", "+bytes/iter", "retained", "gate"
        ))
    );
    // Failing groups first (each list is already sorted by bytes per iteration).
    let mut rows: Vec<(&Leak, Option<&GateFinding>)> = process
        .leaks
        .iter()
        .enumerate()
        .map(|(leak_index, leak)| {
            (
                leak,
                gate.finding(scenario_index, process_index, leak_index),
            )
        })
        .collect();
    rows.sort_by_key(|(_, finding)| !finding.is_some_and(|f| f.fails()));
    for (leak, finding) in rows.iter().take(MAX_LEAK_ROWS) {
        let fails = finding.is_some_and(|f| f.fails());
        let name = format!("{:<NAME_WIDTH$}", text::elide_end(&leak.name, NAME_WIDTH));
        let gate_word = match finding {
            Some(f) if f.reason == GateReason::Leak => paint.red_bold("FAILS"),
            Some(f) if f.fails() => paint.red_bold(&format!("FAILS ({})", f.reason.short())),
            Some(f) => paint.dim(f.reason.short()),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{indent}{} {:>11} {:>12} {:>10}  {gate_word}",
            if fails { paint.bold(&name) } else { name },
            text::signed_count(leak.growth_per_iteration.count),
            text::signed_bytes(leak.growth_per_iteration.bytes),
            text::bytes(leak.retained_bytes as f64),
        );
        let detail = format!("{indent}  ");
        let label_width = 14;
        let path_width = WIDTH.saturating_sub(detail.len() + label_width);
        if !leak.retainer_path.is_empty() {
            let _ = writeln!(
                out,
                "{detail}{}{}",
                paint.dim(&format!("{:<label_width$}", "retained by")),
                text::retainer_path(&leak.retainer_path, path_width)
            );
        }
        // A growing collection was made before the hunt; what it gains is entries, not objects
        // with an allocation site of their own.
        let allocated = match (&leak.allocated_at, leak.kind.as_str()) {
            (Some(at), _) => at.as_str(),
            (None, "collection") => "before the hunt (the collection grows in place)",
            (None, _) => "unknown",
        };
        let _ = writeln!(
            out,
            "{detail}{}{}",
            paint.dim(&format!("{:<label_width$}", "allocated at")),
            text::elide_middle(allocated, path_width)
        );
        if !leak.includes.is_empty() {
            let _ = writeln!(
                out,
                "{detail}{}{}",
                paint.dim(&format!("{:<label_width$}", "holds")),
                text::elide_middle(&leak.includes.join(", "), path_width)
            );
        }
        if let Some(f) = finding {
            if f.reason != GateReason::Leak {
                let _ = writeln!(
                    out,
                    "{detail}{}{}",
                    paint.dim(&format!("{:<label_width$}", "gate")),
                    f.reason
                );
            }
        }
    }
    if rows.len() > MAX_LEAK_ROWS {
        let _ = writeln!(
            out,
            "{indent}{}",
            paint.dim(&format!(
                "… and {} more leak group{} (see the JSON report)",
                rows.len() - MAX_LEAK_ROWS,
                if rows.len() - MAX_LEAK_ROWS == 1 {
                    ""
                } else {
                    "s"
                }
            ))
        );
    }
}

/// `2 scenarios: 1 leak, 1 clean` (zero counts left out).
pub(crate) fn tally_line(report: &Report, _gate: &GateOutcome) -> String {
    let total = report.scenarios.len();
    let count = |v: Verdict| report.scenarios.iter().filter(|s| s.verdict == v).count();
    let parts: Vec<String> = [Verdict::Leak, Verdict::Clean, Verdict::Error]
        .into_iter()
        .map(|v| (v, count(v)))
        .filter(|(_, n)| *n > 0)
        .map(|(v, n)| format!("{n} {v}"))
        .collect();
    let noun = if total == 1 { "scenario" } else { "scenarios" };
    if parts.is_empty() {
        format!("{total} {noun}")
    } else {
        format!("{total} {noun}: {}", parts.join(", "))
    }
}

/// Which scenarios failed the gate, or that it passed.
fn gate_line(report: &Report, gate: &GateOutcome, paint: &Paint) -> String {
    let mut lines = Vec::new();
    let errored: Vec<String> = report
        .scenarios
        .iter()
        .enumerate()
        .filter(|(index, _)| {
            gate.hunt_failures
                .iter()
                .any(|h| h.scenario_index == *index)
        })
        .map(|(_, s)| s.name.clone())
        .collect();
    if !errored.is_empty() {
        lines.push(format!(
            "{} {}",
            paint.red_bold("could not complete:"),
            errored.join(", ")
        ));
    }
    let failed: Vec<String> = report
        .scenarios
        .iter()
        .enumerate()
        .filter_map(|(index, scenario)| {
            let n = gate
                .failures()
                .filter(|f| f.scenario_index == index)
                .count();
            (n > 0).then(|| {
                format!(
                    "{} ({n} leak group{})",
                    scenario.name,
                    if n == 1 { "" } else { "s" }
                )
            })
        })
        .collect();
    if !failed.is_empty() {
        lines.push(format!(
            "{} {}",
            paint.red_bold("gate failed:"),
            failed.join(", ")
        ));
    }
    if lines.is_empty() {
        let passed = gate.passes().count();
        let note = if passed > 0 {
            format!(
                " ({passed} leak group{} reported but allowed)",
                if passed == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        };
        lines.push(format!("{}{note}", paint.green("gate passed")));
    }
    lines.join("\n")
}

/// ANSI styling that is a no-op without color.
struct Paint {
    color: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }
    fn red(&self, text: &str) -> String {
        self.wrap("31", text)
    }
    fn red_bold(&self, text: &str) -> String {
        self.wrap("1;31", text)
    }
    fn green(&self, text: &str) -> String {
        self.wrap("32", text)
    }
    fn verdict(&self, verdict: Verdict, text: &str) -> String {
        match verdict {
            Verdict::Leak => self.red_bold(text),
            Verdict::Clean => self.wrap("1;32", text),
            Verdict::Error => self.wrap("1;35", text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::render_human;
    use crate::report::{evaluate_gate, GatePolicy, Report};

    #[test]
    fn a_growing_collection_is_said_to_predate_the_hunt_not_to_have_an_unknown_site() {
        let leak = |name: &str, kind: &str| {
            serde_json::json!({
                "name": name, "type": kind, "count": [10, 20], "self_bytes": [80, 160],
                "growth_per_iteration": { "count": 10.0, "bytes": 80.0 },
                "retained_bytes": 160, "retainer_path": [], "allocated_at": null
            })
        };
        let report: Report = serde_json::from_value(serde_json::json!({
            "version": 1,
            "scenarios": [{
                "name": "s", "file": "s.toml", "verdict": "leak", "error": null,
                "iterations": 2, "warmup": 1, "duration_ms": 10,
                "processes": [{
                    "pid": 1, "role": "main", "command": ["node", "app.js"], "verdict": "leak",
                    "heap_used_bytes": [1, 2],
                    "leaks": [leak("Set", "collection"), leak("Token", "object")],
                    "error": null, "exited_early": false
                }]
            }]
        }))
        .unwrap();
        let gate = evaluate_gate(&report, &[GatePolicy::default()], None);
        let text = render_human(&report, &gate, false);
        let site = |group: &str| {
            let at = text.find(&format!("    {group} ")).unwrap();
            let line = text[at..]
                .lines()
                .find(|l| l.contains("allocated at"))
                .unwrap();
            line.split("allocated at").nth(1).unwrap().trim().to_owned()
        };
        assert_eq!(
            site("Set"),
            "before the hunt (the collection grows in place)"
        );
        assert_eq!(site("Token"), "unknown");
    }
}
