//! The report stage of the hunt: the report data model (JSON report version 1), every output
//! format (JSON, JUnit, Markdown, the human summary), the CI gate with its exit code, and
//! comparison against a baseline report.

mod baseline;
mod error;
mod gate;
mod human;
mod junit;
mod markdown;
mod model;
mod text;
mod write;

pub use baseline::{parse_report, read_baseline};
pub use error::ReportError;
pub use gate::{
    evaluate_gate, GateFinding, GateOutcome, GatePolicy, GateReason, HuntFailure,
    BASELINE_GROWTH_FACTOR, BASELINE_SLACK_BYTES,
};
pub use human::render_human;
pub use junit::{render_junit, write_junit};
pub use markdown::{render_markdown, write_markdown};
pub use model::{
    Growth, Leak, ProcessReport, Report, Role, ScenarioReport, Verdict, REPORT_VERSION,
};
pub use text::{bytes as format_bytes, short_command, signed_bytes as format_signed_bytes};
pub use write::{write_atomically, write_json};
