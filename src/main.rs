//! The `hunter` command line: parses arguments and hands each command to its module in `cli/`.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Hunts memory leaks in Node.js programs, their child processes and worker threads.
///
/// hunter starts your program with the inspector on 127.0.0.1, runs a workload several times,
/// forces garbage collection and takes a heap snapshot after each iteration, and reports the
/// objects that keep growing: what they are, what keeps them alive, and how fast they grow.
#[derive(Parser)]
#[command(name = "hunter", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(cli::run::RunArgs),
    Diff(cli::diff::DiffArgs),
    Snapshot(cli::snapshot::SnapshotArgs),
    Summary(cli::summary::SummaryArgs),
    Watch(cli::watch::WatchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => cli::run::run(args),
        Command::Diff(args) => cli::diff::run(args),
        Command::Snapshot(args) => cli::snapshot::run(args),
        Command::Summary(args) => cli::summary::run(args),
        Command::Watch(args) => cli::watch::run(args),
    }
}
