//! Worker thread sessions through NodeWorker, against a real Node process.

mod support;

use std::time::Duration;

use cdp::protocol::runtime::RunIfWaitingForDebugger;
use cdp::TakeHeapSnapshot;
use futures::StreamExt;
use serde_json::json;
use support::{eventually, parse_whole_snapshot, start, within};

const WORKER_AT_START: &str = r#"
const { Worker } = require('worker_threads');
globalThis.worker = new Worker(`
  globalThis.onlyInWorker = 'set in the worker ' + require('worker_threads').threadId;
  globalThis.workerObjects = Array.from({ length: 1000 }, (_, i) => ({ label: 'worker-marker-' + i }));
  setInterval(() => {}, 1 << 30);
`, { eval: true });
setInterval(() => {}, 1 << 30);
"#;

#[tokio::test]
async fn a_worker_session_evaluates_in_the_worker_and_streams_its_snapshot() {
    let node = start(WORKER_AT_START).await;
    let mut workers = within(10, node.session.attach_workers(false))
        .await
        .unwrap();
    let worker = within(10, workers.next()).await.expect("a worker");
    assert_eq!(worker.info.kind, "worker");
    assert!(!worker.waiting_for_debugger);
    let session = worker.session.clone();
    assert!(session.worker_session_id().is_some());

    // The worker may still be starting when it is reported.
    let seen = eventually(
        &session,
        "typeof onlyInWorker === 'string' ? onlyInWorker : null",
    )
    .await;
    assert_eq!(seen, json!("set in the worker 1"));
    assert_eq!(
        within(10, node.session.evaluate("typeof onlyInWorker"))
            .await
            .unwrap(),
        json!("undefined")
    );
    // Exceptions come through the tunnel like on the top level.
    let error = within(
        10,
        session.evaluate("throw new RangeError('worker says no')"),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.exception().unwrap().message,
        "RangeError: worker says no"
    );

    let bytes = within(
        120,
        session
            .heap_snapshot(TakeHeapSnapshot::default())
            .collect_bytes(),
    )
    .await
    .unwrap();
    let snapshot = parse_whole_snapshot(&bytes);
    // Property names are flat strings in the snapshot; this one exists only in the worker.
    assert!(snapshot.strings.iter().any(|s| s == "onlyInWorker"));
    let main_bytes = within(
        120,
        node.session
            .heap_snapshot(TakeHeapSnapshot::default())
            .collect_bytes(),
    )
    .await
    .unwrap();
    let main_snapshot = parse_whole_snapshot(&main_bytes);
    assert!(!main_snapshot.strings.iter().any(|s| s == "onlyInWorker"));

    // Concurrent calls in the worker's own id space.
    let answers = futures::future::join_all((0..20).map(|i| {
        let session = session.clone();
        async move { session.evaluate(&format!("{i} + 100")).await.unwrap() }
    }));
    for (i, value) in within(20, answers).await.into_iter().enumerate() {
        assert_eq!(value, json!(i + 100));
    }

    within(10, session.disconnect()).await;
    assert!(session.is_closed());
    let error = session.evaluate("1").await.unwrap_err();
    assert!(error.is_closed(), "{error}");
    // The main session is unaffected.
    assert_eq!(
        within(10, node.session.evaluate("6 * 7")).await.unwrap(),
        json!(42)
    );
}

const WORKER_ON_DEMAND: &str = r#"
const { Worker } = require('worker_threads');
globalThis.startWorker = () => {
  globalThis.worker = new Worker(`
    globalThis.startedAt = 'worker body ran';
    require('worker_threads').parentPort.postMessage('worker ran');
    setInterval(() => {}, 1 << 30);
  `, { eval: true });
  globalThis.worker.on('message', (m) => { globalThis.workerSaid = m; });
  return 'started';
};
setInterval(() => {}, 1 << 30);
"#;

#[tokio::test]
async fn a_waiting_worker_runs_on_request_and_its_session_closes_when_it_exits() {
    let node = start(WORKER_ON_DEMAND).await;
    let mut workers = within(10, node.session.attach_workers(true)).await.unwrap();
    within(10, node.session.evaluate("startWorker()"))
        .await
        .unwrap();
    let worker = within(10, workers.next()).await.expect("a worker");
    assert!(worker.waiting_for_debugger);
    let session = worker.session;
    // Held at its start: its body has not run.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        within(10, node.session.evaluate("globalThis.workerSaid ?? null"))
            .await
            .unwrap(),
        json!(null)
    );
    within(10, session.call(&RunIfWaitingForDebugger {}))
        .await
        .unwrap();
    let ran = eventually(&session, "globalThis.startedAt ?? null").await;
    assert_eq!(ran, json!("worker body ran"));
    let said = eventually(&node.session, "globalThis.workerSaid ?? null").await;
    assert_eq!(said, json!("worker ran"));

    let mut worker_events = session.subscribe("Runtime.consoleAPICalled");
    within(
        10,
        node.session
            .evaluate("worker.terminate().then(() => 'gone')"),
    )
    .await
    .unwrap();
    within(10, session.closed()).await;
    assert!(session.is_closed());
    assert!(within(10, worker_events.next()).await.is_none());
    assert!(!node.session.is_closed());
}

const NESTED_WORKERS: &str = r#"
const { Worker } = require('worker_threads');
globalThis.outer = new Worker(`
  const { Worker } = require('worker_threads');
  globalThis.inner = new Worker("globalThis.depth = 'inner worker'; setInterval(() => {}, 1 << 30);", { eval: true });
  globalThis.depth = 'outer worker';
  setInterval(() => {}, 1 << 30);
`, { eval: true });
setInterval(() => {}, 1 << 30);
"#;

#[tokio::test]
async fn a_worker_started_by_a_worker_is_reported_on_the_top_level_session() {
    // Worker sessions have no NodeWorker domain: Node reports nested workers to the top level.
    let node = start(NESTED_WORKERS).await;
    let mut workers = within(10, node.session.attach_workers(false))
        .await
        .unwrap();
    let first = within(10, workers.next()).await.expect("a worker").session;
    let second = within(20, workers.next())
        .await
        .expect("another worker")
        .session;
    let no_domain = within(10, first.attach_workers(false)).await.unwrap_err();
    assert_eq!(no_domain.protocol_code(), Some(-32601), "{no_domain}");
    let mut depths = vec![
        eventually(&first, "globalThis.depth ?? null").await,
        eventually(&second, "globalThis.depth ?? null").await,
    ];
    depths.sort_by_key(|v| v.to_string());
    assert_eq!(depths, vec![json!("inner worker"), json!("outer worker")]);
    // Closing the top level closes both worker sessions.
    within(10, node.session.disconnect()).await;
    within(10, first.closed()).await;
    within(10, second.closed()).await;
}
