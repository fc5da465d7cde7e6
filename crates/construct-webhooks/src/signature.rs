//! Webhook signatures and shared secrets.
//!
//! Every check works on the raw request bytes, before any parsing, and compares in constant time. Unlike
//! upstream, there is no "no secret configured, so accept everything" path here: a channel that is enabled
//! without its secret refuses to start (see the channel configuration), so these functions always have a
//! secret to check against.

use ring::digest::{SHA256, digest};
use ring::hmac;
use subtle::ConstantTimeEq;

/// How far a Linq timestamp may be from now, in seconds (either direction).
pub const LINQ_MAX_SKEW_SECS: i64 = 300;

/// Why a signature was refused. Deliberately coarse in what reaches the client (always 401
/// `INVALID_SIGNATURE`); the variant is for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The header is absent or empty.
    Missing,
    /// The header is not in the expected format (prefix, hex, length).
    Malformed,
    /// The timestamp is too old or too far in the future (replay protection).
    Stale,
    /// Well-formed but wrong.
    Mismatch,
}

fn hmac_sha256(secret: &[u8], parts: &[&[u8]]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut context = hmac::Context::with_key(&key);
    for part in parts {
        context.update(part);
    }
    context.sign()
}

/// Decodes exactly 64 hex digits (either case) into 32 bytes.
fn decode_sha256_hex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

fn equal(expected: &[u8], presented: &[u8]) -> bool {
    expected.len() == presented.len() && bool::from(expected.ct_eq(presented))
}

/// Checks a WhatsApp Cloud API `X-Hub-Signature-256` header (`sha256=<hex>`, prefix case-sensitive) against
/// HMAC-SHA256 of the raw body with the app secret. Returns `true` only for an exact, full-length match.
pub fn verify_whatsapp_signature(app_secret: &str, body: &[u8], signature_header: &str) -> bool {
    check_whatsapp(app_secret, body, signature_header).is_ok()
}

/// [`verify_whatsapp_signature`] with the reason for a refusal.
pub fn check_whatsapp(app_secret: &str, body: &[u8], signature_header: &str) -> Result<(), SignatureError> {
    if signature_header.trim().is_empty() {
        return Err(SignatureError::Missing);
    }
    let hex = signature_header.strip_prefix("sha256=").ok_or(SignatureError::Malformed)?;
    let presented = decode_sha256_hex(hex).ok_or(SignatureError::Malformed)?;
    let expected = hmac_sha256(app_secret.as_bytes(), &[body]);
    if equal(expected.as_ref(), &presented) { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// Checks Linq's `X-Webhook-Timestamp` (unix seconds, within [`LINQ_MAX_SKEW_SECS`] of `now_unix`) and
/// `X-Webhook-Signature` (hex, optional `sha256=`) = HMAC-SHA256(secret, "{timestamp}.{body}").
pub fn check_linq(
    secret: &str,
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SignatureError> {
    let (timestamp, signature) = (timestamp_header.trim(), signature_header.trim());
    if timestamp.is_empty() || signature.is_empty() {
        return Err(SignatureError::Missing);
    }
    let ts: i64 = timestamp.parse().map_err(|_| SignatureError::Malformed)?;
    if now_unix.abs_diff(ts) > LINQ_MAX_SKEW_SECS as u64 {
        return Err(SignatureError::Stale);
    }
    let hex = signature.strip_prefix("sha256=").unwrap_or(signature);
    let presented = decode_sha256_hex(hex).ok_or(SignatureError::Malformed)?;
    let expected = hmac_sha256(secret.as_bytes(), &[timestamp.as_bytes(), b".", body]);
    if equal(expected.as_ref(), &presented) { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// The signature Nextcloud Talk expects: hex HMAC-SHA256(secret, random + body). Used to check inbound
/// requests and to sign the bot's replies.
pub fn nextcloud_signature(secret: &str, random: &str, body: &[u8]) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), &[random.as_bytes(), body]))
}

/// Checks Nextcloud Talk's `X-Nextcloud-Talk-Random` and `X-Nextcloud-Talk-Signature` (hex, optional
/// `sha256=`).
pub fn check_nextcloud(
    secret: &str,
    random_header: &str,
    signature_header: &str,
    body: &[u8],
) -> Result<(), SignatureError> {
    let (random, signature) = (random_header.trim(), signature_header.trim());
    if random.is_empty() || signature.is_empty() {
        return Err(SignatureError::Missing);
    }
    let hex = signature.strip_prefix("sha256=").unwrap_or(signature);
    let presented = decode_sha256_hex(hex).ok_or(SignatureError::Malformed)?;
    let expected = hmac_sha256(secret.as_bytes(), &[random.as_bytes(), body]);
    if equal(expected.as_ref(), &presented) { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// A shared secret kept only as its SHA-256 (the generic webhook's `X-Webhook-Secret`, WATI's secret,
/// Gmail push's bearer secret).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// The hash of `secret` (trimmed).
    pub fn of(secret: &str) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, secret.trim().as_bytes()).as_ref());
        Self(out)
    }

    /// Whether `presented` (trimmed) is the secret. Hashing first makes the comparison independent of the
    /// presented length, and the comparison itself is constant time.
    pub fn check(&self, presented: &str) -> Result<(), SignatureError> {
        if presented.trim().is_empty() {
            return Err(SignatureError::Missing);
        }
        if equal(&self.0, &Self::of(presented).0) { Ok(()) } else { Err(SignatureError::Mismatch) }
    }
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whatsapp_header(secret: &str, body: &[u8]) -> String {
        let tag = hmac_sha256(secret.as_bytes(), &[body]);
        format!("sha256={}", hex::encode(tag))
    }

    #[test]
    fn whatsapp_signatures() {
        let body = br#"{"entry":[]}"#;
        let good = whatsapp_header("app-secret", body);
        assert!(verify_whatsapp_signature("app-secret", body, &good));
        assert!(
            verify_whatsapp_signature(
                "app-secret",
                body,
                &good.to_uppercase().replacen("SHA256=", "sha256=", 1)
            ),
            "hex in either case"
        );
        assert!(!verify_whatsapp_signature("other-secret", body, &good), "wrong secret");
        assert!(!verify_whatsapp_signature("app-secret", br#"{"entry":[1]}"#, &good), "tampered body");
        assert_eq!(
            check_whatsapp("app-secret", body, &good[7..]),
            Err(SignatureError::Malformed),
            "missing prefix"
        );
        assert_eq!(check_whatsapp("app-secret", body, ""), Err(SignatureError::Missing));
        assert_eq!(
            check_whatsapp("app-secret", body, "sha256=zz"),
            Err(SignatureError::Malformed),
            "invalid hex"
        );
        assert!(
            !verify_whatsapp_signature("app-secret", body, &good.replacen("sha256=", "SHA256=", 1)),
            "prefix is case-sensitive"
        );
        assert!(!verify_whatsapp_signature("app-secret", body, &good[..good.len() - 32]), "truncated");
        assert!(!verify_whatsapp_signature("app-secret", body, &format!("{good}00")), "extra bytes");
        // A valid signature over an empty or non-ASCII body is accepted.
        assert!(verify_whatsapp_signature("s", b"", &whatsapp_header("s", b"")));
        let unicode = "héllo 👋".as_bytes();
        assert!(verify_whatsapp_signature("s", unicode, &whatsapp_header("s", unicode)));
    }

    #[test]
    fn linq_signatures() {
        let body = br#"{"event_type":"message.received"}"#;
        let now = 1_800_000_000;
        let sign = |ts: &str| hex::encode(hmac_sha256(b"linq", &[ts.as_bytes(), b".", body]));
        let ts = now.to_string();
        assert_eq!(check_linq("linq", &ts, &sign(&ts), body, now), Ok(()));
        assert_eq!(check_linq("linq", &ts, &format!("sha256={}", sign(&ts)), body, now), Ok(()));
        assert_eq!(check_linq("linq", &ts, &sign(&ts), b"{}", now), Err(SignatureError::Mismatch));
        let old = (now - 301).to_string();
        assert_eq!(check_linq("linq", &old, &sign(&old), body, now), Err(SignatureError::Stale), "replayed");
        let future = (now + 301).to_string();
        assert_eq!(check_linq("linq", &future, &sign(&future), body, now), Err(SignatureError::Stale));
        assert_eq!(check_linq("linq", "", &sign(&ts), body, now), Err(SignatureError::Missing));
        assert_eq!(check_linq("linq", "soon", &sign(&ts), body, now), Err(SignatureError::Malformed));
        // The timestamp is bound into the MAC: a fresh timestamp on an old signature fails.
        let other = (now - 10).to_string();
        assert_eq!(check_linq("linq", &other, &sign(&ts), body, now), Err(SignatureError::Mismatch));
    }

    #[test]
    fn nextcloud_signatures() {
        let body = br#"{"type":"Create"}"#;
        let signature = nextcloud_signature("nc", "r4nd0m", body);
        assert_eq!(check_nextcloud("nc", "r4nd0m", &signature, body), Ok(()));
        assert_eq!(check_nextcloud("nc", "other", &signature, body), Err(SignatureError::Mismatch));
        assert_eq!(check_nextcloud("nc", " ", &signature, body), Err(SignatureError::Missing));
        assert_eq!(check_nextcloud("nc", "r4nd0m", &signature[..10], body), Err(SignatureError::Malformed));
    }

    #[test]
    fn shared_secrets() {
        let hash = SecretHash::of("  s3cret ");
        assert_eq!(hash.check("s3cret"), Ok(()));
        assert_eq!(hash.check("s3cret-but-longer"), Err(SignatureError::Mismatch));
        assert_eq!(hash.check(""), Err(SignatureError::Missing));
        assert!(!format!("{hash:?}").contains("s3cret"));
    }
}
