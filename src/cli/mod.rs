//! One module per `hunter` subcommand. Each owns its arguments (a clap `Args` struct) and a
//! `run` function that returns the process exit code (SPEC §4).

pub mod diff;
pub mod run;
pub mod snapshot;
pub mod summary;
pub mod watch;

use std::process::ExitCode;

/// Exit code for bad usage or bad input: nothing was started (SPEC §4).
pub const EXIT_USAGE: u8 = 2;

/// Exit code for work that could not complete (SPEC §4).
pub const EXIT_INCOMPLETE: u8 = 3;

/// The async runtime a command runs on; the error is the exit code, already explained on
/// stderr. Multi-threaded: snapshots are parsed on blocking threads while sockets are read.
pub fn async_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("hunter: cannot start the async runtime: {e}");
            ExitCode::from(EXIT_INCOMPLETE)
        })
}
