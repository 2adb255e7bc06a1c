//! [`Session`]: the cheap, cloneable handle callers use for calls and subscriptions, for the
//! top-level connection and for worker sessions alike, and the one task that owns the socket.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::dispatch::{Dispatch, Reply, ALL_EVENTS};
use crate::error::{Error, Result};
use crate::event::EventStream;
use crate::protocol::node_worker::SendMessageToWorker;
use crate::protocol::runtime::Evaluate;
use crate::protocol::Command;

/// Largest websocket message (and frame: Node never fragments) accepted from the target.
/// tungstenite's defaults (64 MiB / 16 MiB) break on big `returnByValue` replies and profiles.
pub const MAX_MESSAGE_SIZE: usize = 1 << 30;

/// A CDP session: the top-level connection to an inspector, or a worker thread's session
/// tunnelled through it. Clones share the session. The connection closes when the last handle
/// (including worker sessions, which hold their parent) is dropped, or on [`Session::disconnect`].
#[derive(Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

struct SessionInner {
    dispatch: Arc<Dispatch>,
    transport: Transport,
}

enum Transport {
    Socket(mpsc::UnboundedSender<Outgoing>),
    Worker { parent: Session, session_id: String },
}

enum Outgoing {
    Text(String),
    Close,
}

#[derive(Serialize)]
struct Request<'a, P: ?Sized> {
    id: u64,
    method: &'a str,
    params: &'a P,
}

/// Removes a pending call when its caller stops waiting (timeout or cancellation).
struct PendingGuard<'a> {
    dispatch: &'a Dispatch,
    id: u64,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.dispatch.forget(self.id);
    }
}

/// Decodes reply or event JSON without serde_json's nesting limit of 128: sampling profiles
/// nest two levels per stack frame.
pub(crate) fn decode<T: DeserializeOwned>(method: &str, what: &str, text: &str) -> Result<T> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    let value = T::deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value))
        .map_err(|e| Error::decode(Some(method), what, e))?;
    Ok(value)
}

#[derive(serde::Deserialize)]
struct ProtocolError {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

impl Session {
    /// Connects to an inspector's `ws://` URL (from `Debugger listening on …` or `/json/list`).
    pub async fn connect(ws_url: &str) -> Result<Session> {
        let config = WebSocketConfig {
            max_message_size: Some(MAX_MESSAGE_SIZE),
            max_frame_size: Some(MAX_MESSAGE_SIZE),
            ..WebSocketConfig::default()
        };
        let (socket, _) = tokio_tungstenite::connect_async_with_config(ws_url, Some(config), true)
            .await
            .map_err(|e| Error::transport(format!("connecting to {ws_url}"), e))?;
        let dispatch = Dispatch::new();
        let (outgoing, outgoing_rx) = mpsc::unbounded_channel();
        tokio::spawn(run_socket(socket, outgoing_rx, dispatch.clone()));
        Ok(Session {
            inner: Arc::new(SessionInner {
                dispatch,
                transport: Transport::Socket(outgoing),
            }),
        })
    }

    pub(crate) fn worker(parent: &Session, session_id: String) -> Session {
        Session {
            inner: Arc::new(SessionInner {
                dispatch: parent.inner.dispatch.worker(&session_id),
                transport: Transport::Worker {
                    parent: parent.clone(),
                    session_id,
                },
            }),
        }
    }

    /// Sends a command and waits for its `result`, with no timeout. The result comes back as
    /// sent: a `Runtime.evaluate` that threw is `Ok` here with `exceptionDetails` inside; use
    /// [`Session::evaluate`] or `call(&Evaluate)` to get it as an error.
    pub async fn send(&self, method: &str, params: Value) -> Result<Value> {
        let reply = self.request(method, &params, None).await?;
        decode_reply(method, &reply)
    }

    /// Like [`Session::send`], failing with [`Error::is_timeout`] after `timeout`. The session
    /// stays usable; a reply that arrives later is dropped.
    pub async fn send_with_timeout(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value> {
        let reply = self.request(method, &params, Some(timeout)).await?;
        decode_reply(method, &reply)
    }

    /// Sends a typed command and decodes its reply.
    pub async fn call<C: Command>(&self, command: &C) -> Result<C::Response> {
        self.call_inner(command, None).await
    }

    /// [`Session::call`] with a timeout, as in [`Session::send_with_timeout`].
    pub async fn call_with_timeout<C: Command>(
        &self,
        command: &C,
        timeout: Duration,
    ) -> Result<C::Response> {
        self.call_inner(command, Some(timeout)).await
    }

    async fn call_inner<C: Command>(
        &self,
        command: &C,
        timeout: Option<Duration>,
    ) -> Result<C::Response> {
        let reply = self.request(C::METHOD, command, timeout).await?;
        C::check(decode_reply(C::METHOD, &reply)?)
    }

    /// Evaluates `expression`, awaiting a returned promise, and returns its value as JSON
    /// (`null` for `undefined`). A throw or rejection is an error with [`Error::is_exception`].
    /// `require` is available.
    pub async fn evaluate(&self, expression: &str) -> Result<Value> {
        self.evaluate_inner(expression, None).await
    }

    /// [`Session::evaluate`] failing with [`Error::is_timeout`] after `timeout`.
    pub async fn evaluate_with_timeout(
        &self,
        expression: &str,
        timeout: Duration,
    ) -> Result<Value> {
        self.evaluate_inner(expression, Some(timeout)).await
    }

    async fn evaluate_inner(&self, expression: &str, timeout: Option<Duration>) -> Result<Value> {
        let command = Evaluate::new(expression)
            .await_promise()
            .return_by_value()
            .include_command_line_api();
        let reply = self.call_inner(&command, timeout).await?;
        Ok(reply.result.value.unwrap_or(Value::Null))
    }

    /// The events named `method`, from now on, in arrival order. Subscribe before sending the
    /// command that triggers them. The stream ends when the session closes.
    pub fn subscribe(&self, method: &str) -> EventStream {
        self.inner.dispatch.subscribe(method)
    }

    /// Every event of this session (not of its workers), in arrival order.
    pub fn subscribe_all(&self) -> EventStream {
        self.inner.dispatch.subscribe(ALL_EVENTS)
    }

    /// Resolves once the session has ended: socket closed, target gone, worker detached.
    pub async fn closed(&self) {
        let mut watch = self.inner.dispatch.closed_watch();
        // The sender lives in the dispatch we hold, so waiting cannot fail early.
        let _ = watch.wait_for(|closed| *closed).await;
    }

    pub fn is_closed(&self) -> bool {
        self.inner.dispatch.is_closed()
    }

    /// Ends the session: closes the websocket (top level) or detaches from the worker. Pending
    /// calls fail with a closed error. Node waits at exit until its debugger disconnects.
    pub async fn disconnect(&self) {
        match &self.inner.transport {
            Transport::Socket(outgoing) => {
                let _ = outgoing.send(Outgoing::Close);
                self.closed().await;
            }
            Transport::Worker { parent, session_id } => {
                let detach = crate::protocol::node_worker::Detach {
                    session_id: session_id.clone(),
                };
                // Whether or not the parent still exists, this side is done with the worker.
                let _ = parent.call(&detach).await;
                parent.inner.dispatch.drop_worker(session_id);
            }
        }
    }

    /// The NodeWorker `sessionId` when this is a worker session.
    pub fn worker_session_id(&self) -> Option<&str> {
        match &self.inner.transport {
            Transport::Socket(_) => None,
            Transport::Worker { session_id, .. } => Some(session_id),
        }
    }

    async fn request<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        timeout: Option<Duration>,
    ) -> Result<Reply> {
        let dispatch = &self.inner.dispatch;
        let Some((id, reply)) = dispatch.register() else {
            return Err(Error::closed(Some(method)));
        };
        let _guard = PendingGuard { dispatch, id };
        let message = serde_json::to_string(&Request { id, method, params })
            .map_err(|e| Error::decode(Some(method), "params (encoding)", e))?;
        let exchange = async {
            self.transmit(method, message).await?;
            reply.await.map_err(|_| Error::closed(Some(method)))
        };
        match timeout {
            None => exchange.await,
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .map_err(|_| Error::timeout(method, limit))?,
        }
    }

    /// Puts one message on the wire. Boxed because a worker's messages go through its parent's
    /// `request`, which may itself be a worker's.
    fn transmit<'a>(
        &'a self,
        method: &'a str,
        message: String,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
        Box::pin(async move {
            match &self.inner.transport {
                Transport::Socket(outgoing) => outgoing
                    .send(Outgoing::Text(message))
                    .map_err(|_| Error::closed(Some(method))),
                Transport::Worker { parent, session_id } => {
                    let wrapped = SendMessageToWorker {
                        message,
                        session_id: session_id.clone(),
                    };
                    match parent
                        .request(SendMessageToWorker::METHOD, &wrapped, None)
                        .await
                    {
                        Ok(_) => Ok(()),
                        Err(e) if e.is_closed() => Err(Error::closed(Some(method))),
                        Err(e) => Err(e),
                    }
                }
            }
        })
    }
}

fn decode_reply<T: DeserializeOwned>(method: &str, reply: &Reply) -> Result<T> {
    match reply.result() {
        Ok(result) => decode(method, "reply", result),
        Err(error) => {
            let error: ProtocolError = decode(method, "protocol error", error)?;
            Err(Error::protocol(
                method,
                error.code,
                error.message,
                error.data,
            ))
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("worker_session_id", &self.worker_session_id())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Owns the websocket: writes queued messages, routes every incoming one, and closes the
/// dispatch (failing all pending calls, ending all streams) when the socket ends for any reason.
async fn run_socket(
    mut socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
    dispatch: Arc<Dispatch>,
) {
    loop {
        tokio::select! {
            incoming = socket.next() => match incoming {
                Some(Ok(Message::Text(text))) => dispatch.route(text),
                Some(Ok(Message::Binary(bytes))) => {
                    if let Ok(text) = String::from_utf8(bytes) {
                        dispatch.route(text);
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                // Pings are answered by tungstenite itself.
                Some(Ok(_)) => {}
            },
            message = outgoing.recv() => match message {
                Some(Outgoing::Text(text)) => {
                    if socket.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                // `None`: every handle is gone, nobody can use the connection any more.
                Some(Outgoing::Close) | None => {
                    let _ = socket.close(None).await;
                    break;
                }
            },
        }
    }
    dispatch.close();
}
