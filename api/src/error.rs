//! The API's error model.
//!
//! Every failure a handler can produce is an [`ApiError`]; [`ApiError::error_response`] is the one
//! place that turns it into HTTP. The body is always `application/problem+json` (RFC 9457): `type`
//! (a stable `urn:mxspool:problem:*` name a client can branch on), `title`, `status`, `detail`, and
//! for invalid input an `errors` list naming each offending field.
//!
//! Policy:
//! - input the client can fix: 400 (unparsable), 413, 415, 422 (with fields);
//! - identity: 401 with `WWW-Authenticate: Bearer`; permission: 403 with the reason;
//! - objects the caller may not see answer 404 exactly like missing ones;
//! - diesel `NotFound` → 404, unique violations → 409, pool exhaustion or a database that does not
//!   answer → 503; anything else → 500 with a generic detail (the cause is logged, not leaked).
//! - Responses produced outside handlers (unknown routes, actix's own errors) are rewritten into
//!   the same shape by [`problem_for_foreign_errors`].

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem details body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:mxspool:problem:validation",
    "title": "Invalid input",
    "status": 422,
    "detail": "1 field is invalid",
    "errors": [{"field": "name", "message": "label \"-bad\" may not start or end with a hyphen"}]
}))]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `urn:mxspool:problem:not-found`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this case, in a sentence.
    pub detail: String,
    /// Per-field errors, for invalid input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Where the field is: a JSON path into the body (`recipients[3]`), or a query or path
    /// parameter name.
    pub field: String,
    /// Why it was refused.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every error a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// No credentials at all (the challenge then carries no error code, RFC 6750 §3.1).
    #[error("{0}")]
    MissingCredentials(String),
    /// Credentials that failed a check.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String, Vec<String>),
    #[error("{0}")]
    Conflict(String),
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many attempts; retry in {0} s")]
    TooManyRequests(u64),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 naming one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest(_) => ("bad-request", "Malformed request"),
            ApiError::Validation(_) => ("validation", "Invalid input"),
            ApiError::MissingCredentials(_) | ApiError::Unauthorized(_) => {
                ("unauthorized", "Authentication required")
            }
            ApiError::Forbidden(_) => ("forbidden", "Not allowed"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::MethodNotAllowed(..) => ("method-not-allowed", "Method not allowed"),
            ApiError::Conflict(_) => ("conflict", "Conflict"),
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "Request body too large"),
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            ApiError::TooManyRequests(_) => ("rate-limited", "Too many requests"),
            ApiError::Unavailable(_) => ("unavailable", "Service unavailable"),
            ApiError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    /// The problem body for this error.
    pub fn problem(&self) -> Problem {
        let (slug, title) = self.kind();
        let (detail, errors) = match self {
            ApiError::Validation(errors) => {
                let n = errors.len();
                let detail = match errors.as_slice() {
                    [one] => format!("{}: {}", one.field, one.message),
                    _ => format!("{n} fields are invalid"),
                };
                (detail, errors.clone())
            }
            ApiError::Internal(_) => (
                "the server failed to handle this request; it has been logged".to_owned(),
                Vec::new(),
            ),
            other => (other.to_string(), Vec::new()),
        };
        Problem {
            problem_type: format!("urn:mxspool:problem:{slug}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail,
            errors,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::MissingCredentials(_) | ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(..) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        if let ApiError::Internal(cause) = self {
            tracing::error!(%cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        match self {
            ApiError::MissingCredentials(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"mxspool\""));
            }
            ApiError::Unauthorized(detail) => {
                let challenge = format!(
                    "Bearer realm=\"mxspool\", error=\"invalid_token\", error_description=\"{}\"",
                    detail.replace(['"', '\\'], "'")
                );
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            ApiError::TooManyRequests(seconds) => {
                response.insert_header((header::RETRY_AFTER, seconds.to_string()));
            }
            ApiError::MethodNotAllowed(_, allowed) => {
                response.insert_header((header::ALLOW, allowed.join(", ")));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ApiError::NotFound("no such object".to_owned()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                ApiError::Conflict(format!("already exists ({})", info.message()))
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                ApiError::Unavailable("the database connection was lost; retry".to_owned())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %e, "no database connection available");
        ApiError::Unavailable(
            "the database is not reachable or all connections are busy; retry".to_owned(),
        )
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// Middleware hook: any 4xx/5xx response that is not already a problem (actix's own errors,
/// unknown routes) gets a problem body with the same status.
pub fn problem_for_foreign_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (slug, title) = match status {
        StatusCode::NOT_FOUND => ("not-found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "Request body too large"),
        s if s.is_server_error() => ("internal", "Internal server error"),
        _ => ("bad-request", "Malformed request"),
    };
    let detail = status
        .canonical_reason()
        .unwrap_or("request failed")
        .to_lowercase();
    let problem = Problem {
        problem_type: format!("urn:mxspool:problem:{slug}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
    };
    let body = serde_json::to_string(&problem).unwrap_or_default();
    let (req, mut res) = res.into_parts();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    let res = res.set_body(body).map_into_boxed_body();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, res).map_into_right_body(),
    ))
}
