//! Device tokens: 256 random bits, shown to the client once, kept only as a SHA-256 hash.

use construct_core::devices::TokenHash;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};

/// Every token starts with this, so a leaked one is recognisable in logs and by secret scanners.
pub const TOKEN_PREFIX: &str = "cgw_";

/// A freshly minted token and its hash.
pub struct IssuedToken {
    /// The token, to be returned to the client exactly once.
    pub token: String,
    /// What the store keeps.
    pub hash: TokenHash,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken").field("hash", &self.hash).finish_non_exhaustive()
    }
}

/// Why a token could not be minted: the operating system's random source failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomUnavailable;

/// Mints a token from the system CSPRNG.
pub fn issue_token(rng: &SystemRandom) -> Result<IssuedToken, RandomUnavailable> {
    let mut secret = [0u8; 32];
    rng.fill(&mut secret).map_err(|_| RandomUnavailable)?;
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
    let hash = hash_token(&token);
    Ok(IssuedToken { token, hash })
}

/// SHA-256 of the token as presented.
pub fn hash_token(token: &str) -> TokenHash {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    TokenHash(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let rng = SystemRandom::new();
        let a = issue_token(&rng).unwrap();
        let b = issue_token(&rng).unwrap();
        assert!(a.token.starts_with(TOKEN_PREFIX));
        assert_eq!(a.token.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(a.token, b.token);
        assert_eq!(a.hash, hash_token(&a.token));
        assert_ne!(a.hash, b.hash);
        assert!(!format!("{a:?}").contains(&a.token));
    }

    #[test]
    fn hash_is_sha256() {
        // SHA-256("abc"), from FIPS 180-2.
        assert_eq!(
            hash_token("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
