//! Follows collections of numbers in the target — Arrays, Maps and Sets holding only numbers —
//! whose sizes a heap snapshot cannot show: small integers and doubles are stored unboxed, so
//! no edge leads to them (an array's elements live in one backing store that V8 grows in
//! steps; a hash table's entries are slots of one array).
//!
//! At the baseline, one `Runtime.queryObjects` on `Object.prototype` finds every object (the
//! query costs a full heap walk whatever the prototype, so one query serves all three kinds);
//! those Arrays, Maps and Sets holding only numbers are registered in the target as WeakRefs (so
//! hunter keeps nothing alive, and the refs, all made at once, never look like a leak). At each
//! boundary one evaluation reads their sizes. Finding objects by heap id instead costs V8 a
//! marking of the whole heap per lookup (about 120 ms each on a 50 MB heap, measured), which
//! is why it is used only at the end, for the few collections that grew.

use std::time::Duration;

use cdp::Session;
use serde_json::{json, Value};

const OBJECT_GROUP: &str = "hunter-collections";
const REGISTRY: &str = "globalThis[Symbol.for('hunter.numberCollections')]";
/// Arrays longer than this are not followed (see the registration function).
const MAX_ARRAY_LENGTH: u64 = 1 << 25;

/// Registers every Array, Map and Set holding only numbers alive now, empty ones included (a
/// leak may start from an empty collection). Returns each registered collection's kind
/// (`Array`, `Map` or `Set`), by registry index.
pub async fn register_number_collections(
    session: &Session,
    timeout: Duration,
) -> cdp::Result<Vec<&'static str>> {
    let registered = register(session, timeout).await;
    // The object group pins the query's results; release it whatever happened.
    release(session, timeout).await;
    registered
}

async fn register(session: &Session, timeout: Duration) -> cdp::Result<Vec<&'static str>> {
    let prototype = session
        .send_with_timeout(
            "Runtime.evaluate",
            json!({ "expression": "Object.prototype", "objectGroup": OBJECT_GROUP }),
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
    // Kinds come back as one letter per collection (A, M, S): thousands of small internal
    // collections are registered, and their kinds should not cost a JSON array of strings.
    // Only the engine's own Array/Map/Set methods are called, taken from the prototypes, so a
    // user's subclass overriding them is never run.
    let register = format!(
        "function () {{
           const isArray = Array.isArray, every = Array.prototype.every;
           const mapEntries = Map.prototype.entries, setValues = Set.prototype.values;
           const number = (x) => typeof x === 'number';
           const refs = [];
           let kinds = '';
           for (let i = 0; i < this.length; i++) {{
             const o = this[i];
             try {{
               if (isArray(o)) {{
                 // `every` visits every index up to the length: a huge sparse array would
                 // take minutes. Dense arrays of numbers this long are gigabytes.
                 if (o.length <= {MAX_ARRAY_LENGTH} && every.call(o, number)) {{ refs.push(new WeakRef(o)); kinds += 'A'; }}
               }} else if (o instanceof Map) {{
                 let only = true;
                 for (const [k, v] of mapEntries.call(o)) if (!number(k) || !number(v)) {{ only = false; break; }}
                 if (only) {{ refs.push(new WeakRef(o)); kinds += 'M'; }}
               }} else if (o instanceof Set) {{
                 let only = true;
                 for (const k of setValues.call(o)) if (!number(k)) {{ only = false; break; }}
                 if (only) {{ refs.push(new WeakRef(o)); kinds += 'S'; }}
               }}
             }} catch (_) {{ /* an exotic object: not followed */ }}
           }}
           {REGISTRY} = refs;
           return kinds;
         }}"
    );
    let reply = session
        .send_with_timeout(
            "Runtime.callFunctionOn",
            json!({
                "objectId": objects_id,
                "functionDeclaration": register,
                "objectGroup": OBJECT_GROUP,
                "returnByValue": true,
            }),
            timeout,
        )
        .await?;
    let kinds = reply
        .pointer("/result/value")
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(kinds
        .chars()
        .map(|kind| match kind {
            'M' => "Map",
            'S' => "Set",
            _ => "Array",
        })
        .collect())
}

/// `(registry index, size)` of each registered collection still alive: an Array's length, a
/// Map's or Set's number of entries.
pub async fn number_collection_sizes(
    session: &Session,
    timeout: Duration,
) -> cdp::Result<Vec<(u64, u64)>> {
    let expression = format!(
        "(() => {{
           const size = (p) => Object.getOwnPropertyDescriptor(p, 'size').get;
           const mapSize = size(Map.prototype), setSize = size(Set.prototype);
           const refs = {REGISTRY} || [], out = [];
           for (let i = 0; i < refs.length; i++) {{
             const c = refs[i].deref();
             if (!c) continue;
             // Brand checks, not prototypes: a Map whose prototype was changed is still a Map
             // to its own getter. One collection that fails to answer costs only its size.
             try {{
               let n;
               if (Array.isArray(c)) n = c.length;
               else try {{ n = mapSize.call(c); }} catch (_) {{ n = setSize.call(c); }}
               out.push([i, n]);
             }} catch (_) {{}}
           }}
           return out;
         }})()"
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

/// The heap snapshot id of a registered collection, while it is alive.
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
