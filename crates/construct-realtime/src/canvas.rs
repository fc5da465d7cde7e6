//! The live canvas: `GET /api/canvas`, `GET|POST|DELETE /api/canvas/{id}`, `GET /api/canvas/{id}/history`,
//! `GET /api/canvas/{id}/view` and `WS /ws/canvas/{id}`.
//!
//! A render is stored, then published on the event bus as `canvas_updated {canvas_id, frame}`; viewers
//! follow the bus, so a frame rendered through any gateway sharing it reaches them. Clearing removes the
//! canvas (its place under the 100-canvas cap is freed) and sends viewers a `clear` frame. Unlike
//! upstream: ids are validated, a viewer never creates a canvas (100 sockets with random ids exhausted
//! upstream's store for good), the 256 KiB content limit is reachable (this route's body limit is set to
//! fit it), and there is no loopback bypass of authentication.
//!
//! Frames are agent-written HTML: they never enter the dashboard's own document. `view` answers a frame
//! as a document of its own, under a CSP `sandbox` (an opaque origin, whatever frames or opens it: no
//! cookies, no storage, no same-origin calls back to the gateway), which the dashboard shows in an
//! `<iframe sandbox="allow-scripts">` without `allow-same-origin`.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::{IntoResponse, Response};
use construct_auth::Client;
use construct_core::canvas::{MAX_CONTENT_BYTES, RenderError, clear_canvas, render_frame, valid_canvas_id};
use construct_core::events::Delivery;
use construct_core::extract::{Json, Path, Query};
use construct_core::{ApiError, ErrorCode};
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::RealtimeState;
use crate::sessions_api::store_error;
use crate::ws::{Frame, PROTOCOL};

pub use construct_core::canvas::CANVAS_UPDATED;
/// The body limit of `POST /api/canvas/{id}`: the content limit plus room for JSON escaping.
pub const RENDER_BODY_LIMIT: usize = MAX_CONTENT_BYTES * 2 + 4096;

/// 400 for an id outside `[A-Za-z0-9_.-]{1,128}`.
pub const INVALID_CANVAS_ID: ErrorCode = ErrorCode::new("INVALID_CANVAS_ID");
/// 404 for a canvas with no content.
pub const CANVAS_NOT_FOUND: ErrorCode = ErrorCode::new("CANVAS_NOT_FOUND");
/// 400 for a content type outside html, svg, markdown, text.
pub const INVALID_CONTENT_TYPE: ErrorCode = ErrorCode::new("INVALID_CONTENT_TYPE");
/// 413 for content over 256 KiB.
pub const CONTENT_TOO_LARGE: ErrorCode = ErrorCode::new("CONTENT_TOO_LARGE");
/// 429 when 100 canvases already hold content.
pub const CANVAS_LIMIT: ErrorCode = ErrorCode::new("CANVAS_LIMIT");

fn checked(id: &str) -> Result<(), ApiError> {
    if valid_canvas_id(id) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            INVALID_CANVAS_ID,
            "Canvas ids are 1-128 characters of A-Z a-z 0-9 _ - .",
        ))
    }
}

#[utoipa::path(
    get,
    path = "/api/canvas",
    tag = "canvas",
    operation_id = "list_canvases",
    summary = "List the canvases holding content",
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The ids of the canvases holding content.", body = crate::openapi::schemas::CanvasList),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the canvas store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn list(State(state): State<RealtimeState>) -> Result<Json<Value>, ApiError> {
    let canvases = state.0.canvas.list().await.map_err(store_error)?;
    Ok(Json(json!({ "canvases": canvases })))
}

#[utoipa::path(
    get,
    path = "/api/canvas/{id}",
    tag = "canvas",
    operation_id = "get_canvas",
    summary = "Read a canvas's current frame",
    params(
        ("id" = String, Path, pattern = "^(?!\\.\\.?$)[A-Za-z0-9._-]{1,128}$", description = "The canvas id, `[A-Za-z0-9_.-]{1,128}`, not `.` or `..`."),
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The current frame.", body = crate::openapi::schemas::CanvasCurrent),
        (status = 400, description = "`INVALID_CANVAS_ID`: the id is outside `[A-Za-z0-9_.-]{1,128}`, or `.` or `..`; `INVALID_PATH`: a malformed path parameter.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CANVAS_NOT_FOUND`: the canvas holds no content.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the canvas store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn get(
    State(state): State<RealtimeState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    checked(&id)?;
    let frame = state.0.canvas.current(&id).await.map_err(store_error)?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, CANVAS_NOT_FOUND, format!("Canvas '{id}' not found"))
    })?;
    Ok(Json(json!({ "canvas_id": id, "frame": frame })))
}

#[utoipa::path(
    get,
    path = "/api/canvas/{id}/history",
    tag = "canvas",
    operation_id = "get_canvas_history",
    summary = "Read a canvas's recent frames",
    params(
        ("id" = String, Path, pattern = "^(?!\\.\\.?$)[A-Za-z0-9._-]{1,128}$", description = "The canvas id, `[A-Za-z0-9_.-]{1,128}`, not `.` or `..`."),
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The frames, oldest first, at most 50; none for an empty canvas.", body = crate::openapi::schemas::CanvasHistory),
        (status = 400, description = "`INVALID_CANVAS_ID`: the id is outside `[A-Za-z0-9_.-]{1,128}`, or `.` or `..`; `INVALID_PATH`: a malformed path parameter.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the canvas store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn history(
    State(state): State<RealtimeState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    checked(&id)?;
    let frames = state.0.canvas.history(&id).await.map_err(store_error)?;
    Ok(Json(json!({ "canvas_id": id, "frames": frames })))
}

/// The policy a frame document runs under: a sandbox with scripts (agent canvases are often small apps),
/// nothing fetched from anywhere but inline content and data: URLs, framed only by the dashboard.
pub const FRAME_CSP: &str = "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; img-src data:; font-src data:; media-src data:; form-action 'none'; \
     base-uri 'none'; frame-ancestors 'self'";

/// Query of `GET /api/canvas/{id}/view`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ViewQuery {
    /// A frame id from the canvas's history; the current frame when absent.
    frame: Option<String>,
}

fn frame_not_found(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, CANVAS_NOT_FOUND, format!("Canvas '{id}' has no such frame"))
}

/// `GET /api/canvas/{id}/view[?frame=]`: the current frame (or the named one from the history) as its own
/// sandboxed document: html as `text/html`, svg as `image/svg+xml`, markdown and text as `text/plain`.
#[utoipa::path(
    get,
    path = "/api/canvas/{id}/view",
    tag = "canvas",
    operation_id = "view_canvas_frame",
    summary = "Serve a frame as a sandboxed document of its own",
    params(
        ("id" = String, Path, pattern = "^(?!\\.\\.?$)[A-Za-z0-9._-]{1,128}$", description = "The canvas id, `[A-Za-z0-9_.-]{1,128}`, not `.` or `..`."),
        ViewQuery,
    ),
    security(("bearer" = ["read"]), ("session_cookie" = ["read"])),
    responses(
        (status = 200, description = "The frame's content: html as `text/html`, svg as `image/svg+xml`, markdown and text as `text/plain`. The CSP `sandbox` gives it an opaque origin (no cookies, no storage, no calls back as the viewer) however it is opened.", content((crate::openapi::schemas::FrameDocument = "text/html"), (crate::openapi::schemas::FrameDocument = "image/svg+xml"), (crate::openapi::schemas::FrameDocument = "text/plain")), headers(("Content-Security-Policy" = String, description = "`sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:; media-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'`."), ("Cache-Control" = String, description = "`no-store`."), ("X-Content-Type-Options" = String, description = "`nosniff`."), ("X-Frame-Options" = String, description = "`SAMEORIGIN`."), ("Referrer-Policy" = String, description = "`no-referrer`."))),
        (status = 400, description = "`INVALID_CANVAS_ID`: the id is outside `[A-Za-z0-9_.-]{1,128}`, or `.` or `..`; `INVALID_PATH`: a malformed path parameter; `INVALID_QUERY`: a malformed query string.", body = construct_core::openapi::ErrorBody),
        (status = 404, description = "`CANVAS_NOT_FOUND`: the canvas has no current frame, or no frame `frame` in its history.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the canvas store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn view(
    State(state): State<RealtimeState>,
    Path(id): Path<String>,
    Query(query): Query<ViewQuery>,
) -> Result<Response, ApiError> {
    checked(&id)?;
    let frame = match query.frame {
        None => state.0.canvas.current(&id).await.map_err(store_error)?,
        Some(frame_id) => state
            .0
            .canvas
            .history(&id)
            .await
            .map_err(store_error)?
            .into_iter()
            .find(|frame| frame.frame_id == frame_id),
    }
    .ok_or_else(|| frame_not_found(&id))?;
    let content_type = match frame.content_type.as_str() {
        "html" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        _ => "text/plain; charset=utf-8",
    };
    let mut response = frame.content.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(FRAME_CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Body of `POST /api/canvas/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Render {
    /// `html` (the default), `svg`, `markdown` or `text`.
    #[serde(default = "html")]
    #[schema(default = "html", pattern = "^(html|svg|markdown|text)$")]
    content_type: String,
    /// The content, at most 256 KiB (of UTF-8).
    #[schema(max_length = 262144)]
    content: String,
}

fn html() -> String {
    "html".to_owned()
}

/// The envelope for a refused render.
fn render_error(error: RenderError) -> ApiError {
    let (status, code) = match &error {
        RenderError::InvalidId => (StatusCode::BAD_REQUEST, INVALID_CANVAS_ID),
        RenderError::InvalidContentType(_) => (StatusCode::BAD_REQUEST, INVALID_CONTENT_TYPE),
        RenderError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, CONTENT_TOO_LARGE),
        RenderError::TooManyCanvases => (StatusCode::TOO_MANY_REQUESTS, CANVAS_LIMIT),
        RenderError::Store(store) => return store_error(store.clone()),
    };
    ApiError::new(status, code, error.to_string())
}

#[utoipa::path(
    post,
    path = "/api/canvas/{id}",
    tag = "canvas",
    operation_id = "render_canvas",
    summary = "Render a frame on a canvas",
    params(
        ("id" = String, Path, pattern = "^(?!\\.\\.?$)[A-Za-z0-9._-]{1,128}$", description = "The canvas id, `[A-Za-z0-9_.-]{1,128}`, not `.` or `..`."),
    ),
    request_body(content = Render, content_type = "application/json"),
    security(("bearer" = ["chat"]), ("session_cookie" = ["chat"])),
    responses(
        (status = 201, description = "Stored as the canvas's current frame and published as `canvas_updated`; live viewers get it.", body = crate::openapi::schemas::CanvasCurrent),
        (status = 400, description = "`INVALID_CANVAS_ID`: the id is outside `[A-Za-z0-9_.-]{1,128}`, or `.` or `..`; `INVALID_PATH`: a malformed path parameter; `INVALID_CONTENT_TYPE`: a content type other than `html`, `svg`, `markdown` or `text`; `INVALID_JSON`: the body is not JSON; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        (status = 413, description = "`CONTENT_TOO_LARGE`: content over 256 KiB; `PAYLOAD_TOO_LARGE`: the body is over the route's limit (twice the content limit plus 4 KiB).", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::NotJson,
        (status = 422, description = "`INVALID_BODY`: a missing or mistyped field; `IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used for a different request.", body = construct_core::openapi::ErrorBody),
        (status = 429, description = "`CANVAS_LIMIT`: 100 canvases already hold content; `RATE_LIMITED`: the API rate limit, or the lockout after repeated bad tokens; see `Retry-After`.", body = construct_core::openapi::ErrorBody),
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the canvas store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn render(
    State(state): State<RealtimeState>,
    Path(id): Path<String>,
    Json(body): Json<Render>,
) -> Result<Response, ApiError> {
    let frame = render_frame(&*state.0.canvas, &*state.0.events, &id, &body.content_type, &body.content)
        .await
        .map_err(render_error)?;
    Ok((StatusCode::CREATED, Json(json!({ "canvas_id": id, "frame": frame }))).into_response())
}

#[utoipa::path(
    delete,
    path = "/api/canvas/{id}",
    tag = "canvas",
    operation_id = "clear_canvas",
    summary = "Clear a canvas and its history",
    params(
        ("id" = String, Path, pattern = "^(?!\\.\\.?$)[A-Za-z0-9._-]{1,128}$", description = "The canvas id, `[A-Za-z0-9_.-]{1,128}`, not `.` or `..`."),
    ),
    security(("bearer" = ["chat"]), ("session_cookie" = ["chat"])),
    responses(
        (status = 200, description = "Removed (also when it held nothing); live viewers get a `clear` frame.", body = crate::openapi::schemas::CanvasCleared),
        (status = 400, description = "`INVALID_CANVAS_ID`: the id is outside `[A-Za-z0-9_.-]{1,128}`, or `.` or `..`; `INVALID_PATH`: a malformed path parameter; `INVALID_IDEMPOTENCY_KEY`: an empty `Idempotency-Key`, or one over 255 bytes.", body = construct_core::openapi::ErrorBody),
        construct_core::openapi::IdempotencyInProgress,
        construct_core::openapi::IdempotencyKeyReused,
        (status = 503, description = "`STORE_UNAVAILABLE`: the gateway's store cannot be reached (the canvas store, or the credential check).", body = construct_core::openapi::ErrorBody),
    )
)]
pub(crate) async fn clear(
    State(state): State<RealtimeState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    clear_canvas(&*state.0.canvas, &*state.0.events, &id).await.map_err(render_error)?;
    Ok(Json(json!({ "canvas_id": id, "status": "cleared" })))
}

pub(crate) async fn ws_canvas(
    State(state): State<RealtimeState>,
    Client(client): Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    checked(&id)?;
    let permit = state.0.ws.admit(&headers, client.key, "/ws/canvas/{id}")?;
    Ok(state.0.ws.configure(upgrade, PROTOCOL).on_upgrade(move |socket| async move {
        let (mut reader, outbox) = state.0.ws.connect(socket, permit);
        // Subscribe before reading the current frame, so nothing rendered in between is missed; the
        // snapshot's frame is not sent twice.
        let mut bus = state.0.events.subscribe(None);
        let current = match state.0.canvas.current(&id).await {
            Ok(current) => current,
            Err(error) => {
                tracing::error!(%error, "canvas store failed");
                outbox.close(crate::ws::close::INTERNAL, "canvas store unavailable").await;
                return;
            }
        };
        let mut last_sent = None;
        if let Some(frame) = current {
            last_sent = Some(frame.frame_id.clone());
            if outbox.control(&json!({"type": "frame", "canvas_id": id, "frame": frame})).await.is_err() {
                return;
            }
        }
        if outbox.control(&json!({"type": "connected", "canvas_id": id})).await.is_err() {
            return;
        }
        loop {
            tokio::select! {
                frame = reader.next() => match frame {
                    // Viewers have nothing to say; their frames are read only to notice a close.
                    Some(Frame::Text(_) | Frame::Binary(_)) => {}
                    None => break,
                },
                delivery = bus.next() => match delivery {
                    Some(Delivery::Event(event))
                        if event.kind == CANVAS_UPDATED && event.payload["canvas_id"] == id.as_str() =>
                    {
                        let frame = &event.payload["frame"];
                        if frame["frame_id"].as_str() == last_sent.as_deref() {
                            continue;
                        }
                        last_sent = frame["frame_id"].as_str().map(str::to_owned);
                        let _ = outbox.stream(&json!({"type": "frame", "canvas_id": id, "frame": frame}));
                    }
                    Some(Delivery::Lagged { missed }) => {
                        let notice = json!({"type": "lagged", "canvas_id": id, "missed_frames": missed, "missed": missed});
                        let _ = outbox.stream(&notice);
                    }
                    Some(_) => {}
                    None => break,
                },
            }
        }
    }))
}
