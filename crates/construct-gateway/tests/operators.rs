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
