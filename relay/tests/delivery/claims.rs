//! Claims: whole messages (a batch boundary or a concurrent claim never splits one), nothing
//! past its queue lifetime, recipients handed back in the right state, and every time on the
//! database's clock.

use crate::helpers::*;
use diesel::connection::{Connection, SimpleConnection};
use diesel::prelude::*;
use diesel::result::Error::RollbackTransaction;
use mxspool_store::queue::{self, Attempt, AttemptOutcome};
use mxspool_store::schema::{deliveries, messages};
use mxspool_store::{MessageId, PgConnection};
use mxspool_testsink::SinkServer;
use std::collections::HashSet;
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(60);

fn recipients(n: usize, tag: &str) -> Vec<String> {
    (0..n).map(|i| format!("{tag}{i}@customer.test")).collect()
}

fn enqueue_n(relay: &TestRelay, domain: mxspool_store::DomainId, n: usize, tag: &str) -> MessageId {
    let rcpts = recipients(n, tag);
    let refs: Vec<&str> = rcpts.iter().map(String::as_str).collect();
    relay.enqueue(SENDER, domain, &refs, &message(tag))
}

fn messages_of(claimed: &[queue::Claimed]) -> HashSet<i64> {
    claimed.iter().map(|c| c.message_id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_takes_whole_messages_whatever_its_limit() {
    let relay = TestRelay::new().await;
    let domain = relay.domain("customer.test", 2, "none");
    let first = enqueue_n(&relay, domain, 30, "a");
    let second = enqueue_n(&relay, domain, 30, "b");
    let mut conn = relay.conn();

    let claimed = queue::claim_due(&mut conn, "node-a", LEASE, 10, 25).unwrap();
    assert_eq!(
        claimed.len(),
        30,
        "all of the first message, past the limit of 10"
    );
    assert_eq!(messages_of(&claimed), HashSet::from([first.0]));
    let claimed = queue::claim_due(&mut conn, "node-a", LEASE, 10, 25).unwrap();
    assert_eq!(claimed.len(), 30);
    assert_eq!(messages_of(&claimed), HashSet::from([second.0]));
    assert!(queue::claim_due(&mut conn, "node-a", LEASE, 10, 25)
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_held_by_a_claim_in_progress_is_skipped_whole() {
    let relay = TestRelay::new().await;
    let domain = relay.domain("customer.test", 2, "none");
    let first = enqueue_n(&relay, domain, 5, "a");
    let second = enqueue_n(&relay, domain, 5, "b");

    // Node A's claim has run but not committed: it holds the first message.
    let mut a = relay.conn();
    a.batch_execute("BEGIN").unwrap();
    let claimed_a = queue::claim_due(&mut a, "node-a", LEASE, 1, 25).unwrap();
    assert_eq!(messages_of(&claimed_a), HashSet::from([first.0]));
    assert_eq!(claimed_a.len(), 5);

    // Node B, meanwhile, sees the first message's rows as due, skips the message and takes
    // the next one, whole.
    let mut b = relay.conn();
    let claimed_b = queue::claim_due(&mut b, "node-b", LEASE, 1, 25).unwrap();
    assert_eq!(messages_of(&claimed_b), HashSet::from([second.0]));
    assert_eq!(claimed_b.len(), 5);

    // A gives up (rolls back): the first message is there for the next claim, whole.
    a.batch_execute("ROLLBACK").unwrap();
    let claimed = queue::claim_due(&mut b, "node-b", LEASE, 1, 25).unwrap();
    assert_eq!(messages_of(&claimed), HashSet::from([first.0]));
    assert_eq!(claimed.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn two_nodes_send_each_multi_recipient_message_in_one_transaction() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let domain = relay.domain("customer.test", sink.port(), "none");
    // A batch limit below the recipients per message: row-limited claims would split.
    relay.start(|c| c.claim_batch = 3);
    relay.start(|c| c.claim_batch = 3);
    let rcpts = recipients(7, "r");
    let refs: Vec<&str> = rcpts.iter().map(String::as_str).collect();
    let bodies: Vec<Vec<u8>> = (0..60).map(|i| message(&format!("multi {i}"))).collect();
    for chunk in bodies.chunks(10) {
        let batch: Vec<(&str, _, &[&str], &[u8])> = chunk
            .iter()
            .map(|b| (SENDER, domain, &refs[..], b.as_slice()))
            .collect();
        relay.enqueue_many(&batch);
    }

    assert!(
        sink.wait_for(60, Duration::from_secs(30)).await,
        "only {} arrived",
        sink.count()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.count(), 60, "one message each");
    assert_eq!(sink.transactions(), 60, "one transaction each");
    for m in sink.messages() {
        assert_eq!(m.rcpt_to.len(), 7, "all recipients together");
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_leave_mail_past_its_lifetime_to_expiry() {
    let relay = TestRelay::new().await;
    let domain = relay.domain("customer.test", 2, "none");
    let old = relay.enqueue(SENDER, domain, &["a@customer.test"], &message("old"));
    let mut conn = relay.conn();
    diesel::update(deliveries::table.filter(deliveries::message_id.eq(old.0)))
        .set(deliveries::expires_at.eq(chrono::Utc::now() - chrono::Duration::seconds(1)))
        .execute(&mut conn)
        .unwrap();
    assert!(queue::claim_due(&mut conn, "node-a", LEASE, 10, 25)
        .unwrap()
        .is_empty());
    assert_eq!(queue::expire_due(&mut conn, 10).unwrap(), vec![old]);
    assert_eq!(relay.deliveries(old)[0].state, "expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipients_handed_back_stay_queued_until_first_attempted() {
    let relay = TestRelay::new().await;
    let domain = relay.domain("customer.test", 2, "none");
    let id = relay.enqueue(
        SENDER,
        domain,
        &["never@customer.test", "tried@customer.test"],
        &message("handed back"),
    );
    let mut conn = relay.conn();
    let tried = relay.deliveries(id)[1].id;
    diesel::update(deliveries::table.find(tried))
        .set(deliveries::attempts.eq(1))
        .execute(&mut conn)
        .unwrap();

    let claimed = queue::claim_due(&mut conn, "node-a", LEASE, 10, 25).unwrap();
    let ids: Vec<i64> = claimed.iter().map(|c| c.delivery_id).collect();
    assert_eq!(queue::release(&mut conn, "someone-else", &ids).unwrap(), 0);
    assert_eq!(queue::release(&mut conn, "node-a", &ids).unwrap(), 2);
    let states: Vec<String> = relay.deliveries(id).into_iter().map(|d| d.state).collect();
    assert_eq!(states, vec!["queued", "deferred"]);

    // The same for leases taken back from a node that died.
    queue::claim_due(&mut conn, "crashed", LEASE, 10, 25).unwrap();
    diesel::sql_query(
        "UPDATE deliveries SET lease_until = now() - interval '1 second' \
         WHERE state = 'delivering'",
    )
    .execute(&mut conn)
    .unwrap();
    assert_eq!(queue::reap_expired_leases(&mut conn).unwrap(), 2);
    let states: Vec<String> = relay.deliveries(id).into_iter().map(|d| d.state).collect();
    assert_eq!(states, vec!["queued", "deferred"]);
}

/// Inside one transaction `now()` is fixed, so a time equal to it (or to it plus an exact
/// interval) was computed by the database, not on this host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_times_are_the_databases() {
    let relay = TestRelay::new().await;
    let domain = relay.domain("customer.test", 2, "none");
    let mut conn = relay.conn();
    let _ = conn.transaction::<(), _, _>(|conn| {
        let now = db_now(conn);
        let id = queue::enqueue_batch(
            conn,
            &[mxspool_store::queue::IncomingMessage {
                sender: SENDER.to_owned(),
                client_ip: "192.0.2.10".to_owned(),
                helo: "client.sender.test".to_owned(),
                tls: false,
                subject: None,
                message_id_header: None,
                body: message("clock"),
                recipients: vec![mxspool_store::queue::IncomingRecipient {
                    domain_id: Some(domain),
                    address: "bob@customer.test".to_owned(),
                    lifetime: Duration::from_secs(3600),
                }],
            }],
        )
        .unwrap()[0];
        let received: chrono::DateTime<chrono::Utc> = messages::table
            .find(id.0)
            .select(messages::received_at)
            .first(conn)
            .unwrap();
        assert_eq!(received, now);
        let (delivery, expires): (i64, chrono::DateTime<chrono::Utc>) = deliveries::table
            .filter(deliveries::message_id.eq(id.0))
            .select((deliveries::id, deliveries::expires_at))
            .first(conn)
            .unwrap();
        assert_eq!(expires, now + chrono::Duration::seconds(3600));

        let lease_of = |conn: &mut PgConnection| {
            deliveries::table
                .find(delivery)
                .select((deliveries::lease_until, deliveries::next_attempt_at))
                .first::<(
                    Option<chrono::DateTime<chrono::Utc>>,
                    chrono::DateTime<chrono::Utc>,
                )>(conn)
                .unwrap()
        };
        queue::claim_due(conn, "node-a", Duration::from_secs(30), 10, 25).unwrap();
        assert_eq!(lease_of(conn).0, Some(now + chrono::Duration::seconds(30)));
        queue::release(conn, "node-a", &[delivery]).unwrap();
        assert_eq!(lease_of(conn).1, now);

        queue::claim_due(conn, "node-a", Duration::from_secs(30), 10, 25).unwrap();
        diesel::sql_query("UPDATE deliveries SET lease_until = now() - interval '1 second'")
            .execute(conn)
            .unwrap();
        assert_eq!(queue::reap_expired_leases(conn).unwrap(), 1);
        assert_eq!(lease_of(conn), (None, now));

        queue::claim_due(conn, "node-a", Duration::from_secs(30), 10, 25).unwrap();
        let attempt = Attempt {
            delivery_id: delivery,
            domain_id: Some(domain),
            outcome: AttemptOutcome::Deferred(Duration::from_secs(90)),
            started_at: chrono::Utc::now() - chrono::Duration::seconds(5),
            duration: Duration::from_secs(5),
            target_host: "127.0.0.1".to_owned(),
            target_ip: Some("127.0.0.1".to_owned()),
            source_ip: Some("127.0.0.1".to_owned()),
            tls: false,
            code: Some(451),
            reply: "451 4.3.0 later".to_owned(),
        };
        queue::record_attempts(conn, "node-a", &[attempt]).unwrap();
        assert_eq!(lease_of(conn), (None, now + chrono::Duration::seconds(90)));
        let started: chrono::DateTime<chrono::Utc> =
            mxspool_store::schema::delivery_attempts::table
                .select(mxspool_store::schema::delivery_attempts::started_at)
                .first(conn)
                .unwrap();
        let ago = now - started;
        assert!(
            ago >= chrono::Duration::seconds(4) && ago <= chrono::Duration::seconds(6),
            "started {ago} before now()"
        );
        Err(RollbackTransaction)
    });
}
