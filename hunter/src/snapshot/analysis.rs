//! [`Analysis`]: what DevTools computes once per snapshot — which edges retain, shallow sizes
//! after DevTools' ownership transfer, distances from the roots (with the parent edge of each
//! node on a shortest path), the dominator tree (iterative Semi-NCA, giving DevTools' tree) and
//! retained sizes.

use super::dominators::{dominators, DominatorTree};
use super::graph::{EarlySizes, Shape, Speculation};
use super::sizes::Sizes;
use super::FastMap;
use super::HeapSnapshot;
use super::{bit, set_bit, SpareColumns};
use regex::Regex;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// Distance of nodes reachable only from system (non-user) roots starts here, as in DevTools.
pub const BASE_SYSTEM_DISTANCE: u32 = 100_000_000;
/// Distance of a node no root reaches.
pub const NO_DISTANCE: u32 = u32::MAX;
const NONE: u32 = u32::MAX;

/// Everything computed over the whole graph once. Node ordinals as in [`HeapSnapshot`].
pub struct Analysis {
    shallow: Arc<Sizes>,
    distances: Distances,
    tree: DominatorTree,
    retained: Sizes,
}

impl Analysis {
    pub fn new(s: &HeapSnapshot) -> Self {
        let mut clock = super::Timings::start();
        // Usually the snapshot prepared distances (and shallow sizes, unless the early
        // speculation has them) around naming classes, and the dominator tree, retained sizes
        // (and, in a stream, shallow sizes and distances) were speculated meanwhile.
        let prepared = s.prepared.lock().ok().and_then(|mut p| p.take());
        let prepared = match prepared {
            Some(prepared) => prepared,
            None => prepare(s, false, || ()).0,
        };
        let Prepared {
            ephemerons,
            shallow,
            distances,
            early,
            ..
        } = prepared;
        let early = early.or_else(|| {
            let handle = s.speculation.lock().ok().and_then(|mut h| h.take());
            handle.and_then(|handle| handle.thread.join().ok())
        });
        clock.lap("waited for the early dominator tree");
        let early_tree_holds = !names_matter(s, &ephemerons);
        // The speculation's retained sizes count only if summed from the shallow sizes used.
        let (shallow, early) = match (shallow, early) {
            (Some(shallow), Some(e)) => {
                let retained = match e.sizes {
                    EarlySizes::FromShared {
                        shallow: summed,
                        retained,
                    } if Arc::ptr_eq(&summed, &shallow) => Some(retained),
                    _ => None,
                };
                (shallow, Some((e.tree, retained)))
            }
            (Some(shallow), None) => (shallow, None),
            // prepare() left shallow sizes to the speculation.
            (None, Some(e)) => match e.sizes {
                EarlySizes::Own { shallow, retained } => {
                    (Arc::new(shallow), Some((e.tree, Some(retained))))
                }
                _ => (Arc::new(shallow_sizes(s)), Some((e.tree, None))),
            },
            (None, None) => (Arc::new(shallow_sizes(s)), None),
        };
        let (tree, retained) = match early {
            Some((tree, Some(retained))) if early_tree_holds => (tree, retained),
            Some((tree, None)) if early_tree_holds => {
                let retained = retained_sizes(&shallow, &tree, Vec::new());
                (tree, retained)
            }
            _ => {
                let tree = dominator_tree(s, &ephemerons);
                let retained = retained_sizes(&shallow, &tree, Vec::new());
                (tree, retained)
            }
        };
        clock.lap("analysis");
        Self {
            shallow,
            distances,
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
        self.retained.get(n)
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
        self.distances.distance[n as usize]
    }
    /// A root reaches the node through non-weak edges.
    pub fn is_reachable(&self, n: u32) -> bool {
        self.distances.distance[n as usize] != NO_DISTANCE
    }
    /// A user root (the global object) reaches the node, not only V8 internals.
    pub fn is_user_reachable(&self, n: u32) -> bool {
        self.distances.distance[n as usize] < BASE_SYSTEM_DISTANCE
    }
    /// The edge through which a shortest retainer path (user roots first) reaches the node;
    /// `None` for the root and unreachable nodes.
    pub fn parent_edge(&self, n: u32) -> Option<u32> {
        let e = self.distances.parent_edge[n as usize];
        (e != NONE).then_some(e)
    }
}

/// The analysis' name-dependent parts that need no class names: computed by the snapshot while
/// it names classes, taken by [`Analysis::new`].
pub(crate) struct Prepared {
    ephemerons: Ephemerons,
    /// None when the early speculation's shallow sizes are to be used.
    shallow: Option<Arc<Sizes>>,
    distances: Distances,
    /// The distances are those speculated while the strings arrived (read by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) distances_were_early: bool,
    /// The speculation, when it had finished by the time the names were known.
    early: Option<Speculation>,
}

/// Shallow sizes (unless the early speculation has them right) and distances (unless the early
/// speculation has them right), around `name_classes`, which this thread runs. With `in_turn`,
/// all three one after the other on this thread (the dominator tree has the other core): the
/// shallow sizes first, shared for the tree's thread to sum retained sizes from, and the
/// distances last, as late as they can start. Otherwise each on a thread.
pub(crate) fn prepare<T>(
    s: &HeapSnapshot,
    in_turn: bool,
    name_classes: impl FnOnce() -> T,
) -> (Prepared, T) {
    // Early work that is over (in a stream, it ended while the strings arrived) is joined now,
    // for the distances it may hold; work still running is left to `Analysis::new`, unless
    // this thread claims its shallow sizes first: they do not need the tree, and in a file the
    // dominator tree is still running, the longest step.
    let (mut early, claim, speculation_has_shallow) = match s.speculation.lock() {
        Ok(mut slot) if slot.as_ref().is_some_and(|h| h.thread.is_finished()) => {
            let early = slot.take().and_then(|h| h.thread.join().ok());
            let has_shallow = early
                .as_ref()
                .is_some_and(|e| matches!(e.sizes, EarlySizes::Own { .. }));
            (early, None, has_shallow)
        }
        Ok(slot) => match slot.as_ref().map(|h| h.shallow_sizes.claim()) {
            Some(ClaimOutcome::Claimed(claim)) => (None, Some(claim), false),
            Some(ClaimOutcome::SpeculationHasThem) => (None, None, true),
            Some(ClaimOutcome::AlreadySettled) | None => (None, None, false),
        },
        Err(_) => (None, None, false),
    };
    let speculated = speculation_has_shallow && shallow_speculation_holds(s);
    let early_distances = early.as_mut().and_then(|e| e.distances.take());
    let compute_shallow = move || {
        if speculated {
            return None;
        }
        let mut clock = super::Timings::start();
        let shallow = Arc::new(shallow_sizes(s));
        if let Some(claim) = claim {
            claim.share(Arc::clone(&shallow));
        }
        clock.lap("shallow sizes");
        Some(shallow)
    };
    let compute_distances = || {
        let mut clock = super::Timings::start();
        let ephemerons = Ephemerons::new(s);
        clock.lap("ephemeron edges");
        let early_distances =
            early_distances.filter(|d| speculated_distances_hold(s, &ephemerons, d));
        let distances_were_early = early_distances.is_some();
        let distances = match early_distances {
            Some(early) => {
                clock.lap("distances (checked the early ones)");
                early
            }
            None => {
                let distances = distances(s, &ephemerons);
                clock.lap("distances");
                distances
            }
        };
        (ephemerons, distances, distances_were_early)
    };
    // A panic in any of them is a bug: it goes on up rather than leaving the work to
    // `Analysis::new` unnoticed.
    let (shallow, classes, (ephemerons, distances, distances_were_early)) = if in_turn {
        let shallow = compute_shallow();
        let classes = name_classes();
        (shallow, classes, compute_distances())
    } else {
        std::thread::scope(|scope| {
            let shallow = scope.spawn(compute_shallow);
            let distances = scope.spawn(compute_distances);
            let classes = name_classes();
            let shallow = shallow
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            let distances = distances
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (shallow, classes, distances)
        })
    };
    let prepared = Prepared {
        ephemerons,
        shallow,
        distances,
        distances_were_early,
        early,
    };
    (prepared, classes)
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
    let tree = dominators(
        g,
        essential_edge_rule(g, &page_owned, is_table_edge),
        &mut SpareColumns::default(),
    );
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
/// As bits: the essential-edge rule tests two nodes per edge, and bits stay in the core's cache.
fn page_owned_nodes(g: &Shape, is_dom_trees_root: impl Fn(u32) -> bool) -> Vec<u64> {
    let t = g.types;
    let mut owned = vec![0u64; (g.node_count() as usize).div_ceil(64)];
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
        set_bit(&mut owned, target as usize);
    }
    while let Some(v) = stack.pop() {
        for e in g.edge_range(v) {
            let child = g.edge_to[e];
            if bit(&owned, child as usize) || g.edge_type[e] == t.edge_weak {
                continue;
            }
            set_bit(&mut owned, child as usize);
            stack.push(child);
        }
    }
    owned
}

/// DevTools' `computeIsEssentialEdge`: whether edge `e` of node `v` can retain its target.
fn essential_edge_rule<'a>(
    g: &'a Shape,
    page_owned: &'a [u64],
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
        let enters_page = bit(page_owned, child as usize) && !bit(page_owned, v as usize);
        kind != t.edge_shortcut && !enters_page
    }
}

/// The shallow sizes between the speculation and the snapshot. Whichever comes for them first
/// computes them: in a stream, the speculation, whose tree is done while the strings arrive; in
/// a file, the snapshot, while the tree is still being computed. The snapshot then shares them,
/// and the speculation, once its tree is done, waits for them and sums retained sizes.
#[derive(Default)]
pub(crate) struct ShallowSizesHandoff {
    state: Mutex<Handoff>,
    changed: Condvar,
}

#[derive(Default)]
enum Handoff {
    #[default]
    Open,
    TakenBySpeculation,
    ClaimedBySnapshot,
    Shared(Arc<Sizes>),
    /// The snapshot claimed them and then did not share them (it panicked).
    GivenUp,
}

/// What the speculation does about the shallow sizes once its tree is done.
enum SpeculationTurn {
    Compute,
    SumFrom(Arc<Sizes>),
    Skip,
}

impl ShallowSizesHandoff {
    fn state(&self) -> std::sync::MutexGuard<'_, Handoff> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// For the snapshot: the right to compute the shallow sizes, unless the speculation took it
    /// (or an earlier claim settled them).
    pub(crate) fn claim(self: &Arc<Self>) -> ClaimOutcome {
        let mut state = self.state();
        match *state {
            Handoff::Open => {
                *state = Handoff::ClaimedBySnapshot;
                ClaimOutcome::Claimed(ShallowSizesClaim(Some(Arc::clone(self))))
            }
            Handoff::TakenBySpeculation => ClaimOutcome::SpeculationHasThem,
            Handoff::ClaimedBySnapshot | Handoff::Shared(_) | Handoff::GivenUp => {
                ClaimOutcome::AlreadySettled
            }
        }
    }

    /// For the speculation: computes them if the snapshot has not claimed them, else waits until
    /// it shares them (it computes them right after claiming them).
    fn speculation_turn(&self) -> SpeculationTurn {
        let mut state = self.state();
        loop {
            match &*state {
                Handoff::Open => {
                    *state = Handoff::TakenBySpeculation;
                    return SpeculationTurn::Compute;
                }
                Handoff::ClaimedBySnapshot => {
                    state = self
                        .changed
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                Handoff::Shared(shallow) => return SpeculationTurn::SumFrom(Arc::clone(shallow)),
                Handoff::TakenBySpeculation | Handoff::GivenUp => return SpeculationTurn::Skip,
            }
        }
    }

    fn settle(&self, outcome: Handoff) {
        *self.state() = outcome;
        self.changed.notify_all();
    }
}

/// What [`ShallowSizesHandoff::claim`] found.
pub(crate) enum ClaimOutcome {
    Claimed(ShallowSizesClaim),
    SpeculationHasThem,
    /// An earlier claim (an earlier analysis of the same snapshot) took them.
    AlreadySettled,
}

/// The snapshot's claim on the shallow sizes: shares them, or gives them up when dropped
/// unshared, so that the speculation never waits for sizes that will not come.
pub(crate) struct ShallowSizesClaim(Option<Arc<ShallowSizesHandoff>>);

impl ShallowSizesClaim {
    pub(crate) fn share(mut self, shallow: Arc<Sizes>) {
        if let Some(handoff) = self.0.take() {
            handoff.settle(Handoff::Shared(shallow));
        }
    }
}

impl Drop for ShallowSizesClaim {
    fn drop(&mut self) {
        if let Some(handoff) = self.0.take() {
            handoff.settle(Handoff::GivenUp);
        }
    }
}

/// The dominator tree from the structure alone (see [`Speculation`]); run while the strings of
/// a snapshot are still arriving. When they still are once it is done (in a stream, not in a
/// file, where the distances would only slow down the dominator tree), the distances too.
pub(crate) fn speculate(
    g: &Shape,
    strings_pending: &AtomicBool,
    shallow_sizes: &ShallowSizesHandoff,
) -> Speculation {
    let mut clock = super::Timings::start();
    let page_owned = page_owned_nodes(g, |_| false);
    clock.lap("early: page-owned nodes (own thread)");
    let mut spare = SpareColumns::default();
    let tree = dominators(
        g,
        essential_edge_rule(g, &page_owned, |_, _| false),
        &mut spare,
    );
    drop(page_owned);
    clock.lap("early: dominator tree (own thread)");
    let sizes = match shallow_sizes.speculation_turn() {
        SpeculationTurn::Compute => {
            // Without `(Document DOM trees)`, the user roots are the root's non-synthetic
            // children.
            let synthetic = g.types.synthetic;
            let shallow = shallow_sizes_of(
                g,
                |v| g.node_type[v as usize] != synthetic,
                |_| false,
                &mut spare,
            );
            clock.lap("early: shallow sizes (own thread)");
            let retained =
                retained_sizes(&shallow, &tree, spare.take_empty(g.node_count() as usize));
            clock.lap("early: retained sizes (own thread)");
            EarlySizes::Own { shallow, retained }
        }
        SpeculationTurn::SumFrom(shallow) => {
            // One spare column is all this needs; the rest go now, while the snapshot's
            // distances still hold their memory.
            let column = spare.take_empty(tree.preorder().len());
            spare = SpareColumns::default();
            let retained = retained_sizes(&shallow, &tree, column);
            clock.lap("early: retained sizes from the snapshot's shallow sizes (own thread)");
            EarlySizes::FromShared { shallow, retained }
        }
        SpeculationTurn::Skip => EarlySizes::None,
    };
    drop(spare);
    let distances = strings_pending.load(Ordering::Relaxed).then(|| {
        let distances = speculate_distances(g);
        clock.lap("early: distances (own thread)");
        distances
    });
    Speculation {
        tree,
        sizes,
        distances,
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
        &mut SpareColumns::default(),
    )
}

/// [`shallow_sizes`] over the structure, with the two name-dependent questions as closures.
fn shallow_sizes_of(
    g: &Shape,
    is_user_root: impl Fn(u32) -> bool,
    is_external_string_data: impl Fn(u32) -> bool,
    spare: &mut SpareColumns,
) -> Sizes {
    let mut sizes = g
        .self_size
        .copy_into(spare.take_empty(g.node_count() as usize));
    let has_user_roots = g.edge_range(g.root).any(|e| is_user_root(g.edge_to[e]));
    if !has_user_roots {
        return sizes;
    }
    const UNVISITED: u32 = u32::MAX;
    const MULTIPLE: u32 = u32::MAX - 1;
    let t = g.types;
    let n = g.node_count() as usize;
    let mut owners = spare.take_empty(n);
    for (v, &ty) in g.node_type.iter().enumerate() {
        if ty == t.hidden || ty == t.array || (ty == t.native && is_external_string_data(v as u32))
        {
            owners.push(UNVISITED);
        } else {
            owners.push(v as u32);
        }
    }
    // DevTools starts with every owning node on its worklist. Each node's final owner (none,
    // one, or several) does not depend on the order nodes are taken in, so owning nodes are
    // taken in turn instead, and the worklist only holds the owned nodes whose owner changed:
    // each at most twice (when it gets an owner, when it gets several), usually a few at once.
    let mut worklist: Vec<u32> = Vec::new();
    for start in 0..n as u32 {
        if owners[start as usize] != start {
            continue;
        }
        let mut v = start;
        loop {
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
            match worklist.pop() {
                Some(next) => v = next,
                None => break,
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
    spare.put(owners);
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

/// Distances from the roots with the edge through which each node was first reached.
pub(crate) struct Distances {
    /// By node; see [`Analysis::distance`].
    pub distance: Vec<u32>,
    /// By node: an edge ordinal, or `NONE`.
    pub parent_edge: Vec<u32>,
}

/// DevTools' `calculateDistances` (JS flavour, with its edge filter), recording the parent edge
/// through which each node was first reached.
fn distances(s: &HeapSnapshot, ephemerons: &Ephemerons) -> Distances {
    let t = s.types;
    let names = NameFilter::new(s);
    // WeakMap entry edges come in pairs (from the table, from the key) whose names differ only
    // in the leading number; the first of a pair met is skipped, as DevTools does.
    let mut pending_text: HashSet<String> = HashSet::new();
    let filter = |v: u32, e: usize| -> bool {
        if let Some(follow) = names.decide(s, v, e) {
            return follow;
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
    breadth_first(&s.shape, |v| is_user_root(s, v), filter)
}

/// DevTools' distances from the names, whatever was speculated (for the tests to compare).
#[cfg(test)]
pub(crate) fn distances_from_names(s: &HeapSnapshot) -> Distances {
    distances(s, &Ephemerons::new(s))
}

/// The distances from the structure alone, as if no edge filter that needs names applied and
/// no `(Document DOM trees)` root existed; [`speculated_distances_hold`] says whether they are
/// DevTools' own.
fn speculate_distances(g: &Shape) -> Distances {
    let synthetic = g.types.synthetic;
    breadth_first(g, |v| g.node_type[v as usize] != synthetic, |_, _| true)
}

/// Whether distances computed by [`speculate_distances`] are what [`distances`] gives. The
/// breadth-first search asks its filter only about edges to nodes not reached yet, and with no
/// filter each of those edges became a node's parent edge. So while the filter would have let
/// every parent edge through, both searches take the same steps: only the nodes whose edges a
/// rule can stop (few, found by name) and the ephemeron edges need a look.
fn speculated_distances_hold(s: &HeapSnapshot, ephemerons: &Ephemerons, d: &Distances) -> bool {
    if !s.strings.indices_of("(Document DOM trees)").is_empty() {
        return false;
    }
    let t = s.types;
    let is_parent = |e: usize| d.parent_edge[s.shape.edge_to[e] as usize] == e as u32;
    if !ephemerons.matches.is_empty() {
        // The filter stops the first edge of each pair, whatever its source.
        let takes_an_ephemeron_edge = d.parent_edge.iter().any(|&e| {
            e != NONE
                && s.shape.edge_type[e as usize] == t.edge_internal
                && ephemerons.get(s.edge_name[e as usize]).is_some()
        });
        if takes_an_ephemeron_edge {
            return false;
        }
    }
    let names = NameFilter::new(s);
    (0..s.node_count())
        .filter(|&v| names.may_stop_edges_of(s, v))
        .all(|v| {
            s.edge_range(v).all(|e| {
                s.shape.edge_type[e] == t.edge_weak
                    || !is_parent(e)
                    || names.decide(s, v, e) != Some(false)
            })
        })
}

/// The part of DevTools' distance filter that looks at names: the native context's
/// `sloppy_function_map` and every third value of `(map descriptors)` arrays are not followed.
struct NameFilter {
    // String indices, so that the filter compares numbers, not text.
    native_context: Vec<u32>,
    sloppy_function_map: Vec<u32>,
    map_descriptors: Vec<u32>,
}

impl NameFilter {
    fn new(s: &HeapSnapshot) -> Self {
        Self {
            native_context: s.strings.indices_of("system / NativeContext"),
            sloppy_function_map: s.strings.indices_of("sloppy_function_map"),
            map_descriptors: s.strings.indices_of("(map descriptors)"),
        }
    }

    /// Whether the filter can stop any edge of `v`.
    fn may_stop_edges_of(&self, s: &HeapSnapshot, v: u32) -> bool {
        let (ty, name) = (s.shape.node_type[v as usize], s.node_name[v as usize]);
        (ty == s.types.hidden && self.native_context.contains(&name))
            || (ty == s.types.array && self.map_descriptors.contains(&name))
    }

    /// Whether the BFS follows edge `e` of node `v`, when a rule that looks at names decides.
    fn decide(&self, s: &HeapSnapshot, v: u32, e: usize) -> Option<bool> {
        let t = s.types;
        let ty = s.shape.node_type[v as usize];
        if ty == t.hidden
            && s.edge_has_string_name(e)
            && self.sloppy_function_map.contains(&s.edge_name[e])
            && self.native_context.contains(&s.node_name[v as usize])
        {
            return Some(false);
        }
        if ty == t.array && self.map_descriptors.contains(&s.node_name[v as usize]) {
            return Some(match js_parse_int(&s.edge_name_string(e)) {
                Some(index) => index < 2 || index % 3 != 1,
                None => true,
            });
        }
        None
    }
}

/// DevTools' breadth-first search for distances: from the user roots first, then from the root
/// for what only system roots reach, over non-weak edges that `filter` lets through. `filter`
/// is asked only about edges to nodes not reached yet.
fn breadth_first(
    g: &Shape,
    is_user_root: impl Fn(u32) -> bool,
    mut filter: impl FnMut(u32, usize) -> bool,
) -> Distances {
    let n = g.node_count() as usize;
    let t = g.types;
    let mut distance = vec![NO_DISTANCE; n];
    let mut parent = vec![NONE; n];
    // A ring: it holds the widest frontier, not every node reached.
    let mut queue: VecDeque<u32> = VecDeque::with_capacity((n / 64).max(16));
    // Which nodes have a distance, as bits: every edge's target is tested, and these stay in
    // the core's cache where `distance` would not.
    let mut reached = vec![0u64; n.div_ceil(64)];
    let mut bfs = |queue: &mut VecDeque<u32>,
                   distance: &mut Vec<u32>,
                   parent: &mut Vec<u32>,
                   reached: &mut Vec<u64>| {
        while let Some(v) = queue.pop_front() {
            let d = distance[v as usize].wrapping_add(1);
            for e in g.edge_range(v) {
                if g.edge_type[e] == t.edge_weak {
                    continue;
                }
                let child = g.edge_to[e];
                if bit(reached, child as usize) || !filter(v, e) {
                    continue;
                }
                set_bit(reached, child as usize);
                distance[child as usize] = d;
                parent[child as usize] = e as u32;
                queue.push_back(child);
            }
        }
    };

    let mut user_roots = 0;
    for e in g.edge_range(g.root) {
        let child = g.edge_to[e];
        if is_user_root(child) {
            set_bit(&mut reached, child as usize);
            distance[child as usize] = 1;
            parent[child as usize] = e as u32;
            queue.push_back(child);
            user_roots += 1;
        }
    }
    bfs(&mut queue, &mut distance, &mut parent, &mut reached);
    distance[g.root as usize] = if user_roots > 0 {
        BASE_SYSTEM_DISTANCE
    } else {
        0
    };
    parent[g.root as usize] = NONE;
    set_bit(&mut reached, g.root as usize);
    queue.push_back(g.root);
    bfs(&mut queue, &mut distance, &mut parent, &mut reached);
    Distances {
        distance,
        parent_edge: parent,
    }
}

/// Sums shallow sizes up the dominator tree, children before their dominators, in `column`'s
/// memory (a spare column, or a new one).
fn retained_sizes(sizes: &Sizes, tree: &DominatorTree, column: Vec<u32>) -> Sizes {
    let mut retained = sizes.copy_into(column);
    for &v in tree.preorder().iter().skip(1).rev() {
        let d = tree.dominator(v);
        retained.set(d, retained.get(d) + retained.get(v));
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
