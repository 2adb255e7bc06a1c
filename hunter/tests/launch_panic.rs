//! The panic hook of install_cleanup_handlers kills every launched tree. In its own test binary
//! because it kills every tree of the process.

use std::collections::BTreeMap;
use std::time::Duration;

use hunter::launch::{LaunchOptions, ProcessEvent, ProcessTree};
use hunter::scenario::{Ready, Target};

#[tokio::test]
async fn a_panic_anywhere_kills_the_target() {
    hunter::launch::install_cleanup_handlers();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.js"), "setInterval(() => {}, 1000);").unwrap();
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
    tree.wait_ready(Duration::from_secs(20)).await.unwrap();
    let main = tree.main_pid().unwrap();
    // A panic on another thread: the tree is not dropped, only the hook can kill it.
    let panicked = std::thread::spawn(|| panic!("deliberate panic to trigger the hook")).join();
    assert!(panicked.is_err());
    let exited = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Some(ProcessEvent::Exited { pid }) = events.recv().await {
                return pid;
            }
        }
    })
    .await
    .expect("the hook killed the target");
    assert_eq!(exited, main);
}
