//! Rules a configuration must satisfy beyond its types. Each failure names the key at fault.

use http::Uri;

use super::load::ConfigError;
use super::{Config, parse_host};
use crate::constants::check_timeout_secs;

/// Characters allowed in `gateway.path_prefix` besides ASCII letters and digits (RFC 3986 `pchar` minus
/// percent-encoding, plus `/`).
const PREFIX_PUNCTUATION: &str = "-_.~!$&'()*+,;=:@/";

/// Checks `config` and returns the first problem found.
pub fn validate(config: &Config) -> Result<(), ConfigError> {
    let g = &config.gateway;
    let invalid =
        |key: &str, reason: String| ConfigError::Invalid { key: key.to_owned(), reason, origin: None };

    if parse_host(&g.host).is_none() {
        return Err(invalid("gateway.host", format!("{:?} is not an IP address or `localhost`", g.host)));
    }
    if g.is_public_bind() && !g.allow_public_bind {
        return Err(invalid(
            "gateway.allow_public_bind",
            format!(
                "host {:?} is reachable from other machines; set allow_public_bind = true if that is intended",
                g.host
            ),
        ));
    }
    if let Some(prefix) = &g.path_prefix {
        check_prefix(prefix).map_err(|reason| invalid("gateway.path_prefix", reason))?;
    }
    if let Some(addr) = g.metrics_listen
        && !addr.ip().is_loopback()
    {
        return Err(invalid(
            "gateway.metrics_listen",
            format!("{addr} is not a loopback address; the metrics listener asks for no credentials"),
        ));
    }
    check_timeout_secs(g.request_timeout_secs)
        .map_err(|reason| invalid("gateway.request_timeout_secs", reason))?;
    if g.max_connections == 0 {
        return Err(invalid("gateway.max_connections", "must be at least 1".into()));
    }
    if g.max_body_bytes == 0 {
        return Err(invalid("gateway.max_body_bytes", "must be at least 1".into()));
    }
    if g.idempotency_ttl_secs == 0 {
        return Err(invalid("gateway.idempotency_ttl_secs", "must be at least 1".into()));
    }
    if !g.require_pairing && g.is_public_bind() {
        return Err(invalid(
            "gateway.require_pairing",
            "pairing may be disabled only on a loopback bind; anyone who can reach a public address would be an admin"
                .into(),
        ));
    }
    if !g.require_pairing && !g.trusted_proxies.is_empty() {
        return Err(invalid(
            "gateway.require_pairing",
            "pairing may not be disabled behind trusted proxies: every proxied client would be an admin"
                .into(),
        ));
    }
    let p = &g.pairing;
    if !(6..=12).contains(&p.code_length) {
        return Err(invalid(
            "gateway.pairing.code_length",
            format!("must be between 6 and 12, got {}", p.code_length),
        ));
    }
    for (key, value, max) in [
        ("gateway.pairing.code_ttl_secs", p.code_ttl_secs, 86_400 * 30),
        ("gateway.pairing.lockout_secs", p.lockout_secs, 86_400 * 30),
        ("gateway.pairing.global_failure_window_secs", p.global_failure_window_secs, 86_400 * 30),
        ("gateway.pairing.token_ttl_days", u64::from(p.token_ttl_days), 3_650),
    ] {
        if value > max {
            return Err(invalid(key, format!("must be at most {max}, got {value}")));
        }
    }
    for (key, value) in [
        ("gateway.max_failed_token_attempts", u64::from(g.max_failed_token_attempts)),
        ("gateway.pairing.code_ttl_secs", p.code_ttl_secs),
        ("gateway.pairing.max_failed_attempts", u64::from(p.max_failed_attempts)),
        ("gateway.pairing.lockout_secs", p.lockout_secs),
        ("gateway.pairing.global_failure_budget", u64::from(p.global_failure_budget)),
        ("gateway.pairing.global_failure_window_secs", p.global_failure_window_secs),
    ] {
        if value == 0 {
            return Err(invalid(key, "must be at least 1".into()));
        }
    }
    let ws = &g.websocket;
    for (key, value, min, max) in [
        ("gateway.websocket.max_message_bytes", ws.max_message_bytes as u64, 1024, 64 * 1024 * 1024),
        ("gateway.websocket.ping_interval_secs", ws.ping_interval_secs, 1, 3_600),
        ("gateway.websocket.idle_timeout_secs", ws.idle_timeout_secs, 1, 86_400),
        ("gateway.websocket.max_connections_per_client", ws.max_connections_per_client as u64, 1, 100_000),
    ] {
        if !(min..=max).contains(&value) {
            return Err(invalid(key, format!("must be between {min} and {max}, got {value}")));
        }
    }
    if ws.idle_timeout_secs <= ws.ping_interval_secs {
        return Err(invalid(
            "gateway.websocket.idle_timeout_secs",
            "must be longer than ping_interval_secs, or every quiet client is cut off".into(),
        ));
    }
    if config.kumiho.mode == super::KumihoMode::Remote && !is_http_url(&config.kumiho.api_url) {
        return Err(invalid("kumiho.api_url", format!("{:?} is not an http(s) URL", config.kumiho.api_url)));
    }
    validate_tls(&g.tls).map_err(|(key, reason)| invalid(key, reason))?;
    if g.auth.mode == super::AuthMode::TrustedProxy {
        if !g.require_pairing {
            return Err(invalid("gateway.auth.mode", "trusted-proxy needs require_pairing = true".into()));
        }
        if g.trusted_proxies.is_empty() {
            return Err(invalid(
                "gateway.auth.mode",
                "trusted-proxy needs [gateway] trusted_proxies: the proxy's addresses".into(),
            ));
        }
        for name in std::iter::once(&g.auth.user_header).chain(&g.auth.required_headers) {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(invalid("gateway.auth", format!("{name:?} is not a header name")));
            }
        }
    }
    if let Some(hash) = &g.bootstrap_token_sha256
        && !(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(invalid(
            "gateway.bootstrap_token_sha256",
            "must be 64 hex digits (the token's SHA-256)".into(),
        ));
    }
    let mcp = &config.mcp;
    if !(60..=86_400).contains(&mcp.session_ttl_secs) {
        return Err(invalid(
            "mcp.session_ttl_secs",
            format!("must be between 60 and 86400, got {}", mcp.session_ttl_secs),
        ));
    }
    if !(1..=10_000).contains(&mcp.max_sessions) {
        return Err(invalid(
            "mcp.max_sessions",
            format!("must be between 1 and 10000, got {}", mcp.max_sessions),
        ));
    }
    for server in &mcp.servers {
        if server.name.trim().is_empty() || server.name.len() > 100 {
            return Err(invalid("mcp.servers", "each server needs a name of 1 to 100 characters".into()));
        }
        if !is_http_url(&server.url) {
            return Err(invalid(
                "mcp.servers",
                format!("{}: {:?} is not an http(s) URL", server.name, server.url),
            ));
        }
    }
    if config.clawhub.enabled && !is_http_url(&config.clawhub.api_url) {
        return Err(invalid(
            "clawhub.api_url",
            format!("{:?} is not an http(s) URL", config.clawhub.api_url),
        ));
    }
    for (key, project) in [
        ("kumiho.harness_project", &config.kumiho.harness_project),
        ("kumiho.memory_project", &config.kumiho.memory_project),
    ] {
        let valid = !project.is_empty()
            && project.len() <= 128
            && project.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            && project != "."
            && project != "..";
        if !valid {
            return Err(invalid(key, format!("{project:?} must be 1-128 characters of A-Z a-z 0-9 _ - .")));
        }
    }
    let nodes = &config.nodes;
    if !(1..=10_000).contains(&nodes.max_nodes) {
        return Err(invalid(
            "nodes.max_nodes",
            format!("must be between 1 and 10000, got {}", nodes.max_nodes),
        ));
    }
    if !(1..=3_600).contains(&nodes.invoke_timeout_secs) {
        return Err(invalid(
            "nodes.invoke_timeout_secs",
            format!("must be between 1 and 3600, got {}", nodes.invoke_timeout_secs),
        ));
    }
    let terminal = &config.terminal;
    if !(1..=256).contains(&terminal.max_sessions) {
        return Err(invalid(
            "terminal.max_sessions",
            format!("must be between 1 and 256, got {}", terminal.max_sessions),
        ));
    }
    if let Some(shell) = &terminal.shell
        && !std::path::Path::new(shell).is_absolute()
    {
        return Err(invalid("terminal.shell", format!("{shell:?} must be an absolute path")));
    }
    for (tool, program) in &terminal.tools {
        if !matches!(tool.as_str(), "claude" | "codex" | "opencode" | "gemini") {
            return Err(invalid(
                "terminal.tools",
                format!("{tool:?} is not claude, codex, opencode or gemini"),
            ));
        }
        if !std::path::Path::new(program).is_absolute() {
            return Err(invalid("terminal.tools", format!("{tool}: {program:?} must be an absolute path")));
        }
    }
    let p = &config.provider;
    if p.timeout_secs == 0 || p.timeout_secs > 3_600 {
        return Err(invalid(
            "provider.timeout_secs",
            format!("must be between 1 and 3600, got {}", p.timeout_secs),
        ));
    }
    if let Some(t) = p.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(invalid("provider.temperature", format!("must be between 0 and 2, got {t}")));
    }
    for (key, price) in [
        ("provider.input_price_per_million", p.input_price_per_million),
        ("provider.output_price_per_million", p.output_price_per_million),
    ] {
        if !price.is_finite() || price < 0.0 {
            return Err(invalid(key, format!("must be a price of 0 or more, got {price}")));
        }
    }
    if p.echo_delay_ms > 10_000 {
        return Err(invalid(
            "provider.echo_delay_ms",
            format!("must be at most 10000, got {}", p.echo_delay_ms),
        ));
    }
    if p.model.trim().is_empty() {
        return Err(invalid("provider.model", "must not be empty".into()));
    }
    if !is_http_url(&p.base_url) {
        return Err(invalid("provider.base_url", format!("{:?} is not an http(s) URL", p.base_url)));
    }
    for (name, value) in &p.extra_headers {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || http::HeaderValue::from_str(value).is_err()
        {
            return Err(invalid(
                &format!("provider.extra_headers.{name}"),
                "is not a valid HTTP header".into(),
            ));
        }
    }
    for (key, empty) in super::channels::required_keys(&config.channels_config) {
        if empty {
            return Err(invalid(
                key,
                "is required when this channel is configured (a channel never runs unverified)".into(),
            ));
        }
    }
    let channels = &config.channels_config;
    for (key, url) in super::channels::outbound_urls(channels) {
        if !url.trim().is_empty() && !is_http_url(url) {
            return Err(invalid(key, format!("{url:?} is not an http(s) URL")));
        }
    }
    if channels.queue_capacity == 0 {
        return Err(invalid("channels_config.queue_capacity", "must be at least 1".into()));
    }
    if !(1..=64).contains(&channels.workers) {
        return Err(invalid("channels_config.workers", format!("{} is not within 1..=64", channels.workers)));
    }
    for (i, origin) in g.allowed_origins.iter().enumerate() {
        check_origin(origin).map_err(|reason| invalid(&format!("gateway.allowed_origins.{i}"), reason))?;
    }
    Ok(())
}

fn is_http_url(raw: &str) -> bool {
    raw.parse::<Uri>()
        .is_ok_and(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.authority().is_some())
}

fn check_prefix(prefix: &str) -> Result<(), String> {
    if !prefix.starts_with('/') {
        return Err(format!("{prefix:?} must start with `/`"));
    }
    if prefix == "/" || prefix.ends_with('/') {
        return Err(format!("{prefix:?} must not end with `/` (use `/name`, or leave it unset)"));
    }
    if let Some(bad) = prefix.chars().find(|c| !c.is_ascii_alphanumeric() && !PREFIX_PUNCTUATION.contains(*c))
    {
        return Err(format!(
            "{prefix:?} contains {bad:?}; allowed are letters, digits and {PREFIX_PUNCTUATION}"
        ));
    }
    if prefix.split('/').skip(1).any(|seg| seg.is_empty() || seg == "." || seg == "..") {
        return Err(format!("{prefix:?} has an empty, `.` or `..` segment"));
    }
    // The router reads `:name`, `*name` and `{name}` as parameters, not literal text.
    if prefix.split('/').skip(1).any(|seg| seg.starts_with(':') || seg.starts_with('*')) {
        return Err(format!("{prefix:?} has a segment starting with `:` or `*`"));
    }
    Ok(())
}

fn check_origin(origin: &str) -> Result<(), String> {
    normalize_origin(origin).map(drop)
}

/// The canonical form browsers send in `Origin`: lowercase `scheme://host[:port]`, no trailing slash, the
/// scheme's default port dropped. Refuses wildcards, paths, queries and user info.
pub fn normalize_origin(origin: &str) -> Result<String, String> {
    if origin.trim() == "*" {
        return Err("wildcard origins are not allowed; list each origin".into());
    }
    let uri: Uri = origin
        .trim()
        .parse()
        .map_err(|_| format!("{origin:?} is not an origin like https://app.example.com"))?;
    let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
    let bare = uri.path_and_query().is_none_or(|pq| pq.as_str().is_empty() || pq.as_str() == "/");
    let (Some(scheme @ ("http" | "https")), Some(authority), true) =
        (scheme.as_deref(), uri.authority(), bare)
    else {
        return Err(format!("{origin:?} must be scheme://host[:port] with scheme http or https and no path"));
    };
    if authority.as_str().contains('@') {
        return Err(format!("{origin:?} must not contain user info"));
    }
    let host = authority.host().to_ascii_lowercase();
    let default_port = if scheme == "https" { 443 } else { 80 };
    Ok(match authority.port_u16() {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// `[gateway.tls]`: the files it needs are named (their contents are checked when the server starts), pins
/// and mapped fingerprints are well formed, and a mapping never grants more than a device could get.
fn validate_tls(tls: &super::TlsConfig) -> Result<(), (&'static str, String)> {
    let auth = &tls.client_auth;
    if !(1..=300).contains(&tls.handshake_timeout_secs) {
        return Err((
            "gateway.tls.handshake_timeout_secs",
            format!("must be between 1 and 300, got {}", tls.handshake_timeout_secs),
        ));
    }
    if tls.enabled {
        if tls.cert_path.is_none() {
            return Err(("gateway.tls.cert_path", "is required when TLS is enabled".into()));
        }
        if tls.key_path.is_none() {
            return Err(("gateway.tls.key_path", "is required when TLS is enabled".into()));
        }
    }
    if !auth.enabled {
        if !auth.map.is_empty() || !auth.pinned_certs.is_empty() {
            return Err((
                "gateway.tls.client_auth.enabled",
                "must be true for pinned_certs or map to mean anything".into(),
            ));
        }
        return Ok(());
    }
    if !tls.enabled {
        return Err(("gateway.tls.client_auth.enabled", "needs gateway.tls.enabled".into()));
    }
    if auth.ca_cert_path.is_none() {
        return Err((
            "gateway.tls.client_auth.ca_cert_path",
            "is required when client_auth is enabled".into(),
        ));
    }
    for pin in &auth.pinned_certs {
        if super::normalize_fingerprint(pin).is_none() {
            return Err((
                "gateway.tls.client_auth.pinned_certs",
                format!("{pin:?} is not sha256:<64 hex digits>"),
            ));
        }
    }
    for mapping in &auth.map {
        if super::normalize_fingerprint(&mapping.fingerprint).is_none() {
            return Err((
                "gateway.tls.client_auth.map",
                format!("fingerprint {:?} is not sha256:<64 hex digits>", mapping.fingerprint),
            ));
        }
        if mapping.scopes.is_empty() {
            return Err(("gateway.tls.client_auth.map", "each mapping needs at least one scope".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GatewayConfig;

    fn with(f: impl FnOnce(&mut GatewayConfig)) -> Result<(), ConfigError> {
        let mut config = Config::default();
        f(&mut config.gateway);
        validate(&config)
    }

    fn key_of(result: Result<(), ConfigError>) -> String {
        match result {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(validate(&Config::default()), Ok(()));
    }

    #[test]
    fn prefixes() {
        for good in ["/construct", "/a/b", "/x-y_z.~v1", "/@me"] {
            assert_eq!(with(|g| g.path_prefix = Some(good.into())), Ok(()), "{good}");
        }
        for bad in [
            "construct",
            "/",
            "/construct/",
            "/a b",
            "/a//b",
            "/../etc",
            "/a%2f",
            "/<script>",
            "/:x",
            "/a/*b",
        ] {
            assert_eq!(key_of(with(|g| g.path_prefix = Some(bad.into()))), "gateway.path_prefix", "{bad}");
        }
    }

    #[test]
    fn the_echo_pace_is_bounded() {
        let mut config = Config::default();
        config.provider.echo_delay_ms = 10_000;
        assert_eq!(validate(&config), Ok(()));
        config.provider.echo_delay_ms = 10_001;
        assert_eq!(key_of(validate(&config)), "provider.echo_delay_ms");
    }

    #[test]
    fn the_token_lockout_needs_a_threshold() {
        assert_eq!(with(|g| g.max_failed_token_attempts = 1), Ok(()));
        assert_eq!(key_of(with(|g| g.max_failed_token_attempts = 0)), "gateway.max_failed_token_attempts");
    }

    #[test]
    fn the_metrics_listener_is_loopback_only() {
        for good in ["127.0.0.1:9464", "[::1]:9464", "127.0.0.2:0"] {
            assert_eq!(with(|g| g.metrics_listen = Some(good.parse().unwrap())), Ok(()), "{good}");
        }
        for bad in ["0.0.0.0:9464", "10.0.0.5:9464", "[::]:9464"] {
            let result = with(|g| g.metrics_listen = Some(bad.parse().unwrap()));
            assert_eq!(key_of(result), "gateway.metrics_listen", "{bad}");
        }
    }

    #[test]
    fn zeroes_and_hosts_are_refused() {
        assert_eq!(key_of(with(|g| g.request_timeout_secs = 0)), "gateway.request_timeout_secs");
        assert_eq!(key_of(with(|g| g.request_timeout_secs = u64::MAX)), "gateway.request_timeout_secs");
        assert_eq!(key_of(with(|g| g.max_connections = 0)), "gateway.max_connections");
        assert_eq!(key_of(with(|g| g.host = "0.0.0.0".into())), "gateway.allow_public_bind");
        assert_eq!(
            with(|g| {
                g.host = "0.0.0.0".into();
                g.allow_public_bind = true;
            }),
            Ok(())
        );
        assert_eq!(key_of(with(|g| g.max_body_bytes = 0)), "gateway.max_body_bytes");
        assert_eq!(key_of(with(|g| g.idempotency_ttl_secs = 0)), "gateway.idempotency_ttl_secs");
        assert_eq!(key_of(with(|g| g.host = "my.host.example".into())), "gateway.host");
        assert_eq!(with(|g| g.host = "localhost".into()), Ok(()));
    }

    #[test]
    fn tls_needs_its_files_and_well_formed_fingerprints() {
        let on = |g: &mut GatewayConfig| {
            g.tls.enabled = true;
            g.tls.cert_path = Some("c.pem".into());
            g.tls.key_path = Some("k.pem".into());
        };
        assert_eq!(with(on), Ok(()));
        assert_eq!(key_of(with(|g| g.tls.enabled = true)), "gateway.tls.cert_path");
        assert_eq!(
            key_of(with(|g| {
                on(g);
                g.tls.key_path = None;
            })),
            "gateway.tls.key_path"
        );
        assert_eq!(key_of(with(|g| g.tls.client_auth.enabled = true)), "gateway.tls.client_auth.enabled");
        let mutual = |g: &mut GatewayConfig| {
            on(g);
            g.tls.client_auth.enabled = true;
            g.tls.client_auth.ca_cert_path = Some("ca.pem".into());
        };
        assert_eq!(with(mutual), Ok(()));
        assert_eq!(
            key_of(with(|g| {
                mutual(g);
                g.tls.client_auth.ca_cert_path = None;
            })),
            "gateway.tls.client_auth.ca_cert_path"
        );
        assert_eq!(
            key_of(with(|g| {
                mutual(g);
                g.tls.client_auth.pinned_certs = vec!["sha256:12".into()];
            })),
            "gateway.tls.client_auth.pinned_certs"
        );
        let mapping = |fingerprint: &str, scopes| crate::config::CertMapping {
            fingerprint: fingerprint.into(),
            scopes,
            name: None,
        };
        let good = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            with(|g| {
                mutual(g);
                g.tls.client_auth.map = vec![mapping(&good, crate::principal::Scopes::DEFAULT_DEVICE)];
            }),
            Ok(())
        );
        assert_eq!(
            key_of(with(|g| {
                mutual(g);
                g.tls.client_auth.map = vec![mapping(&good, crate::principal::Scopes::NONE)];
            })),
            "gateway.tls.client_auth.map"
        );
        assert_eq!(
            key_of(with(
                |g| g.tls.client_auth.map = vec![mapping(&good, crate::principal::Scopes::DEFAULT_DEVICE)]
            )),
            "gateway.tls.client_auth.enabled",
            "a mapping without client_auth would never apply"
        );
        assert_eq!(key_of(with(|g| g.tls.handshake_timeout_secs = 0)), "gateway.tls.handshake_timeout_secs");
    }

    #[test]
    fn pairing_rules() {
        assert_eq!(key_of(with(|g| g.pairing.code_length = 4)), "gateway.pairing.code_length");
        assert_eq!(key_of(with(|g| g.pairing.code_length = 13)), "gateway.pairing.code_length");
        assert_eq!(key_of(with(|g| g.pairing.lockout_secs = 0)), "gateway.pairing.lockout_secs");
        assert_eq!(
            key_of(with(|g| g.pairing.global_failure_budget = 0)),
            "gateway.pairing.global_failure_budget"
        );
        assert_eq!(with(|g| g.require_pairing = false), Ok(()));
        let public_open = with(|g| {
            g.require_pairing = false;
            g.host = "0.0.0.0".into();
            g.allow_public_bind = true;
        });
        assert_eq!(key_of(public_open), "gateway.require_pairing");
    }

    #[test]
    fn origins_normalize_to_what_browsers_send() {
        assert_eq!(normalize_origin("HTTPS://App.Example.com/").unwrap(), "https://app.example.com");
        assert_eq!(normalize_origin("https://app.example.com:443").unwrap(), "https://app.example.com");
        assert_eq!(normalize_origin("http://localhost:5173").unwrap(), "http://localhost:5173");
        assert_eq!(normalize_origin("http://x.example:80").unwrap(), "http://x.example");
    }

    #[test]
    fn origins() {
        for good in ["https://app.example.com", "http://localhost:5173", "https://[::1]:8443"] {
            assert_eq!(with(|g| g.allowed_origins = vec![good.into()]), Ok(()), "{good}");
        }
        for bad in
            ["*", "app.example.com", "ftp://x.example", "https://x.example/path", "https://u@x.example"]
        {
            let key = key_of(with(|g| g.allowed_origins = vec!["https://ok.example".into(), bad.into()]));
            assert_eq!(key, "gateway.allowed_origins.1", "{bad}");
        }
    }
}
