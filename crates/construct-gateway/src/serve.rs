//! The accept loop: hyper over TCP with the protections `axum::serve` does not offer.
//!
//! - **Slow-loris**: a client must deliver its complete request head within the header-read timeout (the
//!   configured request timeout), counted from the moment the connection opens or the previous response
//!   ends, or the connection is closed. A socket that never sends a byte is closed the same way. The
//!   handler timeout alone would not help: it starts only once the head is in. (HTTP/2 detection is
//!   deliberately absent: its preface read has no timer. HTTP/2 arrives with TLS and ALPN.)
//! - **Connection cap**: at most `max_connections` connections are served at once; further clients wait
//!   in the kernel's accept backlog instead of exhausting file descriptors.
//! - **Upgrades**: HTTP/1.1 upgrades (WebSocket) on the same port.
//! - **Client address**: each request carries `ConnectInfo<SocketAddr>` of the TCP peer.
//! - **Accept errors** (for example running out of file descriptors) are logged and retried after a
//!   pause; they never stop the server.
//! - **Graceful shutdown**: when the shutdown future completes, stop accepting, ask every connection to
//!   finish its current request and close, wait up to the drain period, then abort what is left.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use construct_core::{REQUEST_TIMEOUT_SECS, SHUTDOWN_DRAIN_SECS};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Limits of the accept loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// Time a client has to send a complete request head.
    pub header_read_timeout: Duration,
    /// Time in-flight requests get to finish after shutdown begins.
    pub drain: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(REQUEST_TIMEOUT_SECS),
            drain: Duration::from_secs(SHUTDOWN_DRAIN_SECS),
            max_connections: construct_core::MAX_CONNECTIONS_DEFAULT,
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
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(options.header_read_timeout);
    let http = Arc::new(http);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
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
        let http = Arc::clone(&http);
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let _permit = permit;
            let connection = http.serve_connection(TokioIo::new(stream), service).with_upgrades();
            let mut connection = std::pin::pin!(connection);
            let finished = tokio::select! {
                result = connection.as_mut() => Some(result),
                _ = stop.wait_for(|stopping| *stopping) => None,
            };
            let result = match finished {
                Some(result) => result,
                None => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }

    drop(listener);
    tracing::info!(open = connections.len(), "shutting down: no longer accepting, draining connections");
    let _ = stop_tx.send(true);
    let drained =
        tokio::time::timeout(options.drain, async { while connections.join_next().await.is_some() {} }).await;
    match drained {
        Ok(()) => tracing::info!("all connections closed"),
        Err(_) => {
            tracing::warn!(
                remaining = connections.len(),
                drain_secs = options.drain.as_secs(),
                "drain period over; closing remaining connections"
            );
            connections.shutdown().await;
        }
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
