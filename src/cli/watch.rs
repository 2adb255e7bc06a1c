//! `hunter watch`: the heap of every Node process and worker thread of a command's process tree,
//! sampled over time (`Runtime.getHeapUsage`), printed live, summarised with a least-squares
//! growth rate, and optionally written as JSON. A steady rise is a hint to run `hunter run`,
//! never a verdict.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use futures::StreamExt;
use hunter::launch::{LaunchOptions, ProcessEvent, ProcessTree};
use hunter::report::{format_bytes, format_signed_bytes, Role};
use hunter::scenario::{io_reason, Ready, Target};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{EXIT_INCOMPLETE, EXIT_USAGE};

/// Watch the heap of a command's Node processes and worker threads over time.
///
/// Starts the command (every Node process in it gets an inspector on 127.0.0.1, port 0), reads
/// each process's and worker thread's heap usage every --interval, and prints one line per
/// sample. At the end (--duration elapsed, the command exited, or Ctrl-C) it stops whatever it
/// started and prints, per process, the first/last/min/max heap used and its growth rate.
///
/// "grows steadily" (a least-squares line through heap used with R² > 0.8 over at least 5
/// samples, rising by 1 MiB or more) is a hint that something accumulates, not a verdict:
/// `hunter run` finds out what.
///
/// Exit code: 0 when watching completed (whatever the command's own exit code), 3 when the
/// command could not start, no Node process could be watched, or an inspector was lost.
///
/// Examples:
///
///   hunter watch -- node server.js
///
///   hunter watch --interval 0.5 --duration 60 --json heap.json -- npm start
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct WatchArgs {
    /// Seconds between samples.
    #[arg(long, value_name = "S", default_value = "1", value_parser = parse_seconds)]
    interval: Duration,
    /// Stop after this many seconds (default: when the command exits, or on Ctrl-C).
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    duration: Option<Duration>,
    /// Write the samples and the summary as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Do not echo the command's output on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// The command to start, after `--`.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    #[arg(value_name = "COMMAND")]
    command: Vec<String>,
}

/// A process needs this many samples before its trend means anything.
const MIN_SAMPLES_FOR_TREND: usize = 5;
/// How much of the heap's variation a straight line must explain to call growth steady.
const MIN_R_SQUARED: f64 = 0.8;
/// How far the line must rise over the watch. Below this, a straight climb is what an idle
/// process allocates between two young-generation collections (a few KiB/s, all garbage).
const MIN_RISE_BYTES: f64 = 1024.0 * 1024.0;
/// How long one heap reading may take before the sample is skipped.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a process whose inspector closed may take to exit before it counts as lost.
const EXIT_GRACE: Duration = Duration::from_secs(2);

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 1e9) {
        return Err(format!("`{text}` must be a positive number of seconds"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

pub fn run(args: WatchArgs) -> ExitCode {
    // Created first so that an unwritable --json fails before anything starts.
    let json_file = match &args.json {
        Some(path) => match temp_beside(path) {
            Ok(temp) => Some(temp),
            Err(message) => {
                eprintln!("hunter: {message}");
                return ExitCode::from(EXIT_USAGE);
            }
        },
        None => None,
    };
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(e) => {
            eprintln!("hunter: cannot read the current directory: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let runtime = match super::async_runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let target = Target {
        command: args.command.clone(),
        cwd,
        env: Default::default(),
        ready: Ready::Inspector,
    };
    let outcome = match runtime.block_on(watch(&args, &target)) {
        Ok(outcome) => outcome,
        Err(message) => {
            eprintln!("hunter: {message}");
            return ExitCode::from(EXIT_INCOMPLETE);
        }
    };
    print!("{}", render_summary(&outcome, &args));
    let mut code = 0;
    if let Some(problem) = &outcome.problem {
        eprintln!("hunter: {problem}");
        code = EXIT_INCOMPLETE;
    }
    if let (Some(temp), Some(path)) = (json_file, &args.json) {
        if let Err(message) = write_json(temp, path, &outcome, &args) {
            eprintln!("hunter: {message}");
            code = EXIT_INCOMPLETE;
        }
    }
    ExitCode::from(code)
}

/// One heap reading.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Seconds since the command started.
    at: f64,
    used: f64,
    total: f64,
}

/// How a watched process or worker ended, as far as hunter saw.
#[derive(Debug, Clone, Copy, PartialEq)]
enum End {
    /// Still running when watching stopped.
    Running,
    /// Exited (or, for a worker thread, finished) while watched.
    Exited,
    /// Its inspector closed while it kept running.
    InspectorLost,
}

/// A Node process or a worker thread, and its samples.
struct Watched {
    role: Role,
    pid: u32,
    worker_id: Option<String>,
    command: Vec<String>,
    /// None once it ended.
    session: Option<cdp::Session>,
    samples: Vec<Sample>,
    end: End,
}

impl Watched {
    /// `1234`, or `1234/w1` for worker 1 of process 1234.
    fn id(&self) -> String {
        match &self.worker_id {
            Some(worker) => format!("{}/w{worker}", self.pid),
            None => self.pid.to_string(),
        }
    }

    fn trend(&self) -> Trend {
        let points: Vec<(f64, f64)> = self.samples.iter().map(|s| (s.at, s.used)).collect();
        Trend::fit(&points)
    }
}

/// What the connection tasks tell the sampling loop.
enum Update {
    Attached(Watched),
    /// Could not connect to a Node process's inspector.
    Unreachable {
        pid: u32,
        reason: String,
    },
    /// A Node process finished its work and waits for hunter to disconnect before it exits.
    Finishing {
        pid: u32,
    },
}

/// Everything watching found.
struct Outcome {
    watched: Vec<Watched>,
    elapsed: Duration,
    /// Why watching could not complete (exit 3), when it could not.
    problem: Option<String>,
}

async fn watch(args: &WatchArgs, target: &Target) -> Result<Outcome, String> {
    let options = LaunchOptions {
        quiet: args.quiet,
        ..LaunchOptions::default()
    };
    // Listening before the start: a Ctrl-C must end the watch, not hunter (the command runs in
    // its own process group, so the terminal's SIGINT reaches hunter only).
    let (mut interrupt, mut terminate) = stop_signals()?;
    let mut tree = ProcessTree::spawn(target, &options).map_err(|e| e.to_string())?;
    for warning in tree.warnings() {
        eprintln!("hunter: {warning}");
    }
    let started = Instant::now();
    let mut events = tree
        .events()
        .ok_or("the process tree's events were already taken")?;
    let (updates_in, mut updates) = mpsc::unbounded_channel();
    let mut watched: Vec<Watched> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut ticks = tokio::time::interval_at(started + args.interval, args.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut exit_checks = tokio::time::interval(Duration::from_millis(100));
    let deadline = args.duration.map(|d| started + d);
    let stop_at_deadline = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stop_at_deadline);
    eprintln!(
        "hunter: {:>7}  {:<6} {:<10} {:<28} {:>10} {:>11}  trend",
        "time", "role", "pid", "command", "heap used", "since start"
    );

    loop {
        tokio::select! {
            _ = &mut stop_at_deadline => break,
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
            Some(event) = events.recv() => match event {
                ProcessEvent::Started(process) => match process.ws_url.clone() {
                    Some(url) => {
                        let role = match process.role {
                            hunter::launch::Role::Main => Role::Main,
                            hunter::launch::Role::Child => Role::Child,
                        };
                        tokio::spawn(connect(url, role, process.pid, process.command, updates_in.clone()));
                    }
                    None => problems.push(format!(
                        "process {} ({}) has no inspector, it was not watched",
                        process.pid,
                        process.command.join(" ")
                    )),
                },
                ProcessEvent::Exited { pid } => {
                    for one in watched.iter_mut().filter(|w| w.pid == pid && w.end == End::Running) {
                        one.end = End::Exited;
                        one.session = None;
                    }
                }
            },
            Some(update) = updates.recv() => match update {
                Update::Attached(one) => watched.push(one),
                Update::Unreachable { pid, reason } => {
                    if tree.is_alive(pid) {
                        problems.push(format!("cannot connect to the inspector of process {pid}: {reason}"));
                    }
                }
                Update::Finishing { pid } => {
                    for one in watched.iter_mut().filter(|w| w.pid == pid) {
                        one.end = End::Exited;
                        one.session = None;
                    }
                }
            },
            _ = ticks.tick() => {
                sample_all(&mut watched, started).await;
                for lost in find_lost(&mut watched, &tree).await {
                    problems.push(lost);
                }
            }
            _ = exit_checks.tick() => {
                let processes = tree.processes();
                if tree.main_exited().is_some() && processes.iter().all(|p| !tree.is_alive(p.pid)) {
                    break;
                }
            }
        }
    }
    let elapsed = started.elapsed();
    for one in &mut watched {
        one.session = None;
    }
    tree.shutdown().await;
    if watched.is_empty() && problems.is_empty() {
        problems.push(format!(
            "no Node process of `{}` could be watched",
            target.command.join(" ")
        ));
    }
    Ok(Outcome {
        watched,
        elapsed,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    })
}

fn stop_signals() -> Result<(tokio::signal::unix::Signal, tokio::signal::unix::Signal), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen = |kind| signal(kind).map_err(|e| format!("cannot listen for signals: {e}"));
    Ok((
        listen(SignalKind::interrupt())?,
        listen(SignalKind::terminate())?,
    ))
}

/// Connects to one Node process, arranges to hear when it wants to exit, and hands it (then
/// each of its worker threads, as they start) to the sampling loop.
async fn connect(
    url: String,
    role: Role,
    pid: u32,
    command: Vec<String>,
    updates: mpsc::UnboundedSender<Update>,
) {
    let session = match cdp::Session::connect(&url).await {
        Ok(session) => session,
        Err(e) => {
            let _ = updates.send(Update::Unreachable {
                pid,
                reason: e.to_string(),
            });
            return;
        }
    };
    // With a debugger attached, Node does not exit when its work is done: it waits for the
    // debugger to disconnect, and says so only to those who asked.
    let mut finishing = session.subscribe("NodeRuntime.waitingForDisconnect");
    let _ = session
        .send(
            "NodeRuntime.notifyWhenWaitingForDisconnect",
            json!({ "enabled": true }),
        )
        .await;
    let workers = session.attach_workers(false).await;
    let _ = updates.send(Update::Attached(Watched {
        role,
        pid,
        worker_id: None,
        command,
        session: Some(session.clone()),
        samples: Vec::new(),
        end: End::Running,
    }));
    let forward_workers = async {
        let Ok(mut workers) = workers else {
            return;
        };
        while let Some(worker) = workers.next().await {
            let _ = updates.send(Update::Attached(Watched {
                role: Role::Worker,
                pid,
                worker_id: Some(worker.info.worker_id.clone()),
                command: vec![worker.info.url.clone()],
                session: Some(worker.session),
                samples: Vec::new(),
                end: End::Running,
            }));
        }
    };
    tokio::select! {
        _ = forward_workers => {}
        Some(_) = finishing.next() => {
            let _ = updates.send(Update::Finishing { pid });
            session.disconnect().await;
        }
    }
}

/// Reads the heap of everything still running, all at once, and prints a line per reading.
async fn sample_all(watched: &mut [Watched], started: Instant) {
    let at = started.elapsed().as_secs_f64();
    let readings = watched.iter().enumerate().filter_map(|(index, one)| {
        let session = one.session.clone()?;
        Some(async move {
            let usage = session
                .call_with_timeout(&cdp::protocol::runtime::GetHeapUsage {}, SAMPLE_TIMEOUT)
                .await;
            (index, usage)
        })
    });
    // A slow reading skips this sample; a closed session is sorted out by find_lost.
    for (index, usage) in futures::future::join_all(readings).await {
        let Ok(usage) = usage else { continue };
        let one = &mut watched[index];
        one.samples.push(Sample {
            at,
            used: usage.used_size,
            total: usage.total_size,
        });
        eprintln!("hunter: {}", live_line(one));
    }
}

/// Ends the watch of processes and workers whose inspector closed: a worker or a process that
/// exited simply ended; a process still running without its inspector is lost.
async fn find_lost(watched: &mut [Watched], tree: &ProcessTree) -> Vec<String> {
    let mut lost = Vec::new();
    for one in watched.iter_mut() {
        if !one.session.as_ref().is_some_and(cdp::Session::is_closed) {
            continue;
        }
        one.session = None;
        one.end = End::Exited;
        if one.worker_id.is_some() {
            continue;
        }
        let grace = Instant::now() + EXIT_GRACE;
        while tree.is_alive(one.pid) && Instant::now() < grace {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if tree.is_alive(one.pid) {
            one.end = End::InspectorLost;
            lost.push(format!(
                "lost the inspector of process {} ({}) while it kept running",
                one.pid,
                one.command.join(" ")
            ));
        }
    }
    lost
}

fn live_line(one: &Watched) -> String {
    let last = one.samples.last().copied();
    let first = one.samples.first().copied();
    let (Some(last), Some(first)) = (last, first) else {
        return String::new();
    };
    let previous = one
        .samples
        .iter()
        .rev()
        .nth(1)
        .map_or(last.used, |s| s.used);
    // Changes under 1% are GC noise, not a direction.
    let trend = if last.used > previous * 1.01 {
        "↑"
    } else if last.used < previous * 0.99 {
        "↓"
    } else {
        "→"
    };
    format!(
        "{:>6.1}s  {:<6} {:<10} {:<28} {:>10} {:>11}  {trend}",
        last.at,
        one.role.as_str(),
        one.id(),
        short_command(&one.command, 28),
        format_bytes(last.used),
        format_signed_bytes(last.used - first.used),
    )
}

/// A least-squares line through (seconds, bytes) points.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Trend {
    /// Bytes per second; None below two samples or with no time between them.
    slope: Option<f64>,
    /// Seconds from the first point to the last.
    span: f64,
    /// The share of the variation the line explains (0 when nothing varies).
    r_squared: f64,
    samples: usize,
}

impl Trend {
    fn fit(points: &[(f64, f64)]) -> Trend {
        let n = points.len() as f64;
        let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        for (x, y) in points {
            sxx += (x - mean_x) * (x - mean_x);
            sxy += (x - mean_x) * (y - mean_y);
            syy += (y - mean_y) * (y - mean_y);
        }
        let slope = (points.len() >= 2 && sxx > 0.0).then(|| sxy / sxx);
        let r_squared = if sxx > 0.0 && syy > 0.0 {
            sxy * sxy / (sxx * syy)
        } else {
            0.0
        };
        let span = match (points.first(), points.last()) {
            (Some(first), Some(last)) => last.0 - first.0,
            _ => 0.0,
        };
        Trend {
            slope,
            span,
            r_squared,
            samples: points.len(),
        }
    }

    /// The hint: heap used rose along a straight line, sample after sample, by at least
    /// [`MIN_RISE_BYTES`].
    fn grows_steadily(&self) -> bool {
        self.samples >= MIN_SAMPLES_FOR_TREND
            && self
                .slope
                .is_some_and(|slope| slope > 0.0 && slope * self.span >= MIN_RISE_BYTES)
            && self.r_squared > MIN_R_SQUARED
    }
}

fn render_summary(outcome: &Outcome, args: &WatchArgs) -> String {
    let mut text = format!(
        "hunter watch: {} for {:.1} s, a sample every {} s\n",
        args.command.join(" "),
        outcome.elapsed.as_secs_f64(),
        args.interval.as_secs_f64()
    );
    text.push_str(&format!(
        "{:<6} {:<10} {:<28} {:>7} {:>10} {:>10} {:>10} {:>10} {:>12}\n",
        "role", "pid", "command", "samples", "first", "last", "min", "max", "growth/s"
    ));
    for one in &outcome.watched {
        let used: Vec<f64> = one.samples.iter().map(|s| s.used).collect();
        let trend = one.trend();
        let show = |value: Option<f64>| value.map_or("-".to_string(), format_bytes);
        text.push_str(&format!(
            "{:<6} {:<10} {:<28} {:>7} {:>10} {:>10} {:>10} {:>10} {:>12}",
            one.role.as_str(),
            one.id(),
            short_command(&one.command, 28),
            used.len(),
            show(used.first().copied()),
            show(used.last().copied()),
            show(used.iter().copied().reduce(f64::min)),
            show(used.iter().copied().reduce(f64::max)),
            trend.slope.map_or("-".to_string(), |slope| format!(
                "{}/s",
                format_signed_bytes(slope)
            )),
        ));
        if trend.grows_steadily() {
            text.push_str(&format!("  grows steadily (R² {:.2})", trend.r_squared));
        }
        match one.end {
            End::Running => {}
            End::Exited => text.push_str("  (exited)"),
            End::InspectorLost => text.push_str("  (inspector lost)"),
        }
        text.push('\n');
    }
    if outcome
        .watched
        .iter()
        .any(|one| one.trend().grows_steadily())
    {
        text.push_str(&format!(
            "\"grows steadily\": heap used rose along a straight line (R² > {MIN_R_SQUARED}, at \
             least {MIN_SAMPLES_FOR_TREND} samples, by {} or more). A hint, not a verdict: \
             `hunter run` with a scenario tells a leak from a warming cache.\n",
            format_bytes(MIN_RISE_BYTES)
        ));
    }
    text
}

fn to_json(outcome: &Outcome, args: &WatchArgs) -> Value {
    let processes: Vec<Value> = outcome
        .watched
        .iter()
        .map(|one| {
            let trend = one.trend();
            let used: Vec<f64> = one.samples.iter().map(|s| s.used).collect();
            json!({
                "pid": one.pid,
                "role": one.role.as_str(),
                "worker_id": one.worker_id,
                "command": one.command,
                "end": match one.end {
                    End::Running => "running",
                    End::Exited => "exited",
                    End::InspectorLost => "inspector_lost",
                },
                "samples": one.samples.iter().map(|s| json!({
                    "at_s": s.at,
                    "heap_used_bytes": s.used,
                    "heap_total_bytes": s.total,
                })).collect::<Vec<_>>(),
                "summary": {
                    "samples": used.len(),
                    "first_bytes": used.first(),
                    "last_bytes": used.last(),
                    "min_bytes": used.iter().copied().reduce(f64::min),
                    "max_bytes": used.iter().copied().reduce(f64::max),
                    "growth_bytes_per_s": trend.slope,
                    "r_squared": trend.r_squared,
                    "grows_steadily": trend.grows_steadily(),
                },
            })
        })
        .collect();
    json!({
        "version": 1,
        "command": args.command,
        "interval_s": args.interval.as_secs_f64(),
        "duration_s": outcome.elapsed.as_secs_f64(),
        "complete": outcome.problem.is_none(),
        "problem": outcome.problem,
        "processes": processes,
    })
}

/// A temporary file in `path`'s directory, to be renamed over `path` once written whole.
fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile, String> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".hunter-watch")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot write {}: {}", path.display(), io_reason(&e)))
}

fn write_json(
    mut temp: tempfile::NamedTempFile,
    path: &Path,
    outcome: &Outcome,
    args: &WatchArgs,
) -> Result<(), String> {
    use std::io::Write;
    let cannot = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let mut text = serde_json::to_vec_pretty(&to_json(outcome, args)).map_err(|e| cannot(&e))?;
    text.push(b'\n');
    temp.write_all(&text).map_err(|e| cannot(&e))?;
    temp.as_file().sync_all().map_err(|e| cannot(&e))?;
    temp.persist(path).map_err(|e| cannot(&e.error))?;
    Ok(())
}

/// The command without the directories of its words, cut to `width` characters.
fn short_command(command: &[String], width: usize) -> String {
    let text = hunter::report::short_command(command).join(" ");
    if text.chars().count() <= width {
        text
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_rise_has_its_slope_and_r_squared_one() {
        let points: Vec<(f64, f64)> = (0..6)
            .map(|i| (i as f64 * 0.5, 4e6 + 300_000.0 * i as f64))
            .collect();
        let trend = Trend::fit(&points);
        assert!((trend.slope.unwrap() - 600_000.0).abs() < 1e-6);
        assert!((trend.r_squared - 1.0).abs() < 1e-9);
        assert!(trend.grows_steadily());
        // The same straight line, but only what an idle process allocates between collections.
        let creep: Vec<(f64, f64)> = (0..6)
            .map(|i| (i as f64 * 0.5, 4e6 + 3_500.0 * i as f64))
            .collect();
        assert!(Trend::fit(&creep).r_squared > 0.99);
        assert!(!Trend::fit(&creep).grows_steadily());
    }

    #[test]
    fn flat_noisy_and_short_series_do_not_grow_steadily() {
        let flat: Vec<(f64, f64)> = (0..6).map(|i| (i as f64, 5000.0)).collect();
        assert_eq!(Trend::fit(&flat).slope, Some(0.0));
        assert!(!Trend::fit(&flat).grows_steadily());
        let sawtooth: Vec<(f64, f64)> = [10.0, 30.0, 5.0, 32.0, 8.0, 29.0]
            .iter()
            .enumerate()
            .map(|(i, y)| (i as f64, *y))
            .collect();
        assert!(Trend::fit(&sawtooth).r_squared < MIN_R_SQUARED);
        assert!(!Trend::fit(&sawtooth).grows_steadily());
        let short = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 4.0)];
        assert!(!Trend::fit(&short).grows_steadily());
        assert_eq!(Trend::fit(&[(1.0, 1.0)]).slope, None);
    }

    #[test]
    fn seconds_must_be_positive_numbers() {
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_seconds("0").unwrap_err().contains("positive"));
        assert!(parse_seconds("-1").unwrap_err().contains("positive"));
        assert!(parse_seconds("nan").unwrap_err().contains("positive"));
        assert!(parse_seconds("1s")
            .unwrap_err()
            .contains("`1s` is not a number"));
    }

    #[test]
    fn commands_are_shortened_to_names() {
        let command = vec![
            "node".to_string(),
            "/srv/app/server.js".to_string(),
            "--port=1/2".to_string(),
        ];
        assert_eq!(short_command(&command, 40), "node server.js --port=1/2");
        assert_eq!(short_command(&command, 8), "node se…");
    }
}
