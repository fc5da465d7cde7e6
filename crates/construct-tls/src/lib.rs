//! # construct-tls
//!
//! HTTPS for Construct Gateway, on rustls (ring provider):
//! - [`server_config`] builds a rustls server configuration from `[gateway.tls]`: a PEM certificate chain
//!   and key (RSA, ECDSA or Ed25519; PKCS#8, PKCS#1 or SEC1), ALPN `h2` and `http/1.1`, and, with
//!   `[gateway.tls.client_auth]`, client certificates checked against a CA and optionally pinned. Every
//!   error names the file and what is wrong with it (missing, empty, not PEM, key not matching).
//! - [`TlsServer`] holds the configuration in force and swaps in a new one on [`TlsServer::reload`]
//!   (SIGHUP) or when the files change ([`TlsServer::watch`]); a failed reload keeps the old one.
//! - [`client_certificate`] turns a verified peer certificate into the
//!   [`construct_core::principal::ClientCertificate`] handlers see.
//!
//! PEM is parsed with `rustls-pki-types`' own parser (what `rustls-pemfile` now wraps).
//!
//! Invariants: no sockets are opened here; a handshake failure concerns one connection only.

mod identity;
mod load;
mod server;
#[cfg(feature = "testing")]
#[allow(clippy::expect_used)] // Test fixtures fail loudly.
pub mod testing;
mod verifier;

pub use identity::client_certificate;
pub use load::{TlsError, server_config};
pub use server::{TlsServer, log_reload, peer_certificate};
