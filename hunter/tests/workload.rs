//! Workloads against real Node targets: eval, module (CommonJS, ES, ES with top-level await),
//! http and exec — what they do to the target, and the messages users get when they fail.

use std::time::Duration;

use hunter::launch::{LaunchOptions, ProcessTree};
use hunter::scenario::{load, Placeholders};
use hunter::workload::Driver;

/// A server counting requests per path in `globalThis.hits`; /fail answers 500.
const SERVER: &str = r#"
globalThis.hits = {};
const server = require('http').createServer((req, res) => {
  globalThis.hits[req.url] = (globalThis.hits[req.url] || 0) + 1;
  globalThis.types = (globalThis.types || []).concat(req.method === 'POST' ? [req.headers['content-type']] : []);
  if (req.url === '/fail') { res.statusCode = 500; res.end('nope'); return; }
  res.statusCode = req.method === 'POST' ? 201 : 200;
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => console.log('listening on ' + server.address().port));
"#;

struct Running {
    // Kept alive for the test's duration; dropping it kills the target.
    _tree: ProcessTree,
    session: cdp::Session,
    driver: Driver,
    placeholders: Placeholders,
    dir: tempfile::TempDir,
}

async fn start(workload_toml: &str, files: &[(&str, &str)]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.js"), SERVER).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let toml = format!(
        "[target]\ncommand = [\"node\", \"server.js\"]\nready = {{ log = 'listening on (?P<port>\\d+)' }}\n[workload]\n{workload_toml}\n"
    );
    std::fs::write(dir.path().join("scenario.toml"), toml).unwrap();
    let scenario = load(&dir.path().join("scenario.toml")).unwrap();
    let options = LaunchOptions {
        quiet: true,
        ..LaunchOptions::default()
    };
    let mut tree = ProcessTree::spawn(&scenario.target, &options).unwrap();
    let placeholders = tree.wait_ready(Duration::from_secs(20)).await.unwrap();
    let main = tree.main_process().unwrap();
    let session = cdp::Session::connect(main.ws_url.as_deref().unwrap())
        .await
        .unwrap();
    let driver = Driver::new(&scenario, &placeholders, session.clone());
    Running {
        _tree: tree,
        session,
        driver,
        placeholders,
        dir,
    }
}

async fn value(session: &cdp::Session, expression: &str) -> serde_json::Value {
    session.evaluate(expression).await.unwrap()
}

#[tokio::test]
async fn eval_runs_each_iteration_with_await_and_require() {
    let snippet = "eval = \"\"\"\nconst os = require('os');\nawait new Promise((resolve) => setTimeout(resolve, 5));\nglobalThis.count = (globalThis.count || 0) + 1;\nglobalThis.sep = require('path').sep;\n\"\"\"";
    let mut running = start(snippet, &[]).await;
    running.driver.setup().await.unwrap();
    for index in 0..3 {
        running.driver.iteration(index).await.unwrap();
    }
    running.driver.teardown().await.unwrap();
    assert_eq!(value(&running.session, "globalThis.count").await, 3);
    assert_eq!(value(&running.session, "globalThis.sep").await, "/");
}

#[tokio::test]
async fn eval_throw_and_rejection_fail_with_message_and_stack() {
    let mut running = start(
        "eval = \"await 0;\\nthrow new Error('order store full')\"",
        &[],
    )
    .await;
    let error = running.driver.iteration(0).await.unwrap_err();
    assert!(error.is_thrown());
    let shown = error.to_string();
    assert!(
        shown.starts_with(
            "the eval workload threw Error: order store full\n    at workload.eval:2:"
        ),
        "{shown}"
    );
    assert!(error.js_stack().unwrap().contains("workload.eval:2:"));

    let mut running = start(
        "eval = \"await Promise.reject(new TypeError('bad input'))\"",
        &[],
    )
    .await;
    let error = running.driver.iteration(0).await.unwrap_err();
    assert!(error.is_thrown());
    assert!(
        error
            .to_string()
            .starts_with("the eval workload threw TypeError: bad input\n"),
        "{error}"
    );
}

const CJS_MODULE: &str = r#"
exports.setup = async () => { globalThis.setupRuns = (globalThis.setupRuns || 0) + 1; };
exports.iteration = async (index) => { (globalThis.seen ||= []).push(index); };
exports.teardown = () => { globalThis.tornDown = true; };
"#;

#[tokio::test]
async fn commonjs_module_setup_iterations_teardown() {
    let mut running = start("module = \"work.js\"", &[("work.js", CJS_MODULE)]).await;
    running.driver.setup().await.unwrap();
    running.driver.iteration(0).await.unwrap();
    running.driver.iteration(1).await.unwrap();
    running.driver.teardown().await.unwrap();
    assert_eq!(
        value(
            &running.session,
            "[globalThis.setupRuns, globalThis.seen, globalThis.tornDown]"
        )
        .await,
        serde_json::json!([1, [0, 1], true])
    );
    // The module handle is gone after teardown.
    assert_eq!(
        value(
            &running.session,
            "Symbol.for('hunter.workload') in globalThis"
        )
        .await,
        false
    );
}

#[tokio::test]
async fn es_modules_with_and_without_top_level_await() {
    let plain = "export async function iteration(i) { (globalThis.esm ||= []).push(i); }";
    let with_await = "const step = await Promise.resolve(10);\nexport default { iteration: (i) => { (globalThis.tla ||= []).push(i + step); } };";
    let mut running = start(
        "module = \"plain.mjs\"",
        &[("plain.mjs", plain), ("tla.mjs", with_await)],
    )
    .await;
    running.driver.setup().await.unwrap();
    running.driver.iteration(0).await.unwrap();
    running.driver.iteration(1).await.unwrap();
    assert_eq!(
        value(&running.session, "globalThis.esm").await,
        serde_json::json!([0, 1])
    );

    let mut running = start(
        "module = \"tla.mjs\"",
        &[("plain.mjs", plain), ("tla.mjs", with_await)],
    )
    .await;
    running.driver.setup().await.unwrap();
    running.driver.iteration(0).await.unwrap();
    assert_eq!(
        value(&running.session, "globalThis.tla").await,
        serde_json::json!([10])
    );
}

#[tokio::test]
async fn module_without_iteration_or_throwing_names_the_file() {
    let mut running = start(
        "module = \"work.js\"",
        &[("work.js", "exports.setup = () => {};")],
    )
    .await;
    let error = running.driver.setup().await.unwrap_err();
    assert!(error.is_module());
    let file = std::fs::canonicalize(running.dir.path())
        .unwrap()
        .join("work.js");
    assert_eq!(
        error.to_string(),
        format!(
            "workload module {} exports no `iteration` function (it exports: setup)",
            file.display()
        )
    );

    let throwing = "exports.iteration = () => { throw new RangeError('too many orders'); };";
    let mut running = start("module = \"work.js\"", &[("work.js", throwing)]).await;
    running.driver.setup().await.unwrap();
    let error = running.driver.iteration(0).await.unwrap_err();
    assert!(error.is_thrown());
    let file = std::fs::canonicalize(running.dir.path())
        .unwrap()
        .join("work.js");
    let expected = format!(
        "{} iteration() threw RangeError: too many orders\n",
        file.display()
    );
    assert!(error.to_string().starts_with(&expected), "{error}");
    assert!(
        error
            .js_stack()
            .unwrap()
            .contains(&format!("{}:1:", file.display())),
        "{error}"
    );
}

#[tokio::test]
async fn http_sends_each_request_times_with_placeholders() {
    let workload = "http = [\n  { url = \"http://127.0.0.1:{port}/orders\", times = 5 },\n  { method = \"POST\", url = \"http://127.0.0.1:{port}/pay\", body = '{\"n\":1}', expect_status = [201] },\n]";
    let mut running = start(workload, &[]).await;
    running.driver.iteration(0).await.unwrap();
    running.driver.iteration(1).await.unwrap();
    assert_eq!(
        value(&running.session, "globalThis.hits").await,
        serde_json::json!({ "/orders": 10, "/pay": 2 })
    );
    // A JSON body goes out as JSON.
    assert_eq!(
        value(&running.session, "globalThis.types").await,
        serde_json::json!(["application/json", "application/json"])
    );
}

#[tokio::test]
async fn http_failures_name_url_and_status_or_refusal() {
    let mut running = start("http = [{ url = \"http://127.0.0.1:{port}/fail\" }]", &[]).await;
    let port = &running.placeholders["port"];
    let error = running.driver.iteration(0).await.unwrap_err();
    assert!(error.is_http());
    assert_eq!(
        error.to_string(),
        format!("GET http://127.0.0.1:{port}/fail: answered 500 Internal Server Error, expected 2xx: nope")
    );

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let workload = format!("http = [{{ url = \"http://127.0.0.1:{closed}/\" }}]");
    let mut running = start(&workload, &[]).await;
    let error = running.driver.iteration(0).await.unwrap_err();
    assert!(error.is_http());
    assert_eq!(
        error.to_string(),
        format!("GET http://127.0.0.1:{closed}/: connection refused")
    );
}

#[tokio::test]
async fn exec_runs_in_the_scenario_dir_and_reports_failures() {
    let client = "require('http').get('http://127.0.0.1:' + process.argv[2] + '/from-exec', (res) => { res.resume(); res.on('end', () => require('fs').writeFileSync('exec-ran', 'yes')); });";
    let mut running = start(
        "exec = [\"node\", \"client.js\", \"{port}\"]",
        &[("client.js", client)],
    )
    .await;
    running.driver.iteration(0).await.unwrap();
    assert_eq!(
        value(&running.session, "globalThis.hits['/from-exec']").await,
        1
    );
    assert_eq!(
        std::fs::read_to_string(running.dir.path().join("exec-ran")).unwrap(),
        "yes"
    );

    let failing = "exec = [\"node\", \"-e\", \"console.log('step 1'); console.error('bad thing'); process.exit(4)\"]";
    let mut running = start(failing, &[]).await;
    let error = running.driver.iteration(0).await.unwrap_err();
    assert!(error.is_exec());
    assert_eq!(
        error.to_string(),
        "exec `node -e console.log('step 1'); console.error('bad thing'); process.exit(4)` exited with status 4\nlast lines of its stderr:\n  bad thing\nlast lines of its stdout:\n  step 1"
    );

    let mut running = start("exec = [\"no-such-client\"]", &[]).await;
    let error = running.driver.iteration(0).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot start `no-such-client`: No such file or directory"
    );
}

#[tokio::test]
async fn main_process_exiting_during_eval_is_reported_as_such() {
    let snippet = "eval = \"setTimeout(() => process.exit(7), 20); await new Promise(() => {})\"";
    let mut running = start(snippet, &[]).await;
    let error = running.driver.iteration(0).await.unwrap_err();
    assert!(error.is_inspector_lost(), "{error}");
    assert_eq!(
        error.to_string(),
        "the main process exited during the eval workload"
    );
}

#[tokio::test]
async fn main_process_exiting_is_reported_when_a_client_waits_for_disconnect() {
    let snippet = "eval = \"setTimeout(() => process.exit(7), 20); await new Promise(() => {})\"";
    let mut running = start(snippet, &[]).await;
    running
        .session
        .send(
            "NodeRuntime.notifyWhenWaitingForDisconnect",
            serde_json::json!({ "enabled": true }),
        )
        .await
        .unwrap();
    let error = tokio::time::timeout(Duration::from_secs(20), running.driver.iteration(0))
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(error.is_inspector_lost(), "{error}");
    assert_eq!(
        error.to_string(),
        "the main process exited during the eval workload"
    );
}
