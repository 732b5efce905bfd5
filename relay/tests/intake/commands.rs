//! Greeting, EHLO/HELO and the commands around a transaction.

use crate::helpers::TestEnv;

#[tokio::test]
async fn banner_names_the_host_and_ehlo_lists_the_extensions() {
    let env = TestEnv::new();
    env.domain_with("relay.example", |d| d.max_message_size = 10_000_000);
    env.domain_with("other.example", |d| d.max_message_size = 20_000_000);
    env.domain_with("off.example", |d| {
        d.max_message_size = 90_000_000;
        d.enabled = false;
    });
    let mut s = env.session().await; // checks "220 mx.test.example ESMTP mxspool"
    let ehlo = s.ehlo().await;
    assert_eq!(ehlo.first(), "250-mx.test.example");
    for keyword in [
        "PIPELINING",
        "SIZE 20000000",
        "8BITMIME",
        "ENHANCEDSTATUSCODES",
        "SMTPUTF8",
        "STARTTLS",
    ] {
        assert!(
            ehlo.has_line(keyword),
            "{keyword} missing: {:?}",
            ehlo.lines
        );
    }
    for absent in ["AUTH", "CHUNKING", "BINARYMIME", "DSN", "VRFY", "ETRN"] {
        assert!(!ehlo.has_line(absent), "{absent} offered: {:?}", ehlo.lines);
    }
    assert!(ehlo.lines.last().unwrap().starts_with("250 "));
}

#[tokio::test]
async fn helo_works_without_extensions() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let mut s = env.session().await;
    let helo = s.cmd("HELO client.example", "250 mx.test.example").await;
    assert_eq!(helo.lines.len(), 1);
    s.cmd("MAIL FROM:<a@outside.example>", "250 2.1.0").await;
    s.cmd("RCPT TO:<user@relay.example>", "250 2.1.5").await;
    s.data(&crate::helpers::message("helo"), "250 2.0.0").await;
    assert!(env
        .only_message()
        .body_text()
        .contains("by mx.test.example (mxspool) with SMTP\r\n"));
}

#[tokio::test]
async fn transaction_commands_before_ehlo_are_refused_with_503() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let mut s = env.session().await;
    s.cmd("MAIL FROM:<a@outside.example>", "503 5.5.1").await;
    s.cmd("RCPT TO:<user@relay.example>", "503 5.5.1").await;
    s.cmd("DATA", "503 5.5.1").await;
    s.ehlo().await;
    s.cmd("RCPT TO:<user@relay.example>", "503 5.5.1").await;
    s.cmd("DATA", "503 5.5.1").await;
    s.cmd("MAIL FROM:<a@outside.example>", "250").await;
    s.cmd("MAIL FROM:<a@outside.example>", "503 5.5.1").await;
    s.cmd("DATA", "554 5.5.1").await;
}

#[tokio::test]
async fn unknown_and_unoffered_commands_get_their_proper_codes() {
    let env = TestEnv::with_config(|c| c.max_errors = 100);
    let mut s = env.session().await;
    s.cmd("XYZZY", "500 5.5.2").await;
    s.cmd("AUTH PLAIN AGZvbwBiYXI=", "503 5.5.1").await;
    s.cmd("BDAT 10 LAST", "502 5.5.1").await;
    s.cmd("EXPN staff", "502 5.5.1").await;
    s.cmd("VRFY user@relay.example", "252 2.5.2").await;
    s.cmd("HELP", "214 2.0.0").await;
    s.cmd("NOOP", "250 2.0.0").await;
    s.cmd("EHLO", "501 5.5.4").await;
    s.cmd("MAIL", "503 5.5.1").await;
    s.ehlo().await;
    s.cmd("MAIL TO:<a@b.example>", "501 5.5.4").await;
    s.cmd("MAIL FROM:a@b.example", "501 5.1.7").await;
    s.cmd("MAIL FROM:<a@b.example> FOO=BAR", "555 5.5.4").await;
    s.cmd("MAIL FROM:<a@b.example> BODY=BINARYMIME", "501 5.5.4")
        .await;
    s.cmd("MAIL FROM:<a@b.example> SIZE=lots", "501 5.5.4")
        .await;
    s.cmd("QUIT", "221 2.0.0").await;
    assert!(s.is_closed().await);
}

#[tokio::test]
async fn null_sender_and_esmtp_parameters_are_accepted() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let mut s = env.session().await;
    s.ehlo().await;
    s.cmd("MAIL FROM:<> SIZE=100 BODY=8BITMIME SMTPUTF8", "250 2.1.0")
        .await;
    s.cmd("RCPT TO:<user@relay.example>", "250 2.1.5").await;
    s.data(&crate::helpers::message("bounce"), "250 2.0.0")
        .await;
    let stored = env.only_message();
    assert_eq!(stored.sender, "");
    assert!(stored.body_text().contains("with UTF8SMTP"));
}

#[tokio::test]
async fn utf8_addresses_need_smtputf8() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let mut s = env.session().await;
    s.ehlo().await;
    s.cmd("MAIL FROM:<jöran@outside.example>", "553 5.6.7")
        .await;
    s.cmd("MAIL FROM:<jöran@outside.example> SMTPUTF8", "250")
        .await;
    s.cmd("RCPT TO:<jürgen@relay.example>", "250 2.1.5").await;
    s.cmd("RSET", "250 2.0.0").await;
    s.cmd("MAIL FROM:<a@outside.example>", "250").await;
    s.cmd("RCPT TO:<jürgen@relay.example>", "553 5.6.7").await;
}

#[tokio::test]
async fn rset_ends_the_transaction() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let mut s = env.session().await;
    s.envelope("a@outside.example", &["user@relay.example"])
        .await;
    s.cmd("RSET", "250 2.0.0").await;
    s.cmd("DATA", "503 5.5.1").await;
    s.cmd("MAIL FROM:<a@outside.example>", "250").await;
}

#[tokio::test]
async fn an_http_request_on_the_smtp_port_is_hung_up_on() {
    let env = TestEnv::new();
    let mut s = env.session().await;
    s.cmd("POST / HTTP/1.1", "221 2.7.0").await;
    assert!(s.is_closed().await);
}

#[tokio::test]
async fn shutdown_answers_421_to_an_idle_session_at_once() {
    let env = TestEnv::new();
    let mut s = env.session().await;
    s.ehlo().await;
    env.shut_down_sessions();
    s.expect("421 4.3.2 mx.test.example").await;
    assert!(s.is_closed().await);
    s.task.take().unwrap().await.unwrap();
}
