//! Shared by the examples: starts `node` with its inspector on 127.0.0.1 port 0, reads the
//! websocket URL from its stderr, connects, and waits until the script has run. Node is killed
//! when the returned `Child` is dropped, so it never outlives the example.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Runs `script` with `node -e`; the script must set `globalThis.ready = true` when it is done.
pub async fn launch(script: &str) -> Result<(Child, cdp::Session), Box<dyn std::error::Error>> {
    let mut child = Command::new("node")
        .arg("--inspect=127.0.0.1:0")
        .arg("-e")
        .arg(script)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start node: {e}"))?;
    let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    let find_url = async {
        while let Some(line) = lines.next_line().await? {
            if let Some(url) = cdp::parse_listening_line(&line) {
                return Ok(Some(url));
            }
            echo(&line);
        }
        Ok::<_, std::io::Error>(None)
    };
    let url = tokio::time::timeout(Duration::from_secs(30), find_url)
        .await
        .map_err(|_| "node printed no inspector URL within 30 s")??
        .ok_or("node exited before printing its inspector URL")?;
    // Keep draining stderr so node never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            echo(&line);
        }
    });
    let session = cdp::Session::connect(&url).await?;
    // Node prints its URL before bootstrap ends; code evaluated that early can find Node's
    // internals half set up, so wait for the script's own signal.
    loop {
        let ready = session.evaluate("globalThis.ready === true").await?;
        if ready == serde_json::Value::Bool(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((child, session))
}

/// Shows node's stderr, minus the inspector's own chatter.
fn echo(line: &str) {
    const CHATTER: [&str; 4] = [
        "For help, see:",
        "Debugger attached",
        "Debugger ending on",
        "Waiting for the debugger",
    ];
    if !CHATTER.iter().any(|c| line.starts_with(c)) {
        eprintln!("node: {line}");
    }
}
