//! Client certificate pinning on top of CA verification.

use std::collections::HashSet;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::identity::client_certificate;

/// Verifies as `inner` does (the chain to the CA, validity, usage), then accepts only certificates whose
/// SHA-256, or whose public key's SHA-256, is pinned. Without a certificate (when one is optional) the pins
/// are not consulted: there is nothing to pin.
#[derive(Debug)]
pub(crate) struct PinnedVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    pins: HashSet<String>,
}

impl PinnedVerifier {
    pub(crate) fn new(inner: Arc<dyn ClientCertVerifier>, pins: HashSet<String>) -> Self {
        Self { inner, pins }
    }
}

impl ClientCertVerifier for PinnedVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self.inner.verify_client_cert(end_entity, intermediates, now)?;
        let identity = client_certificate(end_entity);
        if self.pins.iter().any(|pin| identity.matches(pin)) {
            Ok(verified)
        } else {
            tracing::info!(fingerprint = %identity.fingerprint, subject = %identity.subject, "client certificate is not pinned");
            Err(rustls::Error::General(format!(
                "client certificate sha256:{} is not in the pinned set",
                identity.fingerprint
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
