//! Who is making a request, and what they may do.
//!
//! A [`Principal`] is attached to every authenticated request by the auth layer. Handlers read it; they
//! never look at credentials themselves.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One permission. The set is deliberately small: each maps to a route group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read-only dashboard and API access.
    Read,
    /// Talk to the agent: chat, webhooks, sessions.
    Chat,
    /// Manage the gateway: devices, pairing codes, configuration, audit.
    Admin,
    /// Open a shell on the host. Never granted implicitly.
    Terminal,
}

impl Scope {
    /// Every scope, in canonical order.
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Chat, Scope::Admin, Scope::Terminal];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Chat => "chat",
            Scope::Admin => "admin",
            Scope::Terminal => "terminal",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s.trim())
            .ok_or_else(|| format!("unknown scope {s:?} (expected read, chat, admin or terminal)"))
    }
}

/// A set of scopes. Serialised as a sorted list of names: `["admin","chat","read"]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// No scopes.
    pub const NONE: Scopes = Scopes(0);
    /// What the first paired device gets: read, chat and admin.
    pub const FIRST_DEVICE: Scopes = Scopes(Scope::Read.bit() | Scope::Chat.bit() | Scope::Admin.bit());
    /// What later devices get unless an admin grants more: read and chat.
    pub const DEFAULT_DEVICE: Scopes = Scopes(Scope::Read.bit() | Scope::Chat.bit());

    /// The set of the given scopes.
    pub fn of(scopes: impl IntoIterator<Item = Scope>) -> Self {
        Scopes(scopes.into_iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `scope` is in the set.
    pub const fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The set with `scope` added.
    pub const fn with(self, scope: Scope) -> Self {
        Scopes(self.0 | scope.bit())
    }

    /// The set with `scope` removed.
    pub const fn without(self, scope: Scope) -> Self {
        Scopes(self.0 & !scope.bit())
    }

    /// The scopes, in canonical order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Parses a comma-separated list such as `read,chat`.
    pub fn parse_list(list: &str) -> Result<Self, String> {
        list.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(Scope::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(Scopes::of)
    }

    /// Comma-separated names, for storage and logs.
    pub fn to_list(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(",")
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(Scope::as_str))
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        names
            .iter()
            .map(|n| n.parse::<Scope>())
            .collect::<Result<Vec<_>, _>>()
            .map(Scopes::of)
            .map_err(serde::de::Error::custom)
    }
}

/// How a principal proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// A paired device presenting its token.
    Device {
        /// The device's id.
        device_id: String,
        /// Its name, if it gave one.
        name: Option<String>,
    },
    /// Pairing is disabled on a loopback-only gateway: every request acts as the local operator.
    LocalOperator,
    /// A machine presenting a credential from the configuration (a node's `[nodes] auth_token`).
    Machine {
        /// What it is (`node`, ...).
        name: &'static str,
    },
    /// A user an identity-aware proxy in `[gateway] trusted_proxies` vouched for (`[gateway.auth] mode =
    /// "trusted-proxy"`).
    ProxyUser {
        /// `proxy:` and the user's name.
        id: String,
    },
    /// A machine authenticated by its TLS client certificate alone (`[[gateway.tls.client_auth.map]]`).
    Certificate {
        /// `cert:` and the first 16 hex digits of the mapped fingerprint.
        id: String,
        /// The mapping's name, if it has one.
        name: Option<String>,
    },
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who.
    pub kind: PrincipalKind,
    /// What they may do.
    pub scopes: Scopes,
}

impl Principal {
    /// Whether the principal holds `scope`.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// A stable identifier for scoping per-principal state (idempotency keys, rate limits).
    pub fn id(&self) -> &str {
        match &self.kind {
            PrincipalKind::Device { device_id, .. } => device_id,
            PrincipalKind::LocalOperator => "local-operator",
            PrincipalKind::Machine { name } => name,
            PrincipalKind::Certificate { id, .. } => id,
            PrincipalKind::ProxyUser { id } => id,
        }
    }
}

/// The client certificate a TLS connection presented, verified against the configured CA (and pins). The
/// server puts it in the extensions of every request on that connection; it authenticates nothing by itself
/// unless the configuration maps its fingerprint to scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    /// The subject's distinguished name, e.g. `CN=build-bot,O=Example`.
    pub subject: String,
    /// Its subject alternative names (DNS names, IP addresses, e-mail addresses, URIs), as text.
    pub sans: Vec<String>,
    /// SHA-256 of the certificate (DER), 64 lowercase hex digits.
    pub fingerprint: String,
    /// SHA-256 of its public key (SubjectPublicKeyInfo, DER), 64 lowercase hex digits.
    pub spki_fingerprint: String,
}

impl ClientCertificate {
    /// Whether `fingerprint` (canonical form) names this certificate or its key.
    pub fn matches(&self, fingerprint: &str) -> bool {
        self.fingerprint == fingerprint || self.spki_fingerprint == fingerprint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip() {
        let s = Scopes::parse_list("chat, read").unwrap();
        assert_eq!(s, Scopes::DEFAULT_DEVICE);
        assert_eq!(s.to_list(), "read,chat");
        assert_eq!(serde_json::to_string(&Scopes::FIRST_DEVICE).unwrap(), r#"["read","chat","admin"]"#);
        let back: Scopes = serde_json::from_str(r#"["terminal","read"]"#).unwrap();
        assert!(back.contains(Scope::Terminal) && back.contains(Scope::Read) && !back.contains(Scope::Chat));
        assert!(Scopes::parse_list("read,root").is_err());
        assert!(serde_json::from_str::<Scopes>(r#"["sudo"]"#).is_err());
        assert_eq!(Scopes::FIRST_DEVICE.without(Scope::Admin), Scopes::DEFAULT_DEVICE);
    }
}
