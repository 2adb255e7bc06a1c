//! Calls against a real Node inspector: values, JS exceptions, protocol errors, big replies,
//! concurrency, per-call timeouts, typed commands, discovery.

mod support;

use std::time::Duration;

use cdp::protocol::heap_profiler::{self, GetHeapObjectId, StartSampling};
use cdp::protocol::runtime::{Evaluate, GetHeapUsage};
use futures::future::join_all;
use serde_json::json;
use support::{start, within, IDLE};

#[tokio::test]
async fn evaluate_awaits_promises_and_returns_values() {
    let node = start(IDLE).await;
    let value = within(
        10,
        node.session.evaluate(
            "new Promise(r => setTimeout(() => r({ answer: 6 * 7, list: [1, 'two'] }), 50))",
        ),
    )
    .await
    .unwrap();
    assert_eq!(value, json!({ "answer": 42, "list": [1, "two"] }));
    // `require` is available to the helper.
    let platform = within(10, node.session.evaluate("require('os').platform()"))
        .await
        .unwrap();
    assert_eq!(platform, json!(std::env::consts::OS));
    assert_eq!(
        within(10, node.session.evaluate("undefined"))
            .await
            .unwrap(),
        json!(null)
    );
}

#[tokio::test]
async fn a_thrown_exception_carries_the_js_message_and_stack() {
    let node = start(IDLE).await;
    let error = within(
        10,
        node.session
            .evaluate("(function explodeHere() { throw new Error('boom from js'); })()"),
    )
    .await
    .unwrap_err();
    assert!(error.is_exception(), "{error}");
    assert_eq!(error.method(), Some("Runtime.evaluate"));
    let exception = error.exception().unwrap();
    assert_eq!(exception.message, "Error: boom from js");
    let stack = exception.stack.as_deref().unwrap();
    assert!(stack.starts_with("Error: boom from js\n"), "{stack}");
    assert!(stack.contains("at explodeHere"), "{stack}");
    assert!(error.to_string().contains("boom from js"));

    let rejected = within(
        10,
        node.session
            .evaluate("new Promise((_, reject) => setTimeout(() => reject(new TypeError('nope, rejected')), 10))"),
    )
    .await
    .unwrap_err();
    assert!(rejected.is_exception(), "{rejected}");
    assert_eq!(
        rejected.exception().unwrap().message,
        "TypeError: nope, rejected"
    );

    // The typed command gives the same error.
    let typed = within(10, node.session.call(&Evaluate::new("null.property")))
        .await
        .unwrap_err();
    assert!(typed.is_exception());
    assert!(
        typed
            .exception()
            .unwrap()
            .message
            .starts_with("TypeError: Cannot read properties of null"),
        "{typed}"
    );
}

#[tokio::test]
async fn an_unknown_method_is_a_protocol_error_with_code_and_method() {
    let node = start(IDLE).await;
    let error = within(10, node.session.send("Nope.nothing", json!({})))
        .await
        .unwrap_err();
    assert!(error.is_protocol(), "{error}");
    assert_eq!(error.protocol_code(), Some(-32601));
    assert_eq!(error.method(), Some("Nope.nothing"));
    assert!(error.protocol_message().unwrap().contains("Nope.nothing"));
    // The connection is still fine.
    assert_eq!(
        within(10, node.session.evaluate("1 + 1")).await.unwrap(),
        json!(2)
    );
}

#[tokio::test]
async fn a_reply_of_more_than_20_mib_arrives_exactly() {
    let node = start(IDLE).await;
    let length = 20 * 1024 * 1024 + 3;
    let value = within(
        60,
        node.session
            .evaluate("'ab'.repeat(10 * 1024 * 1024) + 'xyz'"),
    )
    .await
    .unwrap();
    let text = value.as_str().unwrap();
    assert_eq!(text.len(), length);
    assert!(text.starts_with("abab"));
    assert!(text.ends_with("abxyz"));
}

#[tokio::test]
async fn two_hundred_concurrent_calls_each_get_their_own_answer() {
    let node = start(IDLE).await;
    let calls = (0..200u64).map(|i| {
        let session = node.session.clone();
        async move {
            // Replies come back out of order: odd calls wait a little.
            let delay = if i % 2 == 1 { 20 } else { 0 };
            let value = session
                .evaluate(&format!(
                    "new Promise(r => setTimeout(() => r({i} * 3 + 1), {delay}))"
                ))
                .await
                .unwrap();
            (i, value)
        }
    });
    for (i, value) in within(60, join_all(calls)).await {
        assert_eq!(value, json!(i * 3 + 1));
    }
}

#[tokio::test]
async fn a_timed_out_call_fails_alone_and_its_late_reply_is_dropped() {
    let node = start(IDLE).await;
    let slow = json!({
        "expression": "new Promise(r => setTimeout(() => r('late'), 1500))",
        "awaitPromise": true,
        "returnByValue": true,
    });
    let error = within(
        10,
        node.session
            .send_with_timeout("Runtime.evaluate", slow, Duration::from_millis(200)),
    )
    .await
    .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert_eq!(error.method(), Some("Runtime.evaluate"));
    assert_eq!(error.timeout_duration(), Some(Duration::from_millis(200)));
    assert!(!node.session.is_closed());
    assert_eq!(
        within(
            10,
            node.session
                .evaluate_with_timeout("'meanwhile'", Duration::from_secs(5))
        )
        .await
        .unwrap(),
        json!("meanwhile")
    );
    // Let the late reply arrive, then check the session still works.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let after = within(
        10,
        node.session.call_with_timeout(
            &Evaluate::new("'after the late reply'").return_by_value(),
            Duration::from_secs(5),
        ),
    )
    .await
    .unwrap();
    assert_eq!(after.result.value, Some(json!("after the late reply")));
}

#[tokio::test]
async fn typed_heap_commands_decode_their_replies() {
    let node = start(IDLE).await;
    let session = &node.session;
    within(10, session.call(&heap_profiler::Enable {}))
        .await
        .unwrap();
    within(10, session.call(&heap_profiler::CollectGarbage {}))
        .await
        .unwrap();
    within(
        10,
        session.evaluate("globalThis.big = Array.from({ length: 200000 }, (_, i) => ({ i }))"),
    )
    .await
    .unwrap();
    let usage = within(10, session.call(&GetHeapUsage {})).await.unwrap();
    assert!(usage.used_size > 200_000.0 * 16.0, "{usage:?}");
    assert!(usage.total_size >= usage.used_size, "{usage:?}");

    within(
        10,
        session.call(&StartSampling {
            sampling_interval: Some(1024.0),
            ..StartSampling::default()
        }),
    )
    .await
    .unwrap();
    within(
        10,
        session.evaluate(
            "globalThis.sampled = []; (function allocateSampled() { for (let i = 0; i < 50000; i++) sampled.push({ i, s: 'x' + i }); })()",
        ),
    )
    .await
    .unwrap();
    let profile = within(10, session.call(&heap_profiler::GetSamplingProfile {}))
        .await
        .unwrap()
        .profile;
    assert!(!profile.samples.is_empty());
    fn has_function(node: &heap_profiler::SamplingHeapProfileNode, name: &str) -> bool {
        node.call_frame.function_name == name || node.children.iter().any(|c| has_function(c, name))
    }
    assert!(has_function(&profile.head, "allocateSampled"));
    within(10, session.call(&heap_profiler::StopSampling {}))
        .await
        .unwrap();

    let handle = within(10, session.call(&Evaluate::new("globalThis.big")))
        .await
        .unwrap();
    let object_id = handle.result.object_id.expect("object handle");
    let id = within(10, session.call(&GetHeapObjectId { object_id }))
        .await
        .unwrap();
    assert!(id.heap_snapshot_object_id.parse::<u64>().is_ok(), "{id:?}");
}

#[tokio::test]
async fn discovery_lists_the_node_target_and_its_url_connects() {
    let node = start(IDLE).await;
    let host_port = cdp::host_port(&node.url).unwrap();
    let targets = within(10, cdp::list_targets(host_port)).await.unwrap();
    assert_eq!(targets.len(), 1, "{targets:?}");
    let target = &targets[0];
    assert_eq!(target.kind, "node");
    assert_eq!(
        target.web_socket_debugger_url.as_deref(),
        Some(node.url.as_str())
    );
    let session = within(10, cdp::Session::connect(&node.url)).await.unwrap();
    assert_eq!(
        within(10, session.evaluate("process.pid")).await.unwrap(),
        json!(node.child.id().unwrap())
    );
}

#[tokio::test]
async fn connecting_to_nothing_is_a_transport_error() {
    // Bind then drop a listener so the port is very likely closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = cdp::Session::connect(&format!("ws://127.0.0.1:{port}/none"))
        .await
        .unwrap_err();
    assert!(error.is_transport(), "{error}");
    let error = cdp::list_targets(&format!("127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert!(error.is_transport(), "{error}");
}
