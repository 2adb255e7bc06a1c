//! [`Analysis`]: what DevTools computes once per snapshot — which edges retain, shallow sizes
//! after DevTools' ownership transfer, distances from the roots (with the parent edge of each
//! node on a shortest path), the dominator tree (iterative Semi-NCA, giving DevTools' tree) and
//! retained sizes.

use super::dominators::{dominators, DominatorTree};
use super::graph::{Shape, Speculation};
use super::sizes::Sizes;
use super::FastMap;
use super::HeapSnapshot;
use super::{bit, set_bit};
use regex::Regex;
use std::collections::HashSet;

/// Distance of nodes reachable only from system (non-user) roots starts here, as in DevTools.
pub const BASE_SYSTEM_DISTANCE: u32 = 100_000_000;
/// Distance of a node no root reaches.
pub const NO_DISTANCE: u32 = u32::MAX;
const NONE: u32 = u32::MAX;

/// Everything computed over the whole graph once. Node ordinals as in [`HeapSnapshot`].
pub struct Analysis {
    shallow: Sizes,
    distance: Vec<u32>,
    parent_edge: Vec<u32>,
    tree: DominatorTree,
    retained: Vec<u64>,
}

impl Analysis {
    pub fn new(s: &HeapSnapshot) -> Self {
        let mut clock = super::Timings::start();
        // Usually the snapshot prepared distances (and shallow sizes, unless the early
        // speculation has them) while naming classes, and the dominator tree, shallow and
        // retained sizes were speculated while the strings arrived.
        let prepared = s.prepared.lock().ok().and_then(|mut p| p.take());
        let prepared = match prepared {
            Some(prepared) => prepared,
            None => prepare(s),
        };
        let early = s.speculation.lock().ok().and_then(|mut h| h.take());
        let early = early.and_then(|handle| handle.join().ok());
        clock.lap("waited for the early dominator tree");
        let Prepared {
            ephemerons,
            shallow,
            distance,
            parent_edge,
        } = prepared;
        let early_tree_holds = !names_matter(s, &ephemerons);
        let (shallow, early) = match (shallow, early) {
            (Some(shallow), early) => (shallow, early.map(|e| (e.tree, None))),
            // prepare() left shallow sizes to the speculation, which exists.
            (None, Some(e)) => (e.shallow, Some((e.tree, Some(e.retained)))),
            (None, None) => (shallow_sizes(s), None),
        };
        let (tree, retained) = match early {
            Some((tree, Some(retained))) if early_tree_holds => (tree, retained),
            Some((tree, None)) if early_tree_holds => {
                let retained = retained_sizes(&shallow, &tree);
                (tree, retained)
            }
            _ => {
                let tree = dominator_tree(s, &ephemerons);
                let retained = retained_sizes(&shallow, &tree);
                (tree, retained)
            }
        };
        clock.lap("analysis");
        Self {
            shallow,
            distance,
            parent_edge,
            tree,
            retained,
        }
    }

    /// The node's shallow size as DevTools shows it: arrays and hidden objects owned by exactly
    /// one object are counted in that object's size and show 0 themselves.
    pub fn shallow_size(&self, n: u32) -> u64 {
        self.shallow.get(n)
    }
    /// Size of everything the node keeps alive alone (its dominator subtree), shallow sizes.
    pub fn retained_size(&self, n: u32) -> u64 {
        self.retained[n as usize]
    }
    /// Immediate dominator (the root is its own).
    pub fn dominator(&self, n: u32) -> u32 {
        self.tree.dominator(n)
    }
    pub(crate) fn dominator_tree(&self) -> &DominatorTree {
        &self.tree
    }
    /// DevTools' distance: 1 for user roots (the global object), +1 per edge;
    /// `BASE_SYSTEM_DISTANCE + k` for nodes reachable only from system roots; `NO_DISTANCE` if
    /// unreachable.
    pub fn distance(&self, n: u32) -> u32 {
        self.distance[n as usize]
    }
    /// A root reaches the node through non-weak edges.
    pub fn is_reachable(&self, n: u32) -> bool {
        self.distance[n as usize] != NO_DISTANCE
    }
    /// A user root (the global object) reaches the node, not only V8 internals.
    pub fn is_user_reachable(&self, n: u32) -> bool {
        self.distance[n as usize] < BASE_SYSTEM_DISTANCE
    }
    /// The edge through which a shortest retainer path (user roots first) reaches the node;
    /// `None` for the root and unreachable nodes.
    pub fn parent_edge(&self, n: u32) -> Option<u32> {
        let e = self.parent_edge[n as usize];
        (e != NONE).then_some(e)
    }
}

/// The analysis' name-dependent parts that need no class names: computed by the snapshot while
/// it names classes, taken by [`Analysis::new`].
pub(crate) struct Prepared {
    ephemerons: Ephemerons,
    /// None when the early speculation's shallow sizes are to be used.
    shallow: Option<Sizes>,
    distance: Vec<u32>,
    parent_edge: Vec<u32>,
}

/// Shallow sizes (unless the early speculation has them right) and distances, each on a
/// thread.
pub(crate) fn prepare(s: &HeapSnapshot) -> Prepared {
    let speculated =
        s.speculation.lock().is_ok_and(|h| h.is_some()) && shallow_speculation_holds(s);
    std::thread::scope(|scope| {
        let shallow = scope.spawn(|| {
            if speculated {
                return None;
            }
            let mut clock = super::Timings::start();
            let shallow = shallow_sizes(s);
            clock.lap("shallow sizes (own thread)");
            Some(shallow)
        });
        let mut clock = super::Timings::start();
        let ephemerons = Ephemerons::new(s);
        clock.lap("ephemeron edges");
        let (distance, parent_edge) = distances(s, &ephemerons);
        clock.lap("distances");
        let shallow = shallow
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        Prepared {
            ephemerons,
            shallow,
            distance,
            parent_edge,
        }
    })
}

/// Whether a DevTools rule that needs names changes the dominator tree: a WeakMap table edge
/// or a `(Document DOM trees)` root. Without one, the tree computed early is DevTools' own.
fn names_matter(s: &HeapSnapshot, ephemerons: &Ephemerons) -> bool {
    let t = s.types;
    ephemerons.has_table_edges
        || s.shape.edge_range(s.root).any(|e| {
            s.shape.edge_type[e] == t.edge_element && is_dom_trees_root(s, s.shape.edge_to[e])
        })
}

fn is_dom_trees_root(s: &HeapSnapshot, n: u32) -> bool {
    s.is_type(n, s.types.synthetic) && s.node_name(n) == "(Document DOM trees)"
}

/// The dominator tree with every DevTools rule, names included.
fn dominator_tree(s: &HeapSnapshot, ephemerons: &Ephemerons) -> DominatorTree {
    let mut clock = super::Timings::start();
    let is_table_edge = |v: u32, e: usize| {
        ephemerons
            .get(s.edge_name[e])
            .is_some_and(|(table, _)| s.node_id[v as usize] as u64 == table)
    };
    let g = &*s.shape;
    let page_owned = page_owned_nodes(g, |n| is_dom_trees_root(s, n));
    let tree = dominators(g, essential_edge_rule(g, &page_owned, is_table_edge));
    clock.lap("dominators (again, with the rules that need names)");
    tree
}

/// Recognises V8's WeakMap entry edges:
/// `N / part of key (K @id) -> value (V @id) pair in WeakMap (table @id)`.
pub(crate) struct Ephemerons {
    /// Per string index: (table id, byte offset of the part after the leading number).
    matches: FastMap<u32, (u64, usize)>,
    /// Per string index: is an ephemeron edge name.
    is_match: Vec<bool>,
    /// Some ephemeron edge leaves its table (DevTools then drops it from the dominator tree).
    has_table_edges: bool,
}

impl Ephemerons {
    fn new(s: &HeapSnapshot) -> Self {
        // As DevTools' regex, with ASCII digits for `\d`.
        let re = Regex::new(
            r"^[0-9]+( / part of key \(.*? @[0-9]+\) -> value \(.*? @[0-9]+\) pair in WeakMap \(table @([0-9]+)\))$",
        )
        .expect("the ephemeron pattern is valid");
        let mut is_match = Vec::new();
        let mut matches: FastMap<u32, (u64, usize)> = FastMap::default();
        let mut has_table_edges = false;
        // One search of the string table first: most snapshots have no WeakMap entries, and
        // then no edge needs looking at.
        const MARK: &str = "pair in WeakMap";
        if s.strings.any_contains(MARK) {
            is_match = vec![false; s.strings.len()];
            for (name, text) in s.strings.iter() {
                if !text.contains(MARK) {
                    continue;
                }
                if let Some(c) = re.captures(text) {
                    let table = c
                        .get(2)
                        .map(|m| m.as_str().parse::<u64>().unwrap_or(u64::MAX))
                        .unwrap_or(u64::MAX);
                    let start = c.get(1).map(|m| m.start()).unwrap_or(0);
                    matches.insert(name, (table, start));
                    is_match[name as usize] = true;
                }
            }
        }
        if !matches.is_empty() {
            let internal = s.types.edge_internal;
            has_table_edges = (0..s.node_count()).any(|v| {
                s.edge_range(v).any(|e| {
                    let name = s.edge_name[e];
                    s.shape.edge_type[e] == internal
                        && is_match[name as usize]
                        && matches
                            .get(&name)
                            .is_some_and(|&(table, _)| s.node_id[v as usize] as u64 == table)
                })
            });
        }
        Self {
            matches,
            is_match,
            has_table_edges,
        }
    }
    #[inline]
    fn get(&self, name: u32) -> Option<(u64, usize)> {
        if !self.is_match.get(name as usize).copied().unwrap_or(false) {
            return None;
        }
        self.matches.get(&name).copied()
    }
}

/// DevTools' user roots: the root's children that are not synthetic, plus `(Document DOM trees)`.
fn is_user_root(s: &HeapSnapshot, n: u32) -> bool {
    !s.is_type(n, s.types.synthetic) || s.node_name(n) == "(Document DOM trees)"
}

/// DevTools' `markPageOwnedNodes`: everything reachable, over non-weak edges, from the root's
/// shortcut edges (the global objects) and DOM tree roots.
fn page_owned_nodes(g: &Shape, is_dom_trees_root: impl Fn(u32) -> bool) -> Vec<bool> {
    let t = g.types;
    let mut owned = vec![false; g.node_count() as usize];
    let mut stack: Vec<u32> = Vec::new();
    for e in g.edge_range(g.root) {
        let target = g.edge_to[e];
        let kind = g.edge_type[e];
        if kind == t.edge_element {
            if !is_dom_trees_root(target) {
                continue;
            }
        } else if kind != t.edge_shortcut {
            continue;
        }
        stack.push(target);
        owned[target as usize] = true;
    }
    while let Some(v) = stack.pop() {
        for e in g.edge_range(v) {
            let child = g.edge_to[e];
            if owned[child as usize] || g.edge_type[e] == t.edge_weak {
                continue;
            }
            owned[child as usize] = true;
            stack.push(child);
        }
    }
    owned
}

/// DevTools' `computeIsEssentialEdge`: whether edge `e` of node `v` can retain its target.
fn essential_edge_rule<'a>(
    g: &'a Shape,
    page_owned: &'a [bool],
    is_table_edge: impl Fn(u32, usize) -> bool + 'a,
) -> impl Fn(u32, usize) -> bool + 'a {
    let t = g.types;
    move |v, e| {
        let kind = g.edge_type[e];
        if kind == t.edge_weak {
            return false;
        }
        if kind == t.edge_internal && is_table_edge(v, e) {
            return false;
        }
        let child = g.edge_to[e];
        if child == v {
            return false;
        }
        if v == g.root {
            return true;
        }
        // Below the root, shortcuts never retain, nor does an edge into the page's objects
        // from outside them.
        let enters_page = page_owned[child as usize] && !page_owned[v as usize];
        kind != t.edge_shortcut && !enters_page
    }
}

/// The dominator tree from the structure alone (see [`Speculation`]); run while the strings of
/// a snapshot are still arriving.
pub(crate) fn speculate(g: &Shape) -> Speculation {
    let mut clock = super::Timings::start();
    let page_owned = page_owned_nodes(g, |_| false);
    let tree = dominators(g, essential_edge_rule(g, &page_owned, |_, _| false));
    drop(page_owned);
    clock.lap("early: dominator tree (own thread)");
    // Without `(Document DOM trees)`, the user roots are the root's non-synthetic children.
    let synthetic = g.types.synthetic;
    let shallow = shallow_sizes_of(g, |v| g.node_type[v as usize] != synthetic, |_| false);
    let retained = retained_sizes(&shallow, &tree);
    clock.lap("early: shallow and retained sizes (own thread)");
    Speculation {
        tree,
        shallow,
        retained,
    }
}

/// Whether the speculative shallow sizes are DevTools' own: no node can be named by the two
/// strings their rules look for.
fn shallow_speculation_holds(s: &HeapSnapshot) -> bool {
    s.strings.indices_of("(Document DOM trees)").is_empty()
        && s.strings
            .indices_of("system / ExternalStringData")
            .is_empty()
}

/// DevTools' `calculateShallowSizes`: arrays, hidden objects and external string data reachable
/// from exactly one other object are charged to that object.
fn shallow_sizes(s: &HeapSnapshot) -> Sizes {
    let external = s.strings.indices_of("system / ExternalStringData");
    shallow_sizes_of(
        &s.shape,
        |v| is_user_root(s, v),
        |v| external.contains(&s.node_name[v as usize]),
    )
}

/// [`shallow_sizes`] over the structure, with the two name-dependent questions as closures.
fn shallow_sizes_of(
    g: &Shape,
    is_user_root: impl Fn(u32) -> bool,
    is_external_string_data: impl Fn(u32) -> bool,
) -> Sizes {
    let mut sizes = g.self_size.clone();
    let has_user_roots = g.edge_range(g.root).any(|e| is_user_root(g.edge_to[e]));
    if !has_user_roots {
        return sizes;
    }
    const UNVISITED: u32 = u32::MAX;
    const MULTIPLE: u32 = u32::MAX - 1;
    let t = g.types;
    let n = g.node_count() as usize;
    let mut owners = vec![0u32; n];
    let mut worklist: Vec<u32> = Vec::with_capacity(n);
    for (v, &ty) in g.node_type.iter().enumerate() {
        if ty == t.hidden || ty == t.array || (ty == t.native && is_external_string_data(v as u32))
        {
            owners[v] = UNVISITED;
        } else {
            owners[v] = v as u32;
            worklist.push(v as u32);
        }
    }
    while let Some(v) = worklist.pop() {
        let owner = owners[v as usize];
        for e in g.edge_range(v) {
            if g.edge_type[e] == t.edge_weak {
                continue;
            }
            let target = g.edge_to[e];
            let current = owners[target as usize];
            if current == UNVISITED {
                owners[target as usize] = owner;
                worklist.push(target);
            } else if current == target || current == owner || current == MULTIPLE {
            } else {
                owners[target as usize] = MULTIPLE;
                worklist.push(target);
            }
        }
    }
    for (v, &owner) in (0..n as u32).zip(&owners) {
        if owner == UNVISITED || owner == MULTIPLE || owner == v {
            continue;
        }
        if g.node_type[owner as usize] == t.synthetic || owner == g.root {
            continue;
        }
        let moved = sizes.get(v);
        sizes.set(v, 0);
        sizes.set(owner, sizes.get(owner) + moved);
    }
    sizes
}

/// JavaScript's `parseInt(text, 10)`: leading whitespace, a sign, then digits; None for NaN.
fn js_parse_int(text: &str) -> Option<i64> {
    let t = text.trim_start();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits.bytes().take_while(u8::is_ascii_digit).count();
    if end == 0 {
        return None;
    }
    let value = digits[..end].bytes().fold(0i64, |acc, d| {
        acc.saturating_mul(10).saturating_add((d - b'0') as i64)
    });
    Some(if negative { -value } else { value })
}

/// DevTools' `calculateDistances` (JS flavour, with its edge filter), recording the parent edge
/// through which each node was first reached.
fn distances(s: &HeapSnapshot, ephemerons: &Ephemerons) -> (Vec<u32>, Vec<u32>) {
    let n = s.node_count() as usize;
    let t = s.types;
    let mut distance = vec![NO_DISTANCE; n];
    let mut parent = vec![NONE; n];
    let mut queue: Vec<u32> = Vec::with_capacity(n);
    // WeakMap entry edges come in pairs (from the table, from the key) whose names differ only
    // in the leading number; the first of a pair met is skipped, as DevTools does.
    let mut pending_text: HashSet<String> = HashSet::new();

    // The filter runs for every edge that reaches a new node: it compares string indices.
    let native_context = s.strings.indices_of("system / NativeContext");
    let sloppy_function_map = s.strings.indices_of("sloppy_function_map");
    let map_descriptors = s.strings.indices_of("(map descriptors)");
    let mut filter = |v: u32, e: usize| -> bool {
        let ty = s.shape.node_type[v as usize];
        if ty == t.hidden
            && s.edge_has_string_name(e)
            && sloppy_function_map.contains(&s.edge_name[e])
            && native_context.contains(&s.node_name[v as usize])
        {
            return false;
        }
        if ty == t.array && map_descriptors.contains(&s.node_name[v as usize]) {
            return match js_parse_int(&s.edge_name_string(e)) {
                Some(index) => index < 2 || index % 3 != 1,
                None => true,
            };
        }
        if s.shape.edge_type[e] == t.edge_internal {
            if let Some((_, start)) = ephemerons.get(s.edge_name[e]) {
                let suffix = &s.strings.get(s.edge_name[e])[start..];
                if !pending_text.remove(suffix) {
                    pending_text.insert(suffix.to_owned());
                    return false;
                }
            }
        }
        true
    };

    // Which nodes have a distance, as bits: every edge's target is tested, and these stay in
    // the core's cache where `distance` would not.
    let mut reached = vec![0u64; n.div_ceil(64)];
    let mut bfs = |queue: &mut Vec<u32>,
                   distance: &mut Vec<u32>,
                   parent: &mut Vec<u32>,
                   reached: &mut Vec<u64>| {
        let mut head = 0;
        while head < queue.len() {
            let v = queue[head];
            head += 1;
            let d = distance[v as usize].wrapping_add(1);
            for e in s.edge_range(v) {
                if s.shape.edge_type[e] == t.edge_weak {
                    continue;
                }
                let child = s.shape.edge_to[e];
                if bit(reached, child as usize) || !filter(v, e) {
                    continue;
                }
                set_bit(reached, child as usize);
                distance[child as usize] = d;
                parent[child as usize] = e as u32;
                queue.push(child);
            }
        }
    };

    let mut user_roots = 0;
    for e in s.edge_range(s.root) {
        let child = s.shape.edge_to[e];
        if is_user_root(s, child) {
            set_bit(&mut reached, child as usize);
            distance[child as usize] = 1;
            parent[child as usize] = e as u32;
            queue.push(child);
            user_roots += 1;
        }
    }
    bfs(&mut queue, &mut distance, &mut parent, &mut reached);
    distance[s.root as usize] = if user_roots > 0 {
        BASE_SYSTEM_DISTANCE
    } else {
        0
    };
    parent[s.root as usize] = NONE;
    set_bit(&mut reached, s.root as usize);
    queue.clear();
    queue.push(s.root);
    bfs(&mut queue, &mut distance, &mut parent, &mut reached);
    (distance, parent)
}

/// Sums shallow sizes up the dominator tree, children before their dominators.
fn retained_sizes(sizes: &Sizes, tree: &DominatorTree) -> Vec<u64> {
    let mut retained: Vec<u64> = (0..sizes.len() as u32).map(|v| sizes.get(v)).collect();
    for &v in tree.preorder().iter().skip(1).rev() {
        let d = tree.dominator(v) as usize;
        retained[d] += retained[v as usize];
    }
    retained
}

#[cfg(test)]
mod tests {
    use super::js_parse_int;

    #[test]
    fn parse_int_follows_javascript() {
        assert_eq!(js_parse_int("12"), Some(12));
        assert_eq!(js_parse_int(" 7abc"), Some(7));
        assert_eq!(js_parse_int("-4"), Some(-4));
        assert_eq!(js_parse_int("abc"), None);
        assert_eq!(js_parse_int(""), None);
    }
}
