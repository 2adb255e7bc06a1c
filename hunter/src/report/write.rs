//! Atomic report files: every report is written to a temporary file next to its target,
//! flushed to disk and renamed over the target, so a reader (or a crashed hunt) never sees a
//! half-written report and a failed write leaves an existing report intact.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::error::ReportError;
use super::model::Report;

/// Writes the JSON report (SPEC §5, version 1) to `path`, pretty-printed, atomically.
pub fn write_json(report: &Report, path: &Path) -> Result<(), ReportError> {
    let mut text = serde_json::to_string_pretty(report)
        .map_err(|error| ReportError::render(path, error.to_string()))?;
    text.push('\n');
    write_atomically(path, text.as_bytes())
}

/// Replaces `path` with `contents`: creates missing parent directories, writes a temporary file
/// in the same directory, fsyncs it and renames it over `path`. On failure nothing is left
/// behind and an existing file at `path` is untouched.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), ReportError> {
    let file_name = path
        .file_name()
        .ok_or_else(|| {
            ReportError::io(
                path,
                "write report",
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"),
            )
        })?
        .to_string_lossy()
        .into_owned();
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)
        .map_err(|error| ReportError::io(dir, "create the report directory", error))?;

    let temp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|error| ReportError::io(path, "create a temporary file for the report", error))?;
    {
        let mut writer = BufWriter::new(temp.as_file());
        writer
            .write_all(contents)
            .and_then(|()| writer.flush())
            .map_err(|error| ReportError::io(path, "write report", error))?;
    }
    // Temporary files are private (0600); a report is meant to be read by CI and colleagues.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))
            .map_err(|error| ReportError::io(path, "set report permissions", error))?;
    }
    temp.as_file()
        .sync_all()
        .map_err(|error| ReportError::io(path, "flush report to disk", error))?;
    // On failure the PersistError owns the temporary file and deletes it when dropped.
    temp.persist(path)
        .map_err(|error| ReportError::io(path, "replace report", error.error))?;
    // Make the rename itself durable; a failure here leaves a complete report, so ignore it.
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}
