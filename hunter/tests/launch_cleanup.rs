//! kill_all_registered: what the Ctrl-C handler and the panic hook call. In its own test binary
//! because it kills every tree of the process, including other tests' trees.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use hunter::launch::{LaunchOptions, ProcessEvent, ProcessTree};
use hunter::scenario::{Ready, Target};

#[tokio::test]
async fn kill_all_registered_kills_every_live_tree() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.js"),
        "require('child_process').fork(__filename + '.child.js', { silent: true }); setInterval(() => {}, 1000);",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app.js.child.js"),
        "setInterval(() => {}, 1000);",
    )
    .unwrap();
    let target = Target {
        command: vec!["node".into(), "app.js".into()],
        cwd: dir.path().to_path_buf(),
        env: BTreeMap::new(),
        ready: Ready::Inspector,
    };
    let options = LaunchOptions {
        quiet: true,
        ..LaunchOptions::default()
    };
    let mut tree = ProcessTree::spawn(&target, &options).unwrap();
    let mut events = tree.events().unwrap();
    let mut started = Vec::new();
    let mut exited = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        while started.len() < 2 {
            if let Some(ProcessEvent::Started(process)) = events.recv().await {
                started.push(process.pid);
            }
        }
        hunter::launch::kill_all_registered();
        while exited.len() < 2 {
            if let Some(ProcessEvent::Exited { pid }) = events.recv().await {
                exited.push(pid);
            }
        }
        while tree.main_exited().is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("killed in time");
    started.sort();
    exited.sort();
    assert_eq!(started, exited);
    assert_eq!(tree.main_exited().unwrap().signal(), Some(libc::SIGKILL));
    assert!(tree.live_pids().is_empty());
}
