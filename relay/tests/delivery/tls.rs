//! The domain's TLS policy towards its target: `opportunistic` uses STARTTLS when offered,
//! `required` insists on it without checking the certificate, `verify` also checks it.

use crate::helpers::*;
use mxspool_testsink::SinkServer;
use std::time::Duration;

async fn tls_sink() -> SinkServer {
    let sink = SinkServer::start().await.unwrap();
    sink.set_starttls(true);
    sink
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opportunistic_tls_is_used_when_the_target_offers_starttls() {
    let mut relay = TestRelay::new().await;
    let sink = tls_sink().await;
    let domain = relay.domain("customer.test", sink.port(), "opportunistic");
    let id = relay.enqueue(
        SENDER,
        domain,
        &["bob@customer.test"],
        &message("opportunistic tls"),
    );
    relay.start(|_| {});

    assert!(
        relay
            .wait_state(id, "delivered", Duration::from_secs(10))
            .await
    );
    assert!(sink.messages()[0].tls, "the message travelled encrypted");
    let d = &relay.deliveries(id)[0];
    assert!(relay.attempts(d.id)[0].tls, "the attempt records TLS");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn required_tls_accepts_a_self_signed_certificate() {
    let mut relay = TestRelay::new().await;
    let sink = tls_sink().await;
    let domain = relay.domain("customer.test", sink.port(), "required");
    let id = relay.enqueue(
        SENDER,
        domain,
        &["bob@customer.test"],
        &message("required tls"),
    );
    relay.start(|_| {});

    assert!(
        relay
            .wait_state(id, "delivered", Duration::from_secs(10))
            .await
    );
    assert!(sink.messages()[0].tls);
    assert!(relay.attempts(relay.deliveries(id)[0].id)[0].tls);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verified_tls_refuses_a_self_signed_certificate_and_defers() {
    let mut relay = TestRelay::new().await;
    let sink = tls_sink().await;
    let domain = relay.domain("customer.test", sink.port(), "verify");
    let id = relay.enqueue(
        SENDER,
        domain,
        &["bob@customer.test"],
        &message("verified tls"),
    );
    relay.start(|_| {});

    assert!(
        relay
            .eventually(Duration::from_secs(10), |t| t.deliveries(id)[0].attempts
                >= 1)
            .await
    );
    let d = relay.deliveries(id)[0].clone();
    assert_eq!(d.state, "deferred");
    let a = &relay.attempts(d.id)[0];
    assert!(a.reply.contains("STARTTLS"), "{}", a.reply);
    assert_eq!(
        sink.count(),
        0,
        "nothing sent over an unverified connection"
    );
    assert_eq!(sink.transactions(), 0);
    relay.stop().await;
}
