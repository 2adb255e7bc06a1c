//! DevTools class names: which Summary-view row each node belongs to. A port of DevTools'
//! `calculateObjectNames`, `propagateDOMState`, `inferInterfaceDefinitions`,
//! `applyInterfaceDefinitions` and `classKeyInternal` (heap-snapshot-toolkit 1.1.3), so that
//! names, and which objects share a row, match DevTools exactly.

use super::graph::{HeapSnapshot, Location};
use super::FastMap;
use std::cmp::Ordering;
use std::collections::HashMap;

const NONE: u32 = u32::MAX;
const MIN_INTERFACE_PROPERTY_COUNT: usize = 1;
const MAX_INTERFACE_NAME_LENGTH: usize = 120;
const MIN_OBJECT_COUNT_PER_INTERFACE: f64 = 2.0;
const MIN_OBJECT_PROPORTION_PER_INTERFACE: f64 = 1000.0;

/// One Summary-view row: a class name, plus the constructor's location for objects that have one.
#[derive(Debug, Clone)]
pub(crate) struct Class {
    pub name: String,
    pub location: Option<Location>,
}

impl Class {
    /// DevTools' `classKeyFromClassKeyInternal`.
    pub fn public_key(&self) -> String {
        match self.location {
            Some(l) => format!("{},{},{},{}", l.script_id, l.line, l.column, self.name),
            None => format!(",{}", self.name),
        }
    }
}

/// Which string a class name is. DevTools keeps names of different origins apart even when
/// their text is equal (a native named `(system)` and hidden objects are two rows).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum NameId {
    /// A string of the snapshot, by index.
    Raw(u32),
    /// A name DevTools adds (`(system)`, `Function`, `<div>`, …), by text.
    Added(u32),
    /// An inferred interface name (`{a, b}`).
    Interface(u32),
}

/// JavaScript string comparison: by UTF-16 code units.
pub(crate) fn cmp_utf16(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// DevTools' `formatPropertyName`: names with `,'"{}` are shown JSON-quoted.
pub(crate) fn format_property_name(name: &str) -> String {
    if name.contains([',', '\'', '"', '{', '}']) {
        serde_json::to_string(name).unwrap_or_else(|_| name.to_owned())
    } else {
        name.to_owned()
    }
}

/// Marks DOM nodes detached or attached and prefixes detached ones' names with `Detached `.
pub(crate) fn propagate_dom_state(s: &mut HeapSnapshot) {
    if s.detachedness.is_empty() {
        return;
    }
    const ATTACHED: u8 = 1;
    const DETACHED: u8 = 2;
    let n = s.node_count() as usize;
    let native = s.types.native;
    let (hidden, weak) = (s.types.edge_hidden, s.types.edge_weak);
    let mut visited = vec![false; n];
    let mut attached = Vec::new();
    let mut detached = Vec::new();
    let mut renamed: HashMap<u32, u32> = HashMap::new();
    let mut process = |s: &mut HeapSnapshot,
                       v: usize,
                       state: u8,
                       attached: &mut Vec<u32>,
                       detached: &mut Vec<u32>| {
        if visited[v] {
            return;
        }
        visited[v] = true;
        if s.shape.node_type[v] != native {
            return;
        }
        s.detachedness[v] = state;
        if state == ATTACHED {
            attached.push(v as u32);
        } else if state == DETACHED {
            let old = s.node_name[v];
            let new = match renamed.get(&old) {
                Some(&new) => new,
                None => {
                    let text = format!("Detached {}", s.strings.get(old));
                    let new = s.strings.push(&text);
                    renamed.insert(old, new);
                    new
                }
            };
            s.node_name[v] = new;
            detached.push(v as u32);
        }
    };
    for v in 0..n {
        let state = s.detachedness[v];
        if state != 0 {
            process(s, v, state, &mut attached, &mut detached);
        }
    }
    let children = |s: &HeapSnapshot, v: u32| -> Vec<u32> {
        s.edge_range(v)
            .filter(|&e| s.shape.edge_type[e] != hidden && s.shape.edge_type[e] != weak)
            .map(|e| s.shape.edge_to[e])
            .collect()
    };
    while let Some(v) = attached.pop() {
        for child in children(s, v) {
            process(s, child as usize, ATTACHED, &mut attached, &mut detached);
        }
    }
    while let Some(v) = detached.pop() {
        if s.detachedness[v as usize] == ATTACHED {
            continue;
        }
        for child in children(s, v) {
            process(s, child as usize, DETACHED, &mut attached, &mut detached);
        }
    }
}

/// Per node, its class name as one `u32`, so that the per-node column is 4 bytes, not an
/// enum's 8: a snapshot string's index as is, any other name as `u32::MAX - k` for its place
/// `k` in a short list (DevTools' added names and inferred interfaces are a few hundred).
struct PackedNames {
    string_count: u32,
    others: Vec<NameId>,
    other_index: FastMap<NameId, u32>,
}

impl PackedNames {
    fn pack(&mut self, id: NameId) -> u32 {
        match id {
            NameId::Raw(i) => i,
            _ => {
                let k = *self.other_index.entry(id).or_insert_with(|| {
                    self.others.push(id);
                    (self.others.len() - 1) as u32
                });
                // Past u32::MAX - string_count the two ranges would meet; no real snapshot has
                // billions of strings plus names (they would not fit the u32 node columns).
                debug_assert!(u32::MAX - k >= self.string_count);
                u32::MAX - k
            }
        }
    }
    fn unpack(&self, packed: u32) -> NameId {
        if packed < self.string_count {
            NameId::Raw(packed)
        } else {
            self.others[(u32::MAX - packed) as usize]
        }
    }
}

/// Assigns every node its class. Returns (class per node, class table).
pub(crate) fn assign(s: &HeapSnapshot) -> (Vec<u32>, Vec<Class>) {
    let n = s.node_count() as usize;
    let t = s.types;
    let mut added: Vec<String> = Vec::new();
    let mut added_index: HashMap<String, u32> = HashMap::new();
    let mut add = |text: String| -> NameId {
        if let Some(&i) = added_index.get(&text) {
            return NameId::Added(i);
        }
        let i = added.len() as u32;
        added.push(text.clone());
        added_index.insert(text, i);
        NameId::Added(i)
    };
    let system = add("(system)".into());
    let compiled = add("(compiled code)".into());
    let function = add("Function".into());
    let regexp = add("RegExp".into());
    let mut by_type: Vec<Option<NameId>> = vec![None; s.node_types.len()];
    let mut packed = PackedNames {
        string_count: s.strings.len() as u32,
        others: Vec::new(),
        other_index: FastMap::default(),
    };
    // The names, then (overwritten in place) the classes.
    let mut column: Vec<u32> = Vec::with_capacity(n);
    for v in 0..n {
        let ty = s.shape.node_type[v];
        let id = if ty == t.hidden {
            system
        } else if ty == t.object || ty == t.native {
            let raw = s.node_name[v];
            let name = s.strings.get(raw);
            if name.starts_with('<') {
                match name.find(' ') {
                    Some(space) => add(format!("{}>", &name[..space])),
                    None => add(name.to_owned()),
                }
            } else if let Some(rest) = name.strip_prefix("Detached <") {
                match rest.find(' ') {
                    Some(space) => add(format!("{}>", &name[..10 + space])),
                    None => add(name.to_owned()),
                }
            } else {
                NameId::Raw(raw)
            }
        } else if ty == t.code {
            compiled
        } else if ty == t.closure {
            function
        } else if ty == t.regexp {
            regexp
        } else {
            match by_type[ty as usize] {
                Some(id) => id,
                None => {
                    let id = add(format!("({})", s.node_types[ty as usize]));
                    by_type[ty as usize] = Some(id);
                    id
                }
            }
        };
        column.push(packed.pack(id));
    }
    let interfaces = infer_interfaces(s);
    apply_interfaces(s, &interfaces, |v, interface| {
        column[v as usize] = packed.pack(NameId::Interface(interface));
    });

    let text = |id: NameId| -> &str {
        match id {
            NameId::Raw(i) => s.strings.get(i),
            NameId::Added(i) => &added[i as usize],
            NameId::Interface(i) => &interfaces[i as usize].name,
        }
    };
    let mut classes: Vec<Class> = Vec::new();
    let mut by_raw = vec![NONE; s.strings.len()];
    let mut by_other: FastMap<NameId, u32> = FastMap::default();
    let mut by_location: FastMap<(Location, NameId), u32> = FastMap::default();
    // DevTools keys located classes by text; equal texts of different origin are one class.
    let mut by_location_text: FastMap<(Location, String), u32> = FastMap::default();
    let mut locations = s.locations.iter().peekable();
    for (v, slot) in column.iter_mut().enumerate() {
        let id = packed.unpack(*slot);
        while locations
            .next_if(|&(node, _)| (node as usize) < v)
            .is_some()
        {}
        let location = match locations.peek() {
            Some(&(node, location)) if node as usize == v && s.shape.node_type[v] == t.object => {
                Some(location)
            }
            _ => None,
        };
        let class = if let Some(location) = location {
            match by_location.get(&(location, id)) {
                Some(&class) => class,
                None => {
                    let name = text(id).to_owned();
                    let class = *by_location_text
                        .entry((location, name.clone()))
                        .or_insert_with(|| {
                            classes.push(Class {
                                name,
                                location: Some(location),
                            });
                            (classes.len() - 1) as u32
                        });
                    by_location.insert((location, id), class);
                    class
                }
            }
        } else if let NameId::Raw(i) = id {
            let slot = &mut by_raw[i as usize];
            if *slot == NONE {
                classes.push(Class {
                    name: text(id).to_owned(),
                    location: None,
                });
                *slot = (classes.len() - 1) as u32;
            }
            *slot
        } else {
            *by_other.entry(id).or_insert_with(|| {
                classes.push(Class {
                    name: text(id).to_owned(),
                    location: None,
                });
                (classes.len() - 1) as u32
            })
        };
        *slot = class;
    }
    (column, classes)
}

fn is_plain_object(s: &HeapSnapshot, v: u32) -> bool {
    s.shape.node_type[v as usize] == s.types.object && s.node_name(v) == "Object"
}

struct Interface {
    name: String,
    properties: Vec<String>,
    count: u64,
}

/// DevTools' `inferInterfaceDefinitions`: frequent property sets of plain objects.
fn infer_interfaces(s: &HeapSnapshot) -> Vec<Interface> {
    let property = s.types.edge_property;
    let mut candidates: Vec<Interface> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut total = 0u64;
    for v in 0..s.node_count() {
        if !is_plain_object(s, v) {
            continue;
        }
        total += 1;
        let mut name = String::from("{");
        let mut name_len = 1usize;
        let mut properties = Vec::new();
        for e in s.edge_range(v) {
            if s.shape.edge_type[e] != property {
                continue;
            }
            let edge_name = s.strings.get(s.edge_name[e]);
            if edge_name == "__proto__" {
                continue;
            }
            let formatted = format_property_name(edge_name);
            let formatted_len = utf16_len(&formatted);
            if name_len > MIN_INTERFACE_PROPERTY_COUNT
                && name_len + formatted_len > MAX_INTERFACE_NAME_LENGTH
            {
                break;
            }
            if name_len != 1 {
                name.push_str(", ");
                name_len += 2;
            }
            name.push_str(&formatted);
            name_len += formatted_len;
            properties.push(edge_name.to_owned());
        }
        if properties.is_empty() {
            continue;
        }
        name.push('}');
        match index.get(&name) {
            Some(&i) => candidates[i].count += 1,
            None => {
                index.insert(name.clone(), candidates.len());
                candidates.push(Interface {
                    name,
                    properties,
                    count: 1,
                });
            }
        }
    }
    candidates.sort_by_key(|c| std::cmp::Reverse(c.count));
    let min_count =
        MIN_OBJECT_COUNT_PER_INTERFACE.max(total as f64 / MIN_OBJECT_PROPORTION_PER_INTERFACE);
    let keep = candidates
        .iter()
        .take_while(|c| c.count as f64 >= min_count)
        .count();
    candidates.truncate(keep);
    candidates
}

#[derive(Clone, Copy)]
struct Match {
    property_count: usize,
    /// Interface index; `usize::MAX` for the fallback `Object`.
    index: usize,
}

fn better(a: Match, b: Option<Match>) -> Match {
    let Some(b) = b else { return a };
    if a.property_count > b.property_count {
        return a;
    }
    if b.property_count > a.property_count {
        return b;
    }
    if a.index <= b.index {
        a
    } else {
        b
    }
}

#[derive(Default)]
struct TreeNode {
    next: HashMap<String, usize>,
    matched: Option<Match>,
    greatest_next: Option<String>,
}

/// DevTools' `applyInterfaceDefinitions`: renames plain objects after the best-matching interface.
/// `rename(node, interface index)` is called for each renamed object.
fn apply_interfaces(s: &HeapSnapshot, interfaces: &[Interface], mut rename: impl FnMut(u32, u32)) {
    if interfaces.is_empty() {
        return;
    }
    let property = s.types.edge_property;
    let mut tree: Vec<TreeNode> = vec![TreeNode::default()];
    for (index, interface) in interfaces.iter().enumerate() {
        let mut properties = interface.properties.clone();
        properties.sort_by(|a, b| cmp_utf16(a, b));
        let mut current = 0usize;
        for p in &properties {
            let next = match tree[current].next.get(p) {
                Some(&next) => next,
                None => {
                    tree.push(TreeNode::default());
                    let next = tree.len() - 1;
                    let node = &mut tree[current];
                    node.next.insert(p.clone(), next);
                    if node
                        .greatest_next
                        .as_deref()
                        .is_none_or(|g| cmp_utf16(g, p) == Ordering::Less)
                    {
                        node.greatest_next = Some(p.clone());
                    }
                    next
                }
            };
            current = next;
        }
        if tree[current].matched.is_none() {
            tree[current].matched = Some(Match {
                property_count: properties.len(),
                index,
            });
        }
    }
    let initial = Match {
        property_count: 0,
        index: usize::MAX,
    };
    let mut properties: Vec<&str> = Vec::new();
    let mut states: Vec<usize> = Vec::new();
    let mut next_states: Vec<usize> = Vec::new();
    for v in 0..s.node_count() {
        if !is_plain_object(s, v) {
            continue;
        }
        properties.clear();
        for e in s.edge_range(v) {
            if s.shape.edge_type[e] == property {
                properties.push(s.strings.get(s.edge_name[e]));
            }
        }
        properties.sort_by(|a, b| cmp_utf16(a, b));
        states.clear();
        states.push(0);
        let mut best = better(initial, tree[0].matched);
        for p in &properties {
            next_states.clear();
            for &state in &states {
                let node = &tree[state];
                let exhausted = match &node.greatest_next {
                    None => true,
                    Some(g) => cmp_utf16(p, g) != Ordering::Less,
                };
                if !exhausted {
                    next_states.push(state);
                }
                if let Some(&next) = node.next.get(*p) {
                    next_states.push(next);
                    best = better(best, tree[next].matched);
                }
            }
            next_states.sort_unstable();
            next_states.dedup();
            std::mem::swap(&mut states, &mut next_states);
        }
        if best.index != usize::MAX {
            rename(v, best.index as u32);
        }
    }
}
