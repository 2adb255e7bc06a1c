//! The crate's one error type. Callers test its kind (`is_timeout()`, `is_closed()`, …) and read
//! the protocol details through accessors; the kinds themselves stay private so they can grow.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::protocol::runtime::{ExceptionDetails, RemoteObject};

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a call, a connection or a decode failed.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    /// The CDP method the failure belongs to, when there is one.
    method: Option<String>,
    /// What was being done (a URL, a file), for transport, decode and I/O failures.
    context: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

enum Kind {
    Protocol {
        code: i64,
        message: String,
        data: Option<Value>,
    },
    Exception(Box<JsException>),
    Timeout(Duration),
    Closed,
    Transport,
    Decode,
    Io,
}

/// A JavaScript exception thrown by code the target evaluated (`Runtime.evaluate` answered with
/// `exceptionDetails`).
#[derive(Debug, Clone)]
pub struct JsException {
    /// One line a user can read: `Error: boom`, or the thrown value for non-errors.
    pub message: String,
    /// The full text V8 gives for the thrown value: `Error: boom\n    at f (file.js:3:9)…`.
    /// `None` when the thrown value was not an object (e.g. `throw "text"`).
    pub stack: Option<String>,
    /// V8's summary, e.g. `Uncaught` or `Uncaught (in promise)`.
    pub text: String,
    /// 0-based position of the throw in the evaluated script.
    pub line_number: i64,
    pub column_number: i64,
    pub url: Option<String>,
    /// The thrown value as the protocol described it.
    pub exception: Option<RemoteObject>,
}

impl JsException {
    /// Builds the user-facing message and stack from the protocol's `exceptionDetails`.
    pub fn from_details(details: ExceptionDetails) -> JsException {
        let description = details
            .exception
            .as_ref()
            .and_then(|e| e.description.clone());
        let message = match (&description, &details.exception) {
            (Some(d), _) => d.lines().next().unwrap_or_default().to_string(),
            (None, Some(RemoteObject { value: Some(v), .. })) => match v {
                Value::String(s) => format!("{} {}", details.text, s),
                other => format!("{} {}", details.text, other),
            },
            _ => details.text.clone(),
        };
        let stack = description.filter(|d| d.contains('\n'));
        JsException {
            message,
            stack,
            text: details.text,
            line_number: details.line_number,
            column_number: details.column_number,
            url: details.url,
            exception: details.exception,
        }
    }
}

impl Error {
    fn new(kind: Kind) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                method: None,
                context: None,
                source: None,
            }),
        }
    }

    fn with_method(mut self, method: &str) -> Error {
        self.inner.method = Some(method.to_string());
        self
    }

    fn with_context(mut self, context: impl Into<String>) -> Error {
        self.inner.context = Some(context.into());
        self
    }

    fn with_source(mut self, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn protocol(method: &str, code: i64, message: String, data: Option<Value>) -> Error {
        Error::new(Kind::Protocol {
            code,
            message,
            data,
        })
        .with_method(method)
    }

    pub(crate) fn js_exception(method: &str, exception: JsException) -> Error {
        Error::new(Kind::Exception(Box::new(exception))).with_method(method)
    }

    pub(crate) fn timeout(method: &str, after: Duration) -> Error {
        Error::new(Kind::Timeout(after)).with_method(method)
    }

    pub(crate) fn closed(method: Option<&str>) -> Error {
        let error = Error::new(Kind::Closed);
        match method {
            Some(m) => error.with_method(m),
            None => error,
        }
    }

    pub(crate) fn transport(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::new(Kind::Transport)
            .with_context(context)
            .with_source(source)
    }

    pub(crate) fn decode(
        method: Option<&str>,
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        let error = Error::new(Kind::Decode)
            .with_context(what)
            .with_source(source);
        match method {
            Some(m) => error.with_method(m),
            None => error,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::new(Kind::Io)
            .with_context(context)
            .with_source(source)
    }

    /// The target answered the call with a protocol error (`{"error": {code, message, data}}`).
    pub fn is_protocol(&self) -> bool {
        matches!(self.inner.kind, Kind::Protocol { .. })
    }

    /// JavaScript the target evaluated threw; see [`Error::exception`].
    pub fn is_exception(&self) -> bool {
        matches!(self.inner.kind, Kind::Exception(_))
    }

    /// No reply arrived within the call's timeout. The connection is still usable.
    pub fn is_timeout(&self) -> bool {
        matches!(self.inner.kind, Kind::Timeout(_))
    }

    /// The connection (or the worker session) ended before the reply arrived.
    pub fn is_closed(&self) -> bool {
        matches!(self.inner.kind, Kind::Closed)
    }

    /// The websocket or HTTP layer failed (connect refused, handshake, bad status).
    pub fn is_transport(&self) -> bool {
        matches!(self.inner.kind, Kind::Transport)
    }

    /// A reply or event did not have the shape the caller asked for.
    pub fn is_decode(&self) -> bool {
        matches!(self.inner.kind, Kind::Decode)
    }

    /// Writing a stream (e.g. a snapshot to a file) failed.
    pub fn is_io(&self) -> bool {
        matches!(self.inner.kind, Kind::Io)
    }

    /// The CDP method that failed, when the failure belongs to one.
    pub fn method(&self) -> Option<&str> {
        self.inner.method.as_deref()
    }

    /// The protocol error code (e.g. -32601 for an unknown method).
    pub fn protocol_code(&self) -> Option<i64> {
        match &self.inner.kind {
            Kind::Protocol { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The protocol error message, e.g. `'Foo.bar' wasn't found`.
    pub fn protocol_message(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::Protocol { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The protocol error's optional `data` member.
    pub fn protocol_data(&self) -> Option<&Value> {
        match &self.inner.kind {
            Kind::Protocol { data, .. } => data.as_ref(),
            _ => None,
        }
    }

    /// The JavaScript exception, with its message and stack.
    pub fn exception(&self) -> Option<&JsException> {
        match &self.inner.kind {
            Kind::Exception(e) => Some(e),
            _ => None,
        }
    }

    /// How long the call waited before giving up.
    pub fn timeout_duration(&self) -> Option<Duration> {
        match &self.inner.kind {
            Kind::Timeout(d) => Some(*d),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(method) = &self.inner.method {
            write!(f, "{method}: ")?;
        }
        match &self.inner.kind {
            Kind::Protocol {
                code,
                message,
                data,
            } => {
                write!(f, "protocol error {code}: {message}")?;
                if let Some(data) = data {
                    write!(f, " ({data})")?;
                }
            }
            Kind::Exception(e) => {
                write!(f, "JavaScript exception: ")?;
                match &e.stack {
                    Some(stack) => write!(f, "{stack}")?,
                    None => write!(f, "{}", e.message)?,
                }
            }
            Kind::Timeout(after) => write!(f, "no reply within {after:?}")?,
            Kind::Closed => write!(f, "the inspector connection closed")?,
            Kind::Transport => write!(f, "transport error")?,
            Kind::Decode => write!(f, "cannot decode")?,
            Kind::Io => write!(f, "I/O error")?,
        }
        if let Some(context) = &self.inner.context {
            write!(f, " {context}")?;
        }
        if let Some(source) = &self.inner.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug shows the same text as Display so `unwrap()` failures in tests read well.
        write!(f, "cdp::Error({self})")
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_message_is_first_line_and_stack_is_kept() {
        let details: ExceptionDetails = serde_json::from_str(
            r#"{"exceptionId":1,"text":"Uncaught","lineNumber":0,"columnNumber":6,
                "exception":{"type":"object","subtype":"error","className":"Error",
                "description":"Error: boom\n    at <anonymous>:1:7"}}"#,
        )
        .unwrap();
        let error = Error::js_exception("Runtime.evaluate", JsException::from_details(details));
        assert!(error.is_exception());
        let e = error.exception().unwrap();
        assert_eq!(e.message, "Error: boom");
        assert_eq!(
            e.stack.as_deref(),
            Some("Error: boom\n    at <anonymous>:1:7")
        );
        assert_eq!(
            error.to_string(),
            "Runtime.evaluate: JavaScript exception: Error: boom\n    at <anonymous>:1:7"
        );
    }

    #[test]
    fn thrown_string_becomes_the_message() {
        let details: ExceptionDetails = serde_json::from_str(
            r#"{"exceptionId":1,"text":"Uncaught","lineNumber":0,"columnNumber":0,
                "exception":{"type":"string","value":"plain text"}}"#,
        )
        .unwrap();
        let e = JsException::from_details(details);
        assert_eq!(e.message, "Uncaught plain text");
        assert_eq!(e.stack, None);
    }

    #[test]
    fn protocol_error_exposes_code_and_message() {
        let error = Error::protocol("Foo.bar", -32601, "'Foo.bar' wasn't found".into(), None);
        assert!(error.is_protocol() && !error.is_closed());
        assert_eq!(error.protocol_code(), Some(-32601));
        assert_eq!(error.method(), Some("Foo.bar"));
        assert_eq!(
            error.to_string(),
            "Foo.bar: protocol error -32601: 'Foo.bar' wasn't found"
        );
    }
}
