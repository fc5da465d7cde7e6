//! `WS /ws/terminal` on a live gateway: a real shell on a real pseudo-terminal.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.
#![cfg(unix)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::ws::*;
use common::*;
use construct_agent::EchoAgent;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn live(max_sessions: usize) -> (Live, String) {
    let live = Live::start(Arc::new(EchoAgent), |l| {
        l.config.terminal.enabled = true;
        l.config.terminal.shell = Some("/bin/sh".into());
        l.config.terminal.max_sessions = max_sessions;
    })
    .await;
    let token = pair_device(&live, &["read", "terminal"]).await;
    (live, token)
}

/// Terminal output until `needle` appears (or the socket ends); the exit frame and close code too.
struct Output {
    text: String,
    exit: Option<Value>,
    close: Option<u16>,
}

async fn read_until(ws: &mut Ws, needle: &str) -> Output {
    let mut out = Output { text: String::new(), exit: None, close: None };
    let mut bytes = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !out.text.contains(needle) {
        let Ok(Some(message)) = tokio::time::timeout_at(deadline, ws.next()).await else { break };
        match message {
            Ok(Message::Binary(chunk)) => {
                // Every frame ends on a character boundary: each decodes on its own.
                out.text.push_str(std::str::from_utf8(&chunk).expect("frames end on character boundaries"));
                bytes.extend_from_slice(&chunk);
            }
            Ok(Message::Text(text)) => out.exit = Some(serde_json::from_str(&text).unwrap()),
            Ok(Message::Close(frame)) => {
                out.close = frame.map(|f| u16::from(f.code));
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    out
}

#[tokio::test]
async fn the_terminal_needs_its_scope_its_flag_and_a_friendly_origin() {
    let (live, token) = live(4).await;
    assert_eq!(refused(request(&live, "/ws/terminal")).await, 401);
    assert_eq!(refused(authed(&live, "/ws/terminal")).await, 403, "admin without the terminal scope");
    let mut foreign = with_token(&live, "/ws/terminal", &token);
    foreign.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    assert_eq!(refused(foreign).await, 403);
    assert_eq!(refused(with_token(&live, "/ws/terminal?cwd=/no/such/dir", &token)).await, 400);
    assert_eq!(refused(with_token(&live, "/ws/terminal?cols=0", &token)).await, 400);
    assert_eq!(refused(with_token(&live, "/ws/terminal?rows=5000", &token)).await, 400);

    let off = Live::start(Arc::new(EchoAgent), |_| {}).await;
    assert_eq!(refused(authed(&off, "/ws/terminal")).await, 404, "off by default: no route");
}

#[tokio::test]
async fn the_shell_runs_without_the_gateways_secrets_and_its_exit_closes_the_socket() {
    // The gateway's process has variables outside the allowlist (cargo sets this one for every test run);
    // they stand for the provider keys and tokens a real gateway holds.
    let held = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
    assert!(!held.is_empty());
    let (live, token) = live(4).await;
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().canonicalize().unwrap();
    let path = format!("/ws/terminal?cwd={}&cols=100&rows=30", cwd.display());
    let (mut ws, _) = open(with_token(&live, &path, &token)).await.unwrap();
    ws.send(Message::text("echo \"secret=[$CARGO_MANIFEST_DIR] term=$TERM dir=$(pwd)\"\n")).await.unwrap();
    let out = read_until(&mut ws, "dir=/").await;
    assert!(out.text.contains("secret=[]"), "{}", out.text);
    assert!(out.text.contains("term=xterm"), "a terminal type is set: {}", out.text);
    assert!(out.text.contains(&format!("dir={}", cwd.display())), "{}", out.text);

    // A resize frame resizes rather than being typed.
    ws.send(Message::text(json!({"type": "resize", "cols": 123, "rows": 45}).to_string())).await.unwrap();
    ws.send(Message::binary(b"stty size\n".to_vec())).await.unwrap();
    assert!(read_until(&mut ws, "45 123").await.text.contains("45 123"));

    // Multi-byte characters survive, whatever the read boundaries.
    ws.send(Message::text("printf 'caf\\303\\251 \\342\\202\\254 %.0s' $(seq 1 3000); echo EN\"\"D\n"))
        .await
        .unwrap();
    // The typed line is echoed too; only the shell's own output reads END.
    let out = read_until(&mut ws, "END\r\n").await;
    assert!(out.text.contains("café €"), "{}", &out.text[..200.min(out.text.len())]);
    assert!(!out.text.contains('\u{FFFD}'));

    ws.send(Message::text("exit 7\n")).await.unwrap();
    let out = read_until(&mut ws, "\u{0}never").await;
    assert_eq!(out.exit, Some(json!({"type": "exit", "code": 7})));
    assert_eq!(out.close, Some(1000));
}

#[tokio::test]
async fn closing_the_socket_kills_the_shell_and_sessions_are_capped() {
    let (live, token) = live(1).await;
    let (mut ws, _) = open(with_token(&live, "/ws/terminal", &token)).await.unwrap();
    ws.send(Message::text("echo pid=$$ o\"\"k\n")).await.unwrap();
    let out = read_until(&mut ws, " ok\r\n").await;
    // The prompt may precede the output on its line: take what follows `pid=` on the line ending ` ok`.
    let line = out.text.lines().map(str::trim_end).find(|l| l.ends_with(" ok") && l.contains("pid="));
    let line = line.unwrap_or_else(|| panic!("{:?}", out.text));
    let pid: i32 = line.rsplit("pid=").next().unwrap().trim_end_matches(" ok").parse().unwrap();
    assert_eq!(refused(with_token(&live, "/ws/terminal", &token)).await, 429, "one session at a time");
    ws.close(None).await.unwrap();
    drop(ws);
    let mut alive = true;
    for _ in 0..100 {
        alive = std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z ");
        if !alive {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!alive, "the shell {pid} was killed");
    // Its slot is free again.
    let (mut again, _) = open(with_token(&live, "/ws/terminal", &token)).await.unwrap();
    again.send(Message::text("echo again\n")).await.unwrap();
    assert!(read_until(&mut again, "again\r\n").await.text.contains("again"));
}

#[tokio::test]
async fn a_coding_tool_runs_connected_to_the_mcp_server_through_a_private_config() {
    use std::os::unix::fs::PermissionsExt;
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("claude");
    // Stands in for Claude Code: shows what it was given, then exits.
    std::fs::write(
        &fake,
        "#!/bin/sh\nprintf 'ARGS %s\\n' \"$*\"\ncfg=\"$2\"\nprintf 'MODES %s %s\\n' \"$(stat -c %a \"$cfg\")\" \"$(stat -c %a \"$(dirname \"$cfg\")\")\"\ncat \"$cfg\"\nprintf '\\nDIR %s\\nEND\\n' \"$(dirname \"$cfg\")\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let program = fake.display().to_string();
    let live = Live::start(Arc::new(EchoAgent), move |l| {
        l.config.terminal.enabled = true;
        l.config.terminal.tools = [("claude".to_owned(), program)].into();
    })
    .await;
    let token = pair_device(&live, &["read", "terminal"]).await;
    assert_eq!(refused(with_token(&live, "/ws/terminal?tool=vim", &token)).await, 400);

    let (mut ws, _) = open(with_token(&live, "/ws/terminal?tool=claude", &token)).await.unwrap();
    let out = read_until(&mut ws, "END").await;
    assert!(out.text.contains("ARGS --mcp-config /"), "{}", out.text);
    assert!(out.text.contains("MODES 600 700"), "the config is private: {}", out.text);
    assert!(
        out.text.contains("\"url\":\"http://127.0.0.1:") && out.text.contains("Bearer mcp_"),
        "{}",
        out.text
    );
    assert!(
        !out.text.lines().any(|l| l.starts_with("ARGS") && l.contains("mcp_")),
        "no token on the command line"
    );
    let dir = out.text.lines().find_map(|l| l.strip_prefix("DIR ")).unwrap().trim().to_owned();
    let end = read_until(&mut ws, "never printed").await;
    assert_eq!((end.exit.map(|e| e["code"].clone()), end.close), (Some(json!(0)), Some(1000)));
    assert!(!std::path::Path::new(&dir).exists(), "the private directory is removed when the tool exits");

    let without = Live::start(Arc::new(EchoAgent), |l| {
        l.config.terminal.enabled = true;
        l.config.mcp.enabled = false;
    })
    .await;
    let token = pair_device(&without, &["read", "terminal"]).await;
    assert_eq!(refused(with_token(&without, "/ws/terminal?tool=claude", &token)).await, 503);
}
