//! `/api/v1/domains/{id}/outages`: the outage report, built from the state the relay writes —
//! target health through `targets::mark_down`/`mark_up`, mail through `queue::enqueue_batch`,
//! outcomes through `queue::claim_due`/`record_attempts`/`expire_due`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use mxspool_store::queue::{self, Attempt, AttemptOutcome, IncomingMessage, IncomingRecipient};
use mxspool_store::schema::{deliveries, messages};
use mxspool_store::{targets, DomainId, PgConnection};
use serde_json::{json, Value};
use std::time::Duration;

const HOST: &str = "mail.outage.example";
const PROBE: Duration = Duration::from_secs(5);

fn down(conn: &mut PgConnection) {
    assert!(targets::mark_down(conn, HOST, 25, "connection refused", PROBE).unwrap());
}

fn up(conn: &mut PgConnection) {
    assert!(
        targets::mark_up(conn, HOST, 25, "220 mail.outage.example ESMTP")
            .unwrap()
            .is_some()
    );
}

/// Accepts one message for `recipients` of `domain`, as intake does.
fn receive(conn: &mut PgConnection, domain: i64, recipients: &[&str], lifetime: Duration) {
    let message = IncomingMessage {
        sender: "sender@example.org".to_owned(),
        client_ip: "198.51.100.7".to_owned(),
        helo: "client.example".to_owned(),
        tls: false,
        subject: Some("status".to_owned()),
        message_id_header: None,
        body: b"Subject: status\r\n\r\nHello.\r\n".to_vec(),
        recipients: recipients
            .iter()
            .map(|r| IncomingRecipient {
                domain_id: Some(DomainId(domain)),
                address: (*r).to_owned(),
                lifetime,
            })
            .collect(),
    };
    queue::enqueue_batch(conn, &[message]).unwrap();
}

const DAY: Duration = Duration::from_secs(86_400);

/// Claims what is due and records each recipient's outcome, as a delivery worker does:
/// addresses starting with `bounce` get a 550, the others a 250.
fn deliver_due(conn: &mut PgConnection) -> usize {
    let claimed = queue::claim_due(conn, "test-node", Duration::from_secs(60), 1000, 25).unwrap();
    let attempts: Vec<Attempt> = claimed
        .iter()
        .map(|c| {
            let bounce = c.recipient.starts_with("bounce");
            Attempt {
                delivery_id: c.delivery_id,
                domain_id: c.domain_id.map(DomainId),
                outcome: if bounce {
                    AttemptOutcome::Bounced
                } else {
                    AttemptOutcome::Delivered
                },
                started_at: Utc::now(),
                duration: Duration::from_millis(5),
                target_host: c.target_host.clone(),
                target_ip: Some("127.0.0.1".to_owned()),
                source_ip: None,
                tls: false,
                code: Some(if bounce { 550 } else { 250 }),
                reply: if bounce {
                    "550 5.1.1 no such user"
                } else {
                    "250 2.0.0 ok"
                }
                .to_owned(),
            }
        })
        .collect();
    queue::record_attempts(conn, "test-node", &attempts).unwrap();
    claimed.len()
}

fn items(reply: &Reply) -> &Vec<Value> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", reply.body))
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("not a time: {v}"))
        .parse()
        .unwrap()
}

fn seconds(d: chrono::TimeDelta) -> f64 {
    d.num_microseconds().unwrap() as f64 / 1e6
}

/// `(received_at, updated_at, state)` of the domain's recipients, read back independently.
fn recipient_times(
    conn: &mut PgConnection,
    domain: i64,
) -> Vec<(String, DateTime<Utc>, DateTime<Utc>, String)> {
    deliveries::table
        .inner_join(messages::table)
        .filter(deliveries::domain_id.eq(domain))
        .select((
            deliveries::recipient,
            messages::received_at,
            deliveries::updated_at,
            deliveries::state,
        ))
        .load(conn)
        .unwrap()
}

async fn outage_domain(app: &TestApp, token: &str, name: &str) -> i64 {
    app.create_domain(token, json!({"name": name, "target_host": HOST}))
        .await
        .expect(201)
        .id()
}

#[tokio::test]
async fn a_report_lists_each_outage_with_the_fate_of_the_mail_received_during_it() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("owner@example.net", 5, false).await;
    let domain = outage_domain(&app, &token, "customer.example").await;
    let mut conn = app.db.connect();

    // Mail before the first outage is not part of any.
    receive(&mut conn, domain, &["before@customer.example"], DAY);
    deliver_due(&mut conn);

    // Outage 1: two messages delivered (one with two recipients), one bounced, one expired.
    down(&mut conn);
    receive(
        &mut conn,
        domain,
        &["a@customer.example", "b@customer.example"],
        DAY,
    );
    receive(&mut conn, domain, &["bounce@customer.example"], DAY);
    receive(
        &mut conn,
        domain,
        &["late@customer.example"],
        Duration::ZERO,
    );
    assert_eq!(deliver_due(&mut conn), 0, "nothing goes to a down target");
    assert_eq!(queue::expire_due(&mut conn, 100).unwrap().len(), 1);
    up(&mut conn);
    assert_eq!(deliver_due(&mut conn), 3);

    // Between outages: delivered at once, not counted.
    receive(&mut conn, domain, &["between@customer.example"], DAY);
    assert_eq!(deliver_due(&mut conn), 1);

    // Outage 2: one message, still waiting after the target came back.
    down(&mut conn);
    receive(&mut conn, domain, &["waiting@customer.example"], DAY);
    up(&mut conn);

    // Outage 3: still going on.
    down(&mut conn);
    receive(&mut conn, domain, &["now@customer.example"], DAY);

    let reply = app
        .get(&format!("/api/v1/domains/{domain}/outages"), &token)
        .await
        .expect(200);
    assert_eq!(reply.body["domain_id"], domain);
    assert_eq!(reply.body["target_host"], HOST);
    assert_eq!(reply.body["target_port"], 25);
    assert_eq!(reply.body["next_cursor"], Value::Null);
    let list = items(&reply);
    assert_eq!(list.len(), 3, "{}", reply.body);
    let (third, second, first) = (&list[0], &list[1], &list[2]);

    // Newest first, each ending before the next began.
    assert!(time(&first["ended_at"]) <= time(&second["started_at"]));
    assert!(time(&second["ended_at"]) <= time(&third["started_at"]));

    let times = recipient_times(&mut conn, domain);
    let received = |r: &str| times.iter().find(|t| t.0 == r).unwrap().1;
    let finished = |r: &str| times.iter().find(|t| t.0 == r).unwrap().2;

    assert_eq!(first["ongoing"], false);
    assert_eq!(first["reason"], "connection refused");
    assert_eq!(
        (first["messages"].as_i64(), first["recipients"].as_i64()),
        (Some(3), Some(4))
    );
    assert_eq!(
        (
            first["delivered"].as_i64(),
            first["bounced"].as_i64(),
            first["expired"].as_i64(),
            first["pending"].as_i64()
        ),
        (Some(2), Some(1), Some(1), Some(0))
    );
    let duration = seconds(time(&first["ended_at"]) - time(&first["started_at"]));
    assert!((first["duration_seconds"].as_f64().unwrap() - duration).abs() < 1e-5);
    // The longest wait, from receipt to the final state, computed here from the rows.
    let expected = [
        "a@customer.example",
        "b@customer.example",
        "bounce@customer.example",
        "late@customer.example",
    ]
    .iter()
    .map(|r| seconds(finished(r) - received(r)))
    .fold(0.0, f64::max);
    assert!(expected > 0.0);
    assert!(
        (first["max_delay_seconds"].as_f64().unwrap() - expected).abs() < 1e-5,
        "{first} vs {expected}"
    );
    // The delivered recipients waited at least until the target came back.
    assert!(
        expected >= seconds(time(&first["ended_at"]) - received("a@customer.example")),
        "{first}"
    );

    assert_eq!(second["ongoing"], false);
    assert_eq!(
        (
            second["messages"].as_i64(),
            second["recipients"].as_i64(),
            second["delivered"].as_i64(),
            second["pending"].as_i64()
        ),
        (Some(1), Some(1), Some(0), Some(1))
    );
    // Still waiting: its delay runs up to now, so past the outage's end.
    let waited = second["max_delay_seconds"].as_f64().unwrap();
    assert!(waited >= seconds(time(&second["ended_at"]) - received("waiting@customer.example")));
    assert!(waited < 600.0, "{second}");

    assert_eq!(third["ongoing"], true);
    assert_eq!(third["ended_at"], Value::Null);
    assert!(third["duration_seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        (third["messages"].as_i64(), third["pending"].as_i64()),
        (Some(1), Some(1))
    );
}

/// Three outages without mail, returned by the API newest first.
async fn three_outages(app: &TestApp, token: &str, domain: i64) -> Vec<Value> {
    let mut conn = app.db.connect();
    for _ in 0..3 {
        down(&mut conn);
        up(&mut conn);
    }
    let reply = app
        .get(&format!("/api/v1/domains/{domain}/outages"), token)
        .await
        .expect(200);
    let list = items(&reply).clone();
    assert_eq!(list.len(), 3, "{}", reply.body);
    for o in &list {
        assert_eq!(o["messages"], 0);
        assert_eq!(o["max_delay_seconds"], Value::Null);
    }
    list
}

fn ids(reply: &Reply) -> Vec<i64> {
    items(reply)
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn outages_are_filtered_by_time_range_and_paginated_newest_first() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("owner@example.net", 5, false).await;
    let domain = outage_domain(&app, &token, "customer.example").await;
    let all = three_outages(&app, &token, domain).await;
    let all_ids: Vec<i64> = all.iter().map(|o| o["id"].as_i64().unwrap()).collect();
    let path = format!("/api/v1/domains/{domain}/outages");
    let q = |t: &Value| urlencode(t.as_str().unwrap());

    // `since`: outages still going on at that time; the first ended exactly then.
    let reply = app
        .get(&format!("{path}?since={}", q(&all[2]["ended_at"])), &token)
        .await
        .expect(200);
    assert_eq!(ids(&reply), all_ids[..2]);
    // A `since` inside an outage keeps it.
    let inside = time(&all[2]["started_at"]) + chrono::TimeDelta::microseconds(1);
    let reply = app
        .get(
            &format!("{path}?since={}", urlencode(&inside.to_rfc3339())),
            &token,
        )
        .await
        .expect(200);
    assert_eq!(ids(&reply), all_ids);
    // `until`: outages that began before it.
    let reply = app
        .get(
            &format!("{path}?until={}", q(&all[0]["started_at"])),
            &token,
        )
        .await
        .expect(200);
    assert_eq!(ids(&reply), all_ids[1..]);
    let reply = app
        .get(
            &format!(
                "{path}?since={}&until={}",
                q(&all[1]["started_at"]),
                q(&all[1]["ended_at"])
            ),
            &token,
        )
        .await
        .expect(200);
    assert_eq!(ids(&reply), all_ids[1..2]);

    // Pages of one follow each other to the end.
    let mut seen = Vec::new();
    let mut url = format!("{path}?limit=1");
    loop {
        let reply = app.get(&url, &token).await.expect(200);
        assert_eq!(items(&reply).len(), 1, "{}", reply.body);
        seen.extend(ids(&reply));
        match reply.body["next_cursor"].as_str() {
            Some(c) => url = format!("{path}?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, all_ids);

    // Bad input names the parameter.
    let reply = app
        .get(
            &format!(
                "{path}?since={}&until={}",
                q(&all[0]["started_at"]),
                q(&all[2]["started_at"])
            ),
            &token,
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["until"]);
    let reply = app
        .get(&format!("{path}?cursor=bogus"), &token)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["cursor"]);
    let reply = app
        .get(&format!("{path}?since=yesterday"), &token)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["since"]);
    let reply = app
        .get(&format!("{path}?limit=0"), &token)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["limit"]);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn another_tenants_domain_answers_404_and_the_operator_sees_it() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.customer("owner@example.net", 5, false).await;
    let (_, other) = app.customer("other@example.net", 5, false).await;
    let domain = outage_domain(&app, &owner, "customer.example").await;
    three_outages(&app, &owner, domain).await;

    app.get(&format!("/api/v1/domains/{domain}/outages"), &other)
        .await
        .expect_problem(404);
    app.get("/api/v1/domains/999999/outages", &owner)
        .await
        .expect_problem(404);
    let admin = app.admin_token().await;
    let reply = app
        .get(&format!("/api/v1/domains/{domain}/outages"), &admin)
        .await
        .expect(200);
    assert_eq!(items(&reply).len(), 3);
}

#[tokio::test]
async fn the_report_follows_the_domains_current_target() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("owner@example.net", 5, false).await;
    let domain = outage_domain(&app, &token, "customer.example").await;
    three_outages(&app, &token, domain).await;

    app.patch(
        &format!("/api/v1/domains/{domain}"),
        &token,
        json!({"target_host": "mail2.outage.example"}),
    )
    .await
    .expect(200);
    let reply = app
        .get(&format!("/api/v1/domains/{domain}/outages"), &token)
        .await
        .expect(200);
    assert_eq!(reply.body["target_host"], "mail2.outage.example");
    assert!(items(&reply).is_empty(), "{}", reply.body);

    let mut conn = app.db.connect();
    assert!(targets::mark_down(&mut conn, "mail2.outage.example", 25, "timed out", PROBE).unwrap());
    let reply = app
        .get(&format!("/api/v1/domains/{domain}/outages"), &token)
        .await
        .expect(200);
    assert_eq!(items(&reply).len(), 1);
    assert_eq!(items(&reply)[0]["reason"], "timed out");
    assert_eq!(items(&reply)[0]["ongoing"], true);
}
