//! `[gateway.tls]`: HTTPS, and mutual TLS for machine clients.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::{FilePath, key_order};
use crate::principal::Scopes;

/// HTTPS on the gateway's own port.
///
/// HTTP/1.1 (with WebSocket upgrades) and HTTP/2, as ALPN chooses, with the same limits, client addresses
/// and graceful shutdown as plain HTTP. The files are read at startup (an unusable one stops startup with
/// its path and what is wrong), re-read when they change (checked every 2 s) and on SIGHUP; a failed
/// reload keeps the certificate in force and logs why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct TlsConfig {
    /// Serve HTTPS instead of HTTP.
    pub enabled: bool,
    /// PEM certificate chain, leaf first. Required when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<FilePath>", example = "/etc/construct/tls/cert.pem")]
    pub cert_path: Option<PathBuf>,
    /// PEM private key: PKCS#8, PKCS#1 or SEC1; RSA, ECDSA or Ed25519. Must match the certificate.
    /// Required when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<FilePath>", example = "/etc/construct/tls/key.pem")]
    pub key_path: Option<PathBuf>,
    /// Seconds a client has to finish the TLS handshake; 1 to 300.
    pub handshake_timeout_secs: u64,
    /// `[gateway.tls.client_auth]`: client certificates.
    pub client_auth: ClientAuthConfig,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            cert_path: None,
            key_path: None,
            handshake_timeout_secs: 10,
            client_auth: ClientAuthConfig::default(),
        }
    }
}

impl TlsConfig {
    /// `https` when TLS is on, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.enabled { "https" } else { "http" }
    }

    /// One word for banners and status: `off`, `tls`, `mtls-required` or `mtls-optional`.
    pub fn posture(&self) -> &'static str {
        match (self.enabled, self.client_auth.enabled, self.client_auth.require_client_cert) {
            (false, _, _) => "off",
            (true, false, _) => "tls",
            (true, true, true) => "mtls-required",
            (true, true, false) => "mtls-optional",
        }
    }
}

/// Client certificates (mutual TLS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(transform = key_order::<Self>)]
pub struct ClientAuthConfig {
    /// Ask clients for certificates. Needs `gateway.tls.enabled`; `pinned_certs` and `map` mean nothing
    /// without it, so setting them while this is off is refused.
    pub enabled: bool,
    /// PEM file of the CAs client certificates must chain to. Required when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<FilePath>", example = "/etc/construct/tls/clients-ca.pem")]
    pub ca_cert_path: Option<PathBuf>,
    /// Refuse handshakes without a certificate. With `false` a certificate is optional, but one that is
    /// presented must chain to the CA and match the pins.
    pub require_client_cert: bool,
    /// When not empty, only these certificates: `sha256:<hex>` of the certificate (DER) or of its public
    /// key (SPKI, which survives re-issuing with the same key). Colons in the hex are allowed.
    pub pinned_certs: Vec<String>,
    /// `[[gateway.tls.client_auth.map]]`: certificates that authenticate a machine client by themselves,
    /// when the request carries no bearer token.
    pub map: Vec<CertMapping>,
}

impl Default for ClientAuthConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            ca_cert_path: None,
            require_client_cert: true,
            pinned_certs: Vec::new(),
            map: Vec::new(),
        }
    }
}

/// A client certificate that is a credential: requests over a connection presenting it act with `scopes`
/// (a bearer token on the request still takes precedence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = key_order::<Self>)]
pub struct CertMapping {
    /// `sha256:<hex>` of the certificate or of its public key, as in `pinned_certs`.
    #[schemars(example = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub fingerprint: String,
    /// What it may do; at least one scope.
    #[schemars(example = ["read"])]
    pub scopes: Scopes,
    /// A name for logs and the audit trail.
    #[schemars(example = "build-bot")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A fingerprint in canonical form (64 lowercase hex digits), from `sha256:<hex>` or bare hex, colons
/// allowed; `None` when it is not one.
pub fn normalize_fingerprint(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let hex = raw.strip_prefix("sha256:").or_else(|| raw.strip_prefix("SHA256:")).unwrap_or(raw);
    let hex: String = hex.chars().filter(|c| *c != ':').collect::<String>().to_ascii_lowercase();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_normalise() {
        let hex = "AB".repeat(32);
        let colons = hex
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(normalize_fingerprint(&format!("sha256:{colons}")), Some("ab".repeat(32)));
        assert_eq!(normalize_fingerprint(&hex), Some("ab".repeat(32)));
        assert_eq!(normalize_fingerprint("sha256:abc"), None);
        assert_eq!(normalize_fingerprint(&"zz".repeat(32)), None);
    }
}
