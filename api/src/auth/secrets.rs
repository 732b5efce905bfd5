//! Generation and hashing of bearer secrets (API keys, refresh tokens, generated passwords).

use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};

/// Prefix that tells an API key from a JWT in an `Authorization` header.
pub const API_KEY_PREFIX: &str = "mxs_";
/// Prefix of refresh tokens, so they are recognisable in logs and secret scanners.
pub const REFRESH_PREFIX: &str = "mxr_";

/// A new API key secret: the prefix plus 40 alphanumerics (about 238 bits).
pub fn new_api_key() -> String {
    format!(
        "{API_KEY_PREFIX}{}",
        Alphanumeric.sample_string(&mut rand::rng(), 40)
    )
}

/// A new refresh token.
pub fn new_refresh_token() -> String {
    format!(
        "{REFRESH_PREFIX}{}",
        Alphanumeric.sample_string(&mut rand::rng(), 48)
    )
}

/// A password for the bootstrap admin when none is configured.
pub fn random_password() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 24)
}

/// A JWT signing secret, when none is configured.
pub fn random_jwt_secret() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 64)
}

/// Secrets are high-entropy, so one SHA-256 is enough to store them (unlike passwords).
pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}
