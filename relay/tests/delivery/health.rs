//! Target health: a target that does not answer goes down, its mail waits without
//! per-message attempts, and the prober hands it its whole queue the moment it is back.

use crate::helpers::*;
use mxspool_store::targets::{self, TargetState};
use mxspool_testsink::SinkServer;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_target_that_is_down_waits_without_attempts_and_gets_its_queue_when_back() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let addr = sink.addr();
    sink.stop();
    drop(sink);
    let domain = relay.domain("customer.test", addr.port(), "none");
    let first = relay.enqueue(
        SENDER,
        domain,
        &["bob@customer.test"],
        &message("while down 1"),
    );
    relay.start(|_| {});

    // The first attempt fails to connect: deferred, and the target is marked down.
    assert!(
        relay
            .eventually(Duration::from_secs(10), |t| t.deliveries(first)[0].attempts
                >= 1)
            .await
    );
    let d = relay.deliveries(first)[0].clone();
    assert_eq!(d.state, "deferred");
    let a = &relay.attempts(d.id)[0];
    assert_eq!(a.outcome, "deferred");
    assert_eq!(a.code, None);
    assert_eq!(a.target_ip.as_deref(), Some("127.0.0.1"));
    assert!(a.reply.contains("connect to 127.0.0.1"), "{}", a.reply);
    let target = relay.target(addr.port()).expect("target row");
    assert_eq!(target.state, TargetState::Down);
    assert!(target.last_error.is_some());
    let events = relay.target_events(addr.port());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].state, TargetState::Down);

    // While it is down, neither this message (retry due after 1 s) nor new mail is tried.
    let second = relay.enqueue(
        SENDER,
        domain,
        &["carol@customer.test"],
        &message("while down 2"),
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        relay.deliveries(first)[0].attempts,
        1,
        "no attempts while the target is down"
    );
    assert_eq!(relay.deliveries(second)[0].attempts, 0);
    assert_eq!(relay.deliveries(second)[0].state, "queued");
    assert_eq!(
        relay.target_events(addr.port()).len(),
        1,
        "one down event only"
    );

    // The target comes back on the same port: no flush, no other action.
    let back = SinkServer::start_on(addr).await.unwrap();
    let since = Instant::now();
    assert!(
        back.wait_for(2, Duration::from_secs(10)).await,
        "the queue did not drain"
    );
    let took = since.elapsed();
    let probe_max = Duration::from_secs(1);
    assert!(
        took <= probe_max + Duration::from_secs(2),
        "drained after {took:?}"
    );
    assert!(
        relay
            .wait_state(first, "delivered", Duration::from_secs(5))
            .await
    );
    assert!(
        relay
            .wait_state(second, "delivered", Duration::from_secs(5))
            .await
    );
    assert_eq!(relay.deliveries(first)[0].attempts, 2);
    assert_eq!(relay.deliveries(second)[0].attempts, 1);

    let events = relay.target_events(addr.port());
    let states: Vec<TargetState> = events.iter().map(|e| e.state).collect();
    assert_eq!(states, vec![TargetState::Down, TargetState::Up]);
    assert_eq!(relay.target(addr.port()).unwrap().state, TargetState::Up);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_target_refusing_service_in_its_greeting_counts_as_down_until_it_greets() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    sink.set_banner("554 5.3.2 not now");
    let domain = relay.domain("customer.test", sink.port(), "none");
    let id = relay.enqueue(
        SENDER,
        domain,
        &["bob@customer.test"],
        &message("hostile greeting"),
    );
    relay.start(|_| {});

    assert!(
        relay
            .eventually(Duration::from_secs(10), |t| t.deliveries(id)[0].attempts
                >= 1)
            .await
    );
    let d = relay.deliveries(id)[0].clone();
    assert_eq!(
        d.state, "deferred",
        "a 5xx greeting does not bounce mail (Postfix: smtp_skip_5xx_greeting)"
    );
    assert!(relay.attempts(d.id)[0].reply.contains("554 5.3.2 not now"));
    assert_eq!(relay.target(sink.port()).unwrap().state, TargetState::Down);

    sink.set_banner("220 sink.test ESMTP");
    assert!(
        relay
            .wait_state(id, "delivered", Duration::from_secs(5))
            .await
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flush_target_makes_deferred_mail_due_at_once() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    sink.set_data_reply(Some("451 4.3.0 try again later"));
    let domain = relay.domain("customer.test", sink.port(), "none");
    let id = relay.enqueue(SENDER, domain, &["bob@customer.test"], &message("flush me"));
    relay.start(|c| c.retry_schedule = vec![Duration::from_secs(3600)]);

    assert!(
        relay
            .eventually(Duration::from_secs(10), |t| t.deliveries(id)[0].attempts
                >= 1)
            .await
    );
    let d = relay.deliveries(id)[0].clone();
    assert_eq!(d.state, "deferred");
    assert!(d.next_attempt_at > chrono::Utc::now() + chrono::Duration::minutes(30));

    sink.set_data_reply(None);
    let flushed =
        targets::flush_target(&mut relay.conn(), "127.0.0.1", i32::from(sink.port())).unwrap();
    assert_eq!(flushed, 1);
    let since = Instant::now();
    assert!(
        relay
            .wait_state(id, "delivered", Duration::from_secs(5))
            .await
    );
    assert!(
        since.elapsed() < Duration::from_secs(2),
        "took {:?}",
        since.elapsed()
    );
    relay.stop().await;
}
