//! Unit tests of the parser and the analyses on a small hand-written snapshot whose every
//! number is known; real Node snapshots are tested against DevTools in tests/summary_*.rs.

use super::*;

/// root ─element→ (GC roots); root ─shortcut→ global ─cache→ Map ─table→ (array) ─[0]→ Session
/// ─cache→ string; global ─weak→ Other (reachable only weakly).
const TINY: &str = concat!(
    r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"#,
    r#""node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number","number"],"#,
    r#""edge_fields":["type","name_or_index","to_node"],"#,
    r#""edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"#,
    r#""location_fields":["object_index","script_id","line","column"]},"node_count":8,"edge_count":7},"#,
    "\n\"nodes\":[9,0,1,0,2,0,0\n,3,1,3,100,2,0,0\n,9,2,5,0,0,0,0\n,3,3,7,40,1,0,0\n,1,0,9,32,1,0,0\n,3,4,11,24,1,0,0\n,3,5,13,16,0,0,0\n,2,9,15,20,0,0,0],\n",
    "\"edges\":[1,1,14,5,1,7\n,2,6,21,6,8,42\n,3,7,28\n,1,0,35\n,2,6,49],\n",
    "\"locations\":[35,1,10,4],\n",
    r#""strings":["","global","(GC roots)","Map","Session","Other","cache","table","w","h\u00e9llo \ud83d\ude00\n\"q\""]}"#
);

fn parse_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Result<HeapSnapshot, Error> {
    let mut parser = Parser::new();
    for chunk in chunks {
        parser.feed(chunk)?;
    }
    parser.finish()
}

fn parse(text: &[u8]) -> Result<HeapSnapshot, Error> {
    parse_chunks([text])
}

/// Everything observable about a snapshot, to compare two parses.
fn fingerprint(s: &HeapSnapshot) -> Vec<String> {
    let mut out = Vec::new();
    for n in 0..s.node_count() {
        out.push(format!(
            "{} {} {} {} {} {:?} {:?}",
            s.node_type_name(n),
            s.node_name(n),
            s.node_id(n),
            s.self_size(n),
            s.class_name(n),
            s.location(n),
            s.edges(n)
                .map(|e| (e.kind, e.name.to_string(), e.target))
                .collect::<Vec<_>>()
        ));
    }
    out
}

#[test]
fn parses_every_column() {
    let s = parse(TINY.as_bytes()).unwrap();
    assert_eq!((s.node_count(), s.edge_count(), s.root()), (8, 7, 0));
    assert_eq!(s.node_name(1), "global");
    assert_eq!(s.node_type_name(4), "array");
    assert_eq!(s.node_id(5), 11);
    assert_eq!(s.self_size(3), 40);
    assert_eq!(s.node_name(7), "héllo 😀\n\"q\"");
    assert_eq!(
        s.location(5),
        Some(Location {
            script_id: 1,
            line: 10,
            column: 4
        })
    );
    assert_eq!(s.location(3), None);
    let edges: Vec<_> = s.edges(1).collect();
    assert_eq!(
        edges[0],
        Edge {
            index: 2,
            kind: "property",
            name: EdgeName::Name("cache"),
            target: 3
        }
    );
    assert_eq!(edges[1].kind, "weak");
    assert_eq!(s.edge(5).name, EdgeName::Index(0));
    assert_eq!(s.edge_source(5), 4);
    assert!(s.is_odd_id(5));
}

#[test]
fn class_names_follow_devtools() {
    let s = parse(TINY.as_bytes()).unwrap();
    let names: Vec<&str> = (0..8).map(|n| s.class_name(n)).collect();
    assert_eq!(
        names,
        [
            "(synthetic)",
            "global",
            "(synthetic)",
            "Map",
            "(array)",
            "Session",
            "Other",
            "(string)"
        ]
    );
    assert_eq!(s.class_key_string(s.class_key(5)), "1,10,4,Session");
    assert_eq!(s.class_key_string(s.class_key(3)), ",Map");
}

#[test]
fn any_split_into_chunks_parses_the_same() {
    let whole = fingerprint(&parse(TINY.as_bytes()).unwrap());
    let bytes = TINY.as_bytes();
    for cut in 0..=bytes.len() {
        let s = parse_chunks([&bytes[..cut], &bytes[cut..]]).unwrap();
        assert_eq!(fingerprint(&s), whole, "split at byte {cut}");
    }
    let s = parse_chunks(bytes.chunks(1)).unwrap();
    assert_eq!(fingerprint(&s), whole, "one byte at a time");
    let s = parse_chunks(bytes.chunks(7)).unwrap();
    assert_eq!(fingerprint(&s), whole, "seven bytes at a time");
}

/// Strings as V8 writes them (one per line) are taken in runs; an escape, non-ASCII text or a
/// chunk cut inside a string leaves that string to the byte-by-byte path. Either way the
/// strings are JSON's, and so is the error for invalid UTF-8, even split across two strings.
#[test]
fn strings_read_in_runs_and_byte_by_byte_agree() {
    let mut extra: Vec<String> = [
        "",
        "a",
        "1234567",
        "12345678",
        "123456789",
        "café",
        "😀 emoji",
    ]
    .iter()
    .map(|t| t.to_string())
    .collect();
    extra.extend(["tab\\t", "\\u00e9 then plain", "q\\\"", "é\\n", "\\\\"].map(String::from));
    extra.push("x".repeat(100));
    extra.push(format!("{}é", "y".repeat(15)));
    let tail: String = extra.iter().map(|t| format!(",\n\"{t}\"")).collect();
    let text = format!("{}{tail}]}}", &TINY[..TINY.len() - 2]);
    let expected: Vec<String> = match serde_json::from_str::<serde_json::Value>(&text).unwrap() {
        serde_json::Value::Object(o) => serde_json::from_value(o["strings"].clone()).unwrap(),
        _ => unreachable!(),
    };
    let strings = |s: &HeapSnapshot| -> Vec<String> {
        (0..s.strings.len() as u32)
            .map(|i| s.strings.get(i).to_owned())
            .collect()
    };
    let bytes = text.as_bytes();
    assert_eq!(strings(&parse(bytes).unwrap()), expected);
    let strings_start = text.find("\"strings\"").unwrap();
    for cut in strings_start..=bytes.len() {
        let s = parse_chunks([&bytes[..cut], &bytes[cut..]]).unwrap();
        assert_eq!(strings(&s), expected, "split at byte {cut}");
    }
    assert_eq!(strings(&parse_chunks(bytes.chunks(1)).unwrap()), expected);

    // "x\xC3" and "\xA9y": each invalid, though together they spell "é".
    let mut bad = bytes[..bytes.len() - 2].to_vec();
    bad.extend_from_slice(b",\n\"x\xC3\",\n\"\xA9y\"]}");
    let whole = parse(&bad).unwrap_err();
    let by_byte = parse_chunks(bad.chunks(1)).unwrap_err();
    assert!(whole.to_string().contains("UTF-8"), "{whole}");
    assert_eq!(whole.offset(), by_byte.offset());
    // The closing quote of the first.
    assert_eq!(whole.offset(), Some(bad.len() as u64 - 9));
}

/// Retained sizes are kept in 4 bytes per node; totals past 4 GiB still add up.
#[test]
fn retained_sizes_past_four_gib_add_up() {
    // The Session and its string take 3 GiB each.
    let text = TINY
        .replacen(",3,4,11,24,1,0,0\n", ",3,4,11,3221225472,1,0,0\n", 1)
        .replacen(",2,9,15,20,0,0,0]", ",2,9,15,3221225472,0,0,0]", 1);
    assert_ne!(text, TINY);
    let a = Analysis::new(&parse(text.as_bytes()).unwrap());
    let retained: Vec<u64> = (0..8).map(|n| a.retained_size(n)).collect();
    let six_gib = 6 << 30;
    assert_eq!(
        retained,
        [
            six_gib + 188,
            six_gib + 172,
            0,
            six_gib + 72,
            six_gib,
            six_gib,
            16,
            3 << 30
        ]
    );
}

#[test]
fn dominators_retained_sizes_and_shallow_transfer() {
    let s = parse(TINY.as_bytes()).unwrap();
    let a = Analysis::new(&s);
    // The array is owned by the Map alone: DevTools charges its 32 bytes to the Map.
    assert_eq!((a.shallow_size(4), a.shallow_size(3)), (0, 72));
    let retained: Vec<u64> = (0..8).map(|n| a.retained_size(n)).collect();
    assert_eq!(retained, [232, 216, 0, 116, 44, 44, 16, 20]);
    let dominators: Vec<u32> = (0..8).map(|n| a.dominator(n)).collect();
    assert_eq!(dominators, [0, 0, 0, 1, 3, 4, 0, 5]);
    assert_eq!(a.distance(5), 4);
    assert_eq!(a.distance(2), BASE_SYSTEM_DISTANCE + 1);
    assert!(!a.is_reachable(6));
    assert!(a.is_user_reachable(7));
}

/// The dominator tree's thread sums retained sizes from whichever shallow sizes the handoff
/// settles on: its own when it comes first, the snapshot's when the snapshot claimed them (even
/// if they are shared only after the tree is done), none when the snapshot gave them up.
#[test]
fn the_speculation_sums_retained_sizes_from_the_shallow_sizes_it_is_handed() {
    use analysis::{speculate, ClaimOutcome, ShallowSizesHandoff};
    use graph::EarlySizes;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let s = parse(TINY.as_bytes()).unwrap();
    let no_strings_pending = AtomicBool::new(false);
    let all = |sizes: &sizes::Sizes| (0..8).map(|n| sizes.get(n)).collect::<Vec<_>>();

    let handoff = Arc::new(ShallowSizesHandoff::default());
    match speculate(&s.shape, &no_strings_pending, &handoff).sizes {
        EarlySizes::Own { shallow, retained } => {
            assert_eq!(all(&shallow), [0, 100, 0, 72, 0, 24, 16, 20]);
            assert_eq!(all(&retained), [232, 216, 0, 116, 44, 44, 16, 20]);
        }
        _ => panic!("the speculation came first and computes the shallow sizes itself"),
    }
    assert!(
        matches!(handoff.claim(), ClaimOutcome::SpeculationHasThem),
        "the speculation took them"
    );

    // One byte per node, so that retained sizes count each subtree's nodes.
    let mut ones = sizes::Sizes::default();
    (0..8).for_each(|_| ones.push(1));
    let ones = Arc::new(ones);
    let handoff = Arc::new(ShallowSizesHandoff::default());
    let ClaimOutcome::Claimed(claim) = handoff.claim() else {
        panic!("nobody took them yet");
    };
    let speculation = std::thread::scope(|scope| {
        let speculation = scope.spawn(|| speculate(&s.shape, &no_strings_pending, &handoff));
        // Shared late, while the speculation may be waiting for them.
        std::thread::sleep(std::time::Duration::from_millis(20));
        claim.share(Arc::clone(&ones));
        speculation.join().unwrap()
    });
    match speculation.sizes {
        EarlySizes::FromShared { shallow, retained } => {
            assert!(Arc::ptr_eq(&shallow, &ones));
            assert_eq!(all(&retained), [8, 5, 1, 4, 3, 2, 1, 1]);
        }
        _ => panic!("the snapshot claimed the shallow sizes and shared them"),
    }
    assert!(matches!(handoff.claim(), ClaimOutcome::AlreadySettled));

    // A claim dropped unshared (its thread panicked) lets the speculation go on without them.
    let handoff = Arc::new(ShallowSizesHandoff::default());
    drop(handoff.claim());
    assert!(matches!(
        speculate(&s.shape, &no_strings_pending, &handoff).sizes,
        EarlySizes::None
    ));
}

#[test]
fn retainer_path_alternates_nodes_and_edges() {
    let s = parse(TINY.as_bytes()).unwrap();
    let a = Analysis::new(&s);
    assert_eq!(
        retainer_path(&s, &a, 5),
        [
            "global",
            "cache (property)",
            "Map",
            "table (internal)",
            "(array)",
            "[0] (element)",
            "Session"
        ]
    );
    assert_eq!(retainer_path(&s, &a, 2), ["(GC roots)"]);
    assert!(
        retainer_path(&s, &a, 6).is_empty(),
        "only a weak edge reaches Other"
    );
    assert!(retainer_path(&s, &a, 0).is_empty());
}

#[test]
fn summary_rows() {
    let s = parse(TINY.as_bytes()).unwrap();
    let a = Analysis::new(&s);
    let rows: Vec<(String, u64, u64, u64)> = summary(&s, &a)
        .into_iter()
        .map(|r| (r.name, r.count, r.self_bytes, r.retained_bytes))
        .collect();
    let expected = [
        ("global", 1, 100, 216),
        ("Map", 1, 72, 116),
        ("Session", 1, 24, 44),
        ("(string)", 1, 20, 20),
        ("Other", 1, 16, 16),
    ];
    let expected: Vec<(String, u64, u64, u64)> = expected
        .iter()
        .map(|&(n, c, s, r)| (n.to_owned(), c, s, r))
        .collect();
    assert_eq!(rows, expected);
}

#[test]
fn id_helpers() {
    let s = parse(TINY.as_bytes()).unwrap();
    let ids = IdSet::from_snapshot(&s);
    assert_eq!(ids.len(), 8);
    assert!(ids.contains(11) && !ids.contains(12));
    assert_eq!(IdIndex::new(&s).ordinal(11), Some(5));
    assert_eq!(IdIndex::new(&s).ordinal(4), None);
    assert!(new_objects(&ids, &s).is_empty());
    assert_eq!(surviving_objects(&ids, &s).len(), 8);
    assert_eq!(birth_bucket(5, &[4, 10]), 1);
    assert_eq!(birth_bucket(4, &[4, 10]), 0);
    assert_eq!(birth_bucket(11, &[4, 10]), 2);
}

#[test]
fn empty_input_is_truncated_at_zero() {
    let err = parse(b"").unwrap_err();
    assert!(err.is_truncated());
    assert_eq!(err.offset(), Some(0));
    assert!(err.to_string().contains("empty input"), "{err}");
}

#[test]
fn every_truncation_is_an_error_with_an_offset() {
    let bytes = TINY.as_bytes();
    for cut in 1..bytes.len() {
        let err = parse(&bytes[..cut])
            .err()
            .unwrap_or_else(|| panic!("a prefix of {cut} bytes parsed"));
        assert!(err.offset().is_some(), "{err}");
        if err.is_truncated() {
            assert_eq!(err.offset(), Some(cut as u64), "{err}");
        }
    }
}

#[test]
fn corrupt_number_names_its_byte() {
    let at = TINY.find("\"edges\":[1,1,14").unwrap() + "\"edges\":[1,1,1".len();
    let mut bytes = TINY.as_bytes().to_vec();
    bytes[at] = b'x';
    let err = parse(&bytes).unwrap_err();
    assert!(err.is_syntax());
    assert_eq!(err.offset(), Some(at as u64));
    assert!(err.to_string().contains("\"edges\""), "{err}");
    // The same error when the bad byte arrives in its own chunk.
    let err = parse_chunks([&bytes[..at], &bytes[at..]]).unwrap_err();
    assert_eq!(err.offset(), Some(at as u64));
}

/// Locations in V8's layout take the fast path, value by value, however the input is cut; a
/// value past 32 bits among them is still named with its byte.
#[test]
fn locations_in_v8_layout_parse_and_a_value_too_large_is_named() {
    let records = "\"locations\":[35,1,10,4\n,42,2,3,5\n,49,1,7,8]";
    let text = TINY.replacen("\"locations\":[35,1,10,4]", records, 1);
    assert_ne!(text, TINY);
    let s = parse(text.as_bytes()).unwrap();
    let located = |n| s.location(n).map(|l| (l.script_id, l.line, l.column));
    assert_eq!(
        (located(5), located(6), located(7)),
        (Some((1, 10, 4)), Some((2, 3, 5)), Some((1, 7, 8)))
    );
    let whole = fingerprint(&s);
    let bytes = text.as_bytes();
    for cut in 0..=bytes.len() {
        let s = parse_chunks([&bytes[..cut], &bytes[cut..]]).unwrap();
        assert_eq!(fingerprint(&s), whole, "split at byte {cut}");
    }
    let too_large = text.replacen(",42,2,3,5", ",42,2,4294967296,5", 1);
    // The byte named is the one that ends the number.
    let at = too_large.find("4294967296").unwrap() + "4294967296".len();
    let err = parse(too_large.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("\"locations\""), "{err}");
    assert!(err.to_string().contains("4294967296"), "{err}");
    assert_eq!(err.offset(), Some(at as u64), "{err}");
}

#[test]
fn not_a_snapshot() {
    let err = parse(br#"{"a":1,"b":[1,{"c":"]"}]}"#).unwrap_err();
    assert!(err.is_format());
    assert!(err.to_string().contains("no \"snapshot\""), "{err}");
    let err = parse(b"[1,2]").unwrap_err();
    assert!(err.is_syntax());
    assert_eq!(err.offset(), Some(0));
    let err = parse(b"\x89PNG\r\n").unwrap_err();
    assert_eq!(err.offset(), Some(0));
    let err = parse(b"{} trailing").unwrap_err();
    assert_eq!(err.offset(), Some(3));
}

#[test]
fn inconsistent_snapshots_are_format_errors() {
    let cases = [
        ("\"edge_count\":7", "\"edge_count\":6", "edge_count"),
        (",3,7,28\n", ",3,7,29\n", "multiple"),
        (",2,6,49]", ",2,6,56]", "past the last node"),
        (",3,5,13,16,0,0,0\n", ",30,5,13,16,0,0,0\n", "node type 30"),
        ("\"strings\":[\"\",", "\"strings\":[", "strings"),
        ("\n,2,6,21,", "\n,2,60,21,", "edge 2 is named by string 60"),
        (
            "\"locations\":[35,",
            "\"locations\":[36,",
            "node index 36, not a node",
        ),
        (
            "\"nodes\":[9,0,1,0,2",
            "\"nodes\":[9,0,1,0,3",
            "edge counts add up",
        ),
        (
            "\"type\",\"name\",\"id\"",
            "\"type\",\"nom\",\"id\"",
            "lacks \"name\"",
        ),
    ];
    for (from, to, says) in cases {
        assert!(TINY.contains(from), "{from}");
        let text = TINY.replacen(from, to, 1);
        let err = parse(text.as_bytes()).unwrap_err();
        assert!(err.offset().is_some(), "{err}");
        assert!(err.to_string().contains(says), "{from} → {err}");
    }
}

#[test]
fn bad_escapes_and_control_characters() {
    for (from, to) in [
        ("\"Map\"", "\"M\\xp\""),
        ("\"Map\"", "\"M\\u12G4\""),
        ("\"Map\"", "\"M\u{1}p\""),
    ] {
        let text = TINY.replacen(from, to, 1);
        let err = parse(text.as_bytes()).unwrap_err();
        assert!(err.is_syntax(), "{err}");
        let at = TINY.find(from).unwrap() as u64;
        let offset = err.offset().unwrap();
        assert!(offset > at && offset <= at + 6, "{err}");
    }
}

#[test]
fn no_single_byte_mutation_panics() {
    let bytes = TINY.as_bytes();
    for at in 0..bytes.len() {
        for replacement in [b'0', b'9', b'[', b']', b'"', b'\\', b',', b'{', 0xff] {
            let mut mutated = bytes.to_vec();
            mutated[at] = replacement;
            if let Ok(s) = parse(&mutated) {
                let a = Analysis::new(&s);
                let _ = summary(&s, &a);
                for n in 0..s.node_count() {
                    let _ = retainer_path(&s, &a, n);
                }
            }
        }
    }
}

#[test]
fn feed_after_error_is_refused() {
    let mut parser = Parser::new();
    assert!(parser.feed(b"[").is_err());
    assert!(parser.feed(b"{").is_err());
}

#[test]
fn pretty_printed_json_parses_the_same() {
    // Spaces, tabs, CR and LF around every number of the integer arrays.
    let (head, rest) = TINY.split_at(TINY.find("\"nodes\"").unwrap());
    let (arrays, strings) = rest.split_at(rest.find("\"strings\"").unwrap());
    let arrays = arrays
        .replace('\n', " ")
        .replace(',', " ,\r\n\t")
        .replace('[', "[ ");
    let pretty = format!("{head}{arrays}{strings}");
    assert!(pretty.contains("[ 9 ,\r\n\t0"));
    let whole = fingerprint(&parse(TINY.as_bytes()).unwrap());
    assert_eq!(fingerprint(&parse(pretty.as_bytes()).unwrap()), whole);
    assert_eq!(
        fingerprint(&parse_chunks(pretty.as_bytes().chunks(3)).unwrap()),
        whole
    );
}

#[test]
fn field_order_and_types_come_from_meta() {
    // The same graph with node fields reordered, an extra node field and an extra node type.
    let types = r#"["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"]"#;
    let more_types = r#"["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape","wasm object"]"#;
    let reordered = TINY
        .replacen(
            r#""node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"]"#,
            r#""node_fields":["name","type","extra","id","self_size","edge_count","trace_node_id","detachedness"]"#,
            1,
        )
        .replacen(
            &format!(r#""node_types":[{types},"string","number","number","number","number","number"]"#),
            &format!(r#""node_types":["string",{more_types},"number","number","number","number","number","number"]"#),
            1,
        );
    assert!(reordered.contains("wasm object"));
    let nodes: Vec<[u64; 7]> = vec![
        [9, 0, 1, 0, 2, 0, 0],
        [3, 1, 3, 100, 2, 0, 0],
        [9, 2, 5, 0, 0, 0, 0],
        [3, 3, 7, 40, 1, 0, 0],
        [1, 0, 9, 32, 1, 0, 0],
        [3, 4, 11, 24, 1, 0, 0],
        [3, 5, 13, 16, 0, 0, 0],
        [2, 9, 15, 20, 0, 0, 0],
    ];
    let text: Vec<String> = nodes
        .iter()
        .map(|n| {
            format!(
                "{},{},42,{},{},{},{},{}",
                n[1], n[0], n[2], n[3], n[4], n[5], n[6]
            )
        })
        .collect();
    let start = reordered.find("\"nodes\":[").unwrap() + "\"nodes\":[".len();
    let end = start + reordered[start..].find(']').unwrap();
    let mut doc = format!(
        "{}{}{}",
        &reordered[..start],
        text.join(","),
        &reordered[end..]
    );
    // Edge targets are node index = ordinal × field count, now 8.
    let edges_at = doc.find("\"edges\":[").unwrap() + "\"edges\":[".len();
    let edges_end = edges_at + doc[edges_at..].find(']').unwrap();
    let edges: Vec<u64> = doc[edges_at..edges_end]
        .split(',')
        .map(|v| v.trim().parse().unwrap())
        .collect();
    let edges: Vec<String> = edges
        .chunks(3)
        .map(|e| format!("{},{},{}", e[0], e[1], e[2] / 7 * 8))
        .collect();
    doc = format!(
        "{}{}{}",
        &doc[..edges_at],
        edges.join(","),
        &doc[edges_end..]
    );
    doc = doc.replacen("\"locations\":[35,", "\"locations\":[40,", 1);
    let s = parse(doc.as_bytes()).unwrap();
    assert_eq!(
        fingerprint(&s),
        fingerprint(&parse(TINY.as_bytes()).unwrap())
    );
    assert_eq!(s.node_type_names().len(), 16);
}

#[test]
fn retainer_paths_prefer_user_roots_over_shorter_system_paths() {
    // (GC roots) also holds the Session directly: two edges from the root instead of four.
    let text = TINY
        .replacen(",9,2,5,0,0,0,0\n", ",9,2,5,0,1,0,0\n", 1)
        .replacen("\"edge_count\":7", "\"edge_count\":8", 1)
        .replacen(",2,6,21,6,8,42\n", ",2,6,21,6,8,42\n,1,0,35\n", 1);
    let s = parse(text.as_bytes()).unwrap();
    let a = Analysis::new(&s);
    assert_eq!(
        retainer_path(&s, &a, 5),
        [
            "global",
            "cache (property)",
            "Map",
            "table (internal)",
            "(array)",
            "[0] (element)",
            "Session"
        ]
    );
    // DevTools ignores edges from V8's own objects into the page's objects for dominators: the
    // array still dominates the Session.
    assert_eq!(a.dominator(5), 4);
    assert_eq!(a.retained_size(3), 116);
}

#[test]
fn unordered_and_repeated_locations_keep_the_last_per_node() {
    let text = TINY.replacen(
        "\"locations\":[35,1,10,4]",
        "\"locations\":[35,1,10,4,21,2,3,4,35,1,11,5]",
        1,
    );
    let s = parse(text.as_bytes()).unwrap();
    assert_eq!(
        s.location(5),
        Some(Location {
            script_id: 1,
            line: 11,
            column: 5
        })
    );
    assert_eq!(
        s.location(3),
        Some(Location {
            script_id: 2,
            line: 3,
            column: 4
        })
    );
    assert_eq!(s.class_key_string(s.class_key(3)), "2,3,4,Map");
}

/// A V8-layout snapshot (one record per line) of `nodes` objects with `edges_per_node` property
/// edges each, big enough for the file reader to cut its edges in two.
fn synthetic_snapshot(nodes: u64, edges_per_node: u64) -> String {
    let mut text = String::from(concat!(
        r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"#,
        r#""node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic"],"string","number","number","number","number","number"],"#,
        r#""edge_fields":["type","name_or_index","to_node"],"#,
        r#""edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"#,
        r#""location_fields":["object_index","script_id","line","column"]},"#,
    ));
    text += &format!(
        "\"node_count\":{nodes},\"edge_count\":{}}},\n\"nodes\":[",
        nodes * edges_per_node
    );
    for i in 0..nodes {
        let (kind, name) = if i == 0 { (9, 0) } else { (3, 1 + i % 3) };
        let sep = if i == 0 { "" } else { "\n," };
        text += &format!(
            "{sep}{kind},{name},{},{},{edges_per_node},0,0",
            2 * i + 1,
            16 + i % 7 * 8
        );
    }
    text += "],\n\"edges\":[";
    for i in 0..nodes {
        for j in 0..edges_per_node {
            let sep = if i == 0 && j == 0 { "" } else { "\n," };
            let to = (i * 7919 + j * 104_729 + 1) % nodes;
            text += &format!("{sep}2,{},{}", 4 + j % 2, to * 7);
        }
    }
    text += "],\n\"locations\":[],\n\"strings\":[\"\",\"A\",\"B\",\"C\",\"p\",\"q\"]}";
    text
}

fn read_cut_in_two(text: &str) -> Result<(HeapSnapshot, bool), Error> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
    let limits = read::SplitLimits {
        min_file: 0,
        min_run: 64 << 10,
    };
    read::read_file_with(file.path(), limits)
}

#[test]
fn a_large_file_read_with_its_edges_cut_in_two_parses_the_same() {
    let text = synthetic_snapshot(60_000, 5);
    assert!(text.len() > 3 << 20);
    let (cut, spliced) = read_cut_in_two(&text).unwrap();
    assert!(
        spliced,
        "the reader should have parsed the back half of the edges apart"
    );
    let whole = parse(text.as_bytes()).unwrap();
    assert_eq!((cut.node_count(), cut.edge_count()), (60_000, 300_000));
    assert_eq!(fingerprint(&cut), fingerprint(&whole));
}

#[test]
fn errors_past_the_cut_are_reported_as_by_a_sequential_parse() {
    let text = synthetic_snapshot(60_000, 5);
    let late_edge = text.rfind("\n,2,5,").unwrap() - 300_000;
    let line = late_edge + text[late_edge..].find("\n,").unwrap() + 2;
    let end = line + text[line..].find('\n').unwrap();
    let cases = [
        // A target that is not a node's first field.
        format!("{}2,4,15{}", &text[..line], &text[end..]),
        // An edge type meta does not declare.
        format!("{}9,4,14{}", &text[..line], &text[end..]),
        // Two edges on one line: the cut no longer falls between edges the same way.
        text[..line - 2].to_owned() + "," + &text[line..],
        // Cut off in the middle of the edges.
        text[..text.len() / 2].to_owned(),
    ];
    for (k, bad) in cases.iter().enumerate() {
        let expected = parse(bad.as_bytes()).map(|s| fingerprint(&s));
        let got = read_cut_in_two(bad).map(|(s, _)| fingerprint(&s));
        match (expected, got) {
            (Err(expected), Err(got)) => {
                assert_eq!(got.to_string(), expected.to_string(), "case {k}")
            }
            (Ok(expected), Ok(got)) => assert_eq!(got, expected, "case {k}"),
            (expected, got) => panic!("case {k}: sequential {expected:?}, cut in two {got:?}"),
        }
    }
}

/// The shallow sizes computed before the strings arrived assume no `system /
/// ExternalStringData` node; with one, DevTools' rule charges it to its single owner.
#[test]
fn external_string_data_is_charged_to_its_owner() {
    let text = TINY
        .replace(",2,9,15,20,0,0,0]", ",8,9,15,20,0,0,0]")
        .replace(
            r#""h\u00e9llo \ud83d\ude00\n\"q\"""#,
            r#""system / ExternalStringData""#,
        );
    assert_ne!(text, TINY);
    let s = parse(text.as_bytes()).unwrap();
    assert_eq!(s.node_name(7), "system / ExternalStringData");
    let a = Analysis::new(&s);
    assert_eq!((a.shallow_size(7), a.shallow_size(5)), (0, 44));
    let plain = parse(TINY.as_bytes()).unwrap();
    let b = Analysis::new(&plain);
    assert_eq!((b.shallow_size(7), b.shallow_size(5)), (20, 24));
}

/// A FIFO (as `<(gunzip -c heap.heapsnapshot.gz)` gives) cannot be read at an offset: it is
/// read in order, and parses as the same bytes from a regular file do.
#[test]
fn a_fifo_is_read_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("snapshot.fifo");
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo only reads the NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let text = synthetic_snapshot(3_000, 3);
    let writer = {
        let (fifo, text) = (fifo.clone(), text.clone());
        std::thread::spawn(move || std::fs::write(fifo, text).unwrap())
    };
    let limits = read::SplitLimits {
        min_file: 0,
        min_run: 1,
    };
    let (from_fifo, spliced) = read::read_file_with(&fifo, limits).unwrap();
    writer.join().unwrap();
    assert!(!spliced);
    assert_eq!(
        fingerprint(&from_fifo),
        fingerprint(&parse(text.as_bytes()).unwrap())
    );
}

/// Parses `text` as a stream whose strings arrive only after the work begun on the structure is
/// over, as in a hunt; returns the snapshot and whether that work had distances to offer.
fn parse_with_late_strings(text: &[u8]) -> (HeapSnapshot, bool) {
    let cut = text
        .windows(9)
        .position(|w| w == b"\"strings\"")
        .expect("a strings key");
    let mut parser = Parser::new();
    parser.feed(&text[..cut]).unwrap();
    // A hang guard, not a timing assertion.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !parser.early_work_finished() {
        assert!(std::time::Instant::now() < deadline, "no early work");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    parser.feed(&text[cut..]).unwrap();
    let s = parser.finish().unwrap();
    let early = s
        .prepared
        .lock()
        .unwrap()
        .as_ref()
        .is_some_and(|p| p.distances_were_early);
    (s, early)
}

/// Every node's distance and parent edge are those DevTools' rules give from the names.
fn assert_distances_from_names(s: &HeapSnapshot) {
    let a = Analysis::new(s);
    let expected = analysis::distances_from_names(s);
    for n in 0..s.node_count() {
        assert_eq!(
            (a.distance(n), a.parent_edge(n)),
            (
                expected.distance[n as usize],
                Some(expected.parent_edge[n as usize]).filter(|&e| e != u32::MAX)
            ),
            "node {n} ({})",
            s.node_name(n)
        );
    }
}

/// TINY with its array renamed (string 10) and its element edge to the Session replaced.
fn tiny_with_array(node: &str, edge: &str, new_strings: &str) -> String {
    let text = TINY
        .replacen(",1,0,9,32,1,0,0\n", node, 1)
        .replacen(",1,0,35\n", edge, 1)
        .replacen(r#"q\""]}"#, &format!(r#"q\"",{new_strings}]}}"#), 1);
    assert_ne!(text, TINY);
    text
}

#[test]
fn distances_speculated_in_a_stream_are_used_when_no_name_rule_applies() {
    let (s, early) = parse_with_late_strings(TINY.as_bytes());
    assert!(
        early,
        "the distances computed before the strings were not used"
    );
    assert_distances_from_names(&s);
    let a = Analysis::new(&s);
    assert_eq!(a.distance(5), 4);
    assert_eq!(a.distance(2), BASE_SYSTEM_DISTANCE + 1);

    // A `(map descriptors)` array whose edge the filter lets through changes nothing.
    let text = tiny_with_array(",1,10,9,32,1,0,0\n", ",1,0,35\n", r#""(map descriptors)""#);
    let (s, early) = parse_with_late_strings(text.as_bytes());
    assert!(early);
    assert_distances_from_names(&s);
}

#[test]
fn distances_speculated_in_a_stream_are_redone_when_a_name_rule_stops_a_path() {
    // DevTools does not follow every third value of `(map descriptors)`: the Session (and its
    // string) cannot be reached.
    let descriptors = tiny_with_array(",1,10,9,32,1,0,0\n", ",1,4,35\n", r#""(map descriptors)""#);
    // Nor the native context's `sloppy_function_map` (a property of a hidden node).
    let native_context = tiny_with_array(
        ",0,10,9,32,1,0,0\n",
        ",2,11,35\n",
        r#""system / NativeContext","sloppy_function_map""#,
    );
    for text in [&descriptors, &native_context] {
        let (s, early) = parse_with_late_strings(text.as_bytes());
        assert!(!early);
        assert_distances_from_names(&s);
        let a = Analysis::new(&s);
        assert_eq!((a.distance(5), a.distance(7)), (NO_DISTANCE, NO_DISTANCE));
        assert_eq!(a.parent_edge(5), None);
    }

    // The first edge of a WeakMap entry pair met is not followed either.
    let weak_map = TINY.replacen(
        r#""table""#,
        r#""1 / part of key (Map @7) -> value (x @9) pair in WeakMap (table @7)""#,
        1,
    );
    // `(Document DOM trees)` is a user root, unlike other synthetic roots.
    let dom_trees = TINY.replacen(r#""(GC roots)""#, r#""(Document DOM trees)""#, 1);
    for text in [&weak_map, &dom_trees] {
        assert_ne!(text, TINY);
        let (s, early) = parse_with_late_strings(text.as_bytes());
        assert!(!early);
        assert_distances_from_names(&s);
    }
    let (s, _) = parse_with_late_strings(weak_map.as_bytes());
    assert_eq!(Analysis::new(&s).distance(4), NO_DISTANCE);
    let (s, _) = parse_with_late_strings(dom_trees.as_bytes());
    assert_eq!(Analysis::new(&s).distance(2), 1);
}

/// Real Node heaps (WeakMaps, descriptor arrays, native contexts and all): whether or not the
/// speculated distances hold, the analysis has DevTools' distances and parent edges.
#[test]
fn distances_of_real_snapshots_streamed_with_late_strings_follow_devtools() {
    let dir = tempfile::tempdir().unwrap();
    let tools = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools");
    for mode in ["mixed", "leak"] {
        let out = std::process::Command::new("node")
            .arg(tools.join("make-snapshots.js"))
            .arg(mode)
            .arg(dir.path())
            .output()
            .expect("node runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for file in ["mixed.heapsnapshot", "leak-3.heapsnapshot"] {
        let text = std::fs::read(dir.path().join(file)).unwrap();
        let (s, _) = parse_with_late_strings(&text);
        assert_distances_from_names(&s);
        assert!(s.node_count() > 10_000, "{file} is a real heap");
    }
}
