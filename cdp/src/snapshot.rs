//! Heap snapshots as a stream: the `addHeapSnapshotChunk` events of one `takeHeapSnapshot` (or
//! `stopTrackingHeapObjects`) call, in order, with optional progress, ending at the reply.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result};
use crate::event::{Event, EventStream};
use crate::protocol::heap_profiler::{
    AddHeapSnapshotChunk, ReportHeapSnapshotProgress, StopTrackingHeapObjects, TakeHeapSnapshot,
};
use crate::protocol::Command;
use crate::session::Session;

const CHUNK_EVENT: &str = "HeapProfiler.addHeapSnapshotChunk";
const PROGRESS_EVENT: &str = "HeapProfiler.reportHeapSnapshotProgress";

/// One item of a [`SnapshotStream`].
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotEvent {
    /// The next piece of the snapshot JSON. Pieces split tokens anywhere: concatenate them.
    Chunk(String),
    /// V8's progress while it builds the snapshot (only with `report_progress`).
    Progress {
        done: u64,
        total: u64,
        finished: bool,
    },
}

/// The snapshot of one command, chunk by chunk. It does nothing until polled: the command is
/// sent on the first poll, after the subscriptions were made. It ends after the command's reply
/// (every chunk arrives before it), or with one `Err` if the call fails or the session closes.
/// Take one snapshot at a time per session: chunks carry no snapshot id.
pub struct SnapshotStream {
    chunks: EventStream,
    progress: Option<EventStream>,
    reply: Option<Pin<Box<dyn Future<Output = Result<()>> + Send>>>,
    method: &'static str,
    finished: bool,
}

impl Session {
    /// Streams a heap snapshot (`HeapProfiler.takeHeapSnapshot`).
    pub fn heap_snapshot(&self, options: TakeHeapSnapshot) -> SnapshotStream {
        let progress = options.report_progress;
        SnapshotStream::start(self, options, progress)
    }

    /// Stops allocation tracking; V8 answers with a snapshot whose nodes carry allocation
    /// stacks, streamed like [`Session::heap_snapshot`].
    pub fn stop_tracking_heap_objects(&self, options: StopTrackingHeapObjects) -> SnapshotStream {
        let progress = options.report_progress;
        SnapshotStream::start(self, options, progress)
    }
}

impl SnapshotStream {
    fn start<C>(session: &Session, command: C, progress: bool) -> SnapshotStream
    where
        C: Command + Send + Sync + 'static,
    {
        let chunks = session.subscribe(CHUNK_EVENT);
        let progress = progress.then(|| session.subscribe(PROGRESS_EVENT));
        let session = session.clone();
        let reply = Box::pin(async move { session.call(&command).await.map(drop) });
        SnapshotStream {
            chunks,
            progress,
            reply: Some(reply),
            method: C::METHOD,
            finished: false,
        }
    }

    fn chunk(&self, event: Event) -> Result<SnapshotEvent> {
        let chunk: AddHeapSnapshotChunk = event.params()?;
        Ok(SnapshotEvent::Chunk(chunk.chunk))
    }

    fn progress(event: Event) -> Result<SnapshotEvent> {
        let progress: ReportHeapSnapshotProgress = event.params()?;
        Ok(SnapshotEvent::Progress {
            done: progress.done,
            total: progress.total,
            finished: progress.finished.unwrap_or(false),
        })
    }

    /// Writes the snapshot JSON to `writer` (e.g. a file DevTools can open), returning its size.
    pub async fn write_to<W: AsyncWrite + Unpin>(mut self, writer: &mut W) -> Result<u64> {
        let mut written = 0u64;
        while let Some(item) = self.next().await {
            if let SnapshotEvent::Chunk(chunk) = item? {
                writer
                    .write_all(chunk.as_bytes())
                    .await
                    .map_err(|e| Error::io("writing the heap snapshot", e))?;
                written += chunk.len() as u64;
            }
        }
        writer
            .flush()
            .await
            .map_err(|e| Error::io("writing the heap snapshot", e))?;
        Ok(written)
    }

    /// Collects the whole snapshot JSON in memory.
    pub async fn collect_bytes(mut self) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        while let Some(item) = self.next().await {
            if let SnapshotEvent::Chunk(chunk) = item? {
                bytes.extend_from_slice(chunk.as_bytes());
            }
        }
        Ok(bytes)
    }
}

impl Stream for SnapshotStream {
    type Item = Result<SnapshotEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        if let Poll::Ready(Some(event)) = this.chunks.poll_next_unpin(cx) {
            return Poll::Ready(Some(this.chunk(event)));
        }
        if let Some(progress) = &mut this.progress {
            if let Poll::Ready(Some(event)) = progress.poll_next_unpin(cx) {
                return Poll::Ready(Some(Self::progress(event)));
            }
        }
        if let Some(reply) = &mut this.reply {
            match reply.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(())) => this.reply = None,
                Poll::Ready(Err(error)) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
        // The reply came after every chunk, and the socket task queued those chunks before it
        // handed over the reply: whatever is left is already in the channels.
        if let Some(event) = this.chunks.try_next() {
            return Poll::Ready(Some(this.chunk(event)));
        }
        if let Some(event) = this.progress.as_mut().and_then(EventStream::try_next) {
            return Poll::Ready(Some(Self::progress(event)));
        }
        this.finished = true;
        Poll::Ready(None)
    }
}

impl std::fmt::Debug for SnapshotStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotStream")
            .field("method", &self.method)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
