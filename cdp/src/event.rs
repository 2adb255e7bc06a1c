//! Protocol events as subscribers see them: the method name plus the params kept as raw JSON
//! text, decoded only by the subscriber that asks for a type.

use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::error::{Error, Result};

/// One event from the target (`{"method": …, "params": …}`).
///
/// Cloning is cheap: the message text is shared, not copied, between subscribers.
#[derive(Clone)]
pub struct Event {
    pub method: String,
    /// The whole websocket message the event came in.
    text: Arc<String>,
    /// Where `params` sits inside `text`; `None` when the event had no params.
    params: Option<Range<usize>>,
}

impl Event {
    pub(crate) fn new(method: String, text: Arc<String>, params: Option<Range<usize>>) -> Event {
        Event {
            method,
            text,
            params,
        }
    }

    /// The params as raw JSON text (`{}` when the event had none).
    pub fn raw_params(&self) -> &str {
        match &self.params {
            Some(range) => &self.text[range.clone()],
            None => "{}",
        }
    }

    /// Decodes the params into `T`. A mismatch is a decode error naming the event; it affects
    /// only this subscriber.
    pub fn params<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(self.raw_params())
            .map_err(|e| Error::decode(Some(&self.method), "event params", e))
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let params = self.raw_params();
        let shown = if params.len() > 200 {
            let mut end = 200;
            while !params.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}… ({} bytes)", &params[..end], params.len())
        } else {
            params.to_string()
        };
        f.debug_struct("Event")
            .field("method", &self.method)
            .field("params", &shown)
            .finish()
    }
}

/// The events of one subscription, in the order the target sent them. Ends when the session
/// closes. Unread events queue up without bound, so drop streams you no longer read.
pub struct EventStream {
    receiver: mpsc::UnboundedReceiver<Event>,
}

impl EventStream {
    pub(crate) fn new(receiver: mpsc::UnboundedReceiver<Event>) -> EventStream {
        EventStream { receiver }
    }

    /// Takes an event that has already arrived, without waiting.
    pub(crate) fn try_next(&mut self) -> Option<Event> {
        self.receiver.try_recv().ok()
    }
}

impl Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.receiver.poll_recv(cx)
    }
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}
