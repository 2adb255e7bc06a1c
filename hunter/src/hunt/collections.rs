//! Reads the sizes of a heap's Arrays, Maps and Sets from inside the target, for
//! [`CollectionTracker`](crate::analyse::CollectionTracker).
//!
//! `Runtime.queryObjects` hands back every object with a given prototype; a function run on
//! that list gives each collection a stable number (kept in a WeakMap, so hunter keeps nothing
//! alive) and returns the sizes of those big enough to matter. At the end,
//! [`heap_ids`] turns the numbers of the collections that grew into heap snapshot ids, so the
//! report can show what keeps them.

use std::time::Duration;

use cdp::Session;
use serde_json::{json, Value};

use crate::analyse::CollectionSample;

/// Collections smaller than this at a boundary are not followed: every leak worth reporting
/// passes it within a few iterations, and skipping the many tiny arrays keeps sampling cheap.
const MIN_ENTRIES: u64 = 8;

/// Runs in the target with `this` = the array of all objects of one prototype.
/// The state lives under a registered symbol so that every boundary of one heap shares it.
const SAMPLE_FN: &str = r#"function (kind, minEntries) {
  const key = Symbol.for('hunter.collections');
  const state = globalThis[key] || (globalThis[key] = { ids: new WeakMap(), next: 1 });
  const out = [];
  for (const c of this) {
    const size = kind === 'Array' ? c.length : c.size;
    if (typeof size !== 'number' || size < minEntries) continue;
    let id = state.ids.get(c);
    if (id === undefined) { id = state.next++; state.ids.set(c, id); }
    out.push([id, size]);
  }
  return out;
}"#;

const OBJECT_GROUP: &str = "hunter-collections";

/// Sizes of every Array, Map and Set with at least [`MIN_ENTRIES`] entries.
pub async fn sample(session: &Session, timeout: Duration) -> cdp::Result<Vec<CollectionSample>> {
    let mut samples = Vec::new();
    for kind in ["Array", "Map", "Set"] {
        let found = sample_kind(session, kind, timeout).await;
        // The object group pins the query's results; release it whatever happened.
        let _ = session
            .send_with_timeout(
                "Runtime.releaseObjectGroup",
                json!({ "objectGroup": OBJECT_GROUP }),
                timeout,
            )
            .await;
        samples.extend(found?);
    }
    Ok(samples)
}

async fn sample_kind(
    session: &Session,
    kind: &str,
    timeout: Duration,
) -> cdp::Result<Vec<CollectionSample>> {
    let prototype = session
        .send_with_timeout(
            "Runtime.evaluate",
            json!({ "expression": format!("{kind}.prototype"), "objectGroup": OBJECT_GROUP }),
            timeout,
        )
        .await?;
    let Some(prototype_id) = prototype
        .pointer("/result/objectId")
        .and_then(Value::as_str)
    else {
        return Ok(Vec::new());
    };
    let objects = session
        .send_with_timeout(
            "Runtime.queryObjects",
            json!({ "prototypeObjectId": prototype_id, "objectGroup": OBJECT_GROUP }),
            timeout,
        )
        .await?;
    let Some(objects_id) = objects.pointer("/objects/objectId").and_then(Value::as_str) else {
        return Ok(Vec::new());
    };
    let reply = session
        .send_with_timeout(
            "Runtime.callFunctionOn",
            json!({
                "objectId": objects_id,
                "functionDeclaration": SAMPLE_FN,
                "arguments": [{ "value": kind }, { "value": MIN_ENTRIES }],
                "returnByValue": true,
                "objectGroup": OBJECT_GROUP,
            }),
            timeout,
        )
        .await?;
    let pairs = reply
        .pointer("/result/value")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(pairs
        .iter()
        .filter_map(|pair| {
            Some(CollectionSample {
                id: pair.get(0)?.as_u64()?,
                kind: kind.to_owned(),
                size: pair.get(1)?.as_u64()?,
            })
        })
        .collect())
}

/// The heap snapshot ids of the collections hunter numbered `ids`, where still alive.
pub async fn heap_ids(
    session: &Session,
    ids: &[u64],
    timeout: Duration,
) -> cdp::Result<Vec<(u64, u64)>> {
    let mut found = Vec::new();
    for &id in ids {
        // The WeakMap cannot be walked from its values, so the collection is found again by
        // querying each prototype and matching the number.
        for kind in ["Array", "Map", "Set"] {
            if let Some(heap_id) = heap_id_of(session, kind, id, timeout).await? {
                found.push((id, heap_id));
                break;
            }
        }
    }
    let _ = session
        .send_with_timeout(
            "Runtime.releaseObjectGroup",
            json!({ "objectGroup": OBJECT_GROUP }),
            timeout,
        )
        .await;
    Ok(found)
}

async fn heap_id_of(
    session: &Session,
    kind: &str,
    id: u64,
    timeout: Duration,
) -> cdp::Result<Option<u64>> {
    let prototype = session
        .send_with_timeout(
            "Runtime.evaluate",
            json!({ "expression": format!("{kind}.prototype"), "objectGroup": OBJECT_GROUP }),
            timeout,
        )
        .await?;
    let Some(prototype_id) = prototype
        .pointer("/result/objectId")
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    let objects = session
        .send_with_timeout(
            "Runtime.queryObjects",
            json!({ "prototypeObjectId": prototype_id, "objectGroup": OBJECT_GROUP }),
            timeout,
        )
        .await?;
    let Some(objects_id) = objects.pointer("/objects/objectId").and_then(Value::as_str) else {
        return Ok(None);
    };
    let found = session
        .send_with_timeout(
            "Runtime.callFunctionOn",
            json!({
                "objectId": objects_id,
                "functionDeclaration": "function (id) { const s = globalThis[Symbol.for('hunter.collections')]; return s ? this.find(c => s.ids.get(c) === id) : undefined; }",
                "arguments": [{ "value": id }],
                "objectGroup": OBJECT_GROUP,
            }),
            timeout,
        )
        .await?;
    let Some(object_id) = found.pointer("/result/objectId").and_then(Value::as_str) else {
        return Ok(None);
    };
    let heap = session
        .send_with_timeout(
            "HeapProfiler.getHeapObjectId",
            json!({ "objectId": object_id }),
            timeout,
        )
        .await?;
    Ok(heap
        .get("heapSnapshotObjectId")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok()))
}
