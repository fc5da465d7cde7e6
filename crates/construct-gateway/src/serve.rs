//! The accept loop: hyper over TCP with the protections `axum::serve` does not offer.
//!
//! - **Slow-loris**: a client must deliver its request headers within the header-read timeout (the
//!   configured request timeout), or the connection is closed. The handler timeout alone would not help:
//!   it starts only once the headers are in.
//! - **Upgrades**: HTTP/1.1 upgrades (WebSocket) and HTTP/2 (prior knowledge) on the same port.
//! - **Client address**: each request carries `ConnectInfo<SocketAddr>` of the TCP peer.
//! - **Accept errors** (for example running out of file descriptors) are logged and retried after a
//!   pause; they never stop the server.
//! - **Graceful shutdown**: when the shutdown future completes, stop accepting, let in-flight requests
//!   finish for up to the drain period, then close what is left.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use construct_core::{REQUEST_TIMEOUT_SECS, SHUTDOWN_DRAIN_SECS};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Timeouts of the accept loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// Time a client has to send a complete request head.
    pub header_read_timeout: Duration,
    /// Time in-flight requests get to finish after shutdown begins.
    pub drain: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(REQUEST_TIMEOUT_SECS),
            drain: Duration::from_secs(SHUTDOWN_DRAIN_SECS),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains.
pub async fn serve<F>(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(options.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, "accept failed; retrying shortly");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = hyper::service::service_fn(request_handler(router.clone(), peer));
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }

    drop(listener);
    tracing::info!("shutting down: no longer accepting connections, draining in-flight requests");
    match tokio::time::timeout(options.drain, graceful.shutdown()).await {
        Ok(()) => tracing::info!("all connections closed"),
        Err(_) => tracing::warn!(
            drain_secs = options.drain.as_secs(),
            "drain period over; closing remaining connections"
        ),
    }
    Ok(())
}

type HandlerFuture = tower::util::Oneshot<Router, http::Request<Incoming>>;

/// Per-connection request handler: tags each request with the peer address and runs the router.
fn request_handler(
    router: Router,
    peer: SocketAddr,
) -> impl Fn(http::Request<Incoming>) -> HandlerFuture + Clone {
    move |mut request: http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    }
}
