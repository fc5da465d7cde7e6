//! `WS /ws/terminal`: a shell on a pseudo-terminal. Mounted only with `[terminal] enabled = true`, and only
//! for principals holding the `terminal` scope (plus the Origin check every socket has, so no web page can
//! open a shell with the user's credentials).
//!
//! `GET /ws/terminal?cwd=&cols=&rows=`. The shell is `[terminal] shell`, else `$SHELL`, else `/bin/sh`, run
//! as a login shell in `cwd` (canonicalised; it must be an existing directory). Its environment is built
//! from an allowlist (PATH, HOME, LANG, LC_*, TERM, USER, LOGNAME, SHELL, TZ and `[terminal]
//! env_passthrough`): the gateway's own secrets never reach it (upstream's child inherited everything).
//!
//! Client frames: text or binary keystrokes; a text frame that is exactly `{"type":"resize","cols":C,
//! "rows":R}` (1..=1000 each) resizes instead. Output goes out as binary frames, each ending on a UTF-8
//! character boundary (upstream decoded each 4 KiB read lossily and mangled characters split between
//! reads). When the shell exits, a text frame `{"type":"exit","code":N}` is sent and the socket closes with
//! 1000; when the socket closes, the shell is killed. At most `[terminal] max_sessions` run at once. Opening
//! and closing are audited.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::response::Response;
use construct_auth::{Caller, Client};
use construct_core::audit::{AuditEvent, AuditKind, record};
use construct_core::config::TerminalConfig;
use construct_core::extract::Query;
use construct_core::{ApiError, ErrorCode};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::RealtimeState;
use crate::ws::{Frame, Outbox, PROTOCOL, close};

/// 400 for a `cwd` that does not exist or is not a directory.
pub const INVALID_CWD: ErrorCode = ErrorCode::new("INVALID_CWD");
/// 400 for `cols`/`rows` outside 1..=1000.
pub const INVALID_SIZE: ErrorCode = ErrorCode::new("INVALID_SIZE");
/// 400 for a `tool` that is not one of the coding agents.
pub const INVALID_TOOL: ErrorCode = ErrorCode::new("INVALID_TOOL");
/// 503 when a coding agent is asked for and the MCP server is not running.
pub const MCP_UNAVAILABLE: ErrorCode = ErrorCode::new("MCP_UNAVAILABLE");
/// 429 when `max_sessions` terminals are open.
pub const TOO_MANY_TERMINALS: ErrorCode = ErrorCode::new("TOO_MANY_TERMINALS");

/// Variables always passed to the shell (when the gateway has them), besides `LC_*`.
pub const ENV_ALLOWLIST: [&str; 8] = ["PATH", "HOME", "LANG", "TERM", "USER", "LOGNAME", "SHELL", "TZ"];
/// Largest accepted terminal dimension.
pub const MAX_DIMENSION: u16 = 1000;

/// What the terminal routes share.
pub struct Terminals {
    config: TerminalConfig,
    slots: Arc<Semaphore>,
}

impl Terminals {
    /// Terminals as `[terminal]` configures them.
    pub fn new(config: &TerminalConfig) -> Self {
        Self { config: config.clone(), slots: Arc::new(Semaphore::new(config.max_sessions.max(1))) }
    }

    /// The program to run.
    fn shell(&self) -> String {
        self.config
            .shell
            .clone()
            .or_else(|| std::env::var("SHELL").ok().filter(|s| s.starts_with('/')))
            .unwrap_or_else(|| "/bin/sh".to_owned())
    }

    /// The shell's environment: the allowlisted variables the gateway has, and a terminal type.
    pub fn environment(&self, vars: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = vars
            .filter(|(name, _)| {
                ENV_ALLOWLIST.contains(&name.as_str())
                    || name.starts_with("LC_")
                    || self.config.env_passthrough.iter().any(|p| p == name)
            })
            .collect();
        if !env.iter().any(|(name, _)| name == "TERM") {
            env.push(("TERM".into(), "xterm-256color".into()));
        }
        env.push(("COLORTERM".into(), "truecolor".into()));
        env
    }
}

/// Query of `GET /ws/terminal`.
#[derive(Debug, Default, Deserialize)]
pub struct TerminalQuery {
    /// Working directory.
    pub cwd: Option<String>,
    /// Columns (default 80).
    pub cols: Option<u16>,
    /// Rows (default 24).
    pub rows: Option<u16>,
    /// A coding agent to run instead of the shell: `claude`, `codex`, `opencode` or `gemini`, connected
    /// to this gateway's MCP server.
    pub tool: Option<String>,
}

fn check_size(cols: u16, rows: u16) -> bool {
    (1..=MAX_DIMENSION).contains(&cols) && (1..=MAX_DIMENSION).contains(&rows)
}

fn resolve_cwd(raw: Option<&str>) -> Result<Option<PathBuf>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let invalid =
        |why: &str| ApiError::new(StatusCode::BAD_REQUEST, INVALID_CWD, format!("Invalid cwd: {why}"));
    let path = std::fs::canonicalize(raw).map_err(|_| invalid("no such directory"))?;
    if !path.is_dir() {
        return Err(invalid("not a directory"));
    }
    Ok(Some(path))
}

pub(crate) async fn ws_terminal(
    State(state): State<RealtimeState>,
    Client(client): Client,
    Caller(principal): Caller,
    Query(query): Query<TerminalQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let terminals = Arc::clone(&state.0.terminals);
    let (cols, rows) = (query.cols.unwrap_or(80), query.rows.unwrap_or(24));
    if !check_size(cols, rows) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            INVALID_SIZE,
            format!("cols and rows must be between 1 and {MAX_DIMENSION}"),
        ));
    }
    let cwd = resolve_cwd(query.cwd.as_deref())?;
    let tool = query.tool.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if let Some(tool) = tool
        && !crate::coding_tools::TOOLS.contains(&tool)
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            INVALID_TOOL,
            "tool must be claude, codex, opencode or gemini",
        ));
    }
    let permit = state.0.ws.admit(&headers, client.key, "/ws/terminal")?;
    let slot = Arc::clone(&terminals.slots).try_acquire_owned().map_err(|_| {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, TOO_MANY_TERMINALS, "Too many terminals are open")
            .with_retry_after(5)
    })?;
    let actor = principal.id().to_owned();
    let launch = match tool {
        None => None,
        Some(tool) => {
            let grant = state.0.mcp.as_ref().and_then(|mcp| mcp.grant(&actor)).ok_or_else(|| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    MCP_UNAVAILABLE,
                    "The MCP server is not running",
                )
            })?;
            let program = terminals.config.tools.get(tool).cloned().unwrap_or_else(|| tool.to_owned());
            Some(crate::coding_tools::launch(tool, &program, &grant).map_err(|error| {
                tracing::error!(%error, "cannot prepare a coding tool");
                ApiError::internal()
            })?)
        }
    };
    let tool = tool.map(str::to_owned);
    Ok(state.0.ws.configure(upgrade, PROTOCOL).on_upgrade(move |socket| async move {
        let (reader, outbox) = state.0.ws.connect(socket, permit);
        let audit = |kind, detail| {
            let event = AuditEvent::new(kind).actor(&actor).client(client.key).detail(detail);
            record(&*state.0.audit, event)
        };
        let opened = json!({"cwd": cwd.as_ref().map(|p| p.display().to_string()), "tool": tool});
        audit(AuditKind::TerminalOpened, opened).await;
        let code = run(&terminals, reader, &outbox, (cwd, launch), (cols, rows), slot).await;
        audit(AuditKind::TerminalClosed, json!({"exit_code": code})).await;
    }))
}

/// Bytes of `pending` that form complete UTF-8 characters (invalid bytes count as complete: they are
/// passed through as they are). The rest, at most three bytes of an unfinished character, stays pending.
pub fn complete_prefix(pending: &[u8]) -> usize {
    let len = pending.len();
    // A character is at most four bytes: only the last three can start an unfinished one.
    for i in (len.saturating_sub(3)..len).rev() {
        let byte = pending[i];
        if byte & 0xC0 == 0x80 {
            continue; // a continuation byte: its lead is further back
        }
        let needed = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if len - i < needed { i } else { len };
    }
    len
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Resize {
    #[serde(rename = "type")]
    kind: String,
    cols: u16,
    rows: u16,
}

/// Runs the shell until it exits or the socket closes; returns its exit code, if it exited.
#[cfg(unix)]
async fn run(
    terminals: &Terminals,
    mut reader: crate::ws::Reader,
    outbox: &Outbox,
    (cwd, launch): (Option<PathBuf>, Option<crate::coding_tools::Launch>),
    (cols, rows): (u16, u16),
    _slot: OwnedSemaphorePermit,
) -> Option<i32> {
    // A coding tool's private directory lives as long as this function: until the tool exits.
    let spawned = (|| {
        let (pty, pts) = pty_process::open()?;
        pty.resize(pty_process::Size::new(rows, cols))?;
        let (program, args, extra) = match &launch {
            Some(launch) => (launch.program.clone(), launch.args.clone(), launch.env.clone()),
            None => (terminals.shell(), vec!["-l".to_owned()], Vec::new()),
        };
        let mut command = pty_process::Command::new(program)
            .args(args)
            .env_clear()
            .envs(terminals.environment(std::env::vars()))
            .envs(extra)
            .kill_on_drop(true);
        if let Some(dir) = cwd.clone().or_else(|| std::env::var_os("HOME").map(PathBuf::from)) {
            command = command.current_dir(dir);
        }
        let child = command.spawn(pts)?;
        Ok::<_, pty_process::Error>((pty, child))
    })();
    let (pty, mut child) = match spawned {
        Ok(spawned) => spawned,
        Err(error) => {
            tracing::error!(%error, "cannot start a terminal");
            outbox.close(close::INTERNAL, "cannot start the shell").await;
            return None;
        }
    };
    let (mut output, mut input) = pty.into_split();
    let mut buffer = vec![0u8; 8192];
    let mut pending: Vec<u8> = Vec::new();
    let mut exit = None;
    loop {
        tokio::select! {
            read = output.read(&mut buffer) => match read {
                Ok(n) if n > 0 => {
                    pending.extend_from_slice(&buffer[..n]);
                    let complete = complete_prefix(&pending);
                    if complete > 0 {
                        let chunk: Vec<u8> = pending.drain(..complete).collect();
                        // Terminal output must not be lost: wait for room rather than skip.
                        if outbox.control_message(Message::Binary(chunk.into())).await.is_err() {
                            break;
                        }
                    }
                }
                // EOF or EIO: the shell (and everything holding the terminal) is gone.
                _ => {
                    exit = child.wait().await.ok().and_then(|status| status.code().or(Some(-1)));
                    break;
                }
            },
            frame = reader.next() => match frame {
                Some(Frame::Binary(bytes)) => {
                    if input.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                Some(Frame::Text(text)) => {
                    match serde_json::from_str::<Resize>(&text) {
                        Ok(resize) if resize.kind == "resize" => {
                            if check_size(resize.cols, resize.rows) {
                                let _ = input.resize(pty_process::Size::new(resize.rows, resize.cols));
                            }
                        }
                        _ => {
                            if input.write_all(text.as_bytes()).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                None => break,
            },
        }
    }
    if let Some(code) = exit {
        if !pending.is_empty() {
            let _ = outbox.control_message(Message::Binary(std::mem::take(&mut pending).into())).await;
        }
        let _ = outbox.control(&json!({"type": "exit", "code": code})).await;
        outbox.close(close::NORMAL, &format!("shell exited with status {code}")).await;
    } else {
        // The socket went away first: the shell goes too.
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    exit
}

#[cfg(not(unix))]
async fn run(
    _: &Terminals,
    _: crate::ws::Reader,
    outbox: &Outbox,
    _: (Option<PathBuf>, Option<crate::coding_tools::Launch>),
    _: (u16, u16),
    _: OwnedSemaphorePermit,
) -> Option<i32> {
    outbox.close(close::INTERNAL, "terminals need a Unix host").await;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_boundaries() {
        let euro = "€".as_bytes(); // three bytes
        assert_eq!(complete_prefix(b"abc"), 3);
        assert_eq!(complete_prefix(&[b'a', euro[0]]), 1, "an unfinished character waits");
        assert_eq!(complete_prefix(&[b'a', euro[0], euro[1]]), 1);
        assert_eq!(complete_prefix(&[b'a', euro[0], euro[1], euro[2]]), 4);
        assert_eq!(complete_prefix(&[0xff, b'a']), 2, "invalid bytes pass through");
        assert_eq!(complete_prefix(&[0xff, b'a', euro[0]]), 2, "and an unfinished tail still waits");
    }

    #[test]
    fn only_allowlisted_variables_reach_the_shell() {
        let terminals = Terminals::new(&TerminalConfig {
            env_passthrough: vec!["EDITOR".into()],
            ..TerminalConfig::default()
        });
        let vars = [
            ("PATH", "/bin"),
            ("LC_ALL", "C"),
            ("EDITOR", "vi"),
            ("OPENAI_API_KEY", "sk-secret"),
            ("CONSTRUCT_PROVIDER_API_KEY", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let env = terminals.environment(vars);
        let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["PATH", "LC_ALL", "EDITOR", "TERM", "COLORTERM"]);
    }
}
