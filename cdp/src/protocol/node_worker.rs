//! The `NodeWorker` domain: worker threads' inspector sessions, tunnelled through the main
//! connection. `Session::attach_workers` builds on it; these are the raw commands and events.

use serde::{Deserialize, Serialize};

use super::{Command, Empty};

/// `NodeWorker.enable`: reports every worker (existing and future) with `attachedToWorker`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Enable {
    /// Make new workers wait until `Runtime.runIfWaitingForDebugger` reaches their session.
    pub wait_for_debugger_on_start: bool,
}

impl Command for Enable {
    const METHOD: &'static str = "NodeWorker.enable";
    type Response = Empty;
}

/// `NodeWorker.sendMessageToWorker`: one raw protocol message (JSON text) for a worker.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessageToWorker {
    pub message: String,
    pub session_id: String,
}

impl Command for SendMessageToWorker {
    const METHOD: &'static str = "NodeWorker.sendMessageToWorker";
    type Response = Empty;
}

/// `NodeWorker.detach`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Detach {
    pub session_id: String,
}

impl Command for Detach {
    const METHOD: &'static str = "NodeWorker.detach";
    type Response = Empty;
}

/// What Node says about a worker thread.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct WorkerInfo {
    pub worker_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub url: String,
}

/// Event `NodeWorker.attachedToWorker`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AttachedToWorker {
    pub session_id: String,
    pub worker_info: WorkerInfo,
    pub waiting_for_debugger: bool,
}

/// Event `NodeWorker.detachedFromWorker`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DetachedFromWorker {
    pub session_id: String,
}
