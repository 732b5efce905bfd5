//! Request extractors that turn every kind of bad input into a problem naming the field:
//! [`ValidJson`] (content type, size, syntax, unknown or mistyped fields, then `validator`
//! rules) and [`ValidQuery`] (query strings, same rules).

use crate::error::{ApiError, FieldError};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

/// Largest JSON body accepted unless a route sets its own [`JsonLimit`].
pub const DEFAULT_JSON_LIMIT: usize = 1024 * 1024;

/// Per-app or per-route limit on JSON bodies, set with `app_data`.
#[derive(Debug, Clone, Copy)]
pub struct JsonLimit(pub usize);

/// A JSON body, deserialised strictly and validated.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<JsonLimit>()
            .map_or(DEFAULT_JSON_LIMIT, |l| l.0);
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| {
                m.type_() == mime::APPLICATION
                    && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
            });
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType(
                    "the request body must be JSON, sent with Content-Type: application/json"
                        .to_owned(),
                ));
            }
            if declared_len.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::BadRequest(e.to_string()))?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            let value = parse_json::<T>(&body)?;
            validate(&value)?;
            Ok(ValidJson(value))
        })
    }
}

/// Deserialises a JSON document, reporting the path of the field that failed.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "the request body is empty; send a JSON object".to_owned(),
        ));
    }
    // serde would also read a struct from a JSON array, by position; requests are objects.
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        Some(_) if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() => {
            return Err(ApiError::field("body", "must be a JSON object"));
        }
        _ => {}
    }
    // PostgreSQL text cannot hold NUL, and no field has a use for it.
    if body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(body) {
            if let Some(path) = nul_in_json(&doc, "") {
                return Err(ApiError::field(path, NUL_MESSAGE));
            }
        }
    }
    match deserialize_json(body) {
        Err(e) if e.is_data() => match integral_floats_as_integers(body) {
            // JSON Schema counts 5.0 as the integer 5; so does the API.
            Some(normalized) => deserialize_json(&normalized).map_err(JsonError::into_api),
            None => Err(e.into_api()),
        },
        other => other.map_err(JsonError::into_api),
    }
}

/// A serde_json error with the path of the field it is about.
struct JsonError(serde_path_to_error::Error<serde_json::Error>);

impl JsonError {
    fn is_data(&self) -> bool {
        self.0.inner().classify() == serde_json::error::Category::Data
    }

    fn into_api(self) -> ApiError {
        let path = self.0.path().to_string();
        let inner = self.0.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = inner.to_string();
                ApiError::field(field_of(&path, &message), strip_position(&message))
            }
            _ => ApiError::BadRequest(format!("the request body is not valid JSON: {inner}")),
        }
    }
}

fn deserialize_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, JsonError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(JsonError)
}

/// `body` with every number that has a fraction or exponent but an integral value within
/// `i64` (`5.0`, `1e3`) written as an integer; `None` when there is none (or no valid JSON).
fn integral_floats_as_integers(body: &[u8]) -> Option<Vec<u8>> {
    fn walk(value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::Number(n) if n.is_f64() => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                // 2^63 is exactly representable; i64 holds [-2^63, 2^63).
                let limit = 9_223_372_036_854_775_808.0_f64;
                if f.fract() == 0.0 && f >= -limit && f < limit {
                    *value = serde_json::Value::from(f as i64);
                    true
                } else {
                    false
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().fold(false, |c, v| walk(v) | c),
            serde_json::Value::Object(map) => map.values_mut().fold(false, |c, v| walk(v) | c),
            _ => false,
        }
    }
    let mut doc = serde_json::from_slice::<serde_json::Value>(body).ok()?;
    if walk(&mut doc) {
        serde_json::to_vec(&doc).ok()
    } else {
        None
    }
}

const NUL_MESSAGE: &str = "must not contain NUL characters (\\u0000)";

/// The path of the first string (or object key) in `value` that contains NUL.
fn nul_in_json(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(field_or_body(path)),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_in_json(item, &format!("{}[{i}]", field_or_body(path)))),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            let here = join_path(path, key);
            if key.contains('\0') {
                Some(field_or_body(path))
            } else {
                nul_in_json(item, &here)
            }
        }),
        _ => None,
    }
}

fn field_or_body(path: &str) -> String {
    if path.is_empty() {
        "body".to_owned()
    } else {
        path.to_owned()
    }
}

/// Query string parameters, deserialised strictly and validated.
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query::<T>(req.query_string()).and_then(|v| {
            validate(&v)?;
            Ok(ValidQuery(v))
        }))
    }
}

/// Deserialises a query string, reporting the parameter that failed.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    if let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        return Err(ApiError::field(name.replace('\0', ""), NUL_MESSAGE));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        ApiError::field(field_of(&path, &message), message)
    })
}

/// The field a serde error is about: its path, completed with the name serde puts in
/// "unknown field `x`" / "missing field `x`" messages; `body` for the document itself.
fn field_of(path: &str, message: &str) -> String {
    let named = unknown_field_name(message).or_else(|| missing_field_name(message));
    match named {
        Some(name) if path == name || path.ends_with(&format!(".{name}")) => path.to_owned(),
        Some(name) => join_path(path, &name),
        None if path.is_empty() || path == "." => "body".to_owned(),
        None => path.to_owned(),
    }
}

/// A numeric id from the URL path; anything else is a 422 naming the parameter, or a 405 when
/// the path is really a fixed route without this method (`GET /queue/actions`).
pub fn path_id(req: &HttpRequest, name: &str) -> Result<i64, ApiError> {
    let raw = req.match_info().get(name).unwrap_or_default();
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        if let Some(methods) = crate::startup::fixed_route_methods(req) {
            return ApiError::MethodNotAllowed(
                format!(
                    "{} is not allowed on {}; use {}",
                    req.method(),
                    req.path(),
                    methods.join(", ")
                ),
                methods,
            );
        }
        ApiError::field(
            name,
            format!("{raw:?} is not a valid id (a positive integer)"),
        )
    })
}

/// Runs `validator` rules and flattens their errors into field errors.
pub fn validate<T: Validate>(value: &T) -> Result<(), ApiError> {
    value.validate().map_err(|errors| {
        let mut out = Vec::new();
        flatten("", &errors, &mut out);
        out.sort_by(|a, b| a.field.cmp(&b.field));
        ApiError::Validation(out)
    })
}

fn flatten(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = join_path(prefix, field);
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| e.code.to_string());
                    out.push(FieldError::new(path.clone(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    flatten(&format!("{path}[{i}]"), inner, out);
                }
            }
        }
    }
}

fn join_path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() || prefix == "." {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

/// serde reports unknown fields as "unknown field `x`, expected …".
fn unknown_field_name(message: &str) -> Option<String> {
    backticked_after(message, "unknown field `")
}

/// serde reports missing fields as "missing field `x`".
fn missing_field_name(message: &str) -> Option<String> {
    backticked_after(message, "missing field `")
}

fn backticked_after(message: &str, marker: &str) -> Option<String> {
    let rest = &message[message.find(marker)? + marker.len()..];
    Some(rest[..rest.find('`')?].to_owned())
}

/// Drops serde_json's " at line 1 column 17" suffix: the field name says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
