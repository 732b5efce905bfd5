use crate::helpers::*;
use reqwest::Method;

#[tokio::test]
async fn healthz_answers_without_credentials() {
    let app = TestApp::spawn().await;
    let reply = app
        .request(Method::GET, "/healthz", None, None)
        .await
        .expect(200);
    assert_eq!(reply.body["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_a_migrated_database() {
    let app = TestApp::spawn().await;
    let reply = app
        .request(Method::GET, "/readyz", None, None)
        .await
        .expect(200);
    assert_eq!(reply.body["status"], "ok");
}

#[tokio::test]
async fn readyz_answers_503_when_a_migration_is_missing() {
    let app = TestApp::spawn().await;
    app.sql("DELETE FROM __diesel_schema_migrations WHERE version = '20261128000002'")
        .await;
    let reply = app
        .request(Method::GET, "/readyz", None, None)
        .await
        .expect_problem(503);
    assert!(reply.body["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("migrat"));
}
