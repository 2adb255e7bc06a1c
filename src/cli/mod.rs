//! One module per `hunter` subcommand. Each owns its arguments (a clap `Args` struct) and a
//! `run` function that returns the process exit code (SPEC §4).

pub mod diff;
pub mod run;
pub mod snapshot;
pub mod summary;
pub mod watch;

/// Exit code for bad usage or bad input: nothing was started (SPEC §4).
pub const EXIT_USAGE: u8 = 2;
