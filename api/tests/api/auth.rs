#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Value};

/// An access token signed with the test secret, with claims adjusted by the caller.
fn token_with(alg: Algorithm, adjust: impl FnOnce(&mut Value)) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "sub": "1", "iss": "mxspool", "aud": "mxspool-api",
        "iat": now, "nbf": now, "exp": now + 600, "jti": "test"
    });
    adjust(&mut claims);
    encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

async fn admin_id(app: &TestApp) -> i64 {
    let token = app.admin_token().await;
    app.get("/api/v1/me", &token).await.expect(200).id()
}

#[tokio::test]
async fn login_returns_a_bearer_token_that_opens_me() {
    let app = TestApp::spawn().await;
    let reply = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect(200);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    assert!(reply.body["refresh_token"]
        .as_str()
        .unwrap()
        .starts_with("mxr_"));
    let token = reply.body["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/me", token).await.expect(200);
    assert_eq!(me.body["email"], ADMIN_EMAIL);
    assert_eq!(me.body["role"], "admin");
    assert!(me.body.get("password").is_none() && me.body.get("password_hash").is_none());
}

#[tokio::test]
async fn login_is_case_insensitive_in_the_email_only() {
    let app = TestApp::spawn().await;
    app.login(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD)
        .await
        .expect(200);
    app.login(ADMIN_EMAIL, &ADMIN_PASSWORD.to_uppercase())
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn wrong_password_and_unknown_account_get_the_same_401() {
    let app = TestApp::spawn().await;
    let wrong = app
        .login(ADMIN_EMAIL, "not the password")
        .await
        .expect_problem(401);
    let unknown = app
        .login("nobody@mxspool.test", "not the password")
        .await
        .expect_problem(401);
    assert_eq!(wrong.body, unknown.body);
}

#[tokio::test]
async fn login_is_rate_limited_per_account_with_retry_after() {
    let app = TestApp::spawn().await;
    let mut limited = None;
    for _ in 0..15 {
        let reply = app.login(ADMIN_EMAIL, "wrong password!").await;
        if reply.status == 429 {
            limited = Some(reply);
            break;
        }
        assert_eq!(reply.status, 401);
    }
    let reply = limited
        .expect("no 429 after 15 attempts")
        .expect_problem(429);
    let retry_after: u64 = reply
        .header("retry-after")
        .parse()
        .expect("numeric Retry-After");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    // The limit also holds for the right password: the account is throttled, not the guess.
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect_problem(429);
}

#[tokio::test]
async fn login_is_rate_limited_per_client_address_across_accounts() {
    let app = TestApp::spawn().await;
    let started = std::time::Instant::now();
    let mut statuses = Vec::new();
    for i in 0..60 {
        let reply = app
            .login(&format!("user{i}@mxspool.test"), "wrong password!")
            .await;
        statuses.push(reply.status.as_u16());
        if reply.status == 429 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "statuses: {statuses:?}");
    // 30 attempts a minute from one address: a burst of 30, then one more every 2 s. On a
    // loaded machine the burst itself can take seconds, which earns the replenished attempts.
    let replenished = started.elapsed().as_secs() as usize / 2 + 1;
    let refused_at = statuses.len();
    assert!(
        (31..=31 + replenished).contains(&refused_at),
        "attempt {refused_at} was the first refused, after {:?}: {statuses:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let app = TestApp::spawn().await;
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect(200);
    let r1 = first.body["refresh_token"].as_str().unwrap();
    let second = app.refresh(r1).await.expect(200);
    let r2 = second.body["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    app.get("/api/v1/me", second.body["access_token"].as_str().unwrap())
        .await
        .expect(200);
    let third = app.refresh(r2).await.expect(200);
    assert_ne!(third.body["refresh_token"], second.body["refresh_token"]);
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect(200);
    let stolen = login.body["refresh_token"].as_str().unwrap().to_owned();
    let rotated = app.refresh(&stolen).await.expect(200);
    let current = rotated.body["refresh_token"].as_str().unwrap().to_owned();

    let replay = app.refresh(&stolen).await.expect_problem(401);
    assert!(replay.body["detail"]
        .as_str()
        .unwrap()
        .contains("already used"));
    // The legitimate holder's newer token died with the family.
    app.refresh(&current).await.expect_problem(401);

    // Another login is a new family and unaffected.
    let other = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect(200);
    app.refresh(other.body["refresh_token"].as_str().unwrap())
        .await
        .expect(200);
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = TestApp::spawn().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect(200);
    let refresh = login.body["refresh_token"].as_str().unwrap();
    app.logout(refresh).await.expect(204);
    app.refresh(refresh).await.expect_problem(401);
    // Logging out twice is harmless.
    app.logout(refresh).await.expect(204);
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let app = TestApp::spawn().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.expect(200);
    app.sql("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
        .await;
    let reply = app
        .refresh(login.body["refresh_token"].as_str().unwrap())
        .await
        .expect_problem(401);
    assert!(reply.body["detail"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn a_garbage_refresh_token_is_refused() {
    let app = TestApp::spawn().await;
    app.refresh("mxr_not-a-token").await.expect_problem(401);
    let empty = app.refresh("").await.expect_problem(422);
    assert_eq!(empty.error_fields(), vec!["refresh_token"]);
}

#[tokio::test]
async fn a_request_without_credentials_gets_401_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    let reply = app
        .request(Method::GET, "/api/v1/domains", None, None)
        .await
        .expect_problem(401);
    assert_eq!(reply.header("www-authenticate"), "Bearer realm=\"mxspool\"");
    let basic = app
        .client
        .get(format!("{}/api/v1/domains", app.address))
        .basic_auth("admin", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    assert!(basic.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
}

#[tokio::test]
async fn a_token_signed_by_the_server_key_is_accepted() {
    let app = TestApp::spawn().await;
    let id = admin_id(&app).await;
    let token = token_with(Algorithm::HS256, |c| c["sub"] = json!(id.to_string()));
    app.get("/api/v1/me", &token).await.expect(200);
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let app = TestApp::spawn().await;
    let id = admin_id(&app).await;
    let now = chrono::Utc::now().timestamp();
    let token = token_with(Algorithm::HS256, |c| {
        c["sub"] = json!(id.to_string());
        c["iat"] = json!(now - 3600);
        c["nbf"] = json!(now - 3600);
        c["exp"] = json!(now - 60);
    });
    let reply = app.get("/api/v1/me", &token).await.expect_problem(401);
    assert!(reply.header("www-authenticate").contains("invalid_token"));
}

#[tokio::test]
async fn a_token_not_yet_valid_is_refused() {
    let app = TestApp::spawn().await;
    let id = admin_id(&app).await;
    let now = chrono::Utc::now().timestamp();
    let token = token_with(Algorithm::HS256, |c| {
        c["sub"] = json!(id.to_string());
        c["nbf"] = json!(now + 600);
        c["exp"] = json!(now + 1200);
    });
    app.get("/api/v1/me", &token).await.expect_problem(401);
}

#[tokio::test]
async fn tokens_with_another_algorithm_are_refused_even_with_the_right_key() {
    let app = TestApp::spawn().await;
    let id = admin_id(&app).await;
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token = token_with(alg, |c| c["sub"] = json!(id.to_string()));
        app.get("/api/v1/me", &token).await.expect_problem(401);
    }
    // alg "none": header and claims without a signature.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let now = chrono::Utc::now().timestamp();
    let claims = URL_SAFE_NO_PAD.encode(
        json!({"sub": id.to_string(), "iss": "mxspool", "aud": "mxspool-api",
               "iat": now, "nbf": now, "exp": now + 600})
        .to_string(),
    );
    app.get("/api/v1/me", &format!("{header}.{claims}."))
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let app = TestApp::spawn().await;
    let customer_email = "victim@mxspool.test";
    let (customer_id, token) = app.customer(customer_email, 5, false).await;
    let admin = admin_id(&app).await;
    // Swap the subject for the admin's id, keeping the customer's signature.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    assert_eq!(claims["sub"], customer_id.to_string());
    claims["sub"] = json!(admin.to_string());
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    app.get("/api/v1/me", &parts.join("."))
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn tokens_for_another_issuer_or_audience_or_key_are_refused() {
    let app = TestApp::spawn().await;
    let id = admin_id(&app).await;
    let wrong_issuer = token_with(Algorithm::HS256, |c| {
        c["sub"] = json!(id.to_string());
        c["iss"] = json!("someone-else");
    });
    app.get("/api/v1/me", &wrong_issuer)
        .await
        .expect_problem(401);
    let wrong_audience = token_with(Algorithm::HS256, |c| {
        c["sub"] = json!(id.to_string());
        c["aud"] = json!("another-api");
    });
    app.get("/api/v1/me", &wrong_audience)
        .await
        .expect_problem(401);
    let now = chrono::Utc::now().timestamp();
    let wrong_key = encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": id.to_string(), "iss": "mxspool", "aud": "mxspool-api",
                "iat": now, "nbf": now, "exp": now + 600}),
        &EncodingKey::from_secret(b"some other secret, long enough to be plausible"),
    )
    .unwrap();
    app.get("/api/v1/me", &wrong_key).await.expect_problem(401);
    let no_expiry = token_with(Algorithm::HS256, |c| {
        c["sub"] = json!(id.to_string());
        c.as_object_mut().unwrap().remove("exp");
    });
    app.get("/api/v1/me", &no_expiry).await.expect_problem(401);
}

#[tokio::test]
async fn a_token_of_a_deleted_account_stops_working() {
    let app = TestApp::spawn().await;
    let (id, token) = app.customer("gone@mxspool.test", 1, false).await;
    app.get("/api/v1/me", &token).await.expect(200);
    let admin = app.admin_token().await;
    app.delete(&format!("/api/v1/accounts/{id}"), &admin)
        .await
        .expect(204);
    app.get("/api/v1/me", &token).await.expect_problem(401);
}

#[tokio::test]
async fn a_password_change_ends_the_accounts_sessions() {
    let app = TestApp::spawn().await;
    let (id, _) = app.customer("moving@mxspool.test", 1, false).await;
    let old_session = app.login("moving@mxspool.test", PASSWORD).await.expect(200);
    let token = old_session.body["access_token"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/accounts/{id}"),
        token,
        json!({"password": "a brand new long password"}),
    )
    .await
    .expect(200);
    app.refresh(old_session.body["refresh_token"].as_str().unwrap())
        .await
        .expect_problem(401);
    let new_session = app
        .login("moving@mxspool.test", "a brand new long password")
        .await
        .expect(200);
    app.refresh(new_session.body["refresh_token"].as_str().unwrap())
        .await
        .expect(200);
}
