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
//! - **TLS** (with [`ServeOptions::tls`]): the same loop, cap, client address, limits and shutdown. Each
//!   connection first completes its handshake within the handshake timeout (a failed or slow handshake
//!   closes that connection only), then is served as HTTP/1.1 with upgrades (WebSocket) or HTTP/2, as ALPN
//!   chose. A verified client certificate rides along in every request's extensions as a
//!   [`construct_core::principal::ClientCertificate`]. The certificate files are re-read when they change.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use construct_core::principal::ClientCertificate;
use construct_core::{REQUEST_TIMEOUT_SECS, SHUTDOWN_DRAIN_SECS};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Limits of the accept loop.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Time a client has to send a complete request head.
    pub header_read_timeout: Duration,
    /// Time in-flight requests get to finish after shutdown begins.
    pub drain: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Serve HTTPS with this configuration (HTTP when `None`).
    pub tls: Option<Arc<construct_tls::TlsServer>>,
}

/// How often the certificate files are checked for changes.
pub const TLS_WATCH_INTERVAL: Duration = Duration::from_secs(2);

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(REQUEST_TIMEOUT_SECS),
            drain: Duration::from_secs(SHUTDOWN_DRAIN_SECS),
            max_connections: construct_core::MAX_CONNECTIONS_DEFAULT,
            tls: None,
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
    let mut negotiated = auto::Builder::new(TokioExecutor::new());
    negotiated.http1().timer(TokioTimer::new()).header_read_timeout(options.header_read_timeout);
    negotiated
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(Duration::from_secs(20));
    let negotiated = Arc::new(negotiated);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    if let Some(tls) = &options.tls {
        let (tls, mut stop) = (Arc::clone(tls), stop_rx.clone());
        connections.spawn(async move {
            tls.watch(TLS_WATCH_INTERVAL, async move {
                let _ = stop.wait_for(|stopping| *stopping).await;
            })
            .await;
        });
    }

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
        let router = router.clone();
        let mut stop = stop_rx.clone();
        match &options.tls {
            None => {
                let http = Arc::clone(&http);
                connections.spawn(async move {
                    let _permit = permit;
                    let service = hyper::service::service_fn(request_handler(router, peer, None));
                    let connection = http.serve_connection(TokioIo::new(stream), service).with_upgrades();
                    if let Err(error) = drive(connection, &mut stop, |c| c.graceful_shutdown()).await {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                });
            }
            Some(tls) => {
                let (tls, negotiated) = (Arc::clone(tls), Arc::clone(&negotiated));
                connections.spawn(async move {
                    let _permit = permit;
                    let handshake =
                        tokio::time::timeout(tls.handshake_timeout(), tls.acceptor().accept(stream));
                    let done = tokio::select! {
                        done = handshake => Some(done),
                        _ = stop.wait_for(|stopping| *stopping) => None,
                    };
                    let stream = match done {
                        Some(Ok(Ok(stream))) => stream,
                        Some(Ok(Err(error))) => {
                            tracing::debug!(%peer, %error, "TLS handshake failed");
                            return;
                        }
                        Some(Err(_)) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                        None => return,
                    };
                    let identity = construct_tls::peer_certificate(stream.get_ref().1);
                    let service = hyper::service::service_fn(request_handler(router, peer, identity));
                    let connection = negotiated.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    if let Err(error) = drive(connection, &mut stop, |c| c.graceful_shutdown()).await {
                        tracing::debug!(%peer, %error, "TLS connection ended with an error");
                    }
                });
            }
        }
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

/// Serves `connection` until it ends, or until shutdown begins: then it is asked to finish its current
/// request and close (`graceful`), and is awaited.
async fn drive<C, E>(
    connection: C,
    stop: &mut watch::Receiver<bool>,
    graceful: fn(Pin<&mut C>),
) -> Result<(), E>
where
    C: Future<Output = Result<(), E>>,
{
    let mut connection = std::pin::pin!(connection);
    let finished = tokio::select! {
        result = connection.as_mut() => Some(result),
        _ = stop.wait_for(|stopping| *stopping) => None,
    };
    match finished {
        Some(result) => result,
        None => {
            graceful(connection.as_mut());
            connection.await
        }
    }
}

type HandlerFuture = tower::util::Oneshot<Router, http::Request<Incoming>>;

/// Per-connection request handler: tags each request with the peer address (and the connection's client
/// certificate) and runs the router.
fn request_handler(
    router: Router,
    peer: SocketAddr,
    identity: Option<ClientCertificate>,
) -> impl Fn(http::Request<Incoming>) -> HandlerFuture + Clone {
    move |mut request: http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        if let Some(identity) = &identity {
            request.extensions_mut().insert(identity.clone());
        }
        router.clone().oneshot(request)
    }
}
