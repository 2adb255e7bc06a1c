//! The dominator tree: who keeps whom alive. [`dominators`] computes it by Semi-NCA over the
//! edges a rule calls essential; [`DominatorTree`] holds it as each node's immediate dominator
//! plus the nodes in preorder with each subtree's end, so walks need no child lists.

use super::graph::Shape;
use super::{bit, set_bit};

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
    /// node after its dominator.
    fn new(dominator: Vec<u32>, order: &[u32]) -> Self {
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
        let mut size_then_cursor = vec![1u32; n];
        for &v in order[1..].iter().rev() {
            size_then_cursor[dominator[v as usize] as usize] += size_then_cursor[v as usize];
        }
        let mut preorder = vec![0u32; n];
        let mut subtree_end = vec![0u32; n];
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
/// node. Dominators are unique, so the result is DevTools' own; the orphan and leftover rules
/// give every such node the root's DFS number as parent, as DevTools' DFS does.
pub(crate) fn dominators(s: &Shape, is_essential: impl Fn(u32, usize) -> bool) -> DominatorTree {
    let node_count = s.node_count() as usize;
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

    let len = node_count + 1;
    // DFS number of each vertex's DFS parent, by vertex.
    let mut parent = vec![0u32; len];
    // By vertex: its DFS number until the vertex is processed, then its semidominator's number.
    let mut semi = vec![0u32; len];
    // By DFS number: the vertex.
    let mut vertex = vec![0u32; len];
    // During the DFS: each vertex's next edge to examine. Afterwards: the link forest.
    let mut ancestor = vec![0u32; len];
    let mut count = 0u32;

    let first_edge = &s.first_edge;
    let edge_to = &s.edge_to;
    // Whether each vertex was reached, as bits: the DFS tests every essential edge's target,
    // and these stay in the core's cache where `semi` would not.
    let mut reached = vec![0u64; len.div_ceil(64)];
    // Vertices given the root as DFS parent without an edge from it: orphans and leftovers.
    let mut artificial = vec![0u64; len.div_ceil(64)];
    let dfs = |root: u32,
               parent: &mut [u32],
               semi: &mut [u32],
               vertex: &mut [u32],
               next_edge: &mut [u32],
               reached: &mut [u64],
               count: &mut u32| {
        next_edge[root as usize] = first_edge[root as usize - 1];
        let mut v = root;
        while v != 0 {
            let vi = v as usize;
            if !bit(reached, vi) {
                set_bit(reached, vi);
                *count += 1;
                semi[vi] = *count;
                vertex[*count as usize] = v;
            }
            let mut v_next = vertex[parent[vi] as usize];
            let end = first_edge[vi] as usize;
            let mut e = next_edge[vi] as usize;
            while e < end {
                let essential_edge = bit(essential, e);
                let w = edge_to[e] as usize + 1;
                e += 1;
                if essential_edge && !bit(reached, w) {
                    parent[w] = semi[vi];
                    next_edge[w] = first_edge[w - 1];
                    v_next = w as u32;
                    break;
                }
            }
            next_edge[vi] = e as u32;
            v = v_next;
        }
    };

    let r = s.root + 1;
    dfs(
        r,
        &mut parent,
        &mut semi,
        &mut vertex,
        &mut ancestor,
        &mut reached,
        &mut count,
    );
    // The root's DFS number is 1; orphans and leftovers get it as their parent.
    if (count as usize) < node_count {
        for v in 1..=node_count as u32 {
            let has_essential_retainer = first_pred[v as usize + 1] != 0;
            if semi[v as usize] == 0 && !has_essential_retainer {
                parent[v as usize] = 1;
                set_bit(&mut artificial, v as usize);
                dfs(
                    v,
                    &mut parent,
                    &mut semi,
                    &mut vertex,
                    &mut ancestor,
                    &mut reached,
                    &mut count,
                );
            }
        }
    }
    if (count as usize) < node_count {
        for v in 1..=node_count as u32 {
            if semi[v as usize] == 0 {
                parent[v as usize] = 1;
                set_bit(&mut artificial, v as usize);
                count += 1;
                semi[v as usize] = count;
                vertex[count as usize] = v;
            }
        }
    }
    ancestor.iter_mut().for_each(|a| *a = 0);

    // Predecessor lists, over essential edges, without one DFS tree edge per vertex: a vertex's
    // DFS parent is processed after it, so that edge always offers the parent's own number,
    // which the vertex's semidominator starts from instead: a third of the entries in V8 heaps.
    // Counts go one slot further than their list's start, so that the start slots can serve as
    // fill cursors and end up as the next list's start (no second offsets array).
    let is_tree_vertex = |w: usize| w != r as usize && !bit(&artificial, w);
    for w in 1..len {
        if is_tree_vertex(w) {
            first_pred[w + 1] -= 1;
        }
    }
    for i in 1..first_pred.len() {
        first_pred[i] += first_pred[i - 1];
    }
    let mut preds = vec![0u32; first_pred[node_count + 1] as usize];
    let mut tree_edge_left_out = vec![0u64; len.div_ceil(64)];
    for v in 0..node_count as u32 {
        let number = semi[v as usize + 1];
        for e in s.edge_range(v) {
            if !bit(essential, e) {
                continue;
            }
            let w = edge_to[e] as usize + 1;
            if parent[w] == number && is_tree_vertex(w) && !bit(&tree_edge_left_out, w) {
                set_bit(&mut tree_edge_left_out, w);
                continue;
            }
            let cursor = &mut first_pred[w];
            preds[*cursor as usize] = v + 1;
            *cursor += 1;
        }
    }
    drop(tree_edge_left_out);
    let mut label: Vec<u32> = (0..len as u32).collect();

    // Semidominators, in reverse DFS order, with path-compressed EVAL over the link forest.
    let mut stack: Vec<u32> = Vec::new();
    for i in (2..=count as usize).rev() {
        let w = vertex[i] as usize;
        let (from, to) = (first_pred[w - 1] as usize, first_pred[w] as usize);
        let mut best = if is_tree_vertex(w) {
            parent[w]
        } else if from == to {
            1
        } else {
            semi[w]
        };
        for &v in &preds[from..to] {
            let u = if ancestor[v as usize] == 0 {
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
                    if semi[label[a] as usize] < semi[label[y] as usize] {
                        label[y] = label[a];
                    }
                    ancestor[y] = ancestor[a];
                }
                label[v as usize]
            };
            best = best.min(semi[u as usize]);
        }
        semi[w] = best;
        ancestor[w] = vertex[parent[w] as usize];
    }
    drop((preds, first_pred));

    // Immediate dominators by DFS number: the nearest ancestor in the DFS tree whose number is
    // at most the semidominator's. `ancestor` is reused for them.
    let mut idom = ancestor;
    idom[1] = 1;
    for i in 2..=count as usize {
        let w = vertex[i] as usize;
        let mut d = parent[w];
        while d > semi[w] {
            d = idom[d as usize];
        }
        idom[i] = d;
    }
    drop((parent, semi));
    let mut dominator = label;
    for i in 1..=count as usize {
        dominator[vertex[i] as usize - 1] = vertex[idom[i] as usize] - 1;
    }
    dominator.truncate(node_count);
    drop(idom);
    let mut order = vertex;
    order.truncate(count as usize + 1);
    order.remove(0);
    order.iter_mut().for_each(|v| *v -= 1);
    DominatorTree::new(dominator, &order)
}

#[cfg(test)]
mod tests {
    use super::dominators;
    use crate::snapshot::graph::{Shape, Types};
    use crate::snapshot::{bit, set_bit};

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
            let tree = dominators(&shape, |_, e| bit(&essential, e));
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
