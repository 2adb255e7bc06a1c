//! A SIGKILLed hunter (no handler can run) still leaves no target behind: the spawned process
//! has PR_SET_PDEATHSIG(SIGKILL). This test binary plays both parts (harness = false): run
//! normally it is the test; with HUNTER_TEST_HOLD=<dir> it is the "hunter" that launches the
//! target in <dir>, prints the main pid and waits to be killed.

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
    tree.wait_ready(Duration::from_secs(20)).await.unwrap();
    println!("{}", tree.main_pid().unwrap());
    tokio::time::sleep(Duration::from_secs(600)).await;
}

fn killing_hunter_with_sigkill_kills_the_target() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.js"), "setInterval(() => {}, 1000);").unwrap();
    let mut holder = Command::new(std::env::current_exe().unwrap())
        .env("HUNTER_TEST_HOLD", dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid: i32 = line.trim().parse().expect(&line);
    // SAFETY: signal 0 checks existence only.
    assert_eq!(unsafe { libc::kill(pid, 0) }, 0, "the target runs");
    holder.kill().unwrap();
    holder.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let gone = stat.is_empty()
            || stat[stat.rfind(')').unwrap() + 1..]
                .trim_start()
                .starts_with('Z');
        if gone {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "target {pid} outlived a SIGKILLed hunter"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
