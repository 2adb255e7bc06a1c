//! The target's stdout and stderr: drained line by line so the target can never block on a
//! full pipe, each line forwarded to hunter's stderr as `[app 4242] line` (unless quiet), kept
//! in a bounded tail for error messages, offered to the `ready.log` matcher, and optionally
//! written to a log file.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Lines kept per stream for error messages.
pub(crate) const TAIL_LINES: usize = 200;
/// Longer lines are cut into pieces of this many bytes (a line without newline must not grow
/// without bound).
const MAX_LINE: usize = 64 * 1024;

/// Which of the target's streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// The last lines of one stream.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    lines: VecDeque<String>,
}

impl Tail {
    pub(crate) fn push(&mut self, line: &str) {
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line.to_string());
    }

    pub(crate) fn last(&self, count: usize) -> Vec<String> {
        let skip = self.lines.len().saturating_sub(count);
        self.lines.iter().skip(skip).cloned().collect()
    }
}

/// Node's own inspector chatter: not forwarded (the user did not ask for an inspector).
pub(crate) fn is_inspector_noise(line: &str) -> bool {
    line.starts_with("Debugger listening on ws://")
        || line.starts_with("Debugger ending on ws://")
        || line == "For help, see: https://nodejs.org/en/docs/inspector"
        || line == "Debugger attached."
        || line == "Waiting for the debugger to disconnect..."
}

/// Where lines go besides the caller's callback.
pub(crate) struct Sink {
    /// `[label pid]` prefix for forwarded lines, or None when quiet.
    pub(crate) forward_prefix: Option<String>,
    pub(crate) log_file: Option<Arc<Mutex<std::fs::File>>>,
}

/// Reads `reader` to EOF, calling `on_line` with each line (without its line ending).
pub(crate) async fn drain<R: AsyncRead + Unpin>(
    reader: R,
    stream: Stream,
    sink: Sink,
    mut on_line: impl FnMut(Stream, &str),
) {
    let mut reader = BufReader::with_capacity(16 * 1024, reader);
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let buffer = match reader.fill_buf().await {
            Ok(buffer) if !buffer.is_empty() => buffer,
            _ => break,
        };
        match buffer.iter().position(|byte| *byte == b'\n') {
            Some(at) => {
                pending.extend_from_slice(&buffer[..at]);
                reader.consume(at + 1);
                emit(&mut pending, stream, &sink, &mut on_line);
            }
            None => {
                pending.extend_from_slice(buffer);
                let used = buffer.len();
                reader.consume(used);
                if pending.len() >= MAX_LINE {
                    emit(&mut pending, stream, &sink, &mut on_line);
                }
            }
        }
    }
    if !pending.is_empty() {
        emit(&mut pending, stream, &sink, &mut on_line);
    }
}

fn emit(
    pending: &mut Vec<u8>,
    stream: Stream,
    sink: &Sink,
    on_line: &mut impl FnMut(Stream, &str),
) {
    if pending.last() == Some(&b'\r') {
        pending.pop();
    }
    let line = String::from_utf8_lossy(pending).into_owned();
    pending.clear();
    if let Some(file) = &sink.log_file {
        if let Ok(mut file) = file.lock() {
            let _ = writeln!(file, "{line}");
        }
    }
    if let Some(prefix) = &sink.forward_prefix {
        if !is_inspector_noise(&line) {
            // Not eprintln!: a closed stderr must not panic the drain (the target would then
            // block on a full pipe).
            let _ = writeln!(std::io::stderr().lock(), "{prefix} {line}");
        }
    }
    on_line(stream, &line);
}
