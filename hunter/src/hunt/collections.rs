//! Follows arrays of numbers in the target, whose lengths a heap snapshot cannot show (their
//! elements live unboxed in one backing store that V8 grows in steps).
//!
//! At the baseline, one `Runtime.queryObjects` finds every array; those holding only numbers
//! are registered in the target as WeakRefs (so hunter keeps nothing alive, and the refs,
//! all made at once, never look like a leak). At each boundary one evaluation reads their
//! lengths. Finding objects by heap id instead costs V8 a marking of the whole heap per lookup
//! (about 120 ms each on a 50 MB heap, measured), which is why it is used only at the end, for
//! the few arrays that grew.

use std::time::Duration;

use cdp::Session;
use serde_json::{json, Value};

const OBJECT_GROUP: &str = "hunter-collections";
const REGISTRY: &str = "globalThis[Symbol.for('hunter.numberArrays')]";

/// Registers every array of numbers alive now, empty ones included: a leak may start from an
/// empty array.
pub async fn register_number_arrays(session: &Session, timeout: Duration) -> cdp::Result<()> {
    let registered = register(session, timeout).await;
    // The object group pins the query's results; release it whatever happened.
    release(session, timeout).await;
    registered
}

async fn register(session: &Session, timeout: Duration) -> cdp::Result<()> {
    let prototype = session
        .send_with_timeout(
            "Runtime.evaluate",
            json!({ "expression": "Array.prototype", "objectGroup": OBJECT_GROUP }),
            timeout,
        )
        .await?;
    let Some(prototype_id) = prototype
        .pointer("/result/objectId")
        .and_then(Value::as_str)
    else {
        return Ok(());
    };
    let arrays = session
        .send_with_timeout(
            "Runtime.queryObjects",
            json!({ "prototypeObjectId": prototype_id, "objectGroup": OBJECT_GROUP }),
            timeout,
        )
        .await?;
    let Some(arrays_id) = arrays.pointer("/objects/objectId").and_then(Value::as_str) else {
        return Ok(());
    };
    let register = format!(
        "function (min) {{
           const registry = [];
           for (const a of this) {{
             if (a.length >= min && a.every((x) => typeof x === 'number')) registry.push(new WeakRef(a));
           }}
           {REGISTRY} = registry;
         }}"
    );
    session
        .send_with_timeout(
            "Runtime.callFunctionOn",
            json!({
                "objectId": arrays_id,
                "functionDeclaration": register,
                "arguments": [{ "value": 0 }],
                "objectGroup": OBJECT_GROUP,
            }),
            timeout,
        )
        .await?;
    Ok(())
}

/// `(registry index, length)` of each registered array still alive.
pub async fn number_array_lengths(
    session: &Session,
    timeout: Duration,
) -> cdp::Result<Vec<(u64, u64)>> {
    let expression = format!(
        "(() => {{ const out = []; ({REGISTRY} || []).forEach((ref, i) => {{ const a = ref.deref(); if (a) out.push([i, a.length]); }}); return out; }})()"
    );
    let reply = session
        .send_with_timeout(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
            timeout,
        )
        .await?;
    Ok(reply
        .pointer("/result/value")
        .and_then(Value::as_array)
        .map(|pairs| {
            pairs
                .iter()
                .filter_map(|pair| Some((pair.get(0)?.as_u64()?, pair.get(1)?.as_u64()?)))
                .collect()
        })
        .unwrap_or_default())
}

/// The heap snapshot id of a registered array, while it is alive.
pub async fn heap_id_of(
    session: &Session,
    index: u64,
    timeout: Duration,
) -> cdp::Result<Option<u64>> {
    let found = session
        .send_with_timeout(
            "Runtime.evaluate",
            json!({
                "expression": format!("({REGISTRY} || [])[{index}]?.deref()"),
                "objectGroup": OBJECT_GROUP,
            }),
            timeout,
        )
        .await?;
    let heap_id = match found.pointer("/result/objectId").and_then(Value::as_str) {
        Some(object_id) => session
            .send_with_timeout(
                "HeapProfiler.getHeapObjectId",
                json!({ "objectId": object_id }),
                timeout,
            )
            .await?
            .get("heapSnapshotObjectId")
            .and_then(Value::as_str)
            .and_then(|id| id.parse().ok()),
        None => None,
    };
    release(session, timeout).await;
    Ok(heap_id)
}

/// Releases what hunter looked up in the target, so that it keeps nothing alive.
async fn release(session: &Session, timeout: Duration) {
    // Best effort: a target that cannot answer has nothing left to release.
    let _ = session
        .send_with_timeout(
            "Runtime.releaseObjectGroup",
            json!({ "objectGroup": OBJECT_GROUP }),
            timeout,
        )
        .await;
}
