//! Scenario files: reading a scenario TOML file (SPEC §1) into a validated [`Scenario`], and
//! expanding the command line's file/directory arguments into scenario files.
//!
//! Everything a user can get wrong in a scenario file is caught here, before anything is
//! started, with an error naming the file, the line and column, and the key. The typed shape is
//! read with serde (`deny_unknown_fields`); the same text is also parsed with `toml_edit`, which
//! keeps the byte span of every key and value, so that serde's errors can be turned into
//! `file:line:col: [table] key: …` and our own validation errors can point at the key they are
//! about.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

/// Measured iterations when the scenario does not say (`[hunt] iterations`).
pub const DEFAULT_ITERATIONS: u32 = 5;
/// Warmup iterations when the scenario does not say (`[hunt] warmup`).
pub const DEFAULT_WARMUP: u32 = 1;
/// The whole hunt's time limit when the scenario does not say (`[hunt] timeout_s`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Fewest measured iterations: a growth needs at least two measured points.
pub const MIN_ITERATIONS: u32 = 2;

/// Named captures of the `ready.log` regex (e.g. `port`), substituted for `{port}` in the
/// `ready.http` URL and in `http`/`exec` workloads.
pub type Placeholders = BTreeMap<String, String>;

/// One validated scenario file.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `name` from the file; by default the file's stem, or its directory's name when the file
    /// is called `scenario.toml` (the corpus layout `scenarios/<name>/scenario.toml`).
    pub name: String,
    /// `description` from the file, empty when absent.
    pub description: String,
    /// The scenario file as it was named (used in messages and reports).
    pub file: PathBuf,
    /// The absolute directory of the scenario file: relative paths resolve against it.
    pub dir: PathBuf,
    /// What to start.
    pub target: Target,
    /// What to do to it, once per iteration.
    pub workload: Workload,
    /// How hard to look.
    pub hunt: HuntSettings,
    /// What makes `hunter run` fail.
    pub gate: Gate,
}

/// `[target]`: the program to start.
#[derive(Debug, Clone)]
pub struct Target {
    /// argv; never empty. A first word containing `/` is resolved against `cwd` at launch.
    pub command: Vec<String>,
    /// Absolute working directory (default: the scenario's directory).
    pub cwd: PathBuf,
    /// Variables added to the inherited environment.
    pub env: BTreeMap<String, String>,
    /// When the target is ready for the workload.
    pub ready: Ready,
}

/// `[target] ready`: when the target is ready for the workload.
#[derive(Debug, Clone)]
pub enum Ready {
    /// (absent) the main process's inspector is attached.
    Inspector,
    /// A line of the target's stdout or stderr matches; named captures become placeholders.
    Log(Regex),
    /// A URL answering 2xx. With `log` too (`ready = { log = '…(?P<port>\d+)', http =
    /// "http://127.0.0.1:{port}/health" }`), the log line is awaited first and its captures fill
    /// the URL's placeholders.
    Http {
        /// URL template.
        url: String,
        /// Log line awaited before polling, whose captures fill `url`.
        log: Option<Regex>,
    },
    /// A fixed delay after start.
    Delay(Duration),
}

/// `[workload]`: exactly one of eval, module, http, exec.
#[derive(Debug, Clone)]
pub enum Workload {
    /// A JavaScript snippet evaluated in the main process per iteration.
    Eval(String),
    /// Absolute path of a CommonJS or ES module exporting `iteration` (and optionally
    /// `setup`/`teardown`).
    Module(PathBuf),
    /// Requests sent from hunter, in order, `times` each, per iteration.
    Http(Vec<HttpRequest>),
    /// A command (argv templates) run from hunter in the scenario directory per iteration.
    Exec(Vec<String>),
}

/// One entry of an `http` workload. `url`, header values and `body` may contain placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// HTTP method, upper-case (default `GET`).
    pub method: String,
    /// URL template.
    pub url: String,
    /// How many times per iteration (default 1).
    pub times: u32,
    /// Request body template, if any.
    pub body: Option<String>,
    /// Extra request headers (value templates).
    pub headers: BTreeMap<String, String>,
    /// Accepted statuses; `None` means any 2xx.
    pub expect_status: Option<Vec<u16>>,
}

/// `[hunt]`.
#[derive(Debug, Clone, PartialEq)]
pub struct HuntSettings {
    /// Measured iterations (≥ 2).
    pub iterations: u32,
    /// Iterations before the first snapshot.
    pub warmup: u32,
    /// Time limit for the whole hunt.
    pub timeout: Duration,
    /// Also hunt child processes and worker threads.
    pub children: bool,
}

/// `[gate]`.
#[derive(Debug, Clone)]
pub struct Gate {
    /// Leak group names matching any of these never fail the gate.
    pub ignore: Vec<Regex>,
    /// Leak groups growing less than this many bytes per iteration are reported, not failed.
    pub min_bytes_per_iteration: f64,
}

/// Why a scenario file (or a command-line input) was rejected. Its Display is the whole user
/// message: `file:line:col: …`, or `cannot read file: reason`.
#[derive(Debug, Clone)]
pub struct ScenarioError {
    file: PathBuf,
    position: Option<(usize, usize)>,
    message: String,
    io: bool,
}

impl ScenarioError {
    /// The file (or directory argument) the error is about.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// 1-based line of the offending key or value, when known.
    pub fn line(&self) -> Option<usize> {
        self.position.map(|(line, _)| line)
    }

    /// 1-based column (in characters) of the offending key or value, when known.
    pub fn column(&self) -> Option<usize> {
        self.position.map(|(_, column)| column)
    }

    /// True when the file or directory could not be read at all.
    pub fn is_io(&self) -> bool {
        self.io
    }

    /// The message without the `file:line:col: ` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn io(file: &Path, what: &str, error: &std::io::Error) -> Self {
        ScenarioError {
            file: file.to_path_buf(),
            position: None,
            message: format!("cannot {what} {}: {}", file.display(), io_reason(error)),
            io: true,
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.io {
            return f.write_str(&self.message);
        }
        match self.position {
            Some((line, column)) => write!(
                f,
                "{}:{line}:{column}: {}",
                self.file.display(),
                self.message
            ),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// An OS error's reason without Rust's ` (os error N)` suffix, as users know it from shells.
pub fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Expands command-line inputs into scenario files.
///
/// A file is taken as is (it is read by [`load`]). A directory that holds a `scenario.toml`
/// means that file alone; otherwise every `*.toml` file directly in it, sorted by name; when
/// it has none, every `<subdirectory>/scenario.toml`
/// one level down, sorted — the corpus layout `scenarios/<name>/scenario.toml`. A directory
/// with neither is an error, as is an input that does not exist.
pub fn expand_inputs(args: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut files = Vec::new();
    for arg in args {
        let metadata =
            std::fs::metadata(arg).map_err(|error| ScenarioError::io(arg, "read", &error))?;
        if !metadata.is_dir() {
            files.push(arg.clone());
            continue;
        }
        // A scenario's own directory (scenarios/<name>/) holds its scenario.toml beside other
        // files, such as the corpus's expected.toml: take just the scenario.
        let own = arg.join("scenario.toml");
        if own.is_file() {
            files.push(own);
            continue;
        }
        let entries = sorted_entries(arg)?;
        let direct: Vec<PathBuf> = entries
            .iter()
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml") && path.is_file())
            .cloned()
            .collect();
        let found = if direct.is_empty() {
            entries
                .iter()
                .filter(|path| path.is_dir())
                .map(|dir| dir.join("scenario.toml"))
                .filter(|file| file.is_file())
                .collect()
        } else {
            direct
        };
        if found.is_empty() {
            return Err(ScenarioError {
                file: arg.clone(),
                position: None,
                message:
                    "no scenario files in this directory (looked for *.toml, then */scenario.toml)"
                        .to_string(),
                io: false,
            });
        }
        files.extend(found);
    }
    Ok(files)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    let reader = std::fs::read_dir(dir).map_err(|error| ScenarioError::io(dir, "read", &error))?;
    let mut entries = Vec::new();
    for entry in reader {
        let entry = entry.map_err(|error| ScenarioError::io(dir, "read", &error))?;
        entries.push(entry.path());
    }
    entries.sort();
    Ok(entries)
}

/// Reads and validates one scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text =
        std::fs::read_to_string(path).map_err(|error| ScenarioError::io(path, "read", &error))?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir =
        std::fs::canonicalize(&dir).map_err(|error| ScenarioError::io(&dir, "read", &error))?;
    parse(path, &dir, &text)
}

/// Parses scenario text as if read from `file` in directory `dir` (absolute).
pub fn parse(file: &Path, dir: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let source = Source { file, text };
    let document = toml_edit::ImDocument::parse(text).map_err(|error| {
        let reason = error
            .message()
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        source.error(error.span(), format!("TOML syntax error: {reason}"))
    })?;
    let located = Located {
        source,
        root: document.as_item(),
    };
    let raw: RawScenario = toml::from_str(text).map_err(|error| located.serde_error(&error))?;
    build(&located, dir, raw)
}

// ---------------------------------------------------------------------------------------------
// The file's shape, as serde reads it.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    description: Option<String>,
    target: RawTarget,
    workload: RawWorkload,
    #[serde(default)]
    hunt: RawHunt,
    #[serde(default)]
    gate: RawGate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    command: Vec<String>,
    cwd: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    ready: Option<RawReady>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReady {
    log: Option<String>,
    http: Option<String>,
    delay_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    eval: Option<String>,
    module: Option<String>,
    http: Option<Vec<RawHttpRequest>>,
    exec: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpRequest {
    method: Option<String>,
    url: String,
    times: Option<u32>,
    body: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    expect_status: Option<Vec<u16>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHunt {
    iterations: Option<u32>,
    warmup: Option<u32>,
    timeout_s: Option<f64>,
    children: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGate {
    #[serde(default)]
    ignore: Vec<String>,
    min_bytes_per_iteration: Option<f64>,
}

// ---------------------------------------------------------------------------------------------
// Validation.

fn build(at: &Located<'_>, dir: &Path, raw: RawScenario) -> Result<Scenario, ScenarioError> {
    let target = build_target(at, dir, raw.target)?;
    let captures: Vec<String> = match &target.ready {
        Ready::Log(regex)
        | Ready::Http {
            log: Some(regex), ..
        } => regex
            .capture_names()
            .flatten()
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    if let Ready::Http { url, .. } = &target.ready {
        at.check_placeholders(&["target", "ready", "http"], url, &captures)?;
    }
    let workload = build_workload(at, dir, raw.workload, &captures)?;
    let hunt = build_hunt(at, raw.hunt)?;
    let gate = build_gate(at, raw.gate)?;
    let name = match raw.name {
        Some(name) if !name.trim().is_empty() => name,
        _ => default_name(at.source.file),
    };
    Ok(Scenario {
        name,
        description: raw.description.unwrap_or_default(),
        file: at.source.file.to_path_buf(),
        dir: dir.to_path_buf(),
        target,
        workload,
        hunt,
        gate,
    })
}

fn default_name(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned());
    if stem.as_deref() == Some("scenario") {
        let parent = file
            .parent()
            .and_then(|parent| std::fs::canonicalize(parent).ok())
            .and_then(|parent| {
                parent
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
            });
        if let Some(parent) = parent {
            return parent;
        }
    }
    stem.unwrap_or_else(|| "scenario".to_string())
}

fn build_target(at: &Located<'_>, dir: &Path, raw: RawTarget) -> Result<Target, ScenarioError> {
    if raw.command.is_empty() || raw.command[0].trim().is_empty() {
        return Err(at.error_at(
            &["target", "command"],
            "[target] command: must name a program, e.g. [\"node\", \"server.js\"]",
        ));
    }
    let cwd = match raw.cwd {
        Some(cwd) => dir.join(cwd),
        None => dir.to_path_buf(),
    };
    if !cwd.is_dir() {
        return Err(at.error_at(
            &["target", "cwd"],
            format!("[target] cwd: {} is not a directory", cwd.display()),
        ));
    }
    let ready = match raw.ready {
        None => Ready::Inspector,
        Some(ready) => {
            let log = match ready.log {
                Some(log) => Some(Regex::new(&log).map_err(|error| {
                    at.error_at(
                        &["target", "ready", "log"],
                        format!(
                            "[target.ready] log: invalid regex: {}",
                            one_line(&error.to_string())
                        ),
                    )
                })?),
                None => None,
            };
            match (log, ready.http, ready.delay_ms) {
                (Some(log), None, None) => Ready::Log(log),
                (log, Some(url), None) => Ready::Http { url, log },
                (None, None, Some(delay_ms)) => Ready::Delay(Duration::from_millis(delay_ms)),
                _ => {
                    return Err(at.error_at(
                        &["target", "ready"],
                        "[target] ready: give one of log, http (optionally with log), delay_ms",
                    ))
                }
            }
        }
    };
    Ok(Target {
        command: raw.command,
        cwd,
        env: raw.env,
        ready,
    })
}

fn build_workload(
    at: &Located<'_>,
    dir: &Path,
    raw: RawWorkload,
    captures: &[String],
) -> Result<Workload, ScenarioError> {
    let given: Vec<&str> = [
        ("eval", raw.eval.is_some()),
        ("module", raw.module.is_some()),
        ("http", raw.http.is_some()),
        ("exec", raw.exec.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, given)| given.then_some(key))
    .collect();
    match given.len() {
        1 => {}
        0 => {
            return Err(at.error_at(
                &["workload"],
                "[workload]: give exactly one of eval, module, http, exec (found none)",
            ))
        }
        _ => {
            return Err(at.error_at(
                &["workload", given[1]],
                format!(
                    "[workload]: give exactly one of eval, module, http, exec (found {})",
                    given.join(" and ")
                ),
            ))
        }
    }
    if let Some(eval) = raw.eval {
        if eval.trim().is_empty() {
            return Err(at.error_at(
                &["workload", "eval"],
                "[workload] eval: the snippet is empty",
            ));
        }
        return Ok(Workload::Eval(eval));
    }
    if let Some(module) = raw.module {
        let path = dir.join(&module);
        if !path.is_file() {
            return Err(at.error_at(
                &["workload", "module"],
                format!("[workload] module: {} is not a file", path.display()),
            ));
        }
        return Ok(Workload::Module(path));
    }
    if let Some(exec) = raw.exec {
        if exec.is_empty() || exec[0].trim().is_empty() {
            return Err(at.error_at(
                &["workload", "exec"],
                "[workload] exec: must name a program",
            ));
        }
        for (index, word) in exec.iter().enumerate() {
            at.check_placeholders_in(
                &["workload", "exec"],
                &format!("[workload] exec[{index}]"),
                word,
                captures,
            )?;
        }
        return Ok(Workload::Exec(exec));
    }
    let raw_requests = raw.http.unwrap_or_default();
    if raw_requests.is_empty() {
        return Err(at.error_at(
            &["workload", "http"],
            "[workload] http: the list of requests is empty",
        ));
    }
    let mut requests = Vec::new();
    for (index, raw) in raw_requests.into_iter().enumerate() {
        let label = format!("[workload.http[{index}]]");
        let method = raw
            .method
            .unwrap_or_else(|| "GET".to_string())
            .to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|byte| byte.is_ascii_alphabetic()) {
            return Err(at.error_at(
                &["workload", "http"],
                format!("{label} method: {method:?} is not an HTTP method"),
            ));
        }
        at.check_placeholders_in(
            &["workload", "http"],
            &format!("{label} url"),
            &raw.url,
            captures,
        )?;
        let probe = expand(
            &raw.url,
            &captures
                .iter()
                .map(|name| (name.clone(), "1".to_string()))
                .collect(),
        );
        if !(probe.starts_with("http://") || probe.starts_with("https://")) {
            return Err(at.error_at(
                &["workload", "http"],
                format!("{label} url: {:?} is not an http:// URL", raw.url),
            ));
        }
        if let Some(body) = &raw.body {
            at.check_placeholders_in(
                &["workload", "http"],
                &format!("{label} body"),
                body,
                captures,
            )?;
        }
        for (name, value) in &raw.headers {
            at.check_placeholders_in(
                &["workload", "http"],
                &format!("{label} headers.{name}"),
                value,
                captures,
            )?;
        }
        let times = raw.times.unwrap_or(1);
        if times == 0 {
            return Err(at.error_at(
                &["workload", "http"],
                format!("{label} times: must be at least 1"),
            ));
        }
        requests.push(HttpRequest {
            method,
            url: raw.url,
            times,
            body: raw.body,
            headers: raw.headers,
            expect_status: raw.expect_status,
        });
    }
    Ok(Workload::Http(requests))
}

fn build_hunt(at: &Located<'_>, raw: RawHunt) -> Result<HuntSettings, ScenarioError> {
    let iterations = raw.iterations.unwrap_or(DEFAULT_ITERATIONS);
    if iterations < MIN_ITERATIONS {
        return Err(at.error_at(
            &["hunt", "iterations"],
            format!(
                "[hunt] iterations: must be at least {MIN_ITERATIONS} (a growth needs two measured points), found {iterations}"
            ),
        ));
    }
    let timeout = match raw.timeout_s {
        None => DEFAULT_TIMEOUT,
        Some(seconds) if seconds.is_finite() && seconds > 0.0 && seconds < 1e9 => {
            Duration::from_secs_f64(seconds)
        }
        Some(seconds) => {
            return Err(at.error_at(
                &["hunt", "timeout_s"],
                format!("[hunt] timeout_s: expected a positive number of seconds, found {seconds}"),
            ))
        }
    };
    Ok(HuntSettings {
        iterations,
        warmup: raw.warmup.unwrap_or(DEFAULT_WARMUP),
        timeout,
        children: raw.children.unwrap_or(true),
    })
}

fn build_gate(at: &Located<'_>, raw: RawGate) -> Result<Gate, ScenarioError> {
    let mut ignore = Vec::new();
    for (index, pattern) in raw.ignore.iter().enumerate() {
        let regex = Regex::new(pattern).map_err(|error| {
            at.error_at(
                &["gate", "ignore"],
                format!(
                    "[gate] ignore[{index}]: invalid regex: {}",
                    one_line(&error.to_string())
                ),
            )
        })?;
        ignore.push(regex);
    }
    let min_bytes_per_iteration = raw.min_bytes_per_iteration.unwrap_or(0.0);
    if !min_bytes_per_iteration.is_finite() || min_bytes_per_iteration < 0.0 {
        return Err(at.error_at(
            &["gate", "min_bytes_per_iteration"],
            format!("[gate] min_bytes_per_iteration: expected a number ≥ 0, found {min_bytes_per_iteration}"),
        ));
    }
    Ok(Gate {
        ignore,
        min_bytes_per_iteration,
    })
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// Placeholders.

/// Names of the `{name}` placeholders in a template, in order. `{{` and `}}` stand for literal
/// braces; a brace not around an identifier (JSON in a body, say) is literal text.
pub fn placeholder_names(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    scan_template(template, |piece| {
        if let TemplatePiece::Placeholder(name) = piece {
            names.push(name.to_string());
        }
    });
    names
}

/// Substitutes `{name}` placeholders; unknown names are left as written (validation at load
/// time guarantees every placeholder names a capture of `ready.log`).
pub fn expand(template: &str, placeholders: &Placeholders) -> String {
    let mut out = String::with_capacity(template.len());
    scan_template(template, |piece| match piece {
        TemplatePiece::Text(text) => out.push_str(text),
        TemplatePiece::Placeholder(name) => match placeholders.get(name) {
            Some(value) => out.push_str(value),
            None => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        },
    });
    out
}

enum TemplatePiece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

fn scan_template<'a>(template: &'a str, mut emit: impl FnMut(TemplatePiece<'a>)) {
    let bytes = template.as_bytes();
    let mut start = 0;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if (byte == b'{' || byte == b'}') && bytes.get(index + 1) == Some(&byte) {
            emit(TemplatePiece::Text(&template[start..=index]));
            index += 2;
            start = index;
            continue;
        }
        if byte == b'{' {
            let rest = &template[index + 1..];
            let length = rest
                .bytes()
                .take_while(|byte| byte.is_ascii_alphanumeric() || *byte == b'_')
                .count();
            let is_identifier = length > 0
                && !rest.as_bytes()[0].is_ascii_digit()
                && rest.as_bytes().get(length) == Some(&b'}');
            if is_identifier {
                emit(TemplatePiece::Text(&template[start..index]));
                emit(TemplatePiece::Placeholder(&rest[..length]));
                index += length + 2;
                start = index;
                continue;
            }
        }
        index += 1;
    }
    emit(TemplatePiece::Text(&template[start..]));
}

// ---------------------------------------------------------------------------------------------
// Locations: byte spans to line:column, serde errors to `[table] key: …`.

struct Source<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text.as_bytes()[..offset];
        let line = before.iter().filter(|byte| **byte == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|byte| *byte == b'\n')
            .map_or(0, |at| at + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        (line, column)
    }

    fn error(&self, span: Option<Range<usize>>, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_path_buf(),
            position: span.map(|span| self.position(span.start)),
            message: message.into(),
            io: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

struct Located<'a> {
    source: Source<'a>,
    root: &'a toml_edit::Item,
}

impl Located<'_> {
    /// An error positioned at the key `path` (or the nearest existing ancestor of it).
    fn error_at(&self, path: &[&str], message: impl Into<String>) -> ScenarioError {
        let mut span = None;
        let mut item = Some(self.root);
        for key in path {
            let Some(current) = item else { break };
            let (key_span, child) = child_of(current, key);
            // A `[table]` header is the place to point at, not the name inside its brackets.
            let header = match child {
                Some(toml_edit::Item::Table(table)) => table.span(),
                _ => None,
            };
            span = header.or(key_span).or(span);
            item = child;
        }
        self.source.error(span, message)
    }

    fn check_placeholders(
        &self,
        path: &[&str],
        template: &str,
        captures: &[String],
    ) -> Result<(), ScenarioError> {
        let label = format!(
            "[{}] {}",
            path[..path.len() - 1].join("."),
            path[path.len() - 1]
        );
        self.check_placeholders_in(path, &label, template, captures)
    }

    fn check_placeholders_in(
        &self,
        path: &[&str],
        label: &str,
        template: &str,
        captures: &[String],
    ) -> Result<(), ScenarioError> {
        for name in placeholder_names(template) {
            if !captures.contains(&name) {
                let hint = if captures.is_empty() {
                    "placeholders come from named captures of [target] ready.log, e.g. ready = { log = 'listening on (?P<port>\\d+)' }".to_string()
                } else {
                    format!("ready.log captures: {}", captures.join(", "))
                };
                return Err(self.error_at(
                    path,
                    format!("{label}: placeholder {{{name}}} is not a named capture of [target] ready.log ({hint}; write {{{{ for a literal brace)"),
                ));
            }
        }
        Ok(())
    }

    /// Turns a serde error (`unknown field`, `invalid type`, `missing field`) into a message
    /// naming the table and key, positioned at the offending key or value.
    fn serde_error(&self, error: &toml::de::Error) -> ScenarioError {
        let message = one_line(error.message());
        if let Some(table) = ["target", "workload"]
            .into_iter()
            .find(|table| message == format!("missing field `{table}`"))
        {
            return self
                .source
                .error(None, format!("missing required table [{table}]"));
        }
        let span = error.span();
        let path = span
            .as_ref()
            .map(|span| {
                let mut path = Vec::new();
                find_path(self.root, span.start, &mut path);
                path
            })
            .unwrap_or_default();
        let text = describe_serde_error(&message, &path);
        self.source.error(span, text)
    }
}

fn describe_serde_error(message: &str, path: &[Segment]) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let table = &path[..path.len().saturating_sub(1)];
        let known: Vec<String> = expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        let expected = if known.is_empty() {
            String::new()
        } else {
            format!(" (expected one of: {})", known.join(", "))
        };
        return format!("unknown key `{key}` in {}{expected}", table_label(table));
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or(rest);
        return format!("{}: missing required key `{key}`", table_label(path));
    }
    // Serde reads a struct from an array positionally, so `[[hunt]]` or `ready = [...]` surface
    // as a wrong type of the array's first element: name the real mistake.
    let array_for_table = path.windows(2).position(|pair| {
        matches!(pair, [Segment::Key(key), Segment::Index(_)] if TABLE_KEYS.contains(&key.as_str()))
    });
    if let Some(at) = array_for_table {
        return format!(
            "{}: expected a table, found an array",
            table_label(&path[..=at])
        );
    }
    // `command[1]`, `http[0]`: an element is named with its array's key.
    let (table, key) = match path {
        [table @ .., Segment::Key(key), Segment::Index(index)] => {
            (table, format!("{key}[{index}]"))
        }
        [table @ .., Segment::Key(key)] => (table, key.clone()),
        [table @ .., Segment::Index(index)] => (table, format!("[{index}]")),
        [] => (path, String::new()),
    };
    let subject = if key.is_empty() {
        table_label(table)
    } else {
        format!("{} {key}", table_label(table))
    };
    for prefix in ["invalid type: ", "invalid value: ", "invalid length: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some((found, expected)) = rest.rsplit_once(", expected ") {
                let expected = describe_expected(path, expected);
                let found = found
                    .replace("map", "a table")
                    .replace("sequence", "an array");
                return format!("{subject}: expected {expected}, found {found}");
            }
        }
    }
    format!("{subject}: {message}")
}

/// Keys whose value must be a table (a struct in the file's shape).
const TABLE_KEYS: [&str; 5] = ["target", "workload", "hunt", "gate", "ready"];

fn describe_expected(path: &[Segment], serde_expected: &str) -> String {
    let key = path.iter().rev().find_map(|segment| match segment {
        Segment::Key(key) => Some(key.as_str()),
        Segment::Index(_) => None,
    });
    let in_array = matches!(path.last(), Some(Segment::Index(_)));
    let by_key = match (key, in_array) {
        (Some("iterations"), _) => Some("a positive integer"),
        (Some("warmup"), _) => Some("a non-negative integer"),
        (Some("timeout_s"), _) => Some("a number of seconds"),
        (Some("times"), _) => Some("a positive integer"),
        (Some("delay_ms"), _) => Some("a non-negative integer (milliseconds)"),
        (Some("expect_status"), false) => Some("an array of HTTP status codes"),
        (Some("expect_status"), true) => Some("an HTTP status code"),
        (Some("command" | "exec" | "ignore"), false) => Some("an array of strings"),
        (Some("http"), false) if path.len() == 2 => Some("an array of tables like { url = \"…\" }"),
        (Some("env" | "headers"), false) => Some("a table of strings"),
        _ => None,
    };
    if let Some(text) = by_key {
        return text.to_string();
    }
    match serde_expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a non-negative integer".to_string(),
        "f32" | "f64" => "a number".to_string(),
        "a sequence" => "an array".to_string(),
        "a map" => "a table".to_string(),
        other if other.starts_with("struct ") => "a table".to_string(),
        other => other.to_string(),
    }
}

fn table_label(path: &[Segment]) -> String {
    if path.is_empty() {
        return "the top level".to_string();
    }
    let mut label = String::from("[");
    for (index, segment) in path.iter().enumerate() {
        match segment {
            Segment::Key(key) => {
                if index > 0 {
                    label.push('.');
                }
                label.push_str(key);
            }
            Segment::Index(at) => label.push_str(&format!("[{at}]")),
        }
    }
    label.push(']');
    label
}

fn child_of<'a>(
    item: &'a toml_edit::Item,
    key: &str,
) -> (Option<Range<usize>>, Option<&'a toml_edit::Item>) {
    match item {
        toml_edit::Item::Table(table) => match table.get_key_value(key) {
            Some((key, child)) => (key.span(), Some(child)),
            None => (None, None),
        },
        toml_edit::Item::Value(toml_edit::Value::InlineTable(table)) => {
            match table.get_key_value(key) {
                Some((key, child)) => (key.span(), Some(child)),
                None => (None, None),
            }
        }
        _ => (None, None),
    }
}

fn contains(span: Option<Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|span| span.contains(&offset) || (span.is_empty() && span.start == offset))
}

/// The path of the deepest key whose key or value span contains `offset`.
fn find_path(item: &toml_edit::Item, offset: usize, path: &mut Vec<Segment>) -> bool {
    match item {
        toml_edit::Item::Table(table) => {
            for (name, child) in table.iter() {
                let key_span = table.key(name).and_then(toml_edit::Key::span);
                path.push(Segment::Key(name.to_string()));
                if find_path(child, offset, path)
                    || contains(key_span, offset)
                    || contains(child.span(), offset)
                {
                    return true;
                }
                path.pop();
            }
            false
        }
        toml_edit::Item::ArrayOfTables(array) => {
            for (index, table) in array.iter().enumerate() {
                path.push(Segment::Index(index));
                let child = toml_edit::Item::Table(table.clone());
                if find_path(&child, offset, path) || contains(table.span(), offset) {
                    return true;
                }
                path.pop();
            }
            false
        }
        toml_edit::Item::Value(value) => find_path_in_value(value, offset, path),
        toml_edit::Item::None => false,
    }
}

fn find_path_in_value(value: &toml_edit::Value, offset: usize, path: &mut Vec<Segment>) -> bool {
    match value {
        toml_edit::Value::InlineTable(table) => {
            for (name, child) in table.iter() {
                let key_span = table.key(name).and_then(toml_edit::Key::span);
                path.push(Segment::Key(name.to_string()));
                if find_path_in_value(child, offset, path)
                    || contains(key_span, offset)
                    || contains(child.span(), offset)
                {
                    return true;
                }
                path.pop();
            }
            false
        }
        toml_edit::Value::Array(array) => {
            for (index, child) in array.iter().enumerate() {
                path.push(Segment::Index(index));
                if find_path_in_value(child, offset, path) || contains(child.span(), offset) {
                    return true;
                }
                path.pop();
            }
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
