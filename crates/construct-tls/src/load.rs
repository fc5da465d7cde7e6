//! PEM files to a rustls server configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use construct_core::config::{TlsConfig, normalize_fingerprint};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};

use crate::verifier::PinnedVerifier;

/// Why TLS cannot be set up. Each names the file at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    /// A file is missing, unreadable, empty, not PEM, or holds the wrong thing.
    #[error("{what} {}: {problem}", path.display())]
    File {
        /// Which file (`certificate file`, `private key file`, `client CA file`).
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The key is not the certificate's.
    #[error("the private key {} does not match the certificate {}", key.display(), cert.display())]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// The settings themselves are incomplete.
    #[error("TLS settings: {0}")]
    Settings(String),
}

fn file_error(what: &'static str, path: &Path, problem: impl Into<String>) -> TlsError {
    TlsError::File { what, path: path.to_owned(), problem: problem.into() }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    let bytes = std::fs::read(path).map_err(|e| file_error(what, path, format!("cannot be read: {e}")))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(file_error(what, path, "is empty"));
    }
    Ok(bytes)
}

/// Every `CERTIFICATE` block of a PEM file, in order.
pub(crate) fn certificates(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(what, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(what, path, format!("is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(file_error(what, path, "holds no CERTIFICATE block (is it PEM?)"));
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    const WHAT: &str = "private key file";
    let bytes = read(WHAT, path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            file_error(WHAT, path, "holds no private key (a PKCS#8, PKCS#1 or SEC1 PEM block)")
        }
        other => file_error(WHAT, path, format!("is not valid PEM: {other}")),
    })
}

/// The crypto this crate uses: rustls' ring provider, named explicitly so no process-wide default matters.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_verifier(
    tls: &TlsConfig,
    provider: &Arc<CryptoProvider>,
) -> Result<Option<Arc<dyn ClientCertVerifier>>, TlsError> {
    let auth = &tls.client_auth;
    if !auth.enabled {
        return Ok(None);
    }
    let ca = auth
        .ca_cert_path
        .as_deref()
        .ok_or_else(|| TlsError::Settings("client_auth needs ca_cert_path".into()))?;
    let mut roots = RootCertStore::empty();
    for cert in certificates("client CA file", ca)? {
        roots.add(cert).map_err(|e| {
            file_error("client CA file", ca, format!("holds a certificate that is not a usable CA: {e}"))
        })?;
    }
    let mut builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider));
    if !auth.require_client_cert {
        builder = builder.allow_unauthenticated();
    }
    let verifier =
        builder.build().map_err(|e| file_error("client CA file", ca, format!("cannot be used: {e}")))?;
    if auth.pinned_certs.is_empty() {
        return Ok(Some(verifier));
    }
    let pins = auth
        .pinned_certs
        .iter()
        .map(|p| {
            normalize_fingerprint(p)
                .ok_or_else(|| TlsError::Settings(format!("pin {p:?} is not sha256:<hex>")))
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(Arc::new(PinnedVerifier::new(verifier, pins))))
}

/// The rustls server configuration `[gateway.tls]` describes, read from its files now.
pub fn server_config(tls: &TlsConfig) -> Result<ServerConfig, TlsError> {
    let (Some(cert_path), Some(key_path)) = (tls.cert_path.as_deref(), tls.key_path.as_deref()) else {
        return Err(TlsError::Settings("cert_path and key_path are required".into()));
    };
    let provider = provider();
    let chain = certificates("certificate file", cert_path)?;
    let key = private_key(key_path)?;
    let signing = provider.key_provider.load_private_key(key.clone_key()).map_err(|e| {
        file_error("private key file", key_path, format!("is not a usable RSA, ECDSA or Ed25519 key: {e}"))
    })?;
    match CertifiedKey::new(chain.clone(), signing).keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(_) => return Err(TlsError::KeyMismatch { cert: cert_path.to_owned(), key: key_path.to_owned() }),
    }
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(rustls::DEFAULT_VERSIONS)
        .map_err(|e| TlsError::Settings(e.to_string()))?;
    let builder = match client_verifier(tls, &provider)? {
        Some(verifier) => builder.with_client_cert_verifier(verifier),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        file_error("certificate file", cert_path, format!("cannot be used with its key: {e}"))
    })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
