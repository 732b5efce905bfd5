//! The real listener on a loopback port: an independent client (lettre), connection limits
//! and graceful shutdown.

use crate::helpers::{message, TestEnv};
use lettre::message::header::ContentType;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

fn lettre_message(subject: &str) -> Message {
    Message::builder()
        .from("Sender <sender@outside.example>".parse().unwrap())
        .to("User <user@relay.example>".parse().unwrap())
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(String::from("Hello from lettre.\r\n.leading dot\r\n"))
        .unwrap()
}

#[tokio::test]
async fn message_sent_with_lettre_is_committed() {
    let env = TestEnv::new();
    let domain = env.domain("relay.example");
    let server = env.serve().await;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.addr.port())
        .hello_name(ClientId::Domain("lettre.example".into()))
        .build();
    let response = transport.send(lettre_message("via lettre")).await.unwrap();
    assert!(response.is_positive());
    let text: Vec<&str> = response.message().collect();
    assert!(text.join(" ").contains("queued as"), "{text:?}");

    let stored = env.only_message();
    assert_eq!(stored.subject.as_deref(), Some("via lettre"));
    assert_eq!(stored.helo, "lettre.example");
    assert_eq!(stored.client_ip, "127.0.0.1");
    assert_eq!(
        stored.recipients,
        vec![(
            "user@relay.example".to_owned(),
            Some(domain),
            "queued".to_owned()
        )]
    );
    assert!(stored.body_text().contains("\r\n.leading dot\r\n"));
}

#[tokio::test]
async fn connections_over_the_per_ip_limit_get_421_while_others_are_served() {
    let env = TestEnv::with_config(|c| c.max_connections_per_ip = 2);
    env.domain("relay.example");
    let server = env.serve().await;
    let mut first = server.session().await;
    let mut second = server.session().await;
    let mut third = server.connect().await;
    third.expect("421 4.7.0").await;
    assert!(third.is_closed().await);

    // The admitted sessions carry on.
    first.ehlo().await;
    second.ehlo().await;
    first
        .envelope("sender@outside.example", &["user@relay.example"])
        .await;
    first.data(&message("still served"), "250 2.0.0").await;

    // A place frees up when a session ends.
    second.cmd("QUIT", "221").await;
    assert!(second.is_closed().await);
    let mut admitted = false;
    for _ in 0..50 {
        let mut next = server.connect().await;
        if next.reply().await.code == 220 {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(admitted, "no session admitted after one ended");
}

#[tokio::test]
async fn connections_over_the_total_limit_get_421() {
    let env = TestEnv::with_config(|c| c.max_connections = 2);
    let server = env.serve().await;
    let mut first = server.session().await;
    let _second = server.session().await;
    let mut third = server.connect().await;
    third.expect("421 4.7.0").await;
    first.cmd("NOOP", "250").await;
}

#[tokio::test]
async fn graceful_shutdown_sends_421_to_an_idle_session_and_stops_accepting() {
    let env = TestEnv::new();
    let server = env.serve().await;
    let mut idle = server.session().await;
    idle.ehlo().await;
    server.shutdown.send(true).unwrap();
    idle.expect("421 4.3.2 mx.test.example").await;
    assert!(idle.is_closed().await);
    tokio::time::timeout(Duration::from_secs(5), server.task)
        .await
        .expect("run returns after shutdown")
        .unwrap();
    assert!(tokio::net::TcpStream::connect(server.addr).await.is_err());
}

#[tokio::test]
async fn shutdown_during_data_lets_the_message_be_committed_then_says_421() {
    let env = TestEnv::new();
    env.domain("relay.example");
    let server = env.serve().await;
    let mut s = server.session().await;
    s.envelope("sender@outside.example", &["user@relay.example"])
        .await;
    s.cmd("DATA", "354").await;
    s.send("Subject: in flight\r\n\r\nfirst half\r\n").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.shutdown.send(true).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.send("second half\r\n.\r\n").await;
    let id = s.expect("250 2.0.0").await.queued_id();
    s.expect("421 4.3.2").await;
    assert!(s.is_closed().await);
    assert_eq!(env.message(id).subject.as_deref(), Some("in flight"));
    tokio::time::timeout(Duration::from_secs(5), server.task)
        .await
        .expect("run returns after shutdown")
        .unwrap();
}
