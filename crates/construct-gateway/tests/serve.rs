//! The accept loop on real loopback sockets: client address, draining on shutdown, and what gets logged.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use construct_core::LoadedConfig;
use construct_gateway::{Access, Gateway, RouteGroup};
use tokio::sync::oneshot;

fn test_group() -> RouteGroup {
    RouteGroup::new("test", Access::Public)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_period_is_a_hard_cap() {
    use construct_gateway::serve::{ServeOptions, serve};
    let router = Router::new().route("/forever", get(std::future::pending::<&'static str>));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let options = ServeOptions { drain: Duration::from_millis(300), ..ServeOptions::default() };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, router, options, async move {
        let _ = stopped.await;
    }));
    let stuck = get_blocking(addr, "/forever");
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).expect("send");
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("serve returned")
        .expect("join")
        .expect("ok");
    // The stuck request's connection was closed, not left dangling.
    let outcome = stuck.join().expect("thread");
    assert!(outcome.as_ref().map_or(true, |r| r.is_empty()), "{outcome:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    use construct_gateway::serve::{ServeOptions, serve};
    let router = Router::new().route("/", get(|| async { "served" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let options = ServeOptions { max_connections: 1, ..ServeOptions::default() };
    let (_stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, router, options, async move {
        let _ = stopped.await;
    }));
    // The first connection holds the only slot while it stays open.
    let holder = TcpStream::connect(addr).expect("connect");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waiting = get_blocking(addr, "/");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "a second connection was served past the cap");
    drop(holder);
    let response = tokio::task::spawn_blocking(move || waiting.join()).await.expect("join").expect("thread");
    assert!(response.expect("response").ends_with("served"));
}
