//! The reply decides each recipient's fate: 2xx delivered, 4xx deferred and retried, 5xx
//! bounced, each recipient judged on its own.

use crate::helpers::*;
use mxspool_testsink::SinkServer;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_temporary_failure_is_deferred_then_delivered_when_the_target_accepts() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    sink.set_data_reply(Some("451 4.3.0 try again later"));
    let domain = relay.domain("customer.test", sink.port(), "none");
    let id = relay.enqueue(SENDER, domain, &["bob@customer.test"], &message("later"));
    relay.start(|_| {});

    assert!(
        relay
            .eventually(Duration::from_secs(10), |t| t.deliveries(id)[0].attempts
                >= 1)
            .await
    );
    let d = relay.deliveries(id)[0].clone();
    assert_eq!(d.state, "deferred");
    assert_eq!(d.last_code, Some(451));
    assert_eq!(d.last_reply.as_deref(), Some("451 4.3.0 try again later"));
    // Next attempt by the retry schedule (1 s in tests).
    let wait = d.next_attempt_at - chrono::Utc::now();
    assert!(wait <= chrono::Duration::seconds(1), "{wait}");
    assert_eq!(sink.count(), 0);

    sink.set_data_reply(None);
    assert!(
        relay
            .wait_state(id, "delivered", Duration::from_secs(10))
            .await
    );
    assert_eq!(sink.count(), 1);
    let attempts = relay.attempts(d.id);
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes.first(), Some(&"deferred"));
    assert_eq!(outcomes.last(), Some(&"delivered"));
    assert_eq!(attempts[0].code, Some(451));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_recipient_gets_its_own_outcome_when_one_is_refused() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    sink.set_rcpt_reply("nobody@customer.test", Some("550 5.1.1 no such user"));
    let domain = relay.domain("customer.test", sink.port(), "none");
    let id = relay.enqueue(
        SENDER,
        domain,
        &["nobody@customer.test", "bob@customer.test"],
        &message("mixed outcome"),
    );
    relay.start(|_| {});

    assert!(
        relay
            .eventually(Duration::from_secs(10), |t| t
                .deliveries(id)
                .iter()
                .all(|d| d.state == "delivered" || d.state == "bounced"))
            .await
    );
    let ds = relay.deliveries(id);
    let nobody = ds
        .iter()
        .find(|d| d.recipient == "nobody@customer.test")
        .unwrap();
    let bob = ds
        .iter()
        .find(|d| d.recipient == "bob@customer.test")
        .unwrap();
    assert_eq!(nobody.state, "bounced");
    assert_eq!(nobody.last_code, Some(550));
    assert_eq!(nobody.last_reply.as_deref(), Some("550 5.1.1 no such user"));
    assert_eq!(bob.state, "delivered");
    // One transaction: the refused recipient did not cost the other one its delivery.
    assert_eq!(sink.transactions(), 1);
    assert_eq!(
        sink.messages()[0].rcpt_to,
        vec!["bob@customer.test".to_owned()]
    );
    assert_eq!(relay.attempts(nobody.id)[0].outcome, "bounced");

    // The sender hears about the one that failed, and only that one.
    assert!(relay.dsn_sink.wait_for(1, Duration::from_secs(10)).await);
    let dsn = parse_dsn(&relay.dsn_sink.messages()[0].data);
    assert!(
        dsn.status
            .contains("Final-Recipient: rfc822; nobody@customer.test"),
        "{}",
        dsn.status
    );
    assert!(!dsn.status.contains("bob@customer.test"), "{}", dsn.status);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_private_target_is_refused_when_private_targets_are_not_allowed() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let domain = relay.domain("customer.test", sink.port(), "none");
    let id = relay.enqueue(SENDER, domain, &["bob@customer.test"], &message("private"));
    relay.start(|c| c.allow_private_targets = false);

    assert!(
        relay
            .eventually(Duration::from_secs(10), |t| t.deliveries(id)[0].attempts
                >= 1)
            .await
    );
    let d = relay.deliveries(id)[0].clone();
    assert_eq!(d.state, "deferred");
    let a = &relay.attempts(d.id)[0];
    assert_eq!(a.outcome, "deferred");
    assert_eq!(a.target_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(a.code, None);
    assert!(a.reply.contains("loopback"), "{}", a.reply);
    assert!(
        a.reply.contains("MXSPOOL_ALLOW_PRIVATE_TARGETS"),
        "{}",
        a.reply
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sink.connections(),
        0,
        "nothing may connect to a refused address"
    );
    // A policy refusal says nothing about the target's health.
    assert!(relay.target(sink.port()).is_none());
    relay.stop().await;
}
