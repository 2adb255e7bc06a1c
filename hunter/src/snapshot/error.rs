//! The one error type of the snapshot engine: what went wrong, where in the byte stream, and what
//! was expected there.

use std::fmt;

/// Why a snapshot could not be read. Opaque; test its kind with the `is_*` methods.
///
/// `Display` names the byte offset (counted from the first byte fed to the parser) and what was
/// expected there, e.g. `byte 1234: expected a digit, ',' or ']' in "edges", found 'x'`.
#[derive(Debug)]
pub struct Error {
    kind: Kind,
    offset: Option<u64>,
    message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Reading the file failed.
    Io,
    /// The bytes are not the JSON a heap snapshot is made of.
    Syntax,
    /// The input ended before the snapshot did (includes empty input).
    Truncated,
    /// Well-formed JSON, but not a consistent heap snapshot.
    Format,
}

impl Error {
    pub(crate) fn io(err: std::io::Error, offset: Option<u64>, what: &str) -> Self {
        Self {
            kind: Kind::Io,
            offset,
            message: format!("{what}: {err}"),
        }
    }
    pub(crate) fn syntax(offset: u64, message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Syntax,
            offset: Some(offset),
            message: message.into(),
        }
    }
    pub(crate) fn truncated(offset: u64, message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Truncated,
            offset: Some(offset),
            message: message.into(),
        }
    }
    pub(crate) fn format(offset: Option<u64>, message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Format,
            offset,
            message: message.into(),
        }
    }

    /// The byte offset the problem was found at, when it has one (I/O errors may not).
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }
    /// The file could not be opened or read.
    pub fn is_io(&self) -> bool {
        self.kind == Kind::Io
    }
    /// The input is not well-formed JSON of the shape a snapshot has.
    pub fn is_syntax(&self) -> bool {
        self.kind == Kind::Syntax
    }
    /// The input ended early: empty or cut-off file, unfinished stream.
    pub fn is_truncated(&self) -> bool {
        self.kind == Kind::Truncated
    }
    /// The JSON is well-formed but is not a consistent heap snapshot (missing meta, counts that
    /// disagree, references out of range).
    pub fn is_format(&self) -> bool {
        self.kind == Kind::Format
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(offset) => write!(f, "byte {offset}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}
