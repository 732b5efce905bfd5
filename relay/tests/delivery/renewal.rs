//! Lease renewal: a delivery that takes longer than the lease keeps its recipients, so no
//! other node delivers the same mail again meanwhile.

use crate::helpers::*;
use chrono::{DateTime, Utc};
use diesel::connection::Connection;
use diesel::prelude::*;
use diesel::result::Error::RollbackTransaction;
use mxspool_store::queue;
use mxspool_store::schema::deliveries;
use mxspool_testsink::SinkServer;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delivery_slower_than_its_lease_renews_it_and_is_delivered_once() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    sink.set_data_delay(Some(Duration::from_secs(3)));
    let domain = relay.domain("customer.test", sink.port(), "none");
    // Two runners polling every 100 ms and reaping expired leases every tick.
    relay.start(|c| c.lease = Duration::from_secs(1));
    relay.start(|c| c.lease = Duration::from_secs(1));
    let id = relay.enqueue(
        SENDER,
        domain,
        &["bob@customer.test"],
        &message("slow target"),
    );

    // Watch the lease while the (3 s) transaction runs.
    let mut leases: Vec<DateTime<Utc>> = Vec::new();
    let mut owners: Vec<String> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (state, owner, until): (String, Option<String>, Option<DateTime<Utc>>) =
            deliveries::table
                .filter(deliveries::message_id.eq(id.0))
                .select((
                    deliveries::state,
                    deliveries::lease_owner,
                    deliveries::lease_until,
                ))
                .first(&mut relay.conn())
                .unwrap();
        if state == "delivering" {
            leases.extend(until);
            owners.extend(owner);
        }
        if state == "delivered" || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        relay
            .wait_state(id, "delivered", Duration::from_secs(1))
            .await
    );
    // Longer than the lease and the (reaping) poll of the other runner: a second delivery
    // would have been claimed and sent by now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.count(), 1, "delivered exactly once");
    assert_eq!(sink.transactions(), 1);
    let d = &relay.deliveries(id)[0];
    assert_eq!(d.attempts, 1);
    assert_eq!(relay.attempts(d.id).len(), 1);

    owners.dedup();
    assert_eq!(owners.len(), 1, "one owner throughout: {owners:?}");
    let (first, last) = (leases.first().unwrap(), leases.last().unwrap());
    assert!(
        *last - *first >= chrono::Duration::milliseconds(1500),
        "the lease moved from {first} to {last} only"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewing_extends_only_the_owners_rows_still_being_delivered() {
    let relay = TestRelay::new().await;
    let domain = relay.domain("customer.test", 2, "none");
    let mine = relay.enqueue(SENDER, domain, &["a@customer.test"], &message("mine"));
    let theirs = relay.enqueue(SENDER, domain, &["b@customer.test"], &message("theirs"));
    let mut conn = relay.conn();
    let lease = Duration::from_secs(30);
    let a = queue::claim_due(&mut conn, "node-a", lease, 1, 25).unwrap();
    let b = queue::claim_due(&mut conn, "node-b", lease, 1, 25).unwrap();
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_eq!(a[0].message_id, mine.0);
    assert_eq!(b[0].message_id, theirs.0);
    let ids = [a[0].delivery_id, b[0].delivery_id];

    let _ = conn.transaction::<(), _, _>(|conn| {
        let now = db_now(conn);
        assert_eq!(
            queue::renew_leases(conn, "node-a", &ids, Duration::from_secs(600)).unwrap(),
            1
        );
        let until = |conn: &mut mxspool_store::PgConnection, id: i64| -> DateTime<Utc> {
            deliveries::table
                .find(id)
                .select(deliveries::lease_until)
                .first::<Option<DateTime<Utc>>>(conn)
                .unwrap()
                .unwrap()
        };
        assert_eq!(
            until(conn, ids[0]),
            now + chrono::Duration::seconds(600),
            "the database's clock"
        );
        assert!(until(conn, ids[1]) < now + chrono::Duration::seconds(60));
        Err(RollbackTransaction)
    });

    // Once recorded (or released) the row is no longer renewed.
    queue::release(&mut conn, "node-a", &ids[..1]).unwrap();
    assert_eq!(
        queue::renew_leases(&mut conn, "node-a", &ids, lease).unwrap(),
        0
    );
    assert_eq!(
        queue::renew_leases(&mut conn, "node-a", &[], lease).unwrap(),
        0
    );
}
