//! A relay intake on its own fresh database, driven over an in-memory stream or real TCP.

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use mxspool_relay::domains::DomainTable;
use mxspool_relay::inbound::{handle_session, Inbound, IntakeContext};
use mxspool_relay::spool::Spool;
use mxspool_relay::RelayConfig;
use mxspool_store::schema::{accounts, deliveries, domain_recipients, messages, relay_domains};
use mxspool_store::PgConnection;
use mxspool_testdb::TestDb;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream,
    ReadHalf, WriteHalf,
};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

pub const HOSTNAME: &str = "mx.test.example";
/// The client address of in-memory sessions.
pub const PEER: &str = "192.0.2.10:40000";
/// How long a test waits for any one reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(15);

pub struct TestEnv {
    pub db: TestDb,
    pub ctx: Arc<IntakeContext>,
    owner: i64,
    shutdown: watch::Sender<bool>,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv::with_config(|_| {})
    }

    /// An intake with `adjust`ed defaults, STARTTLS on (self-signed certificate) and no
    /// relay domains yet.
    pub fn with_config(adjust: impl FnOnce(&mut RelayConfig)) -> TestEnv {
        let db = TestDb::new();
        let mut config = RelayConfig::new(HOSTNAME.to_owned());
        adjust(&mut config);
        // A short checkout timeout keeps the database-down test quick.
        let pool = Pool::builder()
            .max_size(4)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(2))
            .test_on_check_out(true)
            .build_unchecked(ConnectionManager::<PgConnection>::new(db.url()));
        let spool = Spool::start(pool.clone(), 2, 64, Arc::new(Notify::new()));
        let tls = mxspool_relay::tls::acceptor(&config).expect("self-signed TLS acceptor");
        let ctx = Arc::new(IntakeContext {
            config: Arc::new(config),
            domains: DomainTable::default(),
            spool,
            pool,
            tls: Some(tls),
            callouts: Default::default(),
        });
        let owner = diesel::insert_into(accounts::table)
            .values((
                accounts::email.eq("owner@customer.example"),
                accounts::password_hash.eq("not a hash"),
                accounts::role.eq("customer"),
                accounts::max_domains.eq(100),
                accounts::may_create_domain_admins.eq(true),
            ))
            .returning(accounts::id)
            .get_result(&mut db.connect())
            .expect("insert owner account");
        let (shutdown, _) = watch::channel(false);
        let env = TestEnv {
            db,
            ctx,
            owner,
            shutdown,
        };
        env.refresh();
        env
    }

    /// An enabled relay domain with the `any` policy and default limits.
    pub fn domain(&self, name: &str) -> i64 {
        self.domain_with(name, |_| {})
    }

    pub fn domain_with(&self, name: &str, adjust: impl FnOnce(&mut DomainSpec)) -> i64 {
        let mut spec = DomainSpec {
            enabled: true,
            policy: "any",
            max_message_size: 50 * 1024 * 1024,
        };
        adjust(&mut spec);
        let id = diesel::insert_into(relay_domains::table)
            .values((
                relay_domains::name.eq(name),
                relay_domains::owner_id.eq(self.owner),
                relay_domains::target_host.eq("primary.customer.example"),
                relay_domains::enabled.eq(spec.enabled),
                relay_domains::recipient_policy.eq(spec.policy),
                relay_domains::max_message_size.eq(spec.max_message_size),
            ))
            .returning(relay_domains::id)
            .get_result(&mut self.db.connect())
            .expect("insert relay domain");
        self.refresh();
        id
    }

    pub fn list_recipient(&self, domain_id: i64, local_part: &str) {
        diesel::insert_into(domain_recipients::table)
            .values((
                domain_recipients::domain_id.eq(domain_id),
                domain_recipients::local_part.eq(local_part),
            ))
            .execute(&mut self.db.connect())
            .expect("insert listed recipient");
    }

    fn refresh(&self) {
        self.ctx
            .domains
            .refresh(&mut self.db.connect())
            .expect("load the domain table");
    }

    /// A session over an in-memory stream, its banner read.
    pub async fn session(&self) -> TestSession<DuplexStream> {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let peer: SocketAddr = PEER.parse().expect("peer address");
        let task = tokio::spawn(handle_session(
            server,
            peer,
            self.ctx.clone(),
            self.shutdown.subscribe(),
        ));
        let mut session = TestSession::new(client, Some(task));
        session.expect("220 mx.test.example ESMTP mxspool").await;
        session
    }

    /// Turns the shutdown signal of in-memory sessions on.
    pub fn shut_down_sessions(&self) {
        let _ = self.shutdown.send(true);
    }

    /// The intake on a real port on 127.0.0.1.
    pub async fn serve(&self) -> TestServer {
        let inbound = Inbound::bind("127.0.0.1:0".parse().expect("addr"), self.ctx.clone())
            .await
            .expect("bind")
            .with_shutdown_grace(Duration::from_secs(10));
        let addr = inbound.local_addr().expect("local addr");
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(inbound.run(rx));
        TestServer {
            addr,
            shutdown,
            task,
        }
    }

    pub fn message_count(&self) -> i64 {
        messages::table
            .count()
            .get_result(&mut self.db.connect())
            .expect("count messages")
    }

    pub fn delivery_count(&self) -> i64 {
        deliveries::table
            .count()
            .get_result(&mut self.db.connect())
            .expect("count deliveries")
    }

    pub fn message(&self, id: i64) -> Stored {
        let (sender, client_ip, helo, tls, subject, message_id_header, body) = messages::table
            .find(id)
            .select((
                messages::sender,
                messages::client_ip,
                messages::helo,
                messages::tls,
                messages::subject,
                messages::message_id_header,
                messages::body,
            ))
            .get_result::<(
                String,
                String,
                String,
                bool,
                Option<String>,
                Option<String>,
                Vec<u8>,
            )>(&mut self.db.connect())
            .expect("stored message");
        let recipients = deliveries::table
            .filter(deliveries::message_id.eq(id))
            .order(deliveries::id)
            .select((
                deliveries::recipient,
                deliveries::domain_id,
                deliveries::state,
            ))
            .load(&mut self.db.connect())
            .expect("deliveries");
        Stored {
            sender,
            client_ip,
            helo,
            tls,
            subject,
            message_id_header,
            body,
            recipients,
        }
    }

    /// The only stored message.
    pub fn only_message(&self) -> Stored {
        let ids: Vec<i64> = messages::table
            .select(messages::id)
            .load(&mut self.db.connect())
            .expect("message ids");
        assert_eq!(ids.len(), 1, "expected exactly one stored message");
        self.message(ids[0])
    }
}

pub struct DomainSpec {
    pub enabled: bool,
    pub policy: &'static str,
    pub max_message_size: i64,
}

#[derive(Debug)]
pub struct Stored {
    pub sender: String,
    pub client_ip: String,
    pub helo: String,
    pub tls: bool,
    pub subject: Option<String>,
    pub message_id_header: Option<String>,
    pub body: Vec<u8>,
    /// (recipient, domain id, state)
    pub recipients: Vec<(String, Option<i64>, String)>,
}

impl Stored {
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub shutdown: watch::Sender<bool>,
    pub task: JoinHandle<()>,
}

impl TestServer {
    /// A raw TCP session, its banner not read yet.
    pub async fn connect(&self) -> TestSession<tokio::net::TcpStream> {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect to the intake");
        TestSession::new(stream, None)
    }

    /// A raw TCP session with its banner read.
    pub async fn session(&self) -> TestSession<tokio::net::TcpStream> {
        let mut session = self.connect().await;
        session.expect("220 ").await;
        session
    }
}

/// One reply as the client saw it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn first(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or("")
    }

    /// The id in `250 2.0.0 Ok: queued as <id>`.
    pub fn queued_id(&self) -> i64 {
        self.first()
            .rsplit_once("queued as ")
            .and_then(|(_, id)| id.trim().parse().ok())
            .unwrap_or_else(|| panic!("no queue id in {:?}", self.lines))
    }

    pub fn has_line(&self, keyword: &str) -> bool {
        self.lines
            .iter()
            .any(|l| l.get(4..).is_some_and(|rest| rest.starts_with(keyword)))
    }
}

/// The client side of a session; `cmd` sends a line and checks the reply's beginning.
pub struct TestSession<S> {
    reader: BufReader<ReadHalf<S>>,
    writer: WriteHalf<S>,
    pub task: Option<JoinHandle<()>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> TestSession<S> {
    pub fn new(stream: S, task: Option<JoinHandle<()>>) -> TestSession<S> {
        let (r, w) = tokio::io::split(stream);
        TestSession {
            reader: BufReader::new(r),
            writer: w,
            task,
        }
    }

    /// The stream back, for a TLS upgrade; nothing may be left unread.
    pub fn into_stream(self) -> S {
        assert!(
            self.reader.buffer().is_empty(),
            "unread input: {:?}",
            String::from_utf8_lossy(self.reader.buffer())
        );
        self.reader.into_inner().unsplit(self.writer)
    }

    pub async fn send(&mut self, raw: &str) {
        self.send_bytes(raw.as_bytes()).await;
    }

    pub async fn send_bytes(&mut self, raw: &[u8]) {
        self.writer
            .write_all(raw)
            .await
            .expect("send to the server");
        self.writer.flush().await.expect("flush to the server");
    }

    /// Sends if the server still listens; false once it has closed the connection.
    pub async fn try_send(&mut self, raw: &[u8]) -> bool {
        self.writer.write_all(raw).await.is_ok() && self.writer.flush().await.is_ok()
    }

    /// Reads one complete reply (all its lines).
    pub async fn reply(&mut self) -> Reply {
        match tokio::time::timeout(REPLY_TIMEOUT, self.read_reply()).await {
            Ok(Some(reply)) => reply,
            Ok(None) => panic!("connection closed while a reply was expected"),
            Err(_) => panic!("no reply within {REPLY_TIMEOUT:?}"),
        }
    }

    async fn read_reply(&mut self) -> Option<Reply> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).await.ok()?;
            if n == 0 {
                return None;
            }
            assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
            let line = line.trim_end_matches("\r\n").to_owned();
            let code = line.get(..3).and_then(|c| c.parse::<u16>().ok());
            let Some(code) = code else {
                panic!("malformed reply line {line:?}");
            };
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return Some(Reply { code, lines });
            }
        }
    }

    /// Reads a reply and checks that its first line starts with `expected`.
    pub async fn expect(&mut self, expected: &str) -> Reply {
        let reply = self.reply().await;
        assert!(
            reply.first().starts_with(expected),
            "expected a reply starting with {expected:?}, got {:?}",
            reply.lines
        );
        reply
    }

    /// Sends `line` (CRLF added) and checks the reply's beginning.
    pub async fn cmd(&mut self, line: &str, expected: &str) -> Reply {
        self.send(&format!("{line}\r\n")).await;
        self.expect(expected).await
    }

    pub async fn ehlo(&mut self) -> Reply {
        self.cmd("EHLO client.example", "250").await
    }

    /// EHLO, MAIL FROM and the given RCPTs, each expected to get 250.
    pub async fn envelope(&mut self, from: &str, rcpts: &[&str]) {
        self.ehlo().await;
        self.cmd(&format!("MAIL FROM:<{from}>"), "250").await;
        for rcpt in rcpts {
            self.cmd(&format!("RCPT TO:<{rcpt}>"), "250").await;
        }
    }

    /// DATA, the text (which must end in CRLF) and the final dot; returns the final reply.
    pub async fn data(&mut self, text: &str, expected: &str) -> Reply {
        self.cmd("DATA", "354").await;
        self.send(&format!("{text}.\r\n")).await;
        self.expect(expected).await
    }

    /// True when the server closed the connection without saying more.
    pub async fn is_closed(&mut self) -> bool {
        let mut rest = Vec::new();
        match tokio::time::timeout(REPLY_TIMEOUT, self.reader.read_to_end(&mut rest)).await {
            Ok(Ok(_)) => {
                assert!(
                    rest.is_empty(),
                    "unexpected output before close: {:?}",
                    String::from_utf8_lossy(&rest)
                );
                true
            }
            Ok(Err(_)) => true,
            Err(_) => false,
        }
    }
}

/// A short text message.
pub fn message(subject: &str) -> String {
    format!(
        "From: <sender@outside.example>\r\nTo: <user@relay.example>\r\n\
         Subject: {subject}\r\nMessage-ID: <{subject}@outside.example>\r\n\r\nHello.\r\n"
    )
}
