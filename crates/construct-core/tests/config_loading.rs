//! Loading configuration from real files and an environment snapshot: precedence and error messages.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::path::PathBuf;

use construct_core::config::{ConfigError, ConfigSources, EnvVars, ensure_data_dir, load};

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("tempdir") }
    }

    fn home(&self) -> String {
        self.dir.path().display().to_string()
    }

    fn write(&self, name: &str, toml: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, toml).expect("write");
        path
    }

    fn sources(&self, env: &[(&str, &str)]) -> ConfigSources {
        let mut pairs: Vec<(String, String)> = vec![("HOME".into(), self.home())];
        pairs.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        ConfigSources { env: EnvVars::from_pairs(pairs), ..Default::default() }
    }
}

#[test]
fn no_file_means_defaults_under_home() {
    let fx = Fixture::new();
    let loaded = load(&fx.sources(&[])).expect("load");
    assert_eq!(loaded.config, Default::default());
    assert_eq!(loaded.config_file, None);
    assert_eq!(loaded.data_dir, fx.dir.path().join(".construct/gateway"));
    assert!(loaded.warnings.is_empty());
}

#[test]
fn default_file_location_is_read() {
    let fx = Fixture::new();
    let path = fx.write(".construct/gateway.toml", "[gateway]\nport = 5000\n");
    let loaded = load(&fx.sources(&[])).expect("load");
    assert_eq!(loaded.config.gateway.port, 5000);
    assert_eq!(loaded.config_file, Some(path));
}

#[test]
fn env_beats_file_and_flags_beat_env() {
    let fx = Fixture::new();
    let path =
        fx.write("custom.toml", "[gateway]\nport = 5000\nrequire_pairing = true\nrequest_timeout_secs = 9\n");
    let mut sources = fx.sources(&[
        ("CONSTRUCT_CONFIG", path.to_str().expect("utf8")),
        ("PORT", "6000"),
        ("CONSTRUCT_GATEWAY_PORT", "7000"),
        ("CONSTRUCT_REQUIRE_PAIRING", "no"),
        ("CONSTRUCT_GATEWAY_TIMEOUT_SECS", "12"),
        ("CONSTRUCT_DATA_DIR", "/var/lib/construct"),
    ]);
    let loaded = load(&sources).expect("load");
    assert_eq!(loaded.config.gateway.port, 7000);
    assert!(!loaded.config.gateway.require_pairing);
    assert_eq!(loaded.config.gateway.request_timeout_secs, 12);
    assert_eq!(loaded.data_dir, PathBuf::from("/var/lib/construct"));

    sources.port = Some(8000);
    sources.host = Some("localhost".into());
    sources.data_dir = Some("/srv/gw".into());
    let loaded = load(&sources).expect("load");
    assert_eq!(loaded.config.gateway.port, 8000);
    assert_eq!(loaded.config.gateway.host, "localhost");
    assert_eq!(loaded.data_dir, PathBuf::from("/srv/gw"));
}

#[test]
fn flag_config_beats_env_config() {
    let fx = Fixture::new();
    let a = fx.write("a.toml", "[gateway]\nport = 1111\n");
    let b = fx.write("b.toml", "[gateway]\nport = 2222\n");
    let mut sources = fx.sources(&[("CONSTRUCT_CONFIG", a.to_str().expect("utf8"))]);
    sources.config_file = Some(b.clone());
    let loaded = load(&sources).expect("load");
    assert_eq!(loaded.config.gateway.port, 2222);
    assert_eq!(loaded.config_file, Some(b));
}

#[test]
fn a_bad_value_names_its_key_and_file() {
    let fx = Fixture::new();
    let path = fx.write("bad.toml", "[gateway]\nport = \"eighty\"\n");
    let mut sources = fx.sources(&[]);
    sources.config_file = Some(path.clone());
    let err = load(&sources).unwrap_err();
    match &err {
        ConfigError::Invalid { key, origin, .. } => {
            assert_eq!(key, "gateway.port");
            assert_eq!(origin.as_deref(), Some(path.to_str().expect("utf8")));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("gateway.port"), "{err}");
}

#[test]
fn a_rule_violation_names_key_and_source() {
    let fx = Fixture::new();
    let err = load(&fx.sources(&[("CONSTRUCT_GATEWAY_HOST", "db.internal")])).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("`gateway.host`") && text.contains("CONSTRUCT_GATEWAY_HOST"), "{text}");

    let path = fx.write("zero.toml", "[gateway]\nrequest_timeout_secs = 0\n");
    let mut sources = fx.sources(&[]);
    sources.config_file = Some(path);
    let text = load(&sources).unwrap_err().to_string();
    assert!(text.contains("gateway.request_timeout_secs") && text.contains("zero.toml"), "{text}");
}

#[test]
fn timeout_zero_and_bad_booleans_in_env_are_refused() {
    let fx = Fixture::new();
    for (var, value) in [
        ("CONSTRUCT_GATEWAY_TIMEOUT_SECS", "0"),
        ("CONSTRUCT_GATEWAY_TIMEOUT_SECS", "soon"),
        ("CONSTRUCT_REQUIRE_PAIRING", "ture"),
        ("CONSTRUCT_ALLOW_PUBLIC_BIND", "maybe"),
    ] {
        match load(&fx.sources(&[(var, value)])) {
            Err(ConfigError::Env { var: named, .. }) => assert_eq!(named, var),
            other => panic!("{var}={value}: expected an Env error, got {other:?}"),
        }
    }
}

#[test]
fn unknown_keys_warn_but_load() {
    let fx = Fixture::new();
    let path = fx.write("typo.toml", "[gateway]\nprot = 1\n\n[kumiho_typo]\nx = 1\n");
    let mut sources = fx.sources(&[]);
    sources.config_file = Some(path);
    let loaded = load(&sources).expect("load");
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    assert!(loaded.warnings.iter().any(|w| w.contains("`gateway.prot`")));
    assert!(loaded.warnings.iter().any(|w| w.contains("`kumiho_typo`")));
}

#[test]
fn misspelled_construct_variables_warn() {
    let fx = Fixture::new();
    let loaded = load(&fx.sources(&[("CONSTRUCT_REQUIRE_PARING", "false"), ("CONSTRUCT_GATEWAY_PORT", "1")]))
        .expect("load");
    assert!(loaded.config.gateway.require_pairing, "the typo changed nothing");
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0].contains("CONSTRUCT_REQUIRE_PARING"));
}

#[test]
fn origins_are_stored_normalized() {
    let fx = Fixture::new();
    let path = fx.write("o.toml", "[gateway]\nallowed_origins = [\"HTTPS://Dash.Example.com:443/\"]\n");
    let mut sources = fx.sources(&[]);
    sources.config_file = Some(path);
    let loaded = load(&sources).expect("load");
    assert_eq!(loaded.config.gateway.allowed_origins, vec!["https://dash.example.com".to_owned()]);
}

#[test]
fn explicit_missing_or_broken_files_fail() {
    let fx = Fixture::new();
    let mut sources = fx.sources(&[]);
    sources.config_file = Some(fx.dir.path().join("nope.toml"));
    assert!(matches!(load(&sources), Err(ConfigError::File { .. })));

    let broken = fx.write("broken.toml", "[gateway\nport = 1\n");
    sources.config_file = Some(broken);
    let err = load(&sources).unwrap_err();
    assert!(err.to_string().contains("broken.toml"), "{err}");
}

#[test]
fn trusted_proxies_parse_and_reject() {
    let fx = Fixture::new();
    let good = fx.write("good.toml", "[gateway]\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1\"]\n");
    let mut sources = fx.sources(&[]);
    sources.config_file = Some(good);
    let loaded = load(&sources).expect("load");
    assert_eq!(loaded.config.gateway.trusted_proxies.len(), 2);

    let bad = fx.write("bad.toml", "[gateway]\ntrusted_proxies = [\"10.0.0.0/99\"]\n");
    sources.config_file = Some(bad);
    let text = load(&sources).unwrap_err().to_string();
    assert!(text.contains("gateway.trusted_proxies"), "{text}");
}

#[cfg(unix)]
#[test]
fn data_dir_is_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    let dir = fx.dir.path().join("a/b/data");
    ensure_data_dir(&dir).expect("create");
    let mode = std::fs::metadata(&dir).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);

    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("loosen");
    ensure_data_dir(&dir).expect("tighten");
    let mode = std::fs::metadata(&dir).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "an existing world-readable data dir is made private");

    let file = fx.write("plain-file", "");
    assert!(matches!(ensure_data_dir(&file), Err(ConfigError::DataDir { .. })));
}

#[test]
fn provider_section_defaults_env_key_and_rules() {
    let fx = Fixture::new();
    let loaded = load(&fx.sources(&[("CONSTRUCT_PROVIDER_API_KEY", "sk-test-123")])).expect("load");
    let provider = &loaded.config.provider;
    assert_eq!(provider.base_url, "http://127.0.0.1:11434/v1");
    assert_eq!(provider.model, "llama3.2");
    assert_eq!(provider.api_key.as_ref().map(|k| k.expose()), Some("sk-test-123"));
    let printed = toml::to_string(&loaded.config).expect("toml");
    assert!(!printed.contains("sk-test-123") && printed.contains("********"), "{printed}");

    for (toml, key) in [
        ("[provider]\ntemperature = 3.5\n", "provider.temperature"),
        ("[provider]\ntimeout_secs = 0\n", "provider.timeout_secs"),
        ("[provider]\nbase_url = \"ftp://x\"\n", "provider.base_url"),
        ("[provider]\nkind = \"magic\"\n", "provider.kind"),
        ("[provider.extra_headers]\n\"bad header\" = \"x\"\n", "provider.extra_headers.bad header"),
    ] {
        let path = fx.write("p.toml", toml);
        let mut sources = fx.sources(&[]);
        sources.config_file = Some(path);
        let text = load(&sources).unwrap_err().to_string();
        assert!(text.contains(key), "{toml}: {text}");
    }
}

#[test]
fn an_enabled_channel_without_its_secret_does_not_start() {
    let fx = Fixture::new();
    let cases = [
        (
            "[channels_config.whatsapp]\naccess_token = \"t\"\nphone_number_id = \"1\"\nverify_token = \"v\"\n",
            "channels_config.whatsapp.app_secret",
        ),
        (
            "[channels_config.wati]\napi_url = \"https://wati.example\"\napi_token = \"t\"\nverify_token = \"v\"\n",
            "channels_config.wati.webhook_secret",
        ),
        (
            "[channels_config.linq]\napi_token = \"t\"\napi_base_url = \"https://linq.example\"\n",
            "channels_config.linq.signing_secret",
        ),
        (
            "[channels_config.nextcloud_talk]\nbase_url = \"https://cloud.example\"\n",
            "channels_config.nextcloud_talk.webhook_secret",
        ),
        ("[channels_config.gmail_push]\nenabled = true\n", "channels_config.gmail_push.webhook_secret"),
    ];
    for (toml, key) in cases {
        let path = fx.write("c.toml", toml);
        let mut sources = fx.sources(&[]);
        sources.config_file = Some(path);
        let text = load(&sources).unwrap_err().to_string();
        assert!(text.contains(key), "{toml}: {text}");
    }
    // A disabled Gmail section needs nothing.
    let path = fx.write("off.toml", "[channels_config.gmail_push]\nenabled = false\n");
    let mut sources = fx.sources(&[]);
    sources.config_file = Some(path);
    assert!(load(&sources).is_ok());
}

#[test]
fn channel_secrets_from_the_environment_and_never_printed() {
    let fx = Fixture::new();
    let path = fx.write(
        "wa.toml",
        "[channels_config.whatsapp]\naccess_token = \"tok-123\"\nphone_number_id = \"1\"\nverify_token = \"v\"\napp_secret = \"from-file\"\n\n[channels_config.gmail_push]\nenabled = true\n",
    );
    let mut sources = fx.sources(&[
        ("CONSTRUCT_WHATSAPP_APP_SECRET", "from-env"),
        ("GMAIL_PUSH_WEBHOOK_SECRET", "gmail-env"),
    ]);
    sources.config_file = Some(path);
    let loaded = load(&sources).expect("load");
    let channels = &loaded.config.channels_config;
    let whatsapp = channels.whatsapp.as_ref().expect("whatsapp");
    assert_eq!(whatsapp.app_secret.expose(), "from-env", "the environment wins");
    assert_eq!(whatsapp.api_base_url, "https://graph.facebook.com/v18.0");
    assert_eq!(channels.gmail_push.as_ref().expect("gmail").webhook_secret.expose(), "gmail-env", "fallback");
    let printed = toml::to_string(&loaded.config).expect("toml");
    for secret in ["tok-123", "from-env", "from-file", "gmail-env"] {
        assert!(!printed.contains(secret), "{secret} printed: {printed}");
    }
}

#[test]
fn channel_delivery_settings_are_checked() {
    let fx = Fixture::new();
    let cases = [
        ("[channels_config]\nqueue_capacity = 0\n", "channels_config.queue_capacity"),
        ("[channels_config]\nworkers = 0\n", "channels_config.workers"),
        ("[channels_config]\nworkers = 65\n", "channels_config.workers"),
        (
            "[channels_config.linq]\napi_token = \"t\"\nsigning_secret = \"s\"\napi_base_url = \"ftp://linq.example\"\n",
            "channels_config.linq.api_base_url",
        ),
        (
            "[channels_config.nextcloud_talk]\nbase_url = \"cloud.example\"\nwebhook_secret = \"s\"\n",
            "channels_config.nextcloud_talk.base_url",
        ),
    ];
    for (toml, key) in cases {
        let path = fx.write("d.toml", toml);
        let mut sources = fx.sources(&[]);
        sources.config_file = Some(path);
        let text = load(&sources).unwrap_err().to_string();
        assert!(text.contains(key), "{toml}: {text}");
    }
    let loaded = load(&fx.sources(&[])).expect("defaults");
    assert_eq!(
        (loaded.config.channels_config.queue_capacity, loaded.config.channels_config.workers),
        (1000, 2)
    );
}

#[test]
fn kumiho_defaults_remote_mode_and_the_service_token_variable() {
    let fx = Fixture::new();
    let loaded = load(&fx.sources(&[])).expect("defaults");
    assert_eq!(loaded.config.kumiho.mode, construct_core::config::KumihoMode::Local);
    let path = fx.write("k.toml", "[kumiho]\nmode = \"remote\"\napi_url = \"kumiho.example\"\n");
    let mut sources = fx.sources(&[]);
    sources.config_file = Some(path);
    assert!(load(&sources).unwrap_err().to_string().contains("kumiho.api_url"));
    let path = fx.write("k2.toml", "[kumiho]\nmode = \"remote\"\napi_url = \"https://kumiho.example\"\n");
    let mut sources = fx.sources(&[("KUMIHO_SERVICE_TOKEN", "from-env")]);
    sources.config_file = Some(path);
    let loaded = load(&sources).expect("remote");
    assert_eq!(loaded.config.kumiho.service_token.as_ref().expect("token").expose(), "from-env");
    assert!(!toml::to_string(&loaded.config).expect("toml").contains("from-env"), "masked when printed");
}
