//! Id-based helpers for comparing snapshots of one process. V8 keeps object ids stable across
//! snapshots of an isolate; JS heap objects have odd ids, while some embedder (even) ids change,
//! so comparisons use odd ids only. Ids are also handed out in increasing order, so the ids seen
//! at iteration boundaries split live objects by birth iteration ([`birth_bucket`]).

use super::HeapSnapshot;

/// The odd ids of one snapshot, sorted: enough to tell, later, which objects are new, without
/// keeping the whole snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdSet {
    ids: Vec<u32>,
}

impl IdSet {
    pub fn from_snapshot(s: &HeapSnapshot) -> Self {
        let mut ids: Vec<u32> = s.node_id.iter().copied().filter(|id| id & 1 == 1).collect();
        ids.sort_unstable();
        ids.dedup();
        Self { ids }
    }
    pub fn contains(&self, id: u64) -> bool {
        u32::try_from(id).is_ok_and(|id| self.ids.binary_search(&id).is_ok())
    }
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Id → node ordinal lookup for one snapshot.
pub struct IdIndex {
    pairs: Vec<(u32, u32)>,
}

impl IdIndex {
    pub fn new(s: &HeapSnapshot) -> Self {
        let mut pairs: Vec<(u32, u32)> = s
            .node_id
            .iter()
            .enumerate()
            .map(|(n, &id)| (id, n as u32))
            .collect();
        pairs.sort_unstable();
        Self { pairs }
    }
    /// The ordinal of the node with this id (the first, should a snapshot repeat an id).
    pub fn ordinal(&self, id: u64) -> Option<u32> {
        let id = u32::try_from(id).ok()?;
        let i = self.pairs.partition_point(|&(x, _)| x < id);
        self.pairs
            .get(i)
            .filter(|&&(x, _)| x == id)
            .map(|&(_, n)| n)
    }
}

/// Ordinals of `after`'s JS objects (odd ids) that `before` did not have.
pub fn new_objects(before: &IdSet, after: &HeapSnapshot) -> Vec<u32> {
    (0..after.node_count())
        .filter(|&n| after.is_odd_id(n) && !before.contains(after.node_id(n)))
        .collect()
}

/// Ordinals of `after`'s JS objects (odd ids) that `before` also had.
pub fn surviving_objects(before: &IdSet, after: &HeapSnapshot) -> Vec<u32> {
    (0..after.node_count())
        .filter(|&n| after.is_odd_id(n) && before.contains(after.node_id(n)))
        .collect()
}

/// Birth bucket of an object id given the last id assigned at each iteration boundary
/// (ascending): 0 if born before the first boundary, k if born after boundary k-1 and by
/// boundary k, `boundaries.len()` if born after the last.
pub fn birth_bucket(id: u64, boundaries: &[u64]) -> usize {
    boundaries.partition_point(|&b| b < id)
}
