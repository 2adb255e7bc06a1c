//! The report stage of the hunt: the report data model (JSON report version 1), every output
//! format (JSON, JUnit, Markdown, the human summary), the CI gate with its exit code, and
//! comparison against a baseline report.

mod model;

pub use model::{
    Growth, Leak, ProcessReport, Report, Role, ScenarioReport, Verdict, REPORT_VERSION,
};
