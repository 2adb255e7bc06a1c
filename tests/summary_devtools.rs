//! `hunter summary` against Chrome DevTools' own code on real Node heap snapshots: the same class
//! names, counts, shallow sizes and retained sizes; and the command's behaviour on bad input.

mod summary_support;

use std::ffi::OsStr;
use summary_support::*;

fn hunter_json(file: &std::path::Path, dir: &std::path::Path) -> serde_json::Value {
    let out_path = dir.join("summary.json");
    let out = hunter_summary(file, &[OsStr::new("--json"), out_path.as_os_str()]);
    assert!(
        out.status.success(),
        "hunter summary failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(&out_path).expect("summary.json written")).expect("JSON")
}

fn find<'a>(rows: &'a [(String, u64, u64, u64)], name: &str) -> Vec<&'a (String, u64, u64, u64)> {
    rows.iter().filter(|r| r.0 == name).collect()
}

#[test]
fn summary_matches_devtools_on_every_kind_of_object() {
    let dir = tempfile::tempdir().unwrap();
    make_snapshots("mixed", dir.path());
    let file = dir.path().join("mixed.heapsnapshot");
    let ours = hunter_json(&file, dir.path());
    let theirs = devtools_summary(&file);

    assert_eq!(ours["version"], 1);
    assert_eq!(ours["file"], file.display().to_string());
    assert_eq!(ours["nodes"], theirs["nodes"]);
    assert_eq!(ours["edges"], theirs["edges"]);
    let (our_rows, their_rows) = (rows(&ours), rows(&theirs));
    assert_eq!(
        our_rows, their_rows,
        "hunter's summary differs from DevTools'"
    );

    // Sorted by retained size, largest first.
    let retained: Vec<u64> = ours["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["retained_bytes"].as_u64().unwrap())
        .collect();
    assert!(retained.windows(2).all(|w| w[0] >= w[1]));
    // The snapshot holds what the generator made, named as DevTools names it.
    assert_eq!(find(&our_rows, "Session")[0].1, 50);
    let mut points: Vec<u64> = find(&our_rows, "Point").iter().map(|r| r.1).collect();
    points.sort();
    assert_eq!(
        points,
        [7, 30],
        "two classes named Point, from two places, are two rows"
    );
    // 60 made by the loop, plus V8's boilerplate for the object literal.
    assert!(find(&our_rows, "{alpha, beta, gamma}")[0].1 >= 60);
    for kind in [
        "(string)",
        "(concatenated string)",
        "(sliced string)",
        "(array)",
        "(compiled code)",
        "(system)",
    ] {
        assert!(!find(&our_rows, kind).is_empty(), "no {kind} row");
    }
    assert!(find(&our_rows, "(sliced string)")[0].1 >= 20);
    assert!(!find(&our_rows, "WeakMap").is_empty() && !find(&our_rows, "Uint8Array").is_empty());
}

#[test]
fn summary_matches_devtools_on_snapshots_of_a_leaking_process() {
    let dir = tempfile::tempdir().unwrap();
    make_snapshots("leak", dir.path());
    for round in 1..=3 {
        let file = dir.path().join(format!("leak-{round}.heapsnapshot"));
        let ours = hunter_json(&file, dir.path());
        let theirs = devtools_summary(&file);
        let our_rows = rows(&ours);
        assert_eq!(
            our_rows,
            rows(&theirs),
            "round {round} differs from DevTools"
        );
        assert_eq!(find(&our_rows, "Session")[0].1, 100 * round);
    }
}

#[test]
fn table_on_stdout_lists_the_largest_classes() {
    let dir = tempfile::tempdir().unwrap();
    make_snapshots("leak", dir.path());
    let file = dir.path().join("leak-3.heapsnapshot");
    let out = hunter_summary(&file, &[OsStr::new("--top"), OsStr::new("500")]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let session = text
        .lines()
        .find(|l| l.ends_with("  Session"))
        .expect("a Session row");
    let fields: Vec<&str> = session.split_whitespace().collect();
    assert_eq!(fields[fields.len() - 2], "300", "{session}");
    assert!(text.lines().next().unwrap().contains(" nodes, "), "{text}");
}

#[test]
fn bad_input_exits_2_naming_the_byte() {
    let dir = tempfile::tempdir().unwrap();
    make_snapshots("leak", dir.path());
    let good = std::fs::read(dir.path().join("leak-1.heapsnapshot")).unwrap();
    let half = good.len() / 2;
    let mut corrupt = good.clone();
    let edges = good.windows(9).position(|w| w == b"\"edges\":[").unwrap() + 20;
    corrupt[edges] = b'#';
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        ("empty", Vec::new(), "byte 0: empty input".into()),
        (
            "truncated",
            good[..half].to_vec(),
            format!("byte {half}: the input ends inside"),
        ),
        (
            "corrupt",
            corrupt,
            format!("byte {edges}: expected an unsigned integer"),
        ),
        (
            "garbage",
            b"\x7fELF\x02\x01".to_vec(),
            "byte 0: expected '{'".into(),
        ),
        (
            "not-a-snapshot",
            br#"{"hello": [1, 2, 3]}"#.to_vec(),
            "not a heap snapshot".into(),
        ),
    ];
    for (name, bytes, says) in cases {
        let file = dir.path().join(format!("{name}.heapsnapshot"));
        std::fs::write(&file, &bytes).unwrap();
        let json = dir.path().join(format!("{name}.json"));
        let out = hunter_summary(&file, &[OsStr::new("--json"), json.as_os_str()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(&says),
            "{name}: expected {says:?} in {stderr:?}"
        );
        assert!(
            stderr.contains(&file.display().to_string()),
            "{name}: {stderr}"
        );
        assert!(!json.exists(), "{name}: no report for bad input");
    }
    let out = hunter_summary(&dir.path().join("missing.heapsnapshot"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
}

#[test]
fn chunks_split_anywhere_give_the_same_summary() {
    use hunter::snapshot::{read_file, summary, Analysis, Parser};
    let dir = tempfile::tempdir().unwrap();
    make_snapshots("mixed", dir.path());
    let file = dir.path().join("mixed.heapsnapshot");
    let whole = read_file(&file).unwrap();
    let expected = summary(&whole, &Analysis::new(&whole));
    let bytes = std::fs::read(&file).unwrap();
    // Chunk sizes from 1 byte to ~100 KB, pseudo-random but reproducible.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut parser = Parser::new();
    let mut at = 0;
    while at < bytes.len() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let size = match seed % 4 {
            0 => 1 + (seed >> 8) as usize % 7,
            1 => 1 + (seed >> 8) as usize % 4096,
            _ => 1 + (seed >> 8) as usize % 100_000,
        };
        let end = (at + size).min(bytes.len());
        parser.feed(&bytes[at..end]).unwrap();
        at = end;
    }
    let streamed = parser.finish().unwrap();
    assert_eq!(summary(&streamed, &Analysis::new(&streamed)), expected);
}
