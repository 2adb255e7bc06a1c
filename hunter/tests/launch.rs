//! Launching real Node process trees: readiness, discovery of every Node process (including
//! children whose stdio is piped to their parent), roles, and that nothing outlives the tree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use hunter::launch::{LaunchOptions, NodeProcess, ProcessEvent, ProcessTree, Role};
use hunter::scenario::{Ready, Target};
use regex::Regex;

const GENEROUS: Duration = Duration::from_secs(20);

fn target(dir: &Path, command: &[&str], ready: Ready) -> Target {
    Target {
        command: command.iter().map(|word| word.to_string()).collect(),
        cwd: dir.to_path_buf(),
        env: BTreeMap::new(),
        ready,
    }
}

fn quiet() -> LaunchOptions {
    LaunchOptions {
        quiet: true,
        ..LaunchOptions::default()
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn log(pattern: &str) -> Ready {
    Ready::Log(Regex::new(pattern).unwrap())
}

/// Collects Started events until `count` Node processes announced themselves.
async fn started(tree: &mut ProcessTree, count: usize) -> Vec<NodeProcess> {
    let mut events = tree.events().expect("events taken once");
    let mut processes = Vec::new();
    tokio::time::timeout(GENEROUS, async {
        while processes.len() < count {
            match events.recv().await {
                Some(ProcessEvent::Started(process)) => processes.push(process),
                Some(ProcessEvent::Exited { pid }) => panic!("{pid} exited early"),
                None => panic!("event stream ended"),
            }
        }
    })
    .await
    .expect("processes announced in time");
    processes
}

/// Asks the process behind `ws_url` for its pid over a real CDP connection.
async fn pid_over_inspector(ws_url: &str) -> u32 {
    assert!(ws_url.starts_with("ws://127.0.0.1:"), "{ws_url}");
    let session = cdp::Session::connect(ws_url).await.unwrap();
    let pid = session.evaluate("process.pid").await.unwrap();
    session.disconnect().await;
    pid.as_u64().unwrap() as u32
}

/// Gone: no such process, or a zombie nobody reaped (it runs nothing).
fn is_gone(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let exists = unsafe { libc::kill(pid as i32, 0) } == 0;
    if !exists {
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat[stat.rfind(')').unwrap() + 1..]
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true)
}

async fn assert_all_gone(pids: &[u32]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let alive: Vec<u32> = pids.iter().copied().filter(|pid| !is_gone(*pid)).collect();
        if alive.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still running: {alive:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const HTTP_SERVER: &str = r#"
let hits = 0;
const server = require('http').createServer((req, res) => {
  hits++;
  globalThis.hits = hits;
  res.statusCode = hits <= 3 ? 503 : 200;
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => console.log('listening on ' + server.address().port));
"#;

#[tokio::test]
async fn ready_by_log_captures_placeholders_and_main_is_reachable() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "server.js", HTTP_SERVER);
    let target = target(
        dir.path(),
        &["node", "server.js"],
        log(r"listening on (?P<port>\d+)"),
    );
    let mut tree = ProcessTree::spawn(&target, &quiet()).unwrap();
    let captures = tree.wait_ready(GENEROUS).await.unwrap();
    let port: u16 = captures["port"].parse().unwrap();
    assert!(port > 0);
    let main = tree.main_process().unwrap();
    assert_eq!(main.pid, tree.spawned_pid());
    assert_eq!(main.role, Role::Main);
    assert_eq!(
        main.command,
        ["node", dir.path().join("server.js").to_str().unwrap()]
    );
    assert_eq!(
        pid_over_inspector(main.ws_url.as_deref().unwrap()).await,
        main.pid
    );
    // The inspector is not the port the program chose.
    assert!(!main.ws_url.unwrap().contains(&format!(":{port}/")));
}

#[tokio::test]
async fn ready_by_http_polls_until_2xx() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "server.js", HTTP_SERVER);
    let ready = Ready::Http {
        url: "http://127.0.0.1:{port}/health".to_string(),
        log: Some(Regex::new(r"listening on (?P<port>\d+)").unwrap()),
    };
    let target = target(dir.path(), &["node", "server.js"], ready);
    let mut tree = ProcessTree::spawn(&target, &quiet()).unwrap();
    tree.wait_ready(GENEROUS).await.unwrap();
    let main = tree.main_process().unwrap();
    let session = cdp::Session::connect(main.ws_url.as_deref().unwrap())
        .await
        .unwrap();
    // Three 503s, then the 200 that made it ready.
    assert_eq!(session.evaluate("globalThis.hits").await.unwrap(), 4);
}

#[tokio::test]
async fn ready_timeout_names_the_regex_and_shows_output() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app.js",
        "console.log('starting up'); setInterval(() => {}, 1000);",
    );
    let target = target(dir.path(), &["node", "app.js"], log("^never$"));
    let mut tree = ProcessTree::spawn(&target, &quiet()).unwrap();
    let error = tree
        .wait_ready(Duration::from_millis(1500))
        .await
        .unwrap_err();
    assert!(error.is_timeout());
    assert_eq!(
        error.to_string(),
        "not ready after 1.5 s: no line of its output matched /^never$/\nlast lines of its stdout:\n  starting up"
    );
}

#[tokio::test]
async fn target_exiting_before_ready_reports_status_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app.js",
        "console.error('config missing: DATABASE_URL'); process.exit(3);",
    );
    let target = target(dir.path(), &["node", "app.js"], log("listening"));
    let mut tree = ProcessTree::spawn(&target, &quiet()).unwrap();
    let error = tree.wait_ready(GENEROUS).await.unwrap_err();
    assert!(error.is_exited(), "{error}");
    assert_eq!(
        error.to_string(),
        "target exited with status 3 before it was ready\nlast lines of its stderr:\n  config missing: DATABASE_URL"
    );
    assert_eq!(tree.main_exited().and_then(|status| status.code()), Some(3));
}

#[tokio::test]
async fn command_not_found_is_a_clear_start_error() {
    let dir = tempfile::tempdir().unwrap();
    let target = target(dir.path(), &["nodex", "app.js"], Ready::Inspector);
    let options = LaunchOptions {
        scenario_file: Some("scenarios/x/scenario.toml".into()),
        ..quiet()
    };
    let error = ProcessTree::spawn(&target, &options).err().unwrap();
    assert!(error.is_start_failure());
    assert_eq!(
        error.to_string(),
        "cannot start `nodex`: No such file or directory (target.command in scenarios/x/scenario.toml)"
    );
}

/// main forks a silent child and spawns a child with piped stdio, which spawns a grandchild
/// with piped stdio: none of their "Debugger listening" lines reach hunter.
const TREE: &str = r#"
const { fork, spawn } = require('child_process');
const fs = require('fs');
const role = process.argv[2] || 'main';
fs.writeFileSync(require('path').join(__dirname, 'pid-' + role), String(process.pid));
if (role === 'main') {
  fork(__filename, ['forked'], { silent: true });
  spawn(process.execPath, [__filename, 'spawned'], { stdio: 'pipe' });
} else if (role === 'spawned') {
  spawn(process.execPath, [__filename, 'grandchild'], { stdio: 'pipe' });
}
setInterval(() => {}, 1000);
"#;

fn pids_written(dir: &Path) -> BTreeMap<String, u32> {
    ["main", "forked", "spawned", "grandchild"]
        .into_iter()
        .filter_map(|role| {
            let text = std::fs::read_to_string(dir.join(format!("pid-{role}"))).ok()?;
            Some((role.to_string(), text.parse().ok()?))
        })
        .collect()
}

#[tokio::test]
async fn discovers_piped_children_and_grandchildren_and_kills_them_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tree.js", TREE);
    let target = target(dir.path(), &["node", "tree.js"], Ready::Inspector);
    let mut tree = ProcessTree::spawn(&target, &quiet()).unwrap();
    let processes = started(&mut tree, 4).await;
    let written = pids_written(dir.path());
    let announced: BTreeSet<u32> = processes.iter().map(|process| process.pid).collect();
    assert_eq!(
        announced,
        written.values().copied().collect::<BTreeSet<_>>()
    );
    for process in &processes {
        let expected = if process.pid == written["main"] {
            Role::Main
        } else {
            Role::Child
        };
        assert_eq!(process.role, expected, "{process:?}");
        assert_eq!(
            pid_over_inspector(process.ws_url.as_deref().unwrap()).await,
            process.pid
        );
    }
    let grandchild = processes
        .iter()
        .find(|p| p.pid == written["grandchild"])
        .unwrap();
    assert_eq!(grandchild.ppid, written["spawned"]);
    let pids: Vec<u32> = announced.into_iter().collect();
    drop(tree);
    assert_all_gone(&pids).await;
}

#[tokio::test]
async fn shutdown_stops_every_process_and_reports_exits() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tree.js", TREE);
    let target = target(dir.path(), &["node", "tree.js"], Ready::Inspector);
    let mut tree = ProcessTree::spawn(&target, &quiet()).unwrap();
    tree.wait_ready(GENEROUS).await.unwrap();
    let processes = started(&mut tree, 4).await;
    let pids: Vec<u32> = processes.iter().map(|process| process.pid).collect();
    tree.shutdown().await;
    assert_all_gone(&pids).await;
}

#[tokio::test]
async fn shell_wrapper_main_is_the_node_process() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tree.js", TREE);
    let target = target(
        dir.path(),
        &["sh", "-c", "node tree.js; echo done"],
        Ready::Inspector,
    );
    let mut tree = ProcessTree::spawn(&target, &quiet()).unwrap();
    tree.wait_ready(GENEROUS).await.unwrap();
    let processes = started(&mut tree, 4).await;
    let written = pids_written(dir.path());
    let main = tree.main_process().unwrap();
    assert_eq!(main.pid, written["main"]);
    assert_eq!(main.ppid, tree.spawned_pid());
    assert_eq!(processes.iter().filter(|p| p.role == Role::Main).count(), 1);
    let pids: Vec<u32> = processes
        .iter()
        .map(|p| p.pid)
        .chain([tree.spawned_pid()])
        .collect();
    drop(tree);
    assert_all_gone(&pids).await;
}

#[tokio::test]
async fn npm_run_main_is_npm_and_the_script_is_a_child() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tree.js", TREE);
    write(
        dir.path(),
        "package.json",
        r#"{ "name": "t", "version": "1.0.0", "scripts": { "start": "node tree.js" } }"#,
    );
    let target = target(dir.path(), &["npm", "run", "start"], Ready::Inspector);
    let mut tree = ProcessTree::spawn(&target, &quiet()).unwrap();
    tree.wait_ready(GENEROUS).await.unwrap();
    let processes = started(&mut tree, 5).await;
    let written = pids_written(dir.path());
    let npm = tree.spawned_pid();
    assert_eq!(tree.main_pid(), Some(npm));
    let main = tree.main_process().unwrap();
    assert!(main.command[1].ends_with("npm"), "{main:?}");
    let children: BTreeSet<u32> = processes
        .iter()
        .filter(|process| process.role == Role::Child)
        .map(|process| process.pid)
        .collect();
    assert_eq!(children, written.values().copied().collect::<BTreeSet<_>>());
    let pids: Vec<u32> = processes.iter().map(|process| process.pid).collect();
    drop(tree);
    assert_all_gone(&pids).await;
}

#[tokio::test]
async fn cluster_workers_each_get_a_free_inspector() {
    let dir = tempfile::tempdir().unwrap();
    // Hold the port right after the primary's: cluster's default (primary port + 1) would fail.
    write(
        dir.path(),
        "cluster.js",
        r#"
const cluster = require('cluster');
if (cluster.isPrimary) {
  const port = Number(new URL(require('inspector').url()).port);
  require('net').createServer().listen(port + 1, '127.0.0.1', () => {
    cluster.fork(); cluster.fork();
  }).on('error', () => { cluster.fork(); cluster.fork(); });
}
setInterval(() => {}, 1000);
"#,
    );
    let target = target(dir.path(), &["node", "cluster.js"], Ready::Inspector);
    let mut tree = ProcessTree::spawn(&target, &quiet()).unwrap();
    let processes = started(&mut tree, 3).await;
    let urls: BTreeSet<&str> = processes
        .iter()
        .map(|p| p.ws_url.as_deref().unwrap())
        .collect();
    assert_eq!(urls.len(), 3);
    for process in &processes {
        assert_eq!(
            pid_over_inspector(process.ws_url.as_deref().unwrap()).await,
            process.pid
        );
    }
    assert_eq!(processes.iter().filter(|p| p.role == Role::Main).count(), 1);
}

#[tokio::test]
async fn user_inspector_flags_are_dropped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.js", "setInterval(() => {}, 1000);");
    let mut target = target(
        dir.path(),
        &["node", "--inspect=0.0.0.0:9229", "app.js"],
        Ready::Inspector,
    );
    target.env.insert(
        "NODE_OPTIONS".into(),
        "--inspect-brk=9230 --max-old-space-size=128".into(),
    );
    let mut tree = ProcessTree::spawn(&target, &quiet()).unwrap();
    tree.wait_ready(GENEROUS).await.unwrap();
    assert_eq!(
        tree.warnings(),
        [
            "ignoring `--inspect-brk=9230` in NODE_OPTIONS: hunter opens every inspector on 127.0.0.1, port 0",
            "ignoring `--inspect=0.0.0.0:9229` in target.command: hunter opens every inspector on 127.0.0.1, port 0",
        ]
    );
    let main = tree.main_process().unwrap();
    let session = cdp::Session::connect(main.ws_url.as_deref().unwrap())
        .await
        .unwrap();
    // The user's other options survive.
    let limit = session
        .evaluate("require('v8').getHeapStatistics().heap_size_limit < 512 * 1024 * 1024")
        .await
        .unwrap();
    assert_eq!(limit, true);
}

#[tokio::test]
async fn ready_by_http_timeout_says_connection_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.js", "setInterval(() => {}, 1000);");
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{closed}/health");
    let ready = Ready::Http {
        url: url.clone(),
        log: None,
    };
    let mut tree =
        ProcessTree::spawn(&target(dir.path(), &["node", "app.js"], ready), &quiet()).unwrap();
    let error = tree.wait_ready(Duration::from_secs(1)).await.unwrap_err();
    assert!(error.is_timeout());
    assert_eq!(
        error.to_string(),
        format!("not ready after 1 s: GET {url}: connection refused")
    );
}

#[tokio::test]
async fn delay_readiness_fails_fast_when_the_target_dies() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app.js",
        "setTimeout(() => { throw new Error('crashed while starting'); }, 100);",
    );
    let ready = Ready::Delay(Duration::from_secs(60));
    let mut tree =
        ProcessTree::spawn(&target(dir.path(), &["node", "app.js"], ready), &quiet()).unwrap();
    let error = tree.wait_ready(Duration::from_secs(120)).await.unwrap_err();
    assert!(error.is_exited(), "{error}");
    let shown = error.to_string();
    assert!(
        shown.starts_with(
            "target exited with status 1 before it was ready\nlast lines of its stderr:\n"
        ),
        "{shown}"
    );
    assert!(shown.contains("Error: crashed while starting"), "{shown}");
}

#[tokio::test]
async fn child_whose_fixed_inspector_port_is_taken_still_gets_one() {
    let dir = tempfile::tempdir().unwrap();
    // The program forks a child with a fixed inspector port that is already taken: Node starts
    // the child without an inspector; the agent opens one on a free loopback port.
    write(
        dir.path(),
        "main.js",
        r#"
const holder = require('net').createServer().listen(0, '127.0.0.1', () => {
  const port = holder.address().port;
  require('fs').writeFileSync(__dirname + '/taken-port', String(port));
  require('child_process').fork(__dirname + '/child.js', [], {
    execArgv: ['--inspect=127.0.0.1:' + port], silent: true,
  });
});
setInterval(() => {}, 1000);
"#,
    );
    write(dir.path(), "child.js", "setInterval(() => {}, 1000);");
    let target = target(dir.path(), &["node", "main.js"], Ready::Inspector);
    let mut tree = ProcessTree::spawn(&target, &quiet()).unwrap();
    let processes = started(&mut tree, 2).await;
    let taken = std::fs::read_to_string(dir.path().join("taken-port")).unwrap();
    let child = processes.iter().find(|p| p.role == Role::Child).unwrap();
    let url = child.ws_url.as_deref().unwrap();
    assert!(!url.contains(&format!(":{taken}/")), "{url}");
    assert_eq!(pid_over_inspector(url).await, child.pid);
}
