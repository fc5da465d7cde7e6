//! Operator features: the bootstrap token a secret manager provisions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use common::*;
use construct_core::config::{BootstrapMode, ConfigSources, EnvVars};
use http::{Method, StatusCode};

fn sha256(token: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()))
}

#[tokio::test]
async fn the_bootstrap_token_is_admin_until_the_first_device_exists() {
    let h = harness(|l| l.config.gateway.bootstrap_token_sha256 = Some(sha256("boot-secret")));
    let r = &h.router;
    let (status, _, _) = call(Method::GET, "/api/config").token("boot-secret").send(r).await;
    assert_eq!(status, StatusCode::OK, "admin before any device is paired");
    assert_error(
        &call(Method::GET, "/api/status").token("boot-wrong").send(r).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
    pair_first(&h).await;
    assert_error(
        &call(Method::GET, "/api/status").token("boot-secret").send(r).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
}

#[tokio::test]
async fn an_always_bootstrap_token_outlives_pairing() {
    let h = harness(|l| {
        l.config.gateway.bootstrap_token_sha256 = Some(sha256("boot-secret"));
        l.config.gateway.bootstrap_token_mode = BootstrapMode::Always;
    });
    pair_first(&h).await;
    let (status, _, _) = call(Method::GET, "/api/config").token("boot-secret").send(&h.router).await;
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn the_environment_gives_the_token_and_only_its_hash_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let env = EnvVars::from_pairs([
        ("HOME", dir.path().to_str().unwrap()),
        ("CONSTRUCT_BOOTSTRAP_TOKEN", " from-vault \n"),
    ]);
    let loaded = construct_core::config::load(&ConfigSources { env, ..Default::default() }).unwrap();
    assert_eq!(loaded.config.gateway.bootstrap_token_sha256.as_deref(), Some(sha256("from-vault").as_str()));
    assert!(!toml::to_string(&loaded.config).unwrap().contains("from-vault"));
    assert!(loaded.warnings.is_empty(), "a known variable: {:?}", loaded.warnings);

    let file = dir.path().join("gateway.toml");
    std::fs::write(&file, "[gateway]\nbootstrap_token_sha256 = \"not-a-hash\"\n").unwrap();
    let sources = ConfigSources {
        config_file: Some(file),
        data_dir: Some(dir.path().to_owned()),
        ..Default::default()
    };
    let error = construct_core::config::load(&sources).unwrap_err();
    assert!(error.to_string().contains("gateway.bootstrap_token_sha256"), "{error}");
}

fn proxied(configure: impl FnOnce(&mut construct_core::config::AuthConfig)) -> Harness {
    harness(|l| {
        let g = &mut l.config.gateway;
        g.trusted_proxies = vec!["203.0.113.50/32".parse().unwrap(), "127.0.0.1/32".parse().unwrap()];
        g.auth.mode = construct_core::config::AuthMode::TrustedProxy;
        g.auth.required_headers = vec!["X-Forwarded-Email".into()];
        g.auth.allow_users = vec!["alice".into(), "bob".into()];
        g.auth.scopes_by_user = [("bob".to_owned(), construct_core::principal::Scopes::FIRST_DEVICE)].into();
        configure(&mut g.auth);
    })
}

fn as_user(method: Method, path: &str, user: &str) -> Call {
    call(method, path)
        .header("x-forwarded-user", user)
        .header("x-forwarded-email", &format!("{user}@example.com"))
}

#[tokio::test]
async fn users_named_by_a_trusted_proxy_get_their_scopes() {
    let h = proxied(|_| {});
    let r = &h.router;
    assert_eq!(as_user(Method::GET, "/api/status", "alice").send(r).await.0, StatusCode::OK);
    assert_error(
        &as_user(Method::GET, "/api/config", "alice").send(r).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_SCOPE",
    );
    assert_eq!(
        as_user(Method::GET, "/api/config", "bob").send(r).await.0,
        StatusCode::OK,
        "bob's own scopes"
    );
    for refused in [
        as_user(Method::GET, "/api/status", "mallory"),
        call(Method::GET, "/api/status").header("x-forwarded-user", "alice"),
        call(Method::GET, "/api/status"),
    ] {
        assert_error(&refused.send(r).await, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }
    // Tokens still work, through the proxy or not.
    let code = h.gateway.pairing().ensure_initial_code().await.unwrap().unwrap().code;
    let (_, _, paired) = call(Method::POST, "/pair").header("x-pairing-code", &code).send(r).await;
    let token = paired["token"].as_str().unwrap().to_owned();
    assert_eq!(
        call(Method::GET, "/api/config").token(&token).from("198.51.100.7:4000").send(r).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_user_header_from_anyone_but_the_proxy_is_ignored() {
    let h = proxied(|_| {});
    let r = &h.router;
    // Straight to the gateway, bypassing the proxy, with forged identity headers.
    let spoofed = as_user(Method::GET, "/api/config", "bob")
        .from("198.51.100.7:4000")
        .header("x-forwarded-for", "203.0.113.50");
    assert_error(&spoofed.send(r).await, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    // A local process is not the proxy unless the configuration says a loopback proxy is expected.
    assert_error(
        &as_user(Method::GET, "/api/status", "alice").from(LOCAL).send(r).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
    let h = proxied(|auth| auth.allow_loopback_proxy = true);
    assert_eq!(
        as_user(Method::GET, "/api/status", "alice").from(LOCAL).send(&h.router).await.0,
        StatusCode::OK
    );
}

#[test]
fn trusted_proxy_mode_needs_proxies_and_pairing() {
    let mut config = construct_core::config::Config::default();
    config.gateway.auth.mode = construct_core::config::AuthMode::TrustedProxy;
    let error = construct_core::config::validate(&config).unwrap_err().to_string();
    assert!(error.contains("trusted_proxies"), "{error}");
    config.gateway.trusted_proxies = vec!["10.0.0.1/32".parse().unwrap()];
    config.gateway.auth.user_header = "bad header".into();
    assert!(construct_core::config::validate(&config).unwrap_err().to_string().contains("gateway.auth"));
}

#[tokio::test]
async fn the_doctor_route_is_for_admins_and_notices_an_untrusted_proxy() {
    let h = harness(|l| l.config.provider.kind = construct_core::config::ProviderKind::Echo);
    let (admin, _) = pair_first(&h).await;
    let r = &h.router;
    let (status, _, report) = call(Method::GET, "/api/doctor").token(&admin).send(r).await;
    assert_eq!((status, report["summary"]["errors"].as_u64()), (StatusCode::OK, Some(0)), "{report}");
    let (_, _, proxied) = call(Method::GET, "/api/doctor")
        .token(&admin)
        .header("x-forwarded-for", "198.51.100.1")
        .send(r)
        .await;
    let proxy =
        proxied["results"].as_array().unwrap().iter().find(|f| f["category"] == "proxy").unwrap().clone();
    assert_eq!(proxy["severity"], "warn", "{proxy}");
    let code = mint_code(&h, &admin, Some(serde_json::json!({"scopes": ["read"]}))).await;
    let (_, _, paired) = call(Method::POST, "/pair").header("x-pairing-code", &code).send(r).await;
    assert_error(
        &call(Method::GET, "/api/doctor").token(paired["token"].as_str().unwrap()).send(r).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_SCOPE",
    );
}
