//! Drain figures (ignored by default; run with `--ignored --nocapture`, ideally `--release`):
//! how fast a backlog goes out once its target is back, with no operator action.

use crate::helpers::*;
use mxspool_testsink::SinkServer;
use std::time::{Duration, Instant};

const MESSAGES: usize = 5_000;

fn five_kib(i: usize) -> Vec<u8> {
    let mut body = message(&format!("drain {i}"));
    let line =
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n";
    while body.len() < 5 * 1024 {
        body.extend_from_slice(line.as_bytes());
    }
    body
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a check; run with --ignored --nocapture"]
async fn a_backlog_of_5000_messages_drains_quickly_once_the_target_is_back() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let addr = sink.addr();
    sink.stop();
    drop(sink);
    let domain = relay.domain("customer.test", addr.port(), "none");
    relay.start(|c| {
        c.workers = 16;
        c.probe_max = Duration::from_secs(1);
        c.lease = Duration::from_secs(60);
    });
    // The first message takes the target down; the rest queue up behind it.
    relay.enqueue(SENDER, domain, &["bob@customer.test"], &five_kib(0));
    assert!(
        relay
            .eventually(Duration::from_secs(10), |t| t.target(addr.port()).is_some())
            .await
    );
    let bodies: Vec<Vec<u8>> = (1..MESSAGES).map(five_kib).collect();
    let started = Instant::now();
    for chunk in bodies.chunks(200) {
        let batch: Vec<(&str, _, &[&str], &[u8])> = chunk
            .iter()
            .map(|b| (SENDER, domain, &["bob@customer.test"][..], b.as_slice()))
            .collect();
        relay.enqueue_many(&batch);
    }
    println!("queued {MESSAGES} messages in {:?}", started.elapsed());

    let back = SinkServer::start_on(addr).await.unwrap();
    let since = Instant::now();
    assert!(
        back.wait_for(MESSAGES, Duration::from_secs(120)).await,
        "got {}",
        back.count()
    );
    let took = since.elapsed();
    println!(
        "drained {MESSAGES} messages {:?} after the target came back ({:.0} msgs/s incl. up to 1 s probe wait), {} connections",
        took,
        MESSAGES as f64 / took.as_secs_f64(),
        back.connections()
    );
    relay.stop().await;
}
