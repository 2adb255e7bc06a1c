//! The report stage's error: a report file that could not be written, or a baseline that could
//! not be read. Opaque; callers test its kind and get the file it is about.

use std::fmt;
use std::path::{Path, PathBuf};

/// A report could not be written, or a baseline report could not be read.
///
/// The message always names the file; for bad JSON it also gives the line and column.
#[derive(Debug)]
pub struct ReportError {
    path: PathBuf,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Io {
        doing: &'static str,
        source: std::io::Error,
    },
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    Version(Option<u64>),
    Render(String),
}

impl ReportError {
    pub(crate) fn io(path: &Path, doing: &'static str, source: std::io::Error) -> Self {
        ReportError {
            path: path.to_path_buf(),
            kind: Kind::Io { doing, source },
        }
    }

    pub(crate) fn json(path: &Path, error: &serde_json::Error) -> Self {
        // serde_json's Display appends " at line L column C"; keep only the message part.
        let full = error.to_string();
        let message = match full.rfind(" at line ") {
            Some(cut) if error.line() > 0 => full[..cut].to_string(),
            _ => full,
        };
        ReportError {
            path: path.to_path_buf(),
            kind: Kind::Json {
                line: error.line(),
                column: error.column(),
                message,
            },
        }
    }

    pub(crate) fn version(path: &Path, found: Option<u64>) -> Self {
        ReportError {
            path: path.to_path_buf(),
            kind: Kind::Version(found),
        }
    }

    pub(crate) fn render(path: &Path, message: String) -> Self {
        ReportError {
            path: path.to_path_buf(),
            kind: Kind::Render(message),
        }
    }

    /// The file this error is about.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reading or writing the file failed at the operating-system level.
    pub fn is_io(&self) -> bool {
        matches!(self.kind, Kind::Io { .. })
    }

    /// The baseline is not valid JSON, or not shaped like a hunter JSON report.
    pub fn is_invalid_json(&self) -> bool {
        matches!(self.kind, Kind::Json { .. })
    }

    /// The baseline is a JSON report of a version this hunter does not read (or has none).
    pub fn is_unsupported_version(&self) -> bool {
        matches!(self.kind, Kind::Version(_))
    }

    /// Where in the file the JSON went wrong (1-based line and column), when it did.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        match self.kind {
            Kind::Json { line, column, .. } if line > 0 => Some((line, column)),
            _ => None,
        }
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.kind {
            Kind::Io { doing, source } => write!(f, "{path}: cannot {doing}: {source}"),
            Kind::Json {
                line,
                column,
                message,
            } if *line > 0 => write!(f, "{path}:{line}:{column}: {message}"),
            Kind::Json { message, .. } => write!(f, "{path}: {message}"),
            Kind::Version(Some(found)) => write!(
                f,
                "{path}: JSON report version {found} is not supported (this hunter reads version {})",
                super::REPORT_VERSION
            ),
            Kind::Version(None) => write!(
                f,
                "{path}: not a hunter JSON report: it has no numeric \"version\" field"
            ),
            Kind::Render(message) => write!(f, "{path}: cannot render report: {message}"),
        }
    }
}

impl std::error::Error for ReportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
