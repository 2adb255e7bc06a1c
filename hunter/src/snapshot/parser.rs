//! The resumable tokenizer: turns the bytes of a `.heapsnapshot` file, fed in chunks split at any
//! byte (numbers, escapes and UTF-8 sequences may straddle chunks), into the struct-of-arrays
//! columns of a [`HeapSnapshot`]. It never keeps the JSON text: integers go straight into typed
//! columns, strings into one byte buffer; only the small `snapshot` object is buffered.

use super::graph::{LargestNames, LocationsPart, Parts, Shape, Speculating, TraceNode, Types};
use super::meta::Meta;
use super::sizes::Sizes;
use super::{Error, HeapSnapshot};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The `snapshot` object (meta) is small; refuse to buffer an absurd one.
const META_LIMIT: usize = 64 << 20;
/// Top-level keys are short; a long one is not a snapshot.
const KEY_LIMIT: usize = 256;
/// Preallocation is capped so that a corrupt `node_count` cannot ask for terabytes up front.
const PREALLOC_LIMIT: u64 = 1 << 26;
const NONE: u32 = u32::MAX;

/// Streams a heap snapshot: `feed` it chunks in order, then `finish`.
///
/// ```no_run
/// # fn main() -> Result<(), hunter::snapshot::Error> {
/// let mut parser = hunter::snapshot::Parser::new();
/// for chunk in [&b"{\"snapshot\":"[..], &b"..."[..]] {
///     parser.feed(chunk)?;
/// }
/// let snapshot = parser.finish()?;
/// # Ok(()) }
/// ```
pub struct Parser {
    /// Absolute offset of the first byte of the next chunk.
    pos: u64,
    state: State,
    failed: bool,
    key: Vec<u8>,
    current_key: Key,
    seen: u16,
    text: TextDecoder,
    skip: Skip,
    meta_bytes: Vec<u8>,
    meta_offset: u64,
    ints: IntScanner,
    list: ListState,
    tree: TreeState,
    b: Builder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening `{`.
    Start,
    /// Expecting a key (`first`: or the closing `}` of an empty object).
    Key {
        first: bool,
    },
    InKey,
    Colon,
    Value,
    Meta,
    Ints,
    TraceTree,
    Strings,
    InString,
    Skip,
    AfterValue,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Snapshot,
    Nodes,
    Edges,
    Locations,
    TraceFunctionInfos,
    TraceTree,
    Strings,
    Other,
}

impl Key {
    fn from_bytes(key: &[u8]) -> Self {
        match key {
            b"snapshot" => Key::Snapshot,
            b"nodes" => Key::Nodes,
            b"edges" => Key::Edges,
            b"locations" => Key::Locations,
            b"trace_function_infos" => Key::TraceFunctionInfos,
            b"trace_tree" => Key::TraceTree,
            b"strings" => Key::Strings,
            _ => Key::Other,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Key::Snapshot => "snapshot",
            Key::Nodes => "nodes",
            Key::Edges => "edges",
            Key::Locations => "locations",
            Key::TraceFunctionInfos => "trace_function_infos",
            Key::TraceTree => "trace_tree",
            Key::Strings => "strings",
            Key::Other => "an unknown key",
        }
    }
    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// Where a comma-separated list is: before its first item, after an item, or after a comma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListState {
    First,
    AfterItem,
    AfterComma,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

fn show(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl Parser {
    pub fn new() -> Self {
        Self {
            pos: 0,
            state: State::Start,
            failed: false,
            key: Vec::new(),
            current_key: Key::Other,
            seen: 0,
            text: TextDecoder::default(),
            skip: Skip::default(),
            meta_bytes: Vec::new(),
            meta_offset: 0,
            ints: IntScanner::default(),
            list: ListState::First,
            tree: TreeState::default(),
            b: Builder::default(),
        }
    }

    /// Bytes consumed so far.
    pub fn bytes_fed(&self) -> u64 {
        self.pos
    }

    /// Consumes the next chunk. After an error the parser refuses further input.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if self.failed {
            return Err(Error::format(
                Some(self.pos),
                "the parser stopped at an earlier error",
            ));
        }
        let result = self.feed_inner(chunk);
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    /// Ends the input and builds the snapshot.
    pub fn finish(self) -> Result<HeapSnapshot, Error> {
        if self.failed {
            return Err(Error::format(
                Some(self.pos),
                "the parser stopped at an earlier error",
            ));
        }
        if self.pos == 0 {
            return Err(Error::truncated(
                0,
                "empty input: expected a heap snapshot (a JSON object)",
            ));
        }
        if self.state != State::Done {
            let where_ = match self.state {
                State::Start => "before the opening '{'".to_owned(),
                State::Key { .. }
                | State::InKey
                | State::Colon
                | State::Value
                | State::AfterValue => {
                    "inside the top-level object (expected more keys or '}')".to_owned()
                }
                _ => format!("inside \"{}\"", self.current_key.name()),
            };
            return Err(Error::truncated(
                self.pos,
                format!("the input ends {where_}"),
            ));
        }
        if self.seen & Key::Snapshot.bit() == 0 {
            return Err(Error::format(
                Some(self.pos),
                "not a heap snapshot: no \"snapshot\" key",
            ));
        }
        for key in [Key::Nodes, Key::Edges, Key::Strings] {
            if self.seen & key.bit() == 0 {
                return Err(Error::format(
                    Some(self.pos),
                    format!("not a heap snapshot: no \"{}\" array", key.name()),
                ));
            }
        }
        let end = self.pos;
        let parts = self.b.finish(end)?;
        HeapSnapshot::from_parts(parts, end)
    }

    fn feed_inner(&mut self, chunk: &[u8]) -> Result<(), Error> {
        let mut i = 0;
        while i < chunk.len() {
            let at = self.pos + i as u64;
            let rest = &chunk[i..];
            i += self.step(rest, at)?;
        }
        self.pos += chunk.len() as u64;
        Ok(())
    }

    /// Consumes some bytes of `rest` (whose first byte is at `at`) in the current state. Always
    /// makes progress: consumes at least one byte or changes state.
    fn step(&mut self, rest: &[u8], at: u64) -> Result<usize, Error> {
        let b = rest[0];
        match self.state {
            State::Start => {
                if is_ws(b) {
                    return Ok(1);
                }
                if b == 0xEF && rest.len() >= 3 && &rest[..3] == b"\xEF\xBB\xBF" && at == 0 {
                    return Ok(3);
                }
                if b != b'{' {
                    return Err(Error::syntax(
                        at,
                        format!("expected '{{' to open a heap snapshot, found {}", show(b)),
                    ));
                }
                self.state = State::Key { first: true };
                Ok(1)
            }
            State::Key { first } => {
                if is_ws(b) {
                    return Ok(1);
                }
                if b == b'}' && first {
                    self.state = State::Done;
                    return Ok(1);
                }
                if b != b'"' {
                    return Err(Error::syntax(
                        at,
                        format!("expected a key string, found {}", show(b)),
                    ));
                }
                self.key.clear();
                self.text = TextDecoder::default();
                self.state = State::InKey;
                Ok(1)
            }
            State::InKey => {
                let (used, done) = self
                    .text
                    .decode(rest, &mut self.key)
                    .map_err(|(k, m)| Error::syntax(at + k as u64, m))?;
                if self.key.len() > KEY_LIMIT {
                    return Err(Error::syntax(at, "a top-level key longer than 256 bytes"));
                }
                if done {
                    self.current_key = Key::from_bytes(&self.key);
                    let bit = self.current_key.bit();
                    if self.current_key != Key::Other {
                        if self.seen & bit != 0 {
                            return Err(Error::format(
                                Some(at),
                                format!("duplicate key \"{}\"", self.current_key.name()),
                            ));
                        }
                        self.seen |= bit;
                    }
                    self.state = State::Colon;
                }
                Ok(used)
            }
            State::Colon => {
                if is_ws(b) {
                    return Ok(1);
                }
                if b != b':' {
                    return Err(Error::syntax(
                        at,
                        format!("expected ':' after a key, found {}", show(b)),
                    ));
                }
                self.state = State::Value;
                Ok(1)
            }
            State::Value => {
                if is_ws(b) {
                    return Ok(1);
                }
                self.start_value(b, at)?;
                Ok(match self.state {
                    // The skipper and the meta capture see the value's first byte themselves.
                    State::Skip | State::Meta => 0,
                    _ => 1,
                })
            }
            State::Meta => {
                let (used, done) = self.skip.feed(rest);
                if self.meta_bytes.len() + used > META_LIMIT {
                    return Err(Error::format(
                        Some(at),
                        "the \"snapshot\" object is larger than 64 MiB",
                    ));
                }
                self.meta_bytes.extend_from_slice(&rest[..used]);
                if done {
                    let meta = Meta::from_json(&self.meta_bytes, self.meta_offset)?;
                    self.meta_bytes = Vec::new();
                    self.b.set_meta(meta, self.meta_offset)?;
                    self.state = State::AfterValue;
                }
                Ok(used)
            }
            State::Skip => {
                let (used, done) = self.skip.feed(rest);
                if done {
                    self.state = State::AfterValue;
                }
                Ok(used)
            }
            State::Ints => {
                // Whole records in V8's layout take the fast path; anything else (a record cut by
                // the chunk's end, the last record, unusual spacing, a bad value) takes the
                // byte-by-byte path up to the next record boundary, which also names errors.
                if self.ints.is_clean() {
                    let used = match self.current_key {
                        Key::Nodes => self.b.fast_nodes(rest),
                        Key::Edges => self.b.fast_edges(rest),
                        Key::Locations => self.b.fast_locations(rest),
                        _ => 0,
                    };
                    if used > 0 {
                        self.ints.after_comma = true;
                        return Ok(used);
                    }
                }
                let b = &mut self.b;
                let (used, done) = match self.current_key {
                    Key::Nodes => self.ints.scan(rest, at, "nodes", |v| b.push_node(v))?,
                    Key::Edges => self.ints.scan(rest, at, "edges", |v| b.push_edge(v))?,
                    // Each location value counts as a record of its own, so that the fast path
                    // takes over again after the next comma.
                    Key::Locations => self.ints.scan(rest, at, "locations", |v| {
                        b.locations
                            .push(u32::try_from(v).map_err(|_| format!("{v} does not fit"))?);
                        Ok(true)
                    })?,
                    Key::TraceFunctionInfos => {
                        self.ints.scan(rest, at, "trace_function_infos", |v| {
                            b.trace_function_infos
                                .push(u32::try_from(v).map_err(|_| format!("{v} does not fit"))?);
                            Ok(false)
                        })?
                    }
                    _ => unreachable_key(at)?,
                };
                if done {
                    match self.current_key {
                        Key::Edges => self.b.edges_done(),
                        Key::Locations => self.b.locations_done(),
                        _ => {}
                    }
                    self.state = State::AfterValue;
                }
                Ok(used)
            }
            State::TraceTree => {
                let (used, done) = self.tree.scan(rest, at, &mut self.b)?;
                if done {
                    self.state = State::AfterValue;
                }
                Ok(used)
            }
            State::Strings => {
                if b == b'"' && matches!(self.list, ListState::First | ListState::AfterComma) {
                    let used = self.b.strings.take_plain(rest, &mut self.list);
                    if used > 0 {
                        return Ok(used);
                    }
                }
                if is_ws(b) {
                    return Ok(1);
                }
                match (b, self.list) {
                    (b'"', ListState::First | ListState::AfterComma) => {
                        self.text = TextDecoder::default();
                        self.b.strings.begin();
                        self.state = State::InString;
                    }
                    (b',', ListState::AfterItem) => self.list = ListState::AfterComma,
                    (b']', ListState::First | ListState::AfterItem) => {
                        self.state = State::AfterValue
                    }
                    _ => {
                        let want = match self.list {
                            ListState::First => "a string or ']'",
                            ListState::AfterItem => "',' or ']'",
                            ListState::AfterComma => "a string",
                        };
                        return Err(Error::syntax(
                            at,
                            format!("expected {want} in \"strings\", found {}", show(b)),
                        ));
                    }
                }
                Ok(1)
            }
            State::InString => {
                let (used, done) = self
                    .text
                    .decode(rest, &mut self.b.strings.bytes)
                    .map_err(|(k, m)| Error::syntax(at + k as u64, m))?;
                if done {
                    self.b
                        .strings
                        .end()
                        .map_err(|m| Error::syntax(at + used as u64 - 1, m))?;
                    self.list = ListState::AfterItem;
                    self.state = State::Strings;
                }
                Ok(used)
            }
            State::AfterValue => {
                if is_ws(b) {
                    return Ok(1);
                }
                match b {
                    b',' => self.state = State::Key { first: false },
                    b'}' => self.state = State::Done,
                    _ => {
                        return Err(Error::syntax(
                            at,
                            format!(
                                "expected ',' or '}}' after \"{}\", found {}",
                                self.current_key.name(),
                                show(b)
                            ),
                        ))
                    }
                }
                Ok(1)
            }
            State::Done => {
                if is_ws(b) || b == 0 {
                    return Ok(1);
                }
                Err(Error::syntax(
                    at,
                    format!("unexpected {} after the end of the snapshot", show(b)),
                ))
            }
        }
    }

    /// Whether the work begun on the structure when the edges closed is over (the tests use it
    /// to stand for a stream whose strings arrive late).
    #[cfg(test)]
    pub(crate) fn early_work_finished(&self) -> bool {
        self.b
            .speculation
            .as_ref()
            .is_some_and(|h| h.thread.is_finished())
    }

    /// The declared layout, once the `snapshot` object has been read.
    pub(crate) fn meta(&self) -> Option<&Meta> {
        self.b.meta.as_ref()
    }

    /// Takes edges another thread parsed from `run.start()` on, as if they had been fed here.
    /// Only when this parser stopped exactly there, between two edges of the `edges` array,
    /// with every declared node read; otherwise returns false and changes nothing, and the
    /// caller feeds those bytes itself. After a splice, [`Self::bytes_fed`] is where the run
    /// stopped: feeding resumes there.
    pub(crate) fn splice_edges(&mut self, run: EdgeRun) -> bool {
        let at_boundary = !self.failed
            && self.pos == run.start
            && self.state == State::Ints
            && self.current_key == Key::Edges
            && self.ints.is_clean()
            && self.ints.after_comma
            && self.b.edge_field == 0
            && self.b.shape.is_none()
            && Some(self.b.nodes_committed as u64)
                == self.b.meta.as_ref().and_then(|m| m.node_count)
            && run.b.node_roles == self.b.node_roles
            && run.b.edge_roles == self.b.edge_roles
            && run.b.edge_type_count == self.b.edge_type_count;
        if !at_boundary {
            return false;
        }
        // Two threads: the copy's cost is faulting in the destination's fresh pages, which the
        // kernel does per thread. The names are not part of the structure the dominator tree
        // waits for: they go in after it has started (see `Builder::edges_done`).
        let Builder {
            edge_type,
            edge_to,
            largest_names,
            ..
        } = &mut self.b;
        std::thread::scope(|scope| {
            scope.spawn(|| edge_to.extend_from_slice(&run.b.edge_to));
            largest_names.merge(&run.b.largest_names);
            edge_type.extend_from_slice(&run.b.edge_type);
        });
        self.b.names_to_splice = Some((self.b.edge_name.len(), run.b.edge_name));
        self.pos = run.end;
        true
    }

    fn start_value(&mut self, b: u8, at: u64) -> Result<(), Error> {
        let key = self.current_key;
        let need_open = |b: u8| -> Result<(), Error> {
            if b == b'[' {
                Ok(())
            } else {
                Err(Error::syntax(
                    at,
                    format!("expected '[' to open \"{}\", found {}", key.name(), show(b)),
                ))
            }
        };
        let need_meta = |parser: &Self| -> Result<(), Error> {
            if parser.b.meta.is_none() {
                return Err(Error::format(
                    Some(at),
                    format!("\"{}\" comes before \"snapshot\"", key.name()),
                ));
            }
            Ok(())
        };
        match key {
            Key::Snapshot => {
                if b != b'{' {
                    return Err(Error::syntax(
                        at,
                        format!("expected '{{' to open \"snapshot\", found {}", show(b)),
                    ));
                }
                self.skip = Skip::default();
                self.meta_bytes.clear();
                self.meta_offset = at;
                self.state = State::Meta;
            }
            Key::Nodes | Key::Edges | Key::Locations | Key::TraceFunctionInfos => {
                need_open(b)?;
                need_meta(self)?;
                if key == Key::Edges && self.seen & Key::Nodes.bit() == 0 {
                    return Err(Error::format(Some(at), "\"edges\" comes before \"nodes\""));
                }
                self.ints = IntScanner::default();
                self.b.open_array(key, at)?;
                self.state = State::Ints;
            }
            Key::TraceTree => {
                need_open(b)?;
                need_meta(self)?;
                self.tree = TreeState::new(
                    self.b
                        .meta
                        .as_ref()
                        .map(|m| &m.trace_node_fields[..])
                        .unwrap_or(&[]),
                );
                self.tree.open_top();
                self.state = State::TraceTree;
            }
            Key::Strings => {
                need_open(b)?;
                self.list = ListState::First;
                self.state = State::Strings;
            }
            Key::Other => {
                self.skip = Skip::default();
                self.state = State::Skip;
            }
        }
        Ok(())
    }
}

const MAX_FAST_FIELDS: usize = 16;
const V8_NODE_LAYOUT: [NodeRole; 7] = [
    NodeRole::Type,
    NodeRole::Name,
    NodeRole::Id,
    NodeRole::SelfSize,
    NodeRole::EdgeCount,
    NodeRole::TraceNodeId,
    NodeRole::Detachedness,
];
const V8_EDGE_LAYOUT: [EdgeRole; 3] = [EdgeRole::Type, EdgeRole::NameOrIndex, EdgeRole::ToNode];

/// [`read_record`] for a record length known at compile time. Fields marked in `one_digit`
/// are nearly always a single digit in V8's snapshots (types, trace ids, detachedness): a test
/// of the next byte reads them, and the digit reader is left for the others.
#[inline(always)]
fn read_fixed_record<const N: usize>(
    data: &[u8],
    at: usize,
    values: &mut [u64; N],
    one_digit: [bool; N],
) -> Option<usize> {
    let mut i = at;
    for (k, slot) in values.iter_mut().enumerate() {
        let (value, digits) = match (data.get(i), data.get(i + 1)) {
            (Some(&d), Some(&next))
                if one_digit[k] && d.is_ascii_digit() && !next.is_ascii_digit() =>
            {
                ((d - b'0') as u64, 1)
            }
            _ => read_uint(data, i)?,
        };
        *slot = value;
        i += digits;
        match data.get(i) {
            Some(b',') => i += 1,
            Some(b'\n') if k == N - 1 && data.get(i + 1) == Some(&b',') => i += 2,
            _ => return None,
        }
    }
    Some(i)
}

/// Reads one record of `values.len()` unsigned integers starting at `at`, each followed by `,`
/// (the last by `,` or `\n,`). Returns the position after the record's trailing comma, or
/// `None` if the record is not whole and plain (the caller then takes the careful path).
#[inline]
fn read_record(data: &[u8], at: usize, values: &mut [u64]) -> Option<usize> {
    let mut i = at;
    let last = values.len() - 1;
    for (k, slot) in values.iter_mut().enumerate() {
        let (value, digits) = read_uint(data, i)?;
        *slot = value;
        i += digits;
        match data.get(i) {
            Some(b',') => i += 1,
            Some(b'\n') if k == last && data.get(i + 1) == Some(&b',') => i += 2,
            _ => return None,
        }
    }
    Some(i)
}

/// Reads the decimal digits at `at` eight at a time (SWAR). `None` if there are no digits,
/// more than 19, or fewer than eight bytes left to load.
#[inline(always)]
fn read_uint(data: &[u8], at: usize) -> Option<(u64, usize)> {
    let bytes: [u8; 8] = data.get(at..at + 8)?.try_into().ok()?;
    let word = u64::from_le_bytes(bytes);
    let digits = word.wrapping_sub(0x3030_3030_3030_3030);
    // A byte's top bit ends up set iff it is not an ASCII digit (borrows and carries only
    // disturb bytes after the first non-digit).
    let non_digit = (word.wrapping_add(0x4646_4646_4646_4646) | digits) & 0x8080_8080_8080_8080;
    let count = (non_digit.trailing_zeros() / 8) as usize;
    if count == 0 {
        return None;
    }
    if count < 8 {
        return Some((eight_digits(digits << (8 * (8 - count))), count));
    }
    let mut value = eight_digits(digits);
    let mut n = 8;
    while let Some(&b) = data.get(at + n) {
        let d = b.wrapping_sub(b'0');
        if d >= 10 {
            return Some((value, n));
        }
        if n >= 19 {
            return None;
        }
        value = value * 10 + d as u64;
        n += 1;
    }
    None
}

/// Eight digit values (0–9), first digit in the lowest byte, to their number.
#[inline(always)]
fn eight_digits(v: u64) -> u64 {
    let v = (v.wrapping_mul(10)).wrapping_add(v >> 8) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100)).wrapping_add(v >> 16) & 0x0000_FFFF_0000_FFFF;
    (v.wrapping_mul(10000)).wrapping_add(v >> 32) & 0xFFFF_FFFF
}

fn unreachable_key(at: u64) -> Result<(usize, bool), Error> {
    Err(Error::format(
        Some(at),
        "internal: integer array state without an integer array key",
    ))
}

/// Decodes the inside of a JSON string (after the opening quote) into UTF-8, across chunks.
#[derive(Default)]
struct TextDecoder {
    escape: Escape,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
}

#[derive(Default, Clone, Copy)]
enum Escape {
    #[default]
    None,
    Backslash,
    Unicode {
        digits: u8,
        value: u16,
    },
}

impl TextDecoder {
    /// Returns (bytes consumed, whether the closing quote was reached). Errors carry the offset
    /// within `data`.
    fn decode(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(usize, bool), (usize, String)> {
        let mut i = 0;
        while i < data.len() {
            match self.escape {
                Escape::None => {
                    let run = plain_text(&data[i..]).map_or(data.len() - i, |(run, _)| run);
                    if run > 0 {
                        self.flush_high(out);
                        out.extend_from_slice(&data[i..i + run]);
                        i += run;
                        continue;
                    }
                    let c = data[i];
                    i += 1;
                    match c {
                        b'"' => {
                            self.flush_high(out);
                            return Ok((i, true));
                        }
                        b'\\' => self.escape = Escape::Backslash,
                        _ => {
                            return Err((
                                i - 1,
                                format!("unescaped control character 0x{c:02x} in a string"),
                            ))
                        }
                    }
                }
                Escape::Backslash => {
                    let c = data[i];
                    i += 1;
                    let plain = match c {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            self.escape = Escape::Unicode {
                                digits: 0,
                                value: 0,
                            };
                            continue;
                        }
                        _ => {
                            return Err((
                                i - 1,
                                format!("invalid escape '\\{}' in a string", c as char),
                            ))
                        }
                    };
                    self.flush_high(out);
                    out.push(plain);
                    self.escape = Escape::None;
                }
                Escape::Unicode { digits, value } => {
                    let c = data[i];
                    let d = (c as char).to_digit(16).ok_or_else(|| {
                        (
                            i,
                            format!("expected a hex digit in a \\u escape, found {}", show(c)),
                        )
                    })?;
                    i += 1;
                    let value = (value << 4) | d as u16;
                    if digits < 3 {
                        self.escape = Escape::Unicode {
                            digits: digits + 1,
                            value,
                        };
                        continue;
                    }
                    self.escape = Escape::None;
                    self.push_unit(value, out);
                }
            }
        }
        Ok((i, false))
    }

    fn push_unit(&mut self, unit: u16, out: &mut Vec<u8>) {
        match unit {
            0xD800..=0xDBFF => {
                self.flush_high(out);
                self.high = Some(unit);
            }
            0xDC00..=0xDFFF => match self.high.take() {
                Some(high) => {
                    let code =
                        0x10000 + (((high as u32) - 0xD800) << 10) + ((unit as u32) - 0xDC00);
                    push_char(char::from_u32(code).unwrap_or('\u{FFFD}'), out);
                }
                None => push_char('\u{FFFD}', out),
            },
            _ => {
                self.flush_high(out);
                push_char(char::from_u32(unit as u32).unwrap_or('\u{FFFD}'), out);
            }
        }
    }

    /// A high surrogate not followed by a low one cannot be UTF-8; it becomes U+FFFD.
    fn flush_high(&mut self, out: &mut Vec<u8>) {
        if self.high.take().is_some() {
            push_char('\u{FFFD}', out);
        }
    }
}

fn push_char(c: char, out: &mut Vec<u8>) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Passes over one JSON value without interpreting it (unknown keys, and the `snapshot` object
/// whose bytes the caller keeps).
#[derive(Default)]
struct Skip {
    started: bool,
    depth: u32,
    in_string: bool,
    escaped: bool,
    scalar: bool,
}

impl Skip {
    /// Returns (bytes consumed, whether the value ended). A scalar ends before its delimiter,
    /// which is left unconsumed.
    fn feed(&mut self, data: &[u8]) -> (usize, bool) {
        for (k, &b) in data.iter().enumerate() {
            if !self.started {
                if is_ws(b) {
                    continue;
                }
                self.started = true;
                match b {
                    b'{' | b'[' => self.depth = 1,
                    b'"' => self.in_string = true,
                    _ => self.scalar = true,
                }
                continue;
            }
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    if self.depth == 0 {
                        return (k + 1, true);
                    }
                }
                continue;
            }
            if self.scalar {
                if matches!(b, b',' | b'}' | b']') || is_ws(b) {
                    return (k, true);
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return (k + 1, true);
                    }
                }
                _ => {}
            }
        }
        (data.len(), false)
    }
}

/// Scans a flat array of unsigned integers (after its `[`), carrying a number cut by a chunk
/// boundary over to the next chunk.
#[derive(Default)]
struct IntScanner {
    value: u64,
    digits: u32,
    after_comma: bool,
    after_item: bool,
    /// The sink finished a record (node or edge); stop after the comma that follows it.
    record_done: bool,
}

impl IntScanner {
    /// Between values with nothing pending: where the fast path may take over.
    fn is_clean(&self) -> bool {
        self.digits == 0 && !self.after_item && !self.record_done
    }

    /// Returns (bytes consumed, whether the closing `]` was reached).
    #[inline]
    fn scan<F>(
        &mut self,
        data: &[u8],
        at: u64,
        what: &str,
        mut sink: F,
    ) -> Result<(usize, bool), Error>
    where
        F: FnMut(u64) -> Result<bool, String>,
    {
        let mut value = self.value;
        let mut digits = self.digits;
        let mut i = 0;
        let n = data.len();
        let fail = |i: usize, msg: String| Error::syntax(at + i as u64, msg);
        while i < n {
            let b = data[i];
            let d = b.wrapping_sub(b'0');
            if d < 10 {
                if self.after_item {
                    return Err(fail(
                        i,
                        format!("expected ',' or ']' in \"{what}\", found {}", show(b)),
                    ));
                }
                if digits >= 19 {
                    value = value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(d as u64))
                        .ok_or_else(|| fail(i, format!("a number in \"{what}\" is too large")))?;
                } else {
                    value = value * 10 + d as u64;
                }
                digits += 1;
                i += 1;
                continue;
            }
            match b {
                b',' => {
                    if digits > 0 {
                        self.record_done |=
                            sink(value).map_err(|m| fail(i, format!("in \"{what}\": {m}")))?;
                        value = 0;
                        digits = 0;
                    } else if !self.after_item {
                        return Err(fail(
                            i,
                            format!("expected a number in \"{what}\", found ','"),
                        ));
                    }
                    self.after_item = false;
                    self.after_comma = true;
                    if self.record_done {
                        self.record_done = false;
                        self.value = 0;
                        self.digits = 0;
                        return Ok((i + 1, false));
                    }
                }
                b']' => {
                    if digits > 0 {
                        sink(value).map_err(|m| fail(i, format!("in \"{what}\": {m}")))?;
                    } else if self.after_comma {
                        return Err(fail(
                            i,
                            format!("expected a number in \"{what}\", found ']'"),
                        ));
                    }
                    self.value = 0;
                    self.digits = 0;
                    return Ok((i + 1, true));
                }
                b' ' | b'\n' | b'\r' | b'\t' => {
                    if digits > 0 {
                        self.record_done |=
                            sink(value).map_err(|m| fail(i, format!("in \"{what}\": {m}")))?;
                        value = 0;
                        digits = 0;
                        self.after_item = true;
                        self.after_comma = false;
                    }
                }
                _ => {
                    return Err(fail(
                        i,
                        format!(
                            "expected an unsigned integer, ',' or ']' in \"{what}\", found {}",
                            show(b)
                        ),
                    ))
                }
            }
            i += 1;
        }
        self.value = value;
        self.digits = digits;
        if digits > 0 {
            self.after_comma = false;
        }
        Ok((n, false))
    }
}

/// The nested `trace_tree` array: `[id, function_info_index, count, size, [children…], …]`.
#[derive(Default)]
struct TreeState {
    fields: Vec<TreeField>,
    children_field: usize,
    /// Open lists: (parent trace node, the node being filled in this list).
    stack: Vec<(u32, u32)>,
    field: usize,
    value: u64,
    digits: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TreeField {
    Id,
    FunctionInfo,
    Count,
    Size,
    Children,
    Other,
}

impl TreeState {
    fn new(names: &[String]) -> Self {
        let names: Vec<&str> = if names.is_empty() {
            vec!["id", "function_info_index", "count", "size", "children"]
        } else {
            names.iter().map(String::as_str).collect()
        };
        let fields: Vec<TreeField> = names
            .iter()
            .map(|n| match *n {
                "id" => TreeField::Id,
                "function_info_index" => TreeField::FunctionInfo,
                "count" => TreeField::Count,
                "size" => TreeField::Size,
                "children" => TreeField::Children,
                _ => TreeField::Other,
            })
            .collect();
        let children_field = fields
            .iter()
            .position(|f| *f == TreeField::Children)
            .unwrap_or(usize::MAX);
        Self {
            fields,
            children_field,
            ..Self::default()
        }
    }

    fn open_top(&mut self) {
        self.stack.push((NONE, NONE));
        self.field = 0;
    }

    fn scan(&mut self, data: &[u8], at: u64, b: &mut Builder) -> Result<(usize, bool), Error> {
        let fail =
            |i: usize, msg: &str| Error::syntax(at + i as u64, format!("in \"trace_tree\": {msg}"));
        for (i, &c) in data.iter().enumerate() {
            let d = c.wrapping_sub(b'0');
            if d < 10 {
                if self.field == self.children_field || self.fields.is_empty() {
                    return Err(fail(i, "expected '[' to open a children list"));
                }
                self.value = self
                    .value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(d as u64))
                    .ok_or_else(|| fail(i, "a number is too large"))?;
                self.digits += 1;
                continue;
            }
            if self.digits > 0 {
                self.store(b).map_err(|m| fail(i, &m))?;
            }
            match c {
                b',' | b' ' | b'\n' | b'\r' | b'\t' => {}
                b'[' => {
                    if self.field != self.children_field {
                        return Err(fail(i, "unexpected '['"));
                    }
                    let parent = self.stack.last().map(|&(_, node)| node).unwrap_or(NONE);
                    self.stack.push((parent, NONE));
                    self.field = 0;
                }
                b']' => {
                    if self.field != 0 {
                        return Err(fail(i, "a trace node ends early"));
                    }
                    self.stack.pop();
                    if self.stack.is_empty() {
                        return Ok((i + 1, true));
                    }
                    self.field = self.children_field + 1;
                    if self.field >= self.fields.len() {
                        self.field = 0;
                    }
                }
                _ => return Err(fail(i, &format!("unexpected {}", show(c)))),
            }
        }
        Ok((data.len(), false))
    }

    fn store(&mut self, b: &mut Builder) -> Result<(), String> {
        let value = self.value;
        self.value = 0;
        self.digits = 0;
        let Some(top) = self.stack.last_mut() else {
            return Err("a number outside the tree".into());
        };
        if self.field == 0 {
            let index =
                u32::try_from(b.trace_tree.len()).map_err(|_| "too many trace nodes".to_owned())?;
            b.trace_tree.push(TraceNode {
                parent: top.0,
                ..TraceNode::default()
            });
            top.1 = index;
        }
        let node = b
            .trace_tree
            .get_mut(top.1 as usize)
            .ok_or_else(|| "a trace node without a start".to_owned())?;
        let small = || u32::try_from(value).map_err(|_| format!("{value} does not fit in 32 bits"));
        match self.fields[self.field] {
            TreeField::Id => node.id = small()?,
            TreeField::FunctionInfo => node.function_info = small()?,
            TreeField::Count => node.count = small()?,
            TreeField::Size => node.size = value,
            TreeField::Children | TreeField::Other => {}
        }
        self.field += 1;
        if self.field >= self.fields.len() {
            self.field = 0;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeRole {
    Type,
    Name,
    Id,
    SelfSize,
    EdgeCount,
    TraceNodeId,
    Detachedness,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdgeRole {
    Type,
    NameOrIndex,
    ToNode,
    Other,
}

/// The growing columns.
#[derive(Default)]
pub(crate) struct Builder {
    meta: Option<Meta>,
    meta_offset: u64,
    node_roles: Vec<NodeRole>,
    edge_roles: Vec<EdgeRole>,
    node_field: usize,
    edge_field: usize,
    node_type_count: u8,
    edge_type_count: u8,
    /// Values of the node being read, by role, committed when its last field arrives.
    node_type: Vec<u8>,
    node_name: Vec<u32>,
    node_id: Vec<u32>,
    self_size: Sizes,
    first_edge: Vec<u32>,
    trace_node_id: Vec<u32>,
    detachedness: Vec<u8>,
    nodes_committed: u32,
    edge_type: Vec<u8>,
    edge_name: Vec<u32>,
    edge_to: Vec<u32>,
    locations: Vec<u32>,
    /// The locations, checked and compacted as soon as they and the nodes were complete.
    built_locations: Option<super::graph::Locations>,
    /// The largest string indices naming nodes and edges, noted as they are stored.
    largest_names: LargestNames,
    /// The names of spliced edges, and where in `edge_name` they go: put in once the
    /// structure is complete.
    names_to_splice: Option<(usize, Vec<u32>)>,
    /// By edge type, see [`super::graph::edge_name_masks`].
    edge_name_masks: Vec<u32>,
    trace_function_infos: Vec<u32>,
    trace_tree: Vec<TraceNode>,
    strings: StringsBuilder,
    edges_offset: u64,
    nodes_offset: u64,
    /// The structure columns, once the edges are complete.
    shape: Option<Arc<Shape>>,
    speculation: Option<Speculating>,
    /// Tells the speculation whether the rest of the input is still to come.
    strings_pending: InputPending,
}

/// True until the builder is finished or dropped: while the rest of a stream is still on its
/// way, the speculation has time on its hands.
struct InputPending(Arc<AtomicBool>);

impl Default for InputPending {
    fn default() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }
}

impl Drop for InputPending {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

impl Builder {
    fn set_meta(&mut self, meta: Meta, offset: u64) -> Result<(), Error> {
        self.node_roles = meta
            .node_fields
            .iter()
            .map(|f| match f.as_str() {
                "type" => NodeRole::Type,
                "name" => NodeRole::Name,
                "id" => NodeRole::Id,
                "self_size" => NodeRole::SelfSize,
                "edge_count" => NodeRole::EdgeCount,
                "trace_node_id" => NodeRole::TraceNodeId,
                "detachedness" => NodeRole::Detachedness,
                _ => NodeRole::Other,
            })
            .collect();
        self.edge_roles = meta
            .edge_fields
            .iter()
            .map(|f| match f.as_str() {
                "type" => EdgeRole::Type,
                "name_or_index" => EdgeRole::NameOrIndex,
                "to_node" => EdgeRole::ToNode,
                _ => EdgeRole::Other,
            })
            .collect();
        self.node_type_count = meta.node_types.len() as u8;
        self.edge_type_count = meta.edge_types.len() as u8;
        self.edge_name_masks = super::graph::edge_name_masks(&meta);
        self.meta_offset = offset;
        self.meta = Some(meta);
        Ok(())
    }

    fn open_array(&mut self, key: Key, at: u64) -> Result<(), Error> {
        let meta = self
            .meta
            .as_ref()
            .ok_or_else(|| Error::format(Some(at), "no meta"))?;
        match key {
            Key::Nodes => {
                self.nodes_offset = at;
                let n = meta.node_count.unwrap_or(0).min(PREALLOC_LIMIT) as usize;
                self.node_type.reserve_exact(n);
                self.node_name.reserve_exact(n);
                self.node_id.reserve_exact(n);
                self.self_size.reserve_exact(n);
                self.first_edge.reserve_exact(n + 1);
                self.first_edge.push(0);
            }
            Key::Edges => {
                self.edges_offset = at;
                let n = meta.edge_count.unwrap_or(0).min(PREALLOC_LIMIT) as usize;
                self.edge_type.reserve_exact(n);
                self.edge_name.reserve_exact(n);
                self.edge_to.reserve_exact(n);
            }
            _ => {}
        }
        Ok(())
    }

    /// Stores one value of the node being read; true when that completed the node.
    #[inline]
    fn push_node(&mut self, v: u64) -> Result<bool, String> {
        let small = |v: u64| u32::try_from(v).map_err(|_| format!("{v} does not fit in 32 bits"));
        match self.node_roles[self.node_field] {
            NodeRole::Type => {
                if v >= self.node_type_count as u64 {
                    return Err(format!(
                        "node type {v} is not one of the {} declared in meta",
                        self.node_type_count
                    ));
                }
                self.node_type.push(v as u8);
            }
            NodeRole::Name => {
                let name = small(v)?;
                self.node_name.push(name);
                self.largest_names.note_node(name);
            }
            NodeRole::Id => self.node_id.push(small(v)?),
            NodeRole::SelfSize => self.self_size.push(v),
            NodeRole::EdgeCount => {
                let last = *self.first_edge.last().unwrap_or(&0);
                let next = u32::try_from(last as u64 + v)
                    .map_err(|_| "more than 2^32 edges".to_owned())?;
                self.first_edge.push(next);
            }
            NodeRole::TraceNodeId => {
                if v != 0 || !self.trace_node_id.is_empty() {
                    if self.trace_node_id.is_empty() {
                        self.trace_node_id.resize(self.nodes_committed as usize, 0);
                    }
                    self.trace_node_id.push(small(v)?);
                }
            }
            NodeRole::Detachedness => {
                if v != 0 || !self.detachedness.is_empty() {
                    if self.detachedness.is_empty() {
                        self.detachedness.resize(self.nodes_committed as usize, 0);
                    }
                    self.detachedness.push(
                        u8::try_from(v).map_err(|_| format!("detachedness {v} is out of range"))?,
                    );
                }
            }
            NodeRole::Other => {}
        }
        self.node_field += 1;
        if self.node_field == self.node_roles.len() {
            self.node_field = 0;
            self.nodes_committed = self
                .nodes_committed
                .checked_add(1)
                .ok_or("more than 2^32 nodes")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Stores one value of the edge being read; true when that completed the edge.
    #[inline]
    fn push_edge(&mut self, v: u64) -> Result<bool, String> {
        match self.edge_roles[self.edge_field] {
            EdgeRole::Type => {
                if v >= self.edge_type_count as u64 {
                    return Err(format!(
                        "edge type {v} is not one of the {} declared in meta",
                        self.edge_type_count
                    ));
                }
                self.edge_type.push(v as u8);
            }
            EdgeRole::NameOrIndex => self.edge_name.push(
                u32::try_from(v)
                    .map_err(|_| format!("edge name or index {v} does not fit in 32 bits"))?,
            ),
            EdgeRole::ToNode => {
                let fields = self.node_roles.len() as u64;
                if !v.is_multiple_of(fields) {
                    return Err(format!(
                        "to_node {v} is not a multiple of the node field count {fields}"
                    ));
                }
                let ordinal = v / fields;
                if ordinal >= self.nodes_committed as u64 {
                    return Err(format!(
                        "to_node {v} points past the last node ({} nodes)",
                        self.nodes_committed
                    ));
                }
                self.edge_to.push(ordinal as u32);
            }
            EdgeRole::Other => {}
        }
        self.edge_field += 1;
        if self.edge_field == self.edge_roles.len() {
            self.edge_field = 0;
            self.note_last_edge();
            return Ok(true);
        }
        Ok(false)
    }

    /// Parses whole nodes laid out as V8 writes them (`1,2,3,…\n,`) straight into the columns.
    /// Stops, without consuming it, at the first node it cannot take whole and valid; returns the
    /// bytes consumed (each node with the comma after it).
    fn fast_nodes(&mut self, data: &[u8]) -> usize {
        let fields = self.node_roles.len();
        if self.node_field != 0 || fields > MAX_FAST_FIELDS {
            return 0;
        }
        if self.node_roles == V8_NODE_LAYOUT {
            return self.fast_v8_nodes(data);
        }
        let mut values = [0u64; MAX_FAST_FIELDS];
        let mut done = 0;
        while let Some(end) = read_record(data, done, &mut values[..fields]) {
            if !self.commit_node(&values[..fields]) {
                break;
            }
            done = end;
        }
        done
    }

    /// Node 20's layout (read from meta, not assumed), with the checks and stores unrolled.
    fn fast_v8_nodes(&mut self, data: &[u8]) -> usize {
        let mut v = [0u64; 7];
        let mut done = 0;
        let types = self.node_type_count as u64;
        // Type, edge count, trace node id and detachedness are nearly always one digit.
        const ONE_DIGIT: [bool; 7] = [true, false, false, false, true, true, true];
        while let Some(end) = read_fixed_record(data, done, &mut v, ONE_DIGIT) {
            let [ty, name, id, size, edges, trace, detached] = v;
            let last = *self.first_edge.last().unwrap_or(&0) as u64;
            let small = u32::MAX as u64;
            if ty >= types
                || name > small
                || id > small
                || trace > small
                || detached > u8::MAX as u64
                || last + edges > small
                || self.nodes_committed == u32::MAX
            {
                // Odd values take the general path, which names the problem.
                break;
            }
            if detached != 0 || !self.detachedness.is_empty() {
                if self.detachedness.is_empty() {
                    self.detachedness.resize(self.nodes_committed as usize, 0);
                }
                self.detachedness.push(detached as u8);
            }
            if trace != 0 || !self.trace_node_id.is_empty() {
                if self.trace_node_id.is_empty() {
                    self.trace_node_id.resize(self.nodes_committed as usize, 0);
                }
                self.trace_node_id.push(trace as u32);
            }
            self.node_type.push(ty as u8);
            self.node_name.push(name as u32);
            self.largest_names.note_node(name as u32);
            self.node_id.push(id as u32);
            self.self_size.push(size);
            self.first_edge.push((last + edges) as u32);
            self.nodes_committed += 1;
            done = end;
        }
        done
    }

    /// Edges as `type, name_or_index, to_node` (read from meta), unrolled.
    fn fast_v8_edges(&mut self, data: &[u8]) -> usize {
        let mut v = [0u64; 3];
        let mut done = 0;
        let types = self.edge_type_count as u64;
        let fields = self.node_roles.len() as u64;
        let nodes = self.nodes_committed as u64;
        // Division by a constant compiles to a multiplication.
        let ordinal = |to: u64| match fields {
            7 => to.is_multiple_of(7).then_some(to / 7),
            6 => to.is_multiple_of(6).then_some(to / 6),
            _ => to.is_multiple_of(fields).then_some(to / fields),
        };
        // Names are noted in registers here, and once at the end.
        let masks = &self.edge_name_masks[..];
        let (mut largest_name, mut any_named, mut count) = (0u32, 0u32, 0usize);
        while let Some(end) = read_fixed_record(data, done, &mut v, [true, false, false]) {
            let [ty, name, to] = v;
            let Some(target) = ordinal(to) else { break };
            if ty >= types || name > u32::MAX as u64 || target >= nodes {
                break;
            }
            let string_named = masks.get(ty as usize).copied().unwrap_or(u32::MAX);
            largest_name = largest_name.max(name as u32 & string_named);
            any_named |= string_named;
            count += 1;
            self.edge_type.push(ty as u8);
            self.edge_name.push(name as u32);
            self.edge_to.push(target as u32);
            done = end;
        }
        self.largest_names
            .note_edges(largest_name, any_named != 0, count);
        done
    }

    /// As [`Self::fast_nodes`], for the locations: values that only need to fit in 32 bits.
    fn fast_locations(&mut self, data: &[u8]) -> usize {
        let mut value = [0u64];
        let mut done = 0;
        while let Some(end) = read_fixed_record(data, done, &mut value, [false]) {
            let Ok(value) = u32::try_from(value[0]) else {
                break;
            };
            self.locations.push(value);
            done = end;
        }
        done
    }

    /// As [`Self::fast_nodes`], for edges.
    fn fast_edges(&mut self, data: &[u8]) -> usize {
        let fields = self.edge_roles.len();
        if self.edge_field != 0 || fields > MAX_FAST_FIELDS {
            return 0;
        }
        if self.edge_roles == V8_EDGE_LAYOUT {
            return self.fast_v8_edges(data);
        }
        let mut values = [0u64; MAX_FAST_FIELDS];
        let mut done = 0;
        while let Some(end) = read_record(data, done, &mut values[..fields]) {
            if !self.commit_edge(&values[..fields]) {
                break;
            }
            done = end;
        }
        done
    }

    /// Stores a whole node if every value is valid; otherwise stores nothing.
    #[inline]
    fn commit_node(&mut self, values: &[u64]) -> bool {
        let roles = &self.node_roles;
        let mut ok = true;
        let mut edge_count = 0u64;
        for (role, &v) in roles.iter().zip(values) {
            ok &= match role {
                NodeRole::Type => v < self.node_type_count as u64,
                NodeRole::Name | NodeRole::Id | NodeRole::TraceNodeId => v <= u32::MAX as u64,
                NodeRole::Detachedness => v <= u8::MAX as u64,
                NodeRole::EdgeCount => {
                    edge_count = v;
                    true
                }
                NodeRole::SelfSize | NodeRole::Other => true,
            };
        }
        let last = *self.first_edge.last().unwrap_or(&0) as u64;
        if !ok || last + edge_count > u32::MAX as u64 || self.nodes_committed == u32::MAX {
            return false;
        }
        for (role, &v) in self.node_roles.iter().zip(values) {
            match role {
                NodeRole::Type => self.node_type.push(v as u8),
                NodeRole::Name => {
                    self.node_name.push(v as u32);
                    self.largest_names.note_node(v as u32);
                }
                NodeRole::Id => self.node_id.push(v as u32),
                NodeRole::SelfSize => self.self_size.push(v),
                NodeRole::EdgeCount => self.first_edge.push((last + v) as u32),
                NodeRole::TraceNodeId => {
                    if v != 0 || !self.trace_node_id.is_empty() {
                        if self.trace_node_id.is_empty() {
                            self.trace_node_id.resize(self.nodes_committed as usize, 0);
                        }
                        self.trace_node_id.push(v as u32);
                    }
                }
                NodeRole::Detachedness => {
                    if v != 0 || !self.detachedness.is_empty() {
                        if self.detachedness.is_empty() {
                            self.detachedness.resize(self.nodes_committed as usize, 0);
                        }
                        self.detachedness.push(v as u8);
                    }
                }
                NodeRole::Other => {}
            }
        }
        self.nodes_committed += 1;
        true
    }

    /// Stores a whole edge if every value is valid; otherwise stores nothing.
    #[inline]
    fn commit_edge(&mut self, values: &[u64]) -> bool {
        let fields = self.node_roles.len() as u64;
        let nodes = self.nodes_committed as u64;
        let mut ok = true;
        for (role, &v) in self.edge_roles.iter().zip(values) {
            ok &= match role {
                EdgeRole::Type => v < self.edge_type_count as u64,
                EdgeRole::NameOrIndex => v <= u32::MAX as u64,
                EdgeRole::ToNode => v.is_multiple_of(fields) && v / fields < nodes,
                EdgeRole::Other => true,
            };
        }
        if !ok {
            return false;
        }
        for (role, &v) in self.edge_roles.iter().zip(values) {
            match role {
                EdgeRole::Type => self.edge_type.push(v as u8),
                EdgeRole::NameOrIndex => self.edge_name.push(v as u32),
                EdgeRole::ToNode => self.edge_to.push((v / fields) as u32),
                EdgeRole::Other => {}
            }
        }
        self.note_last_edge();
        true
    }

    /// Notes the name of the edge just stored, once its type is known (it may come after the
    /// name in a layout other than V8's). A layout without either leaves the edge unnoted, and
    /// the end then checks every name.
    fn note_last_edge(&mut self) {
        if let (Some(&ty), Some(&name)) = (self.edge_type.last(), self.edge_name.last()) {
            let string_named = self.edge_name_masks.get(ty as usize).copied();
            self.largest_names
                .note_edge(name, string_named.unwrap_or(u32::MAX));
        }
    }

    /// Freezes the structure columns and starts computing the dominator tree on another thread
    /// while the strings arrive (they take about 5% of the stream).
    fn edges_done(&mut self) {
        let Some(meta) = &self.meta else { return };
        let fields = meta.node_fields.len() as u64;
        let nodes = self.nodes_committed as u64;
        let consistent = self.node_field == 0
            && self.edge_field == 0
            && nodes > 0
            && *self.first_edge.last().unwrap_or(&0) as usize == self.edge_to.len()
            && self.edge_type.len() == self.edge_to.len()
            && meta.root_index.is_multiple_of(fields)
            && meta.root_index / fields < nodes;
        if !consistent {
            self.splice_names();
            return;
        }
        let shape = Arc::new(Shape {
            node_type: std::mem::take(&mut self.node_type),
            self_size: std::mem::take(&mut self.self_size),
            first_edge: std::mem::take(&mut self.first_edge),
            edge_type: std::mem::take(&mut self.edge_type),
            edge_to: std::mem::take(&mut self.edge_to),
            types: Types::from_meta(meta),
            root: (meta.root_index / fields) as u32,
        });
        let shared = Arc::clone(&shape);
        let strings_pending = Arc::clone(&self.strings_pending.0);
        let shallow_sizes = Arc::new(super::analysis::ShallowSizesHandoff::default());
        let handoff = Arc::clone(&shallow_sizes);
        self.speculation = std::thread::Builder::new()
            .name("hunter-dominators".into())
            .spawn(move || super::analysis::speculate(&shared, &strings_pending, &handoff))
            .ok()
            .map(|thread| Speculating {
                thread,
                shallow_sizes,
            });
        self.shape = Some(shape);
        self.splice_names();
    }

    /// Puts the spliced edges' names in their place, before those of the edges read after them.
    fn splice_names(&mut self) {
        if let Some((at, names)) = self.names_to_splice.take() {
            let after = self.edge_name.split_off(at.min(self.edge_name.len()));
            self.edge_name.extend_from_slice(&names);
            self.edge_name.extend_from_slice(&after);
        }
    }

    /// Checks and compacts the locations while the strings arrive, when the nodes they refer
    /// to are known. A fault is left for [`HeapSnapshot::from_parts`] to report as usual.
    fn locations_done(&mut self) {
        let (Some(meta), Some(shape)) = (&self.meta, &self.shape) else {
            return;
        };
        let fields = meta.node_fields.len() as u64;
        let nodes = shape.node_type.len();
        if let Ok(built) = super::graph::build_locations(meta, &self.locations, fields, nodes, 0) {
            self.built_locations = Some(built);
            self.locations = Vec::new();
        }
    }

    fn finish(mut self, end: u64) -> Result<Parts, Error> {
        self.strings_pending.0.store(false, Ordering::Relaxed);
        self.splice_names();
        let meta = self
            .meta
            .take()
            .ok_or_else(|| Error::format(Some(end), "no \"snapshot\" meta"))?;
        let shape = match self.shape.take() {
            Some(shape) => shape,
            None => {
                let fields = meta.node_fields.len() as u64;
                Arc::new(Shape {
                    node_type: std::mem::take(&mut self.node_type),
                    self_size: std::mem::take(&mut self.self_size),
                    first_edge: std::mem::take(&mut self.first_edge),
                    edge_type: std::mem::take(&mut self.edge_type),
                    edge_to: std::mem::take(&mut self.edge_to),
                    types: Types::from_meta(&meta),
                    root: (meta.root_index / fields.max(1)).min(u32::MAX as u64) as u32,
                })
            }
        };
        let node_count = self.nodes_committed as u64;
        if self.node_field != 0 {
            return Err(Error::format(
                Some(self.nodes_offset),
                format!(
                    "\"nodes\" holds a partial node: its length is not a multiple of {}",
                    meta.node_fields.len()
                ),
            ));
        }
        if let Some(declared) = meta.node_count {
            if declared != node_count {
                return Err(Error::format(
                    Some(self.nodes_offset),
                    format!("\"nodes\" holds {node_count} nodes but snapshot.node_count says {declared}"),
                ));
            }
        }
        if node_count == 0 {
            return Err(Error::format(
                Some(self.nodes_offset),
                "the snapshot has no nodes",
            ));
        }
        let edge_count = shape.edge_to.len() as u64;
        if self.edge_field != 0 {
            return Err(Error::format(
                Some(self.edges_offset),
                format!(
                    "\"edges\" holds a partial edge: its length is not a multiple of {}",
                    meta.edge_fields.len()
                ),
            ));
        }
        if let Some(declared) = meta.edge_count {
            if declared != edge_count {
                return Err(Error::format(
                    Some(self.edges_offset),
                    format!("\"edges\" holds {edge_count} edges but snapshot.edge_count says {declared}"),
                ));
            }
        }
        let summed = *shape.first_edge.last().unwrap_or(&0) as u64;
        if summed != edge_count {
            return Err(Error::format(
                Some(self.edges_offset),
                format!("the nodes' edge counts add up to {summed} but \"edges\" holds {edge_count} edges"),
            ));
        }
        let mut trace_node_id = self.trace_node_id;
        if !trace_node_id.is_empty() {
            trace_node_id.resize(node_count as usize, 0);
        }
        let mut detachedness = self.detachedness;
        if !detachedness.is_empty() {
            detachedness.resize(node_count as usize, 0);
        }
        Ok(Parts {
            meta,
            shape,
            speculation: self.speculation,
            node_name: self.node_name,
            node_id: self.node_id,
            trace_node_id,
            detachedness,
            edge_name: self.edge_name,
            locations: match self.built_locations {
                Some(built) => LocationsPart::Built(built),
                None => LocationsPart::Raw(self.locations),
            },
            largest_names: self.largest_names,
            trace_function_infos: self.trace_function_infos,
            trace_tree: self.trace_tree,
            string_bytes: self.strings.bytes,
            string_ends: self.strings.ends,
        })
    }
}

/// A stretch of the `edges` array parsed apart from the main parse (by a second thread reading
/// the middle of a file), with the same checks as the main parse's fast path. After the splice, the main parse
/// resumes where the run stopped. It takes whole
/// edges only and stops at the first one it cannot take (the last edge, before `]`, or anything
/// unusual), which the main parse then reads itself, naming any error.
pub(crate) struct EdgeRun {
    start: u64,
    end: u64,
    b: Builder,
}

impl EdgeRun {
    /// A run starting at byte `start`, which must begin an edge, with room for about
    /// `expected_edges`. None when the layout does not declare its node count (edge targets
    /// could not be checked).
    pub(crate) fn new(meta: Meta, start: u64, expected_edges: usize) -> Option<Self> {
        let nodes = u32::try_from(meta.node_count?).ok()?;
        let mut b = Builder::default();
        b.set_meta(meta, 0).ok()?;
        let capacity = expected_edges.min(PREALLOC_LIMIT as usize);
        b.edge_type.reserve_exact(capacity);
        b.edge_name.reserve_exact(capacity);
        b.edge_to.reserve_exact(capacity);
        b.nodes_committed = nodes;
        Some(Self {
            start,
            end: start,
            b,
        })
    }
    /// Parses the whole edges at the start of `data` (which begins at [`Self::end`]); returns
    /// the bytes taken. Fewer than `data.len()` means the run stopped, or needs more bytes to
    /// finish an edge.
    pub(crate) fn feed(&mut self, data: &[u8]) -> usize {
        let used = self.b.fast_edges(data);
        self.end += used as u64;
        used
    }
}

/// The length of the plain text at the start of `data`, up to the first quote, backslash or
/// control character, and whether it is all ASCII (then valid UTF-8 without a check); None when
/// `data` ends first. Eight bytes at a time: V8's strings average about 20 bytes.
fn plain_text(data: &[u8]) -> Option<(usize, bool)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut high_bits = 0u64;
    let mut i = 0;
    while let Some(word) = data.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let quote = w ^ (ONES * b'"' as u64);
        let backslash = w ^ (ONES * b'\\' as u64);
        // Each term flags its first matching byte exactly (a false flag can only follow a true
        // one), so the lowest flag is the first special byte.
        let flags = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w))
            & HIGH;
        if flags != 0 {
            let k = flags.trailing_zeros() as usize / 8;
            let before = if k == 0 {
                0
            } else {
                w & (u64::MAX >> (64 - 8 * k))
            };
            return Some((i + k, (high_bits | before) & HIGH == 0));
        }
        high_bits |= w;
        i += 8;
    }
    let k = data[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
    Some((i + k, high_bits & HIGH == 0 && data[i..i + k].is_ascii()))
}

/// All strings in one buffer; `ends[i]` is where string i ends (u64: no 4 GiB limit).
#[derive(Default)]
struct StringsBuilder {
    bytes: Vec<u8>,
    ends: Vec<u64>,
    start: usize,
}

impl StringsBuilder {
    fn begin(&mut self) {
        self.start = self.bytes.len();
    }
    /// Takes whole plain strings (no escape, no control character) laid out as V8 writes them
    /// (`"…",\n"…"`), each with the separator after it, straight into the buffer, so that the
    /// byte-by-byte path, four steps per string, is left the rest: an escape, a string the
    /// chunk cuts, invalid UTF-8 (which it names), the closing `]`. `data` starts with an
    /// opening quote. Returns the bytes taken, and leaves `list` as that path expects.
    fn take_plain(&mut self, data: &[u8], list: &mut ListState) -> usize {
        let mut taken = 0;
        let mut quote = 0;
        loop {
            let body = quote + 1;
            let Some((len, ascii)) = plain_text(&data[body..]) else {
                break;
            };
            let text = &data[body..body + len];
            if data[body + len] != b'"' || (!ascii && std::str::from_utf8(text).is_err()) {
                break;
            }
            self.bytes.extend_from_slice(text);
            self.ends.push(self.bytes.len() as u64);
            taken = body + len + 1;
            *list = ListState::AfterItem;
            if data.get(taken) != Some(&b',') {
                break;
            }
            let next = taken + 1 + data[taken + 1..].iter().take_while(|&&c| is_ws(c)).count();
            taken = next;
            *list = ListState::AfterComma;
            if data.get(next) != Some(&b'"') {
                break;
            }
            quote = next;
        }
        taken
    }
    fn end(&mut self) -> Result<(), String> {
        std::str::from_utf8(&self.bytes[self.start..])
            .map_err(|_| "a string is not valid UTF-8".to_owned())?;
        self.ends.push(self.bytes.len() as u64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{plain_text, read_fixed_record, read_record, read_uint};

    /// The eight-bytes-at-a-time search finds the first quote, backslash or control byte
    /// wherever it falls in a word, after any bytes (high ones included), as a byte loop does.
    #[test]
    fn plain_text_finds_the_first_special_byte_as_a_byte_loop_does() {
        let reference = |data: &[u8]| {
            let k = data
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            Some((k, data[..k].is_ascii()))
        };
        let fillers = [
            b'a', b' ', b'!', b'#', b'[', b']', 0x7F, 0x80, 0xA0, 0xBF, 0xC3, 0xFF,
        ];
        for len in 0..20 {
            for &filler in &fillers {
                for special in [b'"', b'\\', 0x00, 0x1F] {
                    let mut data = vec![filler; len];
                    data.push(special);
                    data.extend_from_slice(b"\"\\\x01 tail");
                    assert_eq!(plain_text(&data), reference(&data), "{data:?}");
                    assert_eq!(plain_text(&data).map(|(k, _)| k), Some(len));
                }
                assert_eq!(plain_text(&vec![filler; len]), None);
            }
        }
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..100_000 {
            let data: Vec<u8> = (0..seed % 24)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Mostly ordinary text, with specials and high bytes now and then.
                    [b'x', b'"', b'\\', 0x19, 0x20, 0x7F, 0x80, 0xE2][(seed % 8) as usize]
                        .wrapping_add(if seed % 3 == 0 { (seed >> 8) as u8 } else { 0 })
                })
                .collect();
            assert_eq!(plain_text(&data), reference(&data), "{data:?}");
        }
    }

    #[test]
    fn fields_read_as_one_digit_fall_back_to_the_digit_reader() {
        let read = |text: &str, one_digit: [bool; 3]| {
            let padded = format!("{text}00000000");
            let mut values = [0u64; 3];
            read_fixed_record(padded.as_bytes(), 0, &mut values, one_digit).map(|end| (values, end))
        };
        let all = [true; 3];
        assert_eq!(read("1,2,3\n,", all), Some(([1, 2, 3], 7)));
        assert_eq!(read("10,22,333,", all), Some(([10, 22, 333], 10)));
        assert_eq!(read("7,123456789,4\n,", all), Some(([7, 123456789, 4], 15)));
        assert_eq!(read("1,2,3\n,", [false; 3]), Some(([1, 2, 3], 7)));
        // Anything but a digit then a separator is for the careful path, as before.
        assert_eq!(read("1,,3,", all), None);
        assert_eq!(read("1 ,2,3,", all), None);
        assert_eq!(read("1,2\n,3,", all), None);
    }

    #[test]
    fn swar_digits_agree_with_plain_parsing() {
        let mut samples: Vec<u64> = (0..2000).collect();
        let mut x = 1u64;
        while x < u64::MAX / 10 {
            samples.extend([x - 1, x, x + 7, x * 3 + 1]);
            x *= 10;
        }
        samples.push(9_999_999_999_999_999_999);
        for v in samples {
            for tail in [",", "]", "\n,", ",,,,,,,,,"] {
                let text = format!("{v}{tail}........");
                let got = read_uint(text.as_bytes(), 0);
                assert_eq!(got, Some((v, v.to_string().len())), "{text:?}");
            }
        }
        assert_eq!(
            read_uint(b"12345678901234567890,.......", 0),
            None,
            "20 digits"
        );
        assert_eq!(read_uint(b",1234567", 0), None);
        assert_eq!(read_uint(b"1234", 0), None, "too short to load");
        assert_eq!(read_uint(b"-1,......", 0), None);
        assert_eq!(read_uint(b"7a,......", 0), Some((7, 1)));
    }

    #[test]
    fn records_need_their_separators() {
        let mut values = [0u64; 3];
        assert_eq!(
            read_record(b"1,22,333\n,4,5,6,........", 0, &mut values),
            Some(10)
        );
        assert_eq!(values, [1, 22, 333]);
        assert_eq!(
            read_record(b"1,22,333],.............", 0, &mut values),
            None
        );
        assert_eq!(
            read_record(b"1, 22,333,..............", 0, &mut values),
            None
        );
    }
}
