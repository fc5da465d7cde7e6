//! Environment variables that override the file.
//!
//! The gateway reads a fixed set of variables (the upstream names, so existing deployments keep working)
//! and parses them strictly: upstream treated any boolean other than `1`/`true` as false, so a typo such as
//! `CONSTRUCT_REQUIRE_PAIRING=ture` silently disabled pairing. Here it is a startup error naming the
//! variable.
//!
//! The environment is passed around as an [`EnvVars`] snapshot rather than read from the process, so
//! tests never have to mutate process state.

use std::collections::BTreeMap;

use figment::value::Value;

use super::load::ConfigError;
use crate::constants::{TIMEOUT_ENV, parse_timeout_secs};

/// A snapshot of environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvVars(BTreeMap<String, String>);

impl EnvVars {
    /// The current process environment (variables that are not valid UTF-8 are skipped).
    pub fn from_process() -> Self {
        Self(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        )
    }

    /// A snapshot made of the given pairs, for tests and embedding.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// The names of all variables.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The value of `name`, if set and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.trim().is_empty())
    }
}

/// Parses a boolean: `true/false`, `1/0`, `yes/no`, `on/off`, case-insensitive. Anything else is refused.
pub fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("expected true/false, 1/0 or yes/no, got {raw:?}")),
    }
}

/// One override taken from the environment: which variable, which config key, and the parsed value.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct EnvOverride {
    pub var: &'static str,
    pub key: &'static str,
    pub value: Value,
}

/// Reads the gateway's variables from `env`, in precedence order (a later entry for the same key wins).
pub(super) fn overrides(env: &EnvVars) -> Result<Vec<EnvOverride>, ConfigError> {
    let mut out = Vec::new();
    let invalid = |var: &str, reason: String| ConfigError::Env { var: var.to_owned(), reason };

    // The generic names first, so the CONSTRUCT_-prefixed ones win when both are set.
    for var in ["HOST", "CONSTRUCT_GATEWAY_HOST"] {
        if let Some(raw) = env.get(var) {
            out.push(EnvOverride { var, key: "gateway.host", value: Value::from(raw.trim().to_owned()) });
        }
    }
    for var in ["PORT", "CONSTRUCT_GATEWAY_PORT"] {
        if let Some(raw) = env.get(var) {
            let port: u16 = raw
                .trim()
                .parse()
                .map_err(|_| invalid(var, format!("expected a port number 0-65535, got {raw:?}")))?;
            out.push(EnvOverride { var, key: "gateway.port", value: Value::from(port) });
        }
    }
    for (var, key) in [
        ("CONSTRUCT_REQUIRE_PAIRING", "gateway.require_pairing"),
        ("CONSTRUCT_ALLOW_PUBLIC_BIND", "gateway.allow_public_bind"),
    ] {
        if let Some(raw) = env.get(var) {
            let flag = parse_bool(raw).map_err(|reason| invalid(var, reason))?;
            out.push(EnvOverride { var, key, value: Value::from(flag) });
        }
    }
    // A bootstrap token from a secret manager: only its SHA-256 enters the configuration.
    if let Some(raw) = env.get("CONSTRUCT_BOOTSTRAP_TOKEN").map(str::trim).filter(|t| !t.is_empty()) {
        let hash = hex::encode(ring::digest::digest(&ring::digest::SHA256, raw.as_bytes()));
        out.push(EnvOverride {
            var: "CONSTRUCT_BOOTSTRAP_TOKEN",
            key: "gateway.bootstrap_token_sha256",
            value: Value::from(hash),
        });
    }
    if let Some(raw) = env.get("CONSTRUCT_PROVIDER_API_KEY") {
        out.push(EnvOverride {
            var: "CONSTRUCT_PROVIDER_API_KEY",
            key: "provider.api_key",
            value: Value::from(raw.trim().to_owned()),
        });
    }
    // Channel secrets from the environment win over the file, as upstream; Gmail's is the fallback only.
    for (var, key) in [
        ("CONSTRUCT_WHATSAPP_APP_SECRET", "channels_config.whatsapp.app_secret"),
        ("CONSTRUCT_LINQ_SIGNING_SECRET", "channels_config.linq.signing_secret"),
        ("CONSTRUCT_NEXTCLOUD_TALK_WEBHOOK_SECRET", "channels_config.nextcloud_talk.webhook_secret"),
    ] {
        if let Some(raw) = env.get(var) {
            out.push(EnvOverride { var, key, value: Value::from(raw.trim().to_owned()) });
        }
    }
    if let Some(raw) = env.get(TIMEOUT_ENV) {
        let secs = parse_timeout_secs(raw).map_err(|reason| invalid(TIMEOUT_ENV, reason))?;
        out.push(EnvOverride {
            var: TIMEOUT_ENV,
            key: "gateway.request_timeout_secs",
            value: Value::from(secs),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_are_strict() {
        for t in ["true", "TRUE", "1", "yes", "On"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["false", "0", "no", "OFF"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        for bad in ["ture", "2", "", "enabled"] {
            assert!(parse_bool(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn blank_values_are_unset() {
        let env = EnvVars::from_pairs([("HOST", "  "), ("PORT", "")]);
        assert!(overrides(&env).unwrap().is_empty());
    }

    #[test]
    fn prefixed_names_come_last_so_they_win() {
        let env = EnvVars::from_pairs([("PORT", "1"), ("CONSTRUCT_GATEWAY_PORT", "2")]);
        let o = overrides(&env).unwrap();
        assert_eq!(o.last().unwrap().var, "CONSTRUCT_GATEWAY_PORT");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let env = EnvVars::from_pairs([("CONSTRUCT_REQUIRE_PAIRING", "ture")]);
        let err = overrides(&env).unwrap_err().to_string();
        assert!(err.contains("CONSTRUCT_REQUIRE_PAIRING"), "{err}");
        let env = EnvVars::from_pairs([("CONSTRUCT_GATEWAY_TIMEOUT_SECS", "0")]);
        assert!(overrides(&env).unwrap_err().to_string().contains("CONSTRUCT_GATEWAY_TIMEOUT_SECS"));
        let env = EnvVars::from_pairs([("PORT", "70000")]);
        assert!(overrides(&env).unwrap_err().to_string().contains("PORT"));
    }
}
