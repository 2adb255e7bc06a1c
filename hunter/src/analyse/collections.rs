//! Collections that keep growing: Arrays, Maps and Sets whose number of entries grows in every
//! measured iteration, even when no new object shows up by count.
//!
//! Most sizes are read from the snapshot itself: a Map's or Set's hash table has an edge per
//! key and value, an array of objects an element edge per element. Numbers have no edges
//! (small integers and doubles are stored unboxed), so for Arrays, Maps and Sets holding only
//! numbers the hunt reads the sizes in the target (see `hunt::collections`).

use std::collections::{HashMap, HashSet};

use crate::report::{Growth, Leak};
use crate::snapshot::{retainer_path, Analysis, EdgeName, HeapSnapshot, IdIndex};

/// A collection must hold at least this many entries at the end to be reported: a leak worth
/// a report passes it, and tiny lists that grow by one now and then are noise.
pub const MIN_ENTRIES: u64 = 8;

/// How a followed collection is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CollectionId {
    /// By its heap snapshot id (sizes read from snapshots).
    Heap(u64),
    /// By its index in the target's registry of collections of numbers (sizes read there).
    Registered(u64),
}

/// A collection that grew in every measured iteration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrowingCollection {
    pub id: CollectionId,
    /// `Array`, `Map` or `Set`.
    pub kind: &'static str,
    /// Entries at the baseline and after each measured iteration.
    pub sizes: Vec<u64>,
}

/// Collection sizes of one heap at each iteration boundary.
///
/// Every non-empty collection is followed from the baseline, and dropped as soon as it fails
/// to grow at a boundary: only those that grow at every one can qualify, so after the first
/// measured iteration little more than the growing ones are kept.
#[derive(Debug, Default)]
pub struct CollectionTracker {
    /// collection → (kind, entries at each boundary so far)
    series: HashMap<CollectionId, (&'static str, Vec<u64>)>,
    boundaries: usize,
}

impl CollectionTracker {
    pub fn new() -> CollectionTracker {
        CollectionTracker::default()
    }

    /// Records one boundary: the sizes the snapshot shows, and the sizes of the collections of
    /// numbers read in the target (registry index, kind, size). The first call is the baseline.
    pub fn observe(&mut self, snapshot: &HeapSnapshot, registered: &[(u64, &'static str, u64)]) {
        let mut seen: Vec<(CollectionId, &'static str, u64)> = Vec::new();
        for node in 0..snapshot.node_count() {
            if snapshot.node_type_name(node) != "object" {
                continue;
            }
            let (kind, entries) = match snapshot.node_name(node) {
                "Array" => (
                    "Array",
                    snapshot
                        .edges(node)
                        .filter(|edge| edge.kind == "element")
                        .count() as u64,
                ),
                // A hash table has an edge per key and per value (Map) or per key (Set), plus
                // one to its own map; keys and values that are small integers have none.
                "Map" => ("Map", table_edges(snapshot, node) / 2),
                "Set" => ("Set", table_edges(snapshot, node).saturating_sub(1)),
                _ => continue,
            };
            if entries > 0 {
                seen.push((CollectionId::Heap(snapshot.node_id(node)), kind, entries));
            }
        }
        seen.extend(
            registered
                .iter()
                .map(|&(index, kind, size)| (CollectionId::Registered(index), kind, size)),
        );

        let baseline = self.boundaries == 0;
        self.boundaries += 1;
        if baseline {
            self.series = seen
                .into_iter()
                .map(|(id, kind, entries)| (id, (kind, vec![entries])))
                .collect();
            return;
        }
        let mut grown = HashMap::with_capacity(self.series.len().min(seen.len()));
        for (id, _, entries) in seen {
            if let Some((kind, mut sizes)) = self.series.remove(&id) {
                if sizes.last().is_some_and(|&last| entries > last) {
                    sizes.push(entries);
                    grown.insert(id, (kind, sizes));
                }
            }
        }
        // Whatever was not seen, or did not grow, is dropped with the old map.
        self.series = grown;
    }

    /// Collections that grew at every boundary to at least [`MIN_ENTRIES`], largest growth
    /// first.
    pub fn growing(&self) -> Vec<GrowingCollection> {
        if self.boundaries < 3 {
            return Vec::new();
        }
        let mut growing: Vec<GrowingCollection> = self
            .series
            .iter()
            .filter(|(_, (_, sizes))| {
                sizes.len() == self.boundaries && sizes.last().is_some_and(|&n| n >= MIN_ENTRIES)
            })
            .map(|(&id, (kind, sizes))| GrowingCollection {
                id,
                kind,
                sizes: sizes.clone(),
            })
            .collect();
        growing.sort_by_key(|c| {
            (
                std::cmp::Reverse(c.sizes[c.sizes.len() - 1] - c.sizes[0]),
                c.id,
            )
        });
        growing
    }
}

fn table_edges(snapshot: &HeapSnapshot, node: u32) -> u64 {
    snapshot
        .edges(node)
        .find(|edge| edge.kind == "internal" && edge.name == EdgeName::Name("table"))
        .map(|table| snapshot.edge_count_of(table.target) as u64)
        .unwrap_or(0)
}

/// Leak entries for growing collections, each given with its heap snapshot id, in `last`:
/// size per iteration, bytes by the collection's retained size per entry, and a retainer path.
/// A collection that only grows because it holds objects of a reported leak group
/// (`object_leaks`) is that group's retainer, not a second finding; one followed two ways (a
/// registered Map of numbers that later also holds objects) is reported once.
pub fn collection_leaks(
    growing: &[(GrowingCollection, u64)],
    last: &HeapSnapshot,
    analysis: &Analysis,
    object_leaks: &[Leak],
) -> Vec<Leak> {
    if growing.is_empty() {
        return Vec::new();
    }
    let explained: HashSet<&str> = object_leaks
        .iter()
        .flat_map(|l| std::iter::once(l.name.as_str()).chain(l.includes.iter().map(String::as_str)))
        .collect();
    let index = IdIndex::new(last);
    let mut reported = HashSet::new();
    let mut leaks = Vec::new();
    for (collection, heap_id) in growing {
        let Some(node) = index.ordinal(*heap_id) else {
            continue;
        };
        if !reported.insert(node) || holds_members_of(last, node, &explained) {
            continue;
        }
        let sizes = &collection.sizes;
        let iterations = (sizes.len() - 1) as f64;
        let added = (sizes[sizes.len() - 1] - sizes[0]) as f64;
        let retained = analysis.retained_size(node);
        let per_entry = retained as f64 / sizes[sizes.len() - 1] as f64;
        leaks.push(Leak {
            name: collection.kind.to_owned(),
            kind: "collection".to_owned(),
            count: sizes[1..].to_vec(),
            self_bytes: sizes[1..]
                .iter()
                .map(|&size| (size as f64 * per_entry) as u64)
                .collect(),
            growth_per_iteration: Growth {
                count: added / iterations,
                bytes: added / iterations * per_entry,
            },
            retained_bytes: retained,
            retainer_path: retainer_path(last, analysis, node),
            allocated_at: None,
            includes: Vec::new(),
        });
    }
    leaks
}

/// Whether a collection (or its backing store) points straight at objects of these groups.
fn holds_members_of(snapshot: &HeapSnapshot, node: u32, groups: &HashSet<&str>) -> bool {
    if groups.is_empty() {
        return false;
    }
    let direct = snapshot.edges(node).map(|e| e.target).collect::<Vec<_>>();
    let mut seen = 0;
    for target in direct.iter().copied().chain(
        direct
            .iter()
            .filter(|&&t| snapshot.node_type_name(t) == "array")
            .flat_map(|&t| snapshot.edges(t).map(|e| e.target)),
    ) {
        seen += 1;
        if seen > 10_000 {
            break;
        }
        if super::group_name(snapshot, target).is_some_and(|name| groups.contains(name)) {
            return true;
        }
    }
    false
}
