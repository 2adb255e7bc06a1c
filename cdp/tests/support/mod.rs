//! Shared by the integration tests: starts a real `node` with its inspector on 127.0.0.1 port 0,
//! reads the websocket URL from its stderr, and connects a `Session`. The process is killed when
//! the `Node` value is dropped.

#![allow(dead_code)] // each test binary uses its own subset

use std::future::Future;
use std::process::Stdio;
use std::time::Duration;

use cdp::Session;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Node {
    pub child: Child,
    pub url: String,
    pub session: Session,
    _dir: tempfile::TempDir,
}

/// Runs `script` (the contents of a .js file) under `node --inspect=127.0.0.1:0`, connects, and
/// waits until the script has run: Node prints its URL before bootstrap ends, and code evaluated
/// that early finds Node's internals half set up (`setTimeout` throws).
pub async fn start(script: &str) -> Node {
    let node = start_unready(&format!("{script}\nglobalThis.__testReady = true;\n")).await;
    eventually(&node.session, "globalThis.__testReady === true || null").await;
    node
}

/// Like [`start`] without waiting for the script to run.
pub async fn start_unready(script: &str) -> Node {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("target.js");
    std::fs::write(&path, script).expect("write script");
    let mut child = Command::new("node")
        .arg("--inspect=127.0.0.1:0")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn node");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = within(20, async {
        loop {
            let line = lines
                .next_line()
                .await
                .expect("read node stderr")
                .expect("node exited before printing its inspector URL");
            if let Some(url) = cdp::parse_listening_line(&line) {
                return url;
            }
        }
    })
    .await;
    // Keep draining stderr so node never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let session = within(20, Session::connect(&url))
        .await
        .expect("connect to node");
    Node {
        child,
        url,
        session,
        _dir: dir,
    }
}

/// A script that stays alive until killed.
pub const IDLE: &str = "setInterval(() => {}, 1 << 30);\n";

/// Evaluates `expression` every 20 ms until it gives something other than `null`, and returns
/// that (for state a target reaches on its own, like a worker finishing its start-up).
pub async fn eventually(session: &Session, expression: &str) -> serde_json::Value {
    within(20, async {
        loop {
            let value = session.evaluate(expression).await.unwrap();
            if !value.is_null() {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// Awaits `future`, failing the test instead of hanging if it takes more than `secs` seconds.
pub async fn within<F: Future>(secs: u64, future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(secs), future)
        .await
        .unwrap_or_else(|_| panic!("no result within {secs} s"))
}

/// The parts of a heap snapshot the tests check.
#[derive(serde::Deserialize)]
pub struct Snapshot {
    pub snapshot: SnapshotHeader,
    pub nodes: Vec<u64>,
    pub strings: Vec<String>,
}

#[derive(serde::Deserialize)]
pub struct SnapshotHeader {
    pub meta: SnapshotMeta,
    pub node_count: usize,
}

#[derive(serde::Deserialize)]
pub struct SnapshotMeta {
    pub node_fields: Vec<String>,
}

/// Parses a snapshot and checks it is whole: the node array has exactly `node_count` nodes.
pub fn parse_whole_snapshot(bytes: &[u8]) -> Snapshot {
    let snapshot: Snapshot = serde_json::from_slice(bytes).expect("snapshot is valid JSON");
    let fields = snapshot.snapshot.meta.node_fields.len();
    assert!(fields > 0, "node_fields is empty");
    assert_eq!(snapshot.nodes.len() % fields, 0);
    assert_eq!(snapshot.nodes.len() / fields, snapshot.snapshot.node_count);
    snapshot
}
