//! The Markdown report (`--markdown`): a summary ready to post as a pull-request comment:
//! an overall line, a table of scenarios, and per scenario its processes and leak groups with
//! the gate's decision on each.

use std::fmt::Write as _;
use std::path::Path;

use super::error::ReportError;
use super::gate::GateOutcome;
use super::model::{Report, Verdict};
use super::text;
use super::write::write_atomically;

/// Leak groups shown per process; the rest are counted (the JSON report has them all).
const MAX_LEAK_ROWS: usize = 25;
/// Retainer paths are shortened to this many characters, keeping both ends.
const RETAINER_PATH_WIDTH: usize = 120;

/// Writes the Markdown report to `path`, atomically.
pub fn write_markdown(report: &Report, gate: &GateOutcome, path: &Path) -> Result<(), ReportError> {
    write_atomically(path, render_markdown(report, gate).as_bytes())
}

/// The Markdown text of a report.
pub fn render_markdown(report: &Report, gate: &GateOutcome) -> String {
    let mut out = String::new();
    let failing = gate.failures().count();
    let mut problems = Vec::new();
    if !gate.hunt_failures.is_empty() {
        let n = gate.hunt_failures.len();
        problems.push(format!("{n} hunt{} could not complete", plural(n)));
    }
    if failing > 0 {
        problems.push(format!(
            "{failing} leak group{} failed the gate",
            plural(failing)
        ));
    }
    let headline = if problems.is_empty() {
        "hunter: the gate passed".to_string()
    } else {
        format!("hunter: {}", problems.join(", "))
    };
    let _ = writeln!(out, "## {headline}\n");
    let _ = writeln!(out, "{}\n", super::human::tally_line(report, gate));

    if report.scenarios.is_empty() {
        return out;
    }
    out.push_str("| Scenario | Verdict | Gate | Leak groups | Duration |\n");
    out.push_str("|---|---|---|---:|---:|\n");
    for (index, scenario) in report.scenarios.iter().enumerate() {
        let groups: usize = scenario.processes.iter().map(|p| p.leaks.len()).sum();
        let failing_here = gate
            .failures()
            .filter(|f| f.scenario_index == index)
            .count();
        let gate_word = if scenario.verdict == Verdict::Error {
            "error".to_string()
        } else if failing_here > 0 {
            format!("**failed** ({failing_here})")
        } else {
            "passed".to_string()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&scenario.name),
            verdict_word(scenario.verdict),
            gate_word,
            groups,
            text::duration_ms(scenario.duration_ms)
        );
    }

    for (scenario_index, scenario) in report.scenarios.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n### {}: {}\n",
            inline(&scenario.name),
            scenario.verdict
        );
        let _ = writeln!(
            out,
            "{}, {} iteration{} after {} warmup, {}.",
            code(&scenario.file),
            scenario.iterations,
            plural(scenario.iterations as usize),
            scenario.warmup,
            text::duration_ms(scenario.duration_ms)
        );
        if let Some(error) = &scenario.error {
            let _ = writeln!(
                out,
                "\n> **The hunt could not complete:** {}",
                inline(error)
            );
        }
        if scenario.processes.is_empty() {
            continue;
        }
        out.push_str("\n| Process | Command | Verdict | Heap used (first → last) |\n");
        out.push_str("|---|---|---|---|\n");
        for process in &scenario.processes {
            let mut verdict = verdict_word(process.verdict).to_string();
            if process.exited_early {
                verdict.push_str(" (exited early)");
            }
            if let Some(error) = &process.error {
                verdict.push_str(&format!(": {}", cell(error)));
            }
            let _ = writeln!(
                out,
                "| {} {} | {} | {} | {} |",
                process.role,
                process.pid,
                code(&text::process_label(process)),
                verdict,
                heap_range(&process.heap_used_bytes)
            );
        }
        let has_leaks = scenario.processes.iter().any(|p| !p.leaks.is_empty());
        if !has_leaks {
            continue;
        }
        out.push_str(
            "\n| Process | Leak group | +count/iter | +bytes/iter | Retained | Retainer path | Allocated at | Gate |\n",
        );
        out.push_str("|---|---|---:|---:|---:|---|---|---|\n");
        for (process_index, process) in scenario.processes.iter().enumerate() {
            for (leak_index, leak) in process.leaks.iter().enumerate().take(MAX_LEAK_ROWS) {
                let finding = gate.finding(scenario_index, process_index, leak_index);
                let gate_cell = match finding {
                    Some(f) if f.fails() => format!("**fails**: {}", cell(&f.reason.to_string())),
                    Some(f) => cell(&f.reason.to_string()),
                    None => String::new(),
                };
                let _ = writeln!(
                    out,
                    "| {} {} | {} | {} | {} | {} | {} | {} | {} |",
                    process.role,
                    process.pid,
                    code(&leak.name),
                    text::signed_count(leak.growth_per_iteration.count),
                    text::signed_bytes(leak.growth_per_iteration.bytes),
                    text::bytes(leak.retained_bytes as f64),
                    code(&text::retainer_path(
                        &leak.retainer_path,
                        RETAINER_PATH_WIDTH
                    )),
                    leak.allocated_at.as_deref().map(code).unwrap_or_default(),
                    gate_cell
                );
            }
            if process.leaks.len() > MAX_LEAK_ROWS {
                let _ = writeln!(
                    out,
                    "| {} {} | … and {} more (see the JSON report) | | | | | | |",
                    process.role,
                    process.pid,
                    process.leaks.len() - MAX_LEAK_ROWS
                );
            }
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Leak => "**leak**",
        Verdict::Clean => "clean",
        Verdict::Error => "**error**",
    }
}

fn heap_range(heap: &[u64]) -> String {
    match (heap.first(), heap.last()) {
        (Some(first), Some(last)) => format!(
            "{} → {} ({})",
            text::bytes(*first as f64),
            text::bytes(*last as f64),
            text::signed_bytes(*last as f64 - *first as f64)
        ),
        _ => "n/a".to_string(),
    }
}

/// Plain text safe inside a table cell or a heading: one line, pipes and markup escaped.
fn cell(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn inline(value: &str) -> String {
    cell(value)
}

/// A code span that survives backticks and pipes in the value (GFM tables split on `|` even
/// inside code spans, so it is escaped).
fn code(value: &str) -> String {
    let one_line = value.replace(['\n', '\r'], " ").replace('|', "\\|");
    let mut fence = "`".to_string();
    while one_line.contains(fence.as_str()) {
        fence.push('`');
    }
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{one_line}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes_markup_and_newlines() {
        assert_eq!(cell("a|b*c\nd"), "a\\|b\\*c d");
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("x → y"), "`x → y`");
        assert_eq!(code("'a|b' (string)"), "`'a\\|b' (string)`");
        assert_eq!(code("tick`tock"), "``tick`tock``");
        assert_eq!(code("`edge"), "`` `edge ``");
    }
}
