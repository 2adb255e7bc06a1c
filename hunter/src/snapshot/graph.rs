//! [`HeapSnapshot`]: the parsed graph as struct-of-arrays columns, and read access to nodes,
//! edges, strings, locations and allocation traces. Node ordinals are `u32` in
//! `0..node_count()`; edge ordinals are `u32` in `0..edge_count()`.

use super::classes;
use super::meta::Meta;
use super::sizes::Sizes;
use super::Error;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One node of the `trace_tree` (allocation call tree, present only when allocation tracking was
/// on). `parent` is an index into [`HeapSnapshot::trace_tree`], `u32::MAX` for a top node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceNode {
    pub id: u32,
    pub function_info: u32,
    pub count: u32,
    pub size: u64,
    pub parent: u32,
}

/// A source position from `locations` (0-based line and column, as V8 writes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    pub script_id: u32,
    pub line: u32,
    pub column: u32,
}

/// One frame of an allocation stack, resolved through `trace_function_infos`. The position is
/// where the frame's function is defined (V8 records functions, not call sites).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationFrame<'a> {
    pub function_name: &'a str,
    pub script_name: &'a str,
    pub script_id: u32,
    /// 1-based, 0 when unknown (V8 writes line + 1).
    pub line: u32,
    /// 1-based, 0 when unknown.
    pub column: u32,
}

/// An edge's label: a property/variable name, or an element/hidden index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeName<'a> {
    Name(&'a str),
    Index(u32),
}

impl fmt::Display for EdgeName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EdgeName::Name(name) => f.write_str(name),
            EdgeName::Index(index) => write!(f, "{index}"),
        }
    }
}

/// One outgoing edge of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge<'a> {
    /// Edge ordinal, `0..edge_count()`.
    pub index: u32,
    /// The edge type's name from meta: `property`, `element`, `internal`, `weak`, …
    pub kind: &'a str,
    pub name: EdgeName<'a>,
    /// Target node ordinal.
    pub target: u32,
}

/// Columns as the parser produced them.
pub(crate) struct Parts {
    pub meta: Meta,
    pub shape: Arc<Shape>,
    pub speculation: Option<Speculating>,
    pub node_name: Vec<u32>,
    pub node_id: Vec<u32>,
    pub trace_node_id: Vec<u32>,
    pub detachedness: Vec<u8>,
    pub edge_name: Vec<u32>,
    pub locations: LocationsPart,
    pub largest_names: LargestNames,
    pub trace_function_infos: Vec<u32>,
    pub trace_tree: Vec<TraceNode>,
    pub string_bytes: Vec<u8>,
    pub string_ends: Vec<u64>,
}

/// V8's `locations` array, or what it became once checked while the strings arrived.
pub(crate) enum LocationsPart {
    Raw(Vec<u32>),
    Built(Locations),
}

/// The largest string index naming a node and a string-named edge, noted by the parser as it
/// stores names (a separate pass over the names costs 30 ms on 500 MB, all of it memory
/// traffic): the end compares them with the string count instead of every name. It also
/// counts the names noted, so that a column filled some other way fails the comparison.
#[derive(Default, Clone, Copy)]
pub(crate) struct LargestNames {
    node: Option<u32>,
    edge: Option<u32>,
    nodes: usize,
    edges: usize,
}

impl LargestNames {
    pub(crate) fn note_node(&mut self, name: u32) {
        self.node = self.node.max(Some(name));
        self.nodes += 1;
    }
    /// `string_named` as in [`edge_name_masks`].
    pub(crate) fn note_edge(&mut self, name: u32, string_named: u32) {
        if string_named != 0 {
            self.edge = self.edge.max(Some(name));
        }
        self.edges += 1;
    }
    /// Notes `count` edges at once: `largest` is the largest of their names masked as in
    /// [`edge_name_masks`], and `any_string_named` says whether any of them counted.
    pub(crate) fn note_edges(&mut self, largest: u32, any_string_named: bool, count: usize) {
        if any_string_named {
            self.edge = self.edge.max(Some(largest));
        }
        self.edges += count;
    }
    /// Adds what another parse of other nodes and edges noted.
    pub(crate) fn merge(&mut self, other: &Self) {
        self.node = self.node.max(other.node);
        self.edge = self.edge.max(other.edge);
        self.nodes += other.nodes;
        self.edges += other.edges;
    }
    /// Every name is a string index below `string_count`, if every name was noted.
    fn all_below(&self, string_count: u64, node_name: &[u32], edge_name: &[u32]) -> bool {
        let below = |largest: Option<u32>| largest.is_none_or(|i| (i as u64) < string_count);
        self.nodes == node_name.len()
            && self.edges == edge_name.len()
            && below(self.node)
            && below(self.edge)
    }
}

/// Per edge type: whether its edges are named by a number (elements, hidden) instead of a
/// string.
pub(crate) fn indexed_edge_types(meta: &Meta) -> Vec<bool> {
    meta.edge_types
        .iter()
        .map(|t| t == "element" || t == "hidden")
        .collect()
}

/// Per edge type: all ones when its edges are named by a string, else 0, so that the parser's
/// edge loop can mask names without a branch.
pub(crate) fn edge_name_masks(meta: &Meta) -> Vec<u32> {
    indexed_edge_types(meta)
        .into_iter()
        .map(|indexed| if indexed { 0 } else { u32::MAX })
        .collect()
}

/// The graph's structure: what the dominator tree needs, shared with the thread that computes
/// it while the rest of the snapshot (strings, locations) is still arriving.
pub(crate) struct Shape {
    pub node_type: Vec<u8>,
    pub self_size: Sizes,
    pub first_edge: Vec<u32>,
    pub edge_type: Vec<u8>,
    pub edge_to: Vec<u32>,
    pub types: Types,
    pub root: u32,
}

impl Shape {
    pub fn node_count(&self) -> u32 {
        self.node_type.len() as u32
    }
    pub fn edge_range(&self, n: u32) -> std::ops::Range<usize> {
        self.first_edge[n as usize] as usize..self.first_edge[n as usize + 1] as usize
    }
}

/// What can be computed from the [`Shape`] alone, before the strings arrived, by assuming that
/// DevTools' rules that need names do not apply: the dominator tree (no WeakMap table edges, no
/// `(Document DOM trees)` root), then, unless the snapshot claimed them first, shallow sizes
/// and retained sizes (also no `system / ExternalStringData` node), and, if the strings are
/// still arriving by then, distances (no edge stopped by DevTools' name filters). The analysis
/// uses each part only when its assumptions hold; otherwise it recomputes that part.
pub(crate) struct Speculation {
    pub tree: super::dominators::DominatorTree,
    pub sizes: EarlySizes,
    pub distances: Option<super::analysis::Distances>,
}

/// The speculation's shallow and retained sizes.
pub(crate) enum EarlySizes {
    /// The snapshot claimed the shallow sizes and gave them up (it panicked), or a second
    /// analysis settled them.
    None,
    /// Shallow sizes from the structure alone, and retained sizes summed from them.
    Own { shallow: Sizes, retained: Sizes },
    /// Retained sizes summed from the shallow sizes the snapshot computed and shared.
    FromShared {
        shallow: Arc<Sizes>,
        retained: Sizes,
    },
}

/// The thread computing the [`Speculation`], and the shallow sizes it shares with the snapshot.
pub(crate) struct Speculating {
    pub thread: JoinHandle<Speculation>,
    pub shallow_sizes: Arc<super::analysis::ShallowSizesHandoff>,
}

/// The snapshot's string table in one buffer.
pub(crate) struct Strings {
    text: String,
    ends: Vec<u64>,
}

impl Strings {
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn get(&self, index: u32) -> &str {
        let i = index as usize;
        if i >= self.ends.len() {
            return "";
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
    /// Indices of the strings equal to `text` (V8 writes each string once, but a hand-made
    /// snapshot may repeat one), so that hot loops compare indices, not text.
    pub fn indices_of(&self, text: &str) -> Vec<u32> {
        let mut start = 0usize;
        let mut found = Vec::new();
        for (i, &end) in self.ends.iter().enumerate() {
            let end = end as usize;
            if end - start == text.len() && &self.text[start..end] == text {
                found.push(i as u32);
            }
            start = end;
        }
        found
    }
    /// Whether any string contains `needle`.
    pub fn any_contains(&self, needle: &str) -> bool {
        self.text.contains(needle)
    }
    /// Every string with its index.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        (0..self.ends.len() as u32).map(|i| (i, self.get(i)))
    }
    pub fn push(&mut self, s: &str) -> u32 {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u64);
        (self.ends.len() - 1) as u32
    }
}

/// Positions of well-known node and edge types in meta's type lists (`u8::MAX`: absent).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Types {
    pub hidden: u8,
    pub array: u8,
    pub object: u8,
    pub native: u8,
    pub code: u8,
    pub closure: u8,
    pub regexp: u8,
    pub synthetic: u8,
    pub edge_element: u8,
    pub edge_hidden: u8,
    pub edge_internal: u8,
    pub edge_shortcut: u8,
    pub edge_weak: u8,
    pub edge_property: u8,
}

fn position(list: &[String], name: &str) -> u8 {
    list.iter()
        .position(|t| t == name)
        .map(|p| p as u8)
        .unwrap_or(u8::MAX)
}

impl Types {
    pub(crate) fn from_meta(meta: &Meta) -> Self {
        Types {
            hidden: position(&meta.node_types, "hidden"),
            array: position(&meta.node_types, "array"),
            object: position(&meta.node_types, "object"),
            native: position(&meta.node_types, "native"),
            code: position(&meta.node_types, "code"),
            closure: position(&meta.node_types, "closure"),
            regexp: position(&meta.node_types, "regexp"),
            synthetic: position(&meta.node_types, "synthetic"),
            edge_element: position(&meta.edge_types, "element"),
            edge_hidden: position(&meta.edge_types, "hidden"),
            edge_internal: position(&meta.edge_types, "internal"),
            edge_shortcut: position(&meta.edge_types, "shortcut"),
            edge_weak: position(&meta.edge_types, "weak"),
            edge_property: position(&meta.edge_types, "property"),
        }
    }
}

/// A parsed heap snapshot. Immutable once built; analyses live in [`super::Analysis`].
pub struct HeapSnapshot {
    pub(crate) node_types: Vec<String>,
    pub(crate) edge_types: Vec<String>,
    pub(crate) types: Types,
    /// Per edge type: its `name_or_index` is an index rather than a string.
    edge_is_indexed: Vec<bool>,
    pub(crate) shape: Arc<Shape>,
    /// The dominator tree being computed since the edges arrived; taken by the analysis.
    pub(crate) speculation: Mutex<Option<Speculating>>,
    /// Shallow sizes and distances computed while classes were named; taken by the analysis.
    pub(crate) prepared: Mutex<Option<super::analysis::Prepared>>,
    pub(crate) node_name: Vec<u32>,
    pub(crate) node_id: Vec<u32>,
    trace_node_id: Vec<u32>,
    pub(crate) detachedness: Vec<u8>,
    pub(crate) edge_name: Vec<u32>,
    pub(crate) strings: Strings,
    pub(crate) locations: Locations,
    trace_function_info_fields: Vec<String>,
    trace_function_infos: Vec<u32>,
    trace_tree: Vec<TraceNode>,
    /// (trace node id, index in `trace_tree`), sorted; built on first use.
    trace_index: std::sync::OnceLock<Vec<(u32, u32)>>,
    pub(crate) root: u32,
    extra_native_bytes: u64,
    pub(crate) class_of: Vec<u32>,
    pub(crate) classes: Vec<classes::Class>,
}

impl HeapSnapshot {
    pub(crate) fn from_parts(p: Parts, end: u64) -> Result<Self, Error> {
        let mut clock = super::Timings::start();
        let meta = p.meta;
        let node_count = p.shape.node_type.len();
        let node_field_count = meta.node_fields.len() as u64;
        let text = String::from_utf8(p.string_bytes)
            .map_err(|_| Error::format(Some(end), "the strings are not valid UTF-8"))?;
        let strings = Strings {
            text,
            ends: p.string_ends,
        };
        let string_count = strings.len() as u64;
        let edge_is_indexed = indexed_edge_types(&meta);
        let names_fit = p
            .largest_names
            .all_below(string_count, &p.node_name, &p.edge_name);
        let check = || {
            if names_fit {
                return Ok(());
            }
            check_string_indices(
                &p.node_name,
                &p.shape.edge_type,
                &p.edge_name,
                &edge_is_indexed,
                string_count,
                end,
            )
        };
        // Two independent passes over different columns: one thread each (when neither was
        // done while the strings arrived).
        let (checked, locations) = match p.locations {
            LocationsPart::Built(built) => (check(), Ok(built)),
            LocationsPart::Raw(raw) => std::thread::scope(|scope| {
                let locations =
                    scope.spawn(|| build_locations(&meta, &raw, node_field_count, node_count, end));
                let checked = check();
                let locations = locations
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (checked, locations)
            }),
        };
        checked?;
        if !meta.root_index.is_multiple_of(node_field_count)
            || meta.root_index / node_field_count >= node_count as u64
        {
            return Err(Error::format(
                Some(end),
                format!("snapshot.root_index {} is not a node", meta.root_index),
            ));
        }
        let root = (meta.root_index / node_field_count) as u32;
        let locations = locations?;
        clock.lap("checked names, locations");
        let types = Types::from_meta(&meta);
        if p.shape.root != root {
            return Err(Error::format(Some(end), "internal: the root moved"));
        }
        let mut snapshot = Self {
            node_types: meta.node_types,
            edge_types: meta.edge_types,
            types,
            edge_is_indexed,
            shape: p.shape,
            speculation: Mutex::new(p.speculation),
            prepared: Mutex::new(None),
            node_name: p.node_name,
            node_id: p.node_id,
            trace_node_id: p.trace_node_id,
            detachedness: p.detachedness,
            edge_name: p.edge_name,
            strings,
            locations,
            trace_function_info_fields: meta.trace_function_info_fields,
            trace_function_infos: p.trace_function_infos,
            trace_tree: p.trace_tree,
            trace_index: std::sync::OnceLock::new(),
            root,
            extra_native_bytes: meta.extra_native_bytes,
            class_of: Vec::new(),
            classes: Vec::new(),
        };
        classes::propagate_dom_state(&mut snapshot);
        // The analysis' shallow sizes and distances need names but not classes: computed
        // around the class names, for `Analysis::new` to take. On two cores, while the
        // dominator tree is still being computed, it has the other core: they then run one
        // after the other instead of side by side, which would only slow the tree down and
        // hold their working memory at the same time as its own.
        let dominators_running = snapshot
            .speculation
            .lock()
            .is_ok_and(|h| h.as_ref().is_some_and(|h| !h.thread.is_finished()));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let in_turn = dominators_running && cores <= 2;
        clock.lap("ready to name classes");
        let (prepared, (class_of, classes)) = super::analysis::prepare(&snapshot, in_turn, || {
            let mut clock = super::Timings::start();
            let classes = classes::assign(&snapshot);
            clock.lap("class names");
            classes
        });
        snapshot.prepared = Mutex::new(Some(prepared));
        snapshot.class_of = class_of;
        snapshot.classes = classes;
        Ok(snapshot)
    }

    /// Number of nodes; node ordinals are `0..node_count()`.
    pub fn node_count(&self) -> u32 {
        self.shape.node_type.len() as u32
    }
    /// Number of edges.
    pub fn edge_count(&self) -> u32 {
        self.shape.edge_to.len() as u32
    }
    /// The synthetic root's ordinal (0 in V8 snapshots).
    pub fn root(&self) -> u32 {
        self.root
    }
    /// `snapshot.extra_native_bytes`, 0 when absent.
    pub fn extra_native_bytes(&self) -> u64 {
        self.extra_native_bytes
    }
    /// The V8 object id: stable across snapshots of one isolate; odd for JS heap objects.
    pub fn node_id(&self, n: u32) -> u64 {
        self.node_id[n as usize] as u64
    }
    /// True for ids of JS heap objects, the ones that are stable between snapshots.
    pub fn is_odd_id(&self, n: u32) -> bool {
        self.node_id[n as usize] & 1 == 1
    }
    /// The node type's name from meta: `object`, `closure`, `string`, `hidden`, …
    pub fn node_type_name(&self, n: u32) -> &str {
        &self.node_types[self.shape.node_type[n as usize] as usize]
    }
    /// The node's raw name (constructor, function name, string content, …). Detached DOM
    /// nodes carry DevTools' `Detached ` prefix.
    pub fn node_name(&self, n: u32) -> &str {
        self.strings.get(self.node_name[n as usize])
    }
    /// The shallow size V8 reported. DevTools reassigns the size of arrays and hidden objects
    /// owned by one object to that owner; see [`super::Analysis::shallow_size`].
    pub fn self_size(&self, n: u32) -> u64 {
        self.shape.self_size.get(n)
    }
    /// DevTools' class name (the Summary view's constructor column): `Session`, `Map`,
    /// `Function`, `(string)`, `(array)`, `(system)`, `(compiled code)`, `{a, b}`, …
    pub fn class_name(&self, n: u32) -> &str {
        &self.classes[self.class_of[n as usize] as usize].name
    }
    /// The interned DevTools class of the node, `0..class_count()`. Objects whose constructors
    /// share a name but live at different source locations are different classes, as in DevTools.
    pub fn class_key(&self, n: u32) -> u32 {
        self.class_of[n as usize]
    }
    pub fn class_count(&self) -> u32 {
        self.classes.len() as u32
    }
    /// The name of an interned class.
    pub fn class_key_name(&self, class: u32) -> &str {
        &self.classes[class as usize].name
    }
    /// DevTools' public key of a class: `,Name`, or `script,line,column,Name` for objects whose
    /// constructor has a location. Comparable across snapshots.
    pub fn class_key_string(&self, class: u32) -> String {
        self.classes[class as usize].public_key()
    }
    /// Number of outgoing edges.
    pub fn edge_count_of(&self, n: u32) -> u32 {
        self.shape.first_edge[n as usize + 1] - self.shape.first_edge[n as usize]
    }
    /// Outgoing edges in snapshot order.
    pub fn edges(&self, n: u32) -> impl ExactSizeIterator<Item = Edge<'_>> + '_ {
        let range = self.shape.first_edge[n as usize]..self.shape.first_edge[n as usize + 1];
        range.map(move |e| self.edge(e))
    }
    /// One edge by ordinal.
    pub fn edge(&self, e: u32) -> Edge<'_> {
        let i = e as usize;
        let t = self.shape.edge_type[i] as usize;
        let name = if self.edge_is_indexed[t] {
            EdgeName::Index(self.edge_name[i])
        } else {
            EdgeName::Name(self.strings.get(self.edge_name[i]))
        };
        Edge {
            index: e,
            kind: &self.edge_types[t],
            name,
            target: self.shape.edge_to[i],
        }
    }
    /// The node that owns edge `e` (binary search over the edge offsets).
    pub fn edge_source(&self, e: u32) -> u32 {
        (self.shape.first_edge.partition_point(|&first| first <= e) - 1) as u32
    }
    /// Where the object's constructor or the function is defined, when V8 recorded it.
    pub fn location(&self, n: u32) -> Option<Location> {
        self.locations.get(n)
    }
    /// The allocation trace node id (0 when allocation tracking was off).
    pub fn trace_node_id(&self, n: u32) -> u32 {
        self.trace_node_id.get(n as usize).copied().unwrap_or(0)
    }
    /// The allocation call tree (empty when allocation tracking was off).
    pub fn trace_tree(&self) -> &[TraceNode] {
        &self.trace_tree
    }
    /// The allocation stack of a node, innermost frame first; empty when unknown.
    pub fn allocation_stack(&self, n: u32) -> Vec<AllocationFrame<'_>> {
        let id = self.trace_node_id(n);
        if id == 0 || self.trace_tree.is_empty() {
            return Vec::new();
        }
        let fields = &self.trace_function_info_fields;
        let field = |name: &str| fields.iter().position(|f| f == name);
        let width = fields.len().max(1);
        let (Some(f_name), Some(f_script), Some(f_script_id), Some(f_line), Some(f_column)) = (
            field("name"),
            field("script_name"),
            field("script_id"),
            field("line"),
            field("column"),
        ) else {
            return Vec::new();
        };
        let mut frames = Vec::new();
        let index = self.trace_index.get_or_init(|| {
            let mut index: Vec<(u32, u32)> = self
                .trace_tree
                .iter()
                .enumerate()
                .map(|(i, t)| (t.id, i as u32))
                .collect();
            index.sort_unstable();
            index
        });
        let Ok(found) = index.binary_search_by_key(&id, |&(id, _)| id) else {
            return frames;
        };
        let mut at = index[found].1 as usize;
        while at < self.trace_tree.len() && frames.len() < 1024 {
            let node = self.trace_tree[at];
            let base = node.function_info as usize * width;
            if let Some(info) = self.trace_function_infos.get(base..base + width) {
                frames.push(AllocationFrame {
                    function_name: self.strings.get(info[f_name]),
                    script_name: self.strings.get(info[f_script]),
                    script_id: info[f_script_id],
                    line: info[f_line],
                    column: info[f_column],
                });
            }
            at = node.parent as usize;
        }
        frames
    }
    /// All node type names from meta, in type-index order.
    pub fn node_type_names(&self) -> &[String] {
        &self.node_types
    }
    /// All edge type names from meta, in type-index order.
    pub fn edge_type_names(&self) -> &[String] {
        &self.edge_types
    }

    pub(crate) fn is_type(&self, n: u32, t: u8) -> bool {
        self.shape.node_type[n as usize] == t
    }
    pub(crate) fn edge_range(&self, n: u32) -> std::ops::Range<usize> {
        self.shape.first_edge[n as usize] as usize..self.shape.first_edge[n as usize + 1] as usize
    }
    /// The edge's name as a string (indices rendered as decimal), as DevTools' `edge.name()`.
    pub(crate) fn edge_name_string(&self, e: usize) -> std::borrow::Cow<'_, str> {
        if self.edge_is_indexed[self.shape.edge_type[e] as usize] {
            std::borrow::Cow::Owned(self.edge_name[e].to_string())
        } else {
            std::borrow::Cow::Borrowed(self.strings.get(self.edge_name[e]))
        }
    }
    pub(crate) fn edge_has_string_name(&self, e: usize) -> bool {
        !self.edge_is_indexed[self.shape.edge_type[e] as usize]
    }
}

/// Every node name and every string-named edge must name a string of the table.
fn check_string_indices(
    node_name: &[u32],
    edge_type: &[u8],
    edge_name: &[u32],
    edge_is_indexed: &[bool],
    string_count: u64,
    end: u64,
) -> Result<(), Error> {
    if let Some((n, &name)) = node_name
        .iter()
        .enumerate()
        .find(|(_, &s)| s as u64 >= string_count)
    {
        return Err(Error::format(
            Some(end),
            format!(
                "node {n} is named by string {name}, but \"strings\" holds only {string_count}"
            ),
        ));
    }
    for (e, (&t, &name)) in edge_type.iter().zip(edge_name).enumerate() {
        if !edge_is_indexed[t as usize] && name as u64 >= string_count {
            return Err(Error::format(
                Some(end),
                format!(
                    "edge {e} is named by string {name}, but \"strings\" holds only {string_count}"
                ),
            ));
        }
    }
    Ok(())
}

/// The constructor and function locations: per located node, an index into the distinct
/// places. Millions of objects share a few thousand constructors, so this takes 8 bytes per
/// located node instead of 16.
#[derive(Default)]
pub(crate) struct Locations {
    /// (node ordinal, index in `places`), sorted by node ordinal, one per node.
    by_node: Vec<(u32, u32)>,
    places: Vec<Location>,
}

impl Locations {
    pub fn get(&self, n: u32) -> Option<Location> {
        self.by_node
            .binary_search_by_key(&n, |&(node, _)| node)
            .ok()
            .map(|i| self.places[self.by_node[i].1 as usize])
    }
    /// (node ordinal, location) in node order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, Location)> + '_ {
        self.by_node
            .iter()
            .map(|&(node, place)| (node, self.places[place as usize]))
    }
}

/// Checks and compacts V8's `locations` array; `end` is the offset errors name.
pub(crate) fn build_locations(
    meta: &Meta,
    raw: &[u32],
    node_field_count: u64,
    node_count: usize,
    end: u64,
) -> Result<Locations, Error> {
    let fields = &meta.location_fields;
    if fields.is_empty() || raw.is_empty() {
        return Ok(Locations::default());
    }
    let field = |name: &str| {
        fields.iter().position(|f| f == name).ok_or_else(|| {
            Error::format(
                Some(end),
                format!("snapshot.meta.location_fields lacks \"{name}\""),
            )
        })
    };
    let (object, script, line, column) = (
        field("object_index")?,
        field("script_id")?,
        field("line")?,
        field("column")?,
    );
    let width = fields.len();
    if !raw.len().is_multiple_of(width) {
        return Err(Error::format(
            Some(end),
            "\"locations\" length is not a multiple of location_fields",
        ));
    }
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(raw.len() / width);
    let mut places: Vec<Location> = Vec::new();
    let mut place_of: super::FastMap<Location, u32> = super::FastMap::default();
    for entry in raw.chunks_exact(width) {
        let index = entry[object] as u64;
        if !index.is_multiple_of(node_field_count) || index / node_field_count >= node_count as u64
        {
            return Err(Error::format(
                Some(end),
                format!("a location refers to node index {index}, not a node"),
            ));
        }
        let location = Location {
            script_id: entry[script],
            line: entry[line],
            column: entry[column],
        };
        let place = *place_of.entry(location).or_insert_with(|| {
            places.push(location);
            (places.len() - 1) as u32
        });
        out.push(((index / node_field_count) as u32, place));
    }
    // V8 writes them in node order; otherwise sort, keeping (as DevTools does) the last location
    // given for a node.
    if !out.windows(2).all(|w| w[0].0 < w[1].0) {
        out.reverse();
        out.sort_by_key(|&(node, _)| node);
        out.dedup_by_key(|&mut (node, _)| node);
    }
    Ok(Locations {
        by_node: out,
        places,
    })
}

impl fmt::Debug for HeapSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeapSnapshot")
            .field("nodes", &self.node_count())
            .field("edges", &self.edge_count())
            .field("strings", &self.strings.len())
            .field("classes", &self.classes.len())
            .finish()
    }
}
