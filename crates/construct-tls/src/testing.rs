//! Certificates made at test time (feature `testing`): a CA, and leaf certificates it signs for servers
//! and clients, written as PEM files. For this crate's tests and the gateway's.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
    SignatureAlgorithm,
};

/// A certificate authority.
pub struct Authority {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A certificate and its key, as PEM.
pub struct Issued {
    /// The certificate chain: the leaf, then any intermediates.
    pub cert_pem: String,
    /// The private key.
    pub key_pem: String,
    /// The leaf, DER.
    pub der: Vec<u8>,
}

/// What a leaf certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// A TLS server.
    Server,
    /// A TLS client.
    Client,
}

fn fresh_key(alg: &'static SignatureAlgorithm) -> KeyPair {
    KeyPair::generate_for(alg).expect("a test key")
}

impl Authority {
    /// A new self-signed CA called `name`, with an ECDSA P-256 key.
    pub fn new(name: &str) -> Self {
        let key = fresh_key(&rcgen::PKCS_ECDSA_P256_SHA256);
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let cert = params.self_signed(&key).expect("a self-signed CA");
        Self { cert, key }
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A leaf for `names` (DNS names or IP addresses) with a fresh ECDSA P-256 key.
    pub fn issue(&self, common_name: &str, names: &[&str], usage: Usage) -> Issued {
        self.issue_with(common_name, names, usage, fresh_key(&rcgen::PKCS_ECDSA_P256_SHA256))
    }

    /// A leaf for `names` with `key` (for example Ed25519, or an RSA key loaded from PEM).
    pub fn issue_with(&self, common_name: &str, names: &[&str], usage: Usage, key: KeyPair) -> Issued {
        let mut params = CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![match usage {
            Usage::Server => ExtendedKeyUsagePurpose::ServerAuth,
            Usage::Client => ExtendedKeyUsagePurpose::ClientAuth,
        }];
        let cert = params.signed_by(&key, &self.cert, &self.key).expect("a signed leaf");
        Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem(), der: cert.der().to_vec() }
    }

    /// An intermediate CA signed by this one.
    pub fn intermediate(&self, name: &str) -> Self {
        let key = fresh_key(&rcgen::PKCS_ECDSA_P256_SHA256);
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let cert = params.signed_by(&key, &self.cert, &self.key).expect("an intermediate");
        Self { cert, key }
    }

    /// Writes the CA certificate to `path`.
    pub fn write(&self, path: &Path) -> PathBuf {
        std::fs::write(path, self.pem()).expect("write the CA");
        path.to_owned()
    }
}

impl Issued {
    /// `sha256:<hex>` of the leaf.
    pub fn fingerprint(&self) -> String {
        format!("sha256:{}", hex::encode(ring::digest::digest(&ring::digest::SHA256, &self.der)))
    }

    /// Writes `<name>.crt` and `<name>.key` in `dir`; returns their paths.
    pub fn write(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let (cert, key) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
        std::fs::write(&cert, &self.cert_pem).expect("write the certificate");
        std::fs::write(&key, &self.key_pem).expect("write the key");
        (cert, key)
    }
}

/// An Ed25519 key.
pub fn ed25519_key() -> KeyPair {
    fresh_key(&rcgen::PKCS_ED25519)
}

/// A key from PEM (an RSA key generated elsewhere, say).
pub fn key_from_pem(pem: &str) -> KeyPair {
    KeyPair::from_pem(pem).expect("a PEM key")
}

/// A client configuration trusting `ca`, presenting `identity` when given, offering `alpn`.
pub fn client_config(ca: &Authority, identity: Option<&Issued>, alpn: &[u8]) -> rustls::ClientConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca.pem().as_bytes()).expect("CA PEM")).expect("a usable CA");
    let builder = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots);
    let mut config = match identity {
        Some(issued) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(issued.cert_pem.as_bytes())
                    .collect::<Result<_, _>>()
                    .expect("certificate PEM"),
                PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).expect("key PEM"),
            )
            .expect("a client identity"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![alpn.to_vec()];
    config
}
