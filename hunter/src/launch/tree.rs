//! [`ProcessTree`]: one launched target — its spawned process, the agent socket listener, the
//! output drains — and the state they share: which Node processes announced themselves, which
//! is the main one, whether the ready line was seen, how the spawned process exited.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use regex::Regex;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use super::agent::{self, AgentDir, Announcement};
use super::cleanup::Registration;
use super::node_options;
use super::output::{self, Sink, Stream, Tail};
use super::LaunchError;
use crate::scenario::{io_reason, Placeholders, Ready, Target};

/// How a Node process relates to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The target's main Node process (see the module docs for how it is chosen).
    Main,
    /// Any other Node process of the tree, at any depth.
    Child,
}

/// A Node process that announced itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeProcess {
    /// Its pid.
    pub pid: u32,
    /// Its parent's pid when it started.
    pub ppid: u32,
    /// Its inspector's websocket URL (`ws://127.0.0.1:<port>/<uuid>`); None when it has no
    /// inspector (it could not open one), so it cannot be hunted.
    pub ws_url: Option<String>,
    /// Its argv, the node binary shortened to `node`: `["node", "/abs/server.js", "--flag"]`.
    pub command: Vec<String>,
    /// `process.title` when it started.
    pub title: String,
    /// Main or child.
    pub role: Role,
}

/// What happens to the Node processes of the tree, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessEvent {
    /// A Node process announced itself (its inspector is listening).
    Started(NodeProcess),
    /// An announced Node process exited.
    Exited {
        /// Its pid.
        pid: u32,
    },
}

/// How to launch.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// Do not forward the target's output to hunter's stderr.
    pub quiet: bool,
    /// Prefix of forwarded lines: `[<label> <pid>] line`.
    pub label: String,
    /// Also write every line of the target's output to this file.
    pub output_log: Option<PathBuf>,
    /// The scenario file, named in "cannot start" errors.
    pub scenario_file: Option<PathBuf>,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions {
            quiet: false,
            label: "app".to_string(),
            output_log: None,
            scenario_file: None,
        }
    }
}

struct Known {
    process: NodeProcess,
    alive: bool,
}

struct State {
    spawned_pid: u32,
    spawned_exit: Option<ExitStatus>,
    processes: Vec<Known>,
    main: Option<u32>,
    ready_log: Option<Regex>,
    captures: Option<Placeholders>,
    stdout: Tail,
    stderr: Tail,
    open_streams: u8,
}

impl State {
    fn is_hunted(&self, pid: u32) -> bool {
        self.processes.iter().any(|known| known.process.pid == pid)
    }

    /// The spawned process exited and no announced Node process is left.
    fn gone(&self) -> Option<ExitStatus> {
        let status = self.spawned_exit?;
        let any_alive = self.processes.iter().any(|known| known.alive);
        (!any_alive).then_some(status)
    }

    fn is_main_candidate(&self, announcement: &Announcement) -> bool {
        if announcement.pid == self.spawned_pid {
            return true;
        }
        let Some(chain) =
            agent::ancestors_up_to(announcement.pid, announcement.ppid, self.spawned_pid)
        else {
            return false;
        };
        // A Node ancestor is (or will be, once its announcement arrives) the main process.
        !chain
            .iter()
            .any(|pid| self.is_hunted(*pid) || agent::runs_node(*pid))
    }
}

struct Shared {
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    events: mpsc::UnboundedSender<ProcessEvent>,
    registration: Registration,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn bump(&self) {
        self.changed.send_modify(|generation| *generation += 1);
    }

    fn on_line(&self, stream: Stream, line: &str) {
        let mut state = self.state();
        if !output::is_inspector_noise(line) {
            match stream {
                Stream::Stdout => state.stdout.push(line),
                Stream::Stderr => state.stderr.push(line),
            }
        }
        if state.captures.is_none() {
            if let Some(captures) = state.ready_log.as_ref().and_then(|regex| {
                regex.captures(line).map(|captures| {
                    regex
                        .capture_names()
                        .flatten()
                        .filter_map(|name| {
                            captures
                                .name(name)
                                .map(|m| (name.to_string(), m.as_str().to_string()))
                        })
                        .collect::<Placeholders>()
                })
            }) {
                state.captures = Some(captures);
                drop(state);
                self.bump();
            }
        }
    }

    fn on_stream_closed(&self) {
        self.state().open_streams -= 1;
        self.bump();
    }

    fn on_announcement(&self, announcement: Announcement) {
        self.registration.add_pid(announcement.pid as i32);
        let mut state = self.state();
        let role = if state.main.is_none() && state.is_main_candidate(&announcement) {
            state.main = Some(announcement.pid);
            Role::Main
        } else {
            Role::Child
        };
        let mut command = announcement.argv.clone();
        if command
            .first()
            .is_some_and(|program| node_options::is_node_program(program))
        {
            command[0] = "node".to_string();
        }
        let process = NodeProcess {
            pid: announcement.pid,
            ppid: announcement.ppid,
            ws_url: announcement.url,
            command,
            title: announcement.title,
            role,
        };
        state.processes.push(Known {
            process: process.clone(),
            alive: true,
        });
        drop(state);
        let _ = self.events.send(ProcessEvent::Started(process));
        self.bump();
    }

    fn on_exit(&self, pid: u32) {
        self.registration.remove_pid(pid as i32);
        let mut state = self.state();
        let hunted = match state
            .processes
            .iter_mut()
            .find(|known| known.process.pid == pid)
        {
            Some(known) => {
                known.alive = false;
                true
            }
            None => false,
        };
        drop(state);
        if hunted {
            let _ = self.events.send(ProcessEvent::Exited { pid });
        }
        self.bump();
    }
}

/// One launched target. Dropping it SIGKILLs its process group and every Node process that
/// announced itself; [`ProcessTree::shutdown`] asks politely first.
pub struct ProcessTree {
    shared: Arc<Shared>,
    events: Option<mpsc::UnboundedReceiver<ProcessEvent>>,
    ready: Ready,
    spawned_pid: u32,
    warnings: Vec<String>,
    tasks: Vec<JoinHandle<()>>,
    // Holds the agent script and socket; removed when the tree is dropped.
    _agent_dir: AgentDir,
}

impl ProcessTree {
    /// Starts `target.command` in `target.cwd`, in its own process group, with the inspector
    /// and the discovery agent in every Node process (through NODE_OPTIONS). Must be called
    /// inside a tokio runtime, from a thread that outlives the target: the spawned process gets
    /// PR_SET_PDEATHSIG(SIGKILL), which Linux fires when the spawning *thread* exits (so not
    /// from `spawn_blocking`).
    pub fn spawn(target: &Target, options: &LaunchOptions) -> Result<ProcessTree, LaunchError> {
        let agent_dir = AgentDir::create()?;
        let listener = UnixListener::bind(agent_dir.socket()).map_err(|error| {
            LaunchError::io(format!(
                "cannot listen on the agent socket: {}",
                io_reason(&error)
            ))
        })?;
        let user_node_options = target
            .env
            .get("NODE_OPTIONS")
            .cloned()
            .or_else(|| std::env::var("NODE_OPTIONS").ok());
        let (node_options, dropped_env) =
            node_options::compose(user_node_options.as_deref(), &agent_dir.script());
        let (argv, dropped_argv) = node_options::strip_from_node_argv(&target.command);
        let mut warnings = Vec::new();
        for flag in dropped_env {
            warnings.push(format!(
                "ignoring `{flag}` in NODE_OPTIONS: hunter opens every inspector on 127.0.0.1, port 0"
            ));
        }
        for flag in dropped_argv {
            warnings.push(format!(
                "ignoring `{flag}` in target.command: hunter opens every inspector on 127.0.0.1, port 0"
            ));
        }
        let program = if argv[0].contains('/') {
            target.cwd.join(&argv[0])
        } else {
            PathBuf::from(&argv[0])
        };
        let mut command = tokio::process::Command::new(&program);
        command
            .args(&argv[1..])
            .current_dir(&target.cwd)
            .envs(&target.env)
            .env("NODE_OPTIONS", node_options)
            .env(agent::SOCKET_ENV, agent_dir.socket())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let hunter_pid = std::process::id();
        // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
        // system calls (prctl, getppid).
        unsafe {
            command.pre_exec(move || {
                // A SIGKILLed hunter must not leave the target behind.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() as u32 != hunter_pid {
                    return Err(std::io::Error::other(
                        "hunter exited while starting the target",
                    ));
                }
                Ok(())
            });
        }
        let mut child = command.spawn().map_err(|error| {
            let origin = options
                .scenario_file
                .as_ref()
                .map(|file| format!(" (target.command in {})", file.display()))
                .unwrap_or_default();
            LaunchError::start(format!(
                "cannot start `{}`: {}{origin}",
                argv[0],
                io_reason(&error)
            ))
        })?;
        let spawned_pid = child.id().unwrap_or_default();
        let registration = Registration::new(spawned_pid as i32);
        let log_file = match &options.output_log {
            Some(path) => Some(Arc::new(Mutex::new(std::fs::File::create(path).map_err(
                |error| {
                    LaunchError::io(format!(
                        "cannot write {}: {}",
                        path.display(),
                        io_reason(&error)
                    ))
                },
            )?))),
            None => None,
        };
        let ready_log = match &target.ready {
            Ready::Log(regex)
            | Ready::Http {
                log: Some(regex), ..
            } => Some(regex.clone()),
            _ => None,
        };
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                spawned_pid,
                spawned_exit: None,
                processes: Vec::new(),
                main: None,
                ready_log,
                captures: None,
                stdout: Tail::default(),
                stderr: Tail::default(),
                open_streams: 2,
            }),
            changed: watch::Sender::new(0),
            events: events_tx,
            registration,
        });
        let mut tasks = Vec::new();
        let prefix = (!options.quiet).then(|| format!("[{} {spawned_pid}]", options.label));
        let streams: [(Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>, Stream); 2] = [
            (
                child.stdout.take().map(|s| Box::new(s) as _),
                Stream::Stdout,
            ),
            (
                child.stderr.take().map(|s| Box::new(s) as _),
                Stream::Stderr,
            ),
        ];
        for (reader, stream) in streams {
            let shared = shared.clone();
            let sink = Sink {
                forward_prefix: prefix.clone(),
                log_file: log_file.clone(),
            };
            tasks.push(tokio::spawn(async move {
                if let Some(reader) = reader {
                    let on_line = |stream, line: &str| shared.on_line(stream, line);
                    output::drain(reader, stream, sink, on_line).await;
                }
                shared.on_stream_closed();
            }));
        }
        let waiter = shared.clone();
        tasks.push(tokio::spawn(async move {
            let status = child.wait().await;
            if let Ok(status) = status {
                waiter.state().spawned_exit = Some(status);
            }
            waiter.bump();
        }));
        let listening = shared.clone();
        tasks.push(tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve_agent(listening.clone(), stream));
                while connections.try_join_next().is_some() {}
            }
        }));
        Ok(ProcessTree {
            shared,
            events: Some(events_rx),
            ready: target.ready.clone(),
            spawned_pid,
            warnings,
            tasks,
            _agent_dir: agent_dir,
        })
    }

    /// The pid of the spawned process (the leader of the target's process group).
    pub fn spawned_pid(&self) -> u32 {
        self.spawned_pid
    }

    /// The main Node process, once it announced itself.
    pub fn main_process(&self) -> Option<NodeProcess> {
        let state = self.shared.state();
        let main = state.main?;
        state
            .processes
            .iter()
            .find(|known| known.process.pid == main)
            .map(|known| known.process.clone())
    }

    /// The main Node process's pid, once it announced itself.
    pub fn main_pid(&self) -> Option<u32> {
        self.shared.state().main
    }

    /// Every Node process that announced itself so far, in order.
    pub fn processes(&self) -> Vec<NodeProcess> {
        self.shared
            .state()
            .processes
            .iter()
            .map(|known| known.process.clone())
            .collect()
    }

    /// Whether an announced Node process is still running.
    pub fn is_alive(&self, pid: u32) -> bool {
        self.shared
            .state()
            .processes
            .iter()
            .any(|known| known.process.pid == pid && known.alive)
    }

    /// Every pid hunter would kill now: announced processes still running. The process group
    /// is killed as well.
    pub fn live_pids(&self) -> Vec<u32> {
        self.shared
            .registration
            .snapshot()
            .1
            .into_iter()
            .map(|pid| pid as u32)
            .collect()
    }

    /// The stream of process events. Events are buffered from the spawn on, so nothing is
    /// missed by taking it late; returns None when already taken.
    pub fn events(&mut self) -> Option<mpsc::UnboundedReceiver<ProcessEvent>> {
        self.events.take()
    }

    /// How the spawned process exited, if it did.
    pub fn main_exited(&self) -> Option<ExitStatus> {
        self.shared.state().spawned_exit
    }

    /// Warnings about the launch (user inspector flags that were dropped).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The last `lines` lines of the target's stderr and stdout, labelled and indented, for an
    /// error message; empty when it printed nothing.
    pub fn last_output(&self, lines: usize) -> String {
        let state = self.shared.state();
        format_tail(&state.stderr.last(lines), &state.stdout.last(lines))
    }

    /// Waits until the target is ready (`[target] ready`) and its main Node process has
    /// announced itself. Returns the named captures of `ready.log` (empty without it).
    /// Fails early when the target exits first, with its exit status and last output.
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<Placeholders, LaunchError> {
        let deadline = Instant::now() + timeout;
        let mut changes = self.shared.changed.subscribe();
        let ready = self.ready.clone();
        let captures = match &ready {
            Ready::Log(regex)
            | Ready::Http {
                log: Some(regex), ..
            } => {
                let what = format!("no line of its output matched /{}/", regex.as_str());
                self.wait_for(&mut changes, deadline, timeout, &what, |state| {
                    state.captures.clone()
                })
                .await?
            }
            _ => Placeholders::new(),
        };
        let what = "no Node process announced itself (is target.command a Node program, or does \
                    it start Node with a cleared environment?)";
        self.wait_for(&mut changes, deadline, timeout, what, |state| state.main)
            .await?;
        match &ready {
            Ready::Delay(delay) => {
                let until = (Instant::now() + *delay).min(deadline);
                loop {
                    let gone = self.shared.state().gone();
                    if let Some(status) = gone {
                        return Err(self.exited_error(status).await);
                    }
                    tokio::select! {
                        _ = tokio::time::sleep_until(until) => break,
                        _ = changes.changed() => {}
                    }
                }
            }
            Ready::Http { url, .. } => {
                let url = crate::scenario::expand(url, &captures);
                self.poll_http(&url, &mut changes, deadline, timeout)
                    .await?;
            }
            Ready::Inspector | Ready::Log(_) => {}
        }
        Ok(captures)
    }

    async fn wait_for<T>(
        &self,
        changes: &mut watch::Receiver<u64>,
        deadline: Instant,
        timeout: Duration,
        what: &str,
        check: impl Fn(&State) -> Option<T>,
    ) -> Result<T, LaunchError> {
        loop {
            let gone = {
                let state = self.shared.state();
                if let Some(value) = check(&state) {
                    return Ok(value);
                }
                state.gone()
            };
            if let Some(status) = gone {
                return Err(self.exited_error(status).await);
            }
            tokio::select! {
                _ = changes.changed() => {}
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(self.timeout_error(timeout, what));
                }
            }
        }
    }

    async fn poll_http(
        &self,
        url: &str,
        changes: &mut watch::Receiver<u64>,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), LaunchError> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|error| LaunchError::io(format!("cannot make an HTTP client: {error}")))?;
        let mut last = String::from("no answer yet");
        loop {
            let gone = self.shared.state().gone();
            if let Some(status) = gone {
                return Err(self.exited_error(status).await);
            }
            match tokio::time::timeout_at(deadline, client.get(url).send()).await {
                Ok(Ok(response)) if response.status().is_success() => return Ok(()),
                Ok(Ok(response)) => last = format!("it answered {}", response.status()),
                Ok(Err(error)) => last = describe_http_error(&error),
                Err(_) => {}
            }
            if Instant::now() >= deadline {
                return Err(self.timeout_error(timeout, &format!("GET {url}: {last}")));
            }
            let pause = (Instant::now() + Duration::from_millis(100)).min(deadline);
            tokio::select! {
                _ = tokio::time::sleep_until(pause) => {}
                _ = changes.changed() => {}
            }
        }
    }

    async fn exited_error(&self, status: ExitStatus) -> LaunchError {
        // Let the drains read what the target printed last.
        let mut changes = self.shared.changed.subscribe();
        let until = Instant::now() + Duration::from_secs(1);
        while self.shared.state().open_streams > 0 {
            tokio::select! {
                _ = changes.changed() => {}
                _ = tokio::time::sleep_until(until) => break,
            }
        }
        LaunchError::exited(format!(
            "target exited with {} before it was ready{}",
            describe_status(status),
            self.output_block()
        ))
    }

    fn timeout_error(&self, timeout: Duration, what: &str) -> LaunchError {
        LaunchError::timeout(format!(
            "not ready after {}: {what}{}",
            describe_duration(timeout),
            self.output_block()
        ))
    }

    fn output_block(&self) -> String {
        let tail = self.last_output(10);
        if tail.is_empty() {
            String::new()
        } else {
            format!("\n{tail}")
        }
    }

    /// Stops the target: SIGTERM to its process group and every announced process, up to two
    /// seconds to exit, then SIGKILL.
    pub async fn shutdown(self) {
        self.shared.registration.signal(libc::SIGTERM);
        let mut changes = self.shared.changed.subscribe();
        let finished = |shared: &Shared| {
            let state = shared.state();
            state.spawned_exit.is_some() && !state.processes.iter().any(|known| known.alive)
        };
        let until = Instant::now() + Duration::from_secs(2);
        while !finished(&self.shared) {
            tokio::select! {
                _ = changes.changed() => {}
                _ = tokio::time::sleep_until(until) => break,
            }
        }
        // Drop sends SIGKILL to whatever is left.
    }
}

impl Drop for ProcessTree {
    fn drop(&mut self) {
        self.shared.registration.signal(libc::SIGKILL);
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn serve_agent(shared: Arc<Shared>, stream: UnixStream) {
    // The kernel's word on who connected beats what the process wrote.
    let peer_pid = stream
        .peer_cred()
        .ok()
        .and_then(|cred| cred.pid())
        .map(|pid| pid as u32);
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    let read = (&mut reader)
        .take(1 << 20)
        .read_until(b'\n', &mut line)
        .await;
    let announced = match read {
        Ok(read) if read > 0 => serde_json::from_slice::<Announcement>(&line).ok(),
        _ => None,
    };
    let pid = announced.map(|mut announcement| {
        if let Some(pid) = peer_pid.filter(|pid| *pid > 0) {
            announcement.pid = pid;
        }
        let pid = announcement.pid;
        shared.on_announcement(announcement);
        pid
    });
    // Hold the connection until the process exits, even when its message made no sense:
    // the agent takes a closed connection to mean hunter is gone, and kills its process.
    let mut discard = [0u8; 256];
    while let Ok(read) = reader.read(&mut discard).await {
        if read == 0 {
            break;
        }
    }
    if let Some(pid) = pid {
        shared.on_exit(pid);
    }
}

fn format_tail(stderr: &[String], stdout: &[String]) -> String {
    let mut text = String::new();
    for (name, lines) in [("stderr", stderr), ("stdout", stdout)] {
        if lines.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!("last lines of its {name}:"));
        for line in lines {
            text.push_str("\n  ");
            text.push_str(line);
        }
    }
    text
}

/// "status 3", or "signal 9 (SIGKILL)".
pub(crate) fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("status {code}");
    }
    match status.signal() {
        Some(signal) => {
            let name = match signal {
                libc::SIGHUP => " (SIGHUP)",
                libc::SIGINT => " (SIGINT)",
                libc::SIGABRT => " (SIGABRT)",
                libc::SIGKILL => " (SIGKILL)",
                libc::SIGSEGV => " (SIGSEGV)",
                libc::SIGTERM => " (SIGTERM)",
                _ => "",
            };
            format!("signal {signal}{name}")
        }
        None => status.to_string(),
    }
}

/// "5 s", "0.5 s".
pub(crate) fn describe_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds.fract() == 0.0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{seconds:.1} s")
    }
}

/// A reqwest error as a user reads it: "connection refused", "timed out", or the innermost
/// cause.
pub(crate) fn describe_http_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".to_string();
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut innermost = error.to_string();
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return "connection refused".to_string();
            }
        }
        innermost = current.to_string();
        source = current.source();
    }
    innermost
}
