//! JWT access tokens: HS256 only, with issuer, audience, expiry and not-before all required.

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mxspool_store::AccountId;
use serde::{Deserialize, Serialize};

/// `iss` of every token this service issues.
pub const ISSUER: &str = "mxspool";
/// `aud` of access tokens for the control API.
pub const AUDIENCE: &str = "mxspool-api";

/// Claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

/// Signs and checks access tokens with one shared secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 5;
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Issues a token for `account` valid from `now` for `ttl`.
    pub fn issue(
        &self,
        account: AccountId,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: account.0.to_string(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + ttl).timestamp(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The account a valid token names; `None` for any token that fails a check.
    pub fn verify(&self, token: &str) -> Option<AccountId> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        data.claims.sub.parse().ok().map(AccountId)
    }
}
