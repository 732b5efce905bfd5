//! Parking: the waiting mail of a target that is down is moved out of the due range claims
//! walk, so claims stay cheap however large that backlog; whatever brings the target back
//! (or moves its domain elsewhere) makes the mail due again in the same transaction.

use crate::helpers::*;
use diesel::connection::Connection;
use diesel::prelude::*;
use diesel::result::Error::RollbackTransaction;
use mxspool_store::domains::{DomainReach, DomainVisibility};
use mxspool_store::queue;
use mxspool_store::queue_admin::{self, QueueFilter};
use mxspool_store::schema::{deliveries, relay_domains};
use mxspool_store::targets::{self, TargetState};
use mxspool_store::{MessageId, PgConnection};
use mxspool_testsink::SinkServer;
use std::time::Duration;

const HOST: &str = "127.0.0.1";
/// Ports nothing listens on: these tests drive the target's state by hand.
const DOWN_PORT: u16 = 2;
const UP_PORT: u16 = 3;
const PROBE: Duration = Duration::from_secs(5);

/// What one claim touches, from `EXPLAIN (ANALYZE, FORMAT JSON)` of the real claim statement
/// (run in a transaction that is rolled back): rows produced by plan nodes reading
/// `deliveries` (times loops), and rows any node removed by a filter or join filter.
fn explain_claim(conn: &mut PgConnection, limit: i64) -> (i64, i64) {
    #[derive(QueryableByName)]
    struct Plan {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        plan: String,
    }
    #[derive(QueryableByName)]
    struct Touched {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        deliveries_rows: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        removed: i64,
    }
    let mut out = (0, 0);
    let _ = conn.transaction::<(), _, _>(|conn| {
        let plan: Plan = diesel::sql_query(format!(
            "EXPLAIN (ANALYZE, FORMAT JSON) {}",
            queue::CLAIM_DUE_SQL
        ))
        .bind::<diesel::sql_types::Text, _>("explaining-node")
        .bind::<diesel::sql_types::Double, _>(60.0)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .bind::<diesel::sql_types::Integer, _>(25)
        .get_result(conn)
        .expect("EXPLAIN the claim");
        let touched: Touched = diesel::sql_query(
            "SELECT COALESCE(sum(CASE WHEN n->>'Relation Name' = 'deliveries' \
                                 THEN (n->>'Actual Rows')::bigint * (n->>'Actual Loops')::bigint \
                                 ELSE 0 END), 0)::bigint AS deliveries_rows, \
                    COALESCE(sum(COALESCE((n->>'Rows Removed by Filter')::bigint, 0) \
                               + COALESCE((n->>'Rows Removed by Join Filter')::bigint, 0)), 0)::bigint \
                        AS removed \
             FROM jsonb_path_query($1::jsonb, 'strict $.** ? (@.type() == \"object\")') n \
             WHERE n ? 'Node Type'",
        )
        .bind::<diesel::sql_types::Text, _>(&plan.plan)
        .get_result(conn)
        .expect("read the plan");
        out = (touched.deliveries_rows, touched.removed);
        Err(RollbackTransaction)
    });
    out
}

fn next_attempts(
    conn: &mut PgConnection,
    message: MessageId,
) -> Vec<chrono::DateTime<chrono::Utc>> {
    deliveries::table
        .filter(deliveries::message_id.eq(message.0))
        .order(deliveries::id)
        .select(deliveries::next_attempt_at)
        .load(conn)
        .unwrap()
}

fn all_parked(conn: &mut PgConnection, message: MessageId) -> bool {
    next_attempts(conn, message).iter().all(queue::is_parked)
}

fn all_due(conn: &mut PgConnection, message: MessageId) -> bool {
    let now = db_now(conn);
    next_attempts(conn, message).iter().all(|at| *at <= now)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_walk_only_due_rows_while_a_down_target_has_50000_parked() {
    let relay = TestRelay::new().await;
    let down = relay.domain("down.test", DOWN_PORT, "none");
    let up = relay.domain("up.test", UP_PORT, "none");
    let mut conn = relay.conn();
    bulk_queue(&mut conn, down, 5_000, 10);
    assert_eq!(due(&mut conn, down), 50_000);

    // The target goes down: its whole due backlog is parked (in batches).
    assert!(targets::mark_down(&mut conn, HOST, i32::from(DOWN_PORT), "refused", PROBE).unwrap());
    assert_eq!(parked(&mut conn, down), 50_000);
    assert_eq!(due(&mut conn, down), 0);
    let queued = scalar(
        &mut conn,
        &format!(
            "SELECT count(*) AS n FROM deliveries WHERE domain_id = {} AND state = 'queued'",
            down.0
        ),
    );
    assert_eq!(queued, 50_000, "parked mail keeps its state");

    let ids: Vec<MessageId> = (0..10)
        .map(|i| relay.enqueue(SENDER, up, &[&format!("r{i}@up.test")], b"x\r\n"))
        .collect();
    diesel::sql_query("ANALYZE deliveries")
        .execute(&mut conn)
        .unwrap();

    // The claim reads the 10 due rows (and their messages' recipients), not the backlog.
    let (rows, removed) = explain_claim(&mut conn, 50);
    assert!(rows < 200, "the claim read {rows} rows of deliveries");
    assert!(removed < 200, "the claim filtered out {removed} rows");

    // Control: the same backlog left due (the state before parking) is walked by every claim.
    let _ = conn.transaction::<(), _, _>(|conn| {
        diesel::sql_query(format!(
            "UPDATE deliveries SET next_attempt_at = now() - interval '1 minute' \
             WHERE domain_id = {}",
            down.0
        ))
        .execute(conn)
        .unwrap();
        let (rows, removed) = explain_claim(conn, 50);
        assert!(
            rows + removed >= 50_000,
            "the control claim read only {rows} rows and removed {removed}"
        );
        Err(RollbackTransaction)
    });

    let claimed = queue::claim_due(&mut conn, "node-a", Duration::from_secs(60), 50, 25).unwrap();
    assert_eq!(claimed.len(), 10);
    assert!(claimed.iter().all(|c| c.domain_id == Some(up.0)));
    let mut got: Vec<i64> = claimed.iter().map(|c| c.message_id).collect();
    got.sort();
    assert_eq!(got, ids.iter().map(|m| m.0).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_up_change_unparks_in_its_transaction_and_failed_probes_park_new_mail() {
    let relay = TestRelay::new().await;
    let domain = relay.domain("customer.test", DOWN_PORT, "none");
    let port = i32::from(DOWN_PORT);
    let mut conn = relay.conn();
    let first = relay.enqueue(
        SENDER,
        domain,
        &["a@customer.test", "b@customer.test"],
        &message("parked 1"),
    );
    targets::mark_down(&mut conn, HOST, port, "refused", PROBE).unwrap();
    assert!(all_parked(&mut conn, first));

    // Mail arriving while the target is down is due at first; the next failed probe parks it.
    let second = relay.enqueue(SENDER, domain, &["c@customer.test"], &message("parked 2"));
    assert!(all_due(&mut conn, second));
    targets::probe_failed(&mut conn, HOST, port, "still refused", PROBE).unwrap();
    assert!(all_parked(&mut conn, second));

    // The change to up and the unparking are one transaction: rolled back, neither happened.
    let _ = conn.transaction::<(), _, _>(|conn| {
        assert_eq!(
            targets::mark_up(conn, HOST, port, "250 ok").unwrap(),
            Some(TargetState::Down)
        );
        assert!(all_due(conn, first) && all_due(conn, second));
        Err(RollbackTransaction)
    });
    assert_eq!(relay.target(DOWN_PORT).unwrap().state, TargetState::Down);
    assert!(all_parked(&mut conn, first) && all_parked(&mut conn, second));

    // A worker hears from the target: up, the whole queue due.
    assert_eq!(
        targets::mark_up(&mut conn, HOST, port, "250 ok").unwrap(),
        Some(TargetState::Down)
    );
    assert!(all_due(&mut conn, first) && all_due(&mut conn, second));
    assert_eq!(parked(&mut conn, domain), 0);

    // Down again; the prober's success unparks.
    targets::mark_down(&mut conn, HOST, port, "refused", PROBE).unwrap();
    assert_eq!(parked(&mut conn, domain), 3);
    assert_eq!(
        targets::probe_succeeded(&mut conn, HOST, port, "220 hi").unwrap(),
        3
    );
    assert_eq!(parked(&mut conn, domain), 0);

    // An operator's flush of a target still down makes its mail due and asks for a probe
    // now; when that probe fails the mail is parked again.
    targets::mark_down(&mut conn, HOST, port, "refused", PROBE).unwrap();
    assert_eq!(parked(&mut conn, domain), 3);
    assert_eq!(targets::flush_target(&mut conn, HOST, port).unwrap(), 3);
    assert_eq!(due(&mut conn, domain), 3);
    targets::probe_failed(&mut conn, HOST, port, "still refused", PROBE).unwrap();
    assert_eq!(parked(&mut conn, domain), 3);

    // Parking never touches a target that is up.
    targets::mark_up(&mut conn, HOST, port, "250 ok").unwrap();
    assert_eq!(targets::park_queue(&mut conn, HOST, port).unwrap(), 0);
    assert_eq!(due(&mut conn, domain), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parked_mail_still_expires() {
    let relay = TestRelay::new().await;
    let domain = relay.domain("customer.test", DOWN_PORT, "none");
    let mut conn = relay.conn();
    let old = relay.enqueue(SENDER, domain, &["a@customer.test"], &message("old"));
    let young = relay.enqueue(SENDER, domain, &["b@customer.test"], &message("young"));
    targets::mark_down(&mut conn, HOST, i32::from(DOWN_PORT), "refused", PROBE).unwrap();
    assert_eq!(parked(&mut conn, domain), 2);
    diesel::update(deliveries::table.filter(deliveries::message_id.eq(old.0)))
        .set(deliveries::expires_at.eq(chrono::Utc::now() - chrono::Duration::seconds(10)))
        .execute(&mut conn)
        .unwrap();

    assert_eq!(queue::expire_due(&mut conn, 100).unwrap(), vec![old]);
    assert_eq!(relay.deliveries(old)[0].state, "expired");
    assert_eq!(relay.deliveries(young)[0].state, "queued");
    assert!(all_parked(&mut conn, young));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_a_domain_to_another_target_unparks_its_mail_only() {
    let relay = TestRelay::new().await;
    let moved = relay.domain("moved.test", DOWN_PORT, "none");
    let stays = relay.domain("stays.test", DOWN_PORT, "none");
    let mut conn = relay.conn();
    relay.enqueue(SENDER, moved, &["a@moved.test"], &message("moved"));
    relay.enqueue(SENDER, stays, &["a@stays.test"], &message("stays"));
    targets::mark_down(&mut conn, HOST, i32::from(DOWN_PORT), "refused", PROBE).unwrap();
    assert_eq!(parked(&mut conn, moved) + parked(&mut conn, stays), 2);

    // What the API's domain update does: the change, then the unparking, one transaction.
    let unparked = conn
        .transaction::<_, diesel::result::Error, _>(|conn| {
            diesel::update(relay_domains::table.find(moved.0))
                .set(relay_domains::target_port.eq(i32::from(UP_PORT)))
                .execute(conn)?;
            targets::unpark_domain(conn, moved)
        })
        .unwrap();
    assert_eq!(unparked, 1);
    assert_eq!(due(&mut conn, moved), 1);
    assert_eq!(parked(&mut conn, stays), 1, "the other domain still waits");

    let claimed = queue::claim_due(&mut conn, "node-a", Duration::from_secs(60), 10, 25).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].target_port, i32::from(UP_PORT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_listing_shows_the_next_probe_for_parked_mail() {
    let relay = TestRelay::new().await;
    let domain = relay.domain("customer.test", DOWN_PORT, "none");
    let mut conn = relay.conn();
    let id = relay.enqueue(SENDER, domain, &["a@customer.test"], &message("listed"));
    targets::mark_down(&mut conn, HOST, i32::from(DOWN_PORT), "refused", PROBE).unwrap();
    assert!(all_parked(&mut conn, id));
    let next_probe = relay.target(DOWN_PORT).unwrap().next_probe_at.unwrap();

    let everything = DomainVisibility {
        reach: DomainReach::All,
        only: None,
    };
    let page =
        queue_admin::list(&mut conn, &everything, &QueueFilter::default(), None, 10).unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].next_attempt_at, next_probe);
    let view = queue_admin::inspect(&mut conn, &everything, id)
        .unwrap()
        .unwrap();
    assert_eq!(view.recipients[0].next_attempt_at, next_probe);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parking_racing_with_the_target_coming_up_never_strands_mail() {
    let relay = TestRelay::new().await;
    let domain = relay.domain("customer.test", DOWN_PORT, "none");
    let port = i32::from(DOWN_PORT);
    let mut conn = relay.conn();
    bulk_queue(&mut conn, domain, 500, 2);
    for round in 0..30 {
        targets::mark_down(&mut conn, HOST, port, "refused", PROBE).unwrap();
        // Mail became due meanwhile (new mail, retry times): a parker and an up-change race.
        diesel::sql_query(format!(
            "UPDATE deliveries SET next_attempt_at = now() WHERE domain_id = {}",
            domain.0
        ))
        .execute(&mut conn)
        .unwrap();
        let url = relay.db.url();
        let parker = std::thread::spawn(move || {
            let mut conn = PgConnection::establish(&url).unwrap();
            targets::park_queue(&mut conn, HOST, port).unwrap()
        });
        let url = relay.db.url();
        let up = std::thread::spawn(move || {
            let mut conn = PgConnection::establish(&url).unwrap();
            targets::mark_up(&mut conn, HOST, port, "250 ok").unwrap()
        });
        parker.join().unwrap();
        up.join().unwrap();
        assert_eq!(relay.target(DOWN_PORT).unwrap().state, TargetState::Up);
        assert_eq!(
            parked(&mut conn, domain),
            0,
            "round {round}: mail parked behind a target that is up"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mail_arriving_for_a_down_target_is_parked_by_the_prober_and_sent_when_it_is_back() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    let addr = sink.addr();
    sink.stop();
    drop(sink);
    let domain = relay.domain("customer.test", addr.port(), "none");
    let first = relay.enqueue(SENDER, domain, &["a@customer.test"], &message("first"));
    relay.start(|_| {});
    assert!(
        relay
            .eventually(Duration::from_secs(10), |t| {
                t.target(addr.port())
                    .is_some_and(|t| t.state == TargetState::Down)
            })
            .await
    );

    let later = relay.enqueue(SENDER, domain, &["b@customer.test"], &message("later"));
    // Probes back off to 1 s in the test configuration.
    assert!(
        relay
            .eventually(Duration::from_secs(5), |t| all_parked(&mut t.conn(), later))
            .await,
        "new mail for a down target was not parked"
    );
    assert_eq!(relay.deliveries(later)[0].attempts, 0);
    assert_eq!(relay.deliveries(later)[0].state, "queued");

    let back = SinkServer::start_on(addr).await.unwrap();
    assert!(back.wait_for(2, Duration::from_secs(10)).await);
    assert!(
        relay
            .wait_state(first, "delivered", Duration::from_secs(5))
            .await
    );
    assert!(
        relay
            .wait_state(later, "delivered", Duration::from_secs(5))
            .await
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parking_racing_with_a_change_of_target_never_strands_mail() {
    let relay = TestRelay::new().await;
    let domain = relay.domain("customer.test", DOWN_PORT, "none");
    let mut conn = relay.conn();
    bulk_queue(&mut conn, domain, 500, 2);
    targets::mark_down(&mut conn, HOST, i32::from(DOWN_PORT), "refused", PROBE).unwrap();
    for round in 0..30 {
        // Back on the down target, with mail due: a parker and the API's update race.
        diesel::sql_query(format!(
            "UPDATE relay_domains SET target_port = {DOWN_PORT} WHERE id = {id}; ",
            id = domain.0
        ))
        .execute(&mut conn)
        .unwrap();
        diesel::sql_query(format!(
            "UPDATE deliveries SET next_attempt_at = now() WHERE domain_id = {}",
            domain.0
        ))
        .execute(&mut conn)
        .unwrap();
        let url = relay.db.url();
        let parker = std::thread::spawn(move || {
            let mut conn = PgConnection::establish(&url).unwrap();
            targets::park_queue(&mut conn, HOST, i32::from(DOWN_PORT)).unwrap()
        });
        let url = relay.db.url();
        let moved = std::thread::spawn(move || {
            let mut conn = PgConnection::establish(&url).unwrap();
            conn.transaction::<_, diesel::result::Error, _>(|conn| {
                diesel::update(relay_domains::table.find(domain.0))
                    .set(relay_domains::target_port.eq(i32::from(UP_PORT)))
                    .execute(conn)?;
                targets::unpark_domain(conn, domain)
            })
            .unwrap()
        });
        parker.join().unwrap();
        moved.join().unwrap();
        assert_eq!(
            parked(&mut conn, domain),
            0,
            "round {round}: mail parked behind a target the domain no longer uses"
        );
    }
}
