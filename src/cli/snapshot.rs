//! `hunter snapshot`: one heap snapshot from a running Node process, streamed to a file that
//! opens in Chrome DevTools. Owns naming the process (URL, host:port or pid), opening its
//! inspector when named by pid, and writing the file atomically.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use hunter::scenario::io_reason;

use super::{EXIT_INCOMPLETE, EXIT_USAGE};

/// Take one heap snapshot of a running Node process.
///
/// The process is named by its inspector's websocket URL, by the `host:port` its inspector
/// listens on, or by its pid. A pid is sent SIGUSR1, which makes Node open its inspector on
/// 127.0.0.1:9229 (Node's choice, not hunter's); hunter checks that the inspector it finds
/// there belongs to that pid, and closes it again afterwards if it was not open before.
///
/// Examples:
///
///   hunter snapshot 127.0.0.1:9229 -o heap.heapsnapshot
///
///   hunter snapshot 4242 -o heap.heapsnapshot
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct SnapshotArgs {
    /// ws://… URL, host:port, or pid.
    #[arg(value_name = "ws-URL|host:port|pid")]
    target: String,
    /// Where to write the snapshot (written whole or not at all).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

/// Where Node opens its inspector on SIGUSR1.
const SIGUSR1_INSPECTOR: &str = "127.0.0.1:9229";

/// How long to wait for an inspector that SIGUSR1 has just asked for.
const INSPECTOR_START: Duration = Duration::from_secs(5);

/// Why the command failed: the exit code and the message for the user.
type Failure = (u8, String);

/// How the user named the process.
#[derive(Debug, PartialEq)]
enum Named {
    Url(String),
    HostPort(String),
    Pid(i32),
}

/// A connected inspector, and whether hunter opened it (so must close it again).
struct Inspector {
    session: cdp::Session,
    opened_by_us: bool,
}

pub fn run(args: SnapshotArgs) -> ExitCode {
    let named = match parse_target(&args.target) {
        Ok(named) => named,
        Err(message) => {
            eprintln!("hunter: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let runtime = match super::async_runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    match runtime.block_on(take(named, &args.output)) {
        Ok(bytes) => {
            eprintln!("hunter: wrote {} ({bytes} bytes)", args.output.display());
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            eprintln!("hunter: {message}");
            ExitCode::from(code)
        }
    }
}

/// `ws://…`, a positive pid, or `host:port` with a numeric port; anything else is refused
/// before any connection is tried.
fn parse_target(target: &str) -> Result<Named, String> {
    if target.starts_with("ws://") || target.starts_with("wss://") {
        return Ok(Named::Url(target.to_owned()));
    }
    if !target.is_empty() && target.bytes().all(|b| b.is_ascii_digit()) {
        // Zero or a pid beyond i32 would make kill(2) signal a whole process group or fail.
        return match target.parse::<i32>() {
            Ok(pid) if pid > 0 => Ok(Named::Pid(pid)),
            _ => Err(format!("`{target}` is not a valid pid")),
        };
    }
    if let Some((host, port)) = target.rsplit_once(':') {
        if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) {
            return Ok(Named::HostPort(target.to_owned()));
        }
    }
    Err(format!(
        "`{target}` names no process: expected an inspector's ws:// URL, its host:port \
         (e.g. 127.0.0.1:9229), or a pid"
    ))
}

async fn take(named: Named, output: &Path) -> Result<u64, Failure> {
    let inspector = connect(named).await?;
    let written = write_snapshot(&inspector.session, output).await;
    if inspector.opened_by_us {
        close_inspector(&inspector.session).await;
    }
    inspector.session.disconnect().await;
    written
}

async fn connect(named: Named) -> Result<Inspector, Failure> {
    let (url, pid, opened_by_us) = match named {
        Named::Url(url) => (url, None, false),
        Named::HostPort(host_port) => (first_target(&host_port).await?, None, false),
        Named::Pid(pid) => {
            let (url, opened_by_us) = open_inspector_of(pid).await?;
            (url, Some(pid), opened_by_us)
        }
    };
    let session = cdp::Session::connect(&url)
        .await
        .map_err(|e| (EXIT_INCOMPLETE, format!("cannot connect to {url}: {e}")))?;
    if let Some(pid) = pid {
        // Port 9229 may belong to another Node process that was already listening there.
        let owner = session.evaluate("process.pid").await.map_err(|e| {
            (
                EXIT_INCOMPLETE,
                format!("cannot ask {url} for its pid: {e}"),
            )
        })?;
        if owner.as_i64() != Some(i64::from(pid)) {
            session.disconnect().await;
            return Err((
                EXIT_INCOMPLETE,
                format!(
                    "{SIGUSR1_INSPECTOR} is the inspector of process {owner}, not of {pid}; \
                     stop that process or name {pid}'s inspector by host:port"
                ),
            ));
        }
    }
    Ok(Inspector {
        session,
        opened_by_us,
    })
}

/// Streams the snapshot to a temporary file next to `output`, renamed over it once complete:
/// a failure never leaves a truncated snapshot behind.
async fn write_snapshot(session: &cdp::Session, output: &Path) -> Result<u64, Failure> {
    let cannot_write = |e: &dyn std::fmt::Display| {
        (
            EXIT_INCOMPLETE,
            format!("cannot write {}: {e}", output.display()),
        )
    };
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = tempfile::Builder::new()
        .prefix(".hunter-snapshot")
        .tempfile_in(dir)
        .map_err(|e| cannot_write(&io_reason(&e)))?;
    let mut file = tokio::fs::File::from_std(temp.reopen().map_err(|e| cannot_write(&e))?);
    let written = session
        .heap_snapshot(cdp::TakeHeapSnapshot::default())
        .write_to(&mut file)
        .await
        .map_err(|e| {
            if e.is_io() {
                cannot_write(&e)
            } else {
                (EXIT_INCOMPLETE, format!("the snapshot failed: {e}"))
            }
        })?;
    file.sync_all().await.map_err(|e| cannot_write(&e))?;
    drop(file);
    temp.persist(output).map_err(|e| cannot_write(&e.error))?;
    Ok(written)
}

/// The websocket URL of the first target of the inspector at `host_port`.
async fn first_target(host_port: &str) -> Result<String, Failure> {
    let targets = cdp::list_targets(host_port)
        .await
        .map_err(|e| (EXIT_INCOMPLETE, format!("no inspector at {host_port}: {e}")))?;
    targets
        .into_iter()
        .find_map(|t| t.web_socket_debugger_url)
        .ok_or_else(|| {
            (
                EXIT_INCOMPLETE,
                format!("the inspector at {host_port} lists no target"),
            )
        })
}

/// Asks process `pid` to open its inspector (SIGUSR1) and waits for it on 127.0.0.1:9229.
/// Returns its URL and whether it was closed before (then hunter opened it).
async fn open_inspector_of(pid: i32) -> Result<(String, bool), Failure> {
    // SIGUSR1 terminates most programs and means something else to others: signal only Node.
    let executable = executable_of(pid)?;
    if !is_node(&executable) || !catches_sigusr1(pid)? {
        return Err((
            EXIT_USAGE,
            format!(
                "process {pid} ({}) is not a Node process that opens its inspector on \
                 SIGUSR1; not signalling it",
                executable.display()
            ),
        ));
    }
    let was_listening = first_target(SIGUSR1_INSPECTOR).await.is_ok();
    // SAFETY: kill(2) only sends a signal, to a positive pid the user named.
    if unsafe { libc::kill(pid, libc::SIGUSR1) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err((EXIT_USAGE, format!("cannot signal process {pid}: {e}")));
    }
    let deadline = tokio::time::Instant::now() + INSPECTOR_START;
    loop {
        match first_target(SIGUSR1_INSPECTOR).await {
            Ok(url) => return Ok((url, !was_listening)),
            Err((_, e)) if tokio::time::Instant::now() >= deadline => {
                return Err((
                    EXIT_INCOMPLETE,
                    format!(
                        "process {pid} opened no inspector on {SIGUSR1_INSPECTOR} within \
                         {INSPECTOR_START:?} ({e}); if it already has one on another port, \
                         name that host:port instead"
                    ),
                ))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The program process `pid` runs (`/proc/PID/exe`).
fn executable_of(pid: i32) -> Result<PathBuf, Failure> {
    let path = format!("/proc/{pid}/exe");
    std::fs::read_link(&path).map_err(|e| {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            format!("there is no process {pid}")
        } else {
            format!("cannot inspect process {pid} ({path}: {})", io_reason(&e))
        };
        (EXIT_USAGE, message)
    })
}

/// `node`, `nodejs`, `node20`…: a file name starting with "node".
fn is_node(executable: &Path) -> bool {
    executable
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with("node"))
}

/// Whether process `pid` has a handler for SIGUSR1 (Linux `/proc/PID/status`, `SigCgt`).
fn catches_sigusr1(pid: i32) -> Result<bool, Failure> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .map_err(|e| (EXIT_USAGE, format!("cannot read {path}: {}", io_reason(&e))))?;
    let caught = status
        .lines()
        .find_map(|line| line.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .ok_or_else(|| (EXIT_USAGE, format!("{path} has no readable SigCgt line")))?;
    Ok(caught & (1 << (libc::SIGUSR1 - 1)) != 0)
}

/// Closes an inspector hunter opened, so that the process is not left listening on 9229.
/// `inspector.close()` blocks Node until the last session is gone, hence the timer: it runs
/// after this session's evaluate has been answered, and returns once hunter disconnects.
async fn close_inspector(session: &cdp::Session) {
    if let Err(e) = session
        .evaluate("setTimeout(() => require('inspector').close(), 0); undefined")
        .await
    {
        eprintln!("hunter: could not close the inspector hunter opened: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_told_apart() {
        assert_eq!(
            parse_target("ws://127.0.0.1:9229/abc"),
            Ok(Named::Url("ws://127.0.0.1:9229/abc".into()))
        );
        assert_eq!(
            parse_target("localhost:9229"),
            Ok(Named::HostPort("localhost:9229".into()))
        );
        assert_eq!(parse_target("4242"), Ok(Named::Pid(4242)));
    }

    #[test]
    fn bad_targets_are_refused_with_the_reason() {
        for bad in [
            "0",
            "99999999999",
            "",
            "node",
            "host:",
            ":9229",
            "host:http",
            "h:70000",
        ] {
            let message = parse_target(bad).expect_err(bad);
            assert!(message.contains(&format!("`{bad}`")), "{bad}: {message}");
        }
        assert!(parse_target("node").unwrap_err().contains("ws:// URL"));
        assert!(parse_target("0").unwrap_err().contains("not a valid pid"));
    }
}
