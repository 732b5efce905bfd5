//! Recipient validation against the target host (`verify`: callouts and their cache) and
//! backup-only mode (`accept_only_when_primary_down`), with a real SMTP target on loopback.

use crate::helpers::{message, TestEnv, TestSession};
use diesel::prelude::*;
use mxspool_store::schema::{recipient_callouts, relay_domains};
use mxspool_store::targets;
use mxspool_testsink::SinkServer;
use std::time::{Duration, Instant};
use tokio::io::DuplexStream;

/// An intake that may call targets on loopback, with a short callout bound.
fn env() -> TestEnv {
    TestEnv::with_config(|c| {
        c.allow_private_targets = true;
        c.callout_timeout = Duration::from_secs(1);
    })
}

/// A domain with `policy` whose target is 127.0.0.1:`port`.
fn domain_at(env: &TestEnv, name: &str, policy: &'static str, port: u16) -> i64 {
    let id = env.domain_with(name, |d| d.policy = policy);
    diesel::update(relay_domains::table.find(id))
        .set((
            relay_domains::target_host.eq("127.0.0.1"),
            relay_domains::target_port.eq(i32::from(port)),
        ))
        .execute(&mut env.db.connect())
        .expect("point the domain at the sink");
    refresh(env);
    id
}

fn refresh(env: &TestEnv) {
    env.ctx
        .domains
        .refresh(&mut env.db.connect())
        .expect("reload the domain table");
}

async fn transaction(env: &TestEnv) -> TestSession<DuplexStream> {
    let mut s = env.session().await;
    s.ehlo().await;
    s.cmd("MAIL FROM:<sender@outside.example>", "250").await;
    s
}

/// The stored callout answer: (valid, seconds until it expires).
fn stored(env: &TestEnv, domain: i64, local: &str) -> Option<(bool, i64)> {
    recipient_callouts::table
        .find((domain, local))
        .select((
            recipient_callouts::valid,
            diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "extract(epoch FROM expires_at - now())::bigint",
            ),
        ))
        .first(&mut env.db.connect())
        .optional()
        .expect("read callout answers")
}

/// Stores an answer as another node would have; `expires_in` < 0: expired that long ago.
fn store_answer(env: &TestEnv, domain: i64, local: &str, valid: bool, expires_in: i64) {
    diesel::sql_query(
        "INSERT INTO recipient_callouts (domain_id, local_part, valid, reply, checked_at, expires_at) \
         VALUES ($1, $2, $3, 'stored by a test', now() - interval '8 days', \
                 now() + make_interval(secs => $4))",
    )
    .bind::<diesel::sql_types::BigInt, _>(domain)
    .bind::<diesel::sql_types::Text, _>(local)
    .bind::<diesel::sql_types::Bool, _>(valid)
    .bind::<diesel::sql_types::Double, _>(expires_in as f64)
    .execute(&mut env.db.connect())
    .expect("store a callout answer");
}

fn set_fallback(env: &TestEnv, domain: i64, fallback: &str) {
    diesel::update(relay_domains::table.find(domain))
        .set(relay_domains::verify_fallback.eq(fallback))
        .execute(&mut env.db.connect())
        .expect("set the fallback");
    refresh(env);
}

fn mark_down(env: &TestEnv, port: u16) {
    targets::mark_down(
        &mut env.db.connect(),
        "127.0.0.1",
        i32::from(port),
        "connection refused",
        Duration::from_secs(5),
    )
    .expect("mark the target down");
}

fn mark_up(env: &TestEnv, port: u16) {
    targets::mark_up(
        &mut env.db.connect(),
        "127.0.0.1",
        i32::from(port),
        "220 ready",
    )
    .expect("mark the target up");
}

// ---- verify ----

#[tokio::test]
async fn a_recipient_the_target_accepts_is_accepted_and_its_answer_reused() {
    let sink = SinkServer::start().await.expect("sink");
    let env = env();
    let id = domain_at(&env, "verify.example", "verify", sink.port());
    let mut s = transaction(&env).await;
    s.cmd("RCPT TO:<Alice@verify.example>", "250 2.1.5").await;
    assert_eq!(sink.connections(), 1, "one callout");
    assert_eq!(sink.transactions(), 1);
    assert_eq!(sink.count(), 0, "a callout sends no message");
    let (valid, expires_in) = stored(&env, id, "alice").expect("the answer is stored");
    assert!(valid);
    // verify_valid_ttl_seconds defaults to 7 days.
    assert!((604_700..=604_800).contains(&expires_in), "{expires_in}");

    // Again, in this session and a new one, in another case: no new callout.
    s.cmd("RCPT TO:<ALICE@verify.example>", "250 2.1.5").await;
    s.data(&message("verified"), "250 2.0.0").await;
    let mut s = transaction(&env).await;
    s.cmd("RCPT TO:<alice@VERIFY.example>", "250 2.1.5").await;
    assert_eq!(sink.connections(), 1, "the cached answer was used");
    assert_eq!(env.only_message().recipients[0].0, "Alice@verify.example");
}

#[tokio::test]
async fn a_recipient_the_target_refuses_gets_550_and_the_refusal_is_cached() {
    let sink = SinkServer::start().await.expect("sink");
    sink.set_rcpt_reply("nobody@verify.example", Some("550 5.1.1 no such user"));
    let env = env();
    let id = domain_at(&env, "verify.example", "verify", sink.port());
    let mut s = transaction(&env).await;
    s.cmd(
        "RCPT TO:<nobody@verify.example>",
        "550 5.1.1 <nobody@verify.example>: Recipient address rejected: User unknown",
    )
    .await;
    let (valid, expires_in) = stored(&env, id, "nobody").expect("the refusal is stored");
    assert!(!valid);
    // verify_invalid_ttl_seconds defaults to 1 day.
    assert!((86_300..=86_400).contains(&expires_in), "{expires_in}");
    s.cmd("RCPT TO:<nobody@verify.example>", "550 5.1.1").await;
    assert_eq!(sink.connections(), 1, "the cached refusal was used");
    // Nothing accepted, so DATA has no recipients.
    s.cmd("DATA", "554").await;
    assert_eq!(env.message_count(), 0);
}

#[tokio::test]
async fn an_answer_stored_by_another_node_is_used_without_a_callout() {
    let sink = SinkServer::start().await.expect("sink");
    let env = env();
    let id = domain_at(&env, "verify.example", "verify", sink.port());
    store_answer(&env, id, "carol", true, 3600);
    store_answer(&env, id, "dave", false, 3600);
    let mut s = transaction(&env).await;
    s.cmd("RCPT TO:<carol@verify.example>", "250 2.1.5").await;
    s.cmd("RCPT TO:<dave@verify.example>", "550 5.1.1").await;
    assert_eq!(sink.connections(), 0);
    // An expired answer is asked again while the target answers.
    store_answer(&env, id, "erin", false, -60);
    s.cmd("RCPT TO:<erin@verify.example>", "250 2.1.5").await;
    assert_eq!(sink.connections(), 1);
    assert_eq!(stored(&env, id, "erin").map(|a| a.0), Some(true));
}

#[tokio::test]
async fn a_temporary_answer_of_the_target_is_not_cached_and_the_fallback_answers() {
    let sink = SinkServer::start().await.expect("sink");
    sink.set_rcpt_reply("grey@verify.example", Some("451 4.7.1 greylisted"));
    let env = env();
    let id = domain_at(&env, "verify.example", "verify", sink.port());
    let mut s = transaction(&env).await;
    s.cmd(
        "RCPT TO:<grey@verify.example>",
        "450 4.4.3 <grey@verify.example>: Recipient address rejected: unable to verify",
    )
    .await;
    assert_eq!(stored(&env, id, "grey"), None);
    // The target answered, so it is asked again next time.
    sink.set_rcpt_reply("grey@verify.example", None);
    s.cmd("RCPT TO:<grey@verify.example>", "250 2.1.5").await;
    assert_eq!(sink.connections(), 2);
}

#[tokio::test]
async fn while_the_target_is_down_cached_answers_stand_in_even_expired() {
    let sink = SinkServer::start().await.expect("sink");
    let env = env();
    let id = domain_at(&env, "verify.example", "verify", sink.port());
    store_answer(&env, id, "alice", true, -3600);
    store_answer(&env, id, "bob", false, -3600);
    mark_down(&env, sink.port());
    refresh(&env);
    let mut s = transaction(&env).await;
    s.cmd("RCPT TO:<alice@verify.example>", "250 2.1.5").await;
    s.cmd("RCPT TO:<bob@verify.example>", "550 5.1.1").await;
    // Nothing known: the fallback, `tempfail` by default.
    s.cmd("RCPT TO:<carol@verify.example>", "450 4.4.3").await;
    set_fallback(&env, id, "accept");
    s.cmd("RCPT TO:<carol@verify.example>", "250 2.1.5").await;
    assert_eq!(sink.connections(), 0, "no callout to a target known down");
    assert_eq!(
        stored(&env, id, "carol"),
        None,
        "a fallback is not an answer"
    );

    // Up again: expired answers are asked again.
    mark_up(&env, sink.port());
    refresh(&env);
    s.cmd("RCPT TO:<bob@verify.example>", "250 2.1.5").await;
    assert_eq!(sink.connections(), 1);
}

#[tokio::test]
async fn an_unreachable_target_gets_the_cached_answer_or_the_fallback() {
    let sink = SinkServer::start().await.expect("sink");
    let port = sink.port();
    sink.stop();
    drop(sink);
    let env = env();
    let id = domain_at(&env, "verify.example", "verify", port);
    store_answer(&env, id, "alice", true, -60);
    let mut s = transaction(&env).await;
    // The target's state is unknown: the callout is tried, refused, and the old answer used.
    s.cmd("RCPT TO:<alice@verify.example>", "250 2.1.5").await;
    s.cmd("RCPT TO:<bob@verify.example>", "450 4.4.3").await;
    set_fallback(&env, id, "accept");
    s.cmd("RCPT TO:<bob@verify.example>", "250 2.1.5").await;
    assert_eq!(stored(&env, id, "bob"), None);
}

#[tokio::test]
async fn a_target_that_never_answers_holds_the_sender_only_for_the_callout_bound() {
    // Accepts connections and says nothing.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(stream);
        }
    });
    let env = env();
    domain_at(&env, "verify.example", "verify", port);
    let mut s = transaction(&env).await;
    let started = Instant::now();
    s.cmd("RCPT TO:<alice@verify.example>", "450 4.4.3").await;
    let waited = started.elapsed();
    // callout_timeout is 1 s; the reply timeout of the test client would be 15 s.
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    // The next RCPT does not wait for the silent target again.
    let started = Instant::now();
    s.cmd("RCPT TO:<bob@verify.example>", "450 4.4.3").await;
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    // The session is still usable.
    s.cmd("NOOP", "250").await;
}

#[tokio::test]
async fn domains_with_other_policies_never_call_out() {
    let sink = SinkServer::start().await.expect("sink");
    let env = env();
    domain_at(&env, "any.example", "any", sink.port());
    let listed = domain_at(&env, "listed.example", "listed", sink.port());
    env.list_recipient(listed, "alice");
    let mut s = transaction(&env).await;
    s.cmd("RCPT TO:<whoever@any.example>", "250 2.1.5").await;
    s.cmd("RCPT TO:<alice@listed.example>", "250 2.1.5").await;
    s.cmd("RCPT TO:<bob@listed.example>", "550 5.1.1").await;
    assert_eq!(sink.connections(), 0);
}

// ---- backup-only mode ----

fn backup_only(env: &TestEnv, domain: i64) {
    diesel::update(relay_domains::table.find(domain))
        .set(relay_domains::accept_only_when_primary_down.eq(true))
        .execute(&mut env.db.connect())
        .expect("backup-only mode");
    refresh(env);
}

#[tokio::test]
async fn a_backup_only_domain_is_refused_while_its_primary_is_up_and_accepted_while_down() {
    let sink = SinkServer::start().await.expect("sink");
    let port = sink.port();
    let env = env();
    let id = domain_at(&env, "backup.example", "any", port);
    backup_only(&env, id);
    let mut s = transaction(&env).await;
    // Never seen failing: checked now, it answers, so it is up.
    s.cmd(
        "RCPT TO:<alice@backup.example>",
        "451 4.7.1 <alice@backup.example>: this server is a backup MX for backup.example",
    )
    .await;
    assert_eq!(sink.connections(), 1, "the primary was checked");
    assert_eq!(sink.transactions(), 0, "a check sends no mail");
    s.cmd("RCPT TO:<bob@backup.example>", "451 4.7.1").await;
    assert_eq!(sink.connections(), 1, "and not checked again at once");
    mark_down(&env, port);
    refresh(&env);
    s.cmd("RCPT TO:<alice@backup.example>", "250 2.1.5").await;
    s.data(&message("while down"), "250 2.0.0").await;
    assert_eq!(env.message_count(), 1);
    // Other domains on the same target are not affected.
    domain_at(&env, "normal.example", "any", port);
    mark_up(&env, port);
    refresh(&env);
    let mut s = transaction(&env).await;
    s.cmd("RCPT TO:<alice@backup.example>", "451 4.7.1").await;
    s.cmd("RCPT TO:<alice@normal.example>", "250 2.1.5").await;
}

#[tokio::test]
async fn a_backup_only_domain_whose_primary_does_not_answer_is_accepted_and_the_primary_marked_down(
) {
    let sink = SinkServer::start().await.expect("sink");
    let port = sink.port();
    sink.stop();
    drop(sink);
    let env = env();
    let id = domain_at(&env, "backup.example", "any", port);
    backup_only(&env, id);
    let mut s = transaction(&env).await;
    s.cmd("RCPT TO:<alice@backup.example>", "250 2.1.5").await;
    s.cmd("RCPT TO:<bob@backup.example>", "250 2.1.5").await;
    let target = targets::find(&mut env.db.connect(), "127.0.0.1", i32::from(port))
        .expect("read the target")
        .expect("the target is known now");
    assert_eq!(target.state, targets::TargetState::Down);
    s.data(&message("primary gone"), "250 2.0.0").await;
    assert_eq!(env.only_message().recipients.len(), 2);
}

#[tokio::test]
async fn a_change_of_the_primary_state_reaches_rcpt_within_a_second() {
    let sink = SinkServer::start().await.expect("sink");
    let port = sink.port();
    let env = env();
    let id = domain_at(&env, "backup.example", "any", port);
    backup_only(&env, id);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(env.ctx.domains.clone().watch(env.ctx.pool.clone(), stopped));

    async fn answer(env: &TestEnv) -> u16 {
        let mut s = transaction(env).await;
        s.send("RCPT TO:<alice@backup.example>\r\n").await;
        s.reply().await.code
    }
    async fn wait_for(env: &TestEnv, code: u16) -> Duration {
        let started = Instant::now();
        while answer(env).await != code {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "RCPT never got {code}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        started.elapsed()
    }

    assert_eq!(answer(&env).await, 451);
    mark_down(&env, port);
    let took = wait_for(&env, 250).await;
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    mark_up(&env, port);
    let took = wait_for(&env, 451).await;
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    let _ = stop.send(true);
    watcher.await.expect("watcher");
}

#[tokio::test]
async fn a_backup_only_verify_domain_answers_from_its_cache_while_the_primary_is_down() {
    let sink = SinkServer::start().await.expect("sink");
    let env = env();
    let id = domain_at(&env, "both.example", "verify", sink.port());
    backup_only(&env, id);
    let mut s = transaction(&env).await;
    s.cmd("RCPT TO:<alice@both.example>", "451 4.7.1").await;
    assert_eq!(
        sink.transactions(),
        0,
        "no callout while the primary takes its own mail"
    );
    store_answer(&env, id, "alice", true, -60);
    mark_down(&env, sink.port());
    refresh(&env);
    s.cmd("RCPT TO:<alice@both.example>", "250 2.1.5").await;
    s.cmd("RCPT TO:<bob@both.example>", "450 4.4.3").await;
    assert_eq!(sink.transactions(), 0);
}

#[tokio::test]
async fn a_utf8_address_is_not_asked_of_a_target_without_smtputf8() {
    let sink = SinkServer::start().await.expect("sink");
    let env = env();
    let id = domain_at(&env, "verify.example", "verify", sink.port());
    let mut s = env.session().await;
    s.ehlo().await;
    s.cmd("MAIL FROM:<sender@outside.example> SMTPUTF8", "250")
        .await;
    s.cmd("RCPT TO:<jürgen@verify.example>", "450 4.4.3").await;
    assert_eq!(stored(&env, id, "jürgen"), None);
    assert_eq!(sink.transactions(), 0, "no MAIL FROM without SMTPUTF8");
    // The target itself is fine: the next address is asked at once.
    s.cmd("RCPT TO:<juergen@verify.example>", "250 2.1.5").await;
    assert_eq!(sink.transactions(), 1);
}
