//! The HTTP side of the admin commands: one blocking client with the bearer token, and the
//! translation of every failure (no connection, problem+json, a body that is not JSON) into a
//! [`CliError`] whose exit code a script can branch on.

use super::CliError;
use reqwest::blocking::{Client as Http, RequestBuilder};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use std::time::Duration;

/// Where the API is and who is calling.
pub struct Client {
    /// `…/api/v1`, without a trailing slash.
    base: String,
    token: String,
    http: Http,
}

/// `http://host:port`, `http://host:port/` and `http://host:port/api/v1` all name the same API.
pub fn api_base(url: &str) -> Result<String, CliError> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = Url::parse(trimmed)
        .map_err(|e| CliError::Usage(format!("--url / MXSPOOL_URL {trimmed:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(CliError::Usage(format!(
            "--url / MXSPOOL_URL {trimmed:?}: must be an http:// or https:// URL"
        )));
    }
    let root = trimmed.strip_suffix("/api/v1").unwrap_or(trimmed);
    Ok(format!("{root}/api/v1"))
}

impl Client {
    /// A client for `url` (see [`api_base`]) sending `token` as `Authorization: Bearer`.
    pub fn new(url: &str, token: Option<&str>) -> Result<Client, CliError> {
        let base = api_base(url)?;
        let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| {
            CliError::Usage(
                "no token: set MXSPOOL_TOKEN or pass --token (a JWT access token or an mxs_… API key)"
                    .to_owned(),
            )
        })?;
        if token.chars().any(|c| c.is_control() || c == ' ') {
            return Err(CliError::Usage(
                "--token / MXSPOOL_TOKEN: contains spaces or control characters".to_owned(),
            ));
        }
        let http = Http::builder()
            .user_agent(concat!("mxspool-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            // Bulk queue commands on a large queue take a while; a stuck server still ends.
            .timeout(Duration::from_secs(600))
            .build()
            .map_err(|e| CliError::Other(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Client {
            base,
            token: token.to_owned(),
            http,
        })
    }

    /// A client without credentials, for `POST /auth/login`.
    pub fn anonymous(url: &str) -> Result<Client, CliError> {
        let mut client = Client::new(url, Some("-"))?;
        client.token.clear();
        Ok(client)
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT, "application/json");
        if self.token.is_empty() {
            builder
        } else {
            builder.bearer_auth(&self.token)
        }
    }

    /// Sends the request; a 2xx body is returned as JSON (`Value::Null` when empty, as for
    /// 204), anything else becomes a [`CliError`].
    fn send(
        &self,
        method: &Method,
        path: &str,
        builder: RequestBuilder,
    ) -> Result<Value, CliError> {
        let response = builder.send().map_err(|e| {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "cannot connect"
            } else {
                "request failed"
            };
            CliError::Transport(format!(
                "{method} {}{path}: {what}: {}",
                self.base,
                root_cause(&e)
            ))
        })?;
        let status = response.status();
        let text = response.text().map_err(|e| {
            CliError::Transport(format!(
                "{method} {}{path}: reading the answer: {e}",
                self.base
            ))
        })?;
        if status.is_success() {
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).map_err(|e| {
                CliError::Other(format!(
                    "{method} {}{path}: the answer is not JSON ({e})",
                    self.base
                ))
            });
        }
        Err(api_error(status, &text))
    }

    /// `GET path?query`.
    pub fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, CliError> {
        let b = self.request(Method::GET, path).query(query);
        self.send(&Method::GET, path, b)
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        let b = self.request(Method::POST, path).json(body);
        self.send(&Method::POST, path, b)
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Result<Value, CliError> {
        let b = self.request(Method::DELETE, path);
        self.send(&Method::DELETE, path, b)
    }

    /// Every item of a cursor-paginated listing, following `next_cursor` to the end.
    /// `on_page` sees the number of items fetched so far after each page.
    pub fn list_all(
        &self,
        path: &str,
        query: &[(&str, String)],
        mut on_page: impl FnMut(usize),
    ) -> Result<Vec<Value>, CliError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = query.to_vec();
            if let Some(c) = cursor.take() {
                q.push(("cursor", c));
            }
            let page = self.get(path, &q)?;
            if let Some(list) = page.get("items").and_then(Value::as_array) {
                items.extend(list.iter().cloned());
            }
            on_page(items.len());
            match page.get("next_cursor").and_then(Value::as_str) {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(items),
            }
        }
    }
}

/// The innermost error of a chain: "connection refused" rather than "error sending request".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// A non-2xx answer as an error: the problem+json body in one line when there is one.
pub fn api_error(status: StatusCode, body: &str) -> CliError {
    let problem: Option<Value> = serde_json::from_str(body).ok().filter(Value::is_object);
    let message = match &problem {
        Some(p) => problem_line(status, p),
        None => format!(
            "HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("error")
        ),
    };
    CliError::Api {
        status: status.as_u16(),
        message,
        problem,
    }
}

/// `Invalid input (422): target_host: is a loopback address; target_port: must be …`, or
/// `Not found (404): domain 7 not found`.
pub fn problem_line(status: StatusCode, problem: &Value) -> String {
    let title = problem
        .get("title")
        .and_then(Value::as_str)
        .or(status.canonical_reason())
        .unwrap_or("error");
    let fields: Vec<String> = problem
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let field = e.get("field").and_then(Value::as_str).unwrap_or("?");
                    let message = e
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("invalid");
                    format!("{field}: {message}")
                })
                .collect()
        })
        .unwrap_or_default();
    let detail = if fields.is_empty() {
        problem
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    } else {
        fields.join("; ")
    };
    let one_line = detail.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        format!("{title} ({})", status.as_u16())
    } else {
        format!("{title} ({}): {one_line}", status.as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_api_base_accepts_the_root_or_the_api_path() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080/api/v1",
            "http://127.0.0.1:8080/api/v1/",
        ] {
            assert_eq!(
                api_base(url).ok().as_deref(),
                Some("http://127.0.0.1:8080/api/v1"),
                "{url}"
            );
        }
        assert!(matches!(
            api_base("127.0.0.1:8080"),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(api_base("ftp://host/"), Err(CliError::Usage(_))));
    }

    #[test]
    fn a_validation_problem_names_each_field_on_one_line() {
        let p = json!({"type": "urn:mxspool:problem:validation", "title": "Invalid input",
            "status": 422, "detail": "2 fields are invalid", "errors": [
                {"field": "target_host", "message": "is a loopback\naddress"},
                {"field": "target_port", "message": "must be a port number"}]});
        assert_eq!(
            problem_line(StatusCode::UNPROCESSABLE_ENTITY, &p),
            "Invalid input (422): target_host: is a loopback address; target_port: must be a port number"
        );
        let p = json!({"title": "Not found", "status": 404, "detail": "domain 7 not found"});
        assert_eq!(
            problem_line(StatusCode::NOT_FOUND, &p),
            "Not found (404): domain 7 not found"
        );
    }

    #[test]
    fn exit_codes_follow_the_status() {
        let code = |s: u16| {
            api_error(
                StatusCode::from_u16(s).unwrap_or(StatusCode::IM_A_TEAPOT),
                "{}",
            )
            .exit_code()
        };
        assert_eq!(code(404), 3);
        assert_eq!(code(401), 4);
        assert_eq!(code(403), 4);
        assert_eq!(code(409), 5);
        assert_eq!(code(422), 5);
        assert_eq!(code(400), 5);
        assert_eq!(code(500), 1);
        assert_eq!(code(503), 1);
    }
}
