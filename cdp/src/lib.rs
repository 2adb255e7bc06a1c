//! A Chrome DevTools Protocol client for Node.js inspectors.
//!
//! A [`Session`] is a cheap, cloneable handle; one task owns the websocket behind a channel
//! (the shape of tokio's mini-redis). Worker threads get a [`Session`] of their own, tunnelled
//! through `NodeWorker`. Events are parsed loosely and decoded only by the subscriber that wants
//! them, so an unknown or malformed message never breaks the connection. Heap snapshots arrive
//! as a [`SnapshotStream`] of chunks.
//!
//! ```no_run
//! # async fn demo() -> cdp::Result<()> {
//! use cdp::protocol::heap_profiler::TakeHeapSnapshot;
//! let session = cdp::Session::connect("ws://127.0.0.1:9229/uuid").await?;
//! let answer = session.evaluate("Promise.resolve(6 * 7)").await?;
//! let mut file = tokio::fs::File::create("out.heapsnapshot").await.unwrap();
//! session.heap_snapshot(TakeHeapSnapshot::default()).write_to(&mut file).await?;
//! # Ok(()) }
//! ```

mod discovery;
mod dispatch;
mod error;
mod event;
pub mod protocol;
mod session;
mod snapshot;
mod workers;

pub use discovery::{host_port, list_targets, parse_listening_line, TargetInfo};
pub use error::{Error, JsException, Result};
pub use event::{Event, EventStream};
pub use protocol::heap_profiler::TakeHeapSnapshot;
pub use protocol::node_worker::WorkerInfo;
pub use protocol::Command;
pub use session::{Session, MAX_MESSAGE_SIZE};
pub use snapshot::{SnapshotEvent, SnapshotStream};
pub use workers::{Worker, WorkerAttachments};

#[cfg(test)]
mod tests {
    /// Callers hold sessions across tasks and move streams into them.
    #[test]
    fn handles_and_streams_can_cross_tasks() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<crate::Session>();
        send_sync::<crate::Event>();
        send_sync::<crate::Error>();
        send_sync::<crate::Worker>();
        send::<crate::EventStream>();
        send::<crate::SnapshotStream>();
        send::<crate::WorkerAttachments>();
    }
}
