//! [`LaunchError`]: why the target could not be started or did not become ready.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Start,
    Exited,
    Timeout,
    Io,
}

/// Why the target could not be started or did not become ready. Its Display is the whole user
/// message, including the last lines of the target's output where they help.
#[derive(Debug, Clone)]
pub struct LaunchError {
    kind: Kind,
    message: String,
}

impl LaunchError {
    pub(crate) fn start(message: String) -> Self {
        LaunchError {
            kind: Kind::Start,
            message,
        }
    }

    pub(crate) fn exited(message: String) -> Self {
        LaunchError {
            kind: Kind::Exited,
            message,
        }
    }

    pub(crate) fn timeout(message: String) -> Self {
        LaunchError {
            kind: Kind::Timeout,
            message,
        }
    }

    pub(crate) fn io(message: String) -> Self {
        LaunchError {
            kind: Kind::Io,
            message,
        }
    }

    /// The command could not be started at all (not found, not executable).
    pub fn is_start_failure(&self) -> bool {
        self.kind == Kind::Start
    }

    /// The target exited before it was ready.
    pub fn is_exited(&self) -> bool {
        self.kind == Kind::Exited
    }

    /// The target was not ready in time.
    pub fn is_timeout(&self) -> bool {
        self.kind == Kind::Timeout
    }

    /// hunter's own setup failed (temporary directory, agent socket, log file).
    pub fn is_io(&self) -> bool {
        self.kind == Kind::Io
    }
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LaunchError {}
