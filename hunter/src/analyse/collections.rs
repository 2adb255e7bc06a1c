//! Collections that keep growing: Arrays, Maps and Sets whose number of entries grows in every
//! measured iteration.
//!
//! Birth counting cannot see these when no new object appears: numbers pushed into an array live
//! inside one backing store that V8 grows in steps, and a heap snapshot carries neither an
//! array's length nor (for small integers) its elements. So the sizes are read in the target
//! itself at each iteration boundary (see `hunt::collections`) and only compared here.

use std::collections::HashMap;

/// One live collection as seen at an iteration boundary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct CollectionSample {
    /// An identity given by hunter in the target; stable for the collection's life.
    pub id: u64,
    /// `Array`, `Map` or `Set`.
    pub kind: String,
    /// Its number of entries (`length` or `size`).
    pub size: u64,
}

/// A collection that grew in every measured iteration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrowingCollection {
    pub id: u64,
    pub kind: String,
    /// Sizes at the baseline and after each measured iteration.
    pub sizes: Vec<u64>,
}

/// Collection sizes of one process (or worker) at each iteration boundary.
#[derive(Debug, Default)]
pub struct CollectionTracker {
    /// id → (kind, size at each boundary where it was alive)
    series: HashMap<u64, (String, Vec<Option<u64>>)>,
    boundaries: usize,
}

impl CollectionTracker {
    pub fn new() -> CollectionTracker {
        CollectionTracker::default()
    }

    /// Records the sizes seen at one boundary; the first call is the baseline.
    pub fn observe(&mut self, samples: Vec<CollectionSample>) {
        let boundary = self.boundaries;
        self.boundaries += 1;
        for sample in samples {
            let (_, sizes) = self
                .series
                .entry(sample.id)
                .or_insert_with(|| (sample.kind, Vec::new()));
            sizes.resize(boundary, None);
            sizes.push(Some(sample.size));
        }
    }

    /// How many boundaries were observed, the baseline included.
    pub fn boundaries(&self) -> usize {
        self.boundaries
    }

    /// Collections alive at every boundary whose size grew at each step, largest growth first.
    pub fn growing(&self) -> Vec<GrowingCollection> {
        if self.boundaries < 3 {
            return Vec::new();
        }
        let mut growing: Vec<GrowingCollection> = self
            .series
            .iter()
            .filter_map(|(&id, (kind, sizes))| {
                if sizes.len() != self.boundaries {
                    return None;
                }
                let sizes: Vec<u64> = sizes.iter().copied().collect::<Option<_>>()?;
                sizes
                    .windows(2)
                    .all(|pair| pair[1] > pair[0])
                    .then(|| GrowingCollection {
                        id,
                        kind: kind.clone(),
                        sizes,
                    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: u64, size: u64) -> CollectionSample {
        CollectionSample {
            id,
            kind: "Array".into(),
            size,
        }
    }

    #[test]
    fn only_collections_that_grow_at_every_step_are_growing() {
        let mut tracker = CollectionTracker::new();
        tracker.observe(vec![sample(1, 10), sample(2, 10), sample(3, 5)]);
        tracker.observe(vec![
            sample(1, 20),
            sample(2, 10),
            sample(3, 6),
            sample(4, 1),
        ]);
        tracker.observe(vec![
            sample(1, 30),
            sample(2, 40),
            sample(3, 7),
            sample(4, 2),
        ]);
        let growing = tracker.growing();
        let ids: Vec<u64> = growing.iter().map(|c| c.id).collect();
        // 1 and 3 grew at both steps (1 by more); 2 stalled once; 4 was born after the baseline.
        assert_eq!(ids, vec![1, 3]);
        assert_eq!(growing[0].sizes, vec![10, 20, 30]);
    }

    #[test]
    fn a_collection_missing_at_one_boundary_is_not_growing() {
        let mut tracker = CollectionTracker::new();
        tracker.observe(vec![sample(1, 1)]);
        tracker.observe(vec![]);
        tracker.observe(vec![sample(1, 3)]);
        assert!(tracker.growing().is_empty());
    }
}
