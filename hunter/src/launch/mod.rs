//! Launching the target: starts `[target] command` as a process tree with an inspector on
//! 127.0.0.1, port 0, in every Node process; discovers those processes (including children
//! whose stdio is piped to their parent); waits until the target is ready; and makes sure
//! nothing it started outlives the hunt.
//!
//! - [`ProcessTree`] owns one launched target: [`ProcessTree::spawn`], the stream of
//!   [`ProcessEvent`]s, [`ProcessTree::wait_ready`], [`ProcessTree::shutdown`]; dropping it
//!   SIGKILLs everything it started.
//! - `agent`: the preloaded script and the Unix socket every Node process announces itself on.
//! - `node_options`: NODE_OPTIONS and argv rewriting (inspector flags).
//! - `output`: draining, forwarding and keeping the target's stdout/stderr.
//! - `cleanup`: the process-global registry behind [`kill_all_registered`] and
//!   [`install_cleanup_handlers`].
//!
//! Which process is "main" (SPEC §2: "the main process started by `[target]`"): the spawned
//! process when it is Node — for `npm run start` that is npm's own Node process, and the script
//! is its child, as the corpus scenario `tree-npm-run-leak` expects; otherwise (a shell wrapper)
//! the first announced Node process descending from it with no other Node process in between.
//! Every other Node process of the tree is a child.

mod agent;
mod cleanup;
mod error;
mod node_options;
mod output;
mod tree;

pub use cleanup::{install_cleanup_handlers, interrupted, interruption_code, kill_all_registered};
pub use error::LaunchError;
pub(crate) use tree::{describe_http_error, describe_status};
pub use tree::{LaunchOptions, NodeProcess, ProcessEvent, ProcessTree, Role};
