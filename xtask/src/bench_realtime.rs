//! Realtime figures for `cargo xtask bench`:
//! - memory per idle `/ws/chat` connection: the release gateway's resident memory before and after 1,000
//!   sockets are opened and their `session_start` read (goal < 64 KiB per connection);
//! - SSE fan-out: a gateway embedded in this process publishes 1,000 events/s on its bus to 200
//!   `/api/events` subscribers on loopback sockets; each event carries its publish time, each subscriber
//!   records its delivery lag (goal: p99 < 50 ms). Every event must arrive or be reported as lagged.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use construct_core::events::EventBus;
use construct_core::{Config, LoadedConfig};
use construct_gateway::Gateway;
use construct_store::MemoryEventBus;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Empty};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const IDLE_SOCKETS: usize = 1_000;
const SUBSCRIBERS: usize = 200;
const EVENTS_PER_SECOND: u64 = 1_000;
const PUBLISH_SECONDS: u64 = 5;

fn resident_bytes_of(pid: u32) -> anyhow::Result<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).context("reading statm")?;
    let pages: u64 = statm.split_whitespace().nth(1).context("statm has no resident field")?.parse()?;
    Ok(pages * 4096)
}

/// Opens a `/ws/chat` socket and reads its `session_start`.
async fn open_chat(
    addr: SocketAddr,
    token: &str,
) -> anyhow::Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
> {
    let mut request = format!("ws://{addr}/ws/chat").into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let first = socket.next().await.context("closed before session_start")??;
    if !first.to_text().unwrap_or("").contains("session_start") {
        bail!("unexpected first frame {first:?}");
    }
    Ok(socket)
}

/// Memory per idle chat socket of the gateway process `pid`.
pub async fn ws_memory(addr: SocketAddr, pid: u32, token: &str) -> anyhow::Result<()> {
    // Warm up: allocator arenas, connection and session code paths.
    for _ in 0..20 {
        drop(open_chat(addr, token).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = resident_bytes_of(pid)?;
    let mut sockets = Vec::with_capacity(IDLE_SOCKETS);
    for chunk in 0..IDLE_SOCKETS / 50 {
        let opened = futures_util::future::try_join_all((0..50).map(|_| open_chat(addr, token))).await;
        sockets.extend(opened.with_context(|| format!("opening batch {chunk}"))?);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = resident_bytes_of(pid)?;
    let per = after.saturating_sub(before) as f64 / IDLE_SOCKETS as f64;
    println!(
        "\nidle /ws/chat: {IDLE_SOCKETS} sockets open, gateway resident {:.1} -> {:.1} MiB: {:.1} KiB per connection (goal < 64 KiB)",
        before as f64 / 1_048_576.0,
        after as f64 / 1_048_576.0,
        per / 1024.0
    );
    drop(sockets);
    Ok(())
}

/// One subscriber: reads `/api/events`, recording each tick's lag in microseconds.
async fn subscribe(
    addr: SocketAddr,
    token: String,
    epoch: Instant,
    lags: Arc<Mutex<Vec<u64>>>,
    lagged: Arc<Mutex<u64>>,
    expected: u64,
) -> anyhow::Result<()> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = hyper::Request::get("/api/events")
        .header(hyper::header::HOST, addr.to_string())
        .header(hyper::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Empty::<Bytes>::new())?;
    let response = sender.send_request(request).await?;
    if response.status() != hyper::StatusCode::OK {
        bail!("/api/events answered {}", response.status());
    }
    let mut body = response.into_body();
    let mut buffer = String::new();
    let mut mine = Vec::with_capacity(expected as usize);
    let mut seen = 0u64;
    while seen < expected {
        let Some(frame) = body.frame().await else { break };
        let Ok(data) = frame?.into_data() else { continue };
        buffer.push_str(std::str::from_utf8(&data)?);
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let Some(json) = block.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
            let value: serde_json::Value = serde_json::from_str(json)?;
            match value["type"].as_str() {
                Some("tick") => {
                    let sent = value["sent_us"].as_u64().unwrap_or(0);
                    mine.push((epoch.elapsed().as_micros() as u64).saturating_sub(sent));
                    seen += 1;
                }
                Some("lagged") => {
                    let missed = value["missed"].as_u64().unwrap_or(0);
                    *lagged.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += missed;
                    seen += missed;
                }
                _ => {}
            }
        }
    }
    lags.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(mine);
    Ok(())
}

/// SSE fan-out lag with an embedded gateway.
pub async fn sse_fanout() -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let mut config = Config::default();
    config.gateway.port = 0;
    config.gateway.api_rate_limit_per_minute = 4_000_000_000;
    let loaded = LoadedConfig { config, ..LoadedConfig::with_defaults(scratch.path()) };
    let bus = Arc::new(MemoryEventBus::new(1_024, 8_192));
    let gateway = Gateway::builder(loaded).event_bus(bus.clone()).build()?;
    let code = gateway.pairing().ensure_initial_code().await?.context("no pairing code")?.code;
    let listener = gateway.bind().await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gateway.serve(listener, async {
        let _ = stopped.await;
    }));
    let token = crate::bench::pair_with(addr, &code).await?;

    let epoch = Instant::now();
    let expected = EVENTS_PER_SECOND * PUBLISH_SECONDS;
    let lags = Arc::new(Mutex::new(Vec::with_capacity((expected as usize) * SUBSCRIBERS)));
    let lagged = Arc::new(Mutex::new(0u64));
    let mut subscribers = Vec::with_capacity(SUBSCRIBERS);
    for _ in 0..SUBSCRIBERS {
        let (token, lags, lagged) = (token.clone(), Arc::clone(&lags), Arc::clone(&lagged));
        subscribers.push(tokio::spawn(subscribe(addr, token, epoch, lags, lagged, expected)));
    }
    // Let every subscriber connect before the first event.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / EVENTS_PER_SECOND));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for n in 0..expected {
        ticker.tick().await;
        let sent = epoch.elapsed().as_micros() as u64;
        bus.publish("tick", serde_json::json!({"n": n, "sent_us": sent})).await?;
    }
    for subscriber in subscribers {
        tokio::time::timeout(Duration::from_secs(30), subscriber)
            .await
            .context("a subscriber stalled")???;
    }
    let _ = stop.send(());
    let _ = server.await;

    let mut lags = std::mem::take(&mut *lags.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    lags.sort_unstable();
    let lagged = *lagged.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let at =
        |q: f64| lags.get(((lags.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(0) as f64 / 1000.0;
    println!(
        "\nSSE fan-out: {EVENTS_PER_SECOND} events/s for {PUBLISH_SECONDS} s to {SUBSCRIBERS} subscribers: \
         {} deliveries, {lagged} reported as lagged; lag p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (goal p99 < 50 ms)",
        lags.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    if lags.len() as u64 + lagged != expected * SUBSCRIBERS as u64 {
        bail!("events were lost without a lag notice");
    }
    Ok(())
}
