//! The Chrome DevTools Summary view: per class, the number of objects, their shallow sizes and
//! the class's retained size (objects dominated by another object of the same class are not
//! added again). A port of DevTools' `buildAggregates` and `calculateClassesRetainedSize`.

use super::{Analysis, HeapSnapshot};
use std::collections::HashMap;

/// One row of the Summary view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassSummary {
    /// The class name as DevTools shows it.
    pub name: String,
    /// DevTools' class key: `,Name`, or `script,line,column,Name` for objects whose constructor
    /// has a source location (two classes of one name from different places are two rows).
    pub key: String,
    /// Interned class (see [`HeapSnapshot::class_key`]).
    pub class: u32,
    /// Objects with a non-zero shallow size.
    pub count: u64,
    pub self_bytes: u64,
    pub retained_bytes: u64,
    /// Smallest distance from a root among the objects (see [`Analysis::distance`]).
    pub distance: u32,
}

/// The Summary view, sorted by retained size (largest first), then by name.
pub fn summary(s: &HeapSnapshot, a: &Analysis) -> Vec<ClassSummary> {
    let mut clock = super::Timings::start();
    // The class retained sizes walk the dominator tree; the rows need one pass over the nodes.
    // Independent, so on two threads.
    std::thread::scope(|scope| {
        let retained = scope.spawn(|| class_retained_sizes(s, a));
        let rows = class_rows(s, a);
        let retained = retained
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        let out = merge_rows(rows, retained);
        clock.lap("summary");
        out
    })
}

/// Per class (by class id): count, shallow bytes and distance, in first-seen order.
fn class_rows(s: &HeapSnapshot, a: &Analysis) -> (Vec<Option<ClassSummary>>, Vec<u32>) {
    let class_count = s.class_count() as usize;
    let mut rows: Vec<Option<ClassSummary>> = vec![None; class_count];
    let mut order: Vec<u32> = Vec::new();
    for v in 0..s.node_count() {
        let size = a.shallow_size(v);
        if size == 0 {
            continue;
        }
        let class = s.class_key(v);
        let distance = a.distance(v);
        match &mut rows[class as usize] {
            Some(row) => {
                row.count += 1;
                row.self_bytes += size;
                row.distance = row.distance.min(distance);
            }
            slot @ None => {
                order.push(class);
                *slot = Some(ClassSummary {
                    name: s.class_key_name(class).to_owned(),
                    key: s.class_key_string(class),
                    class,
                    count: 1,
                    self_bytes: size,
                    retained_bytes: 0,
                    distance,
                });
            }
        }
    }
    (rows, order)
}

/// The rows with their retained sizes, keyed and sorted as DevTools does.
fn merge_rows(
    (mut rows, order): (Vec<Option<ClassSummary>>, Vec<u32>),
    retained: Vec<u64>,
) -> Vec<ClassSummary> {
    for (class, retained) in retained.into_iter().enumerate() {
        if let Some(row) = &mut rows[class] {
            row.retained_bytes = retained;
        }
    }
    // DevTools stores rows under their public key; a later class with an equal key replaces an
    // earlier one.
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<ClassSummary> = Vec::with_capacity(order.len());
    for class in order {
        let Some(row) = rows[class as usize].take() else {
            continue;
        };
        match by_key.get(&row.key) {
            Some(&i) => out[i] = row,
            None => {
                by_key.insert(row.key.clone(), out.len());
                out.push(row);
            }
        }
    }
    out.sort_by(|x, y| {
        y.retained_bytes
            .cmp(&x.retained_bytes)
            .then_with(|| x.name.cmp(&y.name))
    });
    out
}

/// Per class: the retained sizes of its objects that no other object of the class dominates.
pub fn class_retained_sizes(s: &HeapSnapshot, a: &Analysis) -> Vec<u64> {
    let tree = a.dominator_tree();
    let mut retained = vec![0u64; s.class_count() as usize];
    // A class is open inside the subtree of its outermost counted object; the open subtrees
    // nest, so the one closing first is on top.
    let mut open = vec![false; s.class_count() as usize];
    let mut closing: Vec<(u32, u32)> = Vec::new();
    for (position, &v) in tree.preorder().iter().enumerate() {
        while let Some(&(end, class)) = closing.last() {
            if end as usize > position {
                break;
            }
            closing.pop();
            open[class as usize] = false;
        }
        let class = s.class_key(v);
        if !open[class as usize] && a.shallow_size(v) != 0 {
            retained[class as usize] += a.retained_size(v);
            let end = tree.subtree_end(position);
            if end as usize > position + 1 {
                open[class as usize] = true;
                closing.push((end, class));
            }
        }
    }
    retained
}
