//! Size, line length, error and time limits, each with its proper reply.

use crate::helpers::{message, TestEnv, TestSession};
use std::time::{Duration, Instant};
use tokio::io::DuplexStream;

#[tokio::test]
async fn declared_size_over_every_domain_limit_is_refused_at_mail() {
    let env = TestEnv::new();
    env.domain_with("relay.example", |d| d.max_message_size = 10_000);
    let mut s = env.session().await;
    s.ehlo().await;
    s.cmd("MAIL FROM:<a@outside.example> SIZE=10001", "552 5.3.4")
        .await;
    s.cmd("MAIL FROM:<a@outside.example> SIZE=10000", "250")
        .await;
}

#[tokio::test]
async fn declared_size_over_the_recipient_domain_limit_is_refused_at_rcpt() {
    let env = TestEnv::new();
    env.domain_with("big.example", |d| d.max_message_size = 1_000_000);
    env.domain_with("small.example", |d| d.max_message_size = 1_000);
    let mut s = env.session().await;
    s.ehlo().await;
    s.cmd("MAIL FROM:<a@outside.example> SIZE=5000", "250")
        .await;
    s.cmd("RCPT TO:<user@small.example>", "552 5.3.4").await;
    s.cmd("RCPT TO:<user@big.example>", "250 2.1.5").await;
}

#[tokio::test]
async fn message_over_the_smallest_recipient_limit_is_refused_after_data() {
    let env = TestEnv::new();
    env.domain_with("big.example", |d| d.max_message_size = 1_000_000);
    env.domain_with("small.example", |d| d.max_message_size = 1_000);
    let mut s = env.session().await;
    s.envelope(
        "a@outside.example",
        &["user@big.example", "user@small.example"],
    )
    .await;
    let line = format!("{}\r\n", "x".repeat(70));
    let text = format!("Subject: big\r\n\r\n{}", line.repeat(30)); // about 2 KB
    s.data(&text, "552 5.3.4 Message size exceeds fixed limit")
        .await;
    assert_eq!(env.message_count(), 0);
    // In step, and a small message still goes through.
    s.cmd("MAIL FROM:<a@outside.example>", "250").await;
    s.cmd("RCPT TO:<user@small.example>", "250").await;
    s.data(&message("small"), "250 2.0.0").await;
}

#[tokio::test]
async fn overlong_message_line_is_refused() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let mut s = env.session().await;
    s.envelope("a@outside.example", &["user@relay.example"])
        .await;
    let text = format!("Subject: long\r\n\r\n{}\r\n", "y".repeat(1200));
    s.data(&text, "500 5.5.2").await;
    assert_eq!(env.message_count(), 0);
    s.cmd("NOOP", "250").await;
}

#[tokio::test]
async fn overlong_command_line_is_refused_and_the_session_stays_in_step() {
    let env = TestEnv::new();
    let mut s = env.session().await;
    s.ehlo().await;
    s.cmd(&format!("NOOP {}", "z".repeat(5000)), "500 5.5.2")
        .await;
    s.cmd("NOOP", "250 2.0.0").await;
}

#[tokio::test]
async fn too_many_errors_end_the_session_with_421() {
    let env = TestEnv::with_config(|c| c.max_errors = 3);
    let mut s = env.session().await;
    s.cmd("FOO", "500").await;
    s.cmd("BAR", "500").await;
    s.cmd("BAZ", "500").await;
    s.expect("421 4.7.0 mx.test.example").await;
    assert!(s.is_closed().await);
}

#[tokio::test]
async fn a_client_trickling_a_command_byte_by_byte_is_cut_off() {
    let env = TestEnv::with_config(|c| c.command_timeout = Duration::from_secs(1));
    let mut s = env.session().await;
    // Each byte comes well within the timeout, but the line never completes: a deadline reset
    // by every byte would let this go on for ever.
    let cut_off = trickle(&mut s, b"x").await;
    assert!(
        cut_off < Duration::from_secs(4),
        "cut off after {cut_off:?}"
    );
    s.expect("421 4.4.2 mx.test.example Error: timeout exceeded")
        .await;
    assert!(s.is_closed().await);
}

/// Sends `piece` every 250 ms until the server closes the connection (or 6 s pass); returns
/// when the close was noticed.
async fn trickle(s: &mut TestSession<DuplexStream>, piece: &[u8]) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(6) {
        if !s.try_send(piece).await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the trickling client was never cut off");
}

#[tokio::test]
async fn an_idle_client_is_cut_off() {
    let env = TestEnv::with_config(|c| c.command_timeout = Duration::from_secs(1));
    let mut s = env.session().await;
    s.ehlo().await;
    s.expect("421 4.4.2").await;
    assert!(s.is_closed().await);
}

#[tokio::test]
async fn data_trickling_past_the_data_timeout_is_cut_off_and_not_stored() {
    let env = TestEnv::with_config(|c| c.data_timeout = Duration::from_secs(1));
    env.domain("relay.example");
    let mut s = env.session().await;
    s.envelope("a@outside.example", &["user@relay.example"])
        .await;
    s.cmd("DATA", "354").await;
    s.send("Subject: slow\r\n\r\n").await;
    let cut_off = trickle(&mut s, b"a line\r\n").await;
    assert!(
        cut_off < Duration::from_secs(4),
        "cut off after {cut_off:?}"
    );
    s.expect("421 4.4.2").await;
    assert!(s.is_closed().await);
    assert_eq!(env.message_count(), 0);
}
