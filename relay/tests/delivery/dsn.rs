//! Failed mail goes back to its sender as an RFC 3464 report, delivered through the sender
//! domain's MX (found in the test DNS); null senders and DSNs themselves never get one.

use crate::helpers::*;
use diesel::prelude::*;
use mxspool_relay::config::BouncePolicy;
use mxspool_store::schema::{deliveries, messages};
use mxspool_testsink::SinkServer;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_permanent_failure_bounces_and_the_sender_gets_a_dsn() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    sink.set_rcpt_reply("nobody@customer.test", Some("550 5.1.1 no such user"));
    let domain = relay.domain("customer.test", sink.port(), "none");
    let id = relay.enqueue(
        SENDER,
        domain,
        &["nobody@customer.test"],
        &message("will bounce"),
    );
    relay.start(|_| {});

    assert!(
        relay
            .wait_state(id, "bounced", Duration::from_secs(10))
            .await
    );
    assert!(
        relay.dsn_sink.wait_for(1, Duration::from_secs(10)).await,
        "no DSN arrived"
    );
    let got = relay.dsn_sink.messages()[0].clone();
    assert_eq!(got.mail_from, "", "DSNs have the null sender");
    assert_eq!(got.rcpt_to, vec![SENDER.to_owned()]);

    let dsn = parse_dsn(&got.data);
    assert_eq!(dsn.report_type.as_deref(), Some("delivery-status"));
    assert_eq!(dsn.from, format!("MAILER-DAEMON@{HOSTNAME}"));
    assert_eq!(dsn.subject, "Undelivered Mail Returned to Sender");
    assert_eq!(dsn.auto_submitted, "auto-replied");
    assert!(dsn.human.contains("nobody@customer.test"), "{}", dsn.human);
    assert!(
        dsn.human.contains("550 5.1.1 no such user"),
        "{}",
        dsn.human
    );
    for field in [
        format!("Reporting-MTA: dns; {HOSTNAME}"),
        "Arrival-Date: ".to_owned(),
        "Final-Recipient: rfc822; nobody@customer.test".to_owned(),
        "Action: failed".to_owned(),
        "Status: 5.1.1".to_owned(),
        "Remote-MTA: dns; 127.0.0.1".to_owned(),
        "Diagnostic-Code: smtp; 550 5.1.1 no such user".to_owned(),
    ] {
        assert!(
            dsn.status.contains(&field),
            "missing {field:?} in\n{}",
            dsn.status
        );
    }
    assert!(
        dsn.headers.contains("Subject: will bounce"),
        "{}",
        dsn.headers
    );
    assert!(
        dsn.headers
            .contains("Message-ID: <will-bounce@sender.test>"),
        "{}",
        dsn.headers
    );
    assert!(
        !dsn.headers.contains("Hello Bob"),
        "only the headers come back: {}",
        dsn.headers
    );

    assert!(relay.dsn_sent(id));
    // The DSN itself went through the queue, by the MX route, and was delivered.
    let mut conn = relay.conn();
    let (route, state): (String, String) = deliveries::table
        .filter(deliveries::recipient.eq(SENDER))
        .select((deliveries::route, deliveries::state))
        .first(&mut conn)
        .unwrap();
    assert_eq!(route, "mx");
    assert!(
        relay
            .eventually(Duration::from_secs(5), |t| {
                deliveries::table
                    .filter(deliveries::recipient.eq(SENDER))
                    .select(deliveries::state)
                    .first::<String>(&mut t.conn())
                    .unwrap()
                    == "delivered"
            })
            .await,
        "DSN delivery state was {state}"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mail_past_its_queue_lifetime_expires_and_the_sender_gets_a_dsn() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    sink.set_data_reply(Some("451 4.3.0 try again later"));
    let domain = relay.domain("customer.test", sink.port(), "none");
    let id = relay.enqueue(SENDER, domain, &["bob@customer.test"], &message("too late"));
    relay.start(|c| c.retry_schedule = vec![Duration::from_secs(3600)]);

    assert!(
        relay
            .eventually(Duration::from_secs(10), |t| t.deliveries(id)[0].attempts
                >= 1)
            .await
    );
    diesel::sql_query(
        "UPDATE deliveries SET expires_at = now() - interval '1 second' WHERE message_id = $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(id.0)
    .execute(&mut relay.conn())
    .unwrap();

    assert!(
        relay
            .wait_state(id, "expired", Duration::from_secs(10))
            .await
    );
    assert!(
        relay.dsn_sink.wait_for(1, Duration::from_secs(10)).await,
        "no DSN arrived"
    );
    let dsn = parse_dsn(&relay.dsn_sink.messages()[0].data);
    assert!(
        dsn.status
            .contains("Final-Recipient: rfc822; bob@customer.test"),
        "{}",
        dsn.status
    );
    assert!(dsn.status.contains("Status: 5.4.7"), "{}", dsn.status);
    assert!(
        dsn.status
            .contains("Diagnostic-Code: smtp; 451 4.3.0 try again later"),
        "{}",
        dsn.status
    );
    assert!(
        dsn.human.contains("queue lifetime expired"),
        "{}",
        dsn.human
    );
    assert_eq!(sink.count(), 0);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_null_sender_gets_no_dsn() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    sink.set_rcpt_reply("nobody@customer.test", Some("550 5.1.1 no such user"));
    let domain = relay.domain("customer.test", sink.port(), "none");
    let id = relay.enqueue(
        "",
        domain,
        &["nobody@customer.test"],
        &message("bounce of a bounce"),
    );
    relay.start(|_| {});

    assert!(
        relay
            .wait_state(id, "bounced", Duration::from_secs(10))
            .await
    );
    assert!(
        relay
            .eventually(Duration::from_secs(5), |t| t.dsn_sent(id))
            .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(relay.message_count(), 1, "no DSN was queued");
    assert_eq!(relay.dsn_sink.count(), 0);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_log_bounce_policy_queues_no_dsn_but_settles_the_message() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    sink.set_rcpt_reply("nobody@customer.test", Some("550 5.1.1 no such user"));
    let domain = relay.domain("customer.test", sink.port(), "none");
    let id = relay.enqueue(
        SENDER,
        domain,
        &["nobody@customer.test"],
        &message("logged"),
    );
    relay.start(|c| c.bounces = BouncePolicy::Log);

    assert!(
        relay
            .wait_state(id, "bounced", Duration::from_secs(10))
            .await
    );
    assert!(
        relay
            .eventually(Duration::from_secs(5), |t| t.dsn_sent(id))
            .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(relay.message_count(), 1, "no DSN was queued");
    assert_eq!(relay.dsn_sink.count(), 0);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dsn_that_cannot_be_delivered_causes_no_further_dsn() {
    let mut relay = TestRelay::new().await;
    let sink = SinkServer::start().await.unwrap();
    sink.set_rcpt_reply("nobody@customer.test", Some("550 5.1.1 no such user"));
    let domain = relay.domain("customer.test", sink.port(), "none");
    // The sender's domain publishes a null MX: the DSN to it bounces at once.
    let id = relay.enqueue(
        "carol@nullmx.test",
        domain,
        &["nobody@customer.test"],
        &message("to null mx"),
    );
    relay.start(|_| {});

    assert!(
        relay
            .wait_state(id, "bounced", Duration::from_secs(10))
            .await
    );
    let dsn_bounced = relay
        .eventually(Duration::from_secs(10), |t| {
            deliveries::table
                .filter(deliveries::recipient.eq("carol@nullmx.test"))
                .select((deliveries::state, deliveries::last_reply))
                .first::<(String, Option<String>)>(&mut t.conn())
                .optional()
                .unwrap()
                .is_some_and(|(state, reply)| {
                    state == "bounced" && reply.is_some_and(|r| r.contains("5.1.10"))
                })
        })
        .await;
    assert!(
        dsn_bounced,
        "the DSN to a null-MX domain bounces permanently"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        relay.message_count(),
        2,
        "the message and its DSN, nothing more"
    );
    let unsettled: i64 = messages::table
        .filter(messages::dsn_sent_at.is_null())
        .filter(messages::sender.eq(""))
        .count()
        .get_result(&mut relay.conn())
        .unwrap();
    assert_eq!(unsettled, 0, "the failed DSN is settled without a report");
    relay.stop().await;
}
