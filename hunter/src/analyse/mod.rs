//! Leak detection: turns a series of heap snapshots of one process into leak groups.
//!
//! The method is the three-snapshot technique generalised to N iterations, done by object id.
//! V8 gives every heap object an id the first time a snapshot sees it, in increasing order, and
//! keeps it across snapshots of one isolate. So after a baseline snapshot (taken once the warmup
//! is over) every object with a larger odd id was allocated during the measured iterations, and
//! the first measured snapshot that holds an id tells in which iteration the object was born.
//!
//! A *leak group* is a set of objects with the same [group name](group_name) that were born
//! during the hunt, are still alive in the last snapshot, and were born in **every** measured
//! iteration in similar numbers. That rule is what keeps hunter quiet on the usual false alarms:
//! - a bounded cache or sliding window keeps only the newest entries, so the survivors were born
//!   in the last iteration or two, not in every one;
//! - a table built lazily on first use is built during the warmup, before the baseline;
//! - garbage churn and short-lived timers leave no survivors at all;
//! - a cache with random replacement leaves survivors from every iteration, but in counts that
//!   decay towards the past, which the flatness rule ([`FLATNESS`]) rejects.
//!
//! Only the ids and group of new objects are kept from each intermediate snapshot ([`Census`]);
//! the last snapshot is analysed in full for retained sizes and retainer paths.

mod collections;

pub use collections::{
    collection_leaks, CollectionId, CollectionTracker, GrowingCollection, MIN_ENTRIES,
};

use std::collections::HashMap;

use crate::report::{Growth, Leak};
use crate::snapshot::{retainer_path, Analysis, HeapSnapshot};

/// Survivors born in the quietest measured iteration must be at least this share of those born
/// in the busiest one. Measured on random-replacement caches, whose survivors decay
/// geometrically towards older iterations, while real leaks add about the same every iteration.
pub const FLATNESS: f64 = 0.25;

/// How many group members are tried when looking for the shortest retainer path.
const PATH_CANDIDATES: usize = 8;

/// The name under which an object is grouped, or `None` for V8 internals that are never
/// reported (compiled code, maps, feedback, `(system)` objects, embedder nodes).
///
/// Objects and native wrappers are grouped by constructor name, closures by function name
/// (`(anonymous function)` when it has none), strings of every representation as `(string)`,
/// and the remaining JavaScript value types by their DevTools category such as `(regexp)`.
pub fn group_name(snapshot: &HeapSnapshot, node: u32) -> Option<&str> {
    let name = snapshot.node_name(node);
    match snapshot.node_type_name(node) {
        "object" => {
            if name.starts_with("system /") || name.is_empty() {
                None
            } else {
                Some(name)
            }
        }
        "closure" => Some(if name.is_empty() {
            "(anonymous function)"
        } else {
            name
        }),
        "string" | "concatenated string" | "sliced string" => Some("(string)"),
        "regexp" => Some("(regexp)"),
        "number" => Some("(heap number)"),
        "symbol" => Some("(symbol)"),
        "bigint" => Some("(bigint)"),
        // hidden, array, code, synthetic, native, object shape, wasm object, and any type a
        // newer V8 adds: internals until shown otherwise.
        _ => None,
    }
}

/// Whether an object is kept alone by V8's own bookkeeping (code, scope infos, feedback,
/// shared function infos): strings and numbers that compilation attaches to functions as they
/// are first run or re-optimised. They are the engine's, not the program's, and never a leak
/// the user can fix.
fn held_by_engine(snapshot: &HeapSnapshot, analysis: &Analysis, node: u32) -> bool {
    let dominator = analysis.dominator(node);
    if dominator == node {
        return false;
    }
    match snapshot.node_type_name(dominator) {
        "code" | "hidden" | "object shape" => true,
        "object" | "native" => {
            let name = snapshot.node_name(dominator);
            name.starts_with("system / ") && name != "system / Context"
        }
        _ => false,
    }
}

/// Interns group names so that censuses of different snapshots agree on group numbers.
#[derive(Default)]
struct GroupNames {
    index: HashMap<String, u32>,
    names: Vec<String>,
}

impl GroupNames {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&key) = self.index.get(name) {
            return key;
        }
        let key = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), key);
        key
    }

    fn lookup(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }
}

/// What the detector keeps of one measured snapshot: the new objects it holds.
struct Census {
    /// Odd ids born after the baseline, with their group, sorted by id.
    born: Vec<(u64, u32)>,
}

impl Census {
    fn group_of(&self, id: u64) -> Option<u32> {
        self.born
            .binary_search_by_key(&id, |&(id, _)| id)
            .ok()
            .map(|at| self.born[at].1)
    }
}

/// The largest odd id in a snapshot: every JavaScript object a later snapshot shows for the
/// first time has a larger one. Even ids belong to embedder objects, which may change id.
pub fn max_js_id(snapshot: &HeapSnapshot) -> u64 {
    (0..snapshot.node_count())
        .map(|n| snapshot.node_id(n))
        .filter(|id| !id.is_multiple_of(2))
        .max()
        .unwrap_or(0)
}

/// Follows one process through a hunt: a baseline snapshot, then one per measured iteration.
#[derive(Default)]
pub struct LeakTracker {
    groups: GroupNames,
    baseline_max_id: Option<u64>,
    censuses: Vec<Census>,
}

impl LeakTracker {
    pub fn new() -> LeakTracker {
        LeakTracker::default()
    }

    /// Records the snapshot that ends the warmup. Everything born later is a candidate.
    pub fn observe_baseline(&mut self, snapshot: &HeapSnapshot) {
        self.baseline_max_id = Some(max_js_id(snapshot));
        self.censuses.clear();
    }

    /// How many measured snapshots have been observed since the baseline.
    pub fn measured(&self) -> usize {
        self.censuses.len()
    }

    /// Records the snapshot taken at the end of a measured iteration.
    pub fn observe(&mut self, snapshot: &HeapSnapshot) {
        let Some(baseline) = self.baseline_max_id else {
            // Seen for the first time after the baseline (a child started mid-hunt): this
            // snapshot is its baseline.
            self.observe_baseline(snapshot);
            return;
        };
        let mut born = Vec::new();
        for node in 0..snapshot.node_count() {
            let id = snapshot.node_id(node);
            if !id.is_multiple_of(2) && id > baseline {
                if let Some(name) = group_name(snapshot, node) {
                    born.push((id, self.groups.intern(name)));
                }
            }
        }
        born.sort_unstable_by_key(|&(id, _)| id);
        self.censuses.push(Census { born });
    }

    /// Finds the leak groups. `last` must be the snapshot observed last, analysed in full.
    pub fn leaks(&self, last: &HeapSnapshot, analysis: &Analysis) -> Vec<Leak> {
        let Some(baseline) = self.baseline_max_id else {
            return Vec::new();
        };
        let iterations = self.censuses.len();
        if iterations == 0 {
            return Vec::new();
        }

        // Every new object alive at the end, put in the iteration it was first seen in.
        let mut members: HashMap<u32, GroupMembers> = HashMap::new();
        for node in 0..last.node_count() {
            let id = last.node_id(node);
            if id.is_multiple_of(2) || id <= baseline {
                continue;
            }
            let Some(group) = group_name(last, node).and_then(|name| self.groups.lookup(name))
            else {
                continue;
            };
            // An id that had another group in an earlier snapshot was reused for a new object
            // at the same address: its birth iteration is unknown, so it is left out.
            let Some(born_in) = self
                .censuses
                .iter()
                .position(|census| census.group_of(id).is_some())
            else {
                continue;
            };
            if self.censuses[born_in].group_of(id) != Some(group) {
                continue;
            }
            if held_by_engine(last, analysis, node) {
                continue;
            }
            let entry = members
                .entry(group)
                .or_insert_with(|| GroupMembers::new(iterations));
            entry.born_count[born_in] += 1;
            entry.born_bytes[born_in] += last.self_size(node);
            entry.nodes.push((born_in, node));
        }

        members.retain(|_, m| m.grows_every_iteration());
        let mut owners = owning_groups(&members, analysis);
        for (primitive, owner) in container_mates(&members, &owners, analysis, &self.groups) {
            owners.insert(primitive, owner);
        }
        // Each folded group is listed under the group at the top of its chain of owners.
        let mut included: HashMap<u32, Vec<(u64, u32)>> = HashMap::new();
        for (&owned, &owner) in &owners {
            let mut top = owner;
            for _ in 0..owners.len() {
                match owners.get(&top) {
                    Some(&next) => top = next,
                    None => break,
                }
            }
            let count = members[&owned].nodes.len() as u64;
            included.entry(top).or_default().push((count, owned));
        }
        let mut leaks: Vec<Leak> = members
            .into_iter()
            .filter(|(group, _)| !owners.contains_key(group))
            .map(|(group, m)| {
                let mut leak = m.into_leak(&self.groups.names[group as usize], last, analysis);
                let mut parts = included.remove(&group).unwrap_or_default();
                parts.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                leak.includes = parts
                    .into_iter()
                    .map(|(_, g)| self.groups.names[g as usize].clone())
                    .collect();
                leak
            })
            .collect();
        sort_leaks(&mut leaks);
        leaks
    }
}

/// Groups whose members are mostly kept alone by members of another group (the numbers and
/// strings inside leaked objects, the payload each leaked listener closes over), mapped to the
/// group that owns most of them. They are part of that group's retained size, and reporting
/// them as leaks of their own would bury the culprit.
fn owning_groups(members: &HashMap<u32, GroupMembers>, analysis: &Analysis) -> HashMap<u32, u32> {
    let group_of: HashMap<u32, u32> = members
        .iter()
        .flat_map(|(&group, m)| m.nodes.iter().map(move |&(_, node)| (node, group)))
        .collect();
    // For each member, the group of the nearest dominator outside its own group (None: the
    // root). Memoised, because members of one group often dominate each other in long chains
    // (a linked list, a tree of string pieces) and each walk would otherwise climb it all.
    // Keyed by (node, the walking group): the answer depends on which group is looking.
    let mut owner_of: HashMap<(u32, u32), Option<u32>> = HashMap::new();
    let mut owners = HashMap::new();
    for (&group, m) in members {
        let mut owned_by: HashMap<u32, usize> = HashMap::new();
        for &(_, node) in &m.nodes {
            let mut climbed = Vec::new();
            let mut at = node;
            let found = loop {
                if let Some(&known) = owner_of.get(&(at, group)) {
                    break known;
                }
                climbed.push(at);
                let dominator = analysis.dominator(at);
                if dominator == at {
                    break None;
                }
                match group_of.get(&dominator) {
                    Some(&owner) if owner != group => break Some(owner),
                    _ => at = dominator,
                }
            };
            for visited in climbed {
                owner_of.insert((visited, group), found);
            }
            if let Some(owner) = found {
                *owned_by.entry(owner).or_default() += 1;
            }
        }
        if let Some((&owner, &count)) = owned_by
            .iter()
            .max_by_key(|(&g, &c)| (c, std::cmp::Reverse(g)))
        {
            if count * 2 > m.nodes.len() {
                owners.insert(group, owner);
            }
        }
    }
    // Interleaved groups (A holds B holds A …) can own each other; the biggest group of such a
    // cycle stays a leak group of its own so that the cycle is reported once.
    let groups: Vec<u32> = owners.keys().copied().collect();
    for start in groups {
        let mut cycle = vec![start];
        let mut at = start;
        while let Some(&next) = owners.get(&at) {
            if next == start {
                let biggest = *cycle
                    .iter()
                    .max_by_key(|g| (members[g].nodes.len(), std::cmp::Reverse(**g)))
                    .expect("a cycle has members");
                owners.remove(&biggest);
                break;
            }
            if cycle.contains(&next) || cycle.len() > owners.len() {
                break;
            }
            cycle.push(next);
            at = next;
        }
    }
    owners
}

/// Groups of primitives (strings, numbers) that sit in the same containers as another group's
/// objects, mapped to that group: the keys of a Map whose values leak, the labels stored next
/// to them. They grow with that group and for the same reason.
fn container_mates(
    members: &HashMap<u32, GroupMembers>,
    owners: &HashMap<u32, u32>,
    analysis: &Analysis,
    names: &GroupNames,
) -> Vec<(u32, u32)> {
    let is_primitive = |group: u32| {
        matches!(
            names.names[group as usize].as_str(),
            "(string)" | "(heap number)" | "(symbol)" | "(bigint)"
        )
    };
    // Where a group's objects live (their immediate dominators), and the objects themselves,
    // together with those of the groups folded into it: a primitive held by any of them grows
    // with that group (`args` arrays inside leaked commands hold their strings).
    let top = |mut group: u32| {
        for _ in 0..owners.len() {
            match owners.get(&group) {
                Some(&owner) => group = owner,
                None => break,
            }
        }
        group
    };
    let mut held_in: HashMap<u32, std::collections::HashSet<u32>> = HashMap::new();
    for (&group, m) in members.iter().filter(|(&g, _)| !is_primitive(g)) {
        held_in.entry(top(group)).or_default().extend(
            m.nodes
                .iter()
                .flat_map(|&(_, node)| [analysis.dominator(node), node]),
        );
    }
    let objects: Vec<(u32, std::collections::HashSet<u32>)> = held_in.into_iter().collect();
    let mut mates = Vec::new();
    for (&group, m) in members {
        if !is_primitive(group) || owners.contains_key(&group) {
            continue;
        }
        let best = objects
            .iter()
            .map(|(owner, held_in)| {
                let shared = m
                    .nodes
                    .iter()
                    .filter(|&&(_, node)| held_in.contains(&analysis.dominator(node)))
                    .count();
                (shared, std::cmp::Reverse(*owner))
            })
            .max();
        if let Some((shared, std::cmp::Reverse(owner))) = best {
            if shared * 2 > m.nodes.len() {
                mates.push((group, owner));
            }
        }
    }
    mates
}

/// Sorts leak groups as the report wants them: most bytes per iteration first, then by name so
/// that the same input always gives the same order.
pub fn sort_leaks(leaks: &mut [Leak]) {
    leaks.sort_by(|a, b| {
        b.growth_per_iteration
            .bytes
            .total_cmp(&a.growth_per_iteration.bytes)
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// The surviving new objects of one group, by birth iteration.
struct GroupMembers {
    born_count: Vec<u64>,
    born_bytes: Vec<u64>,
    /// (birth iteration, node ordinal in the last snapshot)
    nodes: Vec<(usize, u32)>,
}

impl GroupMembers {
    fn new(iterations: usize) -> GroupMembers {
        GroupMembers {
            born_count: vec![0; iterations],
            born_bytes: vec![0; iterations],
            nodes: Vec::new(),
        }
    }

    fn grows_every_iteration(&self) -> bool {
        let min = self.born_count.iter().copied().min().unwrap_or(0);
        let max = self.born_count.iter().copied().max().unwrap_or(0);
        min > 0 && min as f64 >= FLATNESS * max as f64
    }

    fn into_leak(mut self, name: &str, last: &HeapSnapshot, analysis: &Analysis) -> Leak {
        let iterations = self.born_count.len() as f64;
        let count = running_sum(&self.born_count);
        let self_bytes = running_sum(&self.born_bytes);
        let growth = Growth {
            count: count.last().copied().unwrap_or(0) as f64 / iterations,
            bytes: self_bytes.last().copied().unwrap_or(0) as f64 / iterations,
        };
        // The example shown is the member closest to a root (user roots first, as DevTools
        // measures distance): in a chain of leaked objects that is the head of the chain, with
        // a path of a few steps instead of one through every link. Oldest first among equals.
        self.nodes
            .sort_unstable_by_key(|&(born_in, node)| (analysis.distance(node), born_in, node));
        let kind = last.node_type_name(self.nodes[0].1).to_owned();
        let retainer_path = self
            .nodes
            .iter()
            .take(PATH_CANDIDATES)
            .map(|&(_, node)| retainer_path(last, analysis, node))
            .filter(|path| !path.is_empty())
            .min_by_key(|path| path.len())
            .unwrap_or_default();
        let nodes: Vec<u32> = self.nodes.iter().map(|&(_, node)| node).collect();
        Leak {
            name: name.to_owned(),
            kind,
            count,
            self_bytes,
            growth_per_iteration: growth,
            retained_bytes: retained_once(analysis, &nodes),
            retainer_path,
            allocated_at: None,
            includes: Vec::new(),
        }
    }
}

fn running_sum(values: &[u64]) -> Vec<u64> {
    values
        .iter()
        .scan(0u64, |total, v| {
            *total += v;
            Some(*total)
        })
        .collect()
}

/// The bytes a set of objects keeps alive, counting each object once: a member dominated by
/// another member is already inside that member's retained size.
pub fn retained_once(analysis: &Analysis, nodes: &[u32]) -> u64 {
    let set: std::collections::HashSet<u32> = nodes.iter().copied().collect();
    nodes
        .iter()
        .filter(|&&node| {
            let mut at = node;
            loop {
                let dominator = analysis.dominator(at);
                if dominator == at {
                    return true; // reached the root
                }
                if set.contains(&dominator) {
                    return false;
                }
                at = dominator;
            }
        })
        .map(|&node| analysis.retained_size(node))
        .sum()
}
