//! `[gateway.tls]`: HTTPS, and mutual TLS for machine clients.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::principal::Scopes;

/// `[gateway.tls]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsConfig {
    /// Serve HTTPS (HTTP/1.1 and HTTP/2) instead of plain HTTP. Default false.
    pub enabled: bool,
    /// PEM certificate chain, leaf first. Required when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_path: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1; RSA, ECDSA or Ed25519). Required when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_path: Option<PathBuf>,
    /// Seconds a client has to complete the handshake. Default 10.
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

/// `[gateway.tls.client_auth]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientAuthConfig {
    /// Ask clients for certificates. Default false.
    pub enabled: bool,
    /// PEM file of the CAs client certificates must chain to. Required when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_cert_path: Option<PathBuf>,
    /// Refuse the handshake without a certificate. Default true; false makes one optional (but one that
    /// is presented must still chain to the CA and match the pins).
    pub require_client_cert: bool,
    /// When not empty, only these certificates are accepted: `sha256:<hex>` of the certificate (DER) or of
    /// its public key (SPKI, which survives re-issuing with the same key). Colons in the hex are allowed.
    pub pinned_certs: Vec<String>,
    /// `[[gateway.tls.client_auth.map]]`: certificates that authenticate a machine client by themselves.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertMapping {
    /// `sha256:<hex>` of the certificate or of its public key, as in `pinned_certs`.
    pub fingerprint: String,
    /// What it may do.
    pub scopes: Scopes,
    /// A name for logs and the audit trail.
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
