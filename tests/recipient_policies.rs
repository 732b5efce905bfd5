//! Recipient policies through the real binary: a customer uploads its recipient list through
//! the API and switches policies, and the relay's RCPT answers follow, with a real SMTP target
//! answering the callouts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use mxspool_testdb::TestDb;
use mxspool_testsink::SinkServer;
use serde_json::json;
use std::time::{Duration, Instant};
use support::{create_domain, Mxspool, SmtpClient};

const PASSWORD: &str = "recipient policy test password";
const DOMAIN: &str = "example.test";

/// The relay's reply to `RCPT TO:<address>` in a fresh transaction.
async fn rcpt(smtp: &str, address: &str) -> String {
    let (mut c, _) = SmtpClient::connect(smtp).await.unwrap();
    c.cmd("EHLO client.test").await.unwrap();
    c.cmd("MAIL FROM:<sender@client.test>").await.unwrap();
    c.cmd(&format!("RCPT TO:<{address}>")).await.unwrap()
}

/// Waits until `address` gets a reply starting with `expected` (the relay reloads its domain
/// table within a second of a change; allow for a loaded machine).
async fn wait_for_reply(smtp: &str, address: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = rcpt(smtp, address).await;
        if reply.starts_with(expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "RCPT TO:<{address}> still answered {reply:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_customer_uploads_its_list_and_switches_policies_and_the_relay_follows() {
    let db = TestDb::new();
    let sink = SinkServer::start().await.unwrap();
    sink.set_rcpt_reply(&format!("carol@{DOMAIN}"), Some("550 5.1.1 no such user"));
    let env = vec![
        ("DATABASE_URL", db.url()),
        ("MXSPOOL_ALLOW_PRIVATE_TARGETS", "true".to_owned()),
        ("MXSPOOL_ADMIN_PASSWORD", PASSWORD.to_owned()),
        ("MXSPOOL_HTTP_WORKERS", "1".to_owned()),
        ("MXSPOOL_BOUNCES", "log".to_owned()),
    ];
    let mx = tokio::task::spawn_blocking(move || Mxspool::start("serve", &env))
        .await
        .unwrap();
    let smtp = mx.smtp.clone().unwrap();
    let api = mx.api.clone().unwrap();
    let (token, id) = create_domain(&api, PASSWORD, DOMAIN, sink.port()).await;
    let client = reqwest::Client::new();

    let uploaded: serde_json::Value = client
        .put(format!("{api}/api/v1/domains/{id}/recipients"))
        .bearer_auth(&token)
        .json(&json!({"recipients": ["Alice", format!("bob@{DOMAIN}")]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        uploaded,
        json!({"added": 2, "removed": 0, "unchanged": 0, "total": 2})
    );
    let patch = |body: serde_json::Value| {
        client
            .patch(format!("{api}/api/v1/domains/{id}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    assert_eq!(
        patch(json!({"recipient_policy": "listed"}))
            .await
            .unwrap()
            .status(),
        200
    );
    wait_for_reply(&smtp, &format!("nobody@{DOMAIN}"), "550 5.1.1").await;
    assert!(rcpt(&smtp, &format!("ALICE@{DOMAIN}"))
        .await
        .starts_with("250"));
    assert!(rcpt(&smtp, &format!("bob@{DOMAIN}"))
        .await
        .starts_with("250"));

    // `verify`: the target decides.
    assert_eq!(
        patch(json!({"recipient_policy": "verify"}))
            .await
            .unwrap()
            .status(),
        200
    );
    wait_for_reply(&smtp, &format!("nobody@{DOMAIN}"), "250").await;
    assert!(rcpt(&smtp, &format!("carol@{DOMAIN}"))
        .await
        .starts_with("550 5.1.1"));
    let callouts = sink.connections();
    assert!(rcpt(&smtp, &format!("carol@{DOMAIN}"))
        .await
        .starts_with("550 5.1.1"));
    assert_eq!(sink.connections(), callouts, "the refusal was cached");
    assert_eq!(sink.count(), 0, "callouts send no mail");

    // Backup-only: the primary answers, so senders are sent to it.
    assert_eq!(
        patch(json!({"accept_only_when_primary_down": true}))
            .await
            .unwrap()
            .status(),
        200
    );
    wait_for_reply(&smtp, &format!("nobody@{DOMAIN}"), "451 4.7.1").await;
    mx.stop();
}
