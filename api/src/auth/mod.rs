//! Who is calling, and what they may do.
//!
//! A request authenticates with `Authorization: Bearer <token>`, where the token is either a
//! JWT access token from `/auth/login` or an API key (`mxs_…`). [`Caller`] resolves either to
//! the account behind it plus the limits of the credential; handlers decide with it.

pub mod caller;
pub mod password;
pub mod rate_limit;
pub mod secrets;
pub mod tokens;

pub use caller::Caller;
