//! `cargo xtask bench`: requests per second of the gateway against a bare axum server, as a ratio.
//!
//! Both servers run as separate release-built processes on loopback and are driven by the same
//! closed-loop HTTP/1.1 keep-alive load: N connections, each sending its request as soon as the previous
//! response is read, for a fixed time. Rounds alternate between the two servers so that drift in the
//! machine's load hits both alike. Only the ratios are meaningful on a shared 2-core machine.
//!
//! Scenarios: the gateway's `GET /health` (goal ≥ 0.85 of bare), and an authenticated `GET /api/status`
//! (token lookup in SQLite, rate limiter, goal ≥ 0.70), both against bare `GET /health`. Then the GCRA
//! limiter alone: memory for a million clients and checks per second from two threads. Then the realtime
//! figures of [`crate::bench_realtime`]: memory per idle WebSocket and SSE fan-out lag. Last, TLS
//! ([`crate::bench_tls`]): keep-alive requests and new connections per second over HTTPS against plain HTTP.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};

use crate::ci::cargo;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) seconds: u64,
    pub(crate) connections: usize,
    pub(crate) rounds: usize,
}

fn parse_settings(args: &[String]) -> anyhow::Result<Settings> {
    let mut settings = Settings { seconds: 3, connections: 64, rounds: 6 };
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let value = iter.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--seconds" => settings.seconds = value.parse()?,
            "--connections" => settings.connections = value.parse()?,
            "--rounds" => settings.rounds = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    if settings.seconds == 0 || settings.connections == 0 || settings.rounds == 0 {
        bail!("--seconds, --connections and --rounds must be at least 1");
    }
    Ok(settings)
}

/// Builds release binaries, then runs the measurement from the release xtask (a debug-built load
/// generator would measure itself).
pub fn run(args: &[String]) -> anyhow::Result<()> {
    parse_settings(args)?;
    cargo(&["build", "--release", "--locked", "-p", "construct-gateway-bin", "-p", "xtask"])?;
    let xtask = release_bin("xtask");
    let status = Command::new(&xtask).arg("bench-run").args(args).status().context("running bench-run")?;
    if !status.success() {
        bail!("bench-run failed ({status})");
    }
    Ok(())
}

fn release_bin(name: &str) -> PathBuf {
    crate::ci::target_dir().join("release").join(name)
}

pub(crate) struct Server {
    pub(crate) name: &'static str,
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(crate) fn wait_until_listening(addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listening on {addr} after 20 s")
}

fn start_gateway(scratch: &Path) -> anyhow::Result<Server> {
    start_gateway_with(scratch, "gateway", "")
}

/// A release gateway with the benchmark's base configuration plus `extra` TOML, its data under `scratch`.
pub(crate) fn start_gateway_with(scratch: &Path, name: &'static str, extra: &str) -> anyhow::Result<Server> {
    let port = free_port()?;
    let config = scratch.join(format!("{name}.toml"));
    // The API limiter stays in the path but set high enough not to refuse the benchmark's own load.
    std::fs::write(
        &config,
        format!(
            "[gateway]\napi_rate_limit_per_minute = 4000000000\nmax_connections = 4096\n\n\
             [gateway.websocket]\nmax_connections_per_client = 5000\n{extra}"
        ),
    )?;
    let child = Command::new(release_bin("construct-gateway"))
        .env_clear()
        .env("HOME", scratch)
        // The default log level (info), as operators run it.
        .args(["--port", &port.to_string(), "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(scratch.join(format!("{name}-data")))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting construct-gateway")?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let server = Server { name, child, addr };
    wait_until_listening(addr)?;
    Ok(server)
}

fn start_bare() -> anyhow::Result<Server> {
    let port = free_port()?;
    let child = Command::new(release_bin("xtask"))
        .args(["bare-server", &port.to_string()])
        .spawn()
        .context("starting the bare server")?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let server = Server { name: "bare axum", child, addr };
    wait_until_listening(addr)?;
    Ok(server)
}

/// The baseline: axum's hello world, served by `axum::serve` with nothing else. Its body has the same
/// size and type as the gateway's `/health`, so the comparison is of the stacks, not the payloads.
pub fn bare_server(args: &[String]) -> anyhow::Result<()> {
    const BODY: &str = r#"{"status":"ok","version":"0.1.0","require_pairing":true,"paired":false}"#;
    let port: u16 = args.first().context("port")?.parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let app = axum::Router::new().route(
            "/health",
            axum::routing::get(|| async { ([(axum::http::header::CONTENT_TYPE, "application/json")], BODY) }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}

/// One comparison: a request to the gateway against the bare server's `GET /health`.
struct Scenario<'a> {
    label: &'a str,
    path: &'static str,
    authorization: Option<String>,
    goal: f64,
}

/// Measures every scenario and the limiter, printing tables and ratios.
pub fn run_measurement(args: &[String]) -> anyhow::Result<()> {
    let settings = parse_settings(args)?;
    let scratch = tempfile::tempdir()?;
    let gateway = start_gateway(scratch.path())?;
    let bare = start_bare()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let token = runtime.block_on(pair(gateway.addr))?;

    let scenarios = [
        Scenario { label: "GET /health", path: "/health", authorization: None, goal: 0.85 },
        Scenario {
            label: "authenticated GET /api/status",
            path: "/api/status",
            authorization: Some(format!("Bearer {token}")),
            goal: 0.70,
        },
    ];
    let mut failures = 0;
    for scenario in &scenarios {
        failures += compare(&runtime, &settings, &bare, &gateway, scenario)?;
    }
    if failures > 0 {
        bail!("{failures} requests failed; the figures above are not trustworthy");
    }
    limiter_figures();
    runtime.block_on(crate::bench_realtime::ws_memory(gateway.addr, gateway.child.id(), &token))?;
    runtime.block_on(crate::bench_realtime::sse_fanout())?;
    crate::bench_tls::figures(&runtime, &settings, scratch.path(), &gateway)?;
    Ok(())
}

/// Drives the bare server's `/health` and the gateway's scenario in alternating rounds; returns the
/// number of failed requests.
fn compare(
    runtime: &tokio::runtime::Runtime,
    settings: &Settings,
    bare: &Server,
    gateway: &Server,
    scenario: &Scenario<'_>,
) -> anyhow::Result<u64> {
    let baseline = (bare, Target::plain("/health", None));
    let measured = (gateway, Target::plain(scenario.path, scenario.authorization.clone()));
    let heading = format!(
        "{}: closed-loop HTTP/1.1 keep-alive, {} connections, {} s per round, {} rounds each",
        scenario.label, settings.connections, settings.seconds, settings.rounds
    );
    rounds(runtime, settings, &heading, [baseline, measured], (scenario.label, scenario.goal))
}

/// Runs `targets[0]` (the baseline) and `targets[1]` in alternating rounds and prints each round, the
/// totals and the median per-round ratio of the second to the first; returns the number of failures.
pub(crate) fn rounds(
    runtime: &tokio::runtime::Runtime,
    settings: &Settings,
    heading: &str,
    targets: [(&Server, Target); 2],
    (label, goal): (&str, f64),
) -> anyhow::Result<u64> {
    println!("\n{heading}");
    // Warm both up (connection setup, allocator, CPU caches) before measuring.
    for (server, target) in &targets {
        runtime.block_on(drive(server.addr, target.clone(), settings.connections, Duration::from_secs(1)))?;
    }
    let mut totals = [(0u64, 0u64, Duration::ZERO); 2];
    let mut ratios = Vec::with_capacity(settings.rounds);
    for round in 1..=settings.rounds {
        let mut round_rps = [0.0f64; 2];
        // Alternate which server goes first so neither always runs on a warmer or quieter machine.
        let order = if round % 2 == 1 { [0, 1] } else { [1, 0] };
        for i in order {
            let (server, target) = &targets[i];
            let outcome = runtime.block_on(drive(
                server.addr,
                target.clone(),
                settings.connections,
                Duration::from_secs(settings.seconds),
            ))?;
            let rps = outcome.ok as f64 / outcome.elapsed.as_secs_f64();
            println!("round {round}: {:<12} {rps:>10.0} req/s  ({} errors)", server.name, outcome.errors);
            totals[i].0 += outcome.ok;
            totals[i].1 += outcome.errors;
            totals[i].2 += outcome.elapsed;
            round_rps[i] = rps;
        }
        ratios.push(round_rps[1] / round_rps[0]);
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    let rps = |t: (u64, u64, Duration)| t.0 as f64 / t.2.as_secs_f64();
    println!("{} {}: {:>10.0} req/s", targets[0].0.name, targets[0].1.path, rps(totals[0]));
    println!("{} {}: {:>10.0} req/s", targets[1].0.name, label, rps(totals[1]));
    println!(
        "median per-round ratio {}/{} for {label}: {median:.3} (goal >= {goal:.2}; rounds {:.3}..{:.3})",
        targets[1].0.name,
        targets[0].0.name,
        ratios[0],
        ratios[ratios.len() - 1]
    );
    Ok(totals[0].1 + totals[1].1)
}

/// Pairs with the fresh gateway over loopback and returns the token.
async fn pair(addr: SocketAddr) -> anyhow::Result<String> {
    let code = json_of(addr, "GET", "/pair/code", None).await?["pairing_code"]
        .as_str()
        .context("the gateway showed no pairing code")?
        .to_owned();
    pair_with(addr, &code).await
}

/// Exchanges `code` for a token.
pub async fn pair_with(addr: SocketAddr, code: &str) -> anyhow::Result<String> {
    let paired = json_of(addr, "POST", "/pair", Some(("x-pairing-code", code.to_owned()))).await?;
    Ok(paired["token"].as_str().context("pairing returned no token")?.to_owned())
}

async fn json_of(
    addr: SocketAddr,
    method: &str,
    path: &str,
    header: Option<(&str, String)>,
) -> anyhow::Result<serde_json::Value> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut request =
        hyper::Request::builder().method(method).uri(path).header(hyper::header::HOST, addr.to_string());
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let response = sender.send_request(request.body(Empty::<Bytes>::new())?).await?;
    let body = response.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice(&body)?)
}

/// Memory for a million tracked clients, and checks per second from two threads.
fn limiter_figures() {
    use construct_auth::ClientKey;
    use construct_auth::limiter::KeyedLimiter;
    const KEYS: u32 = 1_000_000;
    let key = |n: u32| ClientKey::from_ip(std::net::IpAddr::from((0x0a00_0000 + n).to_be_bytes()));
    let before = resident_bytes();
    let Some(limiter) = KeyedLimiter::new(600, Duration::from_secs(60), KEYS as usize) else { return };
    let now = Instant::now();
    for n in 0..KEYS {
        let _ = limiter.check_at(key(n), now);
    }
    let after = resident_bytes();
    println!(
        "\nlimiter: {} keys tracked, {:.1} MiB resident for them ({:.0} bytes/key)",
        limiter.tracked_keys(),
        (after.saturating_sub(before)) as f64 / 1_048_576.0,
        (after.saturating_sub(before)) as f64 / f64::from(KEYS)
    );
    let limiter = Arc::new(limiter);
    let checks = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..2u32)
        .map(|t| {
            let (limiter, checks) = (Arc::clone(&limiter), Arc::clone(&checks));
            std::thread::spawn(move || {
                let mut n = t;
                while started.elapsed() < Duration::from_secs(2) {
                    for _ in 0..1_000 {
                        n = n.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        let _ = limiter.check_at(key(n % KEYS), Instant::now());
                    }
                    checks.fetch_add(1_000, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for thread in threads {
        let _ = thread.join();
    }
    let rate = checks.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    println!("limiter: {rate:.0} checks/s on 2 threads over 1M keys");
}

fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

/// What one closed-loop client asks for.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) path: &'static str,
    pub(crate) authorization: Option<String>,
    /// Over TLS with this connector (server name `localhost`).
    pub(crate) tls: Option<tokio_rustls::TlsConnector>,
    /// A new connection (and handshake) for every request, closed by the server after its answer.
    pub(crate) fresh: bool,
}

impl Target {
    /// Keep-alive plain HTTP.
    pub(crate) fn plain(path: &'static str, authorization: Option<String>) -> Self {
        Self { path, authorization, tls: None, fresh: false }
    }
}

struct Outcome {
    ok: u64,
    errors: u64,
    elapsed: Duration,
}

/// Drives `addr` with `connections` closed-loop keep-alive clients for `duration`.
async fn drive(
    addr: SocketAddr,
    target: Target,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (ok, errors, stop) = (Arc::clone(&ok), Arc::clone(&errors), Arc::clone(&stop));
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(error) = client_loop(addr, &target, &ok, &stop).await {
                errors.fetch_add(1, Ordering::Relaxed);
                eprintln!("client error: {error:#}");
            }
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    for task in tasks {
        task.await?;
    }
    Ok(Outcome { ok: ok.load(Ordering::Relaxed), errors: errors.load(Ordering::Relaxed), elapsed })
}

async fn client_loop(
    addr: SocketAddr,
    target: &Target,
    ok: &AtomicU64,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    while !stop.load(Ordering::Relaxed) {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        match &target.tls {
            Some(connector) => {
                let name = rustls::pki_types::ServerName::try_from("localhost")?;
                let stream = connector.connect(name, stream).await?;
                requests(stream, addr, target, ok, stop).await?;
            }
            None => requests(stream, addr, target, ok, stop).await?,
        }
        if !target.fresh {
            break;
        }
    }
    Ok(())
}

/// Sends requests over one connection until `stop`, or just one when the target wants fresh connections.
async fn requests<S>(
    stream: S,
    addr: SocketAddr,
    target: &Target,
    ok: &AtomicU64,
    stop: &AtomicBool,
) -> anyhow::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let authority = addr.to_string();
    while !stop.load(Ordering::Relaxed) {
        let mut request = hyper::Request::get(target.path).header(hyper::header::HOST, authority.as_str());
        if let Some(authorization) = &target.authorization {
            request = request.header(hyper::header::AUTHORIZATION, authorization.as_str());
        }
        if target.fresh {
            // The server closes, so its side keeps the TIME_WAIT and the client's ports do not run out.
            request = request.header(hyper::header::CONNECTION, "close");
        }
        let request = request.body(Empty::<Bytes>::new())?;
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        response.into_body().collect().await?;
        if status != hyper::StatusCode::OK {
            bail!("unexpected status {status}");
        }
        ok.fetch_add(1, Ordering::Relaxed);
        if target.fresh {
            break;
        }
    }
    Ok(())
}
