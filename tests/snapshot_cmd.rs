//! `hunter snapshot` against real Node processes: by ws URL, by host:port, by pid (SIGUSR1),
//! and the errors a user gets for a target that cannot be reached or named.

mod cli_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cli_support::{eventually, run_hunter};

const LIMIT: Duration = Duration::from_secs(60);

/// A global whose class name appears in the snapshot's strings only if the snapshot is of
/// this script's heap. Node announces its inspector before it runs the script, hence the
/// line saying the global exists.
const SCRIPT: &str = "globalThis.kept = new (class HunterSnapshotMarker {})(); \
                      console.error(READY); setInterval(() => {}, 1000);";

/// [`SCRIPT`]'s line on stderr once its global exists.
const READY: &str = "hunter-snapshot-test-ready";

fn script() -> String {
    SCRIPT.replace("READY", &format!("{READY:?}"))
}

/// A Node process running [`SCRIPT`], killed when dropped.
struct Node {
    child: Child,
    /// Its inspector's websocket URL, when started with one.
    ws_url: Option<String>,
}

impl Node {
    /// Starts Node with its inspector on 127.0.0.1, port 0, and reads the URL from stderr.
    fn with_inspector() -> Node {
        let node = Node::start(&["--inspect=127.0.0.1:0"]);
        assert!(
            node.ws_url.is_some(),
            "node printed no `Debugger listening on` line"
        );
        node
    }

    /// Starts Node with no inspector; one can be opened with SIGUSR1.
    fn without_inspector() -> Node {
        Node::start(&[])
    }

    /// Starts Node and waits until the script's global exists.
    fn start(flags: &[&str]) -> Node {
        let mut child = Command::new("node")
            .args(flags)
            .args(["-e", &script()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start node");
        let stderr = child.stderr.take().expect("piped stderr");
        let (sender, lines) = mpsc::channel();
        // Keeps draining stderr so that Node never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let mut node = Node {
            child,
            ws_url: None,
        };
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(20))
                .expect("node did not print its ready line");
            if line == READY {
                return node;
            }
            if node.ws_url.is_none() {
                node.ws_url = cdp::parse_listening_line(&line);
            }
        }
    }

    fn ws_url(&self) -> &str {
        self.ws_url.as_deref().expect("started with an inspector")
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts `path` is a complete heap snapshot of [`SCRIPT`]'s process.
fn assert_snapshot_of_script(path: &Path) {
    let text = std::fs::read_to_string(path).expect("the snapshot file exists");
    let json: serde_json::Value = serde_json::from_str(&text).expect("the snapshot is JSON");
    let meta = &json["snapshot"];
    let node_fields = meta["meta"]["node_fields"]
        .as_array()
        .expect("snapshot.meta.node_fields")
        .len();
    let nodes = json["nodes"].as_array().expect("nodes").len();
    assert!(node_fields > 0 && nodes > 0);
    assert_eq!(
        meta["node_count"].as_u64(),
        Some((nodes / node_fields) as u64),
        "node_count disagrees with nodes: the snapshot is truncated"
    );
    assert!(
        json["strings"]
            .as_array()
            .expect("strings")
            .iter()
            .any(|s| s == "HunterSnapshotMarker"),
        "the snapshot is not of the script's heap"
    );
}

fn snapshot(target: &str, output: &Path) -> cli_support::Finished {
    run_hunter(
        [
            "snapshot",
            target,
            "-o",
            output.to_str().expect("utf-8 path"),
        ],
        LIMIT,
    )
}

#[test]
fn snapshot_by_ws_url_writes_the_process_heap() {
    let node = Node::with_inspector();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("by-url.heapsnapshot");
    let run = snapshot(node.ws_url(), &output);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    assert_snapshot_of_script(&output);
    // Nothing but the snapshot: the temporary file was renamed, not copied.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn snapshot_by_host_port_writes_the_process_heap() {
    let node = Node::with_inspector();
    let host_port = cdp::host_port(node.ws_url()).expect("host:port in the URL");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("by-host-port.heapsnapshot");
    let run = snapshot(host_port, &output);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    assert_snapshot_of_script(&output);
}

#[test]
fn snapshot_by_pid_opens_the_inspector_and_closes_it_again() {
    // SIGUSR1 opens Node's inspector on the fixed port 9229: only when nobody else has it.
    if std::net::TcpListener::bind("127.0.0.1:9229").is_err() {
        println!("skipped: 127.0.0.1:9229 is in use, SIGUSR1 could not open an inspector there");
        return;
    }
    let mut node = Node::without_inspector();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("by-pid.heapsnapshot");
    let run = snapshot(&node.child.id().to_string(), &output);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    assert_snapshot_of_script(&output);
    assert!(node.alive(), "the process did not survive its snapshot");
    assert!(
        eventually(Duration::from_secs(10), || std::net::TcpStream::connect(
            "127.0.0.1:9229"
        )
        .is_err()),
        "the inspector hunter opened on 9229 was left open"
    );
}

#[test]
fn a_pid_that_is_not_node_is_not_signalled() {
    let mut sleeper = Command::new("sleep").arg("30").spawn().expect("sleep");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("never.heapsnapshot");
    let run = snapshot(&sleeper.id().to_string(), &output);
    let still_running = matches!(sleeper.try_wait(), Ok(None));
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert_eq!(run.code(), Some(2), "{}", run.describe());
    assert!(
        run.stderr.contains("is not a Node process"),
        "{}",
        run.describe()
    );
    assert!(still_running, "hunter signalled a process that is not Node");
    assert!(!output.exists());
}

#[test]
fn a_pid_with_no_process_is_bad_usage() {
    let mut finished = Command::new("true").spawn().expect("true");
    let pid = finished.id();
    finished.wait().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("never.heapsnapshot");
    let run = snapshot(&pid.to_string(), &output);
    assert_eq!(run.code(), Some(2), "{}", run.describe());
    assert!(
        run.stderr.contains(&format!("there is no process {pid}")),
        "{}",
        run.describe()
    );
}

#[test]
fn an_unreachable_host_port_exits_3_naming_it() {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("never.heapsnapshot");
    let run = snapshot("127.0.0.1:1", &output);
    assert_eq!(run.code(), Some(3), "{}", run.describe());
    assert!(
        run.stderr.contains("no inspector at 127.0.0.1:1"),
        "{}",
        run.describe()
    );
    assert!(!output.exists());
}

#[test]
fn a_target_that_is_no_url_port_or_pid_is_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("never.heapsnapshot");
    let run = snapshot("my-server", &output);
    assert_eq!(run.code(), Some(2), "{}", run.describe());
    assert!(
        run.stderr
            .contains("`my-server` names no process: expected an inspector's ws:// URL"),
        "{}",
        run.describe()
    );
    assert!(!output.exists());
}

#[test]
fn an_unwritable_output_exits_3_and_leaves_the_process_running() {
    let mut node = Node::with_inspector();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("missing-dir").join("x.heapsnapshot");
    let run = snapshot(node.ws_url(), &output);
    assert_eq!(run.code(), Some(3), "{}", run.describe());
    assert!(
        run.stderr
            .contains(&format!("cannot write {}", output.display())),
        "{}",
        run.describe()
    );
    assert!(node.alive());
}
