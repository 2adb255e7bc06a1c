//! Retainer paths: how a GC root keeps a node alive, along the shortest path DevTools' distance
//! BFS found (user roots such as the global object preferred over V8's system roots).
//!
//! A path renders as a `Vec<String>` whose items alternate node labels and edge labels, from the
//! first object below the synthetic root to the node itself:
//! `["global", "cache (property)", "Map", "table (internal)", "(array)", "17 (internal)",
//!   "Session"]` (a `Map` entry), or `[…, "list (property)", "Array", "elements (internal)",
//!   "(object elements)", "[17] (element)", "Session"]` (an array element).
//! - a node label is its DevTools class name for objects (`Session`, `Map`, `{a, b}`), the name
//!   for synthetic, hidden, code and array nodes (`(GC roots)`, `system / Context`; the class
//!   name such as `(array)` when that name is empty), `name()` for
//!   functions, and the quoted text (cut at 40 characters) for strings;
//! - an edge label is `name (kind)` with `[index]` for element and hidden edges:
//!   `cache (property)`, `[17] (element)`, `table (internal)`, `x (context)`.
//!
//! An unreachable node, and the root itself, have an empty path.

use super::graph::EdgeName;
use super::{Analysis, HeapSnapshot};

/// The edges of the node's retainer path, from the root's edge to the edge into the node.
pub fn retainer_path_edges(s: &HeapSnapshot, a: &Analysis, n: u32) -> Vec<u32> {
    let mut edges = Vec::new();
    let mut v = n;
    while let Some(e) = a.parent_edge(v) {
        edges.push(e);
        v = s.edge_source(e);
        if edges.len() > s.node_count() as usize {
            break;
        }
    }
    edges.reverse();
    edges
}

/// The node's retainer path rendered as described in the module docs.
pub fn retainer_path(s: &HeapSnapshot, a: &Analysis, n: u32) -> Vec<String> {
    let edges = retainer_path_edges(s, a, n);
    let mut steps = Vec::with_capacity(edges.len() * 2);
    for (i, &e) in edges.iter().enumerate() {
        let edge = s.edge(e);
        if i > 0 {
            steps.push(edge_label(s, e));
        }
        steps.push(node_label(s, edge.target));
    }
    steps
}

/// A node as one path step.
pub fn node_label(s: &HeapSnapshot, n: u32) -> String {
    match s.node_type_name(n) {
        "closure" => {
            let name = s.node_name(n);
            if name.is_empty() {
                "(anonymous)()".to_owned()
            } else {
                format!("{name}()")
            }
        }
        "string" | "concatenated string" | "sliced string" => {
            let text = s.node_name(n);
            let mut cut: String = text.chars().take(40).collect();
            if cut.len() < text.len() {
                cut.push('…');
            }
            format!("\"{cut}\"")
        }
        "synthetic" | "hidden" | "code" | "array" | "number" | "symbol" | "bigint"
        | "object shape" => match s.node_name(n) {
            "" => s.class_name(n).to_owned(),
            name => name.to_owned(),
        },
        _ => s.class_name(n).to_owned(),
    }
}

/// An edge as one path step.
pub fn edge_label(s: &HeapSnapshot, e: u32) -> String {
    let edge = s.edge(e);
    match edge.name {
        EdgeName::Index(i) => format!("[{i}] ({})", edge.kind),
        EdgeName::Name(name) => format!("{name} ({})", edge.kind),
    }
}
