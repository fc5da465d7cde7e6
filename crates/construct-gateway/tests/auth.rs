//! Authentication, pairing, devices and limits through the assembled router: every route's access rule,
//! the pairing flow, revocation and rotation, lockouts, spoofing, and the error for each bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use common::*;
use construct_gateway::Access;
use http::{Method, StatusCode, header};
use serde_json::{Value, json};

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
async fn every_route_refuses_anonymous_callers_unless_public() {
    let h = harness(|_| {});
    let table = h.gateway.route_table();
    assert!(table.len() >= 10, "{table:?}");
    let public: Vec<&str> =
        table.iter().filter(|r| matches!(r.access, Access::Public)).map(|r| r.path.as_str()).collect();
    assert_eq!(
        public,
        [
            "/health",
            "/readyz",
            "/pair",
            "/api/pair",
            "/api/auth/login",
            "/",
            "/_app/",
            "/_app/index.html",
            "/_app/assets/{*file}"
        ],
        "the public allowlist: probes, pairing, and the dashboard's files (its data needs credentials)"
    );
    for route in table {
        for method in [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let got = call(method.clone(), &concrete(&route.path)).send(&h.router).await;
            if got.0 == StatusCode::METHOD_NOT_ALLOWED {
                continue;
            }
            match route.access {
                Access::Public | Access::Webhook => {}
                Access::LoopbackAdmin => assert_error(&got, StatusCode::FORBIDDEN, "LOOPBACK_ONLY"),
                Access::Scope(_) | Access::Node => {
                    assert_error(&got, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
                    assert_eq!(got.1[header::WWW_AUTHENTICATE], "Bearer", "{method} {}", route.path);
                }
            }
        }
    }
}

#[tokio::test]
async fn pairing_flow_scopes_revocation_and_rotation() {
    let h = harness(|_| {});
    let (admin, admin_id) = pair_first(&h).await;

    let (status, _, body) = call(Method::GET, "/api/status").token(&admin).send(&h.router).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pairing"]["device_count"], 1);
    assert_eq!(body["store"], "memory");
    assert!(!body.to_string().contains(&admin), "no secrets in status");

    // A second device, paired through the JSON flow, gets read and chat only.
    let code = mint_code(&h, &admin, None).await;
    let (status, _, body) = call(Method::POST, "/api/pair")
        .json(json!({"code": code, "device_name": "phone", "device_type": "mobile"}))
        .send(&h.router)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Pairing successful");
    let phone = body["token"].as_str().unwrap().to_owned();
    let phone_id = body["device_id"].as_str().unwrap().to_owned();
    assert_eq!(body["scopes"], json!(["read", "chat"]));
    assert_error(
        &call(Method::GET, "/api/devices").token(&phone).send(&h.router).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_SCOPE",
    );
    assert_eq!(call(Method::GET, "/api/status").token(&phone).send(&h.router).await.0, StatusCode::OK);

    let (_, _, listed) = call(Method::GET, "/api/devices").token(&admin).send(&h.router).await;
    assert_eq!(listed["count"], 2);
    let names: Vec<&str> =
        listed["devices"].as_array().unwrap().iter().filter_map(|d| d["name"].as_str()).collect();
    assert_eq!(names, ["phone"]);
    assert!(listed["devices"][0]["paired_at"].as_str().unwrap().ends_with('Z'));

    // Revocation: the phone's token fails on its very next request.
    let (status, _, body) =
        call(Method::DELETE, &format!("/api/devices/{phone_id}")).token(&admin).send(&h.router).await;
    assert_eq!((status, body["device_id"].as_str()), (StatusCode::OK, Some(phone_id.as_str())));
    assert_error(
        &call(Method::GET, "/api/status").token(&phone).send(&h.router).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
    assert_error(
        &call(Method::DELETE, &format!("/api/devices/{phone_id}")).token(&admin).send(&h.router).await,
        StatusCode::NOT_FOUND,
        "DEVICE_NOT_FOUND",
    );

    // Rotation: the new token works, the old one does not.
    let (status, _, body) = call(Method::POST, &format!("/api/devices/{admin_id}/token/rotate"))
        .token(&admin)
        .send(&h.router)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = body["token"].as_str().unwrap().to_owned();
    assert_error(
        &call(Method::GET, "/api/status").token(&admin).send(&h.router).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
    assert_eq!(call(Method::GET, "/api/status").token(&rotated).send(&h.router).await.0, StatusCode::OK);
    assert_error(
        &call(Method::POST, "/api/devices/nope/token/rotate").token(&rotated).send(&h.router).await,
        StatusCode::NOT_FOUND,
        "DEVICE_NOT_FOUND",
    );
}

#[tokio::test]
async fn codes_can_carry_scopes() {
    let h = harness(|_| {});
    let (admin, _) = pair_first(&h).await;
    let code = mint_code(&h, &admin, Some(json!({"scopes": ["read"]}))).await;
    let (_, _, body) = call(Method::POST, "/api/pair").json(json!({"code": code})).send(&h.router).await;
    assert_eq!(body["scopes"], json!(["read"]));
    let reader = body["token"].as_str().unwrap();
    assert_eq!(call(Method::GET, "/api/status").token(reader).send(&h.router).await.0, StatusCode::OK);
}

#[tokio::test]
async fn bad_pairing_input_gets_exact_errors() {
    let h = harness(|_| {});
    let (admin, _) = pair_first(&h).await;
    let r = &h.router;
    assert_error(&call(Method::POST, "/pair").send(r).await, StatusCode::FORBIDDEN, "INVALID_PAIRING_CODE");
    assert_error(
        &call(Method::POST, "/pair").header("x-pairing-code", "000000").from("198.51.100.1:1").send(r).await,
        StatusCode::FORBIDDEN,
        "INVALID_PAIRING_CODE",
    );
    let api_pair = || call(Method::POST, "/api/pair").from("198.51.100.2:1");
    assert_error(
        &api_pair().raw("text/plain", "{\"code\":\"1\"}").send(r).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    );
    assert_error(
        &api_pair().raw("application/json", "{\"code\":").send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_JSON",
    );
    assert_error(&api_pair().json(json!({})).send(r).await, StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY");
    assert_error(
        &api_pair().json(json!({"code": 123456})).send(r).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_BODY",
    );
    assert_error(
        &api_pair().json(json!({"code": "1", "admin": true})).send(r).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_BODY",
    );
    assert_error(
        &api_pair().json(json!({"code": "1", "device_name": "x".repeat(65)})).send(r).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_BODY",
    );
    assert_error(
        &api_pair().json(json!({"code": "1", "device_name": "evil\u{1b}[31m"})).send(r).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_BODY",
    );
    let initiate = || call(Method::POST, "/api/pairing/initiate").token(&admin);
    assert_error(
        &initiate().json(json!({"scopes": ["root"]})).send(r).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_BODY",
    );
    assert_error(
        &initiate().raw("application/json", "{").send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_JSON",
    );
    assert_error(
        &initiate().raw("text/plain", "scopes=admin").send(r).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    );
    assert_error(
        &initiate().raw("application/json", "[]").send(r).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_BODY",
    );
    assert_error(
        &initiate().raw("application/json", "\t").send(r).await,
        StatusCode::BAD_REQUEST,
        "INVALID_JSON",
    );
    // JSON `null` is no body: a code with the default scopes.
    let (status, _, minted) = initiate().raw("application/json", "null").send(r).await;
    assert_eq!((status, minted["scopes"].clone()), (StatusCode::OK, json!(null)), "{minted}");
    assert!(minted["pairing_code"].is_string());
    // Nothing was created by any of that.
    let (_, _, listed) = call(Method::GET, "/api/devices").token(&admin).send(r).await;
    assert_eq!(listed["count"], 1);
}

#[tokio::test]
async fn wrong_codes_lock_out_one_client_only() {
    let h = harness(|_| {});
    let code = h.gateway.pairing().ensure_initial_code().await.unwrap().unwrap().code;
    let wrong = if code == "999999" { "111111" } else { "999999" };
    for _ in 0..5 {
        let got = call(Method::POST, "/pair").header("x-pairing-code", wrong).send(&h.router).await;
        assert_error(&got, StatusCode::FORBIDDEN, "INVALID_PAIRING_CODE");
    }
    let got = call(Method::POST, "/pair").header("x-pairing-code", &code).send(&h.router).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    assert_eq!(got.1[header::RETRY_AFTER], "300");
    assert_eq!(got.2["retry_after"], 300);
    // The right code still works from somewhere else.
    let got = call(Method::POST, "/pair")
        .header("x-pairing-code", &code)
        .from("198.51.100.9:1")
        .send(&h.router)
        .await;
    assert_eq!(got.0, StatusCode::OK);
}

#[tokio::test]
async fn pair_rate_limit_applies_to_both_pair_routes() {
    let h = harness(|l| l.config.gateway.pair_rate_limit_per_minute = 3);
    for _ in 0..2 {
        call(Method::POST, "/pair").header("x-pairing-code", "1").send(&h.router).await;
    }
    call(Method::POST, "/api/pair").json(json!({"code": "1"})).send(&h.router).await;
    let got = call(Method::POST, "/api/pair").json(json!({"code": "1"})).send(&h.router).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    assert!(got.1.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn api_rate_limit_and_wrong_token_lockout() {
    let h = harness(|l| l.config.gateway.api_rate_limit_per_minute = 2);
    let (admin, _) = pair_first(&h).await;
    let from = "198.51.100.20:1";
    assert_eq!(
        call(Method::GET, "/api/status").token(&admin).from(from).send(&h.router).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(Method::GET, "/api/status").token(&admin).from(from).send(&h.router).await.0,
        StatusCode::OK
    );
    let got = call(Method::GET, "/api/status").token(&admin).from(from).send(&h.router).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");

    let h = harness(|_| {});
    let (admin, _) = pair_first(&h).await;
    for _ in 0..10 {
        let got = call(Method::GET, "/api/status").token("cgw_wrong").send(&h.router).await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }
    let got = call(Method::GET, "/api/status").token("cgw_wrong").send(&h.router).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    // A valid token from the locked-out address still works; other clients never noticed.
    assert_eq!(call(Method::GET, "/api/status").token(&admin).send(&h.router).await.0, StatusCode::OK);
    let other =
        call(Method::GET, "/api/status").token("cgw_wrong").from("198.51.100.21:1").send(&h.router).await;
    assert_error(&other, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");

    // `max_failed_token_attempts` moves the threshold.
    let h = harness(|l| l.config.gateway.max_failed_token_attempts = 3);
    for _ in 0..3 {
        let got = call(Method::GET, "/api/status").token("cgw_wrong").send(&h.router).await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }
    let got = call(Method::GET, "/api/status").token("cgw_wrong").send(&h.router).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
}

#[tokio::test]
async fn bearer_scheme_is_case_insensitive_and_garbage_is_401() {
    let h = harness(|_| {});
    let (admin, _) = pair_first(&h).await;
    let lower = call(Method::GET, "/api/status")
        .header("authorization", &format!("bearer {admin}"))
        .send(&h.router)
        .await;
    assert_eq!(lower.0, StatusCode::OK);
    for value in ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer  ", "cgw_raw_token_without_scheme"] {
        let got = call(Method::GET, "/api/status").header("authorization", value).send(&h.router).await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }
    let query = call(Method::GET, &format!("/api/status?token={admin}")).send(&h.router).await;
    assert_error(&query, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let h = harness(|l| l.config.gateway.allow_query_token = true);
    let (admin, _) = pair_first(&h).await;
    assert_eq!(
        call(Method::GET, &format!("/api/status?token={admin}")).send(&h.router).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn loopback_admin_routes_refuse_everything_but_a_direct_local_call() {
    let h = harness(|_| {});
    let r = &h.router;
    assert_eq!(call(Method::GET, "/admin/paircode").from(LOCAL).send(r).await.0, StatusCode::OK);
    let ipv6 =
        call(Method::GET, "/admin/paircode").from("[::1]:5000").header("host", "[::1]:42617").send(r).await;
    assert_eq!(ipv6.0, StatusCode::OK);
    let rebound = call(Method::GET, "/pair/code")
        .from(LOCAL)
        .header("host", "rebound.evil.example:42617")
        .send(r)
        .await;
    assert_error(&rebound, StatusCode::FORBIDDEN, "LOOPBACK_ONLY");
    let cases = [
        call(Method::GET, "/admin/paircode"),
        call(Method::GET, "/pair/code").from(LOCAL).header("x-forwarded-for", "203.0.113.1"),
        call(Method::GET, "/pair/code").from(LOCAL).header("forwarded", "for=203.0.113.1"),
        call(Method::POST, "/admin/paircode/new").from(LOCAL).header("origin", "https://evil.example"),
    ];
    for case in cases {
        assert_error(&case.send(r).await, StatusCode::FORBIDDEN, "LOOPBACK_ONLY");
    }
    let (status, _, body) = call(Method::POST, "/admin/paircode/new").from(LOCAL).send(r).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["pairing_code"].as_str().unwrap().len(), 6);

    let behind_proxy = harness(|l| l.config.gateway.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]);
    let got = call(Method::GET, "/pair/code").from(LOCAL).send(&behind_proxy.router).await;
    assert_error(&got, StatusCode::FORBIDDEN, "LOOPBACK_ONLY");
}

#[tokio::test]
async fn forwarded_addresses_count_only_through_trusted_proxies() {
    let h = harness(|l| l.config.gateway.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()]);
    let code = h.gateway.pairing().ensure_initial_code().await.unwrap().unwrap().code;
    let wrong = if code == "999999" { "111111" } else { "999999" };
    // Through the trusted proxy, client A fails five times and is locked out...
    for _ in 0..5 {
        call(Method::POST, "/pair")
            .from("10.0.0.2:1")
            .header("x-forwarded-for", "198.51.100.1")
            .header("x-pairing-code", wrong)
            .send(&h.router)
            .await;
    }
    let a = call(Method::POST, "/pair")
        .from("10.0.0.2:1")
        .header("x-forwarded-for", "198.51.100.1")
        .header("x-pairing-code", &code)
        .send(&h.router)
        .await;
    assert_error(&a, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    // ...forging a leftmost hop does not escape it...
    let forged = call(Method::POST, "/pair")
        .from("10.0.0.2:1")
        .header("x-forwarded-for", "1.2.3.4, 198.51.100.1")
        .header("x-pairing-code", &code)
        .send(&h.router)
        .await;
    assert_error(&forged, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    // ...while client B behind the same proxy is unaffected.
    let b = call(Method::POST, "/pair")
        .from("10.0.0.2:1")
        .header("x-forwarded-for", "198.51.100.2")
        .header("x-pairing-code", &code)
        .send(&h.router)
        .await;
    assert_eq!(b.0, StatusCode::OK, "{}", b.2);
}

#[tokio::test]
async fn pairing_disabled_means_local_operator_without_terminal() {
    let h = harness(|l| l.config.gateway.require_pairing = false);
    let (status, _, body) = call(Method::GET, "/api/devices").from(LOCAL).send(&h.router).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // ...but only for direct local requests: not remote peers, not DNS rebinding, not cross-site pages.
    for attempt in [
        call(Method::GET, "/api/devices"),
        call(Method::GET, "/api/devices").from(LOCAL).header("host", "rebound.evil.example"),
        call(Method::DELETE, "/api/devices/x").from(LOCAL).header("origin", "https://evil.example"),
        call(Method::GET, "/api/devices").from(LOCAL).header("x-forwarded-for", "203.0.113.9"),
    ] {
        assert_error(&attempt.send(&h.router).await, StatusCode::FORBIDDEN, "LOOPBACK_ONLY");
    }
    assert_error(
        &call(Method::POST, "/pair").header("x-pairing-code", "1").send(&h.router).await,
        StatusCode::FORBIDDEN,
        "PAIRING_DISABLED",
    );
    let (_, _, code) = call(Method::GET, "/pair/code").from(LOCAL).send(&h.router).await;
    assert_eq!(code["pairing_required"], false);
    assert_eq!(code["pairing_code"], Value::Null);
}

#[tokio::test]
async fn security_events_land_in_the_audit_log() {
    let h = harness(|_| {});
    let code = h.gateway.pairing().ensure_initial_code().await.unwrap().unwrap().code;
    let wrong = if code == "999999" { "111111" } else { "999999" };
    call(Method::POST, "/pair").header("x-pairing-code", wrong).send(&h.router).await;
    let (admin, admin_id) = pair_first(&h).await;
    let code = mint_code(&h, &admin, None).await;
    let (_, _, body) = call(Method::POST, "/api/pair").json(json!({"code": code})).send(&h.router).await;
    let (phone, phone_id) =
        (body["token"].as_str().unwrap().to_owned(), body["device_id"].as_str().unwrap().to_owned());
    call(Method::GET, "/api/devices").token(&phone).send(&h.router).await;
    call(Method::DELETE, &format!("/api/devices/{phone_id}")).token(&admin).send(&h.router).await;
    let (_, _, rotated) = call(Method::POST, &format!("/api/devices/{admin_id}/token/rotate"))
        .token(&admin)
        .send(&h.router)
        .await;
    let admin = rotated["token"].as_str().unwrap().to_owned();

    let (status, _, log) = call(Method::GET, "/api/audit").token(&admin).send(&h.router).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let kinds: Vec<&str> =
        log["entries"].as_array().unwrap().iter().map(|e| e["event_type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["token_rotated", "device_revoked", "scope_denied", "pair_success", "pair_success", "pair_failure"]
    );
    assert!(
        !log.to_string().contains(&admin) && !log.to_string().contains(&phone),
        "no tokens in the audit log"
    );
    let denied = &log["entries"][2];
    assert_eq!(
        (denied["actor"].as_str(), denied["detail"]["scope"].as_str()),
        (Some(phone_id.as_str()), Some("admin"))
    );

    let (_, _, filtered) =
        call(Method::GET, "/api/audit?event_type=pair_success&limit=1").token(&admin).send(&h.router).await;
    assert_eq!(filtered["count"], 1);
    let (_, _, verified) = call(Method::GET, "/api/audit/verify").token(&admin).send(&h.router).await;
    assert_eq!(verified, json!({"valid": true, "entries": 6, "first_invalid": null}));

    for bad in ["?limit=0", "?limit=1001", "?limit=ten", "?event_type=nope", "?since=yesterday", "?extra=1"] {
        let got = call(Method::GET, &format!("/api/audit{bad}")).token(&admin).send(&h.router).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "INVALID_QUERY");
    }
}

#[tokio::test]
async fn minting_codes_is_refused_when_pairing_is_disabled() {
    let h = harness(|l| l.config.gateway.require_pairing = false);
    let got = call(Method::POST, "/admin/paircode/new").from(LOCAL).send(&h.router).await;
    assert_error(&got, StatusCode::FORBIDDEN, "PAIRING_DISABLED");
    let got = call(Method::POST, "/api/pairing/initiate").from(LOCAL).send(&h.router).await;
    assert_error(&got, StatusCode::FORBIDDEN, "PAIRING_DISABLED");
    let (status, _, body) = call(Method::GET, "/admin/paircode").from(LOCAL).send(&h.router).await;
    assert_eq!(
        (status, body["pairing_code"].clone(), body["pairing_required"].clone()),
        (StatusCode::OK, Value::Null, json!(false))
    );
}
