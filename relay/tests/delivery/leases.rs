//! Several nodes share one queue: leases keep each recipient with one node, and a crashed
//! node's recipients go to the others once its lease runs out.

use crate::helpers::*;
use diesel::prelude::*;
use mxspool_store::queue;
use mxspool_store::schema::{deliveries, delivery_attempts};
use mxspool_testsink::SinkServer;
use std::collections::HashSet;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_lease_of_a_crashed_worker_is_reaped_and_the_mail_delivered() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let domain = relay.domain("customer.test", sink.port(), "none");
    let id = relay.enqueue(SENDER, domain, &["bob@customer.test"], &message("orphaned"));
    // A node claims it and dies without a word.
    let claimed = queue::claim_due(
        &mut relay.conn(),
        "crashed-node",
        Duration::from_secs(1),
        10,
        25,
    )
    .unwrap();
    assert_eq!(claimed.len(), 1);
    let since = Instant::now();
    relay.start(|_| {});

    assert!(
        relay
            .wait_state(id, "delivered", Duration::from_secs(10))
            .await
    );
    assert!(
        since.elapsed() >= Duration::from_millis(900),
        "delivered before the lease ran out"
    );
    assert_eq!(sink.count(), 1);
    let d = &relay.deliveries(id)[0];
    assert_eq!(d.attempts, 1, "the dead node's claim cost no attempt");
    assert_eq!(relay.attempts(d.id).len(), 1);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn two_nodes_on_one_database_deliver_each_of_200_messages_exactly_once() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let domain = relay.domain("customer.test", sink.port(), "none");
    relay.start(|c| c.claim_batch = 10);
    relay.start(|c| c.claim_batch = 10);
    let bodies: Vec<Vec<u8>> = (0..200).map(|i| message(&format!("bulk {i}"))).collect();
    for chunk in bodies.chunks(20) {
        let batch: Vec<(&str, _, &[&str], &[u8])> = chunk
            .iter()
            .map(|b| (SENDER, domain, &["bob@customer.test"][..], b.as_slice()))
            .collect();
        relay.enqueue_many(&batch);
    }

    assert!(
        sink.wait_for(200, Duration::from_secs(30)).await,
        "only {} arrived",
        sink.count()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sink.count(), 200, "no message twice");
    let subjects: HashSet<String> = sink
        .messages()
        .iter()
        .map(|m| {
            m.text()
                .lines()
                .find(|l| l.starts_with("Subject: "))
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(subjects.len(), 200);
    let mut conn = relay.conn();
    let delivered: i64 = deliveries::table
        .filter(deliveries::state.eq("delivered"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(delivered, 200);
    let attempts: i64 = delivery_attempts::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(attempts, 200, "one attempt each");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopping_a_node_leaves_no_recipient_claimed() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let domain = relay.domain("customer.test", sink.port(), "none");
    let bodies: Vec<Vec<u8>> = (0..300).map(|i| message(&format!("stop {i}"))).collect();
    let batch: Vec<(&str, _, &[&str], &[u8])> = bodies
        .iter()
        .map(|b| (SENDER, domain, &["bob@customer.test"][..], b.as_slice()))
        .collect();
    relay.enqueue_many(&batch);
    relay.start(|c| c.workers = 2);
    assert!(sink.wait_for(10, Duration::from_secs(10)).await);
    relay.stop().await;

    let delivering: i64 = deliveries::table
        .filter(deliveries::state.eq("delivering"))
        .count()
        .get_result(&mut relay.conn())
        .unwrap();
    assert_eq!(
        delivering, 0,
        "claimed recipients were recorded or released"
    );
    let delivered: i64 = deliveries::table
        .filter(deliveries::state.eq("delivered"))
        .count()
        .get_result(&mut relay.conn())
        .unwrap();
    assert_eq!(
        usize::try_from(delivered).unwrap(),
        sink.count(),
        "what arrived is recorded"
    );
}
