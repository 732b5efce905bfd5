//! `/api/v1/webhooks`: CRUD and validation, who sees which events, and real deliveries to an
//! HTTP receiver on loopback whose signatures are checked here independently; events are
//! produced by the same store functions the relay uses (target health, delivery outcomes,
//! expiry, DNS checks) and by the queue itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use hmac::{Hmac, Mac};
use mxspool_api::webhooks::{Dispatcher, WebhookConfig};
use mxspool_store::kinds::DnsStatus;
use mxspool_store::queue::{self, Attempt, AttemptOutcome, IncomingMessage, IncomingRecipient};
use mxspool_store::{domains, targets, DomainId};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

// ---- a real HTTP receiver on loopback ----

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
    at: Instant,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// A minimal HTTP/1.1 server: records each request and answers with the next queued status
/// (200 once the queue is empty), closing the connection after each answer.
#[derive(Clone)]
struct Receiver {
    base: String,
    received: Arc<Mutex<Vec<Received>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let receiver = Receiver {
            base,
            received: Arc::default(),
            statuses: Arc::default(),
        };
        let r = receiver.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let r = r.clone();
                tokio::spawn(async move { r.serve(stream).await });
            }
        });
        receiver
    }

    async fn serve(&self, mut stream: tokio::net::TcpStream) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default();
        let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
        let headers: BTreeMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = buf[head_end + 4..].to_vec();
        while body.len() < length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
        let status = self.statuses.lock().unwrap().pop_front().unwrap_or(200);
        self.received.lock().unwrap().push(Received {
            path,
            headers,
            body,
            at: Instant::now(),
        });
        let answer = format!("answer {status} {}", "x".repeat(3000));
        let response = format!(
            "HTTP/1.1 {status} Status\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
            answer.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn fail_next(&self, statuses: &[u16]) {
        self.statuses
            .lock()
            .unwrap()
            .extend(statuses.iter().copied());
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn of_type(&self, event: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.header("x-mxspool-event") == event)
            .collect()
    }

    /// Waits (up to 15 s) until `count` requests of `event` arrived.
    async fn wait_for(&self, event: &str, count: usize) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.of_type(event);
            if got.len() >= count || start.elapsed() > Duration::from_secs(15) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Checks the signature header the way a receiver would (README's recipe), with the
/// `hmac` crate rather than the server's code.
fn verify(secret: &str, request: &Received) -> bool {
    let header = request.header("x-mxspool-signature");
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_owned()),
            Some(("v1", value)) => v1 = Some(value.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap_or(0);
    if age.abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == v1
}

// ---- set-up ----

/// Short schedules, so retries and thresholds show within a test.
fn fast() -> WebhookConfig {
    WebhookConfig {
        enabled: true,
        retry_schedule: vec![Duration::from_millis(200), Duration::from_millis(400)],
        max_attempts: 3,
        poll_interval: Duration::from_millis(50),
        threshold_interval: Duration::from_millis(100),
        request_timeout: Duration::from_secs(5),
        lease: Duration::from_secs(30),
        batch: 20,
        keep_deliveries: Duration::from_secs(3600),
    }
}

async fn spawn_app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.allow_private_targets = true;
        c.webhooks = fast();
    })
    .await
}

/// Creates a webhook; returns (id, secret).
async fn webhook(app: &TestApp, token: &str, body: Value) -> (i64, String) {
    let reply = app.post("/api/v1/webhooks", token, body).await.expect(201);
    let secret = reply.body["secret"].as_str().expect("secret").to_owned();
    (reply.id(), secret)
}

fn enqueue(app: &TestApp, domain: i64, recipients: &[&str]) {
    let message = IncomingMessage {
        sender: "alice@sender.example".to_owned(),
        client_ip: "198.51.100.7".to_owned(),
        helo: "client.example".to_owned(),
        tls: false,
        subject: Some("quarterly report".to_owned()),
        message_id_header: Some("<1@sender.example>".to_owned()),
        body: b"Subject: quarterly report\r\n\r\nHello.\r\n".to_vec(),
        recipients: recipients
            .iter()
            .map(|r| IncomingRecipient {
                domain_id: Some(DomainId(domain)),
                address: (*r).to_owned(),
                lifetime: Duration::from_secs(3600),
            })
            .collect(),
    };
    let mut conn = app.db.connect();
    queue::enqueue_batch(&mut conn, &[message]).unwrap();
}

/// Claims everything due and records a 550 for each, as the relay's delivery workers do.
fn bounce_all(app: &TestApp) -> usize {
    let mut conn = app.db.connect();
    let claimed =
        queue::claim_due(&mut conn, "test-node", Duration::from_secs(60), 1000, 25).unwrap();
    let attempts: Vec<Attempt> = claimed
        .iter()
        .map(|c| Attempt {
            delivery_id: c.delivery_id,
            domain_id: c.domain_id.map(DomainId),
            outcome: AttemptOutcome::Bounced,
            started_at: chrono::Utc::now(),
            duration: Duration::from_millis(5),
            target_host: c.target_host.clone(),
            target_ip: Some("127.0.0.1".to_owned()),
            source_ip: None,
            tls: false,
            code: Some(550),
            reply: "550 5.1.1 no such user".to_owned(),
        })
        .collect();
    queue::record_attempts(&mut conn, "test-node", &attempts).unwrap();
    claimed.len()
}

async fn deliveries(app: &TestApp, token: &str, hook: i64) -> Vec<Value> {
    app.get(
        &format!("/api/v1/webhooks/{hook}/deliveries?limit=500"),
        token,
    )
    .await
    .expect(200)
    .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits (up to 15 s) until the webhook's deliveries satisfy `done`.
async fn wait_deliveries(
    app: &TestApp,
    token: &str,
    hook: i64,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let items = deliveries(app, token, hook).await;
        if done(&items) || start.elapsed() > Duration::from_secs(15) {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---- CRUD and validation ----

#[tokio::test]
async fn a_webhook_is_created_listed_changed_and_deleted_and_its_secret_shown_only_when_set() {
    let app = spawn_app().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let reply = app
        .post(
            "/api/v1/webhooks",
            &token,
            json!({"url": "https://hooks.example.com/mx", "events": ["target.down", "message.bounced"],
                   "description": "pager"}),
        )
        .await
        .expect(201);
    let id = reply.id();
    let secret = reply.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(reply.body["target_down_grace_seconds"], 300);
    assert_eq!(reply.body["enabled"], true);
    assert_eq!(
        reply.body["events"],
        json!(["message.bounced", "target.down"])
    );

    let shown = app
        .get(&format!("/api/v1/webhooks/{id}"), &token)
        .await
        .expect(200);
    assert!(shown.body.get("secret").is_none(), "{}", shown.body);
    let listed = app.get("/api/v1/webhooks", &token).await.expect(200);
    assert_eq!(listed.item_ids(), vec![id]);
    assert!(listed.body["items"][0].get("secret").is_none());

    let changed = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &token,
            json!({"enabled": false, "description": null, "target_down_grace_seconds": 60}),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["enabled"], false);
    assert_eq!(changed.body["description"], Value::Null);
    assert_eq!(changed.body["target_down_grace_seconds"], 60);
    assert!(changed.body.get("secret").is_none());

    let rotated = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &token,
            json!({"rotate_secret": true}),
        )
        .await
        .expect(200);
    let new_secret = rotated.body["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    app.delete(&format!("/api/v1/webhooks/{id}"), &token)
        .await
        .expect(204);
    app.get(&format!("/api/v1/webhooks/{id}"), &token)
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn bad_webhooks_are_refused_naming_the_field() {
    let app = TestApp::spawn_with(|c| c.allow_private_targets = false).await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let (_, other) = app.customer("d@example.com", 5, false).await;
    let foreign = app
        .create_domain(
            &other,
            json!({"name": "other.example", "target_host": "mail.other.example"}),
        )
        .await
        .expect(201)
        .id();
    let cases = [
        (
            json!({"url": "http://127.0.0.1:8080/x", "events": ["target.up"]}),
            "url",
        ),
        (
            json!({"url": "http://10.0.0.5/x", "events": ["target.up"]}),
            "url",
        ),
        (
            json!({"url": "http://localhost/x", "events": ["target.up"]}),
            "url",
        ),
        (
            json!({"url": "http://[::1]/x", "events": ["target.up"]}),
            "url",
        ),
        (
            json!({"url": "ftp://hooks.example.com/x", "events": ["target.up"]}),
            "url",
        ),
        (
            json!({"url": "https://u:p@hooks.example.com/", "events": ["target.up"]}),
            "url",
        ),
        (json!({"url": "not a url", "events": ["target.up"]}), "url"),
        (
            json!({"url": "https://hooks.example.com/", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": ["target.sideways"]}),
            "events[0]",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": ["queue.threshold"]}),
            "queue_threshold_messages",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": ["target.up"], "target_down_grace_seconds": -1}),
            "target_down_grace_seconds",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": ["queue.threshold"], "queue_threshold_age_seconds": 5}),
            "queue_threshold_age_seconds",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": ["target.up"], "domain_ids": [foreign]}),
            "domain_ids[0]",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": ["target.up"], "colour": "red"}),
            "colour",
        ),
    ];
    for (body, field) in cases {
        let reply = app
            .post("/api/v1/webhooks", &token, body.clone())
            .await
            .expect_problem(422);
        assert!(
            reply.error_fields().iter().any(|f| f == field),
            "{body}: expected {field}, got {}",
            reply.body
        );
    }
    let (id, _) = webhook(
        &app,
        &token,
        json!({"url": "https://hooks.example.com/", "events": ["target.up"]}),
    )
    .await;
    let reply = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &token,
            json!({"url": "http://192.168.1.1/"}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["url"]);
    let reply = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &token,
            json!({"events": ["queue.threshold"]}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["queue_threshold_messages"]);
}

#[tokio::test]
async fn accounts_see_only_their_own_webhooks_and_operators_see_all() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, a) = app.customer("a@example.com", 5, false).await;
    let (_, b) = app.customer("b@example.com", 5, false).await;
    let body = json!({"url": "https://hooks.example.com/", "events": ["target.up"]});
    let (ha, _) = webhook(&app, &a, body.clone()).await;
    let (hb, _) = webhook(&app, &b, body).await;
    assert_eq!(
        app.get("/api/v1/webhooks", &a).await.expect(200).item_ids(),
        vec![ha]
    );
    assert_eq!(
        app.get("/api/v1/webhooks", &admin)
            .await
            .expect(200)
            .item_ids(),
        vec![ha, hb]
    );
    for (method, path) in [
        ("get", format!("/api/v1/webhooks/{hb}")),
        ("patch", format!("/api/v1/webhooks/{hb}")),
        ("delete", format!("/api/v1/webhooks/{hb}")),
        ("get", format!("/api/v1/webhooks/{hb}/deliveries")),
        ("post", format!("/api/v1/webhooks/{hb}/test")),
    ] {
        let reply = match method {
            "get" => app.get(&path, &a).await,
            "patch" => app.patch(&path, &a, json!({"enabled": false})).await,
            "delete" => app.delete(&path, &a).await,
            _ => app.post(&path, &a, json!({})).await,
        };
        reply.expect_problem(404);
    }
    app.get(&format!("/api/v1/webhooks/{hb}"), &b)
        .await
        .expect(200);
}

// ---- deliveries ----

#[tokio::test]
async fn test_ping_is_signed_and_its_outcome_returned_and_logged() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let (id, secret) = webhook(
        &app,
        &token,
        json!({"url": receiver.url("/hook"), "events": ["target.down"]}),
    )
    .await;
    let reply = app
        .post(&format!("/api/v1/webhooks/{id}/test"), &token, json!({}))
        .await
        .expect(200);
    assert_eq!(reply.body["status"], "succeeded", "{}", reply.body);
    assert_eq!(reply.body["last_status_code"], 200);
    assert_eq!(reply.body["attempts"], 1);
    // The response excerpt is bounded.
    assert_eq!(reply.body["last_response"].as_str().unwrap().len(), 1024);
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/hook");
    assert_eq!(got[0].header("x-mxspool-event"), "ping");
    assert_eq!(got[0].header("content-type"), "application/json");
    assert_eq!(
        got[0].header("x-mxspool-delivery"),
        reply.body["id"].to_string()
    );
    assert!(verify(&secret, &got[0]), "signature did not verify");
    assert!(!verify("whsec_wrong", &got[0]));
    assert_eq!(got[0].json()["type"], "ping");
    assert_eq!(got[0].json()["data"]["webhook_id"], id);

    receiver.fail_next(&[503]);
    let reply = app
        .post(&format!("/api/v1/webhooks/{id}/test"), &token, json!({}))
        .await
        .expect(200);
    assert_eq!(reply.body["status"], "failed");
    assert_eq!(reply.body["last_status_code"], 503);
    assert_eq!(reply.body["last_error"], "HTTP status 503");
    let log = deliveries(&app, &token, id).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["status"], "failed", "newest first");
    assert_eq!(log[1]["status"], "succeeded");
}

#[tokio::test]
async fn private_addresses_are_refused_again_when_sending() {
    // A webhook stored with a loopback URL (say, before the operator turned private
    // targets off) is not sent to.
    let app = TestApp::spawn_with(|c| {
        c.allow_private_targets = false;
        c.webhooks = fast();
    })
    .await;
    let receiver = Receiver::start().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let (id, _) = webhook(
        &app,
        &token,
        json!({"url": "https://hooks.example.com/", "events": ["target.down"]}),
    )
    .await;
    app.sql(&format!(
        "UPDATE webhooks SET url = '{}' WHERE id = {id}",
        receiver.url("/x")
    ))
    .await;
    let reply = app
        .post(&format!("/api/v1/webhooks/{id}/test"), &token, json!({}))
        .await
        .expect(200);
    assert_eq!(reply.body["status"], "failed");
    let error = reply.body["last_error"].as_str().unwrap();
    assert!(error.contains("refused"), "{error}");
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_back_off_then_given_up_and_can_be_resent() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let domain = app.domain(&token, "retry.example").await;
    let (id, secret) = webhook(
        &app,
        &token,
        json!({"url": receiver.url("/hook"), "events": ["message.bounced"]}),
    )
    .await;

    // Two failures, then success: three requests for one delivery, spaced by the schedule.
    receiver.fail_next(&[500, 500]);
    enqueue(&app, domain, &["bob@retry.example"]);
    assert_eq!(bounce_all(&app), 1);
    let got = receiver.wait_for("message.bounced", 3).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|r| verify(&secret, r)));
    let delivery_ids: Vec<&str> = got.iter().map(|r| r.header("x-mxspool-delivery")).collect();
    assert!(delivery_ids.iter().all(|d| *d == delivery_ids[0]));
    assert!(got[1].at - got[0].at >= Duration::from_millis(200));
    assert!(got[2].at - got[1].at >= Duration::from_millis(400));
    let log = wait_deliveries(&app, &token, id, |l| {
        l.first().is_some_and(|d| d["status"] == "succeeded")
    })
    .await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(log[0]["last_status_code"], 200);
    assert_eq!(log[0]["event_type"], "message.bounced");

    // Failing every time: given up after max_attempts (3), with the last answer kept.
    receiver.fail_next(&[500, 502, 503]);
    enqueue(&app, domain, &["carol@retry.example"]);
    assert_eq!(bounce_all(&app), 1);
    let log = wait_deliveries(&app, &token, id, |l| {
        l.len() == 2 && l[0]["status"] == "failed"
    })
    .await;
    assert_eq!(log[0]["status"], "failed", "{log:?}");
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(log[0]["last_status_code"], 503);
    assert_eq!(log[0]["next_attempt_at"], Value::Null);
    assert!(log[0]["last_response"]
        .as_str()
        .unwrap()
        .starts_with("answer 503"));
    assert_eq!(receiver.of_type("message.bounced").len(), 6);

    // Resend: sent again (the receiver now answers 200).
    let failed = log[0]["id"].as_i64().unwrap();
    let reply = app
        .post(
            &format!("/api/v1/webhooks/{id}/deliveries/{failed}/resend"),
            &token,
            json!({}),
        )
        .await
        .expect(202);
    assert_eq!(reply.body["status"], "pending");
    let got = receiver.wait_for("message.bounced", 7).await;
    assert_eq!(got.len(), 7);
    assert_eq!(got[6].header("x-mxspool-delivery"), failed.to_string());
    assert_eq!(got[6].json()["data"]["recipient"], "carol@retry.example");
    wait_deliveries(&app, &token, id, |l| l[0]["status"] == "succeeded").await;
    app.post(
        &format!("/api/v1/webhooks/{id}/deliveries/99999/resend"),
        &token,
        json!({}),
    )
    .await
    .expect_problem(404);
}

#[tokio::test]
async fn deliveries_are_listed_in_pages() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let (id, _) = webhook(
        &app,
        &token,
        json!({"url": receiver.url("/"), "events": ["target.down"]}),
    )
    .await;
    for _ in 0..5 {
        app.post(&format!("/api/v1/webhooks/{id}/test"), &token, json!({}))
            .await
            .expect(200);
    }
    let first = app
        .get(&format!("/api/v1/webhooks/{id}/deliveries?limit=2"), &token)
        .await
        .expect(200);
    let mut seen = first.item_ids();
    let mut cursor = first.body["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let page = app
            .get(
                &format!("/api/v1/webhooks/{id}/deliveries?limit=2&cursor={c}"),
                &token,
            )
            .await
            .expect(200);
        seen.extend(page.item_ids());
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, no repeats");
    app.get(&format!("/api/v1/webhooks/{id}/deliveries?limit=0"), &token)
        .await
        .expect_problem(422);
}

// ---- events from real state changes ----

#[tokio::test]
async fn bounced_mail_reaches_exactly_the_accounts_that_may_see_its_domain() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let admin = app.admin_token().await;
    let (_, a) = app.customer("a@example.com", 5, true).await;
    let (_, b) = app.customer("b@example.com", 5, false).await;
    let (da_id, da) = app.domain_admin(&a, "da@example.com").await;
    let a1 = app.domain(&a, "a1.example").await;
    let a2 = app.domain(&a, "a2.example").await;
    let b1 = app.domain(&b, "b1.example").await;
    app.put(&format!("/api/v1/domains/{a2}/admins/{da_id}"), &a)
        .await
        .expect(204);
    let events = json!(["message.bounced"]);
    webhook(
        &app,
        &admin,
        json!({"url": receiver.url("/admin"), "events": events}),
    )
    .await;
    webhook(
        &app,
        &a,
        json!({"url": receiver.url("/a"), "events": events}),
    )
    .await;
    webhook(
        &app,
        &a,
        json!({"url": receiver.url("/a-only-a1"), "events": events, "domain_ids": [a1]}),
    )
    .await;
    webhook(
        &app,
        &b,
        json!({"url": receiver.url("/b"), "events": events}),
    )
    .await;
    webhook(
        &app,
        &da,
        json!({"url": receiver.url("/da"), "events": events}),
    )
    .await;
    // Subscribed to something else: gets nothing.
    webhook(
        &app,
        &admin,
        json!({"url": receiver.url("/other"), "events": ["target.up"]}),
    )
    .await;

    enqueue(&app, a1, &["x@a1.example"]);
    enqueue(&app, a2, &["y@a2.example"]);
    enqueue(&app, b1, &["z@b1.example"]);
    assert_eq!(bounce_all(&app), 3);
    // 3 (admin) + 2 (a) + 1 (a-only-a1) + 1 (b) + 1 (da) = 8.
    let got = receiver.wait_for("message.bounced", 8).await;
    let mut by_path: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &got {
        let body = r.json();
        by_path
            .entry(r.path.clone())
            .or_default()
            .push(body["data"]["domain"]["name"].as_str().unwrap().to_owned());
    }
    for list in by_path.values_mut() {
        list.sort();
    }
    let expected: BTreeMap<String, Vec<String>> = [
        ("/admin", vec!["a1.example", "a2.example", "b1.example"]),
        ("/a", vec!["a1.example", "a2.example"]),
        ("/a-only-a1", vec!["a1.example"]),
        ("/b", vec!["b1.example"]),
        ("/da", vec!["a2.example"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(by_path, expected);
    let sample = got.iter().find(|r| r.path == "/b").unwrap().json();
    assert_eq!(sample["type"], "message.bounced");
    assert_eq!(sample["data"]["recipient"], "z@b1.example");
    assert_eq!(sample["data"]["sender"], "alice@sender.example");
    assert_eq!(sample["data"]["last_code"], 550);
    assert_eq!(sample["data"]["domain"]["id"], b1);
    assert!(sample["id"].is_i64());
}

#[tokio::test]
async fn expired_mail_is_reported() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let domain = app.domain(&token, "late.example").await;
    let (_, secret) = webhook(
        &app,
        &token,
        json!({"url": receiver.url("/"), "events": ["message.expired"]}),
    )
    .await;
    enqueue(&app, domain, &["old@late.example"]);
    app.sql("UPDATE deliveries SET expires_at = now() - interval '1 second'")
        .await;
    let mut conn = app.db.connect();
    assert_eq!(queue::expire_due(&mut conn, 100).unwrap().len(), 1);
    let got = receiver.wait_for("message.expired", 1).await;
    assert_eq!(got.len(), 1);
    assert!(verify(&secret, &got[0]));
    let body = got[0].json();
    assert_eq!(body["data"]["recipient"], "old@late.example");
    assert_eq!(body["data"]["domain"]["name"], "late.example");
}

#[tokio::test]
async fn a_failed_dns_check_is_reported_once_per_turn_to_error() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let domain = app.domain(&token, "dns.example").await;
    webhook(
        &app,
        &token,
        json!({"url": receiver.url("/"), "events": ["domain.dns_error"]}),
    )
    .await;
    let mut conn = app.db.connect();
    let check = json!({"mx": {"status": "error", "detail": "no MX record for the backup"}});
    for status in [
        DnsStatus::Ok,
        DnsStatus::Error,
        DnsStatus::Error,
        DnsStatus::Ok,
        DnsStatus::Error,
    ] {
        domains::record_dns_check(
            &mut conn,
            DomainId(domain),
            status,
            chrono::Utc::now(),
            &check,
        )
        .unwrap();
    }
    let got = receiver.wait_for("domain.dns_error", 2).await;
    assert_eq!(got.len(), 2, "ok→error twice");
    let body = got[0].json();
    assert_eq!(body["data"]["domain"]["name"], "dns.example");
    assert_eq!(body["data"]["previous_status"], "ok");
    assert_eq!(body["data"]["check"], check);
}

#[tokio::test]
async fn target_down_waits_for_the_grace_period_and_up_follows_only_a_reported_down() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let domain = app.domain(&token, "t.example").await;
    let events = json!(["target.down", "target.up"]);
    let (now_hook, secret) = webhook(
        &app,
        &token,
        json!({"url": receiver.url("/now"), "events": events, "target_down_grace_seconds": 0}),
    )
    .await;
    let (patient, _) = webhook(
        &app,
        &token,
        json!({"url": receiver.url("/patient"), "events": events, "target_down_grace_seconds": 2}),
    )
    .await;
    let mut conn = app.db.connect();
    let probe = Duration::from_secs(5);

    // A short outage: reported at once to the impatient webhook, never to the patient one.
    assert!(targets::mark_down(&mut conn, "127.0.0.1", 25, "connection refused", probe).unwrap());
    let down = receiver.wait_for("target.down", 1).await;
    assert_eq!(down.len(), 1);
    assert_eq!(down[0].path, "/now");
    assert!(verify(&secret, &down[0]));
    let body = down[0].json();
    assert_eq!(body["data"]["host"], "127.0.0.1");
    assert_eq!(body["data"]["port"], 25);
    assert_eq!(body["data"]["error"], "connection refused");
    assert_eq!(
        body["data"]["domains"],
        json!([{"id": domain, "name": "t.example"}])
    );
    targets::mark_up(&mut conn, "127.0.0.1", 25, "220 ready").unwrap();
    let up = receiver.wait_for("target.up", 1).await;
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].path, "/now");
    let log = wait_deliveries(&app, &token, patient, |l| {
        l.first().is_some_and(|d| d["status"] == "cancelled")
    })
    .await;
    assert_eq!(
        log.len(),
        1,
        "the up after a short down is not sent: {log:?}"
    );
    assert_eq!(log[0]["status"], "cancelled");
    assert_eq!(log[0]["attempts"], 0);

    // A long outage: the patient webhook hears of it after its grace period, then of the up.
    assert!(targets::mark_down(&mut conn, "127.0.0.1", 25, "timed out", probe).unwrap());
    let down = receiver.wait_for("target.down", 3).await;
    assert_eq!(down.len(), 3, "{down:?}");
    let patient_down = down.iter().find(|r| r.path == "/patient").unwrap();
    assert!(patient_down.at - down[1].at >= Duration::from_millis(1500));
    assert_eq!(patient_down.json()["data"]["grace_seconds"], 2);
    targets::mark_up(&mut conn, "127.0.0.1", 25, "220 ready").unwrap();
    let up = receiver.wait_for("target.up", 3).await;
    let paths: Vec<&str> = up.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(paths.contains(&"/patient"));
    let body = up.iter().find(|r| r.path == "/patient").unwrap().json();
    assert!(body["data"]["down_seconds"].as_i64().unwrap() >= 2);
    let _ = now_hook;
}

#[tokio::test]
async fn a_queue_over_its_threshold_is_reported_once_per_crossing() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let busy = app.domain(&token, "busy.example").await;
    let quiet = app.domain(&token, "quiet.example").await;
    webhook(
        &app,
        &token,
        json!({"url": receiver.url("/"), "events": ["queue.threshold"],
               "queue_threshold_messages": 2}),
    )
    .await;
    enqueue(
        &app,
        busy,
        &["a@busy.example", "b@busy.example", "c@busy.example"],
    );
    enqueue(&app, quiet, &["a@quiet.example"]);
    let got = receiver.wait_for("queue.threshold", 1).await;
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["data"]["domain"]["name"], "busy.example");
    assert_eq!(body["data"]["exceeded"], json!(["messages"]));
    assert_eq!(body["data"]["queued_at_least"], 3);
    assert_eq!(body["data"]["threshold_messages"], 2);

    // Still over: nothing new, however many evaluations pass; back under, then over: again.
    enqueue(&app, busy, &["d@busy.example"]);
    let rounds_before = Instant::now();
    while rounds_before.elapsed() < Duration::from_millis(600) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(receiver.of_type("queue.threshold").len(), 1);
    app.sql(&format!(
        "UPDATE deliveries SET state = 'delivered' WHERE domain_id = {busy}"
    ))
    .await;
    let start = Instant::now();
    loop {
        let mut conn = app.db.connect();
        use diesel::prelude::*;
        let raised: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "SELECT count(*) FROM webhook_queue_alerts",
        )
        .get_result(&mut conn)
        .unwrap();
        if raised == 0 || start.elapsed() > Duration::from_secs(10) {
            assert_eq!(raised, 0, "the alert is re-armed");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    enqueue(
        &app,
        busy,
        &["e@busy.example", "f@busy.example", "g@busy.example"],
    );
    let got = receiver.wait_for("queue.threshold", 2).await;
    assert_eq!(got.len(), 2);
}

#[tokio::test]
async fn the_age_threshold_reports_old_waiting_mail() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let domain = app.domain(&token, "slow.example").await;
    webhook(
        &app,
        &token,
        json!({"url": receiver.url("/"), "events": ["queue.threshold"],
               "queue_threshold_age_seconds": 600}),
    )
    .await;
    enqueue(&app, domain, &["a@slow.example"]);
    app.sql("UPDATE deliveries SET created_at = now() - interval '1 hour'")
        .await;
    let got = receiver.wait_for("queue.threshold", 1).await;
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["data"]["exceeded"], json!(["age"]));
    assert!(body["data"]["oldest_age_seconds"].as_i64().unwrap() >= 3600);
}

#[tokio::test]
async fn two_dispatchers_deliver_each_event_once() {
    let app = TestApp::spawn_with(|c| {
        c.allow_private_targets = true;
        c.webhooks = WebhookConfig {
            enabled: false,
            ..fast()
        };
    })
    .await;
    let receiver = Receiver::start().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let domain = app.domain(&token, "many.example").await;
    let (id, secret) = webhook(
        &app,
        &token,
        json!({"url": receiver.url("/"), "events": ["message.bounced"]}),
    )
    .await;
    let recipients: Vec<String> = (0..40).map(|i| format!("r{i}@many.example")).collect();
    let refs: Vec<&str> = recipients.iter().map(String::as_str).collect();
    enqueue(&app, domain, &refs);
    assert_eq!(bounce_all(&app), 40);
    let pool = mxspool_store::build_pool(&app.db.url(), 4);
    let config = WebhookConfig { batch: 5, ..fast() };
    let one = tokio::spawn(Dispatcher::new(pool.clone(), config.clone(), true).run());
    let two = tokio::spawn(Dispatcher::new(pool, config, true).run());
    let log = wait_deliveries(&app, &token, id, |l| {
        l.len() == 40 && l.iter().all(|d| d["status"] == "succeeded")
    })
    .await;
    one.abort();
    two.abort();
    assert_eq!(log.len(), 40);
    assert!(log
        .iter()
        .all(|d| d["status"] == "succeeded" && d["attempts"] == 1));
    // Every delivery is recorded as succeeded only after its request was answered, so all
    // requests have arrived: exactly one per event.
    let got = receiver.of_type("message.bounced");
    assert_eq!(got.len(), 40);
    let mut seen: Vec<String> = got
        .iter()
        .map(|r| r.json()["data"]["recipient"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 40);
    assert!(got.iter().all(|r| verify(&secret, r)));
}

#[tokio::test]
async fn finished_deliveries_leave_the_log_after_the_retention_time() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let (id, _) = webhook(
        &app,
        &token,
        json!({"url": receiver.url("/"), "events": ["target.down"]}),
    )
    .await;
    for _ in 0..3 {
        app.post(&format!("/api/v1/webhooks/{id}/test"), &token, json!({}))
            .await
            .expect(200);
    }
    let log = deliveries(&app, &token, id).await;
    let old = log[2]["id"].as_i64().unwrap();
    // fast() keeps finished deliveries an hour.
    app.sql(&format!(
        "UPDATE webhook_deliveries SET updated_at = now() - interval '2 hours' WHERE id = {old}"
    ))
    .await;
    let log = wait_deliveries(&app, &token, id, |l| l.len() == 2).await;
    let ids: Vec<i64> = log.iter().map(|d| d["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(!ids.contains(&old));
}

#[tokio::test]
async fn keys_restricted_to_domains_cannot_manage_webhooks() {
    let app = spawn_app().await;
    let (_, token) = app.customer("c@example.com", 5, false).await;
    let domain = app.domain(&token, "k.example").await;
    let key = app
        .create_api_key(
            &token,
            json!({"name": "narrow", "scopes": ["read", "write"], "domain_ids": [domain]}),
        )
        .await
        .expect(201);
    let secret = key.body["secret"].as_str().unwrap();
    app.get("/api/v1/webhooks", secret)
        .await
        .expect_problem(403);
    app.post(
        "/api/v1/webhooks",
        secret,
        json!({"url": "https://hooks.example.com/", "events": ["target.up"]}),
    )
    .await
    .expect_problem(403);
    let open = app
        .create_api_key(&token, json!({"name": "wide", "scopes": ["read", "write"]}))
        .await
        .expect(201);
    app.post(
        "/api/v1/webhooks",
        open.body["secret"].as_str().unwrap(),
        json!({"url": "https://hooks.example.com/", "events": ["target.up"]}),
    )
    .await
    .expect(201);
}
