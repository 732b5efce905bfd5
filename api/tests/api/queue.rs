//! `/api/v1/queue`, `/domains/{id}/flush` and `/domains/{id}/stats`: listing with filters and
//! pagination, inspection, per-message and bulk commands, and who may see which mail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use mxspool_store::queue::{enqueue_batch, IncomingMessage, IncomingRecipient};
use mxspool_store::DomainId;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

// ---- set-up helpers ----

/// Commits one message through the store's intake path (as the relay does); returns its id.
pub fn enqueue(
    app: &TestApp,
    sender: &str,
    subject: &str,
    recipients: &[(Option<i64>, &str)],
) -> i64 {
    let to: Vec<&str> = recipients.iter().map(|(_, r)| *r).collect();
    let n = NEXT_MESSAGE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let message_id = format!("<{n}.test@sender.example>");
    let body = format!(
        "Received: from client.example (client.example [198.51.100.7])\r\n\
         \tby backup-mx.mxspool.test with ESMTPS id 1\r\n\
         From: Sender <{sender}>\r\n\
         To: {}\r\n\
         Subject: {subject}\r\n\
         Message-ID: {message_id}\r\n\
         Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n\
         \r\n\
         Hello.\r\nSubject: this line is body, not header\r\n",
        to.join(", ")
    );
    let message = IncomingMessage {
        sender: sender.to_owned(),
        client_ip: "198.51.100.7".to_owned(),
        helo: "client.example".to_owned(),
        tls: true,
        subject: Some(subject.to_owned()),
        message_id_header: Some(message_id),
        body: body.into_bytes(),
        recipients: recipients
            .iter()
            .map(|(domain, address)| IncomingRecipient {
                domain_id: domain.map(DomainId),
                address: (*address).to_owned(),
                lifetime: Duration::from_secs(5 * 24 * 3600),
            })
            .collect(),
    };
    let mut conn = app.db.connect();
    enqueue_batch(&mut conn, &[message]).expect("enqueue")[0].0
}

static NEXT_MESSAGE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    b: bool,
}

#[derive(QueryableByName, Debug)]
struct DeliveryRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    recipient: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Bool)]
    due: bool,
}

/// A number from SQL whose single column is named `n`.
pub fn number(app: &TestApp, query: &str) -> i64 {
    let mut conn = app.db.connect();
    diesel::sql_query(query)
        .get_result::<N>(&mut conn)
        .expect("count query")
        .n
}

/// A boolean from SQL whose single column is named `b`.
pub fn flag(app: &TestApp, query: &str) -> bool {
    let mut conn = app.db.connect();
    diesel::sql_query(query)
        .get_result::<Flag>(&mut conn)
        .expect("flag query")
        .b
}

/// The message's deliveries: id, recipient, state, and whether it is due now.
fn deliveries(app: &TestApp, message: i64) -> Vec<DeliveryRow> {
    let mut conn = app.db.connect();
    diesel::sql_query(format!(
        "SELECT id, recipient, state, next_attempt_at <= now() AS due \
         FROM deliveries WHERE message_id = {message} ORDER BY id"
    ))
    .load(&mut conn)
    .expect("deliveries")
}

fn state_of(app: &TestApp, message: i64, recipient: &str) -> (String, bool) {
    deliveries(app, message)
        .into_iter()
        .find(|d| d.recipient == recipient)
        .map(|d| (d.state, d.due))
        .unwrap_or_else(|| panic!("no delivery for {recipient}"))
}

/// Two customers: `one` owns one.example and two.example, `other` owns other.example.
pub struct Tenants {
    pub one: String,
    pub d1: i64,
    pub d2: i64,
    pub other: String,
    pub d3: i64,
}

pub async fn tenants(app: &TestApp) -> Tenants {
    let (_, one) = app.customer("one@example.net", 5, true).await;
    let (_, other) = app.customer("other@example.net", 5, true).await;
    let d1 = app.domain(&one, "one.example").await;
    let d2 = app.domain(&one, "two.example").await;
    let d3 = app.domain(&other, "other.example").await;
    Tenants {
        one,
        d1,
        d2,
        other,
        d3,
    }
}

/// Recipient addresses of a list reply, in order.
fn recipients(reply: &Reply) -> Vec<String> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", reply.body))
        .iter()
        .map(|i| i["recipient"].as_str().unwrap().to_owned())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Every item of a listing, following `next_cursor` with pages of `limit`.
async fn all_pages(app: &TestApp, token: &str, query: &str, limit: usize) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let sep = if query.is_empty() { "" } else { "&" };
        let mut path = format!("/api/v1/queue?{query}{sep}limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let reply = app.get(&path, token).await.expect(200);
        let page = reply.body["items"].as_array().unwrap().clone();
        assert!(page.len() <= limit);
        items.extend(page);
        pages += 1;
        assert!(pages <= 1000, "pagination does not end");
        match reply.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

fn assert_invalid(reply: Reply, field: &str, what: &str) {
    let reply = reply.expect_problem(422);
    assert_eq!(
        reply.error_fields(),
        vec![field.to_owned()],
        "{what}: {}",
        reply.body
    );
}

// ---- listing ----

#[tokio::test]
async fn the_queue_lists_one_item_per_recipient_with_its_message() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let admin = app.admin_token().await;
    let m = enqueue(
        &app,
        "bob@sender.example",
        "Quarterly figures",
        &[
            (Some(t.d1), "alice@one.example"),
            (Some(t.d1), "carol@one.example"),
        ],
    );
    let reply = app.get("/api/v1/queue", &admin).await.expect(200);
    let items = reply.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", reply.body);
    assert_eq!(reply.body["next_cursor"], Value::Null);
    let first = &items[0];
    assert_eq!(first["message_id"], m);
    assert_eq!(first["domain_id"], t.d1);
    assert_eq!(first["domain"], "one.example");
    assert_eq!(first["recipient"], "alice@one.example");
    assert_eq!(first["state"], "queued");
    assert_eq!(first["attempts"], 0);
    assert_eq!(first["sender"], "bob@sender.example");
    assert_eq!(first["subject"], "Quarterly figures");
    assert!(first["size"].as_i64().unwrap() > 100);
    assert_eq!(first["last_code"], Value::Null);
    assert_eq!(first["last_reply"], Value::Null);
    for field in ["next_attempt_at", "expires_at", "received_at"] {
        assert!(
            first[field]
                .as_str()
                .unwrap()
                .parse::<chrono::DateTime<chrono::Utc>>()
                .is_ok(),
            "{field}"
        );
    }
    let ids = reply.item_ids();
    assert!(ids[0] < ids[1], "items come by id");
}

#[tokio::test]
async fn each_filter_narrows_the_listing() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let admin = app.admin_token().await;
    let old = enqueue(
        &app,
        "old@sender.example",
        "old",
        &[(Some(t.d1), "a@one.example")],
    );
    enqueue(
        &app,
        "new@sender.example",
        "new",
        &[(Some(t.d1), "b@one.example"), (Some(t.d2), "c@two.example")],
    );
    let deferred = enqueue(
        &app,
        "new@sender.example",
        "deferred",
        &[(Some(t.d3), "d@other.example")],
    );
    app.sql(&format!(
        "UPDATE messages SET received_at = '2026-01-01T00:00:00Z' WHERE id = {old}; \
         UPDATE deliveries SET state = 'deferred', next_attempt_at = now() + interval '1 hour' \
         WHERE message_id = {deferred};"
    ))
    .await;

    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            format!("domain_id={}", t.d1),
            vec!["a@one.example", "b@one.example"],
        ),
        (format!("domain_id={}", t.d3), vec!["d@other.example"]),
        ("state=deferred".to_owned(), vec!["d@other.example"]),
        (
            "state=queued".to_owned(),
            vec!["a@one.example", "b@one.example", "c@two.example"],
        ),
        ("state=held".to_owned(), vec![]),
        (
            "sender=new@sender.example".to_owned(),
            vec!["b@one.example", "c@two.example", "d@other.example"],
        ),
        (
            "sender=%3Cold@sender.example%3E".to_owned(),
            vec!["a@one.example"],
        ),
        ("recipient=c@two.example".to_owned(), vec!["c@two.example"]),
        (
            "received_before=2026-06-01T00:00:00Z".to_owned(),
            vec!["a@one.example"],
        ),
        (
            "received_after=2026-06-01T00:00:00Z".to_owned(),
            vec!["b@one.example", "c@two.example", "d@other.example"],
        ),
        (
            format!("sender=new@sender.example&domain_id={}", t.d2),
            vec!["c@two.example"],
        ),
        (
            "sender=new@sender.example&state=deferred".to_owned(),
            vec!["d@other.example"],
        ),
        (
            format!("domain_id={}&received_after=2026-06-01T00:00:00Z", t.d1),
            vec!["b@one.example"],
        ),
        (
            "recipient=a@one.example&received_after=2026-06-01T00:00:00Z".to_owned(),
            vec![],
        ),
        ("sender=%3C%3E".to_owned(), vec![]),
    ];
    for (query, expected) in cases {
        let reply = app
            .get(&format!("/api/v1/queue?{query}"), &admin)
            .await
            .expect(200);
        assert_eq!(
            sorted(recipients(&reply)),
            expected,
            "?{query}: {}",
            reply.body
        );
    }
    // The same filters for a customer: only its own mail.
    let reply = app
        .get("/api/v1/queue?sender=new@sender.example", &t.one)
        .await
        .expect(200);
    assert_eq!(
        sorted(recipients(&reply)),
        vec!["b@one.example", "c@two.example"]
    );
    let reply = app
        .get(
            "/api/v1/queue?received_after=2026-06-01T00:00:00Z",
            &t.other,
        )
        .await
        .expect(200);
    assert_eq!(recipients(&reply), vec!["d@other.example"]);
}

#[tokio::test]
async fn finished_recipients_are_listed_only_when_asked_for_by_state() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let m = enqueue(
        &app,
        "s@sender.example",
        "mixed",
        &[
            (Some(t.d1), "done@one.example"),
            (Some(t.d1), "held@one.example"),
            (Some(t.d1), "busy@one.example"),
        ],
    );
    app.sql(&format!(
        "UPDATE deliveries SET state = 'delivered' WHERE message_id = {m} AND recipient LIKE 'done@%'; \
         UPDATE deliveries SET state = 'held' WHERE message_id = {m} AND recipient LIKE 'held@%'; \
         UPDATE deliveries SET state = 'delivering', lease_owner = 'n1', \
                lease_until = now() + interval '5 minutes' \
         WHERE message_id = {m} AND recipient LIKE 'busy@%';"
    ))
    .await;
    let reply = app.get("/api/v1/queue", &t.one).await.expect(200);
    assert_eq!(
        recipients(&reply),
        vec!["held@one.example", "busy@one.example"]
    );
    let reply = app
        .get("/api/v1/queue?state=delivered", &t.one)
        .await
        .expect(200);
    assert_eq!(recipients(&reply), vec!["done@one.example"]);
}

#[tokio::test]
async fn pages_walk_more_than_a_hundred_recipients_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let admin = app.admin_token().await;
    let mut expected = BTreeSet::new();
    // 45 messages × 3 recipients = 135 recipients over two domains and one other tenant.
    for i in 0..45 {
        let a = format!("a{i}@one.example");
        let b = format!("b{i}@two.example");
        let c = format!("c{i}@other.example");
        enqueue(
            &app,
            "bulk@sender.example",
            &format!("n{i}"),
            &[(Some(t.d1), &a), (Some(t.d2), &b), (Some(t.d3), &c)],
        );
        expected.extend([a, b, c]);
    }
    app.sql(
        "UPDATE messages SET received_at = now() - (id || ' minutes')::interval; \
         UPDATE deliveries SET state = 'deferred' WHERE recipient LIKE 'b%';",
    )
    .await;

    // Every access path: by state (operator), by domain, by sender, by receipt time, by the
    // caller's domains.
    let paths: Vec<(String, &str, usize)> = vec![
        (String::new(), "admin", 135),
        ("sender=bulk@sender.example".to_owned(), "admin", 135),
        (
            "received_after=2020-01-01T00:00:00Z".to_owned(),
            "admin",
            135,
        ),
        (format!("domain_id={}", t.d1), "admin", 45),
        (String::new(), "one", 90),
        ("sender=bulk@sender.example".to_owned(), "one", 90),
    ];
    for (query, who, count) in paths {
        let token = if who == "admin" { &admin } else { &t.one };
        let items = all_pages(&app, token, &query, 50).await;
        let got: Vec<String> = items
            .iter()
            .map(|i| i["recipient"].as_str().unwrap().to_owned())
            .collect();
        let unique: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(got.len(), count, "?{query} as {who}");
        assert_eq!(unique.len(), count, "?{query} as {who}: repeats");
        assert!(unique.is_subset(&expected));
        if who == "one" {
            assert!(unique.iter().all(|r| !r.ends_with("other.example")));
        }
        if query.is_empty() || query.starts_with("domain_id") {
            let ids: Vec<i64> = items.iter().map(|i| i["id"].as_i64().unwrap()).collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "ordered by id");
        }
    }
    // Odd page sizes end exactly.
    assert_eq!(all_pages(&app, &admin, "", 1).await.len(), 135);
    assert_eq!(all_pages(&app, &admin, "", 135).await.len(), 135);
    let reply = app.get("/api/v1/queue?limit=500", &admin).await.expect(200);
    assert_eq!(reply.item_ids().len(), 135);
    assert_eq!(reply.body["next_cursor"], Value::Null);
    let reply = app.get("/api/v1/queue", &admin).await.expect(200);
    assert_eq!(reply.item_ids().len(), 50, "default page size");
}

#[tokio::test]
async fn a_cursor_only_continues_a_listing_with_the_same_kind_of_filters() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let admin = app.admin_token().await;
    for i in 0..3 {
        enqueue(
            &app,
            "s@sender.example",
            &format!("c{i}"),
            &[(Some(t.d1), &format!("r{i}@one.example"))],
        );
    }
    let reply = app
        .get("/api/v1/queue?sender=s@sender.example&limit=1", &admin)
        .await
        .expect(200);
    let cursor = reply.body["next_cursor"].as_str().unwrap().to_owned();
    assert_invalid(
        app.get(&format!("/api/v1/queue?cursor={cursor}"), &admin)
            .await,
        "cursor",
        "a sender-ordered cursor on an id-ordered listing",
    );
    assert_invalid(
        app.get("/api/v1/queue?cursor=bm9wZQ", &admin).await,
        "cursor",
        "garbage cursor",
    );
}

#[tokio::test]
async fn a_sparse_listing_answers_short_pages_that_still_continue() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let admin = app.admin_token().await;
    // 6,000 finished messages from one sender, more than one page may walk, then one queued.
    app.sql(&format!(
        "INSERT INTO messages (sender, client_ip, helo, size, body, received_at) \
         SELECT 'news@sender.example', '198.51.100.7', 'h', 1, '\\x00', \
                now() - interval '1 day' + g * interval '1 second' \
         FROM generate_series(1, 6000) g; \
         INSERT INTO deliveries (message_id, domain_id, recipient, state, expires_at) \
         SELECT id, {}, 'old@one.example', 'delivered', now() FROM messages;",
        t.d1
    ))
    .await;
    enqueue(
        &app,
        "news@sender.example",
        "the one left",
        &[(Some(t.d1), "new@one.example")],
    );
    for (query, token) in [
        ("sender=news@sender.example", &admin),
        ("sender=news@sender.example", &t.one),
        ("received_after=2020-01-01T00:00:00Z", &admin),
        ("received_before=2099-01-01T00:00:00Z", &t.one),
    ] {
        let first = app
            .get(&format!("/api/v1/queue?{query}"), token)
            .await
            .expect(200);
        assert_eq!(recipients(&first), Vec::<String>::new(), "?{query}");
        let cursor = first.body["next_cursor"]
            .as_str()
            .unwrap_or_else(|| panic!("?{query}: a short page that goes on"));
        let second = app
            .get(&format!("/api/v1/queue?{query}&cursor={cursor}"), token)
            .await
            .expect(200);
        assert_eq!(recipients(&second), vec!["new@one.example"], "?{query}");
        assert_eq!(second.body["next_cursor"], Value::Null, "?{query}");
        let items = all_pages(&app, token, query, 50).await;
        assert_eq!(items.len(), 1);
    }
}

// ---- visibility ----

#[tokio::test]
async fn a_customer_sees_and_touches_only_its_domains_mail() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let theirs = enqueue(
        &app,
        "s@sender.example",
        "theirs",
        &[(Some(t.d3), "x@other.example")],
    );
    let mine = enqueue(
        &app,
        "s@sender.example",
        "mine",
        &[(Some(t.d1), "y@one.example")],
    );
    // One message for both tenants: each sees only its own recipient.
    let shared = enqueue(
        &app,
        "s@sender.example",
        "shared",
        &[
            (Some(t.d1), "z@one.example"),
            (Some(t.d3), "w@other.example"),
        ],
    );

    let reply = app.get("/api/v1/queue", &t.one).await.expect(200);
    assert_eq!(recipients(&reply), vec!["y@one.example", "z@one.example"]);
    let reply = app
        .get(&format!("/api/v1/queue?domain_id={}", t.d3), &t.one)
        .await
        .expect(200);
    assert_eq!(recipients(&reply), Vec::<String>::new());
    let reply = app
        .get("/api/v1/queue?recipient=x@other.example", &t.one)
        .await
        .expect(200);
    assert_eq!(recipients(&reply), Vec::<String>::new());

    // Another tenant's message is not found, whatever the verb.
    app.get(&format!("/api/v1/queue/{theirs}"), &t.one)
        .await
        .expect_problem(404);
    for verb in ["retry", "hold", "release"] {
        app.post(&format!("/api/v1/queue/{theirs}/{verb}"), &t.one, json!({}))
            .await
            .expect_problem(404);
    }
    app.delete(&format!("/api/v1/queue/{theirs}"), &t.one)
        .await
        .expect_problem(404);
    assert_eq!(state_of(&app, theirs, "x@other.example").0, "queued");

    app.get(&format!("/api/v1/queue/{mine}"), &t.one)
        .await
        .expect(200);
    let shown = app
        .get(&format!("/api/v1/queue/{shared}"), &t.one)
        .await
        .expect(200);
    let rcpts: Vec<&str> = shown.body["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["recipient"].as_str().unwrap())
        .collect();
    assert_eq!(rcpts, vec!["z@one.example"]);

    // Holding or deleting the shared message changes only the caller's recipient.
    let reply = app
        .post(&format!("/api/v1/queue/{shared}/hold"), &t.one, json!({}))
        .await
        .expect(200);
    assert_eq!(reply.body["matched"], 1);
    assert_eq!(reply.body["affected"], 1);
    assert_eq!(state_of(&app, shared, "w@other.example").0, "queued");
    let reply = app
        .delete(&format!("/api/v1/queue/{shared}"), &t.other)
        .await
        .expect(200);
    assert_eq!(reply.body["affected"], 1);
    let left: Vec<String> = deliveries(&app, shared)
        .into_iter()
        .map(|d| d.recipient)
        .collect();
    assert_eq!(
        left,
        vec!["z@one.example"],
        "the message stays for the other"
    );
}

#[tokio::test]
async fn a_domain_admin_sees_only_the_domains_it_administers() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let (admin_id, delegate) = app.domain_admin(&t.one, "delegate@one.example").await;
    app.put(
        &format!("/api/v1/domains/{}/admins/{admin_id}", t.d2),
        &t.one,
    )
    .await
    .expect(204);
    let m1 = enqueue(
        &app,
        "s@sender.example",
        "d1",
        &[(Some(t.d1), "a@one.example")],
    );
    let m2 = enqueue(
        &app,
        "s@sender.example",
        "d2",
        &[(Some(t.d2), "b@two.example")],
    );
    let reply = app.get("/api/v1/queue", &delegate).await.expect(200);
    assert_eq!(recipients(&reply), vec!["b@two.example"]);
    app.get(&format!("/api/v1/queue/{m1}"), &delegate)
        .await
        .expect_problem(404);
    app.post(&format!("/api/v1/queue/{m1}/hold"), &delegate, json!({}))
        .await
        .expect_problem(404);
    app.post(&format!("/api/v1/queue/{m2}/hold"), &delegate, json!({}))
        .await
        .expect(200);
    assert_eq!(state_of(&app, m2, "b@two.example").0, "held");
    app.get(&format!("/api/v1/domains/{}/stats", t.d1), &delegate)
        .await
        .expect_problem(404);
    app.get(&format!("/api/v1/domains/{}/stats", t.d2), &delegate)
        .await
        .expect(200);
}

#[tokio::test]
async fn operators_see_dsn_recipients_without_a_domain_and_customers_do_not() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let admin = app.admin_token().await;
    let dsn = enqueue(
        &app,
        "",
        "Undelivered Mail",
        &[(None, "bob@sender.example")],
    );
    let reply = app.get("/api/v1/queue", &admin).await.expect(200);
    let items = reply.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["domain_id"], Value::Null);
    assert_eq!(items[0]["domain"], Value::Null);
    assert_eq!(items[0]["sender"], "");
    let reply = app
        .get("/api/v1/queue?sender=%3C%3E", &admin)
        .await
        .expect(200);
    assert_eq!(recipients(&reply), vec!["bob@sender.example"]);
    app.get(&format!("/api/v1/queue/{dsn}"), &admin)
        .await
        .expect(200);
    let reply = app.get("/api/v1/queue", &t.one).await.expect(200);
    assert_eq!(recipients(&reply), Vec::<String>::new());
    app.get(&format!("/api/v1/queue/{dsn}"), &t.one)
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn an_api_key_restricted_to_a_domain_reaches_only_that_domains_mail() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let admin = app.admin_token().await;
    let m1 = enqueue(
        &app,
        "s@sender.example",
        "k1",
        &[(Some(t.d1), "a@one.example")],
    );
    let m2 = enqueue(
        &app,
        "s@sender.example",
        "k2",
        &[(Some(t.d2), "b@two.example")],
    );
    let m3 = enqueue(
        &app,
        "s@sender.example",
        "k3",
        &[(Some(t.d3), "c@other.example")],
    );
    for token in [&t.one, &admin] {
        let key = app
            .create_api_key(
                token,
                json!({"name": "d2 only", "scopes": ["read", "write"], "domain_ids": [t.d2]}),
            )
            .await
            .expect(201);
        let secret = key.body["secret"].as_str().unwrap().to_owned();
        let reply = app.get("/api/v1/queue", &secret).await.expect(200);
        assert_eq!(recipients(&reply), vec!["b@two.example"]);
        app.get(&format!("/api/v1/queue/{m1}"), &secret)
            .await
            .expect_problem(404);
        app.get(&format!("/api/v1/queue/{m3}"), &secret)
            .await
            .expect_problem(404);
        app.get(&format!("/api/v1/queue/{m2}"), &secret)
            .await
            .expect(200);
        let reply = app
            .post(
                "/api/v1/queue/actions",
                &secret,
                json!({"filter": {}, "action": "hold", "dry_run": true}),
            )
            .await
            .expect(200);
        assert_eq!(reply.body["matched"], 1);
        app.post(
            &format!("/api/v1/domains/{}/flush", t.d1),
            &secret,
            json!({}),
        )
        .await
        .expect_problem(404);
    }
}

#[tokio::test]
async fn a_read_only_key_can_look_at_the_queue_but_not_change_it() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let m = enqueue(
        &app,
        "s@sender.example",
        "ro",
        &[(Some(t.d1), "a@one.example")],
    );
    let key = app
        .create_api_key(&t.one, json!({"name": "monitoring", "scopes": ["read"]}))
        .await
        .expect(201);
    let secret = key.body["secret"].as_str().unwrap().to_owned();
    app.get("/api/v1/queue", &secret).await.expect(200);
    app.get(&format!("/api/v1/queue/{m}"), &secret)
        .await
        .expect(200);
    app.get(&format!("/api/v1/domains/{}/stats", t.d1), &secret)
        .await
        .expect(200);
    for verb in ["retry", "hold", "release"] {
        app.post(&format!("/api/v1/queue/{m}/{verb}"), &secret, json!({}))
            .await
            .expect_problem(403);
    }
    app.delete(&format!("/api/v1/queue/{m}"), &secret)
        .await
        .expect_problem(403);
    app.post(
        "/api/v1/queue/actions",
        &secret,
        json!({"filter": {}, "action": "delete"}),
    )
    .await
    .expect_problem(403);
    app.post(
        &format!("/api/v1/domains/{}/flush", t.d1),
        &secret,
        json!({}),
    )
    .await
    .expect_problem(403);
    assert_eq!(deliveries(&app, m).len(), 1);
    assert_eq!(state_of(&app, m, "a@one.example").0, "queued");
}

#[tokio::test]
async fn the_queue_needs_credentials() {
    let app = TestApp::spawn().await;
    let reply = app
        .request(reqwest::Method::GET, "/api/v1/queue", None, None)
        .await
        .expect_problem(401);
    assert!(reply.header("www-authenticate").starts_with("Bearer"));
}

// ---- inspection ----

#[tokio::test]
async fn inspecting_a_message_shows_its_headers_recipients_and_attempts() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let m = enqueue(
        &app,
        "bob@sender.example",
        "Figures",
        &[
            (Some(t.d1), "alice@one.example"),
            (Some(t.d2), "carol@two.example"),
        ],
    );
    let ids: Vec<i64> = deliveries(&app, m).iter().map(|d| d.id).collect();
    app.sql(&format!(
        "UPDATE deliveries SET state = 'deferred', attempts = 2, last_code = 451, \
                last_reply = '451 4.3.0 try later', next_attempt_at = now() + interval '10 minutes' \
         WHERE id = {a}; \
         INSERT INTO delivery_attempts (delivery_id, domain_id, started_at, duration_ms, \
                target_host, target_ip, tls, code, reply, outcome) VALUES \
           ({a}, {d1}, now() - interval '2 minutes', 120, '127.0.0.1', NULL, false, NULL, \
            'connection refused', 'deferred'), \
           ({a}, {d1}, now() - interval '1 minute', 184, '127.0.0.1', '127.0.0.1', true, 451, \
            '451 4.3.0 try later', 'deferred');",
        a = ids[0],
        d1 = t.d1
    ))
    .await;
    let reply = app
        .get(&format!("/api/v1/queue/{m}"), &t.one)
        .await
        .expect(200);
    let b = &reply.body;
    assert_eq!(b["id"], m);
    assert_eq!(b["sender"], "bob@sender.example");
    assert_eq!(b["client_ip"], "198.51.100.7");
    assert_eq!(b["helo"], "client.example");
    assert_eq!(b["tls"], true);
    assert!(b["size"].as_i64().unwrap() > 100);
    let h = &b["headers"];
    assert_eq!(h["subject"], "Figures");
    assert_eq!(h["from"], "Sender <bob@sender.example>");
    assert_eq!(h["to"], "alice@one.example, carol@two.example");
    assert_eq!(h["date"], "Sat, 28 Nov 2026 10:00:00 +0000");
    assert!(h["message_id"]
        .as_str()
        .unwrap()
        .ends_with("@sender.example>"));
    assert_eq!(h["cc"], Value::Null);

    let rcpts = b["recipients"].as_array().unwrap();
    assert_eq!(rcpts.len(), 2);
    assert_eq!(rcpts[0]["recipient"], "alice@one.example");
    assert_eq!(rcpts[0]["state"], "deferred");
    assert_eq!(rcpts[0]["attempts"], 2);
    assert_eq!(rcpts[0]["last_code"], 451);
    assert_eq!(rcpts[0]["last_reply"], "451 4.3.0 try later");
    assert_eq!(rcpts[0]["domain"], "one.example");
    assert_eq!(rcpts[1]["state"], "queued");

    let attempts = b["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    // Newest first.
    assert_eq!(attempts[0]["code"], 451);
    assert_eq!(attempts[0]["target_ip"], "127.0.0.1");
    assert_eq!(attempts[0]["tls"], true);
    assert_eq!(attempts[0]["duration_ms"], 184);
    assert_eq!(attempts[0]["outcome"], "deferred");
    assert_eq!(attempts[0]["delivery_id"], ids[0]);
    assert_eq!(attempts[0]["recipient"], "alice@one.example");
    assert_eq!(attempts[0]["target_host"], "127.0.0.1");
    assert_eq!(attempts[1]["code"], Value::Null);
    assert_eq!(attempts[1]["reply"], "connection refused");
    assert_eq!(attempts[1]["target_ip"], Value::Null);
}

#[tokio::test]
async fn a_header_is_summarised_from_the_stored_message_only() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let admin = app.admin_token().await;
    let m = enqueue(
        &app,
        "s@sender.example",
        "placeholder",
        &[(Some(t.d1), "a@one.example")],
    );
    // A folded, encoded subject and a big body: only the header is read.
    let body = format!(
        "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n =?UTF-8?B?IGF1cyBLw7Zsbg==?=\r\nCc: x@one.example\r\n\
         Cc: y@one.example\r\n\r\n{}",
        "body line\r\n".repeat(20_000)
    );
    let mut conn = app.db.connect();
    diesel::sql_query("UPDATE messages SET body = $1 WHERE id = $2")
        .bind::<diesel::sql_types::Binary, _>(body.into_bytes())
        .bind::<BigInt, _>(m)
        .execute(&mut conn)
        .unwrap();
    let reply = app
        .get(&format!("/api/v1/queue/{m}"), &admin)
        .await
        .expect(200);
    assert_eq!(reply.body["headers"]["subject"], "Grüße aus Köln");
    assert_eq!(reply.body["headers"]["cc"], "x@one.example, y@one.example");
    assert_eq!(reply.body["headers"]["from"], Value::Null);
}

// ---- commands on one message ----

#[tokio::test]
async fn hold_then_release_requeues_the_mail_due_now() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let m = enqueue(
        &app,
        "s@sender.example",
        "hold",
        &[(Some(t.d1), "a@one.example"), (Some(t.d2), "b@two.example")],
    );
    app.sql(&format!(
        "UPDATE deliveries SET state = 'deferred', next_attempt_at = now() + interval '1 hour' \
         WHERE message_id = {m} AND recipient = 'b@two.example'"
    ))
    .await;
    let reply = app
        .post(&format!("/api/v1/queue/{m}/hold"), &t.one, json!({}))
        .await
        .expect(200);
    assert_eq!(
        reply.body,
        json!({"matched": 2, "affected": 2, "in_delivery": 0, "dry_run": false})
    );
    assert!(deliveries(&app, m).iter().all(|d| d.state == "held"));
    // Holding again changes nothing.
    let reply = app
        .post(&format!("/api/v1/queue/{m}/hold"), &t.one, json!({}))
        .await
        .expect(200);
    assert_eq!(reply.body["affected"], 0);
    let listed = app
        .get("/api/v1/queue?state=held", &t.one)
        .await
        .expect(200);
    assert_eq!(listed.item_ids().len(), 2);

    let reply = app
        .post(&format!("/api/v1/queue/{m}/release"), &t.one, json!({}))
        .await
        .expect(200);
    assert_eq!(reply.body["matched"], 2);
    assert_eq!(reply.body["affected"], 2);
    for d in deliveries(&app, m) {
        assert_eq!(d.state, "queued", "{d:?}");
        assert!(d.due, "released mail is due now: {d:?}");
    }
}

#[tokio::test]
async fn retry_makes_deferred_mail_due_now_and_wakes_the_relays() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let m = enqueue(
        &app,
        "s@sender.example",
        "retry",
        &[(Some(t.d1), "a@one.example"), (Some(t.d1), "b@one.example")],
    );
    app.sql(&format!(
        "UPDATE deliveries SET state = 'deferred', next_attempt_at = now() + interval '1 hour' \
         WHERE message_id = {m}; \
         UPDATE deliveries SET state = 'delivered' WHERE message_id = {m} AND recipient = 'b@one.example'; \
         INSERT INTO targets (host, port, state, next_probe_at) \
         VALUES ('127.0.0.1', 25, 'down', now() + interval '1 minute');"
    ))
    .await;
    assert!(!state_of(&app, m, "a@one.example").1);
    let mut listener = app.db.connect();
    listener.batch_execute("LISTEN mxspool_queue").unwrap();

    let reply = app
        .post(&format!("/api/v1/queue/{m}/retry"), &t.one, json!({}))
        .await
        .expect(200);
    assert_eq!(reply.body["matched"], 2);
    assert_eq!(reply.body["affected"], 1);
    assert_eq!(
        state_of(&app, m, "a@one.example"),
        ("deferred".into(), true)
    );
    assert_eq!(state_of(&app, m, "b@one.example").0, "delivered");
    // The target being down, its probe is brought forward.
    assert!(flag(
        &app,
        "SELECT next_probe_at <= now() AS b FROM targets WHERE host = '127.0.0.1'"
    ));
    listener.batch_execute("SELECT 1").unwrap();
    let notes: Vec<String> = listener
        .notifications_iter()
        .map(|n| n.unwrap().channel)
        .collect();
    assert!(notes.iter().any(|c| c == "mxspool_queue"), "{notes:?}");
}

#[tokio::test]
async fn deleting_a_message_removes_its_rows_but_not_a_delivery_in_progress() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let gone = enqueue(
        &app,
        "s@sender.example",
        "gone",
        &[(Some(t.d1), "a@one.example"), (Some(t.d2), "b@two.example")],
    );
    let ids: Vec<i64> = deliveries(&app, gone).iter().map(|d| d.id).collect();
    app.sql(&format!(
        "INSERT INTO delivery_attempts (delivery_id, domain_id, duration_ms, target_host, \
                reply, outcome) VALUES ({}, {}, 5, '127.0.0.1', 'connection refused', 'deferred')",
        ids[0], t.d1
    ))
    .await;
    let reply = app
        .delete(&format!("/api/v1/queue/{gone}"), &t.one)
        .await
        .expect(200);
    assert_eq!(reply.body["matched"], 2);
    assert_eq!(reply.body["affected"], 2);
    assert_eq!(
        number(
            &app,
            &format!("SELECT count(*) AS n FROM messages WHERE id = {gone}")
        ),
        0
    );
    assert_eq!(
        number(&app, "SELECT count(*) AS n FROM delivery_attempts"),
        0
    );
    app.get(&format!("/api/v1/queue/{gone}"), &t.one)
        .await
        .expect_problem(404);

    let busy = enqueue(
        &app,
        "s@sender.example",
        "busy",
        &[(Some(t.d1), "c@one.example"), (Some(t.d1), "d@one.example")],
    );
    app.sql(&format!(
        "UPDATE deliveries SET state = 'delivering', lease_owner = 'n1', \
                lease_until = now() + interval '5 minutes' \
         WHERE message_id = {busy} AND recipient = 'c@one.example'"
    ))
    .await;
    let reply = app
        .delete(&format!("/api/v1/queue/{busy}"), &t.one)
        .await
        .expect(200);
    assert_eq!(
        reply.body,
        json!({"matched": 2, "affected": 1, "in_delivery": 1, "dry_run": false})
    );
    let left: Vec<String> = deliveries(&app, busy)
        .into_iter()
        .map(|d| d.recipient)
        .collect();
    assert_eq!(left, vec!["c@one.example"]);
    assert_eq!(
        number(
            &app,
            &format!("SELECT count(*) AS n FROM messages WHERE id = {busy}")
        ),
        1,
        "the message stays while a recipient is being delivered"
    );
}

// ---- bulk commands ----

#[tokio::test]
async fn a_bulk_hold_or_release_of_every_state_counts_each_recipient_once() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let admin = app.admin_token().await;
    for i in 0..4 {
        enqueue(
            &app,
            "s@sender.example",
            &format!("c{i}"),
            &[
                (Some(t.d1), &format!("a{i}@one.example")),
                (Some(t.d3), &format!("z{i}@other.example")),
            ],
        );
    }
    // Both kinds of waiting mail: the passes over queued and deferred recipients must not meet
    // the ones an earlier pass already moved.
    app.sql(
        "UPDATE deliveries SET state = 'deferred', next_attempt_at = now() + interval '1 hour' \
         WHERE recipient ~ '^(a|z)(0|1)'",
    )
    .await;
    for (token, everyone) in [(&t.one, 4), (&admin, 8)] {
        let held = app
            .post(
                "/api/v1/queue/actions",
                token,
                json!({"filter": {}, "action": "hold"}),
            )
            .await
            .expect(200);
        assert_eq!(held.body["matched"], everyone, "{}", held.body);
        assert_eq!(held.body["affected"], everyone, "{}", held.body);
        let released = app
            .post(
                "/api/v1/queue/actions",
                token,
                json!({"filter": {}, "action": "release"}),
            )
            .await
            .expect(200);
        assert_eq!(released.body["matched"], everyone, "{}", released.body);
        assert_eq!(released.body["affected"], everyone, "{}", released.body);
    }
}

#[tokio::test]
async fn a_bulk_dry_run_counts_without_changing_and_the_real_run_changes() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    for i in 0..30 {
        enqueue(
            &app,
            "s@sender.example",
            &format!("b{i}"),
            &[
                (Some(t.d1), &format!("a{i}@one.example")),
                (Some(t.d3), &format!("z{i}@other.example")),
            ],
        );
    }
    app.sql(
        "UPDATE deliveries SET state = 'deferred', next_attempt_at = now() + interval '1 hour' \
         WHERE recipient ~ '^a(1|2)' OR recipient LIKE 'z%'",
    )
    .await;
    // a1, a10..a19, a2, a20..a29: 22 deferred for `one`.
    let body = json!({"filter": {"domain_id": t.d1, "state": "deferred"}, "action": "hold",
                      "dry_run": true});
    let reply = app
        .post("/api/v1/queue/actions", &t.one, body)
        .await
        .expect(200);
    assert_eq!(
        reply.body,
        json!({"matched": 22, "affected": 22, "in_delivery": 0, "dry_run": true})
    );
    assert_eq!(
        number(
            &app,
            "SELECT count(*) AS n FROM deliveries WHERE state = 'held'"
        ),
        0
    );

    let body = json!({"filter": {"domain_id": t.d1, "state": "deferred"}, "action": "hold"});
    let reply = app
        .post("/api/v1/queue/actions", &t.one, body)
        .await
        .expect(200);
    assert_eq!(reply.body["matched"], 22);
    assert_eq!(reply.body["affected"], 22);
    assert_eq!(reply.body["dry_run"], false);
    assert_eq!(
        number(
            &app,
            "SELECT count(*) AS n FROM deliveries WHERE state = 'held' AND recipient LIKE 'a%'"
        ),
        22
    );

    // Release by sender: only the caller's held mail comes back, due now.
    let reply = app
        .post(
            "/api/v1/queue/actions",
            &t.one,
            json!({"filter": {"sender": "s@sender.example"}, "action": "release"}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["matched"], 30);
    assert_eq!(reply.body["affected"], 22);
    assert!(flag(
        &app,
        "SELECT bool_and(state = 'queued' AND next_attempt_at <= now()) AS b \
         FROM deliveries WHERE recipient LIKE 'a%'"
    ));

    // Retry with an empty filter, as the other customer: only its deferred mail.
    let reply = app
        .post(
            "/api/v1/queue/actions",
            &t.other,
            json!({"filter": {}, "action": "retry"}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["matched"], 30);
    assert_eq!(reply.body["affected"], 30);
    assert!(flag(
        &app,
        "SELECT bool_and(next_attempt_at <= now()) AS b FROM deliveries WHERE recipient LIKE 'z%'"
    ));

    // Delete by recipient.
    let reply = app
        .post(
            "/api/v1/queue/actions",
            &t.one,
            json!({"filter": {"recipient": "a7@one.example"}, "action": "delete"}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["affected"], 1);
    assert_eq!(
        number(
            &app,
            "SELECT count(*) AS n FROM deliveries WHERE recipient = 'a7@one.example'"
        ),
        0
    );
    // The other tenant's recipient of that message keeps the message.
    assert_eq!(
        number(
            &app,
            "SELECT count(*) AS n FROM deliveries WHERE recipient = 'z7@other.example'"
        ),
        1
    );
}

#[tokio::test]
async fn an_empty_bulk_delete_from_a_customer_removes_only_its_own_mail() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let admin = app.admin_token().await;
    for i in 0..5 {
        enqueue(
            &app,
            "s@sender.example",
            &format!("e{i}"),
            &[(Some(t.d1), &format!("a{i}@one.example"))],
        );
        enqueue(
            &app,
            "s@sender.example",
            &format!("f{i}"),
            &[(Some(t.d3), &format!("z{i}@other.example"))],
        );
    }
    let reply = app
        .post(
            "/api/v1/queue/actions",
            &t.one,
            json!({"filter": {}, "action": "delete"}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["affected"], 5);
    assert_eq!(number(&app, "SELECT count(*) AS n FROM deliveries"), 5);
    assert_eq!(number(&app, "SELECT count(*) AS n FROM messages"), 5);
    let reply = app
        .post(
            "/api/v1/queue/actions",
            &admin,
            json!({"filter": {}, "action": "delete", "dry_run": true}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["matched"], 5);
}

#[tokio::test]
async fn a_bulk_command_over_more_than_one_batch_counts_every_recipient() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let admin = app.admin_token().await;
    // 10,000 is the batch size; 10,500 deferred recipients need two batches.
    let m = enqueue(
        &app,
        "s@sender.example",
        "big",
        &[(Some(t.d1), "seed@one.example")],
    );
    app.sql(&format!(
        "INSERT INTO deliveries (message_id, domain_id, recipient, state, next_attempt_at, expires_at) \
         SELECT {m}, {d}, 'r' || g || '@one.example', 'deferred', now() + interval '1 hour', \
                now() + interval '5 days' \
         FROM generate_series(1, 10500) g",
        d = t.d1
    ))
    .await;
    let reply = app
        .post(
            "/api/v1/queue/actions",
            &admin,
            json!({"filter": {"state": "deferred"}, "action": "retry"}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["matched"], 10_500);
    assert_eq!(reply.body["affected"], 10_500);
    let reply = app
        .post(
            "/api/v1/queue/actions",
            &t.one,
            json!({"filter": {"sender": "s@sender.example"}, "action": "hold", "dry_run": true}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["matched"], 10_501);
    assert_eq!(reply.body["affected"], 10_501);
    assert_eq!(
        number(
            &app,
            "SELECT count(*) AS n FROM deliveries WHERE next_attempt_at > now()"
        ),
        0
    );
}

// ---- per domain ----

#[tokio::test]
async fn flushing_a_domain_makes_its_deferred_mail_due_and_schedules_a_probe() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let d = app
        .create_domain(
            &t.one,
            json!({"name": "flush.example", "target_host": "mx.flush.example", "target_port": 2525}),
        )
        .await
        .expect(201)
        .id();
    let mine = enqueue(
        &app,
        "s@sender.example",
        "flush",
        &[
            (Some(d), "a@flush.example"),
            (Some(d), "b@flush.example"),
            (Some(d), "c@flush.example"),
            (Some(t.d1), "x@one.example"),
        ],
    );
    app.sql(&format!(
        "UPDATE deliveries SET state = 'deferred', next_attempt_at = now() + interval '1 hour' \
         WHERE message_id = {mine}; \
         UPDATE deliveries SET state = 'held' WHERE recipient = 'c@flush.example'; \
         INSERT INTO targets (host, port, state, next_probe_at) VALUES \
           ('mx.flush.example', 2525, 'down', now() + interval '1 minute'), \
           ('127.0.0.1', 25, 'down', now() + interval '1 minute');"
    ))
    .await;
    let reply = app
        .post(&format!("/api/v1/domains/{d}/flush"), &t.one, json!({}))
        .await
        .expect(200);
    assert_eq!(reply.body["matched"], 2);
    assert_eq!(reply.body["affected"], 2);
    assert_eq!(reply.body["target_host"], "mx.flush.example");
    assert_eq!(reply.body["target_port"], 2525);
    assert_eq!(reply.body["probe_scheduled"], true);
    assert_eq!(
        state_of(&app, mine, "a@flush.example"),
        ("deferred".into(), true)
    );
    assert_eq!(
        state_of(&app, mine, "b@flush.example"),
        ("deferred".into(), true)
    );
    assert_eq!(state_of(&app, mine, "c@flush.example").0, "held");
    assert!(
        !state_of(&app, mine, "x@one.example").1,
        "other domains wait"
    );
    assert!(flag(
        &app,
        "SELECT next_probe_at <= now() AS b FROM targets WHERE host = 'mx.flush.example'"
    ));
    assert!(flag(
        &app,
        "SELECT next_probe_at > now() AS b FROM targets WHERE host = '127.0.0.1'"
    ));
    app.post(
        &format!("/api/v1/domains/{}/flush", t.d3),
        &t.one,
        json!({}),
    )
    .await
    .expect_problem(404);
    app.post("/api/v1/domains/abc/flush", &t.one, json!({}))
        .await
        .expect_problem(422);
}

#[tokio::test]
async fn domain_stats_count_the_seeded_queue() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let m = enqueue(
        &app,
        "s@sender.example",
        "stats",
        &[
            (Some(t.d1), "q1@one.example"),
            (Some(t.d1), "q2@one.example"),
            (Some(t.d1), "f1@one.example"),
            (Some(t.d1), "f2@one.example"),
            (Some(t.d1), "f3@one.example"),
            (Some(t.d1), "h1@one.example"),
            (Some(t.d1), "w1@one.example"),
            (Some(t.d1), "ok@one.example"),
            (Some(t.d1), "no@one.example"),
            (Some(t.d1), "ex@one.example"),
            (Some(t.d1), "oldex@one.example"),
            (Some(t.d2), "q@two.example"),
        ],
    );
    let newer = enqueue(
        &app,
        "s@sender.example",
        "newer",
        &[(Some(t.d1), "q3@one.example")],
    );
    app.sql(&format!(
        "UPDATE messages SET received_at = now() - interval '2 hours' WHERE id = {m}; \
         UPDATE deliveries SET state = 'deferred' WHERE recipient LIKE 'f%'; \
         UPDATE deliveries SET state = 'held' WHERE recipient LIKE 'h%'; \
         UPDATE deliveries SET state = 'delivering' WHERE recipient LIKE 'w%'; \
         UPDATE deliveries SET state = 'delivered' WHERE recipient LIKE 'ok@%'; \
         UPDATE deliveries SET state = 'bounced' WHERE recipient LIKE 'no@%'; \
         UPDATE deliveries SET state = 'expired' WHERE recipient LIKE 'ex@%'; \
         UPDATE deliveries SET state = 'expired', updated_at = now() - interval '2 days' \
           WHERE recipient LIKE 'oldex@%'; \
         INSERT INTO delivery_attempts (delivery_id, domain_id, started_at, duration_ms, \
                target_host, code, reply, outcome) \
         SELECT id, domain_id, now() - interval '1 hour', 10, '127.0.0.1', \
                CASE WHEN recipient LIKE 'ok@%' THEN 250 ELSE 550 END, 'x', \
                CASE WHEN recipient LIKE 'ok@%' THEN 'delivered' ELSE 'bounced' END \
         FROM deliveries WHERE recipient LIKE 'ok@%' OR recipient LIKE 'no@%'; \
         INSERT INTO delivery_attempts (delivery_id, domain_id, started_at, duration_ms, \
                target_host, code, reply, outcome) \
         SELECT id, domain_id, now() - interval '3 days', 10, '127.0.0.1', 250, 'x', 'delivered' \
         FROM deliveries WHERE recipient LIKE 'ok@%';"
    ))
    .await;
    let _ = newer;
    let reply = app
        .get(&format!("/api/v1/domains/{}/stats", t.d1), &t.one)
        .await
        .expect(200);
    let s = &reply.body;
    assert_eq!(s["domain_id"], t.d1);
    assert_eq!(s["queued"], 3);
    assert_eq!(s["deferred"], 3);
    assert_eq!(s["held"], 1);
    assert_eq!(s["delivering"], 1);
    assert_eq!(s["delivered_24h"], 1);
    assert_eq!(s["bounced_24h"], 1);
    assert_eq!(s["expired_24h"], 1);
    let age = s["oldest_age_seconds"].as_i64().unwrap();
    assert!((7100..7300).contains(&age), "two hours old: {age}");
    assert!(s["oldest_queued_at"].is_string());

    let reply = app
        .get(&format!("/api/v1/domains/{}/stats", t.d2), &t.one)
        .await
        .expect(200);
    assert_eq!(reply.body["queued"], 1);
    assert_eq!(reply.body["delivered_24h"], 0);
    let empty = app.domain(&t.one, "empty.example").await;
    let reply = app
        .get(&format!("/api/v1/domains/{empty}/stats"), &t.one)
        .await
        .expect(200);
    assert_eq!(reply.body["queued"], 0);
    assert_eq!(reply.body["oldest_queued_at"], Value::Null);
    assert_eq!(reply.body["oldest_age_seconds"], Value::Null);
    app.get(&format!("/api/v1/domains/{}/stats", t.d3), &t.one)
        .await
        .expect_problem(404);
}

// ---- bad input ----

#[tokio::test]
async fn bad_filter_values_answer_422_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (query, field) in [
        ("domain_id=abc", "domain_id"),
        ("domain_id=0", "domain_id"),
        ("state=lost", "state"),
        ("received_before=yesterday", "received_before"),
        ("received_after=2026-13-01T00:00:00Z", "received_after"),
        (
            "received_after=2026-06-02T00:00:00Z&received_before=2026-06-01T00:00:00Z",
            "received_after",
        ),
        ("sender=", "sender"),
        ("recipient=", "recipient"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=x", "limit"),
        ("cursor=%25%25", "cursor"),
        ("colour=blue", "colour"),
    ] {
        assert_invalid(
            app.get(&format!("/api/v1/queue?{query}"), &admin).await,
            field,
            query,
        );
    }
    for (body, field) in [
        (
            json!({"filter": {"state": "lost"}, "action": "retry"}),
            "filter.state",
        ),
        (
            json!({"filter": {"domain_id": -1}, "action": "retry"}),
            "filter.domain_id",
        ),
        (
            json!({"filter": {"received_after": "soon"}, "action": "retry"}),
            "filter.received_after",
        ),
        (
            json!({"filter": {"colour": 1}, "action": "retry"}),
            "filter.colour",
        ),
        (json!({"filter": {}, "action": "bounce"}), "action"),
        (json!({"action": "retry"}), "filter"),
        (json!({"filter": {}}), "action"),
        (
            json!({"filter": {}, "action": "retry", "dry_run": "yes"}),
            "dry_run",
        ),
    ] {
        assert_invalid(
            app.post("/api/v1/queue/actions", &admin, body.clone())
                .await,
            field,
            &body.to_string(),
        );
    }
}

#[tokio::test]
async fn bad_message_ids_answer_422_and_unknown_ones_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for id in ["abc", "0", "-4", "1.5"] {
        assert_invalid(
            app.get(&format!("/api/v1/queue/{id}"), &admin).await,
            "id",
            id,
        );
        assert_invalid(
            app.post(&format!("/api/v1/queue/{id}/retry"), &admin, json!({}))
                .await,
            "id",
            id,
        );
        assert_invalid(
            app.delete(&format!("/api/v1/queue/{id}"), &admin).await,
            "id",
            id,
        );
    }
    app.get("/api/v1/queue/987654", &admin)
        .await
        .expect_problem(404);
    for verb in ["retry", "hold", "release"] {
        app.post(&format!("/api/v1/queue/987654/{verb}"), &admin, json!({}))
            .await
            .expect_problem(404);
    }
    app.delete("/api/v1/queue/987654", &admin)
        .await
        .expect_problem(404);
    app.get("/api/v1/domains/987654/stats", &admin)
        .await
        .expect_problem(404);
    app.post("/api/v1/domains/987654/flush", &admin, json!({}))
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn address_filters_are_limited_in_characters_not_bytes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // The spec says maxLength 512, which counts characters.
    let at_limit = "é".repeat(512);
    app.get(&format!("/api/v1/queue?sender={at_limit}"), &admin)
        .await
        .expect(200);
    let over = "é".repeat(513);
    let reply = app
        .get(&format!("/api/v1/queue?recipient={over}"), &admin)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["recipient"]);
}
