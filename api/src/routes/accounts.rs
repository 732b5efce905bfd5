//! `/accounts`: operators manage everyone; customers manage the domain administrators they
//! created, when their plan allows it; everyone may change their own e-mail and password.

use crate::auth::{password, Caller};
use crate::error::{ApiError, Problem};
use crate::extract::{path_id, ValidJson, ValidQuery};
use crate::pagination::PageRequest;
use crate::state::AppState;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::{Connection, RunQueryDsl};
use mxspool_store::accounts::{
    self, Account, AccountChanges, AccountFilter, AccountVisibility, NewAccount,
};
use mxspool_store::kinds::Role;
use mxspool_store::{refresh_tokens, AccountId, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// Plan limit given to a new customer when the request names none.
pub const DEFAULT_MAX_DOMAINS: i32 = 10;

/// An account as the API shows it (never the password hash).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 7, "email": "ops@customer.example", "role": "customer", "parent_id": null,
    "max_domains": 25, "may_create_domain_admins": true,
    "created_at": "2026-11-28T10:00:00Z", "updated_at": "2026-11-28T10:00:00Z"
}))]
pub struct AccountView {
    pub id: AccountId,
    pub email: String,
    pub role: Role,
    /// The customer that created this domain administrator, if any.
    pub parent_id: Option<AccountId>,
    /// Customers only: how many relay domains the account may own.
    pub max_domains: Option<i32>,
    /// Customers only: whether the account may create domain administrators.
    pub may_create_domain_admins: Option<bool>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        AccountView {
            id: a.id,
            email: a.email.clone(),
            role: a.role,
            parent_id: a.parent_id,
            max_domains: a.max_domains,
            may_create_domain_admins: a.may_create_domain_admins,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

crate::page_type!(
    /// One page of accounts.
    AccountPage,
    AccountView
);

/// A new account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "email": "ops@customer.example", "password": "a long secret phrase", "role": "customer",
    "max_domains": 25, "may_create_domain_admins": true
}))]
pub struct CreateAccount {
    #[validate(email(message = "must be an e-mail address"), length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// At least 12 characters.
    #[validate(length(min = 12, max = 1024, message = "must be 12 to 1024 characters long"))]
    #[schema(min_length = 12, max_length = 1024)]
    pub password: String,
    pub role: Role,
    /// Customers only (default 10).
    #[validate(range(min = 0, max = 1000000, message = "must be between 0 and 1000000"))]
    #[schema(minimum = 0, maximum = 1000000)]
    pub max_domains: Option<i32>,
    /// Customers only (default false).
    pub may_create_domain_admins: Option<bool>,
}

/// Changes to an account; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"max_domains": 50}))]
pub struct UpdateAccount {
    #[validate(email(message = "must be an e-mail address"), length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    #[validate(length(min = 12, max = 1024, message = "must be 12 to 1024 characters long"))]
    #[schema(min_length = 12, max_length = 1024)]
    pub password: Option<String>,
    /// Customers only; set by an operator.
    #[validate(range(min = 0, max = 1000000, message = "must be between 0 and 1000000"))]
    #[schema(minimum = 0, maximum = 1000000)]
    pub max_domains: Option<i32>,
    /// Customers only; set by an operator.
    pub may_create_domain_admins: Option<bool>,
}

/// Filters and paging of `GET /accounts`.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// Exact e-mail address.
    pub email: Option<String>,
    pub role: Option<Role>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn visibility(caller: &Caller) -> AccountVisibility {
    match caller.role() {
        Role::Admin => AccountVisibility::All,
        Role::Customer => AccountVisibility::SelfAndChildren(caller.id()),
        Role::DomainAdmin => AccountVisibility::SelfOnly(caller.id()),
    }
}

/// The account if the caller may see it; 404 otherwise.
pub(crate) fn find_visible(
    conn: &mut PgConnection,
    caller: &Caller,
    id: AccountId,
) -> Result<Account, ApiError> {
    let not_found = || ApiError::NotFound(format!("account {id} not found"));
    let account = accounts::find(conn, id).map_err(|e| match e {
        diesel::result::Error::NotFound => not_found(),
        other => other.into(),
    })?;
    let visible = match visibility(caller) {
        AccountVisibility::All => true,
        AccountVisibility::SelfAndChildren(me) => account.id == me || account.parent_id == Some(me),
        AccountVisibility::SelfOnly(me) => account.id == me,
    };
    if visible {
        Ok(account)
    } else {
        Err(not_found())
    }
}

/// List the accounts the caller may see.
///
/// Operators see every account, customers themselves and their domain administrators, domain
/// administrators themselves.
#[utoipa::path(
    tag = "accounts",
    params(AccountQuery),
    responses((status = 200, description = "One page of accounts", body = AccountPage)),
    security(("bearer" = []))
)]
#[get("/accounts")]
pub async fn list_accounts(
    state: web::Data<AppState>,
    caller: Caller,
    query: ValidQuery<AccountQuery>,
) -> Result<web::Json<AccountPage>, ApiError> {
    caller.require_unrestricted()?;
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let filter = AccountFilter {
        email: q.email.map(|e| e.trim().to_lowercase()),
        role: q.role,
    };
    let vis = visibility(&caller);
    let rows = state
        .db(move |conn| {
            Ok(accounts::list(
                conn,
                vis,
                &filter,
                page.after.map(AccountId),
                page.fetch(),
            )?)
        })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |a| a.id.0);
    Ok(web::Json(AccountPage {
        items: rows.iter().map(AccountView::from).collect(),
        next_cursor,
    }))
}

/// Create an account.
///
/// Operators create any role. A customer may create `domain_admin` accounts only, and only when
/// its plan has `may_create_domain_admins`. Plan fields belong to customers.
#[utoipa::path(
    tag = "accounts",
    request_body = CreateAccount,
    responses(
        (status = 201, description = "Created", body = AccountView),
        (status = 409, description = "The e-mail address is taken", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/accounts")]
pub async fn create_account(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidJson<CreateAccount>,
) -> Result<HttpResponse, ApiError> {
    caller.require_unrestricted()?;
    let input = body.0;
    let parent_id = match (caller.role(), input.role) {
        (Role::Admin, _) => None,
        (Role::Customer, Role::DomainAdmin) => {
            if caller.account.may_create_domain_admins != Some(true) {
                return Err(ApiError::Forbidden(
                    "your plan does not allow creating domain administrators".to_owned(),
                ));
            }
            Some(caller.id())
        }
        (Role::Customer, _) => {
            return Err(ApiError::Forbidden(
                "customers may only create domain_admin accounts".to_owned(),
            ))
        }
        (Role::DomainAdmin, _) => {
            return Err(ApiError::Forbidden(
                "domain administrators cannot create accounts".to_owned(),
            ))
        }
    };
    let (max_domains, may_create) = if input.role == Role::Customer {
        (
            Some(input.max_domains.unwrap_or(DEFAULT_MAX_DOMAINS)),
            Some(input.may_create_domain_admins.unwrap_or(false)),
        )
    } else {
        reject_plan_fields(input.max_domains, input.may_create_domain_admins)?;
        (None, None)
    };
    let email = input.email.trim().to_lowercase();
    let password = input.password;
    let hash = web::block(move || password::hash(&password))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let role = input.role;
    let account = state
        .db(move |conn| {
            let new = NewAccount {
                email: &email,
                password_hash: &hash,
                role,
                parent_id,
                max_domains,
                may_create_domain_admins: may_create,
            };
            accounts::insert(conn, &new).map_err(|e| email_conflict(e, &email))
        })
        .await?;
    Ok(HttpResponse::Created().json(AccountView::from(&account)))
}

/// Show an account.
#[utoipa::path(
    tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account", body = AccountView),
        (status = 404, description = "No such account, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/accounts/{id}")]
pub async fn get_account(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<AccountView>, ApiError> {
    let id = AccountId(path_id(&req, "id")?);
    if id != caller.id() {
        caller.require_unrestricted()?;
    }
    let account = state
        .db(move |conn| find_visible(conn, &caller, id))
        .await?;
    Ok(web::Json(AccountView::from(&account)))
}

/// Change an account.
///
/// Everyone may change their own e-mail and password; customers also those of their domain
/// administrators. Plan fields are set by operators, on customers only. A new password ends
/// the account's sessions: its refresh tokens are revoked.
#[utoipa::path(
    tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    request_body = UpdateAccount,
    responses(
        (status = 200, description = "The changed account", body = AccountView),
        (status = 404, description = "No such account, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The e-mail address is taken, or plan limits were sent for an account that is not a customer", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/accounts/{id}")]
pub async fn update_account(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ValidJson<UpdateAccount>,
) -> Result<web::Json<AccountView>, ApiError> {
    let id = AccountId(path_id(&req, "id")?);
    caller.require_unrestricted()?;
    let input = body.0;
    let password_hash = match input.password {
        Some(password) => Some(
            web::block(move || password::hash(&password))
                .await?
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        ),
        None => None,
    };
    let account = state
        .db(move |conn| {
            let target = find_visible(conn, &caller, id)?;
            let plan_change =
                input.max_domains.is_some() || input.may_create_domain_admins.is_some();
            if plan_change {
                if !caller.is_admin() {
                    return Err(ApiError::Forbidden(
                        "plan limits are set by the operator".to_owned(),
                    ));
                }
                if target.role != Role::Customer {
                    // The request is well-formed; it does not fit the account it names.
                    return Err(ApiError::Conflict(format!(
                        "account {id} is not a customer; only customer accounts have plan \
                         limits (max_domains, may_create_domain_admins)"
                    )));
                }
            }
            let password_changed = password_hash.is_some();
            let email = input.email.map(|e| e.trim().to_lowercase());
            let changes = AccountChanges {
                email: email.clone(),
                password_hash,
                max_domains: input.max_domains.map(Some),
                may_create_domain_admins: input.may_create_domain_admins.map(Some),
                updated_at: Some(Utc::now()),
                ..AccountChanges::default()
            };
            let updated = accounts::update(conn, id, &changes)
                .map_err(|e| email_conflict(e, email.as_deref().unwrap_or_default()))?;
            if password_changed {
                // Sessions opened with the old password end; API keys stay (revoke them
                // separately), as they are not tied to the password.
                refresh_tokens::revoke_account(conn, id, Utc::now())?;
            }
            Ok(updated)
        })
        .await?;
    Ok(web::Json(AccountView::from(&account)))
}

/// Delete an account.
///
/// Operators delete any account but the last operator; customers delete their domain
/// administrators. An account that still owns domains cannot be deleted (409).
#[utoipa::path(
    tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such account, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account owns domains, or is the last operator", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/accounts/{id}")]
pub async fn delete_account(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = AccountId(path_id(&req, "id")?);
    caller.require_unrestricted()?;
    state
        .db(move |conn| {
            conn.transaction::<_, ApiError, _>(|conn| {
                let target = find_visible(conn, &caller, id)?;
                if !caller.is_admin() && target.parent_id != Some(caller.id()) {
                    return Err(ApiError::Forbidden(
                        "only an operator can delete this account".to_owned(),
                    ));
                }
                let owned = accounts::count_owned_domains(conn, id)?;
                if owned > 0 {
                    return Err(ApiError::Conflict(format!(
                        "the account still owns {owned} domain(s); delete them or give them to another owner first"
                    )));
                }
                if target.role == Role::Admin {
                    // Serialise concurrent deletions of operators.
                    diesel::sql_query("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE")
                        .execute(conn)?;
                    if accounts::count_admins(conn)? <= 1 {
                        return Err(ApiError::Conflict(
                            "this is the last operator account; create another first".to_owned(),
                        ));
                    }
                }
                accounts::delete(conn, id)?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn reject_plan_fields(max_domains: Option<i32>, may_create: Option<bool>) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if max_domains.is_some() {
        errors.push(crate::error::FieldError::new(
            "max_domains",
            "only customer accounts have plan limits",
        ));
    }
    if may_create.is_some() {
        errors.push(crate::error::FieldError::new(
            "may_create_domain_admins",
            "only customer accounts have plan limits",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn email_conflict(e: diesel::result::Error, email: &str) -> ApiError {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => ApiError::Conflict(format!("an account with e-mail {email} already exists")),
        other => other.into(),
    }
}
