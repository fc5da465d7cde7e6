//! HTTPS end to end: a gateway on a real loopback port with certificates made at test time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::net::SocketAddr;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use construct_agent::EchoAgent;
use construct_core::LoadedConfig;
use construct_core::config::{CertMapping, ClientAuthConfig, TlsConfig};
use construct_core::principal::Scopes;
use construct_tls::testing::{Authority, Issued, Usage, client_config};
use futures_util::{SinkExt, StreamExt};
use http::{Request, StatusCode, Version};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A CA, a server certificate for localhost from it, and the `[gateway.tls]` that serves it.
struct Pki {
    ca: Authority,
    dir: tempfile::TempDir,
    tls: TlsConfig,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = Authority::new("Gateway test CA");
        let (cert, key) =
            ca.issue("localhost", &["localhost", "127.0.0.1"], Usage::Server).write(dir.path(), "server");
        let tls =
            TlsConfig { enabled: true, cert_path: Some(cert), key_path: Some(key), ..TlsConfig::default() };
        Self { ca, dir, tls }
    }

    fn mutual(mut self, require: bool, map: Vec<CertMapping>) -> Self {
        let ca = self.ca.write(&self.dir.path().join("clients.pem"));
        self.tls.client_auth = ClientAuthConfig {
            enabled: true,
            ca_cert_path: Some(ca),
            require_client_cert: require,
            pinned_certs: Vec::new(),
            map,
        };
        self
    }

    async fn start(&self, configure: impl FnOnce(&mut LoadedConfig)) -> Live {
        let tls = self.tls.clone();
        Live::start(Arc::new(EchoAgent), move |l| {
            l.config.gateway.tls = tls;
            configure(l);
        })
        .await
    }
}

async fn connect(addr: SocketAddr, config: rustls::ClientConfig) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut stream = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await?;
    // Under TLS 1.3 a refused client certificate shows only once the server's answer is read.
    stream.flush().await?;
    Ok(stream)
}

/// One GET over `stream` (HTTP/2 when ALPN chose it); the status, version, content type and body.
async fn get(
    stream: TlsStream<TcpStream>,
    path: &str,
    token: Option<&str>,
) -> Result<(StatusCode, Version, String, String), String> {
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let mut request = Request::get(path).header("host", "localhost");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(Empty::<bytes::Bytes>::new()).unwrap();
    let io = TokioIo::new(stream);
    let response = if h2 {
        let (mut sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        sender.send_request(request).await.map_err(|e| e.to_string())?
    } else {
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        sender.send_request(request).await.map_err(|e| e.to_string())?
    };
    let (status, version) = (response.status(), response.version());
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    if content_type.starts_with("text/event-stream") {
        return Ok((status, version, content_type, String::new()));
    }
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, version, content_type, String::from_utf8_lossy(&body).into_owned()))
}

async fn fetch(
    addr: SocketAddr,
    config: rustls::ClientConfig,
    path: &str,
    token: Option<&str>,
) -> Result<(StatusCode, String), String> {
    let stream = connect(addr, config).await.map_err(|e| e.to_string())?;
    get(stream, path, token).await.map(|(status, _, _, body)| (status, body))
}

#[tokio::test]
async fn https_serves_http1_and_http2_with_the_same_router() {
    let pki = Pki::new();
    let live = pki.start(|_| {}).await;
    for (alpn, version) in [(&b"http/1.1"[..], Version::HTTP_11), (&b"h2"[..], Version::HTTP_2)] {
        let stream = connect(live.addr, client_config(&pki.ca, None, alpn)).await.unwrap();
        let (status, got, _, body) = get(stream, "/health", None).await.unwrap();
        assert_eq!((status, got), (StatusCode::OK, version), "{body}");
        // Authentication, limits and envelopes are the plain router's.
        let stream = connect(live.addr, client_config(&pki.ca, None, alpn)).await.unwrap();
        let (status, _, _, body) = get(stream, "/api/status", None).await.unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        // Server-sent events stream over both.
        let stream = connect(live.addr, client_config(&pki.ca, None, alpn)).await.unwrap();
        let (status, _, content_type, _) = get(stream, "/api/events", Some(&live.token)).await.unwrap();
        assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/event-stream"));
    }
    let (status, body) =
        fetch(live.addr, client_config(&pki.ca, None, b"h2"), "/api/status", Some(&live.token))
            .await
            .unwrap();
    assert_eq!(status, StatusCode::OK);
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(status["bind"]["url"].as_str().unwrap().starts_with("https://127.0.0.1:"), "{status}");
    assert_eq!(
        (status["tls"]["enabled"].as_bool(), status["tls"]["posture"].as_str()),
        (Some(true), Some("tls"))
    );
}

#[tokio::test]
async fn plain_http_and_stalled_handshakes_are_cut_off_without_harm() {
    let pki = Pki::new();
    let mut tls = pki.tls.clone();
    tls.handshake_timeout_secs = 1;
    let pki = Pki { tls, ..pki };
    let live = pki.start(|_| {}).await;
    // Plain HTTP to the TLS port: no HTTP answer, the connection closes.
    let mut plain = TcpStream::connect(live.addr).await.unwrap();
    plain.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await.unwrap();
    assert!(!answer.starts_with(b"HTTP/"), "{:?}", String::from_utf8_lossy(&answer));
    // A client that opens a connection and says nothing is dropped after the handshake timeout.
    let mut silent = TcpStream::connect(live.addr).await.unwrap();
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut byte)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "the silent connection was closed: {closed:?}");
    // The server is none the worse.
    let (status, _) =
        fetch(live.addr, client_config(&pki.ca, None, b"http/1.1"), "/health", None).await.unwrap();
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn websockets_work_over_tls() {
    let pki = Pki::new();
    let live = pki.start(|_| {}).await;
    let stream = connect(live.addr, client_config(&pki.ca, None, b"http/1.1")).await.unwrap();
    let mut request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("wss://localhost:{}/ws/chat", live.addr.port()),
    )
    .unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {}", live.token).parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream).await.unwrap();
    let first: serde_json::Value = match ws.next().await.unwrap().unwrap() {
        tokio_tungstenite::tungstenite::Message::Text(text) => serde_json::from_str(&text).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(first["type"], "session_start");
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        r#"{"type":"message","content":"over tls"}"#.into(),
    ))
    .await
    .unwrap();
    let mut saw_done = false;
    while let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) = ws.next().await {
        let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
        if frame["type"] == "done" {
            assert_eq!(frame["full_response"], "over tls", "{frame}");
            saw_done = true;
            break;
        }
    }
    assert!(saw_done);
}

#[tokio::test]
async fn required_client_certificates_gate_the_connection_and_mapped_ones_authenticate() {
    let base = Pki::new();
    let stranger_ca = Authority::new("Stranger CA");
    let bot = base.ca.issue("build-bot", &["bot.example"], Usage::Client);
    let viewer = base.ca.issue("viewer", &["viewer.example"], Usage::Client);
    let stranger = stranger_ca.issue("stranger", &["stranger.example"], Usage::Client);
    let map = vec![CertMapping {
        fingerprint: bot.fingerprint(),
        scopes: Scopes::of([construct_core::principal::Scope::Read]),
        name: Some("build-bot".into()),
    }];
    let pki = base.mutual(true, map);
    let live = pki.start(|_| {}).await;
    let refused = |identity: Option<&Issued>| {
        let config = client_config(&pki.ca, identity, b"http/1.1");
        async move { fetch(live.addr, config, "/health", None).await.is_err() }
    };
    assert!(refused(None).await, "no certificate");
    assert!(refused(Some(&stranger)).await, "a certificate from an untrusted CA");
    let (status, _) =
        fetch(live.addr, client_config(&pki.ca, Some(&viewer), b"h2"), "/health", None).await.unwrap();
    assert_eq!(status, StatusCode::OK, "a trusted certificate");

    // A mapped certificate is a credential by itself, with its scopes and no more.
    let (status, body) =
        fetch(live.addr, client_config(&pki.ca, Some(&bot), b"h2"), "/api/status", None).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        fetch(live.addr, client_config(&pki.ca, Some(&bot), b"h2"), "/api/config", None).await.unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("FORBIDDEN_SCOPE"), "{body}");
    // A trusted but unmapped certificate authenticates nothing; a token still works over it.
    let (status, _) =
        fetch(live.addr, client_config(&pki.ca, Some(&viewer), b"h2"), "/api/status", None).await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) =
        fetch(live.addr, client_config(&pki.ca, Some(&viewer), b"h2"), "/api/config", Some(&live.token))
            .await
            .unwrap();
    assert_eq!(status, StatusCode::OK);
    // A wrong token is not rescued by a mapped certificate: the token decides.
    let (status, _) =
        fetch(live.addr, client_config(&pki.ca, Some(&bot), b"h2"), "/api/status", Some("wrong"))
            .await
            .unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn optional_client_certificates_let_token_clients_in() {
    let pki = Pki::new().mutual(false, Vec::new());
    let live = pki.start(|_| {}).await;
    let (status, body) =
        fetch(live.addr, client_config(&pki.ca, None, b"h2"), "/api/status", Some(&live.token))
            .await
            .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("mtls-optional"), "{body}");
    let stranger = Authority::new("Stranger").issue("x", &["x.example"], Usage::Client);
    assert!(fetch(live.addr, client_config(&pki.ca, Some(&stranger), b"h2"), "/health", None).await.is_err());
}

#[tokio::test]
async fn new_certificate_files_are_served_without_a_restart() {
    let pki = Pki::new();
    let live = pki.start(|_| {}).await;
    let next_ca = Authority::new("Next CA");
    next_ca.issue("localhost", &["localhost"], Usage::Server).write(pki.dir.path(), "server");
    let mut served = false;
    for _ in 0..50 {
        if fetch(live.addr, client_config(&next_ca, None, b"h2"), "/health", None).await.is_ok() {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(served, "the new certificate was picked up");
    assert!(
        fetch(live.addr, client_config(&pki.ca, None, b"h2"), "/health", None).await.is_err(),
        "the old one is gone"
    );
}

#[test]
fn unusable_certificate_files_stop_the_build_naming_the_file() {
    let pki = Pki::new();
    std::fs::write(pki.tls.key_path.as_ref().unwrap(), "").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut loaded = LoadedConfig::with_defaults(dir.path());
    loaded.config.gateway.tls = pki.tls.clone();
    let error = construct_gateway::Gateway::builder(loaded).build().unwrap_err().to_string();
    assert!(
        error.contains("private key file") && error.contains("server.key") && error.contains("is empty"),
        "{error}"
    );
}
