//! The dominator tree: who keeps whom alive. [`dominators`] computes it by Semi-NCA over the
//! edges a rule calls essential; [`DominatorTree`] holds it as each node's immediate dominator
//! plus the nodes in preorder with each subtree's end, so walks need no child lists.

use super::graph::Shape;
use super::{bit, set_bit, SpareColumns};

/// A dominator tree over node ordinals. The root is its own dominator.
pub(crate) struct DominatorTree {
    /// By node.
    dominator: Vec<u32>,
    /// Every node, root first, each subtree contiguous (a node's dominators come before it).
    preorder: Vec<u32>,
    /// By preorder position: one past the last position of the subtree there.
    subtree_end: Vec<u32>,
}

impl DominatorTree {
    /// The tree from each node's dominator and an order that lists the root first and every
    /// node after its dominator. Its columns come from `spare`, and its working column goes
    /// back there.
    fn new(dominator: Vec<u32>, order: &[u32], spare: &mut SpareColumns) -> Self {
        let n = dominator.len();
        let Some(&root) = order.first() else {
            return Self {
                dominator,
                preorder: Vec::new(),
                subtree_end: Vec::new(),
            };
        };
        // Subtree sizes first (children before dominators); once a node has its place, its
        // slot holds the next free position inside its subtree instead.
        let mut size_then_cursor = spare.take(n, 1);
        for &v in order[1..].iter().rev() {
            size_then_cursor[dominator[v as usize] as usize] += size_then_cursor[v as usize];
        }
        let mut preorder = spare.take(n, 0);
        let mut subtree_end = spare.take(n, 0);
        preorder[0] = root;
        subtree_end[0] = size_then_cursor[root as usize];
        size_then_cursor[root as usize] = 1;
        for &v in &order[1..] {
            let d = dominator[v as usize] as usize;
            let slot = size_then_cursor[d];
            let size = size_then_cursor[v as usize];
            size_then_cursor[d] = slot + size;
            preorder[slot as usize] = v;
            subtree_end[slot as usize] = slot + size;
            size_then_cursor[v as usize] = slot + 1;
        }
        spare.put(size_then_cursor);
        Self {
            dominator,
            preorder,
            subtree_end,
        }
    }
    pub(crate) fn dominator(&self, v: u32) -> u32 {
        self.dominator[v as usize]
    }
    pub(crate) fn preorder(&self) -> &[u32] {
        &self.preorder
    }
    /// One past the last preorder position of the subtree at `position`.
    pub(crate) fn subtree_end(&self, position: usize) -> u32 {
        self.subtree_end[position]
    }
}

/// DevTools' `calculateDominatorsAndRetainedSizes` semantics: the dominator tree over essential
/// edges, with orphans (only weak retainers) and leftover cycles hung off the root. Computed by
/// Semi-NCA (Georgiadis' variant of Lengauer–Tarjan: the same semidominators, then immediate
/// dominators by walking up the DFS tree), which needs no buckets and so three fewer arrays per
/// node, and keeps each semidominator in its vertex's predecessor list, which saves one more.
/// Dominators are unique, so the result is DevTools' own; the orphan and leftover rules give
/// every such node the root's DFS number as parent, as DevTools' DFS does. The tree's columns
/// are taken from `spare`, and the columns it is done with go back there.
pub(crate) fn dominators(
    s: &Shape,
    is_essential: impl Fn(u32, usize) -> bool,
    spare: &mut SpareColumns,
) -> DominatorTree {
    let node_count = s.node_count() as usize;
    let mut clock = super::Timings::start();
    // Vertices are ordinal + 1, so that 0 can mean "none".
    // The rule is applied once: essential edges as bits, and each node's count of essential
    // retainers, at `first_pred[ordinal + 2]` (see the predecessor lists below).
    let mut essential = vec![0u64; s.edge_to.len().div_ceil(64)];
    let mut first_pred = vec![0u32; node_count + 2];
    for v in 0..node_count as u32 {
        for e in s.edge_range(v) {
            if is_essential(v, e) {
                set_bit(&mut essential, e);
                first_pred[s.edge_to[e] as usize + 2] += 1;
            }
        }
    }
    let essential = &essential[..];
    clock.lap("dominators: essential edges");

    let len = node_count + 1;
    // The vertices are numbered 1..=node_count in DFS order, and every array below except
    // `number`, `reached` and the predecessor lists' offsets is indexed by that number: the
    // semidominator loop walks them in order, and the lists hold numbers, so that it compares
    // numbers it already has instead of looking them up.
    let mut dfs = Numbering {
        number: vec![0u32; len],
        vertex: vec![0u32; len],
        parent: vec![0u32; len],
        next_edge: vec![0u32; len],
        reached: vec![0u64; len.div_ceil(64)],
        tree_edges: vec![0u64; s.edge_to.len().div_ceil(64)],
        count: 0,
    };
    // By number: given the root as DFS parent without an edge from it (orphans and leftovers).
    let mut artificial = vec![0u64; len.div_ceil(64)];
    // The root's DFS number is 1; orphans and leftovers get it as their parent.
    dfs.search(s.root + 1, 0, s, essential);
    if (dfs.count as usize) < node_count {
        for v in 1..=node_count as u32 {
            let has_essential_retainer = first_pred[v as usize + 1] != 0;
            if dfs.number[v as usize] == 0 && !has_essential_retainer {
                let n = dfs.search(v, 1, s, essential);
                set_bit(&mut artificial, n as usize);
            }
        }
    }
    if (dfs.count as usize) < node_count {
        for v in 1..=node_count as u32 {
            if dfs.number[v as usize] == 0 {
                set_bit(&mut artificial, dfs.visit(v, 1, s) as usize);
            }
        }
    }
    let Numbering {
        number,
        vertex,
        parent,
        next_edge: mut ancestor,
        tree_edges,
        count,
        ..
    } = dfs;
    // By number: the link forest, then each vertex's immediate dominator.
    ancestor.iter_mut().for_each(|a| *a = 0);
    clock.lap("dominators: depth-first numbers");

    // Predecessor lists (of DFS numbers), over essential edges, without the DFS tree edges: a
    // vertex's DFS parent is processed after it, so that edge always offers the parent's own
    // number, which the vertex's semidominator starts from instead: a third of the entries in
    // V8 heaps. Counts go one slot further than their list's start, so that the start slots
    // can serve as fill cursors and end up as the next list's start (no second offsets array).
    // Lists are by vertex.
    let is_tree_vertex = |n: usize| n != 1 && !bit(&artificial, n);
    for w in 1..len {
        if is_tree_vertex(number[w] as usize) {
            first_pred[w + 1] -= 1;
        }
    }
    for i in 1..first_pred.len() {
        first_pred[i] += first_pred[i - 1];
    }
    let mut preds = vec![0u32; first_pred[node_count + 1] as usize];
    for v in 0..node_count as u32 {
        let from = number[v as usize + 1];
        for e in s.edge_range(v) {
            if !bit(essential, e) || bit(&tree_edges, e) {
                continue;
            }
            let cursor = &mut first_pred[s.edge_to[e] as usize + 1];
            preds[*cursor as usize] = from;
            *cursor += 1;
        }
    }
    drop(tree_edges);
    clock.lap("dominators: predecessor lists");
    let preds_of = |i: usize| {
        let w = vertex[i] as usize;
        first_pred[w - 1] as usize..first_pred[w] as usize
    };

    // Semidominators, in reverse DFS order, with path-compressed EVAL over the link forest.
    // Once a vertex is processed, its semidominator is kept in the first slot of its
    // predecessor list, which this loop does not read again (the immediate dominators below
    // read it there); a vertex whose list is empty has its parent's number (a tree vertex) or
    // the root's (see `semi_of`).
    // By number: EVAL's label, the smallest semidominator number on the compressed path. The
    // `number` column is done with, and each entry is written when its vertex is processed,
    // before any read.
    let mut label = number;
    let mut stack: Vec<u32> = Vec::new();
    for i in (2..=count as usize).rev() {
        let list = preds_of(i);
        // With no list, this is already the semidominator (`semi_of`).
        let mut best = if is_tree_vertex(i) {
            parent[i]
        } else if list.is_empty() {
            1
        } else {
            i as u32
        };
        for &v in &preds[list.clone()] {
            let value = if ancestor[v as usize] == 0 {
                // Not processed yet: its own number.
                v
            } else {
                // Compress the path from v up to the forest root's child.
                stack.clear();
                let mut x = v;
                while ancestor[ancestor[x as usize] as usize] != 0 {
                    stack.push(x);
                    x = ancestor[x as usize];
                }
                while let Some(y) = stack.pop() {
                    let y = y as usize;
                    let a = ancestor[y] as usize;
                    if label[a] < label[y] {
                        label[y] = label[a];
                    }
                    ancestor[y] = ancestor[a];
                }
                label[v as usize]
            };
            best = best.min(value);
        }
        label[i] = best;
        if !list.is_empty() {
            preds[list.start] = best;
        }
        ancestor[i] = parent[i];
    }
    clock.lap("dominators: semidominators");

    // Immediate dominators by DFS number: the nearest ancestor in the DFS tree whose number is
    // at most the semidominator's. `ancestor` is reused for them.
    let mut idom = ancestor;
    idom[1] = 1;
    let semi_of = |i: usize| {
        let list = preds_of(i);
        if !list.is_empty() {
            preds[list.start]
        } else if is_tree_vertex(i) {
            parent[i]
        } else {
            1
        }
    };
    for i in 2..=count as usize {
        let semi = semi_of(i);
        let mut d = parent[i];
        while d > semi {
            d = idom[d as usize];
        }
        idom[i] = d;
    }
    drop(preds);
    let mut dominator = label;
    for i in 1..=count as usize {
        dominator[vertex[i] as usize - 1] = vertex[idom[i] as usize] - 1;
    }
    dominator.truncate(node_count);
    let mut order = vertex;
    order.truncate(count as usize + 1);
    order.remove(0);
    order.iter_mut().for_each(|v| *v -= 1);
    clock.lap("dominators: immediate dominators");
    for column in [first_pred, parent, idom] {
        spare.put(column);
    }
    let tree = DominatorTree::new(dominator, &order, spare);
    spare.put(order);
    clock.lap("dominators: preorder and subtree ends");
    tree
}

/// The depth-first search that numbers the vertices (ordinal + 1).
struct Numbering {
    /// By vertex: its DFS number, 0 while unreached.
    number: Vec<u32>,
    /// By number: the vertex.
    vertex: Vec<u32>,
    /// By number: the DFS parent's number.
    parent: Vec<u32>,
    /// By number: the next edge to examine.
    next_edge: Vec<u32>,
    /// By vertex: whether it was reached, as bits: the search tests every essential edge's
    /// target, and these stay in the core's cache where `number` would not.
    reached: Vec<u64>,
    /// By edge: whether the search reached the edge's target through it, as bits (2 MB per 16
    /// million edges, freed once the predecessor lists are filled), so that the lists leave
    /// these edges out without looking up their ends.
    tree_edges: Vec<u64>,
    /// Numbers given so far: the last one given.
    count: u32,
}

impl Numbering {
    /// Gives vertex `w` the next number and `parent` as its DFS parent's number; returns the
    /// number.
    fn visit(&mut self, w: u32, parent: u32, s: &Shape) -> u32 {
        let w = w as usize;
        set_bit(&mut self.reached, w);
        self.count += 1;
        let n = self.count as usize;
        self.number[w] = self.count;
        self.vertex[n] = w as u32;
        self.parent[n] = parent;
        self.next_edge[n] = s.first_edge[w - 1];
        self.count
    }

    /// Numbers `start` (with `start_parent` as its parent's number) and then, in DFS order,
    /// every vertex reachable from it over essential edges that has no number yet. Returns
    /// `start`'s number.
    fn search(&mut self, start: u32, start_parent: u32, s: &Shape, essential: &[u64]) -> u32 {
        let first = self.visit(start, start_parent, s);
        let mut current = first;
        loop {
            let n = current as usize;
            let end = s.first_edge[self.vertex[n] as usize] as usize;
            let mut e = self.next_edge[n] as usize;
            let mut child = None;
            while e < end {
                let essential_edge = bit(essential, e);
                let w = s.edge_to[e] + 1;
                e += 1;
                if essential_edge && !bit(&self.reached, w as usize) {
                    set_bit(&mut self.tree_edges, e - 1);
                    child = Some(w);
                    break;
                }
            }
            self.next_edge[n] = e as u32;
            current = match child {
                Some(w) => self.visit(w, current, s),
                None if current == first => return first,
                None => self.parent[n],
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dominators;
    use crate::snapshot::graph::{Shape, Types};
    use crate::snapshot::{bit, set_bit, SpareColumns};

    /// Dominators by the textbook fixpoint (Dom(v) = {v} ∪ ⋂ Dom(preds)), under DevTools' rules:
    /// nodes without retainers hang off the root, nodes still unreached get the root.
    fn dominators_by_fixpoint(n: usize, edges: &[(u32, u32)], root: u32) -> Vec<u32> {
        let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n];
        for &(from, to) in edges {
            preds[to as usize].push(from);
        }
        for v in 0..n as u32 {
            if v != root && preds[v as usize].is_empty() {
                preds[v as usize].push(root);
            }
        }
        let mut reached = vec![false; n];
        reached[root as usize] = true;
        loop {
            let mut changed = false;
            for v in 0..n {
                if !reached[v] && preds[v].iter().any(|&p| reached[p as usize]) {
                    reached[v] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let all: Vec<bool> = vec![true; n];
        let mut dom: Vec<Vec<bool>> = (0..n)
            .map(|v| {
                if v == root as usize {
                    (0..n).map(|u| u == v).collect()
                } else {
                    all.clone()
                }
            })
            .collect();
        loop {
            let mut changed = false;
            for v in (0..n).filter(|&v| v != root as usize && reached[v]) {
                let mut next = all.clone();
                for &p in preds[v].iter().filter(|&&p| reached[p as usize]) {
                    for u in 0..n {
                        next[u] &= dom[p as usize][u];
                    }
                }
                next[v] = true;
                if next != dom[v] {
                    dom[v] = next;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let size = |v: usize| dom[v].iter().filter(|&&b| b).count();
        (0..n)
            .map(|v| {
                if v == root as usize || !reached[v] {
                    return root;
                }
                (0..n)
                    .filter(|&u| u != v && dom[v][u])
                    .max_by_key(|&u| size(u))
                    .unwrap_or(root as usize) as u32
            })
            .collect()
    }

    #[test]
    fn dominators_agree_with_the_textbook_fixpoint_on_random_graphs() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut random = move |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        for round in 0..2000 {
            let n = 2 + random(14) as usize;
            let edge_count = random(3 * n as u64) as usize;
            let mut edges: Vec<(u32, u32)> = (0..edge_count)
                .map(|_| (random(n as u64) as u32, random(n as u64) as u32))
                .collect();
            edges.sort_by_key(|&(from, _)| from);
            let mut first_edge = vec![0u32; n + 1];
            for &(from, _) in &edges {
                first_edge[from as usize + 1] += 1;
            }
            for i in 1..=n {
                first_edge[i] += first_edge[i - 1];
            }
            let shape = Shape {
                node_type: vec![0; n],
                self_size: Default::default(),
                first_edge,
                edge_type: vec![0; edges.len()],
                edge_to: edges.iter().map(|&(_, to)| to).collect(),
                types: Types::from_meta(&Default::default()),
                root: 0,
            };
            // Self-loops are never essential (DevTools' rule); every other edge is.
            let mut essential = vec![0u64; edges.len().div_ceil(64)];
            for (e, &(from, to)) in edges.iter().enumerate() {
                if from != to {
                    set_bit(&mut essential, e);
                }
            }
            let kept: Vec<(u32, u32)> = edges.iter().copied().filter(|(f, t)| f != t).collect();
            let tree = dominators(
                &shape,
                |_, e| bit(&essential, e),
                &mut SpareColumns::default(),
            );
            let expected = dominators_by_fixpoint(n, &kept, 0);
            let dominator: Vec<u32> = (0..n as u32).map(|v| tree.dominator(v)).collect();
            assert_eq!(
                dominator, expected,
                "round {round}: {n} nodes, edges {kept:?}"
            );
            // Each subtree in the preorder holds exactly the nodes its root dominates.
            let mut seen = tree.preorder().to_vec();
            seen.sort_unstable();
            assert_eq!(seen, (0..n as u32).collect::<Vec<_>>(), "round {round}");
            let dominates = |d: u32, mut v: u32| loop {
                if v == d {
                    return true;
                }
                if v == 0 {
                    return false;
                }
                v = expected[v as usize];
            };
            for (i, &d) in tree.preorder().iter().enumerate() {
                let inside = &tree.preorder()[i..tree.subtree_end(i) as usize];
                let dominated = tree.preorder().iter().filter(|&&v| dominates(d, v)).count();
                assert!(
                    inside.iter().all(|&v| dominates(d, v)) && inside.len() == dominated,
                    "round {round}: the subtree of {d} in the preorder is {inside:?}"
                );
            }
        }
    }
}
