//! `/api/v1/domains/{id}/recipients`: the recipient lists of `listed` domains.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};

fn path(id: i64) -> String {
    format!("/api/v1/domains/{id}/recipients")
}

async fn put_list(app: &TestApp, token: &str, id: i64, list: Value) -> Reply {
    app.request(
        Method::PUT,
        &path(id),
        Some(token),
        Some(json!({ "recipients": list })),
    )
    .await
}

/// Addresses of a list reply.
fn addresses(reply: &Reply) -> Vec<String> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", reply.body))
        .iter()
        .map(|r| r["address"].as_str().unwrap().to_owned())
        .collect()
}

/// Every address of the domain's list, page after page.
async fn all_addresses(app: &TestApp, token: &str, id: i64, query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}?limit=2{query}", path(id));
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let reply = app.get(&url, token).await.expect(200);
        let page = addresses(&reply);
        assert!(page.len() <= 2);
        out.extend(page);
        match reply.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

async fn stored_local_parts(app: &TestApp, id: i64) -> Vec<String> {
    use diesel::prelude::*;
    use mxspool_store::schema::domain_recipients;
    let mut conn = app.db.connect();
    domain_recipients::table
        .filter(domain_recipients::domain_id.eq(id))
        .select(domain_recipients::local_part)
        .order(domain_recipients::local_part)
        .load(&mut conn)
        .unwrap()
}

#[tokio::test]
async fn a_put_list_is_paged_in_order_and_filtered_by_prefix() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("c@example.net", 5, false).await;
    let id = app.domain(&token, "customer.example").await;
    put_list(
        &app,
        &token,
        id,
        json!([
            "sales@customer.example",
            "alice",
            "sales.eu@customer.example",
            "bob@Customer.Example",
            "zed"
        ]),
    )
    .await
    .expect(200);

    let all = all_addresses(&app, &token, id, "").await;
    assert_eq!(
        all,
        vec![
            "alice@customer.example",
            "bob@customer.example",
            "sales@customer.example",
            "sales.eu@customer.example",
            "zed@customer.example",
        ]
    );
    let sales = all_addresses(&app, &token, id, "&prefix=SALES").await;
    assert_eq!(
        sales,
        vec!["sales@customer.example", "sales.eu@customer.example"]
    );
    let reply = app
        .get(&format!("{}?prefix=nobody", path(id)), &token)
        .await
        .expect(200);
    assert_eq!(reply.body, json!({"items": [], "next_cursor": null}));

    let item = &app.get(&path(id), &token).await.expect(200).body["items"][0];
    assert_eq!(item["local_part"], "alice");
    assert!(item["created_at"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<chrono::Utc>>()
        .is_ok());
}

#[tokio::test]
async fn a_put_answers_what_changed_and_the_same_put_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("c@example.net", 5, false).await;
    let id = app.domain(&token, "customer.example").await;
    let first = put_list(
        &app,
        &token,
        id,
        json!(["a", "b", "c", "c@customer.example"]),
    )
    .await
    .expect(200);
    assert_eq!(
        first.body,
        json!({"added": 3, "removed": 0, "unchanged": 0, "total": 3})
    );
    let again = put_list(&app, &token, id, json!(["a", "b", "c"]))
        .await
        .expect(200);
    assert_eq!(
        again.body,
        json!({"added": 0, "removed": 0, "unchanged": 3, "total": 3})
    );
    let changed = put_list(&app, &token, id, json!(["b", "c", "d", "e"]))
        .await
        .expect(200);
    assert_eq!(
        changed.body,
        json!({"added": 2, "removed": 1, "unchanged": 2, "total": 4})
    );
    assert_eq!(stored_local_parts(&app, id).await, vec!["b", "c", "d", "e"]);
    let emptied = put_list(&app, &token, id, json!([])).await.expect(200);
    assert_eq!(
        emptied.body,
        json!({"added": 0, "removed": 4, "unchanged": 0, "total": 0})
    );
    assert!(stored_local_parts(&app, id).await.is_empty());
}

#[tokio::test]
async fn a_hundred_thousand_addresses_are_replaced_in_one_request() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("c@example.net", 5, false).await;
    let id = app.domain(&token, "customer.example").await;
    let list: Vec<String> = (0..100_000)
        .map(|i| format!("user{i:06}@customer.example"))
        .collect();
    let reply = put_list(&app, &token, id, json!(list)).await.expect(200);
    assert_eq!(
        reply.body,
        json!({"added": 100_000, "removed": 0, "unchanged": 0, "total": 100_000})
    );
    // Half of them replaced by new ones.
    let next: Vec<String> = (50_000..150_000)
        .map(|i| format!("USER{i:06}@customer.example"))
        .collect();
    let reply = put_list(&app, &token, id, json!(next)).await.expect(200);
    assert_eq!(
        reply.body,
        json!({"added": 50_000, "removed": 50_000, "unchanged": 50_000, "total": 100_000})
    );
    let stored = stored_local_parts(&app, id).await;
    assert_eq!(stored.len(), 100_000);
    assert_eq!(stored.first().map(String::as_str), Some("user050000"));
    assert_eq!(stored.last().map(String::as_str), Some("user149999"));

    let too_many: Vec<String> = (0..100_001).map(|i| format!("u{i}")).collect();
    let reply = put_list(&app, &token, id, json!(too_many))
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["recipients"]);
}

#[tokio::test]
async fn invalid_addresses_are_refused_by_their_position() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("c@example.net", 5, false).await;
    let id = app.domain(&token, "customer.example").await;
    put_list(&app, &token, id, json!(["keep"]))
        .await
        .expect(200);
    let long_local = "a".repeat(65);
    let long_address = format!("{}@customer.example", "a.".repeat(120));
    let reply = put_list(
        &app,
        &token,
        id,
        json!([
            "ok@customer.example",
            "bob@other.example",
            "a b@customer.example",
            "fine",
            "x..y",
            long_local,
            long_address,
            "@customer.example",
            "\"quoted\"@customer.example",
            "relay%other.example@customer.example",
            "bob@",
        ]),
    )
    .await
    .expect_problem(422);
    assert_eq!(
        reply.error_fields(),
        vec![
            "recipients[1]",
            "recipients[2]",
            "recipients[4]",
            "recipients[5]",
            "recipients[6]",
            "recipients[7]",
            "recipients[8]",
            "recipients[9]",
            "recipients[10]",
        ]
    );
    let text = reply.body.to_string();
    assert!(text.contains("other.example"), "{text}");
    // Nothing was changed by the refused request.
    assert_eq!(stored_local_parts(&app, id).await, vec!["keep"]);

    let reply = app
        .post(
            &path(id),
            &token,
            json!({"recipients": ["good", "bad@other.example"]}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["recipients[1]"]);
    let reply = app
        .post(&path(id), &token, json!({"recipients": "bob"}))
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["recipients"]);
}

#[tokio::test]
async fn local_parts_are_compared_without_regard_to_case() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("c@example.net", 5, false).await;
    let id = app.domain(&token, "customer.example").await;
    let reply = app
        .post(
            &path(id),
            &token,
            json!({"recipients": ["Bob@customer.example", "BOB", "Ærlig@CUSTOMER.example"]}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body, json!({"added": 2, "unchanged": 0}));
    assert_eq!(stored_local_parts(&app, id).await, vec!["bob", "ærlig"]);
    let reply = app
        .post(&path(id), &token, json!({"recipients": ["bOb", "new"]}))
        .await
        .expect(200);
    assert_eq!(reply.body, json!({"added": 1, "unchanged": 1}));
    let reply = put_list(
        &app,
        &token,
        id,
        json!(["BOB@customer.example", "ÆRLIG", "new"]),
    )
    .await
    .expect(200);
    assert_eq!(reply.body["unchanged"], 3);

    app.delete(&format!("{}/BoB@Customer.Example", path(id)), &token)
        .await
        .expect(204);
    app.delete(&format!("{}/new%40customer.example", path(id)), &token)
        .await
        .expect(204);
    assert_eq!(stored_local_parts(&app, id).await, vec!["ærlig"]);
    let reply = app
        .delete(&format!("{}/bob", path(id)), &token)
        .await
        .expect_problem(404);
    assert!(reply.body["detail"]
        .as_str()
        .unwrap()
        .contains("bob@customer.example"));
    let reply = app
        .delete(&format!("{}/bob@other.example", path(id)), &token)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["address"]);
}

#[tokio::test]
async fn another_tenants_list_is_not_found() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.customer("owner@example.net", 5, true).await;
    let (_, other) = app.customer("other@example.net", 5, false).await;
    let id = app.domain(&owner, "customer.example").await;
    let theirs = app.domain(&other, "other.example").await;
    put_list(&app, &owner, id, json!(["bob"])).await.expect(200);

    app.get(&path(id), &other).await.expect_problem(404);
    put_list(&app, &other, id, json!([]))
        .await
        .expect_problem(404);
    app.post(&path(id), &other, json!({"recipients": ["eve"]}))
        .await
        .expect_problem(404);
    app.delete(&format!("{}/bob", path(id)), &other)
        .await
        .expect_problem(404);
    assert_eq!(stored_local_parts(&app, id).await, vec!["bob"]);

    // A domain administrator manages the lists of the domains it was given, and only those.
    let (admin_id, admin_token) = app.domain_admin(&owner, "da@example.net").await;
    app.get(&path(id), &admin_token).await.expect_problem(404);
    app.put(&format!("/api/v1/domains/{id}/admins/{admin_id}"), &owner)
        .await
        .expect(204);
    let reply = app.get(&path(id), &admin_token).await.expect(200);
    assert_eq!(addresses(&reply), vec!["bob@customer.example"]);
    app.post(&path(id), &admin_token, json!({"recipients": ["carol"]}))
        .await
        .expect(200);
    app.get(&path(theirs), &admin_token)
        .await
        .expect_problem(404);

    // The operator sees every list; a missing domain is 404 too.
    let admin = app.admin_token().await;
    let reply = app.get(&path(id), &admin).await.expect(200);
    assert_eq!(addresses(&reply).len(), 2);
    app.get(&path(999_999), &admin).await.expect_problem(404);
    app.get("/api/v1/domains/abc/recipients", &admin)
        .await
        .expect_problem(422);
}

#[tokio::test]
async fn bad_paging_parameters_name_the_parameter() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("c@example.net", 5, false).await;
    let id = app.domain(&token, "customer.example").await;
    let cases: Vec<(String, &str)> = vec![
        ("limit=0".to_owned(), "limit"),
        ("limit=501".to_owned(), "limit"),
        ("cursor=garbage".to_owned(), "cursor"),
        (format!("prefix={}", "a".repeat(65)), "prefix"),
        ("colour=red".to_owned(), "colour"),
    ];
    for (query, field) in cases {
        let reply = app
            .get(&format!("{}?{query}", path(id)), &token)
            .await
            .expect_problem(422);
        assert_eq!(reply.error_fields(), vec![field.to_owned()], "{query}");
    }
}
