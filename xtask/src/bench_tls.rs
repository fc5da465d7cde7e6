//! TLS figures: the same gateway over HTTPS against plain HTTP, in alternating rounds of one run.
//!
//! - Keep-alive `GET /health` over HTTP/1.1: what encryption costs per request.
//! - A new connection per `GET /health`: handshakes per second (ECDSA P-256 certificate, TLS 1.3), as a
//!   ratio to plain TCP connections per second.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use construct_tls::testing::{Authority, Usage, client_config};

use crate::bench::{Server, Settings, Target, rounds, start_gateway_with};

/// Connections for the new-connection scenario: enough to keep two cores busy, few enough that the
/// server's TIME_WAIT sockets stay well under the port range.
const FRESH_CONNECTIONS: usize = 8;

fn connector(ca: &Authority) -> tokio_rustls::TlsConnector {
    tokio_rustls::TlsConnector::from(Arc::new(client_config(ca, None, b"http/1.1")))
}

/// Starts an HTTPS gateway next to `plain` and prints both comparisons.
pub fn figures(
    runtime: &tokio::runtime::Runtime,
    settings: &Settings,
    scratch: &Path,
    plain: &Server,
) -> anyhow::Result<()> {
    let ca = Authority::new("Bench CA");
    let (cert, key) =
        ca.issue("localhost", &["localhost", "127.0.0.1"], Usage::Server).write(scratch, "bench-server");
    let tls = format!(
        "\n[gateway.tls]\nenabled = true\ncert_path = {:?}\nkey_path = {:?}\n",
        cert.to_str().context("certificate path")?,
        key.to_str().context("key path")?
    );
    let secure = start_gateway_with(scratch, "https", &tls)?;
    let connector = connector(&ca);
    let keep_alive =
        Target { path: "/health", authorization: None, tls: Some(connector.clone()), fresh: false };
    let heading = format!(
        "GET /health over HTTPS (HTTP/1.1 keep-alive) vs plain HTTP: {} connections, {} s per round, {} rounds each",
        settings.connections, settings.seconds, settings.rounds
    );
    let mut failures = rounds(
        runtime,
        settings,
        &heading,
        [(plain, Target::plain("/health", None)), (&secure, keep_alive)],
        ("HTTPS keep-alive GET /health", 0.60),
    )?;

    let fresh_settings = Settings { connections: FRESH_CONNECTIONS, ..*settings };
    let plain_fresh = Target { fresh: true, ..Target::plain("/health", None) };
    let handshakes = Target { path: "/health", authorization: None, tls: Some(connector), fresh: true };
    let heading = format!(
        "a new connection per GET /health (TLS 1.3 handshake, ECDSA P-256) vs plain TCP connections: {FRESH_CONNECTIONS} \
         clients, {} s per round, {} rounds each",
        settings.seconds, settings.rounds
    );
    failures += rounds(
        runtime,
        &fresh_settings,
        &heading,
        [(plain, plain_fresh), (&secure, handshakes)],
        ("HTTPS new connections", 0.10),
    )?;
    if failures > 0 {
        bail!("{failures} TLS requests failed; the figures above are not trustworthy");
    }
    Ok(())
}
