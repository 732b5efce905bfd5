//! Mail reaches its target, and every attempt is on record.

use crate::helpers::*;
use mxspool_store::targets::TargetState;
use mxspool_testsink::SinkServer;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_is_delivered_to_its_target_and_the_attempt_recorded() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let domain = relay.domain("customer.test", sink.port(), "none");
    let body = message("first delivery");
    let id = relay.enqueue(SENDER, domain, &["bob@customer.test"], &body);
    relay.start(|_| {});

    assert!(
        sink.wait_for(1, Duration::from_secs(10)).await,
        "the target got nothing"
    );
    let got = &sink.messages()[0];
    assert_eq!(got.mail_from, SENDER);
    assert_eq!(got.rcpt_to, vec!["bob@customer.test".to_owned()]);
    assert_eq!(got.data, body, "the text arrives exactly as queued");

    assert!(
        relay
            .wait_state(id, "delivered", Duration::from_secs(5))
            .await
    );
    let d = &relay.deliveries(id)[0];
    assert_eq!(d.attempts, 1);
    assert_eq!(d.last_code, Some(250));
    let attempts = relay.attempts(d.id);
    assert_eq!(attempts.len(), 1);
    let a = &attempts[0];
    assert_eq!(a.outcome, "delivered");
    assert_eq!(a.target_host, "127.0.0.1");
    assert_eq!(a.target_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(a.code, Some(250));
    assert!(a.reply.starts_with("250 2.0.0"), "{}", a.reply);
    assert!(
        a.duration_ms >= 0 && a.duration_ms < 10_000,
        "{}",
        a.duration_ms
    );
    assert!(!a.tls);
    assert!((chrono::Utc::now() - a.started_at).num_seconds() < 30);

    // A target that answered is known to be up, and that is on its timeline.
    let target = relay.target(sink.port()).expect("target row");
    assert_eq!(target.state, TargetState::Up);
    let events = relay.target_events(sink.port());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].state, TargetState::Up);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_recipients_of_one_message_go_in_one_transaction() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let domain = relay.domain("customer.test", sink.port(), "none");
    let id = relay.enqueue(
        SENDER,
        domain,
        &["bob@customer.test", "carol@customer.test"],
        &message("two recipients"),
    );
    relay.start(|_| {});

    assert!(
        relay
            .wait_state(id, "delivered", Duration::from_secs(10))
            .await
    );
    assert_eq!(sink.count(), 1, "one copy of the message");
    assert_eq!(sink.transactions(), 1, "one MAIL FROM");
    let mut rcpts = sink.messages()[0].rcpt_to.clone();
    rcpts.sort();
    assert_eq!(rcpts, vec!["bob@customer.test", "carol@customer.test"]);
    for d in relay.deliveries(id) {
        assert_eq!(
            relay.attempts(d.id).len(),
            1,
            "{}: {:?}",
            d.recipient,
            relay.attempts(d.id)
        );
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opportunistic_tls_delivers_in_plain_text_when_starttls_is_not_offered() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let domain = relay.domain("customer.test", sink.port(), "opportunistic");
    let id = relay.enqueue(
        SENDER,
        domain,
        &["bob@customer.test"],
        &message("opportunistic"),
    );
    relay.start(|_| {});

    assert!(
        relay
            .wait_state(id, "delivered", Duration::from_secs(10))
            .await
    );
    let d = &relay.deliveries(id)[0];
    assert!(!relay.attempts(d.id)[0].tls);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_required_but_not_offered_defers_without_sending() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let domain = relay.domain("customer.test", sink.port(), "required");
    let id = relay.enqueue(
        SENDER,
        domain,
        &["bob@customer.test"],
        &message("tls required"),
    );
    relay.start(|_| {});

    assert!(
        relay
            .eventually(Duration::from_secs(10), |t| t.deliveries(id)[0].attempts
                >= 1)
            .await
    );
    let d = &relay.deliveries(id)[0];
    assert_ne!(d.state, "delivered");
    let a = &relay.attempts(d.id)[0];
    assert_eq!(a.outcome, "deferred");
    assert!(a.reply.contains("STARTTLS"), "{}", a.reply);
    assert_eq!(sink.transactions(), 0, "no MAIL FROM without TLS");
    // The target answered: it is up, not down.
    assert_eq!(
        relay.target(sink.port()).map(|t| t.state),
        Some(TargetState::Up)
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_to_a_target_are_reused() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let domain = relay.domain("customer.test", sink.port(), "none");
    let bodies: Vec<Vec<u8>> = (0..30).map(|i| message(&format!("reuse {i}"))).collect();
    let batch: Vec<(&str, _, &[&str], &[u8])> = bodies
        .iter()
        .map(|b| (SENDER, domain, &["bob@customer.test"][..], b.as_slice()))
        .collect();
    relay.enqueue_many(&batch);
    relay.start(|c| c.workers = 2);

    assert!(sink.wait_for(30, Duration::from_secs(10)).await);
    assert!(
        sink.connections() <= 2,
        "30 messages over {} connections",
        sink.connections()
    );
    relay.stop().await;
}
