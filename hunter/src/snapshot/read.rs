//! Reading a snapshot file: one thread reads while the caller's thread parses. In a large file
//! the `edges` array (over half of the bytes) is cut in two: a second thread parses its back
//! half from the middle of the file while the main parse reads up to it, and the main parse
//! then takes those edges over and jumps past them. The result is exactly the sequential
//! parse's: the cut is checked to fall between two edges, else the main parse reads on.

use super::meta::Meta;
use super::parser::EdgeRun;
use super::{Error, HeapSnapshot, Parser};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

const BLOCK: usize = 1 << 20;

/// When the edges are worth cutting in two.
#[derive(Clone, Copy)]
pub(crate) struct SplitLimits {
    /// Smaller files parse in well under a second; probing and a second thread are not worth it.
    pub min_file: u64,
    /// The smallest stretch of edges worth a second thread.
    pub min_run: u64,
}

const SPLIT: SplitLimits = SplitLimits {
    min_file: 64 << 20,
    min_run: 16 << 20,
};

/// Streams the file through a [`Parser`], reading on a second thread (and, for large files,
/// parsing part of the edges on a third).
pub fn read_file(path: &Path) -> Result<HeapSnapshot, Error> {
    read_file_with(path, SPLIT).map(|(snapshot, _)| snapshot)
}

/// [`read_file`] with the given limits; also says whether the edges were cut in two.
pub(crate) fn read_file_with(
    path: &Path,
    limits: SplitLimits,
) -> Result<(HeapSnapshot, bool), Error> {
    let file = File::open(path)
        .map_err(|e| Error::io(e, None, &format!("cannot open {}", path.display())))?;
    let mut clock = super::Timings::start();
    let mut parser = Parser::new();
    let metadata = file.metadata().ok();
    let len = metadata.as_ref().map_or(0, |m| m.len());
    let file = Source {
        // A pipe or FIFO (`<(gunzip -c …)`) is read in order, without the split.
        seekable: metadata.is_some_and(|m| m.is_file()),
        file,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let plan = if file.seekable && len >= limits.min_file && cores >= 2 {
        // The first block holds the `snapshot` meta, which the split is planned from.
        feed_range(&file, path, 0, BLOCK as u64, &mut parser)?;
        plan_split(&file, len, parser.meta(), parser.bytes_fed(), limits)
    } else {
        None
    };
    let mut spliced = false;
    match plan {
        None => feed_range(&file, path, parser.bytes_fed(), u64::MAX, &mut parser)?,
        Some((meta, cut, expected_edges)) => {
            let stop = AtomicBool::new(false);
            std::thread::scope(|scope| {
                let back_half =
                    scope.spawn(|| parse_edge_run(&file, meta, cut, expected_edges, &stop));
                let front = feed_range(&file, path, BLOCK as u64, cut, &mut parser);
                clock.lap("read and parse up to the cut");
                if front.is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
                let run = back_half.join().ok().flatten();
                clock.lap("waited for the edges from the middle");
                front?;
                if let Some(run) = run {
                    spliced = parser.splice_edges(run);
                }
                // After a splice the parser stands at the run's end; otherwise still at the cut.
                let resume = parser.bytes_fed();
                clock.lap("splice");
                feed_range(&file, path, resume, u64::MAX, &mut parser)
            })?
        }
    }
    clock.lap("read and parse");
    Ok((parser.finish()?, spliced))
}

/// Feeds bytes `start..end` of the file (to its end at most) to the parser, reading on a
/// second thread so that reading and parsing overlap.
fn feed_range(
    file: &Source,
    path: &Path,
    start: u64,
    end: u64,
    parser: &mut Parser,
) -> Result<(), Error> {
    let (full_tx, full_rx) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(4);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
    for _ in 0..6 {
        let _ = empty_tx.send(vec![0u8; BLOCK]);
    }
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut offset = start;
            loop {
                let Ok(mut buf) = empty_rx.recv() else { return };
                let want = (end.saturating_sub(offset)).min(BLOCK as u64) as usize;
                buf.resize(want, 0);
                let result = read_full(file, offset, &mut buf);
                let done = matches!(result, Ok(0) | Err(_));
                let message = result.map(|filled| {
                    buf.truncate(filled);
                    offset += filled as u64;
                    buf
                });
                if full_tx.send(message).is_err() || done {
                    return;
                }
            }
        });
        let result = (|| {
            for message in full_rx.iter() {
                let buf = message.map_err(|e| {
                    Error::io(
                        e,
                        Some(parser.bytes_fed()),
                        &format!("cannot read {}", path.display()),
                    )
                })?;
                if buf.is_empty() {
                    break;
                }
                parser.feed(&buf)?;
                let _ = empty_tx.send(buf);
            }
            Ok(())
        })();
        drop(empty_tx);
        drop(full_rx);
        result
    })
}

/// The file being read: a regular file is read at any offset; anything else (a pipe, a FIFO)
/// only in order, from the start.
struct Source {
    file: File,
    seekable: bool,
}

/// Fills `buf` from `offset` unless the file ends first; returns the bytes read. For a source
/// that is not seekable, `offset` must be where the previous read ended.
fn read_full(source: &Source, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let read = if source.seekable {
            source
                .file
                .read_at(&mut buf[filled..], offset + filled as u64)
        } else {
            (&source.file).read(&mut buf[filled..])
        };
        match read {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Where to cut the edges, the layout the second thread needs and how many edges it will find:
/// None for a meta not yet read (over 1 MiB), or a layout in which edges cannot be told from
/// other records by their field count.
fn plan_split(
    file: &Source,
    len: u64,
    meta: Option<&Meta>,
    already_fed: u64,
    limits: SplitLimits,
) -> Option<(Meta, u64, usize)> {
    let meta = meta?.clone();
    let (node_width, edge_width) = (meta.node_fields.len(), meta.edge_fields.len());
    if node_width == edge_width || edge_width == 0 || meta.node_count.is_none() {
        return None;
    }
    // Layout in the file: nodes, then edges, then everything else. Find some point among the
    // edges, then the edges' first and last lines around it.
    let is_edges = |at: u64| line_width(file, at) == Some(edge_width);
    let samples: Vec<u64> = (1..16).map(|k| len / 16 * k).collect();
    let first_inside = samples.iter().position(|&at| is_edges(at))?;
    let last_inside = first_inside
        + samples[first_inside..]
            .iter()
            .take_while(|&&at| is_edges(at))
            .count()
        - 1;
    let before = first_inside.checked_sub(1).map_or(0, |k| samples[k]);
    let after = samples.get(last_inside + 1).copied().unwrap_or(len);
    let first = boundary(samples[first_inside], before, &is_edges);
    let last = boundary(samples[last_inside], after, &is_edges);
    // The main parse reads up to the cut, the second thread from there to the last edge; then
    // the main parse reads the rest (the strings). Their shares before the splice should take
    // equal time: the main parse is slower per byte (nodes have more fields per byte, and it
    // hands blocks between threads), so it gets a little less than half.
    let cut = (last / 20 * 9).max(first + limits.min_run).max(already_fed);
    if last < cut + limits.min_run {
        return None;
    }
    let cut = next_line(file, cut)?;
    // The second thread's share of the edges, by the bytes per edge of the whole array, so
    // that its columns are allocated once (growing them would leave freed blocks behind).
    let edge_count = meta.edge_count.unwrap_or(0) as f64;
    let expected =
        ((last - cut) as f64 * edge_count / (last - first).max(1) as f64 * 1.02) as usize;
    is_edges(cut).then_some((meta, cut, expected))
}

/// Moves from `inside` (where `is_edges` holds) towards `outside` (where it does not) to the
/// edge of the region, within 64 KiB.
fn boundary(inside: u64, outside: u64, is_edges: &impl Fn(u64) -> bool) -> u64 {
    let (mut inside, mut outside) = (inside, outside);
    while inside.abs_diff(outside) > 64 << 10 {
        let mid = inside / 2 + outside / 2;
        if is_edges(mid) {
            inside = mid;
        } else {
            outside = mid;
        }
    }
    inside
}

/// The offset just after the first `\n,` at or after `at`: where V8 starts a record's line.
fn next_line(file: &Source, at: u64) -> Option<u64> {
    let mut buf = vec![0u8; 4096];
    let filled = read_full(file, at, &mut buf).ok()?;
    let found = buf[..filled].windows(2).position(|w| w == b"\n,")?;
    Some(at + found as u64 + 2)
}

/// How many integers the first whole line after `at` holds, if it is a line of integers
/// (`a,b,c` up to the next `\n`), as V8 writes the nodes, edges and locations.
fn line_width(file: &Source, at: u64) -> Option<usize> {
    let start = next_line(file, at)?;
    let mut buf = vec![0u8; 4096];
    let filled = read_full(file, start, &mut buf).ok()?;
    let line = &buf[..filled];
    let end = line.iter().position(|&b| b == b'\n')?;
    let line = &line[..end];
    let plain = !line.is_empty() && line.iter().all(|&b| b.is_ascii_digit() || b == b',');
    let fields = line.split(|&b| b == b',');
    (plain && fields.clone().all(|f| !f.is_empty())).then(|| fields.count())
}

/// Parses edges from `start` on, reading the file itself, until the run stops (at the last
/// edge or anything unusual). None if it could not start or was told to stop.
fn parse_edge_run(
    file: &Source,
    meta: Meta,
    start: u64,
    expected_edges: usize,
    stop: &AtomicBool,
) -> Option<EdgeRun> {
    let mut clock = super::Timings::start();
    let mut run = EdgeRun::new(meta, start, expected_edges)?;
    let mut buf: Vec<u8> = Vec::with_capacity(2 * BLOCK);
    let mut offset = start;
    loop {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        let kept = buf.len();
        buf.resize(kept + BLOCK, 0);
        let filled = read_full(file, offset, &mut buf[kept..]).ok()?;
        buf.truncate(kept + filled);
        offset += filled as u64;
        let used = run.feed(&buf);
        buf.drain(..used);
        // A few bytes left over are an edge cut by the block's end; more mean the run stopped.
        if filled == 0 || buf.len() > 4096 {
            clock.lap("edges from the middle (own thread)");
            return Some(run);
        }
    }
}
