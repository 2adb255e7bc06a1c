//! Driving the scenario's workload (`[workload]`): [`Driver`] runs `setup` once, `iteration`
//! once per warmup and measured iteration, and `teardown` once, for each kind of workload:
//!
//! - eval: the snippet runs in the main process through `Runtime.evaluate` (awaiting promises,
//!   with the console's `require`), wrapped in an async function so that `await` works. The
//!   consequence: `const`/`let`/`function` declarations are local to one iteration; state that
//!   must survive iterations goes on `globalThis` (or in the program's own modules).
//! - module: the file is loaded into the main process with `require` (CommonJS, and ES modules
//!   without top-level await on Node ≥ 20.19), falling back to `import()` through
//!   `vm.runInThisContext` with the main context's loader for ES modules with top-level await
//!   (`import()` cannot be called from `Runtime.evaluate` directly). Its `setup`, `iteration`
//!   and `teardown` exports (or those of its default export) are awaited.
//! - http: requests sent from hunter, in order, `times` each; a status outside `expect_status`
//!   (default: 2xx) or a connection error fails. A body that is valid JSON is sent as
//!   `application/json` unless the request names its own content type. Proxy variables are
//!   ignored: the target runs on this machine.
//! - exec: the command runs from hunter in the scenario directory; a non-zero exit fails.
//!
//! A JavaScript error thrown (or a promise rejected) by the workload fails the hunt with the
//! error's message and stack. Nothing here times out on its own: the hunt's timeout bounds it.

use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::scenario::{expand, io_reason, HttpRequest, Placeholders, Scenario, Workload};

/// Where the loaded workload module lives in the target: a symbol, so it does not show up
/// among the program's own globals.
const MODULE_GLOBAL: &str = "globalThis[Symbol.for('hunter.workload')]";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Thrown,
    InspectorLost,
    Inspector,
    Http,
    Exec,
    Module,
}

/// Why the workload failed. Its Display is the whole user message (for a JavaScript error:
/// its message and stack).
#[derive(Debug, Clone)]
pub struct WorkloadError {
    kind: Kind,
    message: String,
    stack: Option<String>,
}

impl WorkloadError {
    fn new(kind: Kind, message: String) -> Self {
        WorkloadError {
            kind,
            message,
            stack: None,
        }
    }

    /// JavaScript code of the workload threw or rejected.
    pub fn is_thrown(&self) -> bool {
        self.kind == Kind::Thrown
    }

    /// The main process exited, or its inspector connection closed, during the workload.
    pub fn is_inspector_lost(&self) -> bool {
        self.kind == Kind::InspectorLost
    }

    /// An HTTP request failed or answered an unexpected status.
    pub fn is_http(&self) -> bool {
        self.kind == Kind::Http
    }

    /// The exec command could not start or exited non-zero.
    pub fn is_exec(&self) -> bool {
        self.kind == Kind::Exec
    }

    /// The workload module could not be loaded or lacks `iteration`.
    pub fn is_module(&self) -> bool {
        self.kind == Kind::Module
    }

    /// The JavaScript stack of a thrown error, when there is one.
    pub fn js_stack(&self) -> Option<&str> {
        self.stack.as_deref()
    }
}

impl fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WorkloadError {}

/// Runs one scenario's workload against its main process.
pub struct Driver {
    workload: Workload,
    placeholders: Placeholders,
    session: cdp::Session,
    dir: PathBuf,
    http: Option<reqwest::Client>,
    module_loaded: bool,
}

impl Driver {
    /// A driver for `scenario`'s workload; `placeholders` are the `ready.log` captures and
    /// `session` is the main process's inspector session (used by eval and module workloads).
    pub fn new(scenario: &Scenario, placeholders: &Placeholders, session: cdp::Session) -> Driver {
        Driver {
            workload: scenario.workload.clone(),
            placeholders: placeholders.clone(),
            session,
            dir: scenario.dir.clone(),
            http: None,
            module_loaded: false,
        }
    }

    /// Once, before the warmup: loads a workload module and runs its `setup`.
    pub async fn setup(&mut self) -> Result<(), WorkloadError> {
        if let Workload::Module(path) = &self.workload {
            let path = path.clone();
            self.load_module(&path).await?;
            self.call_module(&path, "setup", None).await?;
        }
        Ok(())
    }

    /// One iteration (warmup or measured; `index` counts from 0 and is passed to a module's
    /// `iteration`).
    pub async fn iteration(&mut self, index: u32) -> Result<(), WorkloadError> {
        match self.workload.clone() {
            Workload::Eval(snippet) => self.eval(&snippet).await,
            Workload::Module(path) => {
                if !self.module_loaded {
                    self.setup().await?;
                }
                self.call_module(&path, "iteration", Some(index)).await
            }
            Workload::Http(requests) => self.http(&requests).await,
            Workload::Exec(argv) => self.exec(&argv).await,
        }
    }

    /// Once, after the last iteration: runs a workload module's `teardown` and forgets it.
    pub async fn teardown(&mut self) -> Result<(), WorkloadError> {
        if let Workload::Module(path) = &self.workload {
            if self.module_loaded {
                let path = path.clone();
                self.call_module(&path, "teardown", None).await?;
                let forget = format!("delete {MODULE_GLOBAL}");
                self.evaluate(&format!("{} teardown", path.display()), &forget)
                    .await?;
                self.module_loaded = false;
            }
        }
        Ok(())
    }

    /// Evaluates in the main process. A process that exits meanwhile never answers when a
    /// client asked to be told (`NodeRuntime.waitingForDisconnect`), and otherwise answers
    /// "Execution context was destroyed": both become "the main process exited during …".
    async fn evaluate(
        &self,
        context: &str,
        expression: &str,
    ) -> Result<serde_json::Value, WorkloadError> {
        use futures::StreamExt;
        let mut exiting = self.session.subscribe("NodeRuntime.waitingForDisconnect");
        tokio::select! {
            result = self.session.evaluate(expression) => result.map_err(|error| from_cdp(context, error)),
            Some(_) = exiting.next() => Err(WorkloadError::new(
                Kind::InspectorLost,
                format!("the main process exited during {context}"),
            )),
        }
    }

    async fn eval(&self, snippet: &str) -> Result<(), WorkloadError> {
        // `require` comes from the console API, which is gone once the function resumes after
        // its first `await`: pass it in. The snippet starts on line 1 of the script so that
        // the stack's line numbers are the snippet's own.
        let expression = format!(
            "(async (require) => {{ {snippet}\n}})(require).then(() => undefined)\n//# sourceURL=workload.eval"
        );
        self.evaluate("the eval workload", &expression).await?;
        Ok(())
    }

    async fn load_module(&mut self, path: &std::path::Path) -> Result<(), WorkloadError> {
        let path_json = serde_json::to_string(&path.to_string_lossy()).unwrap_or_default();
        let expression = format!(
            r#"(async (require) => {{
  const path = {path_json};
  let loaded;
  try {{
    loaded = require(path);
  }} catch (error) {{
    if (!error || (error.code !== 'ERR_REQUIRE_ASYNC_MODULE' && error.code !== 'ERR_REQUIRE_ESM')) throw error;
    const vm = require('vm');
    const url = require('url').pathToFileURL(path).href;
    loaded = await vm.runInThisContext('import(' + JSON.stringify(url) + ')',
      {{ importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }});
  }}
  const pick = (name) => {{
    for (const owner of [loaded, loaded && loaded.default]) {{
      if (owner && typeof owner[name] === 'function') return owner[name].bind(owner);
    }}
    return undefined;
  }};
  const workload = {{ setup: pick('setup'), iteration: pick('iteration'), teardown: pick('teardown') }};
  Object.defineProperty(globalThis, Symbol.for('hunter.workload'),
    {{ value: workload, configurable: true, writable: true, enumerable: false }});
  return {{ iteration: !!workload.iteration, exports: Object.keys(loaded || {{}}) }};
}})(require)"#
        );
        let context = format!("loading {}", path.display());
        let answer = self
            .evaluate(&context, &expression)
            .await
            .map_err(|mut error| {
                if error.kind == Kind::Thrown {
                    error.kind = Kind::Module;
                }
                error
            })?;
        if answer.get("iteration").and_then(serde_json::Value::as_bool) != Some(true) {
            let exports: Vec<String> = answer
                .get("exports")
                .and_then(serde_json::Value::as_array)
                .map(|names| {
                    names
                        .iter()
                        .filter_map(|name| name.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let found = if exports.is_empty() {
                "nothing".to_string()
            } else {
                exports.join(", ")
            };
            return Err(WorkloadError::new(
                Kind::Module,
                format!(
                    "workload module {} exports no `iteration` function (it exports: {found})",
                    path.display()
                ),
            ));
        }
        self.module_loaded = true;
        Ok(())
    }

    async fn call_module(
        &self,
        path: &std::path::Path,
        function: &str,
        index: Option<u32>,
    ) -> Result<(), WorkloadError> {
        let argument = index.map(|index| index.to_string()).unwrap_or_default();
        let expression = format!(
            "(async () => {{ const workload = {MODULE_GLOBAL}; if (workload && workload.{function}) await workload.{function}({argument}); }})()"
        );
        let context = format!("{} {function}()", path.display());
        self.evaluate(&context, &expression).await?;
        Ok(())
    }

    async fn http(&mut self, requests: &[HttpRequest]) -> Result<(), WorkloadError> {
        if self.http.is_none() {
            let client = reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(60))
                .build()
                .map_err(|error| {
                    WorkloadError::new(Kind::Http, format!("cannot make an HTTP client: {error}"))
                })?;
            self.http = Some(client);
        }
        let Some(client) = self.http.clone() else {
            return Ok(());
        };
        for request in requests {
            let url = expand(&request.url, &self.placeholders);
            let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| {
                WorkloadError::new(
                    Kind::Http,
                    format!("{} is not an HTTP method", request.method),
                )
            })?;
            for _ in 0..request.times {
                let mut builder = client.request(method.clone(), &url);
                for (name, value) in &request.headers {
                    builder = builder.header(name.as_str(), expand(value, &self.placeholders));
                }
                if let Some(body) = &request.body {
                    let body = expand(body, &self.placeholders);
                    let has_content_type = request
                        .headers
                        .keys()
                        .any(|name| name.eq_ignore_ascii_case("content-type"));
                    if !has_content_type && serde_json::from_str::<serde_json::Value>(&body).is_ok()
                    {
                        builder = builder.header("content-type", "application/json");
                    }
                    builder = builder.body(body);
                }
                let response = builder.send().await.map_err(|error| {
                    WorkloadError::new(
                        Kind::Http,
                        format!(
                            "{method} {url}: {}",
                            crate::launch::describe_http_error(&error)
                        ),
                    )
                })?;
                let status = response.status();
                let expected = match &request.expect_status {
                    Some(statuses) => statuses.contains(&status.as_u16()),
                    None => status.is_success(),
                };
                // Read the body so the connection is reused, and to quote it on failure.
                let body = response.bytes().await.unwrap_or_default();
                if !expected {
                    let wanted = match &request.expect_status {
                        Some(statuses) => statuses
                            .iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(" or "),
                        None => "2xx".to_string(),
                    };
                    let text = String::from_utf8_lossy(&body);
                    let excerpt: String = text.chars().take(300).collect();
                    let excerpt = if excerpt.trim().is_empty() {
                        String::new()
                    } else {
                        format!(": {}", excerpt.trim())
                    };
                    return Err(WorkloadError::new(
                        Kind::Http,
                        format!("{method} {url}: answered {status}, expected {wanted}{excerpt}"),
                    ));
                }
            }
        }
        Ok(())
    }

    async fn exec(&self, argv: &[String]) -> Result<(), WorkloadError> {
        let argv: Vec<String> = argv
            .iter()
            .map(|word| expand(word, &self.placeholders))
            .collect();
        let shown = argv.join(" ");
        let program = if argv[0].contains('/') {
            self.dir.join(&argv[0])
        } else {
            PathBuf::from(&argv[0])
        };
        let output = tokio::process::Command::new(program)
            .args(&argv[1..])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|error| {
                WorkloadError::new(
                    Kind::Exec,
                    format!("cannot start `{}`: {}", argv[0], io_reason(&error)),
                )
            })?;
        if output.status.success() {
            return Ok(());
        }
        let status = crate::launch::describe_status(output.status);
        let mut message = format!("exec `{shown}` exited with {status}");
        for (name, bytes) in [("stderr", &output.stderr), ("stdout", &output.stdout)] {
            let text = String::from_utf8_lossy(bytes);
            let lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                continue;
            }
            message.push_str(&format!("\nlast lines of its {name}:"));
            for line in &lines[lines.len().saturating_sub(10)..] {
                message.push_str("\n  ");
                message.push_str(line);
            }
        }
        Err(WorkloadError::new(Kind::Exec, message))
    }
}

fn from_cdp(context: &str, error: cdp::Error) -> WorkloadError {
    if let Some(exception) = error.exception() {
        let shown = exception
            .stack
            .clone()
            .unwrap_or_else(|| exception.message.clone());
        return WorkloadError {
            kind: Kind::Thrown,
            message: format!("{context} threw {shown}"),
            stack: exception.stack.clone(),
        };
    }
    let context_destroyed = error
        .protocol_message()
        .is_some_and(|message| message.contains("Execution context was destroyed"));
    if context_destroyed {
        return WorkloadError::new(
            Kind::InspectorLost,
            format!("the main process exited during {context}"),
        );
    }
    if error.is_closed() {
        return WorkloadError::new(
            Kind::InspectorLost,
            format!("lost the main process's inspector during {context} (did the target exit?)"),
        );
    }
    WorkloadError::new(Kind::Inspector, format!("{context}: {error}"))
}
