//! The snapshot API on a known leak: one Node process adds 100 `Session` objects to a global Map
//! between each of three snapshots. Id diffs find exactly the new sessions, and the retainer path
//! names the global, the Map and its table.

mod summary_support;

use hunter::snapshot::{
    new_objects, read_file, retainer_path, summary, surviving_objects, Analysis, HeapSnapshot,
    IdSet,
};
use summary_support::*;

fn sessions(s: &HeapSnapshot, nodes: &[u32]) -> Vec<u32> {
    nodes
        .iter()
        .copied()
        .filter(|&n| s.class_name(n) == "Session")
        .collect()
}

#[test]
fn id_diffs_find_the_sessions_each_round_added() {
    let dir = tempfile::tempdir().unwrap();
    make_snapshots("leak", dir.path());
    let snaps: Vec<HeapSnapshot> = (1..=3)
        .map(|k| read_file(&dir.path().join(format!("leak-{k}.heapsnapshot"))).unwrap())
        .collect();
    for k in 0..2 {
        let before = IdSet::from_snapshot(&snaps[k]);
        let added = sessions(&snaps[k + 1], &new_objects(&before, &snaps[k + 1]));
        assert_eq!(added.len(), 100, "round {}", k + 2);
        assert!(added.iter().all(|&n| snaps[k + 1].is_odd_id(n)));
        let kept = sessions(&snaps[k + 1], &surviving_objects(&before, &snaps[k + 1]));
        assert_eq!(kept.len(), 100 * (k + 1), "round {}", k + 2);
    }
    let first = IdSet::from_snapshot(&snaps[0]);
    assert_eq!(
        sessions(&snaps[2], &surviving_objects(&first, &snaps[2])).len(),
        100
    );
    for (k, s) in snaps.iter().enumerate() {
        let a = Analysis::new(s);
        let row = summary(s, &a)
            .into_iter()
            .find(|r| r.name == "Session")
            .expect("Session row");
        assert_eq!(row.count, 100 * (k as u64 + 1));
        // No Session retains another, so the class retains the sum of what each retains; each
        // holds its own payload string.
        let all = sessions(s, &(0..s.node_count()).collect::<Vec<_>>());
        assert!(all.iter().all(|&n| a.retained_size(n) > a.shallow_size(n)));
        assert_eq!(
            row.retained_bytes,
            all.iter().map(|&n| a.retained_size(n)).sum::<u64>()
        );
        assert_eq!(
            row.self_bytes,
            all.iter().map(|&n| a.shallow_size(n)).sum::<u64>()
        );
    }
}

#[test]
fn retainer_path_and_location_of_a_leaked_session() {
    let dir = tempfile::tempdir().unwrap();
    make_snapshots("leak", dir.path());
    let before = IdSet::from_snapshot(&read_file(&dir.path().join("leak-2.heapsnapshot")).unwrap());
    let s = read_file(&dir.path().join("leak-3.heapsnapshot")).unwrap();
    let a = Analysis::new(&s);
    let added = sessions(&s, &new_objects(&before, &s));
    assert_eq!(added.len(), 100);
    for &n in &added {
        let path = retainer_path(&s, &a, n);
        assert_eq!(path.len(), 7, "{path:?}");
        assert_eq!(
            path[..5],
            [
                "global",
                "cache (property)",
                "Map",
                "table (internal)",
                "(array)"
            ],
            "{path:?}"
        );
        let (index, kind) = path[5].split_once(' ').expect("an edge label");
        assert!(
            index.parse::<u32>().is_ok() && kind == "(internal)",
            "{path:?}"
        );
        assert_eq!(path[6], "Session");
        assert!(a.is_user_reachable(n));
    }
    // The class's location is the constructor in tools/make-snapshots.js (0-based line, column).
    let source = std::fs::read_to_string(tools_dir().join("make-snapshots.js")).unwrap();
    let (line, text) = source
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("constructor(id) { this.id = id; this.payload"))
        .expect("the leak's Session constructor");
    let location = s.location(added[0]).expect("a location");
    assert_eq!(location.line as usize, line);
    assert_eq!(
        location.column as usize,
        text.find("constructor").unwrap() + "constructor".len()
    );
}

#[test]
fn allocation_stack_of_objects_made_while_tracking() {
    let dir = tempfile::tempdir().unwrap();
    make_snapshots("traced", dir.path());
    let s = read_file(&dir.path().join("traced.heapsnapshot")).unwrap();
    assert!(!s.trace_tree().is_empty(), "allocation tracking was on");
    let all: Vec<u32> = (0..s.node_count()).collect();
    // The 50 instances, not Session.prototype (also named Session, made before tracking began).
    let made: Vec<u32> = sessions(&s, &all)
        .into_iter()
        .filter(|&n| s.trace_node_id(n) != 0)
        .collect();
    assert_eq!(made.len(), 50);
    let source = std::fs::read_to_string(tools_dir().join("make-snapshots.js")).unwrap();
    // Frames give the position of each function's definition, 1-based.
    let line_of =
        |text: &str| source.lines().position(|l| l.contains(text)).expect(text) as u32 + 1;
    let (make_session, caller) = (
        line_of("function makeSession(id) {"),
        line_of("(async () => {"),
    );
    for &n in &made {
        let stack = s.allocation_stack(n);
        let top = stack.first().unwrap_or_else(|| panic!("no stack for {n}"));
        assert_eq!(top.function_name, "makeSession", "{stack:?}");
        assert!(top.script_name.ends_with("make-snapshots.js"), "{stack:?}");
        assert_eq!(top.line, make_session, "{stack:?}");
        assert_eq!(
            (stack[1].function_name, stack[1].line),
            ("", caller),
            "{stack:?}"
        );
        assert_eq!(
            stack.last().map(|f| f.function_name),
            Some("(root)"),
            "{stack:?}"
        );
    }
}
