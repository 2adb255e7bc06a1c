//! Finding inspectors: the `Debugger listening on ws://…` line Node prints on stderr, and the
//! `/json/list` HTTP endpoint.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One debuggable target from `/json/list`. Node's entries have `type: "node"`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TargetInfo {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub url: String,
    pub description: String,
    pub web_socket_debugger_url: Option<String>,
    pub devtools_frontend_url: Option<String>,
    pub favicon_url: Option<String>,
}

/// Lists the targets of the inspector at `host_port` (e.g. `127.0.0.1:9229`).
pub async fn list_targets(host_port: &str) -> Result<Vec<TargetInfo>> {
    let url = format!("http://{host_port}/json/list");
    let context = format!("listing targets at {url}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::transport(context.clone(), e))?;
    let response = client
        .get(&url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| Error::transport(context.clone(), e))?;
    let body = response
        .bytes()
        .await
        .map_err(|e| Error::transport(context.clone(), e))?;
    serde_json::from_slice(&body).map_err(|e| Error::decode(None, context, e))
}

/// The websocket URL in Node's `Debugger listening on ws://127.0.0.1:port/uuid` stderr line.
pub fn parse_listening_line(line: &str) -> Option<String> {
    const PREFIX: &str = "Debugger listening on ";
    let start = line.find(PREFIX)? + PREFIX.len();
    let url = line[start..].split_whitespace().next()?;
    (url.starts_with("ws://") || url.starts_with("wss://")).then(|| url.to_string())
}

/// The `host:port` part of an inspector's websocket URL, for [`list_targets`].
pub fn host_port(ws_url: &str) -> Option<&str> {
    let rest = ws_url
        .strip_prefix("ws://")
        .or_else(|| ws_url.strip_prefix("wss://"))?;
    let host_port = rest.split('/').next()?;
    (!host_port.is_empty()).then_some(host_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_line_gives_the_url() {
        assert_eq!(
            parse_listening_line(
                "Debugger listening on ws://127.0.0.1:39617/5e3c2f6a-8f4b-4b8e-9c1a-0d2e3f4a5b6c"
            )
            .as_deref(),
            Some("ws://127.0.0.1:39617/5e3c2f6a-8f4b-4b8e-9c1a-0d2e3f4a5b6c")
        );
        assert_eq!(
            parse_listening_line("Debugger listening on ws://127.0.0.1:1/x\r").as_deref(),
            Some("ws://127.0.0.1:1/x")
        );
        assert_eq!(
            parse_listening_line("For help, see: https://nodejs.org/en/docs/inspector"),
            None
        );
        assert_eq!(parse_listening_line("Debugger listening on "), None);
        assert_eq!(parse_listening_line("Debugger listening on http://x"), None);
    }

    #[test]
    fn host_port_of_a_ws_url() {
        assert_eq!(host_port("ws://127.0.0.1:9229/abc"), Some("127.0.0.1:9229"));
        assert_eq!(host_port("http://127.0.0.1:9229/abc"), None);
        assert_eq!(host_port("ws:///abc"), None);
    }
}
