//! Every class of bad input gets an RFC 9457 problem, never text/plain or a 500.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

async fn raw_post(
    app: &TestApp,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Reply {
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    }
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let reply = raw_post(
        &app,
        "/api/v1/domains",
        &token,
        "application/json",
        b"{\"name\": ".to_vec(),
    )
    .await
    .expect_problem(400);
    assert!(reply.body["detail"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
    raw_post(
        &app,
        "/api/v1/domains",
        &token,
        "application/json",
        Vec::new(),
    )
    .await
    .expect_problem(400);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415_problem() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    raw_post(
        &app,
        "/api/v1/domains",
        &token,
        "text/plain",
        b"name=example.com".to_vec(),
    )
    .await
    .expect_problem(415);
    raw_post(
        &app,
        "/api/v1/domains",
        &token,
        "application/x-www-form-urlencoded",
        b"name=x".to_vec(),
    )
    .await
    .expect_problem(415);
    // +json media types are JSON.
    raw_post(
        &app,
        "/api/v1/domains",
        &token,
        "application/merge-patch+json",
        json!({"name": "plusjson.example", "target_host": "192.0.2.1"})
            .to_string()
            .into_bytes(),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn unknown_fields_are_refused_by_name() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let reply = app
        .create_domain(
            &token,
            json!({"name": "a.example", "target_host": "192.0.2.1", "colour": "red"}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["colour"]);
}

#[tokio::test]
async fn missing_and_mistyped_fields_are_named() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let missing = app
        .create_domain(&token, json!({"name": "a.example"}))
        .await
        .expect_problem(422);
    assert_eq!(missing.error_fields(), vec!["target_host"]);
    let mistyped = app
        .create_domain(
            &token,
            json!({"name": "a.example", "target_host": "192.0.2.1", "target_port": "twenty-five"}),
        )
        .await
        .expect_problem(422);
    assert_eq!(mistyped.error_fields(), vec!["target_port"]);
    let not_an_object = app
        .create_domain(&token, json!(["a.example"]))
        .await
        .expect_problem(422);
    assert_eq!(not_an_object.error_fields(), vec!["body"]);
    assert!(not_an_object.body["detail"]
        .as_str()
        .unwrap()
        .contains("must be a JSON object"));
}

#[tokio::test]
async fn an_oversized_body_is_a_413_problem() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let huge = json!({"name": "x".repeat(2 * 1024 * 1024), "target_host": "192.0.2.1"});
    raw_post(
        &app,
        "/api/v1/domains",
        &token,
        "application/json",
        huge.to_string().into_bytes(),
    )
    .await
    .expect_problem(413);
}

#[tokio::test]
async fn unknown_routes_are_404_problems() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let reply = app
        .get("/api/v1/nothing-here", &token)
        .await
        .expect_problem(404);
    assert!(reply.body["detail"]
        .as_str()
        .unwrap()
        .contains("/api/v1/nothing-here"));
    app.request(Method::GET, "/favicon.ico", None, None)
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn a_wrong_method_on_a_known_path_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let reply = app
        .request(
            Method::PUT,
            "/api/v1/domains",
            Some(&token),
            Some(json!({})),
        )
        .await
        .expect_problem(405);
    assert_eq!(reply.header("allow"), "GET, POST");
    let reply = app
        .request(
            Method::POST,
            "/api/v1/domains/5",
            Some(&token),
            Some(json!({})),
        )
        .await
        .expect_problem(405);
    assert_eq!(reply.header("allow"), "GET, PATCH, DELETE");
}

#[tokio::test]
async fn an_id_that_is_not_a_number_is_a_422_naming_it() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for bad in ["abc", "-1", "0", "99999999999999999999999"] {
        let reply = app
            .get(&format!("/api/v1/domains/{bad}"), &token)
            .await
            .expect_problem(422);
        assert_eq!(reply.error_fields(), vec!["id"], "for {bad}");
    }
    let reply = app
        .put("/api/v1/domains/1/admins/x", &token)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["account_id"]);
}

#[tokio::test]
async fn bad_query_parameters_are_named() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let reply = app
        .get("/api/v1/domains?limit=many", &token)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["limit"]);
    let reply = app
        .get("/api/v1/domains?enabled=perhaps", &token)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["enabled"]);
    let reply = app
        .get("/api/v1/accounts?role=superuser", &token)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["role"]);
    let reply = app
        .get("/api/v1/domains?cursor=%%%", &token)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["cursor"]);
}

#[tokio::test]
async fn a_missing_object_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let reply = app
        .get("/api/v1/domains/424242", &token)
        .await
        .expect_problem(404);
    assert_eq!(reply.body["type"], "urn:mxspool:problem:not-found");
    app.get("/api/v1/accounts/424242", &token)
        .await
        .expect_problem(404);
    app.delete("/api/v1/api-keys/424242", &token)
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn a_database_outage_is_a_503_problem_not_a_500() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    // Cut the server off its database: forbid new connections and end the existing ones.
    let name = app.db.name().to_owned();
    app.server_sql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await;
    app.server_sql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await;
    let reply = app.get("/api/v1/domains", &token).await.expect_problem(503);
    assert_eq!(reply.body["type"], "urn:mxspool:problem:unavailable");
    app.request(Method::GET, "/readyz", None, None)
        .await
        .expect_problem(503);
    // And it recovers by itself once the database is back.
    app.server_sql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await;
    app.get("/api/v1/domains", &token).await.expect(200);
}

#[tokio::test]
async fn nul_characters_answer_422_naming_the_field_in_bodies_and_queries() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // PostgreSQL text cannot hold NUL; it must never reach a query (that was a 500).
    let reply = app
        .post(
            "/api/v1/queue/actions",
            &admin,
            json!({"action": "hold", "filter": {"sender": "a\u{0}b@example.org"}}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["filter.sender"]);
    let reply = app
        .post(
            "/api/v1/api-keys",
            &admin,
            json!({"name": "x\u{0}", "scopes": ["read"]}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["name"]);
    let reply = app
        .get("/api/v1/queue?recipient=a%00b%40example.org", &admin)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["recipient"]);
    // A backslash followed by "u0000" is not a NUL.
    app.post(
        "/api/v1/queue/actions",
        &admin,
        json!({"action": "hold", "filter": {"sender": "a\\u0000b@example.org"}}),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn numbers_with_an_integral_value_are_integers_as_json_schema_says() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let reply = app
        .post(
            "/api/v1/accounts",
            &admin,
            json!({"email": "c@tenant.test", "password": "a long enough password",
                   "role": "customer", "max_domains": 7.0}),
        )
        .await
        .expect(201);
    assert_eq!(reply.body["max_domains"], 7);
    let reply = app
        .post(
            "/api/v1/queue/actions",
            &admin,
            json!({"action": "hold", "filter": {"domain_id": 4.5}}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["filter.domain_id"]);
    let reply = app
        .post(
            "/api/v1/queue/actions",
            &admin,
            json!({"action": "hold", "filter": {"domain_id": 1e300}}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["filter.domain_id"]);
}

#[tokio::test]
async fn a_fixed_path_under_an_id_route_answers_405_for_other_methods() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // `/queue/{id}` has GET and DELETE, but `/queue/actions` is its own path with only POST.
    for method in [Method::GET, Method::DELETE] {
        let reply = app
            .request(method.clone(), "/api/v1/queue/actions", Some(&admin), None)
            .await
            .expect_problem(405);
        assert_eq!(reply.header("allow"), "POST", "{method}");
    }
    let reply = app
        .get("/api/v1/queue/abc", &admin)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["id"]);
}
