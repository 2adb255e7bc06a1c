//! The `Runtime` domain: evaluating code, heap usage, console events, resuming a target that
//! waits for the debugger.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{unit_command, Command, Empty};
use crate::error::{Error, JsException, Result};

unit_command!(
    /// `Runtime.enable`: starts `executionContextCreated` and `consoleAPICalled` events.
    Enable,
    "Runtime.enable",
    Empty
);
unit_command!(
    /// `Runtime.runIfWaitingForDebugger`: lets a target started with `--inspect-brk` (or a
    /// worker attached with `waitForDebuggerOnStart`) run.
    RunIfWaitingForDebugger,
    "Runtime.runIfWaitingForDebugger",
    Empty
);
unit_command!(
    /// `Runtime.getHeapUsage`.
    GetHeapUsage,
    "Runtime.getHeapUsage",
    HeapUsage
);

/// Reply of `Runtime.getHeapUsage`, in bytes.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HeapUsage {
    pub used_size: f64,
    pub total_size: f64,
    /// Newer V8 only.
    pub embedder_heap_used_size: Option<f64>,
    /// Newer V8 only.
    pub backing_storage_size: Option<f64>,
}

/// `Runtime.evaluate`. A thrown exception comes back as an error with
/// [`Error::is_exception`] and the JS message and stack in [`Error::exception`].
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluate {
    pub expression: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_group: Option<String>,
    /// Makes `require` and the console helpers available to the expression.
    #[serde(rename = "includeCommandLineAPI")]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub include_command_line_api: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_id: Option<i64>,
    /// Answer with the value as JSON instead of a handle.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub return_by_value: bool,
    /// Wait for a returned promise and answer with what it settles to.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub await_promise: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub generate_preview: bool,
    /// V8-side limit in milliseconds (the connection's own per-call timeout is separate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
}

impl Evaluate {
    pub fn new(expression: impl Into<String>) -> Evaluate {
        Evaluate {
            expression: expression.into(),
            ..Evaluate::default()
        }
    }

    pub fn await_promise(mut self) -> Evaluate {
        self.await_promise = true;
        self
    }

    pub fn return_by_value(mut self) -> Evaluate {
        self.return_by_value = true;
        self
    }

    pub fn include_command_line_api(mut self) -> Evaluate {
        self.include_command_line_api = true;
        self
    }
}

impl Command for Evaluate {
    const METHOD: &'static str = "Runtime.evaluate";
    type Response = EvaluateResult;

    fn check(response: EvaluateResult) -> Result<EvaluateResult> {
        match response.exception_details {
            Some(details) => Err(Error::js_exception(
                Self::METHOD,
                JsException::from_details(details),
            )),
            None => Ok(response),
        }
    }
}

/// Reply of `Runtime.evaluate`. After [`Command::check`], `exception_details` is always `None`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EvaluateResult {
    pub result: RemoteObject,
    pub exception_details: Option<ExceptionDetails>,
}

/// A JavaScript value as the protocol describes it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoteObject {
    /// `object`, `function`, `undefined`, `string`, `number`, `boolean`, `symbol`, `bigint`.
    #[serde(rename = "type")]
    pub kind: String,
    pub subtype: Option<String>,
    pub class_name: Option<String>,
    /// The value itself, for primitives and for `returnByValue`.
    pub value: Option<Value>,
    /// `NaN`, `Infinity`, `-0`, bigints.
    pub unserializable_value: Option<String>,
    pub description: Option<String>,
    pub object_id: Option<String>,
}

/// Why an evaluation threw.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ExceptionDetails {
    pub exception_id: i64,
    pub text: String,
    pub line_number: i64,
    pub column_number: i64,
    pub script_id: Option<String>,
    pub url: Option<String>,
    pub stack_trace: Option<Value>,
    pub exception: Option<RemoteObject>,
    pub execution_context_id: Option<i64>,
}

/// Event `Runtime.consoleAPICalled`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ConsoleApiCalled {
    /// `log`, `warn`, `error`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub args: Vec<RemoteObject>,
    pub execution_context_id: i64,
    pub timestamp: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluate_params_use_the_protocol_names() {
        let params = serde_json::to_value(
            Evaluate::new("1")
                .await_promise()
                .return_by_value()
                .include_command_line_api(),
        )
        .unwrap();
        assert_eq!(
            params,
            serde_json::json!({
                "expression": "1",
                "awaitPromise": true,
                "returnByValue": true,
                "includeCommandLineAPI": true,
            })
        );
    }
}
