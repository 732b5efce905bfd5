//! `/auth/*` and `/me`: password login, rotating refresh tokens, the caller's own account.

use crate::auth::secrets::{digest, new_refresh_token};
use crate::auth::{password, Caller};
use crate::error::{ApiError, Problem};
use crate::extract::ValidJson;
use crate::routes::accounts::AccountView;
use crate::state::AppState;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use mxspool_store::{accounts, refresh_tokens, AccountId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Credentials for `POST /auth/login`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "admin@example.net", "password": "correct horse battery staple"}))]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254, message = "enter the account's e-mail address"))]
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
    #[validate(length(min = 1, max = 1024, message = "enter the password"))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

/// A refresh token, for `/auth/refresh` and `/auth/logout`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 256, message = "send the refresh token from login"))]
    #[schema(min_length = 1, max_length = 256)]
    pub refresh_token: String,
}

/// Tokens issued at login and on refresh.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…",
    "refresh_token": "mxr_3k9…",
    "token_type": "Bearer",
    "expires_in": 900
}))]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer …`.
    pub access_token: String,
    /// Single-use token for `/auth/refresh`; each use returns a new one.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// Log in with e-mail and password.
///
/// Attempts are limited per client address and per account; over the limit the answer is 429
/// with `Retry-After`.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Wrong e-mail or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidJson<LoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let LoginRequest { email, password } = body.0;
    let email = email.trim().to_lowercase();
    let ip = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED));
    state
        .login_limiter
        .check(ip, &email)
        .map_err(ApiError::TooManyRequests)?;
    let lookup = email.clone();
    let account = state
        .db(move |conn| Ok(accounts::find_by_email(conn, &lookup)?))
        .await?;
    let stored = account
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| password::decoy_hash().to_owned());
    let matches = web::block(move || password::verify(&password, &stored)).await?;
    match account {
        Some(account) if matches => {
            tracing::info!(account = %account.id, "login");
            issue_tokens(&state, account.id, uuid::Uuid::new_v4())
                .await
                .map(web::Json)
        }
        _ => Err(ApiError::Unauthorized(
            "wrong e-mail or password".to_owned(),
        )),
    }
}

/// Trade a refresh token for new tokens.
///
/// Refresh tokens are single-use: each call returns a new one. Presenting a token that was
/// already used revokes every token descended from the same login (it may have been stolen),
/// and the caller must log in again.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: ValidJson<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let hash = digest(&body.0.refresh_token);
    let (account, family) = state
        .db(move |conn| {
            let invalid = |why: &str| ApiError::Unauthorized(format!("the refresh token {why}"));
            let token = refresh_tokens::find_by_hash(conn, &hash)?
                .ok_or_else(|| invalid("is not valid"))?;
            let now = Utc::now();
            if token.revoked_at.is_some() {
                return Err(invalid("has been revoked; log in again"));
            }
            if token.expires_at <= now {
                return Err(invalid("has expired; log in again"));
            }
            if !refresh_tokens::spend(conn, token.id, now)? {
                refresh_tokens::revoke_family(conn, token.family_id, now)?;
                tracing::warn!(account = %token.account_id, family = %token.family_id,
                    "refresh token reused; family revoked");
                return Err(invalid(
                    "was already used; all tokens of this login are revoked, log in again",
                ));
            }
            Ok((token.account_id, token.family_id))
        })
        .await?;
    issue_tokens(&state, account, family).await.map(web::Json)
}

/// Revoke a refresh token and every token issued from the same login.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out (also when the token was already invalid)"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: ValidJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let hash = digest(&body.0.refresh_token);
    state
        .db(move |conn| {
            if let Some(token) = refresh_tokens::find_by_hash(conn, &hash)? {
                refresh_tokens::revoke_family(conn, token.family_id, Utc::now())?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own account.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "The authenticated account", body = AccountView)),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(caller: Caller) -> web::Json<AccountView> {
    web::Json(AccountView::from(&caller.account))
}

async fn issue_tokens(
    state: &AppState,
    account: AccountId,
    family: uuid::Uuid,
) -> Result<TokenResponse, ApiError> {
    let now = Utc::now();
    let access_ttl = state.config.access_token_ttl;
    let refresh_ttl = chrono::Duration::from_std(state.config.refresh_token_ttl)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let access_token = state
        .keys
        .issue(
            account,
            now,
            chrono::Duration::from_std(access_ttl)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        )
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let refresh_token = new_refresh_token();
    let hash = digest(&refresh_token);
    state
        .db(move |conn| {
            Ok(refresh_tokens::insert(
                conn,
                account,
                family,
                &hash,
                now + refresh_ttl,
            )?)
        })
        .await?;
    Ok(TokenResponse {
        access_token,
        refresh_token,
        token_type: "Bearer".to_owned(),
        expires_in: access_ttl.as_secs(),
    })
}
