//! The OpenAPI document covers the router: every method of every mounted REST route is described, and the
//! served document is the committed one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::collections::BTreeSet;

use common::*;
use http::{Method, StatusCode};

/// Routes not described yet; the work removes them one by one. The test fails when one of them
/// gets described (take it off the list) as much as when a new route is not.
const PENDING: &[&str] = &[];

/// `/api/skills/{*kref}` is written `/api/skills/{kref}` in OpenAPI.
fn openapi_path(axum: &str) -> String {
    axum.replace("{*", "{")
}

/// WebSocket upgrades and the dashboard's files are not REST routes; docs/api.md describes them.
fn is_rest(path: &str) -> bool {
    !(path.starts_with("/ws/") || path == "/" || path.starts_with("/_app/"))
}

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            s if s.starts_with("{*") => "a/b".to_owned(),
            s if s.starts_with('{') => "x".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_mounted_rest_route_and_method_is_described() {
    // The local operator on loopback passes every guard (admin, loopback-only), so a 405 is the router
    // saying the method is not mounted, never a refusal in its place.
    // No rate limits either: a 429 would hide a 405 just the same.
    let h = harness(|l| {
        l.config.gateway.require_pairing = false;
        l.config.gateway.pair_rate_limit_per_minute = 0;
        l.config.gateway.webhook_rate_limit_per_minute = 0;
        l.config.gateway.api_rate_limit_per_minute = 0;
    });
    let doc = construct_gateway::openapi::document();
    let mut missing = BTreeSet::new();
    let mut described = 0;
    for route in h.gateway.route_table().iter().filter(|r| is_rest(&r.path)) {
        for method in [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let status = call(method.clone(), &concrete(&route.path)).from(LOCAL).status(&h.router).await;
            if status == StatusCode::METHOD_NOT_ALLOWED {
                continue;
            }
            let item = doc.paths.paths.get(&openapi_path(&route.path));
            let operation = item.and_then(|item| match method.as_str() {
                "GET" => item.get.as_ref(),
                "POST" => item.post.as_ref(),
                "PUT" => item.put.as_ref(),
                "PATCH" => item.patch.as_ref(),
                _ => item.delete.as_ref(),
            });
            match operation {
                Some(_) => described += 1,
                None => {
                    missing.insert(format!("{method} {}", route.path));
                }
            }
        }
    }
    let pending: BTreeSet<String> = PENDING.iter().map(|s| (*s).to_owned()).collect();
    let newly_undescribed: Vec<&String> = missing.difference(&pending).collect();
    let now_described: Vec<&String> = pending.difference(&missing).collect();
    assert!(
        newly_undescribed.is_empty(),
        "routes the OpenAPI document does not describe: {newly_undescribed:#?}"
    );
    assert!(now_described.is_empty(), "described now; take them off PENDING: {now_described:#?}");
    assert!(described >= 4, "{described}");
}

#[tokio::test]
async fn every_described_operation_answers_errors_in_the_envelope_and_names_its_security() {
    let doc = construct_gateway::openapi::document();
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(json["openapi"], "3.1.0");
    for (path, item) in json["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path}: a success answer");
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} {status}");
                    // Each code is explained once per answer (pieces written in several places, such as
                    // the guard's and the handler's, must not repeat one).
                    let description = response["description"].as_str().unwrap_or_default();
                    let mut codes: Vec<&str> = description
                        .split('`')
                        .skip(1)
                        .step_by(2)
                        .filter(|code| {
                            code.len() > 2 && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                        })
                        .collect();
                    let named = codes.len();
                    codes.sort_unstable();
                    codes.dedup();
                    assert_eq!(
                        codes.len(),
                        named,
                        "{method} {path} {status} names a code twice: {description}"
                    );
                }
            }
            assert!(operation.get("security").is_some(), "{method} {path}: public or not, say so");
        }
    }
    // Every reference resolves.
    assert_eq!(construct_core::openapi::dangling_refs(&json), Vec::<String>::new());
}

#[tokio::test]
async fn the_document_is_served_to_readers_and_names_the_prefix() {
    let h = harness(|_| {});
    let (admin, _) = pair_first(&h).await;
    let (status, _, body) = call(Method::GET, "/api/openapi.json").token(&admin).send_text(&h.router).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, construct_gateway::openapi::document_json(), "the committed form");
    assert_error(
        &call(Method::GET, "/api/openapi.json").send(&h.router).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );

    let h = harness(|l| {
        l.config.gateway.path_prefix = Some("/construct".into());
        l.config.gateway.require_pairing = false;
    });
    let (status, _, body) =
        call(Method::GET, "/construct/api/openapi.json").from(LOCAL).send(&h.router).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["servers"][0]["url"], "/construct");
}
