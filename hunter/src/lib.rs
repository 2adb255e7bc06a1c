//! placeholder

pub mod report;
pub mod scenario;
pub mod snapshot;
