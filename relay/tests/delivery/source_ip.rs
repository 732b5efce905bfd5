//! Every attempt that reached the target records the local address it left from: the
//! whitelist report's evidence of which egress address the target accepted or refused.

use crate::helpers::*;
use diesel::prelude::*;
use mxspool_store::schema::delivery_attempts;
use mxspool_testsink::SinkServer;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn attempts_record_the_local_address_they_left_from() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    sink.set_rcpt_reply(
        "blocked@customer.test",
        Some("554 5.7.1 Client host rejected: blocked by policy"),
    );
    let domain = relay.domain("customer.test", sink.port(), "none");
    let delivered = relay.enqueue(SENDER, domain, &["bob@customer.test"], &message("ok"));
    let refused = relay.enqueue(SENDER, domain, &["blocked@customer.test"], &message("no"));
    relay.start(|_| {});

    assert!(
        relay
            .wait_state(delivered, "delivered", Duration::from_secs(10))
            .await
    );
    assert!(
        relay
            .wait_state(refused, "bounced", Duration::from_secs(10))
            .await
    );
    let rows: Vec<(Option<i32>, Option<String>)> = delivery_attempts::table
        .filter(delivery_attempts::domain_id.eq(domain.0))
        .order(delivery_attempts::code)
        .select((delivery_attempts::code, delivery_attempts::source_ip))
        .load(&mut relay.conn())
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (Some(250), Some("127.0.0.1".to_owned())),
            (Some(554), Some("127.0.0.1".to_owned())),
        ],
        "both the accepted and the refused attempt name the local address"
    );
    // They are the whitelist report's evidence for that address (newest first).
    let evidence = mxspool_store::whitelist::evidence(
        &mut relay.conn(),
        &[domain],
        &["127.0.0.1".to_owned(), "127.0.0.2".to_owned()],
        10,
    )
    .unwrap();
    let mut codes: Vec<(String, Option<i32>)> = evidence
        .iter()
        .map(|e| (e.source_ip.clone(), e.code))
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        vec![
            ("127.0.0.1".to_owned(), Some(250)),
            ("127.0.0.1".to_owned(), Some(554))
        ]
    );
    relay.stop().await;
}
