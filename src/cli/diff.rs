//! `hunter diff`: the offline twin of a hunt. Snapshot files of one process, in the order they
//! were taken, become a report shaped like `hunter run`'s: the first file is the baseline, each
//! later one ends a measured iteration.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use hunter::analyse::{self, CollectionId, CollectionTracker, LeakTracker};
use hunter::report::{self, GatePolicy, ProcessReport, Report, Role, ScenarioReport, Verdict};
use hunter::snapshot::{self, Analysis, HeapSnapshot};

use super::EXIT_USAGE;

/// Find leaks across heap snapshots of one process: names whose live objects grow in every step.
///
/// The first file is the baseline; objects allocated after it that are still alive in the last
/// file, and that were added in every later file, form leak groups. Arrays, Maps and Sets whose
/// entries grow in every file are reported too (entries a snapshot can see: objects and
/// strings, not numbers). Give three or more files for a verdict you can trust: with two,
/// everything new that survived counts.
///
/// Example:
///
///   hunter diff s1.heapsnapshot s2.heapsnapshot s3.heapsnapshot --json diff.json
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct DiffArgs {
    /// Heap snapshots of one process, oldest first.
    #[arg(required = true, num_args = 2.., value_name = "SNAPSHOT")]
    snapshots: Vec<PathBuf>,
    /// Write the report (shaped like `hunter run --json`) here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

pub fn run(args: DiffArgs) -> ExitCode {
    let started = Instant::now();
    let mut tracker = LeakTracker::new();
    let mut collections = CollectionTracker::new();
    let mut heap_used = Vec::new();
    let mut last: Option<HeapSnapshot> = None;
    for (index, path) in args.snapshots.iter().enumerate() {
        eprintln!("hunter: reading {}", path.display());
        let snapshot = match snapshot::read_file(path) {
            Ok(snapshot) => snapshot,
            Err(e) => {
                eprintln!("hunter: {}: {e}", path.display());
                return ExitCode::from(EXIT_USAGE);
            }
        };
        if index == 0 {
            tracker.observe_baseline(&snapshot);
        } else {
            tracker.observe(&snapshot);
        }
        // Offline there is no target to ask, so only the sizes a snapshot shows are followed.
        collections.observe(&snapshot, &[]);
        heap_used.push(
            (0..snapshot.node_count())
                .map(|node| snapshot.self_size(node))
                .sum(),
        );
        last = Some(snapshot);
    }
    let last = last.expect("clap demands two snapshots");
    let analysis = Analysis::new(&last);
    let mut leaks = tracker.leaks(&last, &analysis);
    let growing: Vec<_> = collections
        .growing()
        .into_iter()
        .filter_map(|collection| match collection.id {
            CollectionId::Heap(id) => Some((collection, id)),
            CollectionId::Registered(_) => None,
        })
        .collect();
    leaks.extend(analyse::collection_leaks(
        &growing, &last, &analysis, &leaks,
    ));
    analyse::sort_leaks(&mut leaks);

    let verdict = if leaks.is_empty() {
        Verdict::Clean
    } else {
        Verdict::Leak
    };
    let names: Vec<String> = args
        .snapshots
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let report = Report::new(vec![ScenarioReport {
        name: diff_name(&args.snapshots),
        file: names[0].clone(),
        verdict,
        error: None,
        iterations: (args.snapshots.len() - 1) as u32,
        warmup: 0,
        duration_ms: started.elapsed().as_millis() as u64,
        processes: vec![ProcessReport {
            pid: 0,
            role: Role::Main,
            command: names,
            verdict,
            heap_used_bytes: heap_used,
            leaks,
            error: None,
            exited_early: false,
            parent_pid: None,
            title: None,
            url: None,
        }],
    }]);
    let outcome = report::evaluate_gate(&report, &[GatePolicy::default()], None);
    print!(
        "{}",
        report::render_human(
            &report,
            &outcome,
            std::io::IsTerminal::is_terminal(&std::io::stdout())
        )
    );
    if let Some(path) = &args.json {
        if let Err(e) = report::write_json(&report, path) {
            eprintln!("hunter: {e}");
            return ExitCode::from(super::EXIT_INCOMPLETE);
        }
    }
    ExitCode::from(outcome.exit_code())
}

/// `diff of a.heapsnapshot … c.heapsnapshot (3 files)`: short enough for a headline.
fn diff_name(files: &[PathBuf]) -> String {
    let name = |p: &PathBuf| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    };
    format!(
        "diff of {} … {} ({} files)",
        name(&files[0]),
        name(&files[files.len() - 1]),
        files.len()
    )
}
