//! The assembled router, called in-process: core routes, envelopes for every failure, limits, request ids
//! and the path prefix.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::{get, post};
use construct_core::LoadedConfig;
use construct_core::extract::Json;
use construct_gateway::{Access, Gateway, RouteGroup};
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct TestGateway {
    router: Router,
    gateway: Gateway,
    _dir: tempfile::TempDir,
}

fn gateway_with(configure: impl FnOnce(&mut LoadedConfig), groups: Vec<RouteGroup>) -> TestGateway {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut loaded = LoadedConfig::with_defaults(dir.path());
    configure(&mut loaded);
    let mut builder = Gateway::builder(loaded);
    for group in groups {
        builder = builder.route_group(group);
    }
    let gateway = builder.build().expect("build");
    TestGateway { router: gateway.router(), gateway, _dir: dir }
}

fn gateway() -> TestGateway {
    gateway_with(|_| {}, vec![test_routes()])
}

#[derive(serde::Deserialize)]
struct Message {
    message: String,
}

/// Routes that exist only in tests, to drive the failure paths.
fn test_routes() -> RouteGroup {
    RouteGroup::new("test", Access::Public)
        .route("/test/echo", post(|body: Bytes| async move { body.len().to_string() }))
        // Reads the raw body with no limit of its own: only the gateway's body limit stands in the way.
        .route(
            "/test/raw",
            post(|body: Body| async move {
                match axum::body::to_bytes(body, usize::MAX).await {
                    Ok(bytes) => bytes.len().to_string(),
                    Err(_) => "cut off".to_owned(),
                }
            }),
        )
        .route(
            "/test/json",
            post(|Json(m): Json<Message>| async move { Json(json!({"len": m.message.len()})) }),
        )
        .route(
            "/test/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/test/panic",
            get(|| async {
                if Duration::ZERO.is_zero() {
                    panic!("boom: secret detail");
                }
                "unreachable"
            }),
        )
}

async fn send(router: &Router, request: Request<Body>) -> (Response<()>, Value) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (Response::from_parts(parts, ()), json)
}

fn get_req(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

fn assert_envelope(response: &Response<()>, json: &Value, status: StatusCode, code: &str) {
    assert_eq!(response.status(), status, "{json}");
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(json["code"], code, "{json}");
    assert!(json["error"].as_str().is_some_and(|e| !e.is_empty()), "{json}");
}

#[tokio::test]
async fn health_is_minimal() {
    let gw = gateway();
    let (response, json) = send(&gw.router, get_req("/health")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(
        json,
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION"), "require_pairing": true, "paired": false})
    );
}

#[tokio::test]
async fn health_reports_pairing_settings_and_status() {
    use construct_core::devices::{DeviceStore, NewDevice, PairingCode, TokenHash};
    let store = construct_store::MemoryStore::new();
    let now = time::OffsetDateTime::now_utc();
    let code =
        PairingCode { code: "123456".into(), expires_at: now + time::Duration::minutes(5), scopes: None };
    store.set_pairing_code(&code).await.unwrap();
    store
        .redeem_pairing_code("123456", now, NewDevice::default(), &TokenHash([1; 32]))
        .await
        .unwrap()
        .unwrap();

    let dir = tempfile::tempdir().expect("tempdir");
    let mut loaded = LoadedConfig::with_defaults(dir.path());
    loaded.config.gateway.require_pairing = false;
    let gw = Gateway::builder(loaded).device_store(store).build().expect("build");
    let (_, json) = send(&gw.router(), get_req("/health")).await;
    assert_eq!(json["require_pairing"], false);
    assert_eq!(json["paired"], true);
}

#[tokio::test]
async fn unknown_paths_are_json_404s() {
    let gw = gateway();
    for path in ["/nope", "/api/unknown", "/api/", "/health/extra"] {
        let (response, json) = send(&gw.router, get_req(path)).await;
        assert_envelope(&response, &json, StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    let (response, json) =
        send(&gw.router, Request::delete("/api/x").body(Body::empty()).expect("req")).await;
    assert_envelope(&response, &json, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn wrong_method_is_json_405_with_allow() {
    let gw = gateway();
    let (response, json) = send(&gw.router, Request::post("/health").body(Body::empty()).expect("req")).await;
    assert_envelope(&response, &json, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
    let allow = response.headers()[header::ALLOW].to_str().expect("ascii");
    assert!(allow.contains("GET"), "{allow}");
}

#[tokio::test]
async fn body_limit_is_64k_exactly() {
    let gw = gateway();
    let ok = Request::post("/test/echo").body(Body::from(vec![b'a'; 65_536])).expect("req");
    let (response, _) = send(&gw.router, ok).await;
    assert_eq!(response.status(), StatusCode::OK);

    let over = Request::post("/test/echo").body(Body::from(vec![b'a'; 65_537])).expect("req");
    let (response, json) = send(&gw.router, over).await;
    assert_envelope(&response, &json, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn a_raw_body_reader_is_bounded_too() {
    let gw = gateway();
    let declared = Request::post("/test/raw")
        .header(header::CONTENT_LENGTH, "65537")
        .body(Body::from(vec![b'a'; 65_537]))
        .expect("req");
    let (response, json) = send(&gw.router, declared).await;
    assert_envelope(&response, &json, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");

    let chunks = (0..9).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'z'; 8 * 1024])));
    let streamed =
        Request::post("/test/raw").body(Body::from_stream(futures_util::stream::iter(chunks))).expect("r");
    let response = gw.router.clone().oneshot(streamed).await.expect("infallible");
    let body = response.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], b"cut off", "the handler never saw more than the limit");
}

#[tokio::test]
async fn streamed_body_over_the_limit_is_413() {
    let gw = gateway();
    let chunks = (0..9).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'z'; 8 * 1024])));
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let request = Request::post("/test/echo").body(body).expect("req");
    let (response, json) = send(&gw.router, request).await;
    assert_envelope(&response, &json, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn a_group_can_raise_its_own_body_limit() {
    let big = RouteGroup::new("big", Access::Public)
        .route("/big", post(|b: Bytes| async move { b.len().to_string() }))
        .body_limit(1 << 20);
    let gw = gateway_with(|_| {}, vec![test_routes(), big]);
    let (response, _) =
        send(&gw.router, Request::post("/big").body(Body::from(vec![0u8; 500_000])).expect("req")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (response, _) =
        send(&gw.router, Request::post("/test/echo").body(Body::from(vec![0u8; 500_000])).expect("req"))
            .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(start_paused = true)]
async fn slow_handler_gets_408() {
    let gw = gateway_with(|l| l.config.gateway.request_timeout_secs = 1, vec![test_routes()]);
    let (response, json) = send(&gw.router, get_req("/test/slow")).await;
    assert_envelope(&response, &json, StatusCode::REQUEST_TIMEOUT, "REQUEST_TIMEOUT");
}

#[tokio::test(start_paused = true)]
async fn a_group_can_set_its_own_timeout() {
    let slow = RouteGroup::new("patient", Access::Public)
        .route(
            "/patient",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "done"
            }),
        )
        .timeout(Duration::from_secs(10));
    let gw = gateway_with(|l| l.config.gateway.request_timeout_secs = 1, vec![slow]);
    let (response, _) = send(&gw.router, get_req("/patient")).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn panics_become_500_envelopes_without_details() {
    let gw = gateway();
    let (response, json) = send(&gw.router, get_req("/test/panic")).await;
    assert_envelope(&response, &json, StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR");
    assert!(!json.to_string().contains("secret detail"));
    // The router keeps serving after a panic.
    let (response, _) = send(&gw.router, get_req("/health")).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn json_extractor_rejections_are_envelopes() {
    let gw = gateway();
    let json_post = |body: &'static str, content_type: Option<&str>| {
        let mut builder = Request::post("/test/json");
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        builder.body(Body::from(body)).expect("req")
    };
    let (response, json) = send(&gw.router, json_post("{\"message\": ", Some("application/json"))).await;
    assert_envelope(&response, &json, StatusCode::BAD_REQUEST, "INVALID_JSON");
    let (response, json) = send(&gw.router, json_post("{\"message\":\"hi\"}", None)).await;
    assert_envelope(&response, &json, StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE");
    let (response, json) = send(&gw.router, json_post("{\"other\":1}", Some("application/json"))).await;
    assert_envelope(&response, &json, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY");
    let (response, json) =
        send(&gw.router, json_post("{\"message\":\"hi\"}", Some("application/json"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json, json!({"len": 2}));
}

#[tokio::test]
async fn request_id_is_generated_echoed_or_replaced() {
    let gw = gateway();
    let (response, _) = send(&gw.router, get_req("/health")).await;
    let generated = response.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    assert_eq!(generated.len(), 36, "{generated}");

    let with_id =
        Request::get("/health").header("x-request-id", "client-id-42").body(Body::empty()).expect("req");
    let (response, _) = send(&gw.router, with_id).await;
    assert_eq!(response.headers()["x-request-id"], "client-id-42");

    let hostile = Request::get("/nope").header("x-request-id", "a b\"c").body(Body::empty()).expect("req");
    let (response, _) = send(&gw.router, hostile).await;
    let replaced = response.headers()["x-request-id"].to_str().expect("ascii");
    assert_ne!(replaced, "a b\"c");
    assert_eq!(replaced.len(), 36);
}

#[tokio::test]
async fn everything_is_served_under_the_prefix() {
    let gw = gateway_with(|l| l.config.gateway.path_prefix = Some("/construct".into()), vec![test_routes()]);
    let (response, json) = send(&gw.router, get_req("/construct/health")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json["status"], "ok");

    let (response, _) = send(&gw.router, get_req("/construct/?a=1")).await;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(response.headers()[header::LOCATION], "/construct?a=1");

    for outside in ["/health", "/", "/constructx/health", "/other"] {
        let (response, json) = send(&gw.router, get_req(outside)).await;
        assert_envelope(&response, &json, StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    let (response, json) = send(&gw.router, get_req("/construct/nope")).await;
    assert_envelope(&response, &json, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (response, json) =
        send(&gw.router, Request::post("/construct/health").body(Body::empty()).expect("r")).await;
    assert_envelope(&response, &json, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn readyz_reports_checks_and_draining() {
    let gw = gateway();
    let (response, json) = send(&gw.router, get_req("/readyz")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json, json!({"status": "ready", "checks": {"data_dir": "ok"}}));

    gw.gateway.state().readiness.start_draining();
    let (response, json) = send(&gw.router, get_req("/readyz")).await;
    assert_envelope(&response, &json, StatusCode::SERVICE_UNAVAILABLE, "NOT_READY");
    assert_eq!(json["checks"]["shutdown"], "draining");
}

#[tokio::test]
async fn readyz_fails_when_the_data_dir_is_gone() {
    let gw = gateway();
    let data_dir = gw.gateway.data_dir();
    std::fs::remove_dir_all(&data_dir).expect("remove");
    let (response, json) = send(&gw.router, get_req("/readyz")).await;
    assert_envelope(&response, &json, StatusCode::SERVICE_UNAVAILABLE, "NOT_READY");
    assert_eq!(json["checks"]["data_dir"], "failed");
    assert!(!json.to_string().contains(data_dir.to_str().expect("utf8")), "reasons stay in the log");
}

#[tokio::test]
async fn build_rejects_an_invalid_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut loaded = LoadedConfig::with_defaults(dir.path());
    loaded.config.gateway.path_prefix = Some("no-slash".into());
    let err = Gateway::builder(loaded).build().unwrap_err();
    assert!(err.to_string().contains("gateway.path_prefix"), "{err}");
}
