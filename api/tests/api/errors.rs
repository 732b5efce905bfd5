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
