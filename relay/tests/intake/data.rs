//! DATA: strict line endings, dot-unstuffing, the Received header, and 250 only once stored.

use crate::helpers::{message, TestEnv, TestSession};
use tokio::io::DuplexStream;

async fn ready_for_data(env: &TestEnv) -> TestSession<DuplexStream> {
    env.domain("relay.example");
    let mut s = env.session().await;
    s.envelope("sender@outside.example", &["user@relay.example"])
        .await;
    s
}

#[tokio::test]
async fn accepted_message_is_stored_with_its_recipients_before_250() {
    let env = TestEnv::new();
    let domain = env.domain("relay.example");
    let mut s = env.session().await;
    s.envelope(
        "sender@outside.example",
        &["user@relay.example", "second@relay.example"],
    )
    .await;
    let reply = s.data(&message("stored"), "250 2.0.0 Ok: queued as ").await;
    // The reply is only sent after the commit: the rows are there when it arrives.
    let stored = env.message(reply.queued_id());
    assert_eq!(stored.sender, "sender@outside.example");
    assert_eq!(stored.helo, "client.example");
    assert_eq!(stored.client_ip, "192.0.2.10");
    assert!(!stored.tls);
    assert_eq!(stored.subject.as_deref(), Some("stored"));
    assert_eq!(
        stored.message_id_header.as_deref(),
        Some("stored@outside.example")
    );
    assert_eq!(
        stored.recipients,
        vec![
            (
                "user@relay.example".to_owned(),
                Some(domain),
                "queued".to_owned()
            ),
            (
                "second@relay.example".to_owned(),
                Some(domain),
                "queued".to_owned()
            ),
        ]
    );
    // The session goes on: a second message in the same connection.
    s.cmd("MAIL FROM:<sender@outside.example>", "250").await;
    s.cmd("RCPT TO:<user@relay.example>", "250").await;
    let second = s.data(&message("again"), "250 2.0.0").await.queued_id();
    assert_ne!(second, reply.queued_id());
    assert_eq!(env.message_count(), 2);
}

#[tokio::test]
async fn received_header_is_prepended_with_client_ip_and_helo() {
    let env = TestEnv::new();
    let mut s = ready_for_data(&env).await;
    let text = message("trace");
    s.data(&text, "250 2.0.0").await;
    let body = env.only_message().body_text();
    assert!(
        body.starts_with("Received: from client.example (unknown [192.0.2.10])\r\n"),
        "{body}"
    );
    assert!(body.contains("\tby mx.test.example (mxspool) with ESMTP\r\n"));
    assert!(body.contains("\tfor <user@relay.example>; "));
    // The original text follows the header unchanged.
    let (_, original) = body.split_once(" +0000\r\n").unwrap();
    assert_eq!(original, text);
}

#[tokio::test]
async fn dot_stuffing_is_removed_before_storing() {
    let env = TestEnv::new();
    let mut s = ready_for_data(&env).await;
    s.data(
        "Subject: dots\r\n\r\n..leading dot\r\n.\t.tab\r\n...\r\n..\r\nend\r\n",
        "250 2.0.0",
    )
    .await;
    let body = env.only_message().body;
    let text = b"Subject: dots\r\n\r\n.leading dot\r\n\t.tab\r\n..\r\n.\r\nend\r\n";
    assert!(body.ends_with(text), "{:?}", String::from_utf8_lossy(&body));
}

#[tokio::test]
async fn bare_lf_in_data_is_refused_and_nothing_is_stored() {
    let env = TestEnv::new();
    let mut s = ready_for_data(&env).await;
    s.cmd("DATA", "354").await;
    s.send("Subject: x\r\n\r\nline one\nline two\r\n.\r\n")
        .await;
    s.expect("550 5.5.2 Message contains bare CR or LF").await;
    assert_eq!(env.message_count(), 0);
    // Still in step: the next command is understood.
    s.cmd("NOOP", "250").await;
}

#[tokio::test]
async fn bare_cr_in_data_is_refused_and_nothing_is_stored() {
    let env = TestEnv::new();
    let mut s = ready_for_data(&env).await;
    s.cmd("DATA", "354").await;
    s.send("Subject: x\r\n\r\nline one\rline two\r\n.\r\n")
        .await;
    s.expect("550 5.5.2").await;
    assert_eq!(env.message_count(), 0);
    s.cmd("NOOP", "250").await;
}

/// The SMTP smuggling attack: an end-of-data look-alike followed by a second transaction
/// inside the message text.
async fn smuggling_attempt(fake_end: &str) {
    let env = TestEnv::new();
    env.domain("relay.example");
    let mut s = env.session().await;
    s.envelope("sender@outside.example", &["user@relay.example"])
        .await;
    s.cmd("DATA", "354").await;
    s.send(&format!(
        "Subject: innocent\r\n\r\nhello{fake_end}\
         MAIL FROM:<ceo@relay.example>\r\n\
         RCPT TO:<victim@relay.example>\r\n\
         DATA\r\n\
         Subject: smuggled\r\n\r\nsend money\r\n.\r\n"
    ))
    .await;
    // One reply only, to the whole text, refusing it.
    s.expect("550 5.5.2").await;
    s.cmd("NOOP", "250 2.0.0").await;
    assert_eq!(env.message_count(), 0, "stored after {fake_end:?}");
}

#[tokio::test]
async fn lf_dot_crlf_is_not_an_end_of_data() {
    smuggling_attempt("\n.\r\n").await;
}

#[tokio::test]
async fn crlf_dot_lf_is_not_an_end_of_data() {
    smuggling_attempt("\r\n.\n").await;
}

#[tokio::test]
async fn cr_dot_crlf_is_not_an_end_of_data() {
    smuggling_attempt("\r.\r\n").await;
}

#[tokio::test]
async fn lf_dot_lf_is_not_an_end_of_data() {
    smuggling_attempt("\n.\n").await;
}

#[tokio::test]
async fn cr_dot_cr_is_not_an_end_of_data() {
    smuggling_attempt("\r.\r").await;
}

#[tokio::test]
async fn pipelined_envelope_gets_replies_in_order() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let mut s = env.session().await;
    s.ehlo().await;
    s.send(
        "MAIL FROM:<sender@outside.example>\r\n\
         RCPT TO:<user@relay.example>\r\n\
         RCPT TO:<user@elsewhere.example>\r\n\
         RCPT TO:<other@relay.example>\r\n\
         DATA\r\n",
    )
    .await;
    s.expect("250 2.1.0").await;
    s.expect("250 2.1.5").await;
    s.expect("550 5.7.1").await;
    s.expect("250 2.1.5").await;
    s.expect("354").await;
    s.send(&format!("{}.\r\nQUIT\r\n", message("pipelined")))
        .await;
    let id = s.expect("250 2.0.0").await.queued_id();
    s.expect("221").await;
    assert!(s.is_closed().await);
    assert_eq!(env.message(id).recipients.len(), 2);
}

#[tokio::test]
async fn empty_message_is_accepted() {
    let env = TestEnv::new();
    let mut s = ready_for_data(&env).await;
    s.data("", "250 2.0.0").await;
    assert!(env.only_message().body_text().starts_with("Received: "));
}
