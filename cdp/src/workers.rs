//! Worker threads as sessions: `NodeWorker.enable` and the stream of attached workers, each
//! with a [`Session`] of its own that tunnels through the parent connection.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};

use crate::error::Result;
use crate::event::EventStream;
use crate::protocol::node_worker::{AttachedToWorker, Enable, WorkerInfo};
use crate::session::Session;

/// A worker thread this side is attached to.
#[derive(Debug, Clone)]
pub struct Worker {
    pub info: WorkerInfo,
    /// The worker's own session: same API as the top-level one, its own ids and events.
    /// It closes when the worker exits or is detached, or when its parent closes.
    pub session: Session,
    /// The worker waits for `Runtime.runIfWaitingForDebugger` on its session before running.
    pub waiting_for_debugger: bool,
}

/// Workers as Node reports them: those already running when `attach_workers` was called, then
/// new ones as they start. Ends when the parent session closes.
pub struct WorkerAttachments {
    parent: Session,
    attached: EventStream,
}

impl Session {
    /// Sends `NodeWorker.enable` and returns the stream of this session's workers.
    pub async fn attach_workers(
        &self,
        wait_for_debugger_on_start: bool,
    ) -> Result<WorkerAttachments> {
        // Node may report workers before it answers enable: subscribe first.
        let attached = self.subscribe("NodeWorker.attachedToWorker");
        self.call(&Enable {
            wait_for_debugger_on_start,
        })
        .await?;
        Ok(WorkerAttachments {
            parent: self.clone(),
            attached,
        })
    }
}

impl Stream for WorkerAttachments {
    type Item = Worker;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Worker>> {
        loop {
            let Some(event) = futures::ready!(self.attached.poll_next_unpin(cx)) else {
                return Poll::Ready(None);
            };
            // An attach event without a usable session id names nothing we could talk to.
            let Ok(attached) = event.params::<AttachedToWorker>() else {
                continue;
            };
            if attached.session_id.is_empty() {
                continue;
            }
            let session = Session::worker(&self.parent, attached.session_id);
            return Poll::Ready(Some(Worker {
                info: attached.worker_info,
                session,
                waiting_for_debugger: attached.waiting_for_debugger,
            }));
        }
    }
}

impl std::fmt::Debug for WorkerAttachments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerAttachments")
            .field("parent", &self.parent)
            .finish_non_exhaustive()
    }
}
