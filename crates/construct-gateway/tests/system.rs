//! Dashboard system routes: the masked configuration, channels and health.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use common::*;
use construct_core::config::{
    GmailPushConfig, LinqConfig, NextcloudTalkConfig, WatiConfig, WebhookChannelConfig, WhatsAppConfig,
};
use construct_core::secret::Secret;
use http::{Method, StatusCode};

/// Every secret the configuration can hold, each with a value that must never be printed.
fn secrets() -> Vec<&'static str> {
    vec![
        "sec-webhook",
        "sec-wa-access",
        "sec-wa-verify",
        "sec-wa-app",
        "sec-wati-api",
        "sec-wati-verify",
        "sec-wati-hook",
        "sec-linq-api",
        "sec-linq-sign",
        "sec-nc-app",
        "sec-nc-hook",
        "sec-gmail",
        "sec-provider",
        "sec-nodes",
        "sec-kumiho",
        "sec-clawhub",
        "sec-mcp-header",
    ]
}

#[tokio::test]
async fn the_configuration_is_printed_with_every_secret_masked() {
    let h = harness(|l| {
        let s = |v: &str| Secret::new(v);
        let c = &mut l.config.channels_config;
        c.webhook = Some(WebhookChannelConfig { secret: Some(s("sec-webhook")) });
        c.whatsapp = Some(WhatsAppConfig {
            access_token: s("sec-wa-access"),
            phone_number_id: "1".into(),
            verify_token: s("sec-wa-verify"),
            app_secret: s("sec-wa-app"),
            ..WhatsAppConfig::default()
        });
        c.wati = Some(WatiConfig {
            api_url: "https://wati.example".into(),
            api_token: s("sec-wati-api"),
            verify_token: s("sec-wati-verify"),
            webhook_secret: s("sec-wati-hook"),
            ..WatiConfig::default()
        });
        c.linq = Some(LinqConfig {
            api_token: s("sec-linq-api"),
            signing_secret: s("sec-linq-sign"),
            api_base_url: "https://linq.example".into(),
            ..LinqConfig::default()
        });
        c.nextcloud_talk = Some(NextcloudTalkConfig {
            base_url: "https://cloud.example".into(),
            app_token: Some(s("sec-nc-app")),
            webhook_secret: s("sec-nc-hook"),
            ..NextcloudTalkConfig::default()
        });
        c.gmail_push = Some(GmailPushConfig { enabled: true, webhook_secret: s("sec-gmail") });
        l.config.provider.api_key = Some(s("sec-provider"));
        l.config.nodes.auth_token = Some(s("sec-nodes"));
        l.config.kumiho.service_token = Some(s("sec-kumiho"));
        l.config.clawhub.api_token = Some(s("sec-clawhub"));
        l.config.mcp.servers = vec![construct_core::config::ExternalMcpServer {
            name: "tools".into(),
            url: "https://mcp.example/mcp".into(),
            headers: [("authorization".to_owned(), s("sec-mcp-header"))].into(),
        }];
    });
    let (admin, _) = pair_first(&h).await;
    let (status, _, body) = call(Method::GET, "/api/config").token(&admin).send(&h.router).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["format"], "toml");
    let content = body["content"].as_str().unwrap();
    assert!(content.contains("[channels_config.whatsapp]"), "{content}");
    for secret in secrets() {
        assert!(!content.contains(secret), "{secret} printed");
    }
    assert!(!body.to_string().contains("sec-"), "no secret anywhere in the answer");
    assert!(content.contains("********"));
    let reader = {
        let code = mint_code(&h, &admin, Some(serde_json::json!({"scopes": ["read"]}))).await;
        let (_, _, paired) =
            call(Method::POST, "/pair").header("x-pairing-code", &code).send(&h.router).await;
        paired["token"].as_str().unwrap().to_owned()
    };
    assert_error(
        &call(Method::GET, "/api/config").token(&reader).send(&h.router).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_SCOPE",
    );
}

#[tokio::test]
async fn channels_and_health_report_what_is_known() {
    let h = harness(|l| {
        l.config.channels_config.gmail_push =
            Some(GmailPushConfig { enabled: true, webhook_secret: Secret::new("g") });
    });
    let (token, _) = pair_first(&h).await;
    let (_, _, body) = call(Method::GET, "/api/channels").token(&token).send(&h.router).await;
    let channels = body["channels"].as_array().unwrap();
    let state = |name: &str| channels.iter().find(|c| c["name"] == name).unwrap()["status"].clone();
    assert_eq!(
        (state("gmail_push"), state("whatsapp")),
        (serde_json::json!("active"), serde_json::json!("inactive"))
    );
    let (status, _, body) = call(Method::GET, "/api/health").token(&token).send(&h.router).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["health"]["components"]["store"]["status"], "ok");
    assert_eq!(body["health"]["components"]["kumiho"]["status"], "ok");
    assert_error(
        &call(Method::GET, "/api/health").send(&h.router).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
}

#[tokio::test]
async fn approvals_are_registered_by_admins_listed_and_decided_once() {
    use construct_core::events::{Delivery, EventBus as _};
    use futures_util::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let events = std::sync::Arc::new(construct_store::MemoryEventBus::default());
    let gateway =
        construct_gateway::Gateway::builder(construct_core::LoadedConfig::with_defaults(dir.path()))
            .event_bus(events.clone())
            .build()
            .unwrap();
    let h = Harness::from_parts(gateway, dir);
    let (admin, _) = pair_first(&h).await;
    let r = &h.router;
    let request = serde_json::json!({"type": "human_approval_request", "run_id": "run-1", "step_id": "review",
        "workflow_name": "ship", "content": {"title": "Ship?", "message": "All green"}});
    // No loopback trust: a local caller without a token is refused like anyone else.
    let local = call(Method::POST, "/api/channel-events").from(LOCAL).json(request.clone()).send(r).await;
    assert_error(&local, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let (status, _, body) =
        call(Method::POST, "/api/channel-events").token(&admin).json(request).send(r).await;
    assert_eq!((status, body), (StatusCode::OK, serde_json::json!({"ok": true})));
    let (_, _, listed) = call(Method::GET, "/api/approvals").token(&admin).send(r).await;
    assert_eq!(
        (listed["count"].as_u64(), listed["approvals"][0]["workflow"].as_str()),
        (Some(1), Some("ship"))
    );
    assert_eq!(listed["approvals"][0]["approve_keywords"], serde_json::json!(["approve", "yes", "lgtm"]));

    let decide = || {
        call(Method::POST, "/api/workflows/runs/run-1/approve")
            .token(&admin)
            .json(serde_json::json!({"approved": false, "feedback": "needs tests"}))
    };
    let (status, _, body) = decide().send(r).await;
    assert_eq!((status, body["message"].as_str()), (StatusCode::OK, Some("Workflow rejected")));
    assert_error(&decide().send(r).await, StatusCode::NOT_FOUND, "APPROVAL_NOT_FOUND");

    let kinds: Vec<(String, serde_json::Value)> = events
        .subscribe(Some(0))
        .take(4)
        .filter_map(
            |d| async move { if let Delivery::Event(e) = d { Some((e.kind, e.payload)) } else { None } },
        )
        .collect()
        .await;
    let names: Vec<&str> = kinds.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["device_paired", "channel_event", "human_approval_request", "human_approval_resolved"]
    );
    assert_eq!(
        kinds[3].1,
        serde_json::json!({"run_id": "run-1", "step_id": "review", "approved": false, "feedback": "needs tests"})
    );

    for (body, code) in [
        (serde_json::json!(["not", "an", "object"]), "INVALID_FIELD"),
        (
            serde_json::json!({"type": "human_approval_request", "run_id": "../x", "step_id": "s"}),
            "INVALID_FIELD",
        ),
        (serde_json::json!({"type": "human_approval_request", "run_id": "r"}), "INVALID_FIELD"),
    ] {
        let got = call(Method::POST, "/api/channel-events").token(&admin).json(body).send(r).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    let got = call(Method::POST, "/api/workflows/runs/..%2Fx/approve")
        .token(&admin)
        .json(serde_json::json!({"approved": true}))
        .send(r)
        .await;
    assert_eq!(got.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cost_counts_every_turn_at_the_configured_prices() {
    let h = harness(|l| {
        l.config.provider.kind = construct_core::config::ProviderKind::Echo;
        l.config.provider.input_price_per_million = 1_000_000.0;
        l.config.provider.output_price_per_million = 2_000_000.0;
    });
    let (token, _) = pair_first(&h).await;
    let (_, _, before) = call(Method::GET, "/api/cost").token(&token).send(&h.router).await;
    assert_eq!(
        (before["cost"]["request_count"].as_u64(), before["cost"]["by_model"].clone()),
        (Some(0), serde_json::json!({}))
    );
    for message in ["one two three", "four"] {
        let (status, _, body) = call(Method::POST, "/webhook")
            .token(&token)
            .json(serde_json::json!({"message": message}))
            .send(&h.router)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _, cost) = call(Method::GET, "/api/cost").token(&token).send(&h.router).await;
    assert_eq!(status, StatusCode::OK, "{cost}");
    let c = &cost["cost"];
    assert_eq!((c["request_count"].as_u64(), c["total_tokens"].as_u64()), (Some(2), Some(8)), "{cost}");
    assert_eq!(c["by_model"]["echo"]["input_tokens"], 4);
    assert!((c["session_cost_usd"].as_f64().unwrap() - 12.0).abs() < 1e-9, "4 in at $1 + 4 out at $2");
    assert!((c["daily_cost_usd"].as_f64().unwrap() - 12.0).abs() < 1e-9);
    assert_error(
        &call(Method::GET, "/api/cost").send(&h.router).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
}

/// A gateway loaded from a real configuration file, as `serve --config` does.
async fn from_file(contents: &str) -> (Harness, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, contents).unwrap();
    let sources = construct_core::config::ConfigSources {
        config_file: Some(path.clone()),
        data_dir: Some(dir.path().join("data")),
        ..Default::default()
    };
    let loaded = construct_core::config::load(&sources).unwrap();
    let gateway = construct_gateway::Gateway::builder(loaded).build().unwrap();
    let h = Harness::from_parts(gateway, dir);
    let (admin, _) = pair_first(&h).await;
    (h, path, admin)
}

const FILE: &str =
    "[provider]\nkind = \"echo\"\napi_key = \"sk-from-file\"\n\n[clawhub]\napi_url = \"https://hub.one\"\n";

#[tokio::test]
async fn config_edits_keep_masked_secrets_apply_live_sections_and_are_audited() {
    let (h, path, admin) = from_file(FILE).await;
    let r = &h.router;
    let (_, _, shown) = call(Method::GET, "/api/config").token(&admin).send(r).await;
    let content = shown["content"].as_str().unwrap();
    assert!(!content.contains("sk-from-file"));
    let edited = content.replace("https://hub.one", "https://hub.two");
    let (status, _, saved) =
        call(Method::PUT, "/api/config").token(&admin).raw("application/toml", edited).send(r).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        (saved["applied"].clone(), saved["restart_required"].clone()),
        (serde_json::json!(["clawhub"]), serde_json::json!([]))
    );
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("sk-from-file"), "the masked secret kept its value: {written}");
    assert!(!written.contains("********"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let (_, _, now) = call(Method::GET, "/api/config").token(&admin).send(r).await;
    assert!(now["content"].as_str().unwrap().contains("https://hub.two"), "applied at once");

    // A listener change is written but waits for a restart; the running configuration says so.
    let moved = format!("{}\n[gateway]\nport = 42999\n", FILE.replace("https://hub.one", "https://hub.two"));
    let (status, _, saved) =
        call(Method::PUT, "/api/config").token(&admin).raw("text/plain", moved).send(r).await;
    assert_eq!(
        (status, saved["restart_required"].clone()),
        (StatusCode::OK, serde_json::json!(["gateway"])),
        "{saved}"
    );
    assert!(std::fs::read_to_string(&path).unwrap().contains("42999"));
    let (_, _, now) = call(Method::GET, "/api/config").token(&admin).send(r).await;
    assert!(!now["content"].as_str().unwrap().contains("42999"), "the running port did not change");

    let (_, _, audit) = call(Method::GET, "/api/audit?event_type=config_changed").token(&admin).send(r).await;
    assert_eq!(audit["count"], 2, "{audit}");
    assert_eq!(audit["entries"][1]["detail"]["applied"], serde_json::json!(["clawhub"]));
}

#[tokio::test]
async fn bad_config_edits_are_refused_and_the_file_is_untouched() {
    let (h, path, admin) = from_file(FILE).await;
    let r = &h.router;
    for (body, status, code) in [
        ("[provider\nkind = 1", StatusCode::BAD_REQUEST, "INVALID_TOML"),
        ("[provider]\ntemperature = 5.0\n", StatusCode::UNPROCESSABLE_ENTITY, "INVALID_CONFIG"),
        ("[gateway]\nprot = 1\n", StatusCode::UNPROCESSABLE_ENTITY, "INVALID_CONFIG"),
        ("[gateway]\nallowed_origins = [\"********\"]\n", StatusCode::UNPROCESSABLE_ENTITY, "INVALID_CONFIG"),
        // No settings at all would reset every one of them: a broken client must not wipe the file.
        ("", StatusCode::UNPROCESSABLE_ENTITY, "INVALID_CONFIG"),
        ("  \n\n", StatusCode::UNPROCESSABLE_ENTITY, "INVALID_CONFIG"),
        ("# nothing but a comment\n", StatusCode::UNPROCESSABLE_ENTITY, "INVALID_CONFIG"),
        ("[gateway]\n[provider]\n", StatusCode::UNPROCESSABLE_ENTITY, "INVALID_CONFIG"),
    ] {
        let got = call(Method::PUT, "/api/config").token(&admin).raw("application/toml", body).send(r).await;
        assert_error(&got, status, code);
    }
    let got = call(Method::PUT, "/api/config")
        .token(&admin)
        .raw("application/toml", "[provider]\ntemperature = 5.0\n")
        .send(r)
        .await;
    assert_eq!(got.2["key"], "provider.temperature");
    let got = call(Method::PUT, "/api/config")
        .token(&admin)
        .raw("application/toml", "[gateway]\nprot = 1\n")
        .send(r)
        .await;
    assert_eq!(got.2["unknown"].as_array().map(Vec::len), Some(1), "{}", got.2);
    let got = call(Method::PUT, "/api/config").token(&admin).raw("application/toml", "\n").send(r).await;
    let message = got.2["error"].as_str().unwrap_or_default();
    assert!(message.contains("empty") && message.contains("reset every setting"), "{message}");
    let big = format!("# {}\n", "x".repeat(1024 * 1024));
    assert_error(
        &call(Method::PUT, "/api/config").token(&admin).raw("application/toml", big).send(r).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    );
    let code = mint_code(&h, &admin, Some(serde_json::json!({"scopes": ["read"]}))).await;
    let (_, _, paired) = call(Method::POST, "/pair").header("x-pairing-code", &code).send(r).await;
    assert_error(
        &call(Method::PUT, "/api/config")
            .token(paired["token"].as_str().unwrap())
            .raw("application/toml", FILE)
            .send(r)
            .await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN_SCOPE",
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FILE, "nothing was written");

    // An embedded gateway with no file has nothing to write.
    let h = harness(|_| {});
    let (admin, _) = pair_first(&h).await;
    assert_error(
        &call(Method::PUT, "/api/config").token(&admin).raw("application/toml", "").send(&h.router).await,
        StatusCode::CONFLICT,
        "CONFIG_NOT_WRITABLE",
    );
}

#[tokio::test]
async fn tools_integrations_and_cli_tools_report_only_what_exists() {
    let h = harness(|l| {
        l.config.channels_config.gmail_push =
            Some(GmailPushConfig { enabled: true, webhook_secret: Secret::new("g") });
        l.config.clawhub.enabled = false;
    });
    let (token, _) = pair_first(&h).await;
    let r = &h.router;
    let (_, _, tools) = call(Method::GET, "/api/tools").token(&token).send(r).await;
    assert_eq!(
        (tools["tools"].clone(), tools["supported"].clone()),
        (serde_json::json!([]), serde_json::json!(false))
    );

    let (status, _, list) = call(Method::GET, "/api/integrations").token(&token).send(r).await;
    assert_eq!(status, StatusCode::OK);
    let status_of = |name: &str| {
        list["integrations"].as_array().unwrap().iter().find(|i| i["name"] == name).unwrap()["status"].clone()
    };
    assert_eq!(
        (status_of("Gmail"), status_of("WhatsApp"), status_of("ClawHub"), status_of("Kumiho")),
        (
            serde_json::json!("Active"),
            serde_json::json!("Available"),
            serde_json::json!("Available"),
            serde_json::json!("Active")
        )
    );
    assert!(!list.to_string().contains("ComingSoon"), "nothing invented");
    let (_, _, settings) = call(Method::GET, "/api/integrations/settings").token(&token).send(r).await;
    assert_eq!(settings["settings"]["Gmail"]["enabled"], true);
    assert_eq!(settings["settings"]["WATI"]["enabled"], false);

    let (status, _, cli) = call(Method::GET, "/api/cli-tools").token(&token).send(r).await;
    assert_eq!(status, StatusCode::OK);
    let found = cli["cli_tools"].as_array().unwrap();
    assert!(found.iter().any(|t| t["name"] == "cargo" && t["category"] == "PackageManager"), "{cli}");
    for tool in found {
        assert!(std::path::Path::new(tool["path"].as_str().unwrap()).is_file(), "{tool}");
    }
    for uri in ["/api/tools", "/api/integrations", "/api/cli-tools"] {
        assert_error(&call(Method::GET, uri).send(r).await, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }
}
