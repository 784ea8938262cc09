//! Random bearer secrets (session cookies, API tokens): 256 bits from the OS, URL-safe base64 for the
//! client, and only the SHA-256 of it in the store, so a leaked database holds no usable credential.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Bytes of randomness per token (the issue asks for at least 128 bits).
const TOKEN_BYTES: usize = 32;

/// A new token: what the client keeps, and what the store keeps.
pub fn issue() -> (String, String) {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::getrandom(&mut bytes).unwrap_or_else(|e| panic!("the OS random source failed: {e}"));
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let stored = digest(&token);
    (token, stored)
}

/// The stored form of a token presented by a client.
pub fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, stored_a) = issue();
        let (b, _) = issue();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits in unpadded base64url");
        assert_eq!(stored_a, digest(&a));
        assert_eq!(stored_a.len(), 64);
        assert!(!stored_a.contains(&a));
    }
}
