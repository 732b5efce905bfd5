//! The relay through the real binary: a real SMTP client, a real SMTP target (the test sink),
//! a real PostgreSQL, and processes that are killed for real.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use mxspool_testdb::TestDb;
use mxspool_testsink::SinkServer;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{create_domain, tag_of, tagged_message, Mxspool, SmtpClient};

const PASSWORD: &str = "relay test password";
const DOMAIN: &str = "example.test";

/// Settings that make the relay quick to react in tests.
fn env(db: &TestDb) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", db.url()),
        ("MXSPOOL_ALLOW_PRIVATE_TARGETS", "true".into()),
        ("MXSPOOL_ADMIN_PASSWORD", PASSWORD.into()),
        ("MXSPOOL_LEASE_SECONDS", "3".into()),
        ("MXSPOOL_RETRY_SCHEDULE", "1s".into()),
        ("MXSPOOL_PROBE_INTERVAL_SECONDS", "0.2".into()),
        ("MXSPOOL_PROBE_MAX_SECONDS", "1".into()),
        ("MXSPOOL_HTTP_WORKERS", "1".into()),
        ("MXSPOOL_BOUNCES", "log".into()),
    ]
}

async fn start(command: &'static str, env: Vec<(&'static str, String)>) -> Mxspool {
    tokio::task::spawn_blocking(move || Mxspool::start(command, &env))
        .await
        .unwrap()
}

/// Waits until the relay at `smtp` accepts recipients of the domain (it reloads its domain
/// table within a second of a change).
async fn wait_until_relaying(smtp: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (mut c, _) = SmtpClient::connect(smtp).await.unwrap();
        c.cmd("EHLO client.test").await.unwrap();
        c.cmd("MAIL FROM:<probe@client.test>").await.unwrap();
        if c.cmd(&format!("RCPT TO:<rcpt@{DOMAIN}>"))
            .await
            .unwrap()
            .starts_with("250")
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the relay never accepted {DOMAIN}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends one tagged message on a new connection; `Ok(true)` when it was acknowledged.
async fn send_tagged(smtp: &str, tag: &str) -> std::io::Result<bool> {
    let (mut c, _) = SmtpClient::connect(smtp).await?;
    c.cmd("EHLO client.test").await?;
    let reply = c
        .send(
            "sender@client.test",
            &[&format!("rcpt@{DOMAIN}")],
            &tagged_message(tag),
        )
        .await?;
    let _ = c.cmd("QUIT").await;
    Ok(reply.starts_with("250"))
}

/// Tags received by the sink, with how often each arrived.
fn received(sink: &SinkServer) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for m in sink.messages() {
        if let Some(tag) = tag_of(&m.data) {
            *seen.entry(tag).or_insert(0) += 1;
        }
    }
    seen
}

async fn wait_for_tags(sink: &SinkServer, tags: &BTreeSet<String>, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let seen = received(sink);
        if tags.iter().all(|t| seen.contains_key(t)) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_for_a_relay_domain_is_delivered_to_its_target() {
    let db = TestDb::new();
    let sink = SinkServer::start().await.unwrap();
    let mx = start("serve", env(&db)).await;
    let smtp = mx.smtp.clone().unwrap();
    create_domain(mx.api.as_deref().unwrap(), PASSWORD, DOMAIN, sink.port()).await;
    wait_until_relaying(&smtp).await;

    let (mut c, banner) = SmtpClient::connect(&smtp).await.unwrap();
    assert!(banner.starts_with("220 backup-mx.mxspool.test"), "{banner}");
    c.cmd("EHLO client.test").await.unwrap();
    let reply = c
        .send(
            "sender@client.test",
            &["alice@example.test", "bob@EXAMPLE.test"],
            &tagged_message("first"),
        )
        .await
        .unwrap();
    assert!(reply.starts_with("250 2.0.0 Ok: queued as "), "{reply}");
    // Another domain is never relayed.
    c.cmd("MAIL FROM:<sender@client.test>").await.unwrap();
    let refused = c.cmd("RCPT TO:<someone@elsewhere.test>").await.unwrap();
    assert!(refused.starts_with("550 5.7.1"), "{refused}");

    assert!(
        sink.wait_for(1, Duration::from_secs(10)).await,
        "nothing delivered"
    );
    let got = &sink.messages()[0];
    assert_eq!(got.mail_from, "sender@client.test");
    assert_eq!(got.rcpt_to.len(), 2, "both recipients in one transaction");
    let text = got.text();
    assert!(text.starts_with("Received: from client.test"), "{text}");
    assert!(text.contains("Subject: first"));
    mx.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_queued_while_the_target_is_down_is_delivered_soon_after_it_returns() {
    let db = TestDb::new();
    // Reserve a port for the target, then take it down.
    let sink = SinkServer::start().await.unwrap();
    let target = sink.addr();
    sink.stop();
    let mx = start("serve", env(&db)).await;
    let smtp = mx.smtp.clone().unwrap();
    create_domain(mx.api.as_deref().unwrap(), PASSWORD, DOMAIN, target.port()).await;
    wait_until_relaying(&smtp).await;

    let mut tags = BTreeSet::new();
    for i in 0..5 {
        let tag = format!("while-down-{i}");
        assert!(send_tagged(&smtp, &tag).await.unwrap());
        tags.insert(tag);
    }
    // The first attempt finds the target down; let the relay notice.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let back = Instant::now();
    let sink = SinkServer::start_on(target).await.unwrap();
    assert!(
        wait_for_tags(&sink, &tags, Duration::from_secs(10)).await,
        "queued mail not delivered after the target came back"
    );
    // Probe interval (0.2 s, backing off to at most 1 s) + 2 s.
    let took = back.elapsed();
    assert!(took < Duration::from_secs(3), "drained in {took:?}");
    mx.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sigkill_during_a_load_loses_no_acknowledged_message() {
    let db = TestDb::new();
    let sink = SinkServer::start().await.unwrap();
    let mx = start("serve", env(&db)).await;
    let smtp = mx.smtp.clone().unwrap();
    create_domain(mx.api.as_deref().unwrap(), PASSWORD, DOMAIN, sink.port()).await;
    wait_until_relaying(&smtp).await;

    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let mut clients = Vec::new();
    for client in 0..8 {
        let smtp = smtp.clone();
        let acked = acked.clone();
        clients.push(tokio::spawn(async move {
            for i in 0..100 {
                let tag = format!("load-{client}-{i}");
                match send_tagged(&smtp, &tag).await {
                    Ok(true) => {
                        acked.lock().unwrap().insert(tag);
                    }
                    Ok(false) => {}
                    Err(_) => return, // the relay died under us
                }
            }
        }));
    }
    // Kill it in the middle of the load.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 150 {
        assert!(Instant::now() < deadline, "the load did not get going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    mx.kill9();
    for c in clients {
        c.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 150);

    // A new process on the same database finishes the job.
    let again = start("relay", env(&db)).await;
    assert!(
        wait_for_tags(&sink, &acked, Duration::from_secs(30)).await,
        "acknowledged messages were lost: {} acknowledged, {} of them received",
        acked.len(),
        received(&sink)
            .keys()
            .filter(|t| acked.contains(*t))
            .count()
    );
    let seen = received(&sink);
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    println!(
        "acknowledged {}, received {} distinct, {duplicates} duplicates (in flight at the kill)",
        acked.len(),
        seen.len()
    );
    again.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn two_relays_on_one_database_deliver_each_message_once_and_take_over_after_a_crash() {
    let db = TestDb::new();
    let sink = SinkServer::start().await.unwrap();
    let a = start("serve", env(&db)).await;
    let b = start("relay", env(&db)).await;
    let (a_smtp, b_smtp) = (a.smtp.clone().unwrap(), b.smtp.clone().unwrap());
    create_domain(a.api.as_deref().unwrap(), PASSWORD, DOMAIN, sink.port()).await;
    wait_until_relaying(&a_smtp).await;
    wait_until_relaying(&b_smtp).await;

    // Normal operation: 100 messages through each node, each delivered exactly once.
    let mut tags = BTreeSet::new();
    for i in 0..100 {
        for (node, smtp) in [("a", &a_smtp), ("b", &b_smtp)] {
            let tag = format!("{node}-{i}");
            assert!(send_tagged(smtp, &tag).await.unwrap());
            tags.insert(tag);
        }
    }
    assert!(wait_for_tags(&sink, &tags, Duration::from_secs(30)).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen = received(&sink);
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(seen.len(), 200);

    // Crash: node A holds leases on mail the slow target is taking, and dies. Node B may
    // claim some of that mail itself and wait on the slow target too, so the delay is short
    // enough for its own deliveries to finish within the wait below; A's mail can only
    // arrive through B taking over A's leases, since A dies before the target answers.
    sink.set_data_delay(Some(Duration::from_secs(6)));
    let mut slow = BTreeSet::new();
    for i in 0..10 {
        let tag = format!("slow-{i}");
        assert!(send_tagged(&a_smtp, &tag).await.unwrap());
        slow.insert(tag);
    }
    let mut conn = db.connect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        use diesel::prelude::*;
        let delivering: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "SELECT count(*) FROM deliveries WHERE state = 'delivering' AND lease_owner LIKE '%:{}:%'",
            a.pid()
        ))
        .get_result(&mut conn)
        .unwrap();
        if delivering > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node A never claimed the slow mail"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.kill9();
    sink.set_data_delay(None);
    let killed = Instant::now();
    assert!(
        wait_for_tags(&sink, &slow, Duration::from_secs(20)).await,
        "node B did not take over node A's leased mail"
    );
    // Lease (3 s) + reaping and delivery.
    assert!(
        killed.elapsed() < Duration::from_secs(10),
        "took {:?}",
        killed.elapsed()
    );
    b.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_database_going_away_mid_session_answers_451_and_the_relay_recovers() {
    let db = TestDb::new();
    let sink = SinkServer::start().await.unwrap();
    let mx = start("serve", env(&db)).await;
    let smtp = mx.smtp.clone().unwrap();
    create_domain(mx.api.as_deref().unwrap(), PASSWORD, DOMAIN, sink.port()).await;
    wait_until_relaying(&smtp).await;

    let (mut c, _) = SmtpClient::connect(&smtp).await.unwrap();
    c.cmd("EHLO client.test").await.unwrap();
    c.cmd("MAIL FROM:<sender@client.test>").await.unwrap();
    assert!(c
        .cmd(&format!("RCPT TO:<rcpt@{DOMAIN}>"))
        .await
        .unwrap()
        .starts_with("250"));
    assert!(c.cmd("DATA").await.unwrap().starts_with("354"));

    // The database goes away while the message is being sent.
    let mut server = db.connect_server();
    {
        use diesel::connection::SimpleConnection;
        let name = db.name();
        server
            .batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
            .unwrap();
        server
            .batch_execute(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ))
            .unwrap();
    }
    c.write_raw(format!("{}.\r\n", tagged_message("during-outage")).as_bytes())
        .await
        .unwrap();
    let reply = c.reply().await.unwrap();
    assert!(reply.starts_with("451 4.3.0"), "{reply}");
    let _ = c.cmd("QUIT").await;

    {
        use diesel::connection::SimpleConnection;
        server
            .batch_execute(&format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS true",
                db.name()
            ))
            .unwrap();
    }
    let mut recovered = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if send_tagged(&smtp, "after-outage").await.unwrap_or(false) {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        recovered,
        "the relay did not accept mail after the database came back"
    );
    let expected: BTreeSet<String> = ["after-outage".to_owned()].into();
    assert!(wait_for_tags(&sink, &expected, Duration::from_secs(10)).await);
    assert!(
        !received(&sink).contains_key("during-outage"),
        "a message answered 451 was delivered"
    );
    mx.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn disabling_a_domain_through_the_api_reaches_new_sessions_at_once() {
    let db = TestDb::new();
    let sink = SinkServer::start().await.unwrap();
    let mx = start("serve", env(&db)).await;
    let smtp = mx.smtp.clone().unwrap();
    let api = mx.api.clone().unwrap();
    let (token, id) = create_domain(&api, PASSWORD, DOMAIN, sink.port()).await;
    wait_until_relaying(&smtp).await;

    let patched = reqwest::Client::new()
        .patch(format!("{api}/api/v1/domains/{id}"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let changed = Instant::now();
    // The relay checks the domain table's version every 250 ms; allow for a loaded machine.
    loop {
        let (mut c, _) = SmtpClient::connect(&smtp).await.unwrap();
        c.cmd("EHLO client.test").await.unwrap();
        c.cmd("MAIL FROM:<sender@client.test>").await.unwrap();
        let reply = c.cmd(&format!("RCPT TO:<rcpt@{DOMAIN}>")).await.unwrap();
        if reply.starts_with("550 5.7.1") {
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_secs(2),
            "a disabled domain was still relayed after {:?}",
            changed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    mx.stop();
}
