//! A delivery side on its own fresh database, with real peers on loopback: SMTP sinks as
//! target hosts, a DNS server for the senders' MX records and a sink behind that MX for DSNs.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use mxspool_relay::config::BouncePolicy;
use mxspool_relay::outbound::{self, OutboundContext};
use mxspool_relay::RelayConfig;
use mxspool_store::queue::{self, IncomingMessage, IncomingRecipient};
use mxspool_store::schema::{accounts, deliveries, delivery_attempts, messages, relay_domains};
use mxspool_store::targets::{self, Target, TargetEvent};
use mxspool_store::{DomainId, MessageId, PgConnection, PgPool};
use mxspool_testdb::TestDb;
use mxspool_testsink::{DnsServer, SinkServer, Zone};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

pub const HOSTNAME: &str = "relay.mxspool.test";
/// The envelope sender of test mail; its domain's MX is the DSN sink.
pub const SENDER: &str = "alice@sender.test";

/// One test's world: a database, a DNS server, a sink for DSNs, and the relay nodes started.
pub struct TestRelay {
    pub db: TestDb,
    pub pool: PgPool,
    pub dns: DnsServer,
    /// The SMTP server behind `sender.test`'s MX: DSNs arrive here.
    pub dsn_sink: SinkServer,
    owner: i64,
    nodes: Vec<Node>,
}

/// A running `outbound::run`.
pub struct Node {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl TestRelay {
    pub async fn new() -> TestRelay {
        let db = TestDb::new();
        let pool = Pool::builder()
            .max_size(24)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(5))
            .test_on_check_out(true)
            .build_unchecked(ConnectionManager::<PgConnection>::new(db.url()));
        let dsn_sink = SinkServer::start().await.expect("DSN sink");
        let zone = Zone::new()
            .mx("sender.test", 10, "mx.sender.test")
            .a("mx.sender.test", Ipv4Addr::LOCALHOST)
            .mx("nullmx.test", 0, ".");
        let dns = DnsServer::start(zone).await.expect("test DNS server");
        let owner = diesel::insert_into(accounts::table)
            .values((
                accounts::email.eq("owner@customer.test"),
                accounts::password_hash.eq("not a hash"),
                accounts::role.eq("customer"),
                accounts::max_domains.eq(100),
                accounts::may_create_domain_admins.eq(true),
            ))
            .returning(accounts::id)
            .get_result(&mut db.connect())
            .expect("insert owner account");
        TestRelay {
            db,
            pool,
            dns,
            dsn_sink,
            owner,
            nodes: Vec::new(),
        }
    }

    /// Test timings: retries after 1 s, probes from 200 ms up to 1 s, 2 s leases, 100 ms
    /// polling, loopback targets allowed, DNS and MX port pointing at the test peers.
    pub fn config(&self, node: &str) -> RelayConfig {
        let mut c = RelayConfig::new(HOSTNAME.to_owned());
        c.node_id = node.to_owned();
        c.lease = Duration::from_secs(2);
        c.workers = 4;
        c.claim_batch = 50;
        c.retry_schedule = vec![Duration::from_secs(1)];
        c.probe_initial = Duration::from_millis(200);
        c.probe_max = Duration::from_secs(1);
        c.connect_timeout = Duration::from_secs(2);
        c.smtp_timeout = Duration::from_secs(10);
        c.poll_interval = Duration::from_millis(100);
        c.allow_private_targets = true;
        c.dns_servers = Some(vec![self.dns.addr()]);
        c.mx_port = self.dsn_sink.port();
        c.bounces = BouncePolicy::Send;
        c
    }

    /// Starts a relay node with the test configuration as `adjust`ed.
    pub fn start(&mut self, adjust: impl FnOnce(&mut RelayConfig)) -> Arc<OutboundContext> {
        let name = format!("test-node-{}", self.nodes.len() + 1);
        let mut config = self.config(&name);
        adjust(&mut config);
        let ctx = Arc::new(OutboundContext {
            config: Arc::new(config),
            pool: self.pool.clone(),
            wake: Arc::new(Notify::new()),
        });
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(outbound::run(ctx.clone(), rx));
        self.nodes.push(Node { shutdown, task });
        ctx
    }

    /// Asks every node to stop and waits for them.
    pub async fn stop(&mut self) {
        for node in &self.nodes {
            let _ = node.shutdown.send(true);
        }
        for node in self.nodes.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(15), node.task).await;
        }
    }

    pub fn conn(&self) -> PgConnection {
        self.db.connect()
    }

    /// A relay domain delivered to 127.0.0.1:`port`.
    pub fn domain(&self, name: &str, port: u16, tls_policy: &str) -> DomainId {
        self.domain_to(name, "127.0.0.1", port, tls_policy)
    }

    pub fn domain_to(&self, name: &str, host: &str, port: u16, tls_policy: &str) -> DomainId {
        diesel::insert_into(relay_domains::table)
            .values((
                relay_domains::name.eq(name),
                relay_domains::owner_id.eq(self.owner),
                relay_domains::target_host.eq(host),
                relay_domains::target_port.eq(i32::from(port)),
                relay_domains::tls_policy.eq(tls_policy),
            ))
            .returning(relay_domains::id)
            .get_result::<i64>(&mut self.conn())
            .map(DomainId)
            .expect("insert relay domain")
    }

    /// Commits a message the way intake does.
    pub fn enqueue(
        &self,
        sender: &str,
        domain: DomainId,
        recipients: &[&str],
        body: &[u8],
    ) -> MessageId {
        self.enqueue_many(&[(sender, domain, recipients, body)])[0]
    }

    pub fn enqueue_many(&self, batch: &[(&str, DomainId, &[&str], &[u8])]) -> Vec<MessageId> {
        let messages: Vec<IncomingMessage> = batch
            .iter()
            .map(|(sender, domain, recipients, body)| IncomingMessage {
                sender: (*sender).to_owned(),
                client_ip: "192.0.2.10".to_owned(),
                helo: "client.sender.test".to_owned(),
                tls: false,
                subject: None,
                message_id_header: None,
                body: body.to_vec(),
                recipients: recipients
                    .iter()
                    .map(|r| IncomingRecipient {
                        domain_id: Some(*domain),
                        address: (*r).to_owned(),
                        lifetime: Duration::from_secs(5 * 24 * 3600),
                    })
                    .collect(),
            })
            .collect();
        queue::enqueue_batch(&mut self.conn(), &messages).expect("enqueue")
    }

    pub fn deliveries(&self, message: MessageId) -> Vec<Delivery> {
        deliveries::table
            .filter(deliveries::message_id.eq(message.0))
            .order(deliveries::id)
            .select((
                deliveries::id,
                deliveries::recipient,
                deliveries::state,
                deliveries::attempts,
                deliveries::last_code,
                deliveries::last_reply,
                deliveries::next_attempt_at,
            ))
            .load::<(
                i64,
                String,
                String,
                i32,
                Option<i32>,
                Option<String>,
                DateTime<Utc>,
            )>(&mut self.conn())
            .expect("load deliveries")
            .into_iter()
            .map(
                |(id, recipient, state, attempts, last_code, last_reply, next_attempt_at)| {
                    Delivery {
                        id,
                        recipient,
                        state,
                        attempts,
                        last_code,
                        last_reply,
                        next_attempt_at,
                    }
                },
            )
            .collect()
    }

    pub fn attempts(&self, delivery_id: i64) -> Vec<AttemptRow> {
        delivery_attempts::table
            .filter(delivery_attempts::delivery_id.eq(delivery_id))
            .order(delivery_attempts::id)
            .select((
                delivery_attempts::target_host,
                delivery_attempts::target_ip,
                delivery_attempts::code,
                delivery_attempts::reply,
                delivery_attempts::outcome,
                delivery_attempts::duration_ms,
                delivery_attempts::tls,
                delivery_attempts::started_at,
            ))
            .load::<(
                String,
                Option<String>,
                Option<i32>,
                String,
                String,
                i32,
                bool,
                DateTime<Utc>,
            )>(&mut self.conn())
            .expect("load attempts")
            .into_iter()
            .map(
                |(target_host, target_ip, code, reply, outcome, duration_ms, tls, started_at)| {
                    AttemptRow {
                        target_host,
                        target_ip,
                        code,
                        reply,
                        outcome,
                        duration_ms,
                        tls,
                        started_at,
                    }
                },
            )
            .collect()
    }

    pub fn message_count(&self) -> i64 {
        messages::table
            .count()
            .get_result(&mut self.conn())
            .expect("count messages")
    }

    pub fn dsn_sent(&self, message: MessageId) -> bool {
        messages::table
            .find(message.0)
            .select(messages::dsn_sent_at.is_not_null())
            .get_result(&mut self.conn())
            .expect("message row")
    }

    pub fn target(&self, port: u16) -> Option<Target> {
        targets::find(&mut self.conn(), "127.0.0.1", i32::from(port)).expect("target row")
    }

    /// The target's up/down timeline, oldest first.
    pub fn target_events(&self, port: u16) -> Vec<TargetEvent> {
        let mut events = targets::events(&mut self.conn(), "127.0.0.1", Some(i32::from(port)), 100)
            .expect("target events");
        events.reverse();
        events
    }

    /// Polls `check` every 50 ms until it holds; false after `timeout`.
    pub async fn eventually(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&TestRelay) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if check(self) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until every recipient of `message` is in `state`.
    pub async fn wait_state(&self, message: MessageId, state: &str, timeout: Duration) -> bool {
        self.eventually(timeout, |t| {
            let d = t.deliveries(message);
            !d.is_empty() && d.iter().all(|d| d.state == state)
        })
        .await
    }
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub recipient: String,
    pub state: String,
    pub attempts: i32,
    pub last_code: Option<i32>,
    pub last_reply: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub target_host: String,
    pub target_ip: Option<String>,
    pub code: Option<i32>,
    pub reply: String,
    pub outcome: String,
    pub duration_ms: i32,
    pub tls: bool,
    pub started_at: DateTime<Utc>,
}

/// A small message with a recognisable subject.
pub fn message(subject: &str) -> Vec<u8> {
    format!(
        "Received: from client.sender.test ([192.0.2.10]) by {HOSTNAME}\r\n\
         From: Alice <{SENDER}>\r\n\
         To: Bob <bob@customer.test>\r\n\
         Subject: {subject}\r\n\
         Message-ID: <{}@sender.test>\r\n\
         \r\n\
         Hello Bob.\r\n\
         .A line starting with a dot.\r\n",
        subject.replace(' ', "-")
    )
    .into_bytes()
}

/// The parts of a DSN as received by the DSN sink.
pub struct ParsedDsn {
    pub from: String,
    pub subject: String,
    pub auto_submitted: String,
    pub report_type: Option<String>,
    pub human: String,
    pub status: String,
    pub headers: String,
}

pub fn parse_dsn(raw: &[u8]) -> ParsedDsn {
    use mail_parser::{MessageParser, MimeHeaders};
    let message = MessageParser::default().parse(raw).expect("DSN parses");
    let root = message.root_part();
    let ctype = root.content_type().expect("DSN content type");
    assert_eq!(ctype.ctype(), "multipart");
    assert_eq!(ctype.subtype(), Some("report"));
    let mut human = String::new();
    let mut status = String::new();
    let mut headers = String::new();
    for part in message.parts.iter().skip(1) {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let text = String::from_utf8_lossy(part.contents()).into_owned();
        match (ct.ctype(), ct.subtype()) {
            ("text", Some("plain")) => human = text,
            ("message", Some("delivery-status")) => status = text,
            ("text", Some("rfc822-headers")) => headers = text,
            _ => {}
        }
    }
    let from = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_owned();
    ParsedDsn {
        from,
        subject: message.subject().unwrap_or_default().to_owned(),
        auto_submitted: message
            .header_raw("Auto-Submitted")
            .unwrap_or_default()
            .trim()
            .to_owned(),
        report_type: ctype.attribute("report-type").map(str::to_owned),
        human,
        status,
        headers,
    }
}

/// The single `bigint` a query returns in a column named `n` (counts, mostly).
pub fn scalar(conn: &mut PgConnection, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<N>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

/// The database's `now()` (the transaction's start when inside one).
pub fn db_now(conn: &mut PgConnection) -> DateTime<Utc> {
    #[derive(QueryableByName)]
    struct Now {
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        now: DateTime<Utc>,
    }
    diesel::sql_query("SELECT now() AS now")
        .get_result::<Now>(conn)
        .expect("now()")
        .now
}

/// Recipients of `domain` that are parked (next attempt at the sentinel).
pub fn parked(conn: &mut PgConnection, domain: DomainId) -> i64 {
    scalar(
        conn,
        &format!(
            "SELECT count(*) AS n FROM deliveries WHERE domain_id = {} \
             AND state IN ('queued', 'deferred') AND next_attempt_at >= {}",
            domain.0,
            queue::PARKED_AT
        ),
    )
}

/// Recipients of `domain` that are due now.
pub fn due(conn: &mut PgConnection, domain: DomainId) -> i64 {
    scalar(
        conn,
        &format!(
            "SELECT count(*) AS n FROM deliveries WHERE domain_id = {} \
             AND state IN ('queued', 'deferred') AND next_attempt_at <= now()",
            domain.0
        ),
    )
}

/// Queues `messages` messages of `per_message` recipients each for `domain` in one statement
/// pair (much faster than intake for tens of thousands), due now.
pub fn bulk_queue(conn: &mut PgConnection, domain: DomainId, messages: i64, per_message: i64) {
    diesel::sql_query(format!(
        "WITH m AS ( \
             INSERT INTO messages (sender, client_ip, helo, size, body) \
             SELECT '{SENDER}', '192.0.2.10', 'client.sender.test', 5, 'hello' \
             FROM generate_series(1, {messages}) RETURNING id) \
         INSERT INTO deliveries (message_id, domain_id, recipient, expires_at) \
         SELECT m.id, {domain}, 'r' || m.id || '-' || g || '@bulk.test', now() + interval '5 days' \
         FROM m CROSS JOIN generate_series(1, {per_message}) g",
        domain = domain.0
    ))
    .execute(conn)
    .expect("bulk queue");
}
