//! Never an open relay: only enabled relay domains, by exact name, and no address trickery.

use crate::helpers::{message, TestEnv, TestSession};
use tokio::io::DuplexStream;

/// A session with one relay domain, `relay.example`, past MAIL FROM.
async fn in_transaction(env: &TestEnv) -> TestSession<DuplexStream> {
    env.domain("relay.example");
    let mut s = env.session().await;
    s.ehlo().await;
    s.cmd("MAIL FROM:<probe@outside.example>", "250").await;
    s
}

/// Sends RCPT TO with `path` and expects `expected`; then checks that a DATA now has no
/// recipient to deliver to and nothing was stored.
async fn refused(path: &str, expected: &str) {
    let env = TestEnv::with_config(|c| c.max_errors = 100);
    let mut s = in_transaction(&env).await;
    s.cmd(&format!("RCPT TO:{path}"), expected).await;
    s.cmd("DATA", "554 5.5.1").await;
    assert_eq!(env.message_count(), 0);
}

#[tokio::test]
async fn unknown_domain_is_refused_at_rcpt() {
    refused(
        "<user@elsewhere.example>",
        "550 5.7.1 <user@elsewhere.example>: Relay access denied",
    )
    .await;
}

#[tokio::test]
async fn relay_domain_is_accepted_whatever_its_case_and_trailing_dot() {
    let env = TestEnv::new();
    let domain = env.domain("relay.example");
    let mut s = env.session().await;
    s.envelope(
        "a@outside.example",
        &["User@RELAY.Example", "other@relay.example."],
    )
    .await;
    s.data(&message("case"), "250 2.0.0").await;
    let stored = env.only_message();
    assert_eq!(
        stored.recipients,
        vec![
            (
                "User@relay.example".to_owned(),
                Some(domain),
                "queued".to_owned()
            ),
            (
                "other@relay.example".to_owned(),
                Some(domain),
                "queued".to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn subdomain_of_a_relay_domain_is_refused() {
    refused("<user@sub.relay.example>", "550 5.7.1").await;
}

#[tokio::test]
async fn parent_domain_of_a_relay_domain_is_refused() {
    refused("<user@example>", "550 5.7.1").await;
}

#[tokio::test]
async fn disabled_domain_is_refused() {
    let env = TestEnv::new();
    env.domain_with("paused.example", |d| d.enabled = false);
    let mut s = env.session().await;
    s.ehlo().await;
    s.cmd("MAIL FROM:<a@outside.example>", "250").await;
    s.cmd("RCPT TO:<user@paused.example>", "550 5.7.1").await;
}

#[tokio::test]
async fn percent_hack_is_refused() {
    refused("<user%other.example@relay.example>", "550 5.7.1").await;
}

#[tokio::test]
async fn bang_path_is_refused() {
    refused("<other.example!user@relay.example>", "550 5.7.1").await;
}

#[tokio::test]
async fn source_route_is_refused() {
    refused("<@relay.example:user@other.example>", "550 5.7.1").await;
    refused("<@a.example,@b.example:user@relay.example>", "550 5.7.1").await;
}

#[tokio::test]
async fn quoted_local_part_hiding_another_address_is_refused() {
    refused(r#"<"user@other.example"@relay.example>"#, "550 5.7.1").await;
    refused(r#"<"user\@other.example"@relay.example>"#, "550 5.7.1").await;
    refused(r#"<"user%other.example"@relay.example>"#, "550 5.7.1").await;
}

#[tokio::test]
async fn harmless_quoted_local_part_is_accepted_as_given() {
    let env = TestEnv::new();
    let mut s = in_transaction(&env).await;
    s.cmd(r#"RCPT TO:<"john smith"@relay.example>"#, "250 2.1.5")
        .await;
    s.data(&message("quoted"), "250 2.0.0").await;
    assert_eq!(
        env.only_message().recipients[0].0,
        r#""john smith"@relay.example"#
    );
}

#[tokio::test]
async fn ip_literal_is_refused() {
    refused("<user@[127.0.0.1]>", "550 5.7.1").await;
    refused("<user@[IPv6:::1]>", "550 5.7.1").await;
}

#[tokio::test]
async fn address_without_domain_is_refused() {
    refused("<postmaster>", "550 5.7.1").await;
}

#[tokio::test]
async fn malformed_recipients_are_syntax_errors() {
    refused("<user@other.example@relay.example>", "501 5.1.3").await;
    refused("user@relay.example", "501 5.1.3").await;
    refused("<>", "501 5.1.3").await;
    refused("<user@relay.example> NOTIFY=NEVER", "555 5.5.4").await;
}

#[tokio::test]
async fn an_address_with_a_numeric_domain_is_refused() {
    refused("<user@127.0.0.1>", "550 5.7.1").await;
}
