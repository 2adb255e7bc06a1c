//! How sessions end: the target killed mid-call, an explicit disconnect, and a fault-injecting
//! websocket proxy between the client and a real Node that feeds it garbage.

mod support;

use std::time::Duration;

use cdp::TakeHeapSnapshot;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use support::{start, within, IDLE};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn killing_the_target_fails_pending_calls_with_closed_and_ends_streams() {
    let mut node = start(IDLE).await;
    let session = node.session.clone();
    let mut events = session.subscribe("Runtime.consoleAPICalled");
    let never = {
        let session = session.clone();
        tokio::spawn(async move { session.evaluate("new Promise(() => {})").await })
    };
    let snapshot_session = session.clone();
    // Give both calls time to reach the target.
    tokio::time::sleep(Duration::from_millis(300)).await;
    node.child.start_kill().unwrap();

    let error = within(5, never).await.unwrap().unwrap_err();
    assert!(error.is_closed(), "{error}");
    assert_eq!(error.method(), Some("Runtime.evaluate"));
    assert!(within(5, events.next()).await.is_none());
    within(5, session.closed()).await;
    assert!(session.is_closed());
    // Later calls fail at once, and so does a snapshot.
    let error = within(5, session.send("Runtime.enable", json!({})))
        .await
        .unwrap_err();
    assert!(error.is_closed(), "{error}");
    let mut snapshot = snapshot_session.heap_snapshot(TakeHeapSnapshot::default());
    let first = within(5, snapshot.next()).await.unwrap();
    assert!(first.unwrap_err().is_closed());
    assert!(within(5, snapshot.next()).await.is_none());
    // Subscribing to a closed session gives a stream that has already ended.
    assert!(within(5, session.subscribe("Any.event").next())
        .await
        .is_none());
}

#[tokio::test]
async fn a_target_killed_while_streaming_a_snapshot_ends_the_stream_with_closed() {
    let mut node = start(IDLE).await;
    let session = node.session.clone();
    within(
        60,
        session.evaluate(
            "globalThis.keep = Array.from({ length: 300000 }, (_, i) => ({ i, s: 'v' + i })); 1",
        ),
    )
    .await
    .unwrap();
    let mut snapshot = session.heap_snapshot(TakeHeapSnapshot::default());
    // Wait for the first chunk, then kill the target mid-snapshot.
    let first = within(60, snapshot.next()).await.unwrap().unwrap();
    assert!(matches!(first, cdp::SnapshotEvent::Chunk(_)));
    node.child.start_kill().unwrap();
    let outcome = within(10, async {
        while let Some(item) = snapshot.next().await {
            if let Err(error) = item {
                return Some(error);
            }
        }
        None
    })
    .await;
    let error = outcome.expect("the stream must end with an error, not as if complete");
    assert!(error.is_closed(), "{error}");
    assert!(within(5, snapshot.next()).await.is_none());
}

#[tokio::test]
async fn disconnect_closes_the_session_and_lets_node_exit() {
    let mut node = start("setTimeout(() => {}, 300);\n").await;
    let session = node.session.clone();
    let pending = {
        let session = session.clone();
        tokio::spawn(async move { session.evaluate("new Promise(() => {})").await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    within(5, session.disconnect()).await;
    assert!(session.is_closed());
    let error = within(5, pending).await.unwrap().unwrap_err();
    assert!(error.is_closed(), "{error}");
    // With its debugger gone, node is free to exit when its script ends.
    let status = within(10, node.child.wait()).await.unwrap();
    assert!(status.success(), "{status:?}");
}

/// A websocket proxy in front of a real Node inspector that injects garbage toward the client
/// before every message Node sends.
async fn start_garbage_proxy(upstream_url: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let client = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let (upstream, _) = tokio_tungstenite::connect_async(upstream_url.as_str())
            .await
            .unwrap();
        let (mut to_client, mut from_client) = client.split();
        let (mut to_node, mut from_node) = upstream.split();
        tokio::spawn(async move {
            while let Some(Ok(message)) = from_client.next().await {
                // The client's answers to injected pings are the proxy's business, not Node's.
                if !message.is_text() {
                    continue;
                }
                if to_node.send(message).await.is_err() {
                    break;
                }
            }
        });
        let garbage = [
            Message::text("this is not json"),
            Message::text("{\"method\":"),
            Message::text("[]"),
            Message::text("{\"id\":\"not a number\",\"result\":{}}"),
            Message::text("{\"id\":987654321,\"result\":{\"nobody\":\"asked\"}}"),
            Message::text("{\"method\":\"Custom.unknownEvent\",\"params\":{\"x\":[1,2,{\"y\":null}]}}"),
            Message::text("{\"method\":\"Runtime.consoleAPICalled\",\"params\":{\"type\":42,\"args\":\"nope\"}}"),
            Message::text("{\"method\":\"NodeWorker.receivedMessageFromWorker\",\"params\":{\"sessionId\":\"ghost\",\"message\":\"{}\"}}"),
            Message::text("{\"method\":\"NodeWorker.attachedToWorker\",\"params\":7}"),
            Message::binary(vec![0xff, 0xfe, 0x00]),
            Message::Ping(vec![1, 2, 3]),
        ];
        while let Some(Ok(message)) = from_node.next().await {
            for junk in &garbage {
                if to_client.send(junk.clone()).await.is_err() {
                    return;
                }
            }
            if to_client.send(message).await.is_err() {
                return;
            }
        }
    });
    format!("ws://127.0.0.1:{port}/proxy")
}

#[tokio::test]
async fn garbage_and_unknown_messages_never_break_the_connection() {
    let node = start(IDLE).await;
    let proxy_url = start_garbage_proxy(node.url.clone()).await;
    // Node's inspector takes a second client: the test's own session stays connected.
    let session = within(10, cdp::Session::connect(&proxy_url)).await.unwrap();
    let mut console = session.subscribe("Runtime.consoleAPICalled");
    let mut unknown = session.subscribe("Custom.unknownEvent");
    within(10, session.send("Runtime.enable", json!({})))
        .await
        .unwrap();
    within(
        10,
        session.evaluate("for (let i = 0; i < 20; i++) console.log('proxied', i)"),
    )
    .await
    .unwrap();
    let mut next = 0;
    let mut malformed = 0;
    while next < 20 {
        let event = within(10, console.next()).await.unwrap();
        match event.params::<cdp::protocol::runtime::ConsoleApiCalled>() {
            Ok(call) => {
                if call.args.first().and_then(|a| a.value.as_ref()) == Some(&json!("proxied")) {
                    assert_eq!(call.args[1].value, Some(json!(next)));
                    next += 1;
                }
            }
            // The injected consoleAPICalled with wrong field types: an error for this
            // subscriber only.
            Err(error) => {
                assert!(error.is_decode(), "{error}");
                malformed += 1;
            }
        }
    }
    assert!(malformed > 0);
    let custom = within(10, unknown.next()).await.unwrap();
    assert_eq!(
        custom.params::<serde_json::Value>().unwrap()["x"][2],
        json!({ "y": null })
    );
    let values = futures::future::join_all((0..50).map(|i| {
        let session = session.clone();
        async move { session.evaluate(&format!("{i} * 2")).await.unwrap() }
    }));
    for (i, value) in within(20, values).await.into_iter().enumerate() {
        assert_eq!(value, json!(i * 2));
    }
    assert!(!session.is_closed());
}
