//! The authenticated caller of a request.

use crate::auth::secrets::{digest, API_KEY_PREFIX};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use mxspool_store::accounts::{self, Account};
use mxspool_store::api_keys;
use mxspool_store::domains::{DomainReach, DomainVisibility};
use mxspool_store::kinds::Role;
use mxspool_store::{AccountId, ApiKeyId, DomainId};

/// How the caller proved who it is.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A JWT from `/auth/login`: the account's full rights.
    AccessToken,
    /// An API key: the account's rights, narrowed by the key's scope and domain list.
    ApiKey {
        id: ApiKeyId,
        can_write: bool,
        /// `Some` when the key is restricted to these domains.
        domains: Option<Vec<DomainId>>,
    },
}

/// The account behind a request and the limits of its credential. Extracting it is what makes
/// a handler authenticated: a handler without a `Caller` argument is public.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: Account,
    pub credential: Credential,
}

impl Caller {
    pub fn id(&self) -> AccountId {
        self.account.id
    }

    pub fn role(&self) -> Role {
        self.account.role
    }

    pub fn is_admin(&self) -> bool {
        self.account.role == Role::Admin
    }

    /// The domains this caller may see: by role, then narrowed by an API key's domain list.
    pub fn domain_visibility(&self) -> DomainVisibility {
        let reach = match self.account.role {
            Role::Admin => DomainReach::All,
            Role::Customer => DomainReach::OwnedBy(self.account.id),
            Role::DomainAdmin => DomainReach::AdministeredBy(self.account.id),
        };
        let only = match &self.credential {
            Credential::ApiKey { domains, .. } => domains.clone(),
            Credential::AccessToken => None,
        };
        DomainVisibility { reach, only }
    }

    /// Refuses API keys that are restricted to domains, for operations outside those domains
    /// (accounts, creating domains).
    pub fn require_unrestricted(&self) -> Result<(), ApiError> {
        match &self.credential {
            Credential::ApiKey {
                domains: Some(_), ..
            } => Err(ApiError::Forbidden(
                "this API key is restricted to some domains and cannot do this".to_owned(),
            )),
            _ => Ok(()),
        }
    }

    /// Refuses API keys: managing keys takes an interactive login, so a leaked key cannot
    /// mint itself successors.
    pub fn require_login_token(&self) -> Result<(), ApiError> {
        match self.credential {
            Credential::AccessToken => Ok(()),
            Credential::ApiKey { .. } => Err(ApiError::Forbidden(
                "API keys cannot manage API keys; log in with a password to do this".to_owned(),
            )),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let read_only_method = matches!(*req.method(), Method::GET | Method::HEAD);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("app state missing".to_owned()))?;
            let token = token?;
            let caller = if token.starts_with(API_KEY_PREFIX) {
                authenticate_api_key(&state, token).await?
            } else {
                let id = state.keys.verify(&token).ok_or_else(|| {
                    ApiError::Unauthorized("the access token is invalid or expired".to_owned())
                })?;
                let account = state
                    .db(move |conn| Ok(accounts::find(conn, id).ok()))
                    .await?
                    .ok_or_else(|| {
                        ApiError::Unauthorized("the account no longer exists".to_owned())
                    })?;
                Caller {
                    account,
                    credential: Credential::AccessToken,
                }
            };
            if let Credential::ApiKey {
                can_write: false, ..
            } = caller.credential
            {
                if !read_only_method {
                    return Err(ApiError::Forbidden(
                        "this API key has the read scope only; this request needs write".to_owned(),
                    ));
                }
            }
            Ok(caller)
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::MissingCredentials(
                "send Authorization: Bearer <access token or API key>".to_owned(),
            )
        })?
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not text".to_owned()))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized(
            "the Authorization header must be: Bearer <access token or API key>".to_owned(),
        ));
    }
    Ok(token.trim().to_owned())
}

async fn authenticate_api_key(state: &AppState, secret: String) -> Result<Caller, ApiError> {
    let hash = digest(&secret);
    state
        .db(move |conn| {
            let invalid = || ApiError::Unauthorized("the API key is invalid or revoked".to_owned());
            let key = api_keys::find_by_hash(conn, &hash)?.ok_or_else(invalid)?;
            let now = chrono::Utc::now();
            if key.expires_at.is_some_and(|at| at <= now) {
                return Err(ApiError::Unauthorized("the API key has expired".to_owned()));
            }
            let account = accounts::find(conn, key.account_id).map_err(|_| invalid())?;
            api_keys::touch(conn, key.id, now)?;
            let domains = if key.domain_restricted {
                Some(api_keys::domains_of(conn, key.id)?)
            } else {
                None
            };
            Ok(Caller {
                account,
                credential: Credential::ApiKey {
                    id: key.id,
                    can_write: key.can_write,
                    domains,
                },
            })
        })
        .await
}
