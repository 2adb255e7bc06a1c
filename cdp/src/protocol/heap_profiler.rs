//! The `HeapProfiler` domain: garbage collection, heap snapshots (streamed as chunk events,
//! see `Session::heap_snapshot`), allocation tracking and sampling.

use serde::{Deserialize, Serialize};

use super::{unit_command, Command, Empty};
use crate::protocol::runtime::RemoteObject;

unit_command!(
    /// `HeapProfiler.enable`.
    Enable,
    "HeapProfiler.enable",
    Empty
);
unit_command!(
    /// `HeapProfiler.disable`.
    Disable,
    "HeapProfiler.disable",
    Empty
);
unit_command!(
    /// `HeapProfiler.collectGarbage`: a full GC. Node never answers it once the process waits
    /// for the debugger to disconnect at exit, so give it a timeout.
    CollectGarbage,
    "HeapProfiler.collectGarbage",
    Empty
);
unit_command!(
    /// `HeapProfiler.stopSampling`.
    StopSampling,
    "HeapProfiler.stopSampling",
    SamplingProfileReply
);
unit_command!(
    /// `HeapProfiler.getSamplingProfile`: live objects' allocation sites, sampling continues.
    GetSamplingProfile,
    "HeapProfiler.getSamplingProfile",
    SamplingProfileReply
);

/// `HeapProfiler.takeHeapSnapshot`. Send it through `Session::heap_snapshot`, which collects the
/// `addHeapSnapshotChunk` events that carry the snapshot.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TakeHeapSnapshot {
    /// Emit `reportHeapSnapshotProgress` events.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub report_progress: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub treat_global_objects_as_roots: Option<bool>,
    /// Record the values of numbers (heap numbers and smis) in the snapshot.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub capture_numeric_value: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub expose_internals: bool,
}

impl Command for TakeHeapSnapshot {
    const METHOD: &'static str = "HeapProfiler.takeHeapSnapshot";
    type Response = Empty;
}

/// `HeapProfiler.startTrackingHeapObjects`. With `track_allocations`, later snapshots carry the
/// allocation stack of every object.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartTrackingHeapObjects {
    pub track_allocations: bool,
}

impl Command for StartTrackingHeapObjects {
    const METHOD: &'static str = "HeapProfiler.startTrackingHeapObjects";
    type Response = Empty;
}

/// `HeapProfiler.stopTrackingHeapObjects`. V8 takes a snapshot when tracking stops and streams
/// it as chunk events, so send it through `Session::stop_tracking_heap_objects`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StopTrackingHeapObjects {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub report_progress: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub treat_global_objects_as_roots: Option<bool>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub capture_numeric_value: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub expose_internals: bool,
}

impl Command for StopTrackingHeapObjects {
    const METHOD: &'static str = "HeapProfiler.stopTrackingHeapObjects";
    type Response = Empty;
}

/// `HeapProfiler.startSampling`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartSampling {
    /// Average bytes between samples (V8's default: 32768).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling_interval: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_depth: Option<f64>,
    #[serde(rename = "includeObjectsCollectedByMajorGC")]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub include_objects_collected_by_major_gc: bool,
    #[serde(rename = "includeObjectsCollectedByMinorGC")]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub include_objects_collected_by_minor_gc: bool,
}

impl Command for StartSampling {
    const METHOD: &'static str = "HeapProfiler.startSampling";
    type Response = Empty;
}

/// Reply of `stopSampling` and `getSamplingProfile`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SamplingProfileReply {
    pub profile: SamplingHeapProfile,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SamplingHeapProfile {
    pub head: SamplingHeapProfileNode,
    pub samples: Vec<SamplingHeapProfileSample>,
}

/// One node of the allocation call tree.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SamplingHeapProfileNode {
    pub call_frame: CallFrame,
    /// Bytes allocated by this function itself that are still alive.
    pub self_size: f64,
    pub id: u64,
    pub children: Vec<SamplingHeapProfileNode>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SamplingHeapProfileSample {
    pub size: f64,
    pub node_id: u64,
    pub ordinal: f64,
}

/// A JavaScript stack frame (0-based line and column).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct CallFrame {
    pub function_name: String,
    pub script_id: String,
    pub url: String,
    pub line_number: i64,
    pub column_number: i64,
}

/// `HeapProfiler.getHeapObjectId`: the snapshot node id of a live object.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetHeapObjectId {
    /// A `RemoteObject::object_id`.
    pub object_id: String,
}

impl Command for GetHeapObjectId {
    const METHOD: &'static str = "HeapProfiler.getHeapObjectId";
    type Response = HeapObjectIdReply;
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HeapObjectIdReply {
    pub heap_snapshot_object_id: String,
}

/// `HeapProfiler.getObjectByHeapObjectId`: a handle on the live object behind a snapshot id.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetObjectByHeapObjectId {
    pub object_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_group: Option<String>,
}

impl Command for GetObjectByHeapObjectId {
    const METHOD: &'static str = "HeapProfiler.getObjectByHeapObjectId";
    type Response = ObjectReply;
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ObjectReply {
    pub result: RemoteObject,
}

/// Event `HeapProfiler.addHeapSnapshotChunk`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AddHeapSnapshotChunk {
    pub chunk: String,
}

/// Event `HeapProfiler.reportHeapSnapshotProgress`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReportHeapSnapshotProgress {
    pub done: u64,
    pub total: u64,
    pub finished: Option<bool>,
}
