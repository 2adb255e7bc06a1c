//! Reading a baseline: an earlier `--json` report that `hunter run --baseline` compares against.

use std::path::Path;

use serde::Deserialize;

use super::error::ReportError;
use super::model::{Report, REPORT_VERSION};

/// Reads a JSON report written by `--json` for use as a baseline.
///
/// Errors name the file; bad JSON also gives the line and column; a report of another version
/// (or a JSON file that is not a report) is refused rather than misread.
pub fn read_baseline(path: &Path) -> Result<Report, ReportError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| ReportError::io(path, "read baseline report", error))?;
    parse_report(&text, path)
}

/// Parses the text of a JSON report; `path` is only used to name the source in errors.
pub fn parse_report(text: &str, path: &Path) -> Result<Report, ReportError> {
    // The version decides how the rest is read, so check it before the shape.
    #[derive(Deserialize)]
    struct VersionProbe {
        version: Option<serde_json::Value>,
    }
    let probe: VersionProbe =
        serde_json::from_str(text).map_err(|error| ReportError::json(path, &error))?;
    match probe.version.as_ref().and_then(serde_json::Value::as_u64) {
        Some(version) if version == u64::from(REPORT_VERSION) => {}
        found => return Err(ReportError::version(path, found)),
    }
    serde_json::from_str(text).map_err(|error| ReportError::json(path, &error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Report, ReportError> {
        parse_report(text, Path::new("ci/baseline.json"))
    }

    #[test]
    fn bad_json_names_the_file_line_and_column() {
        let error = parse("{\n  \"version\": 1,\n  \"scenarios\": [,]\n}").unwrap_err();
        assert!(error.is_invalid_json());
        assert_eq!(error.line_column(), Some((3, 17)));
        assert_eq!(error.path(), Path::new("ci/baseline.json"));
        let message = error.to_string();
        assert!(message.starts_with("ci/baseline.json:3:17: "), "{message}");
    }

    #[test]
    fn wrong_shape_names_the_position_of_the_bad_value() {
        let error = parse(r#"{"version": 1, "scenarios": [{"name": 5}]}"#).unwrap_err();
        assert!(error.is_invalid_json());
        assert_eq!(error.line_column().map(|(line, _)| line), Some(1));
        assert!(error.to_string().contains("expected a string"), "{error}");
    }

    #[test]
    fn other_versions_and_non_reports_are_refused() {
        let error = parse(r#"{"version": 2, "scenarios": []}"#).unwrap_err();
        assert!(error.is_unsupported_version());
        assert_eq!(
            error.to_string(),
            "ci/baseline.json: JSON report version 2 is not supported (this hunter reads version 1)"
        );
        // `hunter summary` output is JSON with a version but no scenarios: a shape error.
        let error = parse(r#"{"classes": []}"#).unwrap_err();
        assert!(error.is_unsupported_version());
        assert!(
            error.to_string().contains("no numeric \"version\""),
            "{error}"
        );
        let error = parse("[1, 2]").unwrap_err();
        assert!(error.is_invalid_json());
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let error = read_baseline(Path::new("/nonexistent/hunter-baseline.json")).unwrap_err();
        assert!(error.is_io());
        assert!(
            error
                .to_string()
                .starts_with("/nonexistent/hunter-baseline.json: cannot read baseline report: "),
            "{error}"
        );
    }

    #[test]
    fn an_empty_report_reads() {
        let report = parse(r#"{"version": 1, "scenarios": []}"#).unwrap();
        assert_eq!(report, Report::default());
    }
}
