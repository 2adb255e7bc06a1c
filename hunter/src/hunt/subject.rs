//! One hunted heap: a Node process's main thread or one of its worker threads, with everything
//! measured of it so far.

use std::path::PathBuf;
use std::time::Duration;

use cdp::Session;
use futures::StreamExt;
use serde_json::json;

use crate::analyse::{CollectionId, CollectionTracker, LeakTracker};
use crate::report::{Leak, ProcessReport, Role, Verdict};
use crate::snapshot::{self, Analysis, HeapSnapshot};

use super::collections;

/// How long one garbage collection may take before the heap is taken to be exiting. Node never
/// answers `collectGarbage` once it has begun to exit, so this must never be unbounded.
const GC_TIMEOUT: Duration = Duration::from_secs(20);
/// Bound on the small calls made at each boundary (heap usage, collection sizes).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Who a heap belongs to, as the report shows it.
#[derive(Debug, Clone)]
pub struct Identity {
    pub pid: u32,
    pub role: Role,
    pub command: Vec<String>,
    pub parent_pid: Option<u32>,
    pub title: Option<String>,
    pub url: Option<String>,
}

impl Identity {
    /// A short label for progress lines: `main 4242`, `child 4250`, `worker 4242 (title)`.
    pub fn label(&self) -> String {
        match self.role {
            Role::Worker => format!(
                "worker {} ({})",
                self.pid,
                self.title.as_deref().unwrap_or("thread")
            ),
            role => format!("{role} {}", self.pid),
        }
    }
}

/// A heap being hunted.
pub struct Subject {
    pub identity: Identity,
    pub session: Session,
    leaks: LeakTracker,
    collections: CollectionTracker,
    /// Kind (`Array`, `Map`, `Set`) of each collection of numbers registered in the target.
    registered_kinds: Vec<&'static str>,
    heap_used: Vec<u64>,
    /// The newest snapshot; only the last one is analysed in full.
    last: Option<HeapSnapshot>,
    /// Boundaries measured: the baseline, then one per measured iteration.
    boundaries: usize,
    /// Gone before the hunt ended (exited, detached, inspector lost).
    pub gone: Option<String>,
    /// Leak groups, once found (see [`Subject::find_leaks`]).
    found: Option<Vec<Leak>>,
    /// The hunt stopped before its end (timeout, failure): no more calls into the target.
    stopped_early: bool,
}

/// What one boundary measured of a heap, for progress lines.
pub struct BoundaryStats {
    pub snapshot_bytes: u64,
    pub heap_used: u64,
}

impl Subject {
    pub fn new(identity: Identity, session: Session) -> Subject {
        Subject {
            identity,
            session,
            leaks: LeakTracker::new(),
            collections: CollectionTracker::new(),
            registered_kinds: Vec::new(),
            heap_used: Vec::new(),
            last: None,
            boundaries: 0,
            gone: None,
            found: None,
            stopped_early: false,
        }
    }

    pub fn is_live(&self) -> bool {
        self.gone.is_none() && !self.session.is_closed()
    }

    /// Ends an iteration for this heap: forced GC, collection sizes, heap usage, and a heap
    /// snapshot parsed while V8 streams it. `keep` also writes the snapshot to that file.
    pub async fn measure(&mut self, keep: Option<PathBuf>) -> Result<BoundaryStats, String> {
        let session = self.session.clone();
        // Console messages hold their arguments alive for as long as the inspector keeps them;
        // discarding them first keeps `console.log(obj)` from looking like a leak.
        let _ = session
            .send_with_timeout("Runtime.discardConsoleEntries", json!({}), CALL_TIMEOUT)
            .await;
        // The snapshot itself collects all it can; this earlier collection gives finalizers and
        // weak callbacks a turn in between to release what they hold.
        session
            .send_with_timeout("HeapProfiler.collectGarbage", json!({}), GC_TIMEOUT)
            .await
            .map_err(|e| describe_loss(&e, "forcing garbage collection"))?;
        let usage = session
            .send_with_timeout("Runtime.getHeapUsage", json!({}), CALL_TIMEOUT)
            .await
            .map_err(|e| describe_loss(&e, "reading heap usage"))?;
        let heap_used = usage
            .get("usedSize")
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as u64;

        let (snapshot, snapshot_bytes) = stream_snapshot(&session, keep).await?;
        // Only collections alive from the baseline on can grow at every boundary, so they are
        // registered there. The target is idle since the snapshot, so the sizes belong to it.
        // Losing them loses only collections of numbers, not the boundary.
        if self.boundaries == 0 {
            self.registered_kinds =
                collections::register_number_collections(&session, CALL_TIMEOUT)
                    .await
                    .unwrap_or_default();
        }
        let kinds = &self.registered_kinds;
        let sizes: Vec<(u64, &'static str, u64)> =
            collections::number_collection_sizes(&session, CALL_TIMEOUT)
                .await
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(index, size)| Some((index, *kinds.get(index as usize)?, size)))
                .collect();

        // Every await is behind us: the boundary is recorded whole or not at all, even if the
        // hunt is cancelled (timeout) or the process goes away.
        self.leaks.observe(&snapshot);
        self.collections.observe(&snapshot, &sizes);
        self.heap_used.push(heap_used);
        self.last = Some(snapshot);
        self.boundaries += 1;
        Ok(BoundaryStats {
            snapshot_bytes,
            heap_used,
        })
    }

    /// Finds this heap's leak groups in what was measured so far (once; later calls return the
    /// same groups). Needs two measured iterations at least.
    pub async fn find_leaks(&mut self) -> &[Leak] {
        if self.found.is_none() {
            let mut leaks = Vec::new();
            if let Some(last) = self.last.as_ref().filter(|_| self.leaks.measured() >= 2) {
                let analysis = tokio::task::block_in_place(|| Analysis::new(last));
                leaks = self.leaks.leaks(last, &analysis);
                leaks.extend(self.collection_leaks(last, &analysis, &leaks).await);
                crate::analyse::sort_leaks(&mut leaks);
            }
            self.found = Some(leaks);
        }
        self.found.as_deref().unwrap_or_default()
    }

    /// Whether some leak group still has no allocation site.
    pub fn lacks_allocation_sites(&self) -> bool {
        self.found.as_ref().is_some_and(|leaks| {
            leaks
                .iter()
                .any(|l| l.kind != "collection" && l.allocated_at.is_none())
        })
    }

    /// Starts recording allocation stacks, for [`Subject::explain`] after one more iteration.
    pub async fn start_allocation_tracking(&self) -> Result<(), String> {
        self.session
            .send_with_timeout(
                "HeapProfiler.startTrackingHeapObjects",
                json!({ "trackAllocations": true }),
                CALL_TIMEOUT,
            )
            .await
            .map(drop)
            .map_err(|e| describe_loss(&e, "starting allocation tracking"))
    }

    /// Stops allocation tracking and fills in `allocated_at` of the leak groups from the stacks
    /// of their objects born since the last boundary. `root` shortens script paths below it.
    pub async fn explain(&mut self, root: &std::path::Path) -> Result<(), String> {
        let since = self
            .last
            .as_ref()
            .map(crate::analyse::max_js_id)
            .unwrap_or(0);
        let stream = self.session.stop_tracking_heap_objects(Default::default());
        let (traced, _) = parse_snapshot_stream(stream, None).await?;
        let Some(leaks) = self.found.as_mut() else {
            return Ok(());
        };
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        for leak in leaks
            .iter_mut()
            .filter(|l| l.kind != "collection" && l.allocated_at.is_none())
        {
            leak.allocated_at = allocation_site(&traced, &leak.name, since, &root);
        }
        Ok(())
    }

    /// The report for this heap, from what was measured (even if the hunt stopped early).
    /// `planned_boundaries`: how many the hunt meant to measure (baseline included), to tell a
    /// heap that left before the last one from one that left afterwards (during the
    /// allocation-tracking iteration, say, or at shutdown).
    pub async fn report(
        mut self,
        hunt_error: Option<&str>,
        planned_boundaries: usize,
    ) -> ProcessReport {
        // After a timeout or failure the target may be stuck: the report is built from what was
        // measured, without asking it anything more.
        self.stopped_early = hunt_error.is_some();
        if self.gone.is_none() && self.session.is_closed() {
            self.gone = Some("the process exited".to_owned());
        }
        let leaks = self.find_leaks().await.to_vec();
        self.last = None;
        let error = if self.boundaries < 3 {
            // Too few snapshots to judge; say why instead of calling the heap clean.
            Some(
                self.gone
                    .clone()
                    .or_else(|| hunt_error.map(str::to_owned))
                    .unwrap_or_else(|| {
                        format!(
                            "joined the hunt too late to be judged ({} snapshots; 3 are needed)",
                            self.boundaries
                        )
                    }),
            )
        } else {
            None
        };
        let verdict = if !leaks.is_empty() {
            Verdict::Leak
        } else if error.is_some() && self.identity.role == Role::Main {
            Verdict::Error
        } else {
            Verdict::Clean
        };
        let identity = self.identity;
        ProcessReport {
            pid: identity.pid,
            role: identity.role,
            command: identity.command,
            verdict,
            heap_used_bytes: self.heap_used,
            leaks,
            error,
            exited_early: self.gone.is_some() && self.boundaries < planned_boundaries,
            parent_pid: identity.parent_pid,
            title: identity.title,
            url: identity.url,
        }
    }

    /// Collections that grew at every boundary and whose growth no leak group explains.
    async fn collection_leaks(
        &self,
        last: &HeapSnapshot,
        analysis: &Analysis,
        object_leaks: &[Leak],
    ) -> Vec<Leak> {
        // Registered collections are found by asking the target, which a hunt that stopped
        // early (or a heap that went away) no longer does; the others are in the snapshot.
        let may_ask = self.is_live() && !self.stopped_early;
        let mut located = Vec::new();
        for collection in self.collections.growing() {
            let heap_id = match collection.id {
                CollectionId::Heap(id) => Some(id),
                CollectionId::Registered(_) if !may_ask => None,
                CollectionId::Registered(index) => {
                    collections::heap_id_of(&self.session, index, CALL_TIMEOUT)
                        .await
                        .ok()
                        .flatten()
                }
            };
            if let Some(heap_id) = heap_id {
                located.push((collection, heap_id));
            }
        }
        crate::analyse::collection_leaks(&located, last, analysis, object_leaks)
    }
}

/// Takes a heap snapshot and parses it while V8 streams it, on a blocking thread so that the
/// socket keeps being read at full speed.
async fn stream_snapshot(
    session: &Session,
    keep: Option<PathBuf>,
) -> Result<(HeapSnapshot, u64), String> {
    parse_snapshot_stream(
        session.heap_snapshot(cdp::TakeHeapSnapshot::default()),
        keep,
    )
    .await
}

async fn parse_snapshot_stream(
    mut stream: cdp::SnapshotStream,
    keep: Option<PathBuf>,
) -> Result<(HeapSnapshot, u64), String> {
    let (chunks_tx, chunks_rx) = std::sync::mpsc::channel::<String>();
    // A kept snapshot is written under a `.part` name and renamed once it parsed whole, so that
    // a hunt cut short (Ctrl-C, a timeout, a process gone) leaves no truncated `.heapsnapshot`
    // for `hunter diff dir/*.heapsnapshot` to trip on.
    let part = keep.as_ref().map(|path| {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".part");
        path.with_file_name(name)
    });
    let parser = tokio::task::spawn_blocking(move || -> Result<(HeapSnapshot, u64), String> {
        let parsed = parse_chunks(chunks_rx, part.as_deref());
        match (&parsed, &part, &keep) {
            (Ok(_), Some(part), Some(path)) => std::fs::rename(part, path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
            (Err(_), Some(part), _) => {
                let _ = std::fs::remove_file(part);
            }
            _ => {}
        }
        parsed
    });

    let mut streamed = Ok(());
    while let Some(item) = stream.next().await {
        match item {
            Ok(cdp::SnapshotEvent::Chunk(chunk)) => {
                if chunks_tx.send(chunk).is_err() {
                    break; // the parser failed; its error says why
                }
            }
            Ok(_) => {}
            Err(e) => {
                streamed = Err(describe_loss(&e, "taking a heap snapshot"));
                break;
            }
        }
    }
    drop(chunks_tx);
    let parsed = parser
        .await
        .map_err(|e| format!("the snapshot parser failed: {e}"))?;
    streamed?;
    parsed
}

/// Parses the chunks as they come, writing them to `file` too when given.
fn parse_chunks(
    chunks: std::sync::mpsc::Receiver<String>,
    file: Option<&std::path::Path>,
) -> Result<(HeapSnapshot, u64), String> {
    let mut parser = snapshot::Parser::new();
    let mut file = match file {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        )),
        None => None,
    };
    let mut bytes = 0u64;
    for chunk in chunks {
        bytes += chunk.len() as u64;
        parser
            .feed(chunk.as_bytes())
            .map_err(|e| format!("the heap snapshot could not be read: {e}"))?;
        if let Some(file) = file.as_mut() {
            std::io::Write::write_all(file, chunk.as_bytes())
                .map_err(|e| format!("cannot write the snapshot file: {e}"))?;
        }
    }
    if let Some(mut file) = file {
        std::io::Write::flush(&mut file)
            .map_err(|e| format!("cannot write the snapshot file: {e}"))?;
    }
    let snapshot = parser
        .finish()
        .map_err(|e| format!("the heap snapshot could not be read: {e}"))?;
    Ok((snapshot, bytes))
}

/// Words for a lost call: the user cares that the process went away, not about the method.
fn describe_loss(error: &cdp::Error, doing: &str) -> String {
    if error.is_closed() {
        format!("the process exited or closed its inspector while {doing}")
    } else if error.is_timeout() {
        format!("no answer while {doing} (the process may be exiting or stuck)")
    } else {
        format!("{doing} failed: {error}")
    }
}

/// The most common user-code allocation site of a group's objects born after `since`, as
/// `path:line:column (function)`. Frames in Node's own code (`node:…`) are skipped, so the site
/// is the line of the user's program that made the object.
fn allocation_site(
    traced: &HeapSnapshot,
    group: &str,
    since: u64,
    root: &std::path::Path,
) -> Option<String> {
    let mut sites: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for node in 0..traced.node_count() {
        let id = traced.node_id(node);
        if id <= since || id.is_multiple_of(2) {
            continue;
        }
        if crate::analyse::group_name(traced, node) != Some(group) {
            continue;
        }
        let stack = traced.allocation_stack(node);
        let Some(frame) = stack
            .iter()
            .find(|f| !f.script_name.is_empty() && !f.script_name.starts_with("node:"))
        else {
            continue;
        };
        let script = frame.script_name.trim_start_matches("file://");
        let script = std::path::Path::new(script)
            .strip_prefix(root)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| script.to_owned());
        let function = match frame.function_name {
            "" | "(anonymous)" => "(anonymous)".to_owned(),
            name => name.to_owned(),
        };
        let site = if function.starts_with('(') {
            format!("{script}:{}:{} {function}", frame.line, frame.column)
        } else {
            format!("{script}:{}:{} ({function})", frame.line, frame.column)
        };
        *sites.entry(site).or_default() += 1;
    }
    sites
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .map(|(site, _)| site)
}
