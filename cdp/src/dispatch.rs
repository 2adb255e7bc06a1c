//! Routing of incoming messages for one session (the top-level connection or one worker):
//! matching replies to pending calls, fanning events out to subscribers, unwrapping the
//! NodeWorker tunnel into child sessions, and failing everything at once when the session ends.
//!
//! The socket task calls [`Dispatch::route`] for every message. It never blocks and never runs
//! user code: replies go into oneshot channels, events into unbounded channels, and decoding of
//! params and results is left to whoever receives them. A message that is not JSON, or whose
//! envelope makes no sense, is dropped without touching the connection.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot, watch};

use crate::event::{Event, EventStream};

/// Subscription key that receives every event of the session.
pub(crate) const ALL_EVENTS: &str = "*";

pub(crate) struct Dispatch {
    next_id: AtomicU64,
    state: Mutex<State>,
    closed: watch::Sender<bool>,
}

#[derive(Default)]
struct State {
    closed: bool,
    pending: HashMap<u64, oneshot::Sender<Reply>>,
    subscribers: HashMap<String, Vec<mpsc::UnboundedSender<Event>>>,
    /// Worker sessions tunnelled through this one, by NodeWorker `sessionId`.
    workers: HashMap<String, Arc<Dispatch>>,
}

/// A reply as it came off the wire; the caller decodes it.
pub(crate) struct Reply {
    text: Arc<String>,
    outcome: Outcome,
}

enum Outcome {
    Result(Option<Range<usize>>),
    Error(Range<usize>),
}

impl Reply {
    /// The `result` member as JSON text, or the `error` member as `Err`.
    pub(crate) fn result(&self) -> Result<&str, &str> {
        match &self.outcome {
            Outcome::Result(Some(range)) => Ok(&self.text[range.clone()]),
            Outcome::Result(None) => Ok("{}"),
            Outcome::Error(range) => Err(&self.text[range.clone()]),
        }
    }
}

/// The loose shape every CDP message fits. Unknown members are ignored; params and results stay
/// raw, borrowed from the message text.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default, borrow)]
    method: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkerSessionId {
    session_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkerMessage {
    session_id: String,
    message: String,
}

/// Where `part` (a slice borrowed from `text`) sits inside `text`.
fn locate(text: &str, part: &RawValue) -> Option<Range<usize>> {
    let part = part.get();
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= text.len()).then_some(start..end)
}

impl Dispatch {
    pub(crate) fn new() -> Arc<Dispatch> {
        Arc::new(Dispatch {
            next_id: AtomicU64::new(1),
            state: Mutex::new(State::default()),
            closed: watch::channel(false).0,
        })
    }

    fn new_closed() -> Arc<Dispatch> {
        let dispatch = Dispatch::new();
        dispatch.close();
        dispatch
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock must not wedge the connection.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reserves an id for a call. `None` when the session is already closed.
    pub(crate) fn register(&self) -> Option<(u64, oneshot::Receiver<Reply>)> {
        let mut state = self.lock();
        if state.closed {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        state.pending.insert(id, sender);
        Some((id, receiver))
    }

    /// Forgets a call (timed out or cancelled), so its late reply is dropped quietly.
    pub(crate) fn forget(&self, id: u64) {
        self.lock().pending.remove(&id);
    }

    pub(crate) fn subscribe(&self, method: &str) -> EventStream {
        let (sender, receiver) = mpsc::unbounded_channel();
        let mut state = self.lock();
        if !state.closed {
            state
                .subscribers
                .entry(method.to_string())
                .or_default()
                .push(sender);
        }
        EventStream::new(receiver)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub(crate) fn closed_watch(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// The worker session tunnelled under `session_id`, or a closed one if it is gone.
    pub(crate) fn worker(&self, session_id: &str) -> Arc<Dispatch> {
        self.lock()
            .workers
            .get(session_id)
            .cloned()
            .unwrap_or_else(Dispatch::new_closed)
    }

    /// Ends a worker session this side detached from.
    pub(crate) fn drop_worker(&self, session_id: &str) {
        let worker = self.lock().workers.remove(session_id);
        if let Some(worker) = worker {
            worker.close();
        }
    }

    /// Ends the session: every pending call fails with a closed error (its sender is dropped),
    /// every event stream ends, and so does every worker session tunnelled through it.
    pub(crate) fn close(&self) {
        let (pending, subscribers, workers) = {
            let mut state = self.lock();
            if state.closed {
                return;
            }
            state.closed = true;
            (
                std::mem::take(&mut state.pending),
                std::mem::take(&mut state.subscribers),
                std::mem::take(&mut state.workers),
            )
        };
        drop(pending);
        drop(subscribers);
        for worker in workers.into_values() {
            worker.close();
        }
        self.closed.send_replace(true);
    }

    /// Handles one incoming message. Never fails: anything it cannot make sense of is dropped.
    pub(crate) fn route(&self, text: String) {
        let text = Arc::new(text);
        let Ok(envelope) = serde_json::from_str::<Envelope>(&text) else {
            return;
        };
        if let Some(id) = envelope.id {
            let outcome = match (envelope.error, envelope.result) {
                (Some(error), _) => match locate(&text, error) {
                    Some(range) => Outcome::Error(range),
                    None => return,
                },
                (None, Some(result)) => Outcome::Result(locate(&text, result)),
                (None, None) => Outcome::Result(None),
            };
            drop(envelope);
            let sender = self.lock().pending.remove(&id);
            if let Some(sender) = sender {
                // The caller may have given up in the meantime; that is fine.
                let _ = sender.send(Reply { text, outcome });
            }
            return;
        }
        let Some(method) = envelope.method else {
            return;
        };
        let method = method.into_owned();
        let params = envelope.params.and_then(|p| locate(&text, p));
        let event = Event::new(method, text, params);
        match event.method.as_str() {
            "NodeWorker.receivedMessageFromWorker" => {
                if let Ok(message) = event.params::<WorkerMessage>() {
                    let worker = self.lock().workers.get(&message.session_id).cloned();
                    if let Some(worker) = worker {
                        worker.route(message.message);
                    }
                }
            }
            "NodeWorker.attachedToWorker" => {
                // Registered before subscribers see the event, so no tunnelled message that
                // follows it can be missed.
                if let Ok(attached) = event.params::<WorkerSessionId>() {
                    let mut state = self.lock();
                    if !state.closed {
                        state
                            .workers
                            .entry(attached.session_id)
                            .or_insert_with(Dispatch::new);
                    }
                }
            }
            "NodeWorker.detachedFromWorker" => {
                if let Ok(detached) = event.params::<WorkerSessionId>() {
                    self.drop_worker(&detached.session_id);
                }
            }
            _ => {}
        }
        self.deliver(event);
    }

    fn deliver(&self, event: Event) {
        let mut state = self.lock();
        for key in [event.method.as_str(), ALL_EVENTS] {
            if let Some(senders) = state.subscribers.get_mut(key) {
                // Streams that were dropped are forgotten here, lazily.
                senders.retain(|sender| sender.send(event.clone()).is_ok());
                if senders.is_empty() {
                    state.subscribers.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn route(dispatch: &Dispatch, text: &str) {
        dispatch.route(text.to_string());
    }

    #[tokio::test]
    async fn garbage_and_unknown_messages_are_dropped_and_valid_ones_still_flow() {
        let dispatch = Dispatch::new();
        let mut events = dispatch.subscribe("Test.ping");
        let (id, reply) = dispatch.register().unwrap();
        for garbage in [
            "",
            "not json",
            "{",
            "[1,2,3]",
            "42",
            "null",
            r#"{"id":"seven"}"#,
            r#"{"id":-1,"result":{}}"#,
            r#"{"method":17}"#,
            r#"{"method":"Test.ping","params":"#,
            r#"{"id":999999,"result":{"late":true}}"#,
            r#"{"method":"Unknown.event","params":{"deeply":[{"nested":null}]}}"#,
            r#"{"nothing":"useful"}"#,
            "\u{0}\u{1}binary-ish",
        ] {
            route(&dispatch, garbage);
        }
        route(&dispatch, r#"{"method":"Test.ping","params":{"n":1}}"#);
        // Params of the wrong shape reach the subscriber, who gets a decode error for them.
        route(&dispatch, r#"{"method":"Test.ping","params":{"n":"one"}}"#);
        route(&dispatch, r#"{"method":"Test.ping"}"#);
        route(&dispatch, &format!(r#"{{"id":{id},"result":{{"ok":1}}}}"#));

        #[derive(Deserialize, Debug)]
        struct Ping {
            n: u64,
        }
        let first = events.next().await.unwrap();
        assert_eq!(first.params::<Ping>().unwrap().n, 1);
        let second = events.next().await.unwrap();
        assert!(second.params::<Ping>().unwrap_err().is_decode());
        let third = events.next().await.unwrap();
        assert_eq!(third.raw_params(), "{}");
        assert_eq!(reply.await.unwrap().result(), Ok(r#"{"ok":1}"#));
        assert!(events.try_next().is_none());
    }

    #[tokio::test]
    async fn close_fails_pending_calls_and_ends_streams() {
        let dispatch = Dispatch::new();
        let mut events = dispatch.subscribe("Test.ping");
        let (_, reply) = dispatch.register().unwrap();
        dispatch.close();
        assert!(reply.await.is_err());
        assert!(events.next().await.is_none());
        assert!(dispatch.register().is_none());
        assert!(dispatch.is_closed());
    }

    #[tokio::test]
    async fn worker_messages_are_unwrapped_into_the_worker_session() {
        let dispatch = Dispatch::new();
        route(
            &dispatch,
            r#"{"method":"NodeWorker.attachedToWorker","params":{"sessionId":"s1","workerInfo":{"workerId":"1","type":"worker","title":"w","url":""},"waitingForDebugger":false}}"#,
        );
        let worker = dispatch.worker("s1");
        let mut worker_events = worker.subscribe("Runtime.consoleAPICalled");
        let (id, reply) = worker.register().unwrap();
        let inner = format!(r#"{{"id":{id},"result":{{"v":2}}}}"#);
        let outer = serde_json::json!({
            "method": "NodeWorker.receivedMessageFromWorker",
            "params": {"sessionId": "s1", "message": inner}
        });
        route(&dispatch, &outer.to_string());
        assert_eq!(reply.await.unwrap().result(), Ok(r#"{"v":2}"#));
        // A tunnelled message that is itself garbage is dropped.
        route(
            &dispatch,
            r#"{"method":"NodeWorker.receivedMessageFromWorker","params":{"sessionId":"s1","message":"{oops"}}"#,
        );
        route(
            &dispatch,
            r#"{"method":"NodeWorker.detachedFromWorker","params":{"sessionId":"s1"}}"#,
        );
        assert!(worker.is_closed());
        assert!(worker_events.next().await.is_none());
        assert!(dispatch.worker("unknown").is_closed());
        assert!(!dispatch.is_closed());
    }
}
