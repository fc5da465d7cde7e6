//! Environment variables that override the file.
//!
//! The gateway reads a fixed set of variables (the upstream names, so existing deployments keep working)
//! and parses them strictly: upstream treated any boolean other than `1`/`true` as false, so a typo such as
//! `CONSTRUCT_REQUIRE_PAIRING=ture` silently disabled pairing. Here it is a startup error naming the
//! variable.
//!
//! The environment is passed around as an [`EnvVars`] snapshot rather than read from the process, so
//! tests never have to mutate process state.
//!
//! [`KNOWN_ENV_VARS`] is the one list of variables the gateway reads: the loader warns about any other
//! `CONSTRUCT_*` name, and the configuration reference (`cargo xtask config-docs`) is generated from it.

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

/// What an environment variable configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvTarget {
    /// A configuration key, by its dotted path (`gateway.port`).
    Key(&'static str),
    /// Something outside the configuration file, in words (`the data directory`).
    Other(&'static str),
}

/// An environment variable the gateway reads, with what it sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownEnvVar {
    /// The variable's name.
    pub name: &'static str,
    /// What it sets.
    pub sets: EnvTarget,
    /// How it is read: precedence, format, what happens to it. Markdown.
    pub notes: &'static str,
}

impl KnownEnvVar {
    /// The configuration key the variable sets, if it sets one.
    pub fn key(&self) -> Option<&'static str> {
        match self.sets {
            EnvTarget::Key(key) => Some(key),
            EnvTarget::Other(_) => None,
        }
    }
}

/// Every environment variable the gateway reads, in the order the reference lists them.
///
/// A `CONSTRUCT_*` variable not in this list is probably a typo, and a typo in a security setting must not
/// pass silently: the loader warns about it.
pub const KNOWN_ENV_VARS: &[KnownEnvVar] = &[
    KnownEnvVar {
        name: "CONSTRUCT_CONFIG",
        sets: EnvTarget::Other("the config file"),
        notes: "Must exist when set; `--config` wins.",
    },
    KnownEnvVar {
        name: "CONSTRUCT_DATA_DIR",
        sets: EnvTarget::Other("the data directory"),
        notes: "`--data-dir` wins.",
    },
    KnownEnvVar {
        name: "HOME",
        sets: EnvTarget::Other("the default config file and data directory"),
        notes: "`~/.construct/gateway.toml` and `~/.construct/gateway`. Without it, `--data-dir` or \
                `CONSTRUCT_DATA_DIR` is needed.",
    },
    KnownEnvVar {
        name: "CONSTRUCT_GATEWAY_HOST",
        sets: EnvTarget::Key("gateway.host"),
        notes: "Wins over `HOST`. Blank values are ignored, as for every variable.",
    },
    KnownEnvVar {
        name: "HOST",
        sets: EnvTarget::Key("gateway.host"),
        notes: "Used when `CONSTRUCT_GATEWAY_HOST` is not set.",
    },
    KnownEnvVar {
        name: "CONSTRUCT_GATEWAY_PORT",
        sets: EnvTarget::Key("gateway.port"),
        notes: "0-65535. Wins over `PORT`.",
    },
    KnownEnvVar {
        name: "PORT",
        sets: EnvTarget::Key("gateway.port"),
        notes: "0-65535. Used when `CONSTRUCT_GATEWAY_PORT` is not set.",
    },
    KnownEnvVar {
        name: "CONSTRUCT_REQUIRE_PAIRING",
        sets: EnvTarget::Key("gateway.require_pairing"),
        notes: "Booleans accept `true/false`, `1/0`, `yes/no`, `on/off` (any case). Anything else is a \
                startup error naming the variable; upstream silently turned pairing off on a typo.",
    },
    KnownEnvVar {
        name: "CONSTRUCT_ALLOW_PUBLIC_BIND",
        sets: EnvTarget::Key("gateway.allow_public_bind"),
        notes: "Boolean, as above.",
    },
    KnownEnvVar {
        name: TIMEOUT_ENV,
        sets: EnvTarget::Key("gateway.request_timeout_secs"),
        notes: "Whole seconds, 1 to 3600; `0` is refused (upstream turned every request into a 408).",
    },
    KnownEnvVar {
        name: "CONSTRUCT_BOOTSTRAP_TOKEN",
        sets: EnvTarget::Key("gateway.bootstrap_token_sha256"),
        notes: "The token itself; only its SHA-256 enters the configuration.",
    },
    KnownEnvVar {
        name: "CONSTRUCT_PROVIDER_API_KEY",
        sets: EnvTarget::Key("provider.api_key"),
        notes: "Wins over the file. Secret; never printed.",
    },
    KnownEnvVar {
        name: "CONSTRUCT_WHATSAPP_APP_SECRET",
        sets: EnvTarget::Key("channels_config.whatsapp.app_secret"),
        notes: "Wins over the file.",
    },
    KnownEnvVar {
        name: "CONSTRUCT_LINQ_SIGNING_SECRET",
        sets: EnvTarget::Key("channels_config.linq.signing_secret"),
        notes: "Wins over the file.",
    },
    KnownEnvVar {
        name: "CONSTRUCT_NEXTCLOUD_TALK_WEBHOOK_SECRET",
        sets: EnvTarget::Key("channels_config.nextcloud_talk.webhook_secret"),
        notes: "Wins over the file.",
    },
    KnownEnvVar {
        name: "GMAIL_PUSH_WEBHOOK_SECRET",
        sets: EnvTarget::Key("channels_config.gmail_push.webhook_secret"),
        notes: "Used only when the file leaves it empty.",
    },
    KnownEnvVar {
        name: "KUMIHO_SERVICE_TOKEN",
        sets: EnvTarget::Key("kumiho.service_token"),
        notes: "Used only when the file sets none.",
    },
    KnownEnvVar {
        name: "SHELL",
        sets: EnvTarget::Key("terminal.shell"),
        notes: "Used by the terminal when `terminal.shell` is unset and this is an absolute path; else \
                `/bin/sh`.",
    },
    KnownEnvVar {
        name: "CONSTRUCT_MCP_TOKEN",
        sets: EnvTarget::Other("nothing"),
        notes: "Set by the gateway for a coding tool it runs in a terminal (`/ws/terminal?tool=codex`), holding \
                that tool's MCP session token; the gateway reads no setting from it, so one started from such \
                a terminal does not warn about it.",
    },
    KnownEnvVar {
        name: "RUST_LOG",
        sets: EnvTarget::Other("the log filter"),
        notes: "Default `info` (no line per request; `construct_gateway=debug` adds an access log). \
                `--log-format json` switches to JSON lines.",
    },
];

/// Whether the gateway reads a variable named `name`.
pub fn is_known_env_var(name: &str) -> bool {
    KNOWN_ENV_VARS.iter().any(|var| var.name == name)
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
    fn every_variable_read_is_listed_with_the_key_it_sets() {
        let env = EnvVars::from_pairs(KNOWN_ENV_VARS.iter().map(|var| (var.name, "1")));
        let read = overrides(&env).unwrap();
        assert!(!read.is_empty());
        for o in read {
            let listed = KNOWN_ENV_VARS.iter().find(|var| var.name == o.var);
            assert_eq!(listed.and_then(KnownEnvVar::key), Some(o.key), "{}", o.var);
        }
        assert!(is_known_env_var("CONSTRUCT_GATEWAY_PORT") && !is_known_env_var("CONSTRUCT_REQUIRE_PARING"));
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
