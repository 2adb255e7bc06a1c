//! hunter: hunts memory leaks in Node.js programs, their child processes and worker threads.
//!
//! A hunt is a pipeline; each stage is a module:
//!
//! ## Layout
//! - [`scenario`]: reads and validates a scenario file (what to start, what to do, how hard to look).
//! - `launch`: starts the target as a process tree with an inspector on 127.0.0.1 in every Node
//!   process, discovers those processes, waits until the target is ready, and makes sure nothing
//!   it started outlives the hunt.
//! - `workload`: drives one iteration of the scenario's workload (eval, module, http or exec).
//! - [`snapshot`]: the heap snapshot engine: a streaming parser, dominators, retained sizes,
//!   retainer paths and the DevTools class summary.
//! - [`analyse`]: turns a series of snapshots of one process into leak groups.
//! - `hunt`: the orchestration of one scenario: launch → connect → drive → snapshot → analyse.
//! - [`report`]: the report model, its JSON/JUnit/Markdown/human renderings, and the gate that
//!   decides the exit code.

pub mod analyse;
pub mod hunt;
pub mod launch;
pub mod report;
pub mod scenario;
pub mod snapshot;
pub mod workload;
