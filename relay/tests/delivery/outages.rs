//! The outage report from a real incident: the relay finds the target down, mail arrives
//! meanwhile, the target comes back and gets it; the report (`store::outages`, what
//! `GET /domains/{id}/outages` serves) shows one closed outage with that mail delivered.

use crate::helpers::*;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use mxspool_store::outages::{self, OutageQuery};
use mxspool_store::schema::{deliveries, messages};
use mxspool_store::targets::TargetState;
use mxspool_testsink::SinkServer;
use std::time::Duration;

fn seconds(d: chrono::TimeDelta) -> f64 {
    d.num_microseconds().unwrap() as f64 / 1e6
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mail_received_while_the_target_was_down_is_reported_under_that_outage() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let addr = sink.addr();
    sink.stop();
    drop(sink);
    let domain = relay.domain("customer.test", addr.port(), "none");
    // Received before the target was found down: the attempt that finds it down is its own.
    let before = relay.enqueue(SENDER, domain, &["bob@customer.test"], &message("before"));
    relay.start(|_| {});
    assert!(
        relay
            .eventually(Duration::from_secs(10), |t| t
                .target(addr.port())
                .is_some_and(|t| t.state == TargetState::Down))
            .await
    );

    // Received during the outage: two messages, three recipients.
    let during = relay.enqueue_many(&[
        (
            SENDER,
            domain,
            &["carol@customer.test", "dave@customer.test"],
            &message("during 1"),
        ),
        (
            SENDER,
            domain,
            &["erin@customer.test"],
            &message("during 2"),
        ),
    ]);
    let back = SinkServer::start_on(addr).await.unwrap();
    assert!(
        back.wait_for(3, Duration::from_secs(15)).await,
        "the queue did not drain"
    );
    for id in during.iter().chain([&before]) {
        assert!(
            relay
                .wait_state(*id, "delivered", Duration::from_secs(5))
                .await
        );
    }
    let mut conn = relay.conn();
    let report = outages::domain_outages(
        &mut conn,
        &OutageQuery {
            domain,
            host: "127.0.0.1",
            port: i32::from(addr.port()),
            since: None,
            until: None,
            before: None,
            limit: 10,
        },
    )
    .unwrap();
    assert_eq!(report.len(), 1, "{report:?}");
    let o = &report[0];
    let events = relay.target_events(addr.port());
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(o.started_at, events[0].at);
    let ended = o.ended_at.expect("the outage is over");
    assert_eq!(ended, events[1].at);
    assert_eq!((o.messages, o.recipients), (2, 3));
    assert_eq!((o.delivered, o.bounced, o.expired), (3, 0, 0));

    // Longest wait from receipt to delivery, computed here from the rows.
    let rows: Vec<(DateTime<Utc>, DateTime<Utc>)> = deliveries::table
        .inner_join(messages::table)
        .filter(deliveries::message_id.eq_any(during.iter().map(|m| m.0)))
        .select((messages::received_at, deliveries::updated_at))
        .load(&mut conn)
        .unwrap();
    assert_eq!(rows.len(), 3);
    let expected = rows
        .iter()
        .map(|(received, delivered)| seconds(*delivered - *received))
        .fold(0.0, f64::max);
    let max_delay = o.max_delay_seconds.expect("mail came in");
    assert!(
        (max_delay - expected).abs() < 1e-5,
        "{max_delay} vs {expected}"
    );
    // Nothing was delivered before the target came back.
    let latest = rows.iter().map(|r| r.0).max().unwrap();
    assert!(max_delay >= seconds(ended - latest), "{o:?}");
    relay.stop().await;
}
