//! WebSocket and HTTP clients for tests against a live gateway.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http::Method;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::Live;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub fn request(live: &Live, path: &str) -> Request {
    live.ws_url(path).into_client_request().unwrap()
}

pub fn authed(live: &Live, path: &str) -> Request {
    let mut r = request(live, path);
    r.headers_mut().insert("authorization", format!("Bearer {}", live.token).parse().unwrap());
    r
}

pub async fn open(request: Request) -> Result<(Ws, http::Response<Option<Vec<u8>>>), WsError> {
    tokio_tungstenite::connect_async(request).await
}

/// The HTTP status a refused handshake got.
pub async fn refused(request: Request) -> u16 {
    match open(request).await {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("the handshake was accepted"),
    }
}

/// The next JSON frame (Pings skipped).
pub async fn next(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .expect("a valid frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Frames up to and including the first of type `kind`.
pub async fn until(ws: &mut Ws, kind: &str) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = next(ws).await;
        let done = frame["type"] == kind;
        frames.push(frame);
        if done {
            return frames;
        }
    }
}

/// The close code the server sent (reading past any other frames).
pub async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), ws.next()).await.expect("closed in time") {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

pub async fn send(ws: &mut Ws, value: Value) {
    ws.send(Message::text(value.to_string())).await.unwrap();
}

/// A tiny HTTP/1.1 client for the live gateway.
pub struct Http {
    addr: std::net::SocketAddr,
    token: String,
}

pub fn http_client(live: &Live) -> Http {
    Http { addr: live.addr, token: live.token.clone() }
}

impl Http {
    /// A client without credentials.
    pub fn anonymous(addr: std::net::SocketAddr) -> Self {
        Http { addr, token: String::new() }
    }

    /// A client presenting `token`.
    pub fn with_token(addr: std::net::SocketAddr, token: &str) -> Self {
        Http { addr, token: token.to_owned() }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, Value::Null).await
    }

    pub async fn send(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        let body = if body.is_null() { String::new() } else { body.to_string() };
        let auth = if self.token.is_empty() {
            String::new()
        } else {
            format!("Authorization: Bearer {}\r\n", self.token)
        };
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let raw = String::from_utf8(raw).unwrap();
        let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
        let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }
}

/// Pairs another device with `scopes` through the admin API; returns its token.
pub async fn pair_device(live: &Live, scopes: &[&str]) -> String {
    let admin = http_client(live);
    let (status, body) =
        admin.send(Method::POST, "/api/pairing/initiate", serde_json::json!({"scopes": scopes})).await;
    assert_eq!(status, 200, "{body}");
    let code = body["pairing_code"].as_str().unwrap().to_owned();
    let mut stream = TcpStream::connect(live.addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!(
        "POST /pair HTTP/1.1\r\nHost: {}\r\nX-Pairing-Code: {code}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        live.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let body: Value = serde_json::from_str(raw.split_once("\r\n\r\n").unwrap().1).unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// A WebSocket request to `path` carrying `token`.
pub fn with_token(live: &Live, path: &str, token: &str) -> Request {
    let mut r = request(live, path);
    r.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}
