//! What every WebSocket route shares: admission before the upgrade, and a connection with a bounded,
//! lag-aware outbox, server pings and an idle timeout.
//!
//! Admission (before the upgrade, so a refusal is a plain HTTP error): the route group's guard has already
//! authenticated the caller; here the `Origin` is checked (a browser page from another site must not drive a
//! socket with the user's credentials: cross-site WebSocket hijacking) and the per-client connection cap is
//! taken. The negotiated subprotocol is `construct.v1` (nodes: `construct.nodes.v1`) when offered, never a
//! `bearer.` entry.
//!
//! A connection is split: a writer task owns the sink and sends the outbox, a Ping every `ping_interval`,
//! and a final Close frame; the reader yields client frames and ends the connection after `idle_timeout`
//! without hearing from the client (its Pongs count). Streamed frames that find the outbox full are
//! counted, and the client is told `{"type":"lagged","missed":n}` before the next frame that fits, so it
//! can resynchronise: nothing is dropped silently. Control frames (`done`, `error`, ...) wait for room.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::ClientKey;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use construct_core::config::{GatewayConfig, WebSocketConfig, normalize_origin};
use construct_core::metrics::{ConnectionGuard, Metrics};
use construct_core::{ApiError, ErrorCode};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, StatusCode, header};
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The subprotocol of the chat, canvas and terminal sockets.
pub const PROTOCOL: &str = "construct.v1";
/// The subprotocol of the nodes socket.
pub const NODES_PROTOCOL: &str = "construct.nodes.v1";

/// 403 when a browser page from a foreign origin tries to open a socket.
pub const ORIGIN_NOT_ALLOWED: ErrorCode = ErrorCode::new("ORIGIN_NOT_ALLOWED");
/// 429 when a client already holds `max_connections_per_client` sockets.
pub const TOO_MANY_CONNECTIONS: ErrorCode = ErrorCode::new("TOO_MANY_CONNECTIONS");

/// Close codes with a meaning a client can act on.
pub mod close {
    /// The conversation is over.
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down, or the client went quiet.
    pub const GOING_AWAY: u16 = 1001;
    /// A policy was violated (authentication, a frame the protocol does not allow).
    pub const POLICY: u16 = 1008;
    /// A message was larger than allowed.
    pub const TOO_BIG: u16 = 1009;
    /// The server failed.
    pub const INTERNAL: u16 = 1011;
}

/// Frames waiting to be written, per connection.
pub const OUTBOX_CAPACITY: usize = 256;
/// Initial read and write buffer of a socket, in bytes.
pub const SOCKET_BUFFER: usize = 4 * 1024;

/// The shared admission policy and connection counts.
#[derive(Clone)]
pub struct WsPolicy(Arc<PolicyInner>);

struct PolicyInner {
    settings: WebSocketConfig,
    allowed_origins: Vec<String>,
    open: Mutex<HashMap<ClientKey, usize>>,
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
}

impl WsPolicy {
    /// The policy of `[gateway]`; sockets close with 1001 when `shutdown` is cancelled; open sockets are
    /// counted in `metrics`.
    pub fn new(gateway: &GatewayConfig, shutdown: CancellationToken, metrics: Arc<Metrics>) -> Self {
        Self(Arc::new(PolicyInner {
            settings: gateway.websocket.clone(),
            allowed_origins: gateway
                .allowed_origins
                .iter()
                .filter_map(|o| normalize_origin(o).ok())
                .collect(),
            open: Mutex::new(HashMap::new()),
            shutdown,
            metrics,
        }))
    }

    /// Where connections (sockets, and the event streams that share this policy's metrics) are counted.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.0.metrics
    }

    /// The limits.
    pub fn settings(&self) -> &WebSocketConfig {
        &self.0.settings
    }

    /// Checks the Origin and takes a connection slot for `client` on `route` (the route pattern, for the
    /// metrics). Hold the permit for the socket's life.
    pub fn admit(
        &self,
        headers: &HeaderMap,
        client: ClientKey,
        route: &'static str,
    ) -> Result<WsPermit, ApiError> {
        if !origin_allowed(headers, &self.0.allowed_origins) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ORIGIN_NOT_ALLOWED,
                "This origin may not open WebSockets here",
            ));
        }
        let mut open = self.0.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(client).or_insert(0);
        if *count >= self.0.settings.max_connections_per_client {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                TOO_MANY_CONNECTIONS,
                "Too many open WebSockets from this client",
            )
            .with_retry_after(5));
        }
        *count += 1;
        let counted = self.0.metrics.open_connection("websocket", route);
        Ok(WsPermit { policy: self.clone(), client, _counted: counted })
    }

    /// Applies the message limit, buffer sizes and subprotocol selection to an upgrade.
    ///
    /// The library reserves a 128 KiB read buffer per socket by default, which dominated the memory of an
    /// idle connection (`cargo xtask bench`); buffers start small here and grow only for large messages.
    pub fn configure(&self, upgrade: WebSocketUpgrade, protocol: &'static str) -> WebSocketUpgrade {
        let max = self.0.settings.max_message_bytes;
        upgrade
            .max_message_size(max)
            .max_frame_size(max)
            .read_buffer_size(SOCKET_BUFFER)
            .write_buffer_size(SOCKET_BUFFER)
            .max_write_buffer_size(max.saturating_add(SOCKET_BUFFER).max(OUTBOX_CAPACITY * 1024))
            .protocols([protocol])
    }

    /// Splits an upgraded socket into a reader and an outbox served by a writer task.
    pub fn connect(&self, socket: WebSocket, permit: WsPermit) -> (Reader, Outbox) {
        let (sink, stream) = socket.split();
        let (tx, rx) = mpsc::channel(OUTBOX_CAPACITY);
        let settings = &self.0.settings;
        let ping = Duration::from_secs(settings.ping_interval_secs);
        let idle = Duration::from_secs(settings.idle_timeout_secs);
        let closing = CancellationToken::new();
        tokio::spawn(write_loop(sink, rx, ping, idle, closing.clone()));
        let outbox = Outbox(Arc::new(OutboxInner { tx, missed: AtomicU64::new(0), closing }));
        let reader = Reader {
            stream,
            idle,
            shutdown: self.0.shutdown.clone(),
            outbox: outbox.clone(),
            _permit: permit,
        };
        (reader, outbox)
    }
}

/// A connection slot, released on drop.
pub struct WsPermit {
    policy: WsPolicy,
    client: ClientKey,
    _counted: ConnectionGuard,
}

impl Drop for WsPermit {
    fn drop(&mut self) {
        let mut open = self.policy.0.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// Whether a request's `Origin` may open a socket: none (not a browser), the request's own host over
/// http or https, or one of the configured origins.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    let Ok(origin) = normalize_origin(origin) else { return false };
    if allowed.contains(&origin) {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
    ["http", "https"]
        .iter()
        .any(|scheme| normalize_origin(&format!("{scheme}://{host}")).is_ok_and(|own| own == origin))
}

enum Out {
    Frame(Message),
    Close(u16, String),
}

struct OutboxInner {
    tx: mpsc::Sender<Out>,
    missed: AtomicU64,
    closing: CancellationToken,
}

/// The sending half of a connection. Cheap to clone.
#[derive(Clone)]
pub struct Outbox(Arc<OutboxInner>);

/// The connection is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection is closed")]
pub struct Closed;

fn text(value: &impl Serialize) -> Message {
    Message::Text(Utf8Bytes::from(serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned())))
}

fn lagged(missed: u64) -> Out {
    Out::Frame(text(&json!({"type": "lagged", "missed": missed})))
}

impl Outbox {
    /// Queues a frame that may be skipped if the client reads too slowly (the skip is reported).
    pub fn stream(&self, value: &impl Serialize) -> Result<(), Closed> {
        self.stream_message(text(value))
    }

    /// [`Outbox::stream`] for a ready message (binary terminal output, say).
    pub fn stream_message(&self, message: Message) -> Result<(), Closed> {
        let missed = self.0.missed.load(Ordering::Acquire);
        if missed > 0 {
            match self.0.tx.try_send(lagged(missed)) {
                // Skips counted meanwhile stay counted for the next notice.
                Ok(()) => _ = self.0.missed.fetch_sub(missed, Ordering::AcqRel),
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.0.missed.fetch_add(1, Ordering::AcqRel);
                    return Ok(());
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return Err(Closed),
            }
        }
        match self.0.tx.try_send(Out::Frame(message)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.0.missed.fetch_add(1, Ordering::AcqRel);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Closed),
        }
    }

    /// Queues a frame that must arrive, waiting for room.
    pub async fn control(&self, value: &impl Serialize) -> Result<(), Closed> {
        self.control_message(text(value)).await
    }

    /// [`Outbox::control`] for a ready message.
    pub async fn control_message(&self, message: Message) -> Result<(), Closed> {
        let missed = self.0.missed.load(Ordering::Acquire);
        if missed > 0 {
            self.0.tx.send(lagged(missed)).await.map_err(|_| Closed)?;
            self.0.missed.fetch_sub(missed, Ordering::AcqRel);
        }
        self.0.tx.send(Out::Frame(message)).await.map_err(|_| Closed)
    }

    /// Sends a Close frame after what is queued, and ends the connection.
    pub async fn close(&self, code: u16, reason: &str) {
        let _ = self.0.tx.send(Out::Close(code, reason.to_owned())).await;
    }

    /// Completes when the connection's writer has stopped (the client is gone or a Close was sent).
    pub async fn closed(&self) {
        self.0.closing.cancelled().await;
    }

    /// Whether the writer has stopped.
    pub fn is_closed(&self) -> bool {
        self.0.closing.is_cancelled()
    }
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Out>,
    ping: Duration,
    write_timeout: Duration,
    closing: CancellationToken,
) {
    let mut ticker = tokio::time::interval_at(Instant::now() + ping, ping);
    loop {
        let next = tokio::select! {
            out = rx.recv() => out,
            _ = ticker.tick() => Some(Out::Frame(Message::Ping(bytes::Bytes::new()))),
        };
        let (message, last) = match next {
            Some(Out::Frame(message)) => (message, false),
            Some(Out::Close(code, reason)) => {
                (Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from(reason) })), true)
            }
            None => break,
        };
        // A client that does not read for as long as the idle timeout is gone.
        match tokio::time::timeout(write_timeout, sink.send(message)).await {
            Ok(Ok(())) if !last => {}
            _ => break,
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
    closing.cancel();
}

/// What the client sent.
#[derive(Debug)]
pub enum Frame {
    /// A text frame.
    Text(Utf8Bytes),
    /// A binary frame.
    Binary(bytes::Bytes),
}

/// The receiving half of a connection (and the holder of its connection slot).
pub struct Reader {
    stream: SplitStream<WebSocket>,
    idle: Duration,
    shutdown: CancellationToken,
    outbox: Outbox,
    _permit: WsPermit,
}

impl Reader {
    /// The next text or binary frame. `None` once the connection is over: the client closed it or
    /// vanished, it was idle too long (closed 1001), sent a message too large (closed 1009), or the gateway
    /// is shutting down (closed 1001). Cancel-safe.
    pub async fn next(&mut self) -> Option<Frame> {
        loop {
            let received = tokio::select! {
                received = tokio::time::timeout(self.idle, self.stream.next()) => received,
                () = self.shutdown.cancelled() => {
                    self.close(close::GOING_AWAY, "server shutting down").await;
                    return None;
                }
                () = self.outbox.closed() => return None,
            };
            match received {
                Err(_) => {
                    self.close(close::GOING_AWAY, "idle timeout").await;
                    return None;
                }
                Ok(None) | Ok(Some(Ok(Message::Close(_)))) => return None,
                Ok(Some(Err(error))) => {
                    if is_too_big(&error) {
                        self.close(close::TOO_BIG, "message too big").await;
                    }
                    tracing::debug!(%error, "websocket read ended");
                    return None;
                }
                Ok(Some(Ok(Message::Text(text)))) => return Some(Frame::Text(text)),
                Ok(Some(Ok(Message::Binary(data)))) => return Some(Frame::Binary(data)),
                // Pings are answered by the library; Pongs only prove the client is alive.
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            }
        }
    }

    /// Sends a Close frame and waits (briefly) for the client's: dropping a socket whose peer still has
    /// frames in flight resets the connection, and the client would never see the close code.
    async fn close(&mut self, code: u16, reason: &str) {
        self.outbox.close(code, reason).await;
        let drain = async {
            while let Some(Ok(message)) = self.stream.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    }
}

fn is_too_big(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(t) = e.downcast_ref::<tokio_tungstenite::tungstenite::Error>() {
            return matches!(t, tokio_tungstenite::tungstenite::Error::Capacity(_));
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            h.insert(header::ORIGIN, origin.parse().unwrap());
        }
        h
    }

    #[test]
    fn origins() {
        let allowed = vec!["https://app.example.com".to_owned()];
        assert!(origin_allowed(&headers(None, "127.0.0.1:42617"), &allowed), "no Origin: not a browser");
        assert!(origin_allowed(&headers(Some("http://127.0.0.1:42617"), "127.0.0.1:42617"), &allowed));
        assert!(origin_allowed(&headers(Some("https://gw.example"), "gw.example"), &allowed));
        assert!(origin_allowed(&headers(Some("https://APP.example.com:443"), "gw.example"), &allowed));
        for foreign in ["https://evil.example", "http://127.0.0.1:9999", "null", "http://127.0.0.1:42617/x"] {
            assert!(!origin_allowed(&headers(Some(foreign), "127.0.0.1:42617"), &allowed), "{foreign}");
        }
    }
}
