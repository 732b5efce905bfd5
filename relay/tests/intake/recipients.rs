//! Recipient policies and the recipient limit.

use crate::helpers::{message, TestEnv};

#[tokio::test]
async fn listed_policy_accepts_only_listed_local_parts_whatever_their_case() {
    let env = TestEnv::new();
    let domain = env.domain_with("listed.example", |d| d.policy = "listed");
    env.list_recipient(domain, "alice");
    let mut s = env.session().await;
    s.ehlo().await;
    s.cmd("MAIL FROM:<a@outside.example>", "250").await;
    s.cmd("RCPT TO:<alice@listed.example>", "250 2.1.5").await;
    s.cmd("RCPT TO:<Alice@LISTED.example>", "250 2.1.5").await;
    s.cmd(
        "RCPT TO:<bob@listed.example>",
        "550 5.1.1 <bob@listed.example>: Recipient address rejected: User unknown",
    )
    .await;
    s.data(&message("listed"), "250 2.0.0").await;
    let stored = env.only_message();
    // The second spelling of alice is the same mailbox: stored once.
    assert_eq!(stored.recipients.len(), 1);
    assert_eq!(stored.recipients[0].0, "alice@listed.example");
}

#[tokio::test]
async fn duplicate_recipient_is_accepted_but_stored_once() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let mut s = env.session().await;
    s.envelope(
        "a@outside.example",
        &[
            "user@relay.example",
            "user@relay.example",
            "other@relay.example",
        ],
    )
    .await;
    let id = s.data(&message("dup"), "250 2.0.0").await.queued_id();
    let recipients: Vec<String> = env
        .message(id)
        .recipients
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(recipients, ["user@relay.example", "other@relay.example"]);
}

#[tokio::test]
async fn recipient_beyond_the_hundredth_gets_452() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let mut s = env.session().await;
    s.ehlo().await;
    // All pipelined in one write.
    let mut batch = String::from("MAIL FROM:<bulk@outside.example>\r\n");
    for n in 1..=101 {
        batch.push_str(&format!("RCPT TO:<user{n}@relay.example>\r\n"));
    }
    s.send(&batch).await;
    s.expect("250 2.1.0").await;
    for n in 1..=100 {
        let reply = s.reply().await;
        assert!(
            reply.first().starts_with("250 2.1.5"),
            "rcpt {n}: {reply:?}"
        );
    }
    s.expect("452 4.5.3 Too many recipients").await;
    // The transaction goes on with the first hundred.
    let id = s.data(&message("bulk"), "250 2.0.0").await.queued_id();
    assert_eq!(env.message(id).recipients.len(), 100);
}
