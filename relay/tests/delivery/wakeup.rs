//! Workers start at once when woken, by intake in the same process or by a NOTIFY from any
//! other process, rather than at the next poll.

use crate::helpers::*;
use diesel::prelude::*;
use mxspool_store::schema::{deliveries, messages};
use mxspool_testsink::SinkServer;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_notify_from_another_process_wakes_the_workers() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let domain = relay.domain("customer.test", sink.port(), "none");
    relay.start(|c| c.poll_interval = Duration::from_secs(30));
    // Let the workers find nothing and go to sleep.
    tokio::time::sleep(Duration::from_millis(700)).await;

    let since = Instant::now();
    // enqueue_batch sends NOTIFY mxspool_queue, as intake on another node would.
    relay.enqueue(SENDER, domain, &["bob@customer.test"], &message("notified"));
    assert!(sink.wait_for(1, Duration::from_secs(5)).await);
    assert!(
        since.elapsed() < Duration::from_secs(2),
        "took {:?}",
        since.elapsed()
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_wake_handle_starts_local_workers_without_a_notify() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let domain = relay.domain("customer.test", sink.port(), "none");
    let ctx = relay.start(|c| c.poll_interval = Duration::from_secs(30));
    tokio::time::sleep(Duration::from_millis(700)).await;

    // Rows written without NOTIFY: only the in-process wake-up can start the workers.
    let mut conn = relay.conn();
    let id: i64 = diesel::insert_into(messages::table)
        .values((
            messages::sender.eq(SENDER),
            messages::client_ip.eq("192.0.2.10"),
            messages::helo.eq("client.sender.test"),
            messages::size.eq(10_i64),
            messages::body.eq(message("woken").as_slice()),
        ))
        .returning(messages::id)
        .get_result(&mut conn)
        .unwrap();
    diesel::insert_into(deliveries::table)
        .values((
            deliveries::message_id.eq(id),
            deliveries::domain_id.eq(domain.0),
            deliveries::recipient.eq("bob@customer.test"),
            deliveries::expires_at.eq(chrono::Utc::now() + chrono::Duration::days(1)),
        ))
        .execute(&mut conn)
        .unwrap();
    let since = Instant::now();
    ctx.wake.notify_waiters();
    assert!(sink.wait_for(1, Duration::from_secs(5)).await);
    assert!(
        since.elapsed() < Duration::from_secs(2),
        "took {:?}",
        since.elapsed()
    );
    relay.stop().await;
}
