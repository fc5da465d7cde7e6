//! The accept loop on real loopback sockets: client address, draining on shutdown, and what gets logged.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use construct_core::LoadedConfig;
use construct_gateway::{Gateway, RouteGroup};
use tokio::sync::oneshot;

fn test_group() -> RouteGroup {
    RouteGroup::new(
        "test",
        Router::new()
            .route(
                "/peer",
                get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(800)).await;
                    "finished"
                }),
            ),
    )
}

struct Served {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), construct_gateway::GatewayError>>,
    _dir: tempfile::TempDir,
}

async fn serve() -> Served {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut loaded = LoadedConfig::with_defaults(dir.path());
    loaded.config.gateway.port = 0;
    let gateway = Gateway::builder(loaded).route_group(test_group()).build().expect("build");
    let listener = gateway.bind().await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(gateway.serve(listener, async move {
        let _ = stopped.await;
    }));
    Served { addr, stop: Some(stop), task, _dir: dir }
}

/// A blocking HTTP/1.1 GET on its own thread, so the test runtime keeps serving.
fn get_blocking(addr: SocketAddr, path: &'static str) -> std::thread::JoinHandle<std::io::Result<String>> {
    std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_see_the_tcp_peer() {
    let served = serve().await;
    let response = get_blocking(served.addr, "/peer").join().expect("thread").expect("response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("127.0.0.1"), "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_in_flight_requests_and_refuses_new_ones() {
    let mut served = serve().await;
    let in_flight = get_blocking(served.addr, "/slow");
    tokio::time::sleep(Duration::from_millis(200)).await;

    served.stop.take().expect("stop").send(()).expect("send");
    let result = tokio::time::timeout(Duration::from_secs(15), &mut served.task).await;
    result.expect("serve returns after draining").expect("join").expect("serve ok");

    let response = in_flight.join().expect("thread").expect("in-flight request completed");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("finished"), "{response}");
    assert!(TcpStream::connect(served.addr).is_err(), "listener closed");
}

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_logs_name_the_route_and_never_credentials() {
    use tower::ServiceExt;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::builder(LoadedConfig::with_defaults(dir.path())).build().expect("build");
    let request = http::Request::get("/health?token=query-secret")
        .header("authorization", "Bearer header-secret")
        .header("cookie", "session=cookie-secret")
        .header("x-request-id", "req-77")
        .body(axum::body::Body::empty())
        .expect("request");
    let response = gateway.router().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), 200);

    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    assert!(logs.contains("route=\"/health\""), "{logs}");
    assert!(logs.contains("request_id=\"req-77\""), "{logs}");
    assert!(logs.contains("status=200"), "{logs}");
    for secret in ["query-secret", "header-secret", "cookie-secret"] {
        assert!(!logs.contains(secret), "{secret} leaked into: {logs}");
    }
}
