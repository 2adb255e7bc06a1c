//! The process-global registry of everything hunter started, so that nothing outlives it:
//! [`kill_all_registered`] SIGKILLs every live process group and announced pid, and
//! [`install_cleanup_handlers`] calls it from a panic hook and on SIGINT/SIGTERM (after the hunt
//! had its chance to stop and report, see [`interrupted`]).
//!
//! Each [`ProcessTree`](super::ProcessTree) registers its process group at spawn, adds every
//! Node process that announces itself (a child may have made its own group or session), removes
//! pids whose agent connection closed (they exited, and their pid may be reused), and
//! unregisters itself when shut down or dropped.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once, OnceLock};
use std::time::Duration;

/// How long the hunt may take, after Ctrl-C, to stop its targets and write its reports before
/// hunter kills everything and exits anyway.
const GRACE: Duration = Duration::from_secs(20);

#[derive(Default)]
struct Entry {
    group: Option<i32>,
    pids: HashSet<i32>,
}

static REGISTRY: Mutex<Option<HashMap<u64, Entry>>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn registry() -> MutexGuard<'static, Option<HashMap<u64, Entry>>> {
    // A panic while the lock was held must not stop the cleanup that the panic hook runs.
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A tree's handle in the registry.
pub(crate) struct Registration(u64);

impl Registration {
    pub(crate) fn new(group: i32) -> Registration {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let entry = Entry {
            group: Some(group),
            pids: HashSet::new(),
        };
        registry()
            .get_or_insert_with(HashMap::new)
            .insert(id, entry);
        Registration(id)
    }

    pub(crate) fn add_pid(&self, pid: i32) {
        if let Some(entry) = registry().as_mut().and_then(|map| map.get_mut(&self.0)) {
            entry.pids.insert(pid);
        }
    }

    pub(crate) fn remove_pid(&self, pid: i32) {
        if let Some(entry) = registry().as_mut().and_then(|map| map.get_mut(&self.0)) {
            entry.pids.remove(&pid);
        }
    }

    /// The group and the pids still alive, for this tree's own shutdown.
    pub(crate) fn snapshot(&self) -> (Option<i32>, Vec<i32>) {
        registry()
            .as_ref()
            .and_then(|map| map.get(&self.0))
            .map(|entry| (entry.group, entry.pids.iter().copied().collect()))
            .unwrap_or((None, Vec::new()))
    }

    /// Sends `signal` to the tree's group and its announced pids.
    pub(crate) fn signal(&self, signal: i32) {
        let (group, pids) = self.snapshot();
        send(group, &pids, signal);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(map) = registry().as_mut() {
            map.remove(&self.0);
        }
    }
}

fn send(group: Option<i32>, pids: &[i32], signal: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; pids are > 1 by construction.
    unsafe {
        if let Some(group) = group.filter(|group| *group > 1) {
            libc::kill(-group, signal);
        }
        for pid in pids.iter().filter(|pid| **pid > 1) {
            libc::kill(*pid, signal);
        }
    }
}

/// SIGKILLs every process group and announced pid of every live [`ProcessTree`](super::ProcessTree).
/// Safe to call from a panic hook or a signal handler task; idempotent.
pub fn kill_all_registered() {
    let entries: Vec<Entry> = match registry().as_mut() {
        Some(map) => map.drain().map(|(_, entry)| entry).collect(),
        None => Vec::new(),
    };
    for entry in entries {
        let pids: Vec<i32> = entry.pids.into_iter().collect();
        send(entry.group, &pids, libc::SIGKILL);
    }
}

/// The exit code of the signal that interrupted hunter (130 for SIGINT, 143 for SIGTERM), sent
/// once; None until then.
fn interruption() -> &'static tokio::sync::watch::Sender<Option<u8>> {
    static INTERRUPTION: OnceLock<tokio::sync::watch::Sender<Option<u8>>> = OnceLock::new();
    INTERRUPTION.get_or_init(|| tokio::sync::watch::channel(None).0)
}

/// Resolves, with the exit code a shell would give (130 or 143), once SIGINT or SIGTERM came
/// in; never if no signal handler is installed. A hunt selects on it to stop early and report
/// what it measured.
pub async fn interrupted() -> u8 {
    let mut receiver = interruption().subscribe();
    loop {
        if let Some(code) = *receiver.borrow_and_update() {
            return code;
        }
        if receiver.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// The exit code of the signal that interrupted hunter, if one did.
pub fn interruption_code() -> Option<u8> {
    *interruption().borrow()
}

/// Makes sure the target dies with hunter: installs a panic hook that kills every registered
/// process (then runs the previous hook), and spawns a task that handles SIGINT and SIGTERM.
/// The first signal is announced through [`interrupted`], so that the hunt stops its targets
/// and writes what it measured; a second signal, or [`GRACE`] later, kills every registered
/// process and exits with 130 or 143, as shells do. Must be called from inside a tokio
/// runtime; calling it again does nothing. (The target runs in its own process group, so a
/// terminal's Ctrl-C reaches hunter only: without this it would leave the target running. A
/// SIGKILLed hunter is covered by PR_SET_PDEATHSIG on the spawned process.)
pub fn install_cleanup_handlers() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            kill_all_registered();
            previous(info);
        }));
        tokio::spawn(async {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut interrupt), Ok(mut terminate)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            let code = tokio::select! {
                _ = interrupt.recv() => 130,
                _ = terminate.recv() => 143,
            };
            eprintln!(
                "hunter: interrupted; stopping the target and reporting what was measured \
                 (interrupt again to stop at once)"
            );
            interruption().send_replace(Some(code));
            // A thread, not a task: the deadline must hold even if the runtime is stuck.
            std::thread::spawn(move || {
                std::thread::sleep(GRACE);
                kill_all_registered();
                eprintln!(
                    "hunter: still not done {} s after the interrupt; stopped",
                    GRACE.as_secs()
                );
                std::process::exit(code as i32);
            });
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
            kill_all_registered();
            eprintln!("hunter: interrupted again; stopped the target");
            std::process::exit(code as i32);
        });
    });
}
