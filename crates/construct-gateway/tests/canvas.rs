//! The live canvas over REST and `WS /ws/canvas/{id}`, on a live gateway.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::sync::Arc;

use common::ws::*;
use common::*;
use construct_agent::EchoAgent;
use http::{Method, StatusCode};
use serde_json::{Value, json};

async fn live() -> Live {
    Live::start(Arc::new(EchoAgent), |_| {}).await
}

#[tokio::test]
async fn render_read_history_list_and_clear() {
    let live = live().await;
    let h = http_client(&live);
    assert_eq!(h.get("/api/canvas").await, (200, json!({"canvases": []})));
    let (status, body) = h.send(Method::POST, "/api/canvas/board", json!({"content": "<h1>hi</h1>"})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["canvas_id"], "board");
    assert_eq!(body["frame"]["content_type"], "html", "html by default");
    let frame_id = body["frame"]["frame_id"].as_str().unwrap().to_owned();
    h.send(Method::POST, "/api/canvas/board", json!({"content_type": "markdown", "content": "# two"})).await;

    let (status, body) = h.get("/api/canvas/board").await;
    assert_eq!((status, body["frame"]["content"].as_str()), (200, Some("# two")));
    let (_, body) = h.get("/api/canvas/board/history").await;
    let frames = body["frames"].as_array().unwrap();
    assert_eq!((frames.len(), frames[0]["frame_id"].as_str()), (2, Some(frame_id.as_str())));
    assert_eq!(h.get("/api/canvas").await.1, json!({"canvases": ["board"]}));

    assert_eq!(
        h.send(Method::DELETE, "/api/canvas/board", Value::Null).await,
        (200, json!({"canvas_id": "board", "status": "cleared"}))
    );
    assert_eq!(h.get("/api/canvas/board").await.1["code"], "CANVAS_NOT_FOUND");
    assert_eq!(h.get("/api/canvas").await.1, json!({"canvases": []}), "cleared canvases are gone");
    assert_eq!(h.send(Method::DELETE, "/api/canvas/never", Value::Null).await.0, 200);
}

#[tokio::test]
async fn bad_renders_are_refused_with_their_codes() {
    let live = live().await;
    let h = http_client(&live);
    let post = |path: &'static str, body: Value| h.send(Method::POST, path, body);
    assert_eq!(
        post("/api/canvas/c", json!({"content_type": "eval", "content": "alert(1)"})).await.1["code"],
        "INVALID_CONTENT_TYPE"
    );
    assert_eq!(post("/api/canvas/c", json!({"content_type": "html"})).await.0, 422);
    assert_eq!(post("/api/canvas/c", json!({"content": 5})).await.0, 422);
    assert_eq!(post("/api/canvas/bad%20id", json!({"content": "x"})).await.1["code"], "INVALID_CANVAS_ID");
    assert_eq!(h.get("/api/canvas/..").await.1["code"], "INVALID_CANVAS_ID", "never a traversal");
    // 256 KiB is accepted (upstream's global limit made it unreachable); one byte more is not.
    let (status, _) = post("/api/canvas/big", json!({"content": "x".repeat(256 * 1024)})).await;
    assert_eq!(status, 201);
    let (status, body) = post("/api/canvas/big", json!({"content": "x".repeat(256 * 1024 + 1)})).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("CONTENT_TOO_LARGE")));
    // Characters that JSON escapes still fit: 256 KiB of quotes is 512 KiB on the wire.
    let (status, _) = post("/api/canvas/quotes", json!({"content": "\"".repeat(256 * 1024)})).await;
    assert_eq!(status, 201);
    // The cap on canvases.
    for n in 0..98 {
        assert_eq!(post_owned(&h, &format!("/api/canvas/n{n}")).await, 201);
    }
    let (status, body) = post("/api/canvas/one-more", json!({"content": "x"})).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("CANVAS_LIMIT")));
}

async fn post_owned(h: &Http, path: &str) -> u16 {
    h.send(Method::POST, path, json!({"content": "x"})).await.0
}

#[tokio::test]
async fn viewers_get_the_current_frame_then_live_frames_and_clears() {
    let live = live().await;
    let h = http_client(&live);
    h.send(Method::POST, "/api/canvas/live", json!({"content": "before"})).await;
    let (mut ws, response) = open(authed(&live, "/ws/canvas/live")).await.unwrap();
    assert!(response.headers().get("sec-websocket-protocol").is_none(), "none offered, none chosen");
    let first = next(&mut ws).await;
    assert_eq!((first["type"].as_str(), first["frame"]["content"].as_str()), (Some("frame"), Some("before")));
    assert_eq!(next(&mut ws).await, json!({"type": "connected", "canvas_id": "live"}));
    h.send(Method::POST, "/api/canvas/other", json!({"content": "not for this viewer"})).await;
    h.send(Method::POST, "/api/canvas/live", json!({"content_type": "svg", "content": "<svg/>"})).await;
    let frame = next(&mut ws).await;
    assert_eq!(
        (frame["canvas_id"].as_str(), frame["frame"]["content_type"].as_str()),
        (Some("live"), Some("svg"))
    );
    h.send(Method::DELETE, "/api/canvas/live", Value::Null).await;
    assert_eq!(next(&mut ws).await["frame"]["content_type"], "clear");
}

#[tokio::test]
async fn viewing_never_creates_a_canvas_and_needs_credentials_and_origin() {
    let live = live().await;
    let h = http_client(&live);
    for n in 0..5 {
        let (mut ws, _) = open(authed(&live, &format!("/ws/canvas/ghost{n}"))).await.unwrap();
        assert_eq!(next(&mut ws).await["type"], "connected");
    }
    assert_eq!(h.get("/api/canvas").await.1, json!({"canvases": []}));
    assert_eq!(refused(request(&live, "/ws/canvas/x")).await, 401);
    let mut foreign = authed(&live, "/ws/canvas/x");
    foreign.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    assert_eq!(refused(foreign).await, 403);
    assert_eq!(refused(authed(&live, "/ws/canvas/a%20b")).await, 400);
    // Rendering needs credentials too, from loopback as from anywhere (no loopback bypass).
    let anonymous = Http::anonymous(live.addr);
    assert_eq!(anonymous.send(Method::POST, "/api/canvas/x", json!({"content": "x"})).await.0, 401);
    assert_eq!(anonymous.send(Method::DELETE, "/api/canvas/x", Value::Null).await.0, 401);
}

#[tokio::test]
async fn view_answers_a_frame_as_its_own_sandboxed_document() {
    let h = harness(|_| {});
    let (admin, _) = pair_first(&h).await;
    let render = |content_type: &str, content: &str| {
        call(Method::POST, "/api/canvas/board")
            .token(&admin)
            .json(json!({"content_type": content_type, "content": content}))
            .send(&h.router)
    };
    let (_, _, first) = render("html", "<script>parent.document.cookie</script><h1>one</h1>").await;
    let first_id = first["frame"]["frame_id"].as_str().unwrap().to_owned();
    render("svg", "<svg xmlns='http://www.w3.org/2000/svg'/>").await;

    let (status, headers, body) =
        call(Method::GET, "/api/canvas/board/view").token(&admin).send_text(&h.router).await;
    assert_eq!(status, 200);
    assert_eq!(body, "<svg xmlns='http://www.w3.org/2000/svg'/>", "the current frame by default");
    assert_eq!(headers[http::header::CONTENT_TYPE], "image/svg+xml");
    let csp = headers[http::header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.starts_with("sandbox allow-scripts;"), "an opaque origin even when opened directly: {csp}");
    assert!(!csp.contains("allow-same-origin"), "{csp}");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'self'"), "{csp}");
    assert_eq!(headers[http::header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[http::header::CACHE_CONTROL], "no-store");

    let uri = format!("/api/canvas/board/view?frame={first_id}");
    let (status, headers, body) = call(Method::GET, &uri).token(&admin).send_text(&h.router).await;
    assert_eq!(
        (status.as_u16(), body.as_str()),
        (200, "<script>parent.document.cookie</script><h1>one</h1>")
    );
    assert_eq!(headers[http::header::CONTENT_TYPE], "text/html; charset=utf-8");

    render("markdown", "<b>not html</b>").await;
    let (_, headers, _) =
        call(Method::GET, "/api/canvas/board/view").token(&admin).send_text(&h.router).await;
    assert_eq!(headers[http::header::CONTENT_TYPE], "text/plain; charset=utf-8", "markdown is never html");

    let missing = call(Method::GET, "/api/canvas/board/view?frame=nope").token(&admin).send(&h.router).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "CANVAS_NOT_FOUND");
    let empty = call(Method::GET, "/api/canvas/empty/view").token(&admin).send(&h.router).await;
    assert_error(&empty, StatusCode::NOT_FOUND, "CANVAS_NOT_FOUND");
    let bad = call(Method::GET, "/api/canvas/../view").token(&admin).send(&h.router).await;
    assert_ne!(bad.0, StatusCode::OK);
    let bad = call(Method::GET, "/api/canvas/a%20b/view").token(&admin).send(&h.router).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "INVALID_CANVAS_ID");
    let anonymous = call(Method::GET, "/api/canvas/board/view").send(&h.router).await;
    assert_error(&anonymous, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}
