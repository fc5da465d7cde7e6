//! Loading certificates, handshakes (over in-memory pipes), pinning, identities and reload.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::path::Path;
use std::sync::Arc;

use construct_core::config::{ClientAuthConfig, TlsConfig};
use construct_tls::testing::{Authority, Issued, Usage, client_config, ed25519_key, key_from_pem};
use construct_tls::{TlsError, TlsServer, peer_certificate, server_config};
use rustls::pki_types::ServerName;

fn settings(dir: &Path, server: &Issued) -> TlsConfig {
    let (cert, key) = server.write(dir, "server");
    TlsConfig { enabled: true, cert_path: Some(cert), key_path: Some(key), ..TlsConfig::default() }
}

fn with_client_auth(mut tls: TlsConfig, ca: &Path, require: bool, pins: Vec<String>) -> TlsConfig {
    tls.client_auth = ClientAuthConfig {
        enabled: true,
        ca_cert_path: Some(ca.to_owned()),
        require_client_cert: require,
        pinned_certs: pins,
        map: Vec::new(),
    };
    tls
}

/// A handshake over an in-memory pipe: the server's view of the client certificate and the ALPN it chose,
/// or the server's error.
async fn handshake(
    server: &TlsServer,
    client: rustls::ClientConfig,
) -> Result<(Option<construct_core::principal::ClientCertificate>, Option<Vec<u8>>), String> {
    let (near, far) = tokio::io::duplex(64 * 1024);
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let name = ServerName::try_from("localhost").unwrap();
    let client_side = tokio::spawn(async move {
        let mut stream = connector.connect(name, near).await?;
        // TLS 1.3 reports a refused client certificate after the client's handshake ends: read to see it.
        let mut buf = [0u8; 1];
        let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut buf).await;
        Ok::<_, std::io::Error>(stream)
    });
    let accepted = server.acceptor().accept(far).await;
    let result = match accepted {
        Ok(stream) => {
            let (_, connection) = stream.get_ref();
            Ok((peer_certificate(connection), connection.alpn_protocol().map(<[u8]>::to_vec)))
        }
        Err(error) => Err(error.to_string()),
    };
    client_side.abort();
    result
}

#[tokio::test]
async fn rsa_ecdsa_and_ed25519_keys_with_full_chains_serve() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new("Root");
    let intermediate = ca.intermediate("Intermediate");
    let rsa = key_from_pem(include_str!("fixtures/rsa-pkcs8.pem"));
    for (name, issued) in [
        ("ecdsa", ca.issue("localhost", &["localhost"], Usage::Server)),
        ("ed25519", ca.issue_with("localhost", &["localhost"], Usage::Server, ed25519_key())),
        ("rsa", ca.issue_with("localhost", &["localhost"], Usage::Server, rsa)),
    ] {
        let server = TlsServer::new(&settings(dir.path(), &issued)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (_, alpn) = handshake(&server, client_config(&ca, None, b"h2")).await.unwrap();
        assert_eq!(alpn.as_deref(), Some(&b"h2"[..]), "{name}: HTTP/2 is offered");
    }
    // A leaf signed by an intermediate, with the chain in the file, verifies against the root alone.
    let mut chained = intermediate.issue("localhost", &["localhost"], Usage::Server);
    chained.cert_pem.push_str(&intermediate.pem());
    let server = TlsServer::new(&settings(dir.path(), &chained)).unwrap();
    handshake(&server, client_config(&ca, None, b"h2")).await.unwrap();
    // PKCS#1 RSA keys load too.
    let mut pkcs1 = ca.issue_with(
        "localhost",
        &["localhost"],
        Usage::Server,
        key_from_pem(include_str!("fixtures/rsa-pkcs8.pem")),
    );
    pkcs1.key_pem = include_str!("fixtures/rsa-pkcs1.pem").to_owned();
    server_config(&settings(dir.path(), &pkcs1)).unwrap();
}

#[test]
fn every_bad_file_is_named_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new("Root");
    let good = ca.issue("localhost", &["localhost"], Usage::Server);
    let tls = settings(dir.path(), &good);
    let cert = tls.cert_path.clone().unwrap();
    let key = tls.key_path.clone().unwrap();
    let error = |tls: &TlsConfig| server_config(tls).unwrap_err().to_string();

    let missing = TlsConfig { cert_path: Some(dir.path().join("nope.crt")), ..tls.clone() };
    assert!(
        error(&missing).contains("certificate file")
            && error(&missing).contains("nope.crt")
            && error(&missing).contains("cannot be read"),
        "{}",
        error(&missing)
    );

    std::fs::write(dir.path().join("empty.crt"), "\n").unwrap();
    let empty = TlsConfig { cert_path: Some(dir.path().join("empty.crt")), ..tls.clone() };
    assert!(error(&empty).ends_with("is empty"), "{}", error(&empty));

    std::fs::write(dir.path().join("text.crt"), "hello, not a certificate\n").unwrap();
    let not_pem = TlsConfig { cert_path: Some(dir.path().join("text.crt")), ..tls.clone() };
    assert!(error(&not_pem).contains("no CERTIFICATE block"), "{}", error(&not_pem));

    let cert_as_key = TlsConfig { key_path: Some(cert.clone()), ..tls.clone() };
    assert!(
        error(&cert_as_key).contains("private key file") && error(&cert_as_key).contains("no private key"),
        "{}",
        error(&cert_as_key)
    );

    let other = ca.issue("localhost", &["localhost"], Usage::Server);
    let (_, other_key) = other.write(dir.path(), "other");
    let mismatched = TlsConfig { key_path: Some(other_key), ..tls.clone() };
    assert!(
        matches!(server_config(&mismatched), Err(TlsError::KeyMismatch { .. })),
        "{}",
        error(&mismatched)
    );

    let no_ca = with_client_auth(tls.clone(), &dir.path().join("ca-missing.pem"), true, Vec::new());
    assert!(error(&no_ca).contains("client CA file"), "{}", error(&no_ca));
    assert!(server_config(&tls).is_ok(), "{key:?}");
}

#[tokio::test]
async fn client_certificates_are_required_checked_and_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new("Clients");
    let stranger_ca = Authority::new("Elsewhere");
    let ca_path = ca.write(&dir.path().join("ca.pem"));
    let server_cert = ca.issue("localhost", &["localhost"], Usage::Server);
    let tls = settings(dir.path(), &server_cert);
    let bot = ca.issue("build-bot", &["bot.example", "10.0.0.7"], Usage::Client);
    let other = ca.issue("other", &["other.example"], Usage::Client);
    let stranger = stranger_ca.issue("stranger", &["stranger.example"], Usage::Client);

    let required = TlsServer::new(&with_client_auth(tls.clone(), &ca_path, true, Vec::new())).unwrap();
    assert!(
        handshake(&required, client_config(&ca, None, b"h2")).await.is_err(),
        "no certificate, no connection"
    );
    assert!(
        handshake(&required, client_config(&ca, Some(&stranger), b"h2")).await.is_err(),
        "an untrusted CA"
    );
    let (identity, _) = handshake(&required, client_config(&ca, Some(&bot), b"h2")).await.unwrap();
    let identity = identity.unwrap();
    assert!(identity.subject.contains("CN=build-bot"), "{identity:?}");
    assert_eq!(identity.sans, ["DNS:bot.example", "IP:10.0.0.7"]);
    assert_eq!(format!("sha256:{}", identity.fingerprint), bot.fingerprint());

    let optional = TlsServer::new(&with_client_auth(tls.clone(), &ca_path, false, Vec::new())).unwrap();
    assert_eq!(
        handshake(&optional, client_config(&ca, None, b"h2")).await.unwrap().0,
        None,
        "optional: none is fine"
    );
    assert!(
        handshake(&optional, client_config(&ca, Some(&stranger), b"h2")).await.is_err(),
        "but a bad one is not"
    );

    let pinned = TlsServer::new(&with_client_auth(
        tls.clone(),
        &ca_path,
        true,
        vec![bot.fingerprint().to_uppercase().replace("SHA256:", "sha256:")],
    ))
    .unwrap();
    assert!(
        handshake(&pinned, client_config(&ca, Some(&bot), b"h2")).await.is_ok(),
        "the pinned certificate"
    );
    assert!(
        handshake(&pinned, client_config(&ca, Some(&other), b"h2")).await.is_err(),
        "same CA, not pinned"
    );
    // A pin on the public key accepts the key's certificate.
    let spki = format!("sha256:{}", identity.spki_fingerprint);
    let by_key = TlsServer::new(&with_client_auth(tls, &ca_path, true, vec![spki])).unwrap();
    assert!(handshake(&by_key, client_config(&ca, Some(&bot), b"h2")).await.is_ok());
}

#[tokio::test]
async fn reload_takes_new_files_and_keeps_the_old_ones_when_the_new_are_broken() {
    let dir = tempfile::tempdir().unwrap();
    let (first_ca, second_ca) = (Authority::new("First"), Authority::new("Second"));
    let tls = settings(dir.path(), &first_ca.issue("localhost", &["localhost"], Usage::Server));
    let server = TlsServer::new(&tls).unwrap();
    assert!(server.reload_if_changed().is_none(), "nothing changed");
    handshake(&server, client_config(&first_ca, None, b"h2")).await.unwrap();

    // New files under the same names: picked up on the next check.
    std::thread::sleep(std::time::Duration::from_millis(20));
    second_ca.issue("localhost", &["localhost"], Usage::Server).write(dir.path(), "server");
    assert!(matches!(server.reload_if_changed(), Some(Ok(()))));
    handshake(&server, client_config(&second_ca, None, b"h2")).await.unwrap();
    assert!(
        handshake(&server, client_config(&first_ca, None, b"h2")).await.is_err(),
        "the old certificate is gone"
    );

    // A broken key: the reload fails, says why, and the certificate in force stays.
    std::fs::write(tls.key_path.as_ref().unwrap(), "garbage").unwrap();
    let failed = server.reload_if_changed().unwrap().unwrap_err();
    assert!(failed.to_string().contains("private key file"), "{failed}");
    handshake(&server, client_config(&second_ca, None, b"h2")).await.unwrap();
    assert!(server.reload_if_changed().is_none(), "a broken file is reported once, not on every check");
}
