//! Idempotency keys through the assembled router: replay, conflicts, reuse, failures, scoping.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::response::IntoResponse;
use axum::routing::post;
use common::*;
use construct_core::principal::Scope;
use construct_gateway::{Access, RouteGroup};
use http::{Method, StatusCode};
use serde_json::json;

/// `POST /test/orders` counts its executions; `POST /test/flaky` fails with 500 the first time;
/// `POST /test/slow` takes 300 ms.
fn orders(counter: Arc<AtomicUsize>) -> RouteGroup {
    let flaky = Arc::new(AtomicUsize::new(0));
    let (c1, c2) = (Arc::clone(&counter), Arc::clone(&counter));
    RouteGroup::new("orders", Access::Scope(Scope::Chat))
        .route(
            "/test/orders",
            post(move |body: String| async move {
                let n = c1.fetch_add(1, Ordering::SeqCst) + 1;
                axum::Json(json!({"order": n, "echo": body}))
            }),
        )
        .route(
            "/test/flaky",
            post(move || async move {
                if flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                    (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()
                } else {
                    (StatusCode::CREATED, "made").into_response()
                }
            }),
        )
        .route(
            "/test/slow",
            post(move || async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                c2.fetch_add(1, Ordering::SeqCst);
                "slow done"
            }),
        )
}

#[tokio::test]
async fn a_retry_replays_the_first_response_byte_for_byte() {
    let counter = Arc::new(AtomicUsize::new(0));
    let h = harness_with(|_| {}, vec![orders(Arc::clone(&counter))]);
    let (token, _) = pair_first(&h).await;
    let order = || {
        call(Method::POST, "/test/orders")
            .token(&token)
            .header("idempotency-key", "order-1")
            .raw("text/plain", "two apples")
    };
    let first = order().send(&h.router).await;
    let second = order().send(&h.router).await;
    assert_eq!(first.0, StatusCode::OK);
    assert_eq!(second.0, StatusCode::OK);
    assert_eq!(first.2, second.2, "same body");
    assert_eq!(second.1["idempotent-replayed"], "true");
    assert!(first.1.get("idempotent-replayed").is_none());
    assert_eq!(second.1["content-type"], "application/json");
    assert_eq!(counter.load(Ordering::SeqCst), 1, "the handler ran once");

    // The legacy header name works too, and requests without a key are never deduplicated.
    let legacy = || {
        call(Method::POST, "/test/orders")
            .token(&token)
            .header("x-idempotency-key", "legacy-1")
            .raw("text/plain", "x")
    };
    legacy().send(&h.router).await;
    assert_eq!(legacy().send(&h.router).await.1["idempotent-replayed"], "true");
    call(Method::POST, "/test/orders").token(&token).raw("text/plain", "x").send(&h.router).await;
    call(Method::POST, "/test/orders").token(&token).raw("text/plain", "x").send(&h.router).await;
    assert_eq!(counter.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn reusing_a_key_for_another_request_is_422() {
    let counter = Arc::new(AtomicUsize::new(0));
    let h = harness_with(|_| {}, vec![orders(Arc::clone(&counter))]);
    let (token, _) = pair_first(&h).await;
    let with_body = |body: &'static str| {
        call(Method::POST, "/test/orders")
            .token(&token)
            .header("idempotency-key", "k")
            .raw("text/plain", body)
    };
    assert_eq!(with_body("one").send(&h.router).await.0, StatusCode::OK);
    assert_error(
        &with_body("two").send(&h.router).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    );
    assert_eq!(counter.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_concurrent_duplicate_is_409() {
    let counter = Arc::new(AtomicUsize::new(0));
    let h = harness_with(|_| {}, vec![orders(Arc::clone(&counter))]);
    let (token, _) = pair_first(&h).await;
    let slow = || call(Method::POST, "/test/slow").token(&token).header("idempotency-key", "slow-1");
    let (first, second) = tokio::join!(slow().send(&h.router), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        slow().send(&h.router).await
    });
    assert_eq!(first.0, StatusCode::OK);
    assert_error(&second, StatusCode::CONFLICT, "IDEMPOTENCY_IN_PROGRESS");
    assert_eq!(counter.load(Ordering::SeqCst), 1);
    // Once finished, a retry replays.
    assert_eq!(slow().send(&h.router).await.1["idempotent-replayed"], "true");
}

#[tokio::test]
async fn server_errors_are_not_stored_so_a_retry_runs_again() {
    let h = harness_with(|_| {}, vec![orders(Arc::new(AtomicUsize::new(0)))]);
    let (token, _) = pair_first(&h).await;
    let flaky = || call(Method::POST, "/test/flaky").token(&token).header("idempotency-key", "f1");
    assert_eq!(flaky().send(&h.router).await.0, StatusCode::INTERNAL_SERVER_ERROR);
    let retry = flaky().send(&h.router).await;
    assert_eq!(retry.0, StatusCode::CREATED);
    assert!(retry.1.get("idempotent-replayed").is_none());
    assert_eq!(flaky().send(&h.router).await.1["idempotent-replayed"], "true");
}

#[tokio::test]
async fn keys_are_scoped_by_principal_and_validated() {
    let counter = Arc::new(AtomicUsize::new(0));
    let h = harness_with(|_| {}, vec![orders(Arc::clone(&counter))]);
    let (admin, _) = pair_first(&h).await;
    let code = mint_code(&h, &admin, None).await;
    let (_, _, body) = call(Method::POST, "/api/pair").json(json!({"code": code})).send(&h.router).await;
    let other = body["token"].as_str().unwrap().to_owned();
    for token in [&admin, &other] {
        let got = call(Method::POST, "/test/orders")
            .token(token)
            .header("idempotency-key", "shared")
            .raw("text/plain", "x")
            .send(&h.router)
            .await;
        assert!(got.1.get("idempotent-replayed").is_none(), "another principal's response was replayed");
    }
    assert_eq!(counter.load(Ordering::SeqCst), 2);

    let long = "k".repeat(256);
    let got = call(Method::POST, "/test/orders")
        .token(&admin)
        .header("idempotency-key", &long)
        .send(&h.router)
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, "INVALID_IDEMPOTENCY_KEY");
    let got =
        call(Method::POST, "/test/orders").token(&admin).header("idempotency-key", " ").send(&h.router).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "INVALID_IDEMPOTENCY_KEY");
    // Unauthenticated requests are refused before any key is claimed.
    let got = call(Method::POST, "/test/orders").header("idempotency-key", "anon").send(&h.router).await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(counter.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn device_rotation_is_idempotent_on_the_real_api() {
    let h = harness(|_| {});
    let (admin, id) = pair_first(&h).await;
    let rotate = || {
        call(Method::POST, &format!("/api/devices/{id}/token/rotate"))
            .token(&admin)
            .header("idempotency-key", "rot-1")
    };
    let first = rotate().send(&h.router).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.2);
    let new_token = first.2["token"].as_str().unwrap().to_owned();
    // The retry carries the *old* token, which rotation just killed: it must be refused, not replayed.
    assert_error(&rotate().send(&h.router).await, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(call(Method::GET, "/api/status").token(&new_token).send(&h.router).await.0, StatusCode::OK);
}

#[tokio::test]
async fn responses_carrying_secrets_are_never_stored() {
    let h = harness(|_| {});
    let (admin, _) = pair_first(&h).await;
    let initiate =
        || call(Method::POST, "/api/pairing/initiate").token(&admin).header("idempotency-key", "mint-1");
    let first = initiate().send(&h.router).await;
    let second = initiate().send(&h.router).await;
    assert_eq!((first.0, second.0), (StatusCode::OK, StatusCode::OK));
    assert_eq!(first.1["cache-control"], "no-store");
    assert!(second.1.get("idempotent-replayed").is_none(), "a pairing code was replayed from the store");
    assert_ne!(first.2["pairing_code"], second.2["pairing_code"]);
}

#[tokio::test]
async fn the_same_key_on_another_path_is_another_request() {
    let counter = Arc::new(AtomicUsize::new(0));
    let h = harness_with(|_| {}, vec![orders(Arc::clone(&counter))]);
    let (token, _) = pair_first(&h).await;
    let on = |path: &str| {
        call(Method::POST, path).token(&token).header("idempotency-key", "same").raw("text/plain", "x")
    };
    assert_eq!(on("/test/orders").send(&h.router).await.0, StatusCode::OK);
    assert_eq!(
        on("/test/slow").send(&h.router).await.0,
        StatusCode::OK,
        "not a reuse: keys are scoped by path"
    );
    assert_eq!(counter.load(Ordering::SeqCst), 2);
}
