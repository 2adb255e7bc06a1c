//! The discovery channel: how every Node process of the tree tells hunter its pid and inspector
//! URL.
//!
//! Why not the "Debugger listening on ws://…" line on stderr? When a child's stdio is piped to
//! its parent (`fork(…, { silent: true })`, `spawn` with pipes), that line goes to the parent,
//! never to hunter. Why not walk /proc? It finds pids but not the inspector's port and UUID.
//! So a small agent (`preload.js`, loaded with `--require` through the inherited NODE_OPTIONS)
//! runs in every Node process's main thread and writes one JSON line — pid, ppid, inspector
//! URL, argv — to a Unix socket in a private directory (0700; the agent file is 0600). The agent
//! keeps the connection open without holding the process alive, so EOF on it means the process
//! exited; and the other way round, a closed connection tells the agent that hunter is gone
//! (even SIGKILLed), and it kills its own process, so no descendant outlives hunter.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use serde::Deserialize;

use super::LaunchError;

/// The agent script, written to the private directory at launch.
pub(crate) const PRELOAD_JS: &str = include_str!("../preload.js");
/// The environment variable naming the agent socket.
pub(crate) const SOCKET_ENV: &str = "HUNTER_AGENT_SOCKET";

/// The private directory holding the agent script and its socket; removed on drop.
pub(crate) struct AgentDir {
    dir: tempfile::TempDir,
}

impl AgentDir {
    pub(crate) fn create() -> Result<AgentDir, LaunchError> {
        let io = |what: &str, error: std::io::Error| {
            LaunchError::io(format!(
                "cannot {what}: {}",
                crate::scenario::io_reason(&error)
            ))
        };
        let mut dir = tempfile::Builder::new()
            .prefix("hunter-")
            .tempdir()
            .map_err(|error| io("create a temporary directory", error))?;
        // A Unix socket path must fit in sun_path (108 bytes); a long TMPDIR would not.
        if dir.path().join("agent.sock").as_os_str().len() > 100 {
            dir = tempfile::Builder::new()
                .prefix("hunter-")
                .tempdir_in("/tmp")
                .map_err(|error| io("create a temporary directory in /tmp", error))?;
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(|error| io("restrict the temporary directory", error))?;
        let agent = dir.path().join("agent.cjs");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&agent)
            .map_err(|error| io("write the agent script", error))?;
        file.write_all(PRELOAD_JS.as_bytes())
            .map_err(|error| io("write the agent script", error))?;
        Ok(AgentDir { dir })
    }

    /// `.cjs`: a `package.json` with `"type": "module"` above the temporary directory must not
    /// turn the agent into an ES module (which `--require` could not load).
    pub(crate) fn script(&self) -> PathBuf {
        self.dir.path().join("agent.cjs")
    }

    pub(crate) fn socket(&self) -> PathBuf {
        self.dir.path().join("agent.sock")
    }
}

/// What the agent says about its process.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Announcement {
    pub(crate) pid: u32,
    pub(crate) ppid: u32,
    pub(crate) url: Option<String>,
    #[serde(default)]
    pub(crate) argv: Vec<String>,
    #[serde(default)]
    pub(crate) title: String,
}

/// The parent pid of a live process, from /proc.
pub(crate) fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid …": comm may contain spaces and parentheses.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// True when a live process runs the node binary.
pub(crate) fn runs_node(pid: u32) -> bool {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .and_then(|exe| {
            exe.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .is_some_and(|name| name == "node" || name == "nodejs")
}

/// The pids from `pid`'s parent up to and including `root`, or None when `root` is not an
/// ancestor (the process was re-parented, or /proc could not tell).
pub(crate) fn ancestors_up_to(pid: u32, first_parent: u32, root: u32) -> Option<Vec<u32>> {
    let mut chain = Vec::new();
    let mut current = first_parent;
    for _ in 0..64 {
        if current <= 1 || current == pid {
            return None;
        }
        chain.push(current);
        if current == root {
            return Some(chain);
        }
        current = parent_of(current)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_and_ancestry_of_this_process() {
        let me = std::process::id();
        assert_eq!(parent_of(me), Some(std::os::unix::process::parent_id()));
        assert_eq!(
            ancestors_up_to(me, parent_of(me).unwrap(), parent_of(me).unwrap()),
            Some(vec![parent_of(me).unwrap()])
        );
    }
}
