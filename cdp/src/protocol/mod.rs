//! The typed layer over `Session::send`: the [`Command`] trait and the commands, replies and
//! events of the domains hunter uses. Replies are tolerant: every field has a default and
//! unknown fields are ignored, so newer Node versions do not break decoding.

pub mod heap_profiler;
pub mod node_worker;
pub mod runtime;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// A CDP command: its method name, its params (the value itself, serialized) and its reply type.
pub trait Command: Serialize {
    const METHOD: &'static str;
    type Response: DeserializeOwned;

    /// Turns a reply that reports a failure inside a successful answer into an error (e.g.
    /// `Runtime.evaluate` answering with `exceptionDetails`). Most commands keep the default.
    fn check(response: Self::Response) -> Result<Self::Response> {
        Ok(response)
    }
}

/// The reply of commands that answer with nothing of interest.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Empty {}

/// Declares a command that takes no params.
macro_rules! unit_command {
    ($(#[$doc:meta])* $name:ident, $method:literal, $response:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, serde::Serialize)]
        pub struct $name {}

        impl $crate::protocol::Command for $name {
            const METHOD: &'static str = $method;
            type Response = $response;
        }
    };
}
pub(crate) use unit_command;
