//! The hunt of one scenario: launch → connect → drive → snapshot → analyse.
//!
//! [`run`] never fails: whatever goes wrong (the target exits, the workload throws, the hunt
//! times out) becomes a scenario report with verdict `error`, and everything measured until then
//! is kept in it. Every process the hunt started is gone when it returns.
//!
//! Each iteration ends at a *boundary*: every live heap (each Node process of the tree and each
//! of their worker threads) is garbage collected and snapshotted, all at once. A process that
//! appears mid-hunt joins at the next boundary, which is its baseline.

mod collections;
mod subject;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::mpsc;

use crate::launch::{self, LaunchOptions, NodeProcess, ProcessEvent, ProcessTree};
use crate::report::{format_bytes, Role, ScenarioReport, Verdict};
use crate::scenario::Scenario;
use crate::workload::Driver;

use subject::{Identity, Subject};

/// How the user asked the hunt to run, beyond the scenario file.
#[derive(Debug, Clone, Default)]
pub struct HuntOptions {
    /// Overrides `[hunt] iterations`.
    pub iterations: Option<u32>,
    /// Overrides `[hunt] warmup`.
    pub warmup: Option<u32>,
    /// Write every snapshot into this directory (it opens in Chrome DevTools).
    pub snapshot_dir: Option<PathBuf>,
    /// Also save the target's output in this directory.
    pub log_dir: Option<PathBuf>,
    /// Do not echo the target's output on stderr.
    pub quiet_target: bool,
}

/// Hunts one scenario and reports what it found. Runs on a multi-threaded tokio runtime: the
/// final analysis of a snapshot runs in place on a worker thread (`block_in_place`).
pub async fn run(scenario: &Scenario, options: &HuntOptions) -> ScenarioReport {
    let started = Instant::now();
    let iterations = options.iterations.unwrap_or(scenario.hunt.iterations);
    let warmup = options.warmup.unwrap_or(scenario.hunt.warmup);
    let mut hunt = Hunt {
        scenario,
        options,
        iterations,
        warmup,
        subjects: Vec::new(),
        tree: None,
        joining: None,
        known_pids: HashSet::new(),
    };
    let outcome = tokio::select! {
        outcome = hunt.drive() => outcome,
        _ = tokio::time::sleep(scenario.hunt.timeout) => Err(format!(
            "the hunt did not finish within {} s ([hunt] timeout_s)",
            scenario.hunt.timeout.as_secs()
        )),
        code = crate::launch::interrupted() => Err(format!(
            "interrupted by {} after {:.1} s",
            if code == 143 { "SIGTERM" } else { "SIGINT (Ctrl-C)" },
            started.elapsed().as_secs_f64()
        )),
    };
    hunt.finish(outcome.err(), started).await
}

/// A heap that showed up and waits to be connected: a new process or a new worker thread.
enum Arrival {
    Process(NodeProcess),
    Worker { host: Identity, worker: cdp::Worker },
}

struct Hunt<'a> {
    scenario: &'a Scenario,
    options: &'a HuntOptions,
    iterations: u32,
    warmup: u32,
    subjects: Vec<Subject>,
    tree: Option<ProcessTree>,
    /// Heaps that appeared and join at the next boundary.
    joining: Option<mpsc::UnboundedReceiver<Arrival>>,
    known_pids: HashSet<u32>,
}

impl Hunt<'_> {
    async fn drive(&mut self) -> Result<(), String> {
        let scenario = self.scenario;
        progress(
            scenario,
            &format!("starting {}", scenario.target.command.join(" ")),
        );
        if let Some(dir) = &self.options.log_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let launch = LaunchOptions {
            quiet: self.options.quiet_target,
            label: "app".to_owned(),
            output_log: self
                .options
                .log_dir
                .as_ref()
                .map(|dir| dir.join("target-output.log")),
            scenario_file: Some(scenario.file.clone()),
        };
        let mut tree = ProcessTree::spawn(&scenario.target, &launch).map_err(|e| e.to_string())?;
        for warning in tree.warnings() {
            progress(scenario, &format!("warning: {warning}"));
        }
        let events = tree.events().expect("a new tree hands out its events once");
        // The tree is kept before waiting, so that it is shut down whatever happens next.
        let tree = self.tree.insert(tree);
        let placeholders = tree
            .wait_ready(scenario.hunt.timeout)
            .await
            .map_err(|e| e.to_string())?;

        let (arrivals_tx, arrivals_rx) = mpsc::unbounded_channel();
        self.joining = Some(arrivals_rx);
        tokio::spawn(forward_processes(events, arrivals_tx.clone()));
        let main = self.wait_for_main(&arrivals_tx).await?;
        let main_session = main.session.clone();
        self.watch_workers(&main, arrivals_tx.clone());
        self.subjects.push(main);

        let mut driver = Driver::new(scenario, &placeholders, main_session);
        driver.setup().await.map_err(|e| e.to_string())?;
        for i in 0..self.warmup {
            progress(scenario, &format!("warmup {}/{}", i + 1, self.warmup));
            driver.iteration(i).await.map_err(|e| e.to_string())?;
        }
        self.boundary(0, &arrivals_tx).await?;
        for i in 0..self.iterations {
            progress(
                scenario,
                &format!("iteration {}/{}", i + 1, self.iterations),
            );
            driver
                .iteration(self.warmup.saturating_add(i))
                .await
                .map_err(|e| e.to_string())?;
            self.boundary(i as usize + 1, &arrivals_tx).await?;
        }
        self.explain(&mut driver).await;
        driver.teardown().await.map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Where were the leaked objects allocated? Snapshots carry allocation stacks only while
    /// V8 tracks allocations, which slows allocation-heavy code many times over; so the
    /// measured iterations run untracked, and only heaps that leak run one more iteration
    /// with tracking on (twice at most, when a group's new objects showed no stack the first
    /// time). A failure here loses the allocation sites, never the verdict.
    async fn explain(&mut self, driver: &mut Driver) {
        for subject in self.subjects.iter_mut().filter(|s| s.is_live()) {
            subject.find_leaks().await;
        }
        for attempt in 0..EXPLAIN_ATTEMPTS {
            let unexplained: Vec<usize> = (0..self.subjects.len())
                .filter(|&n| {
                    self.subjects[n].is_live() && self.subjects[n].lacks_allocation_sites()
                })
                .collect();
            if unexplained.is_empty() {
                return;
            }
            if attempt == 0 {
                progress(
                    self.scenario,
                    "one more iteration with allocation tracking, to find where the leaks are allocated",
                );
            }
            let mut tracking = Vec::new();
            for n in unexplained {
                if self.subjects[n].start_allocation_tracking().await.is_ok() {
                    tracking.push(n);
                }
            }
            let index = self
                .warmup
                .saturating_add(self.iterations)
                .saturating_add(attempt);
            if let Err(e) = driver.iteration(index).await {
                // The iterations the user asked for are done and judged; an extra one failing
                // costs the allocation sites only.
                progress(
                    self.scenario,
                    &format!("no allocation sites: the extra iteration failed: {e}"),
                );
                return;
            }
            for n in tracking {
                let subject = &mut self.subjects[n];
                if let Err(reason) = subject.explain(&self.scenario.dir).await {
                    progress(
                        self.scenario,
                        &format!(
                            "  {}: no allocation sites ({reason})",
                            subject.identity.label()
                        ),
                    );
                }
            }
        }
        for subject in self.subjects.iter().filter(|s| s.lacks_allocation_sites()) {
            progress(
                self.scenario,
                &format!(
                    "  {}: some leak groups showed no allocation stack",
                    subject.identity.label()
                ),
            );
        }
    }

    /// Connects to the main process, which `wait_ready` saw announce itself. Children that
    /// announced themselves before it are handed back to the arrivals, to join at the first
    /// boundary like any other.
    async fn wait_for_main(
        &mut self,
        arrivals_tx: &mpsc::UnboundedSender<Arrival>,
    ) -> Result<Subject, String> {
        let joining = self.joining.as_mut().expect("arrivals are set up");
        let mut early = Vec::new();
        while let Some(arrival) = joining.recv().await {
            match arrival {
                Arrival::Process(process) if process.role == launch::Role::Main => {
                    self.known_pids.insert(process.pid);
                    for arrival in early {
                        let _ = arrivals_tx.send(arrival);
                    }
                    return connect_process(&process).await;
                }
                other => early.push(other),
            }
        }
        // Not reached while the hunt holds a sender; kept so that a change there cannot hang.
        Err("the target exited before its main Node process could be inspected".to_owned())
    }

    fn watch_workers(&self, subject: &Subject, arrivals: mpsc::UnboundedSender<Arrival>) {
        if !self.scenario.hunt.children {
            return;
        }
        let host = subject.identity.clone();
        let session = subject.session.clone();
        tokio::spawn(async move {
            let Ok(mut workers) = session.attach_workers(false).await else {
                return;
            };
            while let Some(worker) = workers.next().await {
                let arrival = Arrival::Worker {
                    host: host.clone(),
                    worker,
                };
                if arrivals.send(arrival).is_err() {
                    return;
                }
            }
        });
    }

    /// Connects every heap that appeared since the last boundary.
    async fn admit_arrivals(&mut self, arrivals_tx: &mpsc::UnboundedSender<Arrival>) {
        let mut arrived = Vec::new();
        if let Some(joining) = self.joining.as_mut() {
            while let Ok(arrival) = joining.try_recv() {
                arrived.push(arrival);
            }
        }
        for arrival in arrived {
            match arrival {
                Arrival::Process(process) => {
                    if !self.scenario.hunt.children || !self.known_pids.insert(process.pid) {
                        continue;
                    }
                    match connect_process(&process).await {
                        Ok(subject) => {
                            progress(
                                self.scenario,
                                &format!(
                                    "found {} ({})",
                                    subject.identity.label(),
                                    subject.identity.command.join(" ")
                                ),
                            );
                            self.watch_workers(&subject, arrivals_tx.clone());
                            self.subjects.push(subject);
                        }
                        Err(e) => progress(self.scenario, &format!("pid {}: {e}", process.pid)),
                    }
                }
                Arrival::Worker { host, worker } => {
                    let identity = Identity {
                        pid: host.pid,
                        role: Role::Worker,
                        command: host.command.clone(),
                        parent_pid: Some(host.pid),
                        title: Some(worker.info.title.clone()),
                        url: Some(worker.info.url.clone()),
                    };
                    progress(self.scenario, &format!("found {}", identity.label()));
                    self.subjects
                        .push(Subject::new(identity, worker.session.clone()));
                }
            }
        }
    }

    /// Ends an iteration for every live heap at once.
    async fn boundary(
        &mut self,
        index: usize,
        arrivals_tx: &mpsc::UnboundedSender<Arrival>,
    ) -> Result<(), String> {
        self.admit_arrivals(arrivals_tx).await;
        let snapshot_dir = self.options.snapshot_dir.clone();
        if let Some(dir) = &snapshot_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let measurements = self
            .subjects
            .iter_mut()
            .enumerate()
            .filter(|(_, s)| s.is_live())
            .map(|(n, subject)| {
                let keep = snapshot_dir.as_ref().map(|dir| {
                    dir.join(format!(
                        "{}-{}-{}-{index}.heapsnapshot",
                        subject.identity.role, subject.identity.pid, n
                    ))
                });
                async move {
                    let result = subject.measure(keep).await;
                    (subject, result)
                }
            });
        let results = futures::future::join_all(measurements).await;
        let mut main_lost = None;
        for (subject, result) in results {
            match result {
                Ok(stats) => progress(
                    self.scenario,
                    &format!(
                        "  {}: heap {} · snapshot {}",
                        subject.identity.label(),
                        format_bytes(stats.heap_used as f64),
                        format_bytes(stats.snapshot_bytes as f64)
                    ),
                ),
                Err(reason) => {
                    if subject.identity.role == Role::Main {
                        main_lost = Some(reason.clone());
                    } else {
                        progress(
                            self.scenario,
                            &format!("  {}: gone ({reason})", subject.identity.label()),
                        );
                    }
                    subject.gone = Some(reason);
                }
            }
        }
        match main_lost {
            Some(reason) => Err(format!("main process: {reason}")),
            None => Ok(()),
        }
    }

    /// Shuts the tree down and builds the report from whatever was measured.
    async fn finish(mut self, error: Option<String>, started: Instant) -> ScenarioReport {
        let exit_note = match self.tree.as_mut().and_then(|tree| tree.main_exited()) {
            Some(status) if error.is_some() => Some(format!(" (the target exited: {status})")),
            _ => None,
        };
        let error = error.map(|e| e + exit_note.as_deref().unwrap_or(""));
        let mut processes = Vec::new();
        for subject in std::mem::take(&mut self.subjects) {
            // The baseline and one boundary per measured iteration.
            let planned_boundaries = self.iterations as usize + 1;
            processes.push(subject.report(error.as_deref(), planned_boundaries).await);
        }
        if let Some(tree) = self.tree.take() {
            tree.shutdown().await;
        }
        let verdict = if error.is_some() {
            Verdict::Error
        } else {
            Verdict::worst(processes.iter().map(|p| p.verdict))
        };
        ScenarioReport {
            name: self.scenario.name.clone(),
            file: self.scenario.file.display().to_string(),
            verdict,
            error,
            iterations: self.iterations,
            warmup: self.warmup,
            duration_ms: started.elapsed().as_millis() as u64,
            processes,
        }
    }
}

async fn forward_processes(
    mut events: mpsc::UnboundedReceiver<ProcessEvent>,
    arrivals: mpsc::UnboundedSender<Arrival>,
) {
    while let Some(event) = events.recv().await {
        if let ProcessEvent::Started(process) = event {
            if arrivals.send(Arrival::Process(process)).is_err() {
                return;
            }
        }
    }
}

/// Iterations with allocation tracking at most, to find allocation sites.
const EXPLAIN_ATTEMPTS: u32 = 2;

/// How long connecting to a freshly announced inspector may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

async fn connect_process(process: &NodeProcess) -> Result<Subject, String> {
    let Some(url) = &process.ws_url else {
        return Err("it has no inspector (it could not open one), so it cannot be hunted".into());
    };
    let session = tokio::time::timeout(CONNECT_TIMEOUT, cdp::Session::connect(url))
        .await
        .map_err(|_| format!("no answer from the inspector at {url}"))?
        .map_err(|e| format!("cannot connect to the inspector at {url}: {e}"))?;
    let_exiting_processes_go(&session).await;
    let role = match process.role {
        launch::Role::Main => Role::Main,
        launch::Role::Child => Role::Child,
    };
    let identity = Identity {
        pid: process.pid,
        role,
        command: process.command.clone(),
        parent_pid: (role != Role::Main).then_some(process.ppid),
        title: Some(process.title.clone()).filter(|t| !t.is_empty() && t != "node"),
        url: None,
    };
    Ok(Subject::new(identity, session))
}

/// A Node process with a debugger attached does not exit: it waits for the debugger to
/// disconnect. Node says so (`NodeRuntime.waitingForDisconnect`) only when asked to; hunter
/// asks, and lets go at once, so that a child finishing its work can exit and its parent,
/// which may be awaiting it, is not blocked by the hunt.
async fn let_exiting_processes_go(session: &cdp::Session) {
    let mut waiting = session.subscribe("NodeRuntime.waitingForDisconnect");
    let asked = session
        .send_with_timeout(
            "NodeRuntime.notifyWhenWaitingForDisconnect",
            serde_json::json!({ "enabled": true }),
            CONNECT_TIMEOUT,
        )
        .await;
    if asked.is_err() {
        return;
    }
    let session = session.clone();
    tokio::spawn(async move {
        if waiting.next().await.is_some() {
            session.disconnect().await;
        }
    });
}

fn progress(scenario: &Scenario, message: &str) {
    eprintln!("hunter: [{}] {message}", scenario.name);
}
