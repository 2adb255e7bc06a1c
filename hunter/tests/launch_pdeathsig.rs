//! A SIGKILLed hunter (no handler can run) still leaves no target behind: the spawned process
//! has PR_SET_PDEATHSIG(SIGKILL), and every Node process below it kills itself when its agent
//! connection to hunter closes. This test binary plays both parts (harness = false): run
//! normally it is the test; with HUNTER_TEST_HOLD=<dir> it is the "hunter" that launches the
//! target in <dir> (a main process and a forked child), prints their pids and waits to be
//! killed.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hunter::launch::{LaunchOptions, ProcessTree};
use hunter::scenario::{Ready, Target};

fn main() {
    match std::env::var_os("HUNTER_TEST_HOLD") {
        Some(dir) => hold(dir.into()),
        None => {
            killing_hunter_with_sigkill_kills_the_target();
            println!("test killing_hunter_with_sigkill_kills_the_target ... ok");
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn hold(dir: std::path::PathBuf) {
    let target = Target {
        command: vec!["node".into(), "app.js".into()],
        cwd: dir,
        env: BTreeMap::new(),
        ready: Ready::Inspector,
    };
    let options = LaunchOptions {
        quiet: true,
        ..LaunchOptions::default()
    };
    let mut tree = ProcessTree::spawn(&target, &options).unwrap();
    let mut events = tree.events().unwrap();
    let mut pids = Vec::new();
    while pids.len() < 2 {
        if let Some(hunter::launch::ProcessEvent::Started(process)) = events.recv().await {
            pids.push(process.pid.to_string());
        }
    }
    println!("{}", pids.join(" "));
    tokio::time::sleep(Duration::from_secs(600)).await;
}

fn killing_hunter_with_sigkill_kills_the_target() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.js"),
        "require('child_process').fork(__dirname + '/child.js', { silent: true }); setInterval(() => {}, 1000);",
    )
    .unwrap();
    std::fs::write(dir.path().join("child.js"), "setInterval(() => {}, 1000);").unwrap();
    let mut holder = Command::new(std::env::current_exe().unwrap())
        .env("HUNTER_TEST_HOLD", dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pids: Vec<i32> = line
        .split_whitespace()
        .map(|pid| pid.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "{line}");
    for pid in &pids {
        // SAFETY: signal 0 checks existence only.
        assert_eq!(unsafe { libc::kill(*pid, 0) }, 0, "{pid} runs");
    }
    holder.kill().unwrap();
    holder.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    for pid in pids {
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let gone = stat.is_empty()
                || stat[stat.rfind(')').unwrap() + 1..]
                    .trim_start()
                    .starts_with('Z');
            if gone {
                break;
            }
            if Instant::now() > deadline {
                // SAFETY: cleaning up after the failed check.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                panic!("{pid} outlived a SIGKILLed hunter");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
