//! Shared test harness: a gateway built in-process, and requests that carry a peer address.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // Tests fail loudly; not every file uses every helper.

pub mod agents;
pub mod ws;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use construct_core::LoadedConfig;
use construct_gateway::{Gateway, RouteGroup};
use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub struct Harness {
    pub router: Router,
    pub gateway: Gateway,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// A harness around a gateway built elsewhere (the directory must outlive it).
    pub fn from_parts(gateway: Gateway, dir: tempfile::TempDir) -> Self {
        Self { router: gateway.router(), gateway, _dir: dir }
    }
}

pub fn harness(configure: impl FnOnce(&mut LoadedConfig)) -> Harness {
    harness_with(configure, Vec::new())
}

pub fn harness_with(configure: impl FnOnce(&mut LoadedConfig), groups: Vec<RouteGroup>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let mut loaded = LoadedConfig::with_defaults(dir.path());
    configure(&mut loaded);
    let mut builder = Gateway::builder(loaded);
    for group in groups {
        builder = builder.route_group(group);
    }
    let gateway = builder.build().unwrap();
    Harness { router: gateway.router(), gateway, _dir: dir }
}

pub const LOCAL: &str = "127.0.0.1:50000";
pub const REMOTE: &str = "203.0.113.50:50000";

pub struct Call {
    method: Method,
    uri: String,
    peer: &'static str,
    headers: Vec<(String, String)>,
    body: Option<Value>,
    raw: Option<(&'static str, String)>,
}

pub fn call(method: Method, uri: &str) -> Call {
    Call { method, uri: uri.into(), peer: REMOTE, headers: Vec::new(), body: None, raw: None }
}

impl Call {
    pub fn from(mut self, peer: &'static str) -> Self {
        self.peer = peer;
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn token(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    pub fn raw(mut self, content_type: &'static str, body: impl Into<String>) -> Self {
        self.raw = Some((content_type, body.into()));
        self
    }
    pub async fn send(self, router: &Router) -> (StatusCode, http::HeaderMap, Value) {
        let (status, headers, bytes) = self.send_bytes(router).await;
        (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
    /// The response body as text (for routes that answer text, such as verification handshakes).
    pub async fn send_text(self, router: &Router) -> (StatusCode, http::HeaderMap, String) {
        let (status, headers, bytes) = self.send_bytes(router).await;
        (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
    }
    /// Only the status, without reading the body (for streams that never end).
    pub async fn status(self, router: &Router) -> StatusCode {
        router.clone().oneshot(self.request()).await.unwrap().status()
    }
    async fn send_bytes(self, router: &Router) -> (StatusCode, http::HeaderMap, bytes::Bytes) {
        let response = router.clone().oneshot(self.request()).await.unwrap();
        let (parts, body) = response.into_parts();
        (parts.status, parts.headers, body.collect().await.unwrap().to_bytes())
    }
    fn request(self) -> Request<Body> {
        let mut builder = Request::builder().method(self.method).uri(&self.uri);
        if !self.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            let host = if self.peer == LOCAL { "127.0.0.1:42617" } else { "gateway.example" };
            builder = builder.header(header::HOST, host);
        }
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        let body = match (self.body, self.raw) {
            (Some(json), _) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            (None, Some((ct, raw))) => {
                if !ct.is_empty() {
                    builder = builder.header(header::CONTENT_TYPE, ct);
                }
                Body::from(raw)
            }
            (None, None) => Body::empty(),
        };
        let mut request = builder.body(body).unwrap();
        request.extensions_mut().insert(ConnectInfo(self.peer.parse::<SocketAddr>().unwrap()));
        request
    }
}

pub fn assert_error(got: &(StatusCode, http::HeaderMap, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "{}", got.2);
    assert_eq!(got.2["code"], code, "{}", got.2);
}

/// Reads the initial code over loopback and pairs with it; returns (token, device id).
pub async fn pair_first(h: &Harness) -> (String, String) {
    let (status, _, body) = call(Method::GET, "/pair/code").from(LOCAL).send(&h.router).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = match body["pairing_code"].as_str() {
        Some(code) => code.to_owned(),
        None => h.gateway.pairing().ensure_initial_code().await.unwrap().unwrap().code,
    };
    let (status, _, body) = call(Method::POST, "/pair").header("x-pairing-code", &code).send(&h.router).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["paired"], true);
    assert_eq!(body["persisted"], true);
    (body["token"].as_str().unwrap().to_owned(), body["device_id"].as_str().unwrap().to_owned())
}

pub async fn mint_code(h: &Harness, admin: &str, body: Option<Value>) -> String {
    let mut request = call(Method::POST, "/api/pairing/initiate").token(admin);
    if let Some(body) = body {
        request = request.json(body);
    }
    let (status, _, body) = request.send(&h.router).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["pairing_code"].as_str().unwrap().to_owned()
}

/// A gateway serving on a real loopback port, with a paired admin token.
pub struct Live {
    pub addr: SocketAddr,
    pub data_dir: std::path::PathBuf,
    pub token: String,
    pub events: std::sync::Arc<construct_store::MemoryEventBus>,
    pub sessions: std::sync::Arc<construct_store::MemorySessions>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Live {
    /// Starts a gateway with `agent`, after `configure` (the port is always 0).
    pub async fn start(
        agent: std::sync::Arc<dyn construct_agent::Agent>,
        configure: impl FnOnce(&mut LoadedConfig),
    ) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let mut loaded = LoadedConfig::with_defaults(dir.path());
        configure(&mut loaded);
        loaded.config.gateway.port = 0;
        let events = std::sync::Arc::new(construct_store::MemoryEventBus::default());
        let sessions = std::sync::Arc::new(construct_store::MemorySessions::default());
        let gateway = Gateway::builder(loaded)
            .agent(agent)
            .event_bus(events.clone())
            .session_store(sessions.clone())
            .build()
            .unwrap();
        let h = Harness { router: gateway.router(), gateway, _dir: dir };
        let (token, _) = pair_first(&h).await;
        let Harness { gateway, _dir, .. } = h;
        let listener = gateway.bind().await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            gateway
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        let data_dir = _dir.path().to_owned();
        Live { addr, data_dir, token, events, sessions, stop: Some(stop), served: Some(served), _dir }
    }

    /// `ws://` URL of `path`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), served).await;
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
