//! Events and streamed heap snapshots against a real Node inspector.

mod support;

use cdp::protocol::heap_profiler;
use cdp::protocol::runtime::{self, ConsoleApiCalled, GetHeapUsage};
use cdp::{SnapshotEvent, TakeHeapSnapshot};
use futures::StreamExt;
use serde_json::json;
use support::{parse_whole_snapshot, start, within, IDLE};

#[tokio::test]
async fn a_thousand_console_events_arrive_complete_and_in_order() {
    let node = start(IDLE).await;
    let session = &node.session;
    let mut console = session.subscribe("Runtime.consoleAPICalled");
    let mut everything = session.subscribe_all();
    within(10, session.call(&runtime::Enable {})).await.unwrap();
    within(
        10,
        session.evaluate("for (let i = 0; i < 1000; i++) console.log('seq', i); 'done'"),
    )
    .await
    .unwrap();
    let mut next = 0u64;
    while next < 1000 {
        let event = within(10, console.next())
            .await
            .expect("stream ended early");
        let call: ConsoleApiCalled = event.params().unwrap();
        if call.args.first().and_then(|a| a.value.as_ref()) != Some(&json!("seq")) {
            continue; // anything Node logged on its own
        }
        assert_eq!(call.kind, "log");
        assert_eq!(call.args[1].value, Some(json!(next)), "event out of order");
        next += 1;
    }
    // The catch-all subscription saw the same events, among others.
    let mut seen = 0;
    while seen < 1000 {
        let event = within(10, everything.next()).await.unwrap();
        if event.method == "Runtime.consoleAPICalled"
            && event.raw_params().contains(r#""value":"seq""#)
        {
            seen += 1;
        }
    }
}

#[tokio::test]
async fn a_snapshot_of_a_heap_over_50_mb_streams_whole_and_parses() {
    let node = start(IDLE).await;
    let session = &node.session;
    within(
        60,
        session.evaluate(
            "globalThis.keep = []; \
             for (let i = 0; i < 150000; i++) keep.push({ id: i, text: ('item-' + i + '-').padEnd(400, 'x') }); \
             keep.length",
        ),
    )
    .await
    .unwrap();
    let usage = within(10, session.call(&GetHeapUsage {})).await.unwrap();
    assert!(
        usage.used_size > 50e6,
        "heap only {} bytes",
        usage.used_size
    );

    let mut stream = session.heap_snapshot(TakeHeapSnapshot {
        report_progress: true,
        ..TakeHeapSnapshot::default()
    });
    let mut bytes = Vec::new();
    let (mut chunks, mut progress_events, mut finished) = (0, 0, false);
    while let Some(item) = within(300, stream.next()).await {
        match item.unwrap() {
            SnapshotEvent::Chunk(chunk) => {
                chunks += 1;
                bytes.extend_from_slice(chunk.as_bytes());
            }
            SnapshotEvent::Progress {
                done,
                total,
                finished: last,
            } => {
                progress_events += 1;
                assert!(done <= total);
                finished |= last;
            }
        }
    }
    assert!(
        bytes.len() > 50_000_000,
        "snapshot is {} bytes",
        bytes.len()
    );
    assert!(chunks > 100, "{chunks} chunks");
    assert!(progress_events > 0 && finished);
    let snapshot = parse_whole_snapshot(&bytes);
    // padEnd makes cons strings: the snapshot holds their parts, and the last one must be there.
    assert!(snapshot.strings.iter().any(|s| s == "item-149999-"));
    // The session goes on working after the stream ended.
    assert_eq!(
        within(10, session.evaluate("keep.length")).await.unwrap(),
        json!(150000)
    );
}

#[tokio::test]
async fn snapshots_can_be_written_and_tracking_snapshots_streamed_too() {
    let node = start(IDLE).await;
    let session = &node.session;
    within(
        10,
        session.evaluate("globalThis.marker = { name: 'written-marker-' + 12345 }"),
    )
    .await
    .unwrap();
    let mut file = Vec::new();
    let size = within(
        120,
        session
            .heap_snapshot(TakeHeapSnapshot::default())
            .write_to(&mut file),
    )
    .await
    .unwrap();
    assert_eq!(size, file.len() as u64);
    let snapshot = parse_whole_snapshot(&file);
    assert!(snapshot.strings.iter().any(|s| s == "written-marker-12345"));

    within(
        10,
        session.call(&heap_profiler::StartTrackingHeapObjects {
            track_allocations: true,
        }),
    )
    .await
    .unwrap();
    within(
        10,
        session.evaluate("globalThis.tracked = Array.from({ length: 1000 }, (_, i) => ({ i }))"),
    )
    .await
    .unwrap();
    let bytes = within(
        120,
        session
            .stop_tracking_heap_objects(heap_profiler::StopTrackingHeapObjects::default())
            .collect_bytes(),
    )
    .await
    .unwrap();
    parse_whole_snapshot(&bytes);
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.contains("\"trace_function_infos\""));
}
