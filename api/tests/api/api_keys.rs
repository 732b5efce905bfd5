//! `/api-keys`: secrets shown once and stored hashed, scopes, domain restriction, expiry,
//! revocation, and who may manage whose keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use reqwest::Method;
use serde_json::{json, Value};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs a `SELECT count(*) AS n …` against the test's database.
fn count(app: &TestApp, query: &str) -> i64 {
    let mut conn = app.db.connect();
    diesel::sql_query(query)
        .get_result::<Count>(&mut conn)
        .expect("count query")
        .n
}

/// Creates a key as `token`; returns the key's view and its secret.
async fn key(app: &TestApp, token: &str, body: Value) -> (Value, String) {
    let reply = app.create_api_key(token, body).await.expect(201);
    let secret = reply.body["secret"].as_str().expect("secret").to_owned();
    (reply.body["key"].clone(), secret)
}

/// A read-write key without restrictions.
async fn write_key(app: &TestApp, token: &str) -> (Value, String) {
    key(
        app,
        token,
        json!({"name": "script", "scopes": ["read", "write"]}),
    )
    .await
}

fn item_ids(reply: &Reply) -> Vec<i64> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", reply.body))
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn creating_a_key_shows_its_secret_once_and_listings_never_do() {
    let app = TestApp::spawn().await;
    let (customer_id, customer) = app.customer("c@tenant.test", 5, false).await;
    let reply = app
        .create_api_key(
            &customer,
            json!({"name": "deploy script", "scopes": ["read", "write"]}),
        )
        .await
        .expect(201);
    let secret = reply.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("mxs_"), "{secret}");
    assert!(secret.len() >= 40, "{secret}");
    let key = &reply.body["key"];
    assert_eq!(key["account_id"], customer_id);
    assert_eq!(key["name"], "deploy script");
    assert_eq!(key["prefix"], secret[..12]);
    assert_eq!(key["scopes"], json!(["read", "write"]));
    assert_eq!(key["domain_ids"], Value::Null);
    assert_eq!(key["expires_at"], Value::Null);
    assert_eq!(key["last_used_at"], Value::Null);
    assert!(key.get("secret").is_none() && key.get("secret_hash").is_none());

    let listed = app.get("/api/v1/api-keys", &customer).await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["items"][0]["id"], key["id"]);
    assert_eq!(listed.body["items"][0]["prefix"], secret[..12]);
    assert_eq!(listed.body["next_cursor"], Value::Null);
    let text = listed.body.to_string();
    assert!(!text.contains(&secret), "secret leaked in listing: {text}");
    assert!(!text.contains("secret"), "secret field in listing: {text}");
    // Secrets are unique per key.
    let (_, second) = write_key(&app, &customer).await;
    assert_ne!(second, secret);
}

#[tokio::test]
async fn keys_are_stored_hashed() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("c@tenant.test", 5, false).await;
    let (key, secret) = write_key(&app, &customer).await;
    let id = key["id"].as_i64().unwrap();
    assert_eq!(count(&app, "SELECT count(*) AS n FROM api_keys"), 1);
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM api_keys WHERE id = {id} AND length(prefix) = 12")
        ),
        1
    );
    // No column holds the secret, in text or as bytes.
    let leaks = format!(
        "SELECT count(*) AS n FROM api_keys WHERE \
         strpos(name || prefix || encode(secret_hash, 'escape') || encode(secret_hash, 'hex'), \
         '{secret}') > 0 OR position(convert_to('{secret}', 'UTF8') IN secret_hash) > 0"
    );
    assert_eq!(count(&app, &leaks), 0);
    // What is stored is the SHA-256 of the secret.
    let hashed = format!(
        "SELECT count(*) AS n FROM api_keys WHERE secret_hash = sha256(convert_to('{secret}', 'UTF8'))"
    );
    assert_eq!(count(&app, &hashed), 1);
}

#[tokio::test]
async fn a_read_scoped_key_can_read_but_not_write() {
    let app = TestApp::spawn().await;
    let (customer_id, customer) = app.customer("c@tenant.test", 5, false).await;
    let domain = app.domain(&customer, "read.example").await;
    let (key, secret) = key(
        &app,
        &customer,
        json!({"name": "monitoring", "scopes": ["read"]}),
    )
    .await;
    assert_eq!(key["scopes"], json!(["read"]));

    let listed = app.get("/api/v1/domains", &secret).await.expect(200);
    assert_eq!(item_ids(&listed), vec![domain]);
    app.get(&format!("/api/v1/domains/{domain}"), &secret)
        .await
        .expect(200);
    app.get(&format!("/api/v1/accounts/{customer_id}"), &secret)
        .await
        .expect(200);

    let reply = app
        .create_domain(
            &secret,
            json!({"name": "new.example", "target_host": "127.0.0.1"}),
        )
        .await
        .expect_problem(403);
    assert!(
        reply.body["detail"].as_str().unwrap().contains("read"),
        "{}",
        reply.body
    );
    app.patch(
        &format!("/api/v1/domains/{domain}"),
        &secret,
        json!({"enabled": false}),
    )
    .await
    .expect_problem(403);
    app.patch(
        &format!("/api/v1/accounts/{customer_id}"),
        &secret,
        json!({"password": "changed by a read key"}),
    )
    .await
    .expect_problem(403);
    app.delete(&format!("/api/v1/domains/{domain}"), &secret)
        .await
        .expect_problem(403);

    // Nothing was written.
    let domain_now = app
        .get(&format!("/api/v1/domains/{domain}"), &customer)
        .await
        .expect(200);
    assert_eq!(domain_now.body["enabled"], true);
    assert_eq!(
        item_ids(&app.get("/api/v1/domains", &customer).await.expect(200)),
        vec![domain]
    );
    app.token_for("c@tenant.test", PASSWORD).await;
}

#[tokio::test]
async fn a_write_scoped_key_can_do_what_the_account_may() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("c@tenant.test", 5, false).await;
    // `write` implies `read`.
    let (key, secret) = key(
        &app,
        &customer,
        json!({"name": "deploy", "scopes": ["write"]}),
    )
    .await;
    assert_eq!(key["scopes"], json!(["read", "write"]));
    let domain = app.domain(&secret, "written.example").await;
    let changed = app
        .patch(
            &format!("/api/v1/domains/{domain}"),
            &secret,
            json!({"enabled": false}),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["enabled"], false);
    app.delete(&format!("/api/v1/domains/{domain}"), &secret)
        .await
        .expect(204);
    // But never more than the account: a customer's key cannot create customers.
    app.create_account(
        &secret,
        json!({"email": "x@tenant.test", "password": PASSWORD, "role": "customer"}),
    )
    .await
    .expect_problem(403);
}

#[tokio::test]
async fn invalid_key_requests_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("c@tenant.test", 5, false).await;
    let cases = [
        (json!({"name": "k", "scopes": []}), "scopes"),
        (json!({"name": "k", "scopes": ["admin"]}), "scopes[0]"),
        (json!({"name": "", "scopes": ["read"]}), "name"),
        (
            json!({"name": "k", "scopes": ["read"], "domain_ids": []}),
            "domain_ids",
        ),
        (
            json!({"name": "k", "scopes": ["read"], "expires_at": "tomorrow"}),
            "expires_at",
        ),
        (
            json!({"name": "k", "scopes": ["read"], "secret": "mxs_mine"}),
            "secret",
        ),
    ];
    for (body, field) in cases {
        let reply = app
            .create_api_key(&customer, body.clone())
            .await
            .expect_problem(422);
        assert_eq!(
            reply.error_fields(),
            vec![field],
            "for {body}: {}",
            reply.body
        );
    }
    let listed = app.get("/api/v1/api-keys", &customer).await.expect(200);
    assert_eq!(item_ids(&listed), Vec::<i64>::new());
}

#[tokio::test]
async fn a_domain_restricted_key_sees_only_its_domains() {
    let app = TestApp::spawn().await;
    let (customer_id, customer) = app.customer("c@tenant.test", 5, false).await;
    let one = app.domain(&customer, "one.example").await;
    let two = app.domain(&customer, "two.example").await;
    let three = app.domain(&customer, "three.example").await;
    let (key, secret) = key(
        &app,
        &customer,
        json!({"name": "two domains", "scopes": ["read", "write"], "domain_ids": [two, one, two]}),
    )
    .await;
    assert_eq!(key["domain_ids"], json!([one, two]));

    let listed = app.get("/api/v1/domains", &secret).await.expect(200);
    assert_eq!(item_ids(&listed), vec![one, two]);
    app.get(&format!("/api/v1/domains/{one}"), &secret)
        .await
        .expect(200);
    app.get(&format!("/api/v1/domains/{three}"), &secret)
        .await
        .expect_problem(404);
    app.patch(
        &format!("/api/v1/domains/{three}"),
        &secret,
        json!({"enabled": false}),
    )
    .await
    .expect_problem(404);
    app.patch(
        &format!("/api/v1/domains/{one}"),
        &secret,
        json!({"enabled": false}),
    )
    .await
    .expect(200);

    app.create_domain(
        &secret,
        json!({"name": "four.example", "target_host": "127.0.0.1"}),
    )
    .await
    .expect_problem(403);
    app.get("/api/v1/accounts", &secret)
        .await
        .expect_problem(403);
    // Its own account is still reachable.
    app.get("/api/v1/me", &secret).await.expect(200);
    app.get(&format!("/api/v1/accounts/{customer_id}"), &secret)
        .await
        .expect(200);

    let keys = app.get("/api/v1/api-keys", &customer).await.expect(200);
    assert_eq!(keys.body["items"][0]["domain_ids"], json!([one, two]));
}

#[tokio::test]
async fn a_restricted_key_whose_domains_are_gone_reaches_nothing() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("c@tenant.test", 5, false).await;
    let one = app.domain(&customer, "one.example").await;
    let other = app.domain(&customer, "other.example").await;
    let (_, secret) = key(
        &app,
        &customer,
        json!({"name": "k", "scopes": ["read"], "domain_ids": [one]}),
    )
    .await;
    app.delete(&format!("/api/v1/domains/{one}"), &customer)
        .await
        .expect(204);

    let listed = app.get("/api/v1/domains", &secret).await.expect(200);
    assert_eq!(item_ids(&listed), Vec::<i64>::new());
    app.get(&format!("/api/v1/domains/{other}"), &secret)
        .await
        .expect_problem(404);
    let keys = app.get("/api/v1/api-keys", &customer).await.expect(200);
    assert_eq!(keys.body["items"][0]["domain_ids"], json!([]));
}

#[tokio::test]
async fn naming_an_invisible_domain_at_creation_is_refused() {
    let app = TestApp::spawn().await;
    let (_, a) = app.customer("a@tenant-a.test", 5, false).await;
    let (_, b) = app.customer("b@tenant-b.test", 5, false).await;
    let mine = app.domain(&a, "mine.example").await;
    let theirs = app.domain(&b, "theirs.example").await;

    let reply = app
        .create_api_key(
            &a,
            json!({"name": "k", "scopes": ["read"], "domain_ids": [theirs]}),
        )
        .await
        .expect_problem(404);
    assert!(reply.body["detail"]
        .as_str()
        .is_some_and(|d| d.starts_with("domain_ids[0]: ")));
    let reply = app
        .create_api_key(
            &a,
            json!({"name": "k", "scopes": ["read"], "domain_ids": [mine, theirs]}),
        )
        .await
        .expect_problem(404);
    assert!(reply.body["detail"]
        .as_str()
        .is_some_and(|d| d.starts_with("domain_ids[1]: ")));
    let reply = app
        .create_api_key(
            &a,
            json!({"name": "k", "scopes": ["read"], "domain_ids": [987654]}),
        )
        .await
        .expect_problem(404);
    assert!(reply.body["detail"]
        .as_str()
        .is_some_and(|d| d.starts_with("domain_ids[0]: ")));
    assert_eq!(count(&app, "SELECT count(*) AS n FROM api_keys"), 0);
}

#[tokio::test]
async fn a_key_cannot_expire_in_the_past() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("c@tenant.test", 5, false).await;
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let reply = app
        .create_api_key(
            &customer,
            json!({"name": "k", "scopes": ["read"], "expires_at": past}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["expires_at"]);

    let future = chrono::Utc::now() + chrono::Duration::days(30);
    let (key, secret) = key(
        &app,
        &customer,
        json!({"name": "k", "scopes": ["read"], "expires_at": future.to_rfc3339()}),
    )
    .await;
    let expires: chrono::DateTime<chrono::Utc> =
        key["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        (expires - future).num_seconds().abs() < 1,
        "{expires} vs {future}"
    );
    app.get("/api/v1/me", &secret).await.expect(200);
}

#[tokio::test]
async fn a_key_whose_expiry_passed_is_refused_with_401() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("c@tenant.test", 5, false).await;
    let future = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let (_, secret) = key(
        &app,
        &customer,
        json!({"name": "k", "scopes": ["read"], "expires_at": future}),
    )
    .await;
    app.get("/api/v1/me", &secret).await.expect(200);

    app.sql("UPDATE api_keys SET expires_at = now() - interval '1 minute'")
        .await;
    let reply = app.get("/api/v1/me", &secret).await.expect_problem(401);
    assert!(
        reply.header("www-authenticate").starts_with("Bearer"),
        "{:?}",
        reply.headers
    );
    assert!(
        reply.body["detail"].as_str().unwrap().contains("expired"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn last_used_at_is_recorded_when_a_key_is_used() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("c@tenant.test", 5, false).await;
    let (key, secret) = write_key(&app, &customer).await;
    let (unused, _) = write_key(&app, &customer).await;
    let before = chrono::Utc::now();
    app.get("/api/v1/domains", &secret).await.expect(200);

    let listed = app.get("/api/v1/api-keys", &customer).await.expect(200);
    let items = listed.body["items"].as_array().unwrap();
    let used = items.iter().find(|k| k["id"] == key["id"]).unwrap();
    let at: chrono::DateTime<chrono::Utc> = used["last_used_at"]
        .as_str()
        .unwrap_or_else(|| panic!("last_used_at not set: {used}"))
        .parse()
        .unwrap();
    assert!(
        at >= before - chrono::Duration::seconds(1),
        "{at} < {before}"
    );
    assert!(at <= chrono::Utc::now());
    let idle = items.iter().find(|k| k["id"] == unused["id"]).unwrap();
    assert_eq!(idle["last_used_at"], Value::Null);
}

#[tokio::test]
async fn an_api_key_is_accepted_wherever_a_jwt_is() {
    let app = TestApp::spawn().await;
    let (customer_id, customer) = app.customer("c@tenant.test", 5, false).await;
    let (_, secret) = key(&app, &customer, json!({"name": "k", "scopes": ["read"]})).await;
    let with_jwt = app.get("/api/v1/me", &customer).await.expect(200);
    let with_key = app.get("/api/v1/me", &secret).await.expect(200);
    assert_eq!(with_key.body, with_jwt.body);
    assert_eq!(with_key.id(), customer_id);
    let accounts = app.get("/api/v1/accounts", &secret).await.expect(200);
    assert_eq!(accounts.body["items"][0]["id"], customer_id);

    // A made-up key with the right prefix is not.
    let reply = app
        .get("/api/v1/me", "mxs_0000000000000000000000000000000000000000")
        .await
        .expect_problem(401);
    assert!(reply.header("www-authenticate").starts_with("Bearer"));
}

#[tokio::test]
async fn api_keys_cannot_manage_api_keys() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("c@tenant.test", 5, false).await;
    let (key, secret) = write_key(&app, &customer).await;
    let id = key["id"].as_i64().unwrap();
    let reply = app
        .get("/api/v1/api-keys", &secret)
        .await
        .expect_problem(403);
    assert!(
        reply.body["detail"].as_str().unwrap().contains("log in"),
        "{}",
        reply.body
    );
    app.create_api_key(
        &secret,
        json!({"name": "successor", "scopes": ["read", "write"]}),
    )
    .await
    .expect_problem(403);
    app.delete(&format!("/api/v1/api-keys/{id}"), &secret)
        .await
        .expect_problem(403);

    let listed = app.get("/api/v1/api-keys", &customer).await.expect(200);
    assert_eq!(item_ids(&listed), vec![id]);
    app.get("/api/v1/me", &secret).await.expect(200);
}

#[tokio::test]
async fn a_revoked_key_answers_401_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("c@tenant.test", 5, false).await;
    let (key, secret) = write_key(&app, &customer).await;
    let (kept, kept_secret) = write_key(&app, &customer).await;
    let id = key["id"].as_i64().unwrap();
    app.get("/api/v1/me", &secret).await.expect(200);

    app.delete(&format!("/api/v1/api-keys/{id}"), &customer)
        .await
        .expect(204);
    let reply = app.get("/api/v1/me", &secret).await.expect_problem(401);
    assert!(
        reply.header("www-authenticate").starts_with("Bearer"),
        "{:?}",
        reply.headers
    );
    // Without a token at all the challenge is the same kind.
    let anonymous = app
        .request(Method::GET, "/api/v1/me", None, None)
        .await
        .expect_problem(401);
    assert!(anonymous.header("www-authenticate").starts_with("Bearer"));

    let listed = app.get("/api/v1/api-keys", &customer).await.expect(200);
    assert_eq!(item_ids(&listed), vec![kept["id"].as_i64().unwrap()]);
    app.get("/api/v1/me", &kept_secret).await.expect(200);
    app.delete(&format!("/api/v1/api-keys/{id}"), &customer)
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn one_customer_cannot_see_or_delete_anothers_key() {
    let app = TestApp::spawn().await;
    let (_, a) = app.customer("a@tenant-a.test", 5, false).await;
    let (_, b) = app.customer("b@tenant-b.test", 5, false).await;
    let (a_key, a_secret) = write_key(&app, &a).await;
    let (b_key, _) = write_key(&app, &b).await;
    let a_id = a_key["id"].as_i64().unwrap();

    app.delete(&format!("/api/v1/api-keys/{a_id}"), &b)
        .await
        .expect_problem(404);
    app.get("/api/v1/me", &a_secret).await.expect(200);
    let seen_by_b = app.get("/api/v1/api-keys", &b).await.expect(200);
    assert_eq!(item_ids(&seen_by_b), vec![b_key["id"].as_i64().unwrap()]);
    let seen_by_a = app.get("/api/v1/api-keys", &a).await.expect(200);
    assert_eq!(item_ids(&seen_by_a), vec![a_id]);
}

#[tokio::test]
async fn admin_lists_and_revokes_everyones_keys() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (a_account, a) = app.customer("a@tenant-a.test", 5, false).await;
    let (b_account, b) = app.customer("b@tenant-b.test", 5, false).await;
    let (a_key, a_secret) = write_key(&app, &a).await;
    let (b_key, _) = write_key(&app, &b).await;
    let (own_key, _) = write_key(&app, &admin).await;

    let listed = app.get("/api/v1/api-keys", &admin).await.expect(200);
    let items = listed.body["items"].as_array().unwrap();
    let owners: Vec<(i64, i64)> = items
        .iter()
        .map(|k| (k["id"].as_i64().unwrap(), k["account_id"].as_i64().unwrap()))
        .collect();
    assert_eq!(owners.len(), 3, "{}", listed.body);
    assert!(owners.contains(&(a_key["id"].as_i64().unwrap(), a_account)));
    assert!(owners.contains(&(b_key["id"].as_i64().unwrap(), b_account)));
    assert!(owners
        .iter()
        .any(|(id, _)| *id == own_key["id"].as_i64().unwrap()));
    assert!(!listed.body.to_string().contains(&a_secret));

    app.delete(&format!("/api/v1/api-keys/{}", a_key["id"]), &admin)
        .await
        .expect(204);
    app.get("/api/v1/me", &a_secret).await.expect_problem(401);
}

#[tokio::test]
async fn key_listing_pages_with_limit_and_next_cursor() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("c@tenant.test", 5, false).await;
    let mut expected = Vec::new();
    for _ in 0..3 {
        expected.push(write_key(&app, &customer).await.0["id"].as_i64().unwrap());
    }
    let first = app
        .get("/api/v1/api-keys?limit=2", &customer)
        .await
        .expect(200);
    assert_eq!(item_ids(&first), expected[..2]);
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    let second = app
        .get(
            &format!("/api/v1/api-keys?limit=2&cursor={cursor}"),
            &customer,
        )
        .await
        .expect(200);
    assert_eq!(item_ids(&second), expected[2..]);
    assert_eq!(second.body["next_cursor"], Value::Null);
}

#[tokio::test]
async fn deleting_an_account_revokes_its_keys() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (id, customer) = app.customer("c@tenant.test", 5, false).await;
    let (_, secret) = write_key(&app, &customer).await;
    app.get("/api/v1/me", &secret).await.expect(200);
    app.delete(&format!("/api/v1/accounts/{id}"), &admin)
        .await
        .expect(204);
    app.get("/api/v1/me", &secret).await.expect_problem(401);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM api_keys"), 0);
}
