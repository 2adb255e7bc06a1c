//! `hunter summary`: the Chrome DevTools Summary view of one snapshot file (SPEC §6): a table of
//! the classes with the largest retained sizes on stdout, and optionally the whole view as JSON.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use hunter::report::{format_bytes, write_atomically};
use hunter::snapshot::{self, Analysis, ClassSummary, HeapSnapshot};

use super::EXIT_USAGE;

/// Show a heap snapshot's objects by class: count, shallow size and retained size, exactly as
/// the Summary view of Chrome DevTools computes them.
///
/// Examples:
///
///   hunter summary heap.heapsnapshot
///
///   hunter summary heap.heapsnapshot --json summary.json
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct SummaryArgs {
    /// The .heapsnapshot file.
    #[arg(value_name = "SNAPSHOT")]
    pub file: PathBuf,
    /// Also write every class as JSON (SPEC §6) to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// How many classes the table shows.
    #[arg(long, value_name = "N", default_value_t = 25)]
    pub top: usize,
}

pub fn run(args: SummaryArgs) -> ExitCode {
    let snap = match snapshot::read_file(&args.file) {
        Ok(snap) => snap,
        Err(error) => {
            eprintln!("hunter: {}: {error}", args.file.display());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let analysis = Analysis::new(&snap);
    let classes = snapshot::summary(&snap, &analysis);
    if let Some(out) = &args.json {
        let document = to_json(&args.file, &snap, &classes);
        if let Err(error) = write_atomically(out, document.as_bytes()) {
            eprintln!("hunter: {error}");
            return ExitCode::from(EXIT_USAGE);
        }
    }
    print_table(&args.file, &snap, &analysis, &classes, args.top);
    ExitCode::SUCCESS
}

fn to_json(file: &Path, snap: &HeapSnapshot, classes: &[ClassSummary]) -> String {
    let classes: Vec<serde_json::Value> = classes
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name, "count": c.count, "self_bytes": c.self_bytes,
                "retained_bytes": c.retained_bytes,
            })
        })
        .collect();
    let document = serde_json::json!({
        "version": 1,
        "file": file.display().to_string(),
        "nodes": snap.node_count(),
        "edges": snap.edge_count(),
        "classes": classes,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

fn print_table(
    file: &Path,
    snap: &HeapSnapshot,
    analysis: &Analysis,
    classes: &[ClassSummary],
    top: usize,
) {
    let mut out = std::io::stdout().lock();
    let total = analysis.retained_size(snap.root()) + snap.extra_native_bytes();
    let _ = writeln!(
        out,
        "{}: {} nodes, {} edges, {} total, {} classes",
        file.display(),
        snap.node_count(),
        snap.edge_count(),
        format_bytes(total as f64),
        classes.len()
    );
    let _ = writeln!(
        out,
        "{:>12}  {:>12}  {:>10}  class",
        "retained", "shallow", "count"
    );
    for c in classes.iter().take(top) {
        let name: String = c.name.chars().take(100).collect();
        let _ = writeln!(
            out,
            "{:>12}  {:>12}  {:>10}  {}",
            format_bytes(c.retained_bytes as f64),
            format_bytes(c.self_bytes as f64),
            c.count,
            name
        );
    }
    if classes.len() > top {
        let _ = writeln!(
            out,
            "… {} more classes (--top N, or --json FILE for all)",
            classes.len() - top
        );
    }
}
