//! The configuration model.
//!
//! Sections mirror the upstream gateway's TOML (`[gateway]`, later `[channels_config.*]`, `[kumiho]`,
//! `[provider]`, `[store]`) so existing files keep working. Every field has a default, so an empty file,
//! or no file at all, is a valid configuration that binds to loopback with pairing required.
//!
//! [`load`] layers defaults, the TOML file and the environment with figment, then [`validate`]s the result
//! so that a bad value fails startup with the key that holds it.

mod channels;
mod env;
mod harness;
mod kumiho;
mod load;
mod mcp;
mod provider;
mod realtime;
mod schema;
mod tls;
mod validate;

use std::net::IpAddr;

pub use channels::{
    ChannelsConfig, GmailPushConfig, LinqConfig, NextcloudTalkConfig, WatiConfig, WebhookChannelConfig,
    WhatsAppConfig,
};
pub use env::{EnvTarget, EnvVars, KNOWN_ENV_VARS, KnownEnvVar, is_known_env_var, parse_bool};
pub use harness::{ClawHubConfig, WorkflowsConfig};
pub use kumiho::{KumihoConfig, KumihoMode};
pub use load::{
    ConfigError, ConfigSources, LoadedConfig, config_file_to_write, ensure_data_dir, load,
    load_with_contents, probe_writable,
};
pub use mcp::{ExternalMcpServer, McpConfig};
pub use provider::{ProviderConfig, ProviderKind};
pub use realtime::{NodesConfig, TerminalConfig};
pub use schema::KEY_ORDER;
pub use tls::{CertMapping, ClientAuthConfig, TlsConfig, normalize_fingerprint};
pub use validate::{normalize_origin, validate};

use ipnet::IpNet;
use schema::key_order;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::constants::{
    DEFAULT_HOST, DEFAULT_PORT, IDEMPOTENCY_MAX_KEYS_DEFAULT, MAX_BODY_SIZE, MAX_CONNECTIONS_DEFAULT,
    RATE_LIMIT_MAX_KEYS_DEFAULT, REQUEST_TIMEOUT_SECS,
};

/// The gateway's configuration: a TOML file layered over built-in defaults, under the environment and the
/// command line.
///
/// Sources, lowest precedence first:
///
/// 1. Built-in defaults (secure: loopback bind, pairing required).
/// 2. A TOML file: `--config PATH`, else `$CONSTRUCT_CONFIG`, else `~/.construct/gateway.toml` if it
///    exists. A file named explicitly must exist.
/// 3. [Environment variables](KNOWN_ENV_VARS).
/// 4. Command-line flags `--host` and `--port`.
///
/// The data directory is `--data-dir`, else `$CONSTRUCT_DATA_DIR`, else `~/.construct/gateway`. It is
/// created with mode 0700 if missing (an existing one that others can read is tightened to 0700), and must
/// be a writable directory.
///
/// An invalid value stops startup with a message naming the key and where it came from (file, variable or
/// flag). An unknown key is a warning, not an error. `construct-gateway config check` validates and prints
/// the effective configuration (secrets masked) and exits 1 on error.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct Config {
    /// `[gateway]`: listener, pairing, limits.
    pub gateway: GatewayConfig,
    /// `[provider]`: the language model behind the agent.
    pub provider: ProviderConfig,
    /// `[channels_config.*]`: messaging channels, all off until configured.
    pub channels_config: ChannelsConfig,
    /// `[nodes]`: remote capability providers.
    pub nodes: NodesConfig,
    /// `[terminal]`: a shell over WebSocket, off by default.
    pub terminal: TerminalConfig,
    /// `[kumiho]`: the graph memory, embedded by default.
    pub kumiho: KumihoConfig,
    /// `[workflows]`: where the workflow operator's run logs are.
    pub workflows: WorkflowsConfig,
    /// `[clawhub]`: the skill registry the dashboard installs from.
    pub clawhub: ClawHubConfig,
    /// `[mcp]`: the MCP server and external MCP servers.
    pub mcp: McpConfig,
}

/// Where the gateway listens and how it protects itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct GatewayConfig {
    /// Address to bind: an IP address (IPv6 with or without brackets) or `localhost`.
    pub host: String,
    /// Port to bind; `0` picks a free port (shown in the banner and the log).
    pub port: u16,
    /// Require a paired device token on protected routes. `false` is refused unless the host is loopback,
    /// and refused behind `trusted_proxies` (every proxied client would be an admin).
    pub require_pairing: bool,
    /// Allow a non-loopback `host`. Without it, such a bind is refused at startup.
    pub allow_public_bind: bool,
    /// Serve everything under this path (for a reverse proxy's sub-path), e.g. `/construct`. Must start
    /// with `/`, must not end with `/`, no empty, `.` or `..` segments, characters
    /// `A-Za-z0-9-_.~!$&'()*+,;=:@/` only. `{prefix}/` redirects (308) to `{prefix}`; paths outside it are
    /// 404.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "/construct")]
    pub path_prefix: Option<String>,
    /// `POST /pair` attempts per client per minute; 0 disables the limiter.
    pub pair_rate_limit_per_minute: u32,
    /// Webhook deliveries per client per minute; 0 disables the limiter.
    pub webhook_rate_limit_per_minute: u32,
    /// Distinct client keys a rate limiter tracks; 0 means [10000](RATE_LIMIT_MAX_KEYS_DEFAULT).
    pub rate_limit_max_keys: usize,
    /// Lifetime of an idempotency key and its stored response, in seconds; at least 1.
    pub idempotency_ttl_secs: u64,
    /// Idempotency keys retained; 0 means [10000](IDEMPOTENCY_MAX_KEYS_DEFAULT).
    pub idempotency_max_keys: usize,
    /// Persist chat sessions in the store.
    pub session_persistence: bool,
    /// Delete chat sessions idle for longer than this many hours; 0 keeps them.
    pub session_ttl_hours: u32,
    /// Proxies whose forwarding headers are believed: CIDR blocks (`10.0.0.0/8`) or single addresses.
    /// Empty: none.
    pub trusted_proxies: Vec<Cidr>,
    /// Browser origins besides the gateway's own, as `scheme://host[:port]` (http or https, no path, no
    /// wildcard).
    pub allowed_origins: Vec<String>,
    /// Seconds a request may take to produce its response head, and a client has to send its request head.
    /// 1 to 3600.
    pub request_timeout_secs: u64,
    /// Default request body limit per route group, in bytes. At least 1.
    pub max_body_bytes: usize,
    /// Connections served at once; further clients wait in the accept backlog. At least 1.
    pub max_connections: usize,
    /// Authenticated API calls per client per minute (GCRA, burst equal to the limit); 0 disables the
    /// limiter.
    pub api_rate_limit_per_minute: u32,
    /// Accept `?token=` as a credential, for clients that cannot set headers (a browser opening a
    /// WebSocket). Off because query strings end up in logs.
    pub allow_query_token: bool,
    /// Wrong bearer tokens from one client within 60 s after which that client is refused with 429 for
    /// 300 s (a valid token is still honoured); at least 1.
    pub max_failed_token_attempts: u32,
    /// `[gateway.pairing]`: the one-time code and brute-force protection.
    pub pairing: PairingConfig,
    /// `[gateway.websocket]`: limits every WebSocket shares.
    pub websocket: WebSocketConfig,
    /// `[gateway.tls]`: HTTPS and client certificates.
    pub tls: TlsConfig,
    /// SHA-256 (64 hex digits) of an admin token provisioned outside the gateway (a secret manager, a
    /// container orchestrator). `CONSTRUCT_BOOTSTRAP_TOKEN` gives the token itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub bootstrap_token_sha256: Option<String>,
    /// When the bootstrap token is accepted: until the first device exists (paired, or made with
    /// `construct-gateway token create`), or for as long as it is configured.
    pub bootstrap_token_mode: BootstrapMode,
    /// Also serve `GET /metrics`, without credentials, on this loopback address (e.g. `127.0.0.1:9464`) for a
    /// Prometheus on the same host. Must be a loopback address. Unset: `/metrics` is served only on the main
    /// listener, to admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "127.0.0.1:9464")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `[gateway.auth]`: identity from a trusted reverse proxy.
    pub auth: AuthConfig,
}

/// How requests are authenticated besides device tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// Device tokens only (the default).
    #[default]
    Token,
    /// Also the user an identity-aware proxy (oauth2-proxy, Authelia, Pomerium, Caddy forward_auth) names in
    /// a header, believed only from `[gateway] trusted_proxies`.
    TrustedProxy,
}

/// Identity from a trusted reverse proxy.
///
/// Identity-aware reverse proxies (oauth2-proxy, Authelia, Pomerium, Caddy `forward_auth`) can vouch for
/// users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct AuthConfig {
    /// `trusted-proxy`: a request from a `[gateway] trusted_proxies` address, without a bearer token, acts
    /// as the user in `user_header`. Needs `trusted_proxies` and `require_pairing = true`. Device tokens
    /// keep working.
    pub mode: AuthMode,
    /// The header naming the user (a valid header name).
    pub user_header: String,
    /// Headers the proxy always sets; a request missing one is refused.
    pub required_headers: Vec<String>,
    /// Users let in; empty: any user the proxy names.
    pub allow_users: Vec<String>,
    /// Scopes per user, `bob = ["read", "chat", "admin"]`; others get `default_scopes`.
    pub scopes_by_user: std::collections::BTreeMap<String, crate::principal::Scopes>,
    /// Scopes of users not in `scopes_by_user`.
    pub default_scopes: crate::principal::Scopes,
    /// Believe a proxy on this machine; without it, a loopback peer's user header is ignored (any local
    /// process could forge it).
    pub allow_loopback_proxy: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            mode: AuthMode::Token,
            user_header: "X-Forwarded-User".to_owned(),
            required_headers: Vec::new(),
            allow_users: Vec::new(),
            scopes_by_user: std::collections::BTreeMap::new(),
            default_scopes: crate::principal::Scopes::DEFAULT_DEVICE,
            allow_loopback_proxy: false,
        }
    }
}

/// When `[gateway] bootstrap_token_sha256` is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BootstrapMode {
    /// Until the first device exists (paired or created with `token create`).
    #[default]
    UntilFirstPair,
    /// For as long as it is configured.
    Always,
}

/// Limits every WebSocket (`/ws/chat`, `/ws/canvas/{id}`, `/ws/nodes`, `/ws/terminal`) shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct WebSocketConfig {
    /// Largest message a client may send, in bytes; larger ones close the socket with 1009. 1 KiB to
    /// 64 MiB.
    pub max_message_bytes: usize,
    /// Seconds between the server's Pings. 1 to 3600.
    pub ping_interval_secs: u64,
    /// Seconds without any frame from the client (Pongs count) before the socket closes with 1001. Longer
    /// than `ping_interval_secs`, at most 86400.
    pub idle_timeout_secs: u64,
    /// Sockets open at once per client address (an IPv6 /64 is one client), 1 to 100000; beyond it 429
    /// `TOO_MANY_CONNECTIONS`.
    pub max_connections_per_client: usize,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 1024 * 1024,
            ping_interval_secs: 20,
            idle_timeout_secs: 60,
            max_connections_per_client: 32,
        }
    }
}

/// How pairing codes are made, and how guessing them is stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct PairingConfig {
    /// Digits in a pairing code, 6 to 12. Upstream clients expect 6.
    pub code_length: usize,
    /// Seconds a code is accepted; 1 to 2592000 (30 days).
    pub code_ttl_secs: u64,
    /// Wrong codes from one client before it is locked out; at least 1.
    pub max_failed_attempts: u32,
    /// Seconds that lockout lasts (also the window the failures are counted in); 1 to 2592000.
    pub lockout_secs: u64,
    /// Wrong codes from all clients together, within the window, after which the active code is
    /// invalidated (this stops guessing spread over many addresses); at least 1.
    pub global_failure_budget: u32,
    /// The window of the global budget, in seconds; 1 to 2592000.
    pub global_failure_window_secs: u64,
    /// Days until a device token expires; 0 means never. At most 3650.
    pub token_ttl_days: u32,
}

impl Default for PairingConfig {
    fn default() -> Self {
        Self {
            code_length: 6,
            code_ttl_secs: 600,
            max_failed_attempts: 5,
            lockout_secs: 300,
            global_failure_budget: 50,
            global_failure_window_secs: 600,
            token_ttl_days: 0,
        }
    }
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            host: DEFAULT_HOST.to_owned(),
            port: DEFAULT_PORT,
            require_pairing: true,
            allow_public_bind: false,
            path_prefix: None,
            pair_rate_limit_per_minute: 10,
            webhook_rate_limit_per_minute: 60,
            rate_limit_max_keys: RATE_LIMIT_MAX_KEYS_DEFAULT,
            idempotency_ttl_secs: 300,
            idempotency_max_keys: IDEMPOTENCY_MAX_KEYS_DEFAULT,
            session_persistence: true,
            session_ttl_hours: 0,
            trusted_proxies: Vec::new(),
            allowed_origins: Vec::new(),
            request_timeout_secs: REQUEST_TIMEOUT_SECS,
            max_body_bytes: MAX_BODY_SIZE,
            max_connections: MAX_CONNECTIONS_DEFAULT,
            api_rate_limit_per_minute: 600,
            allow_query_token: false,
            max_failed_token_attempts: 10,
            pairing: PairingConfig::default(),
            websocket: WebSocketConfig::default(),
            tls: TlsConfig::default(),
            bootstrap_token_sha256: None,
            bootstrap_token_mode: BootstrapMode::UntilFirstPair,
            metrics_listen: None,
            auth: AuthConfig::default(),
        }
    }
}

impl GatewayConfig {
    /// The path prefix, or `""` when none is configured.
    pub fn prefix(&self) -> &str {
        self.path_prefix.as_deref().unwrap_or("")
    }

    /// Rate-limiter key capacity with the 0 → default fallback applied.
    pub fn effective_rate_limit_max_keys(&self) -> usize {
        normalize_max_keys(self.rate_limit_max_keys, RATE_LIMIT_MAX_KEYS_DEFAULT)
    }

    /// Idempotency key capacity with the 0 → default fallback applied.
    pub fn effective_idempotency_max_keys(&self) -> usize {
        normalize_max_keys(self.idempotency_max_keys, IDEMPOTENCY_MAX_KEYS_DEFAULT)
    }

    /// The address to bind, resolving `localhost` to `127.0.0.1`. `None` only for a host that
    /// [`validate`] would have refused.
    pub fn bind_ip(&self) -> Option<IpAddr> {
        parse_host(&self.host)
    }

    /// Whether the configured host is reachable from other machines.
    pub fn is_public_bind(&self) -> bool {
        self.bind_ip().is_none_or(|ip| !ip.is_loopback())
    }
}

/// `0` means "use the fallback"; the result is never below 1.
pub fn normalize_max_keys(configured: usize, fallback: usize) -> usize {
    if configured == 0 { fallback.max(1) } else { configured }
}

/// Parses a bind host: `localhost`, an IPv4 address, or an IPv6 address with or without brackets.
pub fn parse_host(host: &str) -> Option<IpAddr> {
    let host = host.trim();
    if host.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::from([127, 0, 0, 1]));
    }
    let unbracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    unbracketed.parse().ok()
}

/// A network block: written as `10.0.0.0/8`, or as a single address, which means that address alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr(pub IpNet);

impl Cidr {
    /// Whether `ip` lies inside the block. IPv4-mapped IPv6 addresses match their IPv4 block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.contains(&ip)
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(Self(net.trunc()));
        }
        s.parse::<IpAddr>()
            .map(|ip| Self(IpNet::from(ip)))
            .map_err(|_| format!("{s:?} is neither a CIDR block (10.0.0.0/8) nor an IP address"))
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_secure() {
        let g = GatewayConfig::default();
        assert_eq!(g.host, "127.0.0.1");
        assert_eq!(g.port, 42_617);
        assert!(g.require_pairing);
        assert!(!g.allow_public_bind);
        assert!(!g.is_public_bind());
        assert_eq!(g.max_body_bytes, 65_536);
        assert_eq!(g.request_timeout_secs, 30);
        assert!(g.trusted_proxies.is_empty() && g.allowed_origins.is_empty());
    }

    #[test]
    fn hosts() {
        assert_eq!(parse_host("localhost"), Some(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(parse_host("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(parse_host("::1"), Some("::1".parse().unwrap()));
        assert_eq!(parse_host("example.com"), None);
        let public = GatewayConfig { host: "0.0.0.0".into(), ..Default::default() };
        assert!(public.is_public_bind());
    }

    #[test]
    fn max_keys_fallback() {
        assert_eq!(normalize_max_keys(0, 10_000), 10_000);
        assert_eq!(normalize_max_keys(0, 0), 1);
        assert_eq!(normalize_max_keys(7, 10_000), 7);
    }

    #[test]
    fn cidr_parsing_and_matching() {
        let block: Cidr = "10.1.2.3/8".parse().unwrap();
        assert_eq!(block.to_string(), "10.0.0.0/8");
        assert!(block.contains("10.200.0.1".parse().unwrap()));
        assert!(block.contains("::ffff:10.0.0.9".parse().unwrap()));
        assert!(!block.contains("11.0.0.1".parse().unwrap()));
        let single: Cidr = "192.0.2.7".parse().unwrap();
        assert_eq!(single.to_string(), "192.0.2.7/32");
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("proxy.local".parse::<Cidr>().is_err());
    }
}
