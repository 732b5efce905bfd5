//! The database going away: 451, nothing half-written, and recovery when it returns.

use crate::helpers::{message, TestEnv};
use diesel::connection::SimpleConnection;

fn allow_connections(env: &TestEnv, allow: bool) {
    let name = env.db.name();
    let mut server = env.db.connect_server();
    server
        .batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}"))
        .unwrap();
    if !allow {
        server
            .batch_execute(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ))
            .unwrap();
    }
}

#[tokio::test]
async fn database_unavailable_answers_451_and_the_next_message_gets_250_once_it_returns() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let mut s = env.session().await;
    s.envelope("sender@outside.example", &["user@relay.example"])
        .await;

    allow_connections(&env, false);
    s.data(&message("lost?"), "451 4.3.0").await;

    allow_connections(&env, true);
    assert_eq!(env.message_count(), 0, "a refused message was stored");
    assert_eq!(env.delivery_count(), 0);

    // Same session: the client retries and this time it is stored.
    s.cmd("MAIL FROM:<sender@outside.example>", "250").await;
    s.cmd("RCPT TO:<user@relay.example>", "250").await;
    let id = s.data(&message("retried"), "250 2.0.0").await.queued_id();
    let stored = env.message(id);
    assert_eq!(stored.subject.as_deref(), Some("retried"));
    assert_eq!(stored.recipients.len(), 1);
    assert_eq!(env.message_count(), 1);
}

#[tokio::test]
async fn recipient_list_unavailable_answers_451_at_rcpt() {
    let env = TestEnv::new();
    let domain = env.domain_with("listed.example", |d| d.policy = "listed");
    env.list_recipient(domain, "alice");
    let mut s = env.session().await;
    s.ehlo().await;
    s.cmd("MAIL FROM:<a@outside.example>", "250").await;
    allow_connections(&env, false);
    s.cmd("RCPT TO:<alice@listed.example>", "451 4.3.0").await;
    allow_connections(&env, true);
    s.cmd("RCPT TO:<alice@listed.example>", "250 2.1.5").await;
}
