//! `TestApp`: a running API with its own database, and one method per endpoint.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use mxspool_api::{bootstrap, ApiConfig, Application};
use mxspool_testdb::TestDb;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

pub const ADMIN_EMAIL: &str = "admin@mxspool.test";
pub const ADMIN_PASSWORD: &str = "admin password for tests";
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
pub const PASSWORD: &str = "a long enough password";

pub struct TestApp {
    pub address: String,
    /// The admin's access token, fetched once (logins are rate-limited per account).
    admin_token: tokio::sync::OnceCell<String>,
    pub db: TestDb,
    pub client: reqwest::Client,
    pub hostname: String,
    /// The API's nameserver (unless a test configures others): a DNS server on loopback
    /// serving an empty zone until the test calls `dns.set_zone`.
    pub dns: mxspool_testsink::DnsServer,
}

/// A response read whole: status, headers, JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    async fn read(response: Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("reading the body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Asserts the status, printing the body when it differs.
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// Asserts an RFC 9457 problem with this status, and returns it.
    pub fn expect_problem(self, status: u16) -> Reply {
        let reply = self.expect(status);
        let content_type = reply.header("content-type");
        assert_eq!(
            content_type, "application/problem+json",
            "body: {}",
            reply.body
        );
        assert_eq!(reply.body["status"], status, "body: {}", reply.body);
        assert!(reply.body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:mxspool:problem:")));
        assert!(reply.body["title"].is_string());
        assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        reply
    }

    /// The fields named in a validation problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    }

    /// The ids of a list page's items.
    pub fn item_ids(&self) -> Vec<i64> {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {}", self.body))
            .iter()
            .map(|item| item["id"].as_i64().expect("item id"))
            .collect()
    }

    pub fn id(&self) -> i64 {
        self.body["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {}", self.body))
    }
}

impl TestApp {
    /// Starts the API with private targets allowed (targets on loopback in tests).
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|c| c.allow_private_targets = true).await
    }

    /// Starts the API with a configuration adjusted by `adjust`.
    pub async fn spawn_with(adjust: impl FnOnce(&mut ApiConfig)) -> TestApp {
        let db = tokio::task::spawn_blocking(TestDb::new)
            .await
            .expect("test db");
        let pool = mxspool_store::build_pool(&db.url(), 4);
        {
            let pool = pool.clone();
            tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().expect("connection");
                bootstrap::ensure_admin(&mut conn, ADMIN_EMAIL, Some(ADMIN_PASSWORD))
                    .expect("bootstrap admin");
            })
            .await
            .expect("bootstrap");
        }
        let hostname = "backup-mx.mxspool.test".to_owned();
        let mut config = ApiConfig::new(hostname.clone(), JWT_SECRET.to_owned());
        config.workers = 1;
        let dns = mxspool_testsink::DnsServer::start(mxspool_testsink::Zone::new())
            .await
            .expect("test DNS server");
        config.dns_servers = Some(vec![dns.addr()]);
        adjust(&mut config);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let app = Application::build(config, pool, listener).expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            admin_token: tokio::sync::OnceCell::new(),
            db,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            hostname,
            dns,
        }
    }

    /// Any request; `body` is sent as JSON when present.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::read(request.send().await.expect("request failed")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str) -> Reply {
        self.request(Method::PUT, path, Some(token), None).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    // --- auth ---

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.request(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh_token})),
        )
        .await
    }

    pub async fn logout(&self, refresh_token: &str) -> Reply {
        self.request(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(json!({"refresh_token": refresh_token})),
        )
        .await
    }

    /// Access token of an account, by logging in.
    pub async fn token_for(&self, email: &str, password: &str) -> String {
        let reply = self.login(email, password).await.expect(200);
        reply.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.admin_token
            .get_or_init(|| self.token_for(ADMIN_EMAIL, ADMIN_PASSWORD))
            .await
            .clone()
    }

    // --- accounts ---

    pub async fn create_account(&self, token: &str, body: Value) -> Reply {
        self.post("/api/v1/accounts", token, body).await
    }

    /// Creates a customer with a plan (as the admin); returns its id and access token.
    pub async fn customer(
        &self,
        email: &str,
        max_domains: i32,
        may_create_domain_admins: bool,
    ) -> (i64, String) {
        let admin = self.admin_token().await;
        let reply = self
            .create_account(
                &admin,
                json!({"email": email, "password": PASSWORD, "role": "customer",
                       "max_domains": max_domains,
                       "may_create_domain_admins": may_create_domain_admins}),
            )
            .await
            .expect(201);
        (reply.id(), self.token_for(email, PASSWORD).await)
    }

    /// Creates a domain administrator as `token` (a customer whose plan allows it, or an
    /// admin); returns its id and access token.
    pub async fn domain_admin(&self, token: &str, email: &str) -> (i64, String) {
        let reply = self
            .create_account(
                token,
                json!({"email": email, "password": PASSWORD, "role": "domain_admin"}),
            )
            .await
            .expect(201);
        (reply.id(), self.token_for(email, PASSWORD).await)
    }

    // --- domains ---

    pub async fn create_domain(&self, token: &str, body: Value) -> Reply {
        self.post("/api/v1/domains", token, body).await
    }

    /// Creates `name` relaying to 127.0.0.1; returns its id.
    pub async fn domain(&self, token: &str, name: &str) -> i64 {
        self.create_domain(token, json!({"name": name, "target_host": "127.0.0.1"}))
            .await
            .expect(201)
            .id()
    }

    // --- api keys ---

    pub async fn create_api_key(&self, token: &str, body: Value) -> Reply {
        self.post("/api/v1/api-keys", token, body).await
    }

    /// Runs SQL against the test's database, for set-up the API cannot do (e.g. expiry).
    pub async fn sql(&self, statement: &str) {
        use diesel::connection::SimpleConnection;
        let mut conn = self.db.connect();
        conn.batch_execute(statement).expect("sql");
    }

    /// Runs SQL on the server's `postgres` database (statements about the test database).
    pub async fn server_sql(&self, statement: &str) {
        use diesel::connection::SimpleConnection;
        let mut conn = self.db.connect_server();
        conn.batch_execute(statement).expect("sql");
    }
}
