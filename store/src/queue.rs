//! The mail queue's life cycle: intake commits messages with their recipients
//! ([`enqueue_batch`]), delivery workers claim due recipients under a lease ([`claim_due`]),
//! and record what happened ([`record_attempts`]); leases of crashed workers are taken back
//! ([`reap_expired_leases`]) and old mail expires ([`expire_due`]).
//!
//! Claims use `FOR UPDATE SKIP LOCKED`, so any number of relay processes on any number of
//! hosts share one queue without handing out a row twice; a worker that dies holds its rows
//! only until its lease runs out, and a worker whose SMTP transaction runs long keeps its
//! rows by renewing the lease ([`renew_leases`]).
//!
//! Every time written or compared here is the database's `now()`, never the relay host's
//! clock: leases are set on one node and judged on another, so only one clock may count.
//!
//! Mail of a target host that is down is *parked* (see [`crate::targets`]): its
//! `next_attempt_at` is set to [`PARKED_AT`], far beyond any real retry time, which takes it
//! out of the due range that claims walk.

use crate::ids::{DomainId, MessageId};
use crate::kinds::{DeliveryState, Route, TlsPolicy};
use crate::schema::{deliveries, delivery_attempts, messages};
use chrono::{DateTime, Utc};
use diesel::connection::Connection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Integer, Nullable, Text};
use std::time::Duration;

/// Channel on which intake announces new mail and the API announces queue commands.
pub const QUEUE_CHANNEL: &str = "mxspool_queue";

/// `next_attempt_at` of parked recipients (those of a target that is down), as SQL.
///
/// A fixed, finite time rather than `'infinity'`: chrono cannot represent `infinity`, so
/// every reader of `next_attempt_at` (queue listing, tests) would fail on it, and a fixed
/// value lets `next_attempt_at >= PARKED_AT` tell parked rows apart from deferred ones (real
/// retry times are at most hours away). Year 9999 sorts after every real time, so parked
/// rows sit at the far end of `deliveries_due_idx`, out of the range a claim walks.
pub const PARKED_AT: &str = "'9999-12-31 00:00:00+00'::timestamptz";

/// [`PARKED_AT`] in seconds since the Unix epoch.
const PARKED_AT_EPOCH: i64 = 253_402_214_400;

/// Whether a `next_attempt_at` read from the database is the parked sentinel.
pub fn is_parked(next_attempt_at: &DateTime<Utc>) -> bool {
    next_attempt_at.timestamp() >= PARKED_AT_EPOCH
}

/// A message accepted by SMTP intake, ready to be committed.
#[derive(Debug, Clone)]
pub struct IncomingMessage {
    /// Envelope sender; empty for the null sender `<>`.
    pub sender: String,
    pub client_ip: String,
    pub helo: String,
    pub tls: bool,
    pub subject: Option<String>,
    pub message_id_header: Option<String>,
    /// The message as it will be relayed, `Received:` header included.
    pub body: Vec<u8>,
    pub recipients: Vec<IncomingRecipient>,
}

/// One accepted recipient.
#[derive(Debug, Clone)]
pub struct IncomingRecipient {
    /// The relay domain, or `None` for [`Route::Mx`] deliveries (DSNs).
    pub domain_id: Option<DomainId>,
    pub address: String,
    /// How long the recipient may stay queued (the domain's queue lifetime).
    pub lifetime: Duration,
}

#[derive(Insertable)]
#[diesel(table_name = messages)]
struct NewMessageRow<'a> {
    sender: &'a str,
    client_ip: &'a str,
    helo: &'a str,
    tls: bool,
    size: i64,
    subject: Option<&'a str>,
    message_id_header: Option<&'a str>,
    body: &'a [u8],
}

#[derive(Insertable)]
#[diesel(table_name = deliveries)]
struct NewDeliveryRow<'a> {
    message_id: MessageId,
    domain_id: Option<DomainId>,
    route: Route,
    recipient: &'a str,
    expires_at: DateTime<Utc>,
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Commits several messages and their recipients in one transaction (group commit: one
/// fsync for the batch) and wakes the delivery workers. Returns the ids in input order.
pub fn enqueue_batch(
    conn: &mut PgConnection,
    batch: &[IncomingMessage],
) -> QueryResult<Vec<MessageId>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    conn.transaction(|conn| {
        let rows: Vec<NewMessageRow<'_>> = batch
            .iter()
            .map(|m| NewMessageRow {
                sender: &m.sender,
                client_ip: &m.client_ip,
                helo: &m.helo,
                tls: m.tls,
                size: i64::try_from(m.body.len()).unwrap_or(i64::MAX),
                subject: m.subject.as_deref(),
                message_id_header: m.message_id_header.as_deref(),
                body: &m.body,
            })
            .collect();
        // PostgreSQL returns the rows of a multi-row INSERT … VALUES in VALUES order.
        // `received_at` is the database's now(): queue lifetimes count from it, on the one
        // clock every node shares.
        let inserted: Vec<(MessageId, DateTime<Utc>)> = diesel::insert_into(messages::table)
            .values(&rows)
            .returning((messages::id, messages::received_at))
            .get_results(conn)?;
        let ids: Vec<MessageId> = inserted.iter().map(|(id, _)| *id).collect();
        let deliveries: Vec<NewDeliveryRow<'_>> = batch
            .iter()
            .zip(&inserted)
            .flat_map(|(m, (id, received_at))| {
                m.recipients.iter().map(move |r| NewDeliveryRow {
                    message_id: *id,
                    domain_id: r.domain_id,
                    route: if r.domain_id.is_some() {
                        Route::Relay
                    } else {
                        Route::Mx
                    },
                    recipient: &r.address,
                    expires_at: received_at
                        .checked_add_signed(to_chrono(r.lifetime))
                        .unwrap_or(DateTime::<Utc>::MAX_UTC),
                })
            })
            .collect();
        // Stay under PostgreSQL's 65535 bind parameters per statement.
        for chunk in deliveries.chunks(10_000) {
            diesel::insert_into(deliveries::table)
                .values(chunk)
                .execute(conn)?;
        }
        notify(conn, QUEUE_CHANNEL)?;
        Ok(ids)
    })
}

/// Sends a NOTIFY (delivered at commit when inside a transaction).
pub fn notify(conn: &mut PgConnection, channel: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_notify($1, '')")
        .bind::<Text, _>(channel)
        .execute(conn)
        .map(drop)
}

/// A recipient handed to a delivery worker, with what it needs to deliver it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub delivery_id: i64,
    #[diesel(sql_type = BigInt)]
    pub message_id: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    pub domain_id: Option<i64>,
    #[diesel(sql_type = Text)]
    pub route: Route,
    #[diesel(sql_type = Text)]
    pub recipient: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub attempts: i32,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub sender: String,
    /// Target of `relay` deliveries; the recipient's domain for `mx` ones.
    #[diesel(sql_type = Text)]
    pub target_host: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub target_port: i32,
    #[diesel(sql_type = Text)]
    pub tls_policy: TlsPolicy,
}

/// The statement behind [`claim_due`]. Binds: `$1` owner, `$2` lease in seconds (double),
/// `$3` limit, `$4` port of `mx` routes. Public so that tests can `EXPLAIN` it.
///
/// How it works, and why:
/// - `walk` goes through `deliveries_due_idx` in due order and stops after `$3` due rows; the
///   rows of a target that is down are skipped, but they are rare in this range because such
///   mail is parked out of it (see [`crate::targets`]), so the walk stays short however large
///   a down target's backlog is. Rows past `expires_at` are left to [`expire_due`], which
///   reports them (a claim would deliver mail whose sender may already have its DSN).
/// - It locks the *messages* of those rows (`FOR NO KEY UPDATE … SKIP LOCKED`, under the
///   `LIMIT`, so a message another claim holds is skipped and the walk goes on to the next):
///   a message belongs to one claim at a time, on every node.
/// - `due` then takes *all* due recipients of the locked messages, not only those the walk
///   saw, so the `LIMIT` boundary never splits a message between two claims (and so between
///   two SMTP transactions). It looks them up by message (`= ANY(ARRAY(…))`) and nothing
///   else: written as a semi-join with `walk`, or with the time conditions open to an index
///   (`IS TRUE` closes them), the planner — with statistics that lag behind a queue that
///   just grew or was flushed — scans or bitmap-ANDs every due row of the queue instead,
///   thousands per claim under a backlog. The rows are still locked `SKIP LOCKED`: one
///   locked by something else (an operator's queue command) is left for a later claim.
/// - `NO KEY UPDATE` rather than `UPDATE`: it does not conflict with the `KEY SHARE` locks
///   that inserting recipients takes on their message (foreign key), so intake never waits.
pub const CLAIM_DUE_SQL: &str = "WITH walk AS ( \
         SELECT m.id AS message_id FROM deliveries d \
         JOIN messages m ON m.id = d.message_id \
         LEFT JOIN relay_domains rd ON rd.id = d.domain_id \
         WHERE d.state IN ('queued', 'deferred') AND d.next_attempt_at <= now() \
           AND d.expires_at > now() \
           AND NOT EXISTS (SELECT 1 FROM targets t \
                           WHERE t.host = rd.target_host AND t.port = rd.target_port \
                             AND t.state = 'down') \
         ORDER BY d.next_attempt_at, d.id \
         LIMIT $3 \
         FOR NO KEY UPDATE OF m SKIP LOCKED \
     ), due AS ( \
         SELECT d.id FROM deliveries d \
         LEFT JOIN relay_domains rd ON rd.id = d.domain_id \
         WHERE d.message_id = ANY(ARRAY(SELECT message_id FROM walk)) \
           AND d.state IN ('queued', 'deferred') \
           AND (d.next_attempt_at <= now() AND d.expires_at > now()) IS TRUE \
           AND NOT EXISTS (SELECT 1 FROM targets t \
                           WHERE t.host = rd.target_host AND t.port = rd.target_port \
                             AND t.state = 'down') \
         FOR UPDATE OF d SKIP LOCKED \
     ), claimed AS ( \
         UPDATE deliveries d SET state = 'delivering', lease_owner = $1, \
                lease_until = now() + make_interval(secs => $2), updated_at = now() \
         FROM due WHERE d.id = due.id \
         RETURNING d.id, d.message_id, d.domain_id, d.route, d.recipient, d.attempts, d.expires_at \
     ) \
     SELECT c.id AS delivery_id, c.message_id, c.domain_id, c.route, c.recipient, c.attempts, \
            c.expires_at, m.sender, \
            COALESCE(rd.target_host, split_part(c.recipient, '@', 2)) AS target_host, \
            COALESCE(rd.target_port, $4) AS target_port, \
            COALESCE(rd.tls_policy, 'opportunistic') AS tls_policy \
     FROM claimed c JOIN messages m ON m.id = c.message_id \
     LEFT JOIN relay_domains rd ON rd.id = c.domain_id \
     ORDER BY c.message_id, c.id";

/// Claims whole messages for `owner` until `lease` from now (database clock): the due
/// recipients of the messages of the first `limit` due recipients, so a message is never
/// split between claims (a claim may hold more than `limit` recipients, at most `limit`
/// messages). Recipients whose target host is known to be down are left alone: the prober
/// makes them due when it comes back. Recipients past their queue lifetime are left to
/// [`expire_due`]. `mx` routes go to `mx_port` with opportunistic TLS. See [`CLAIM_DUE_SQL`].
pub fn claim_due(
    conn: &mut PgConnection,
    owner: &str,
    lease: Duration,
    limit: i64,
    mx_port: u16,
) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(CLAIM_DUE_SQL)
        .bind::<Text, _>(owner)
        .bind::<Double, _>(lease.as_secs_f64())
        .bind::<BigInt, _>(limit)
        .bind::<Integer, _>(i32::from(mx_port))
        .load(conn)
}

/// Extends the lease of `delivery_ids` to `lease` from now (database clock), for the rows
/// `owner` still holds (state `delivering`, lease its own). A worker calls this while an SMTP
/// transaction runs longer than the lease (a slow target may take minutes), so that no
/// other node takes the rows over and delivers them a second time. Returns how many rows
/// were renewed: fewer than asked means some were taken back (lease ran out) or deleted.
pub fn renew_leases(
    conn: &mut PgConnection,
    owner: &str,
    delivery_ids: &[i64],
    lease: Duration,
) -> QueryResult<usize> {
    if delivery_ids.is_empty() {
        return Ok(0);
    }
    diesel::sql_query(
        "UPDATE deliveries SET lease_until = now() + make_interval(secs => $3) \
         WHERE id = ANY($1) AND state = 'delivering' AND lease_owner = $2",
    )
    .bind::<Array<BigInt>, _>(delivery_ids)
    .bind::<Text, _>(owner)
    .bind::<Double, _>(lease.as_secs_f64())
    .execute(conn)
}

/// The stored messages, for the workers that claimed their recipients.
pub fn load_bodies(
    conn: &mut PgConnection,
    ids: &[MessageId],
) -> QueryResult<Vec<(MessageId, Vec<u8>)>> {
    messages::table
        .filter(messages::id.eq_any(ids))
        .select((messages::id, messages::body))
        .load(conn)
}

/// How one attempt at one recipient ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    /// Try again after this long, counted from when the attempt is recorded on the
    /// database's clock (a time from the relay host's clock could be skewed).
    Deferred(Duration),
    Bounced,
}

impl AttemptOutcome {
    fn word(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Deferred(_) => "deferred",
            AttemptOutcome::Bounced => "bounced",
        }
    }
}

/// One delivery attempt, as recorded in `delivery_attempts`.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub delivery_id: i64,
    pub domain_id: Option<DomainId>,
    pub outcome: AttemptOutcome,
    /// When the attempt began, on the relay host's clock. Only its distance from the time of
    /// recording is used: the stored time is the database's now() minus that distance.
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub target_host: String,
    pub target_ip: Option<String>,
    /// The local address the connection left from (`None` when no connection was made).
    pub source_ip: Option<String>,
    pub tls: bool,
    /// SMTP reply code; `None` when no reply came (connection failure).
    pub code: Option<i32>,
    pub reply: String,
}

/// Longest deferral recorded (a year; queue lifetimes are at most 30 days).
const MAX_DEFER: Duration = Duration::from_secs(365 * 24 * 3600);

#[derive(QueryableByName)]
struct RecordedRow {
    #[diesel(sql_type = BigInt)]
    message_id: i64,
    #[diesel(sql_type = Text)]
    outcome: String,
}

/// Applies attempts made under `owner`'s lease: the recipient's new state and the attempt log,
/// together (one statement). Rows whose lease `owner` no longer holds are left alone (another
/// node has taken them over), and their attempts are not logged. Returns the message ids
/// whose recipients reached a final failure (bounced), for DSN processing. Times are the
/// database's: a deferred recipient is due at now() plus its delay.
///
/// One statement for the whole batch (the attempts go in as arrays): a batch may hold
/// thousands of attempts, and a statement per attempt would cost a round trip and a parse
/// each.
pub fn record_attempts(
    conn: &mut PgConnection,
    owner: &str,
    attempts: &[Attempt],
) -> QueryResult<Vec<MessageId>> {
    if attempts.is_empty() {
        return Ok(Vec::new());
    }
    let host_now = Utc::now();
    let mut ids = Vec::with_capacity(attempts.len());
    let mut domains = Vec::with_capacity(attempts.len());
    let mut states = Vec::with_capacity(attempts.len());
    let mut outcomes = Vec::with_capacity(attempts.len());
    let mut delays = Vec::with_capacity(attempts.len());
    let mut ago = Vec::with_capacity(attempts.len());
    let mut durations = Vec::with_capacity(attempts.len());
    let mut hosts = Vec::with_capacity(attempts.len());
    let mut ips = Vec::with_capacity(attempts.len());
    let mut tls = Vec::with_capacity(attempts.len());
    let mut codes = Vec::with_capacity(attempts.len());
    let mut replies = Vec::with_capacity(attempts.len());
    let mut sources = Vec::with_capacity(attempts.len());
    for a in attempts {
        let (state, delay) = match a.outcome {
            AttemptOutcome::Delivered => (DeliveryState::Delivered, Duration::ZERO),
            // Bounded so the interval stays representable; mail expires long before.
            AttemptOutcome::Deferred(delay) => (DeliveryState::Deferred, delay.min(MAX_DEFER)),
            AttemptOutcome::Bounced => (DeliveryState::Bounced, Duration::ZERO),
        };
        ids.push(a.delivery_id);
        domains.push(a.domain_id.map(|d| d.0));
        states.push(state.as_str());
        outcomes.push(a.outcome.word());
        delays.push(delay.as_secs_f64());
        // How long ago the attempt began, by the host's clock (a difference, so skew
        // cancels out), to be placed on the database's clock.
        ago.push(
            (host_now - a.started_at)
                .to_std()
                .unwrap_or(Duration::ZERO)
                .as_secs_f64(),
        );
        durations.push(i32::try_from(a.duration.as_millis()).unwrap_or(i32::MAX));
        hosts.push(a.target_host.as_str());
        ips.push(a.target_ip.as_deref());
        tls.push(a.tls);
        codes.push(a.code);
        replies.push(a.reply.as_str());
        sources.push(a.source_ip.as_deref());
    }
    let rows: Vec<RecordedRow> = diesel::sql_query(
        "WITH a AS ( \
             SELECT * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], \
                                  $6::float8[], $7::float8[], $8::int[], $9::text[], $10::text[], \
                                  $11::bool[], $12::int[], $13::text[], $14::text[]) \
                 AS a(delivery_id, domain_id, state, outcome, delay, ago, duration_ms, \
                      target_host, target_ip, tls, code, reply, source_ip) \
         ), u AS ( \
             UPDATE deliveries d SET state = a.state, attempts = d.attempts + 1, \
                    next_attempt_at = now() + make_interval(secs => a.delay), \
                    lease_owner = NULL, lease_until = NULL, \
                    last_code = a.code, last_reply = a.reply, updated_at = now() \
             FROM a \
             WHERE d.id = a.delivery_id AND d.id = ANY($2) \
               AND d.state = 'delivering' AND d.lease_owner = $1 \
             RETURNING d.id, d.message_id \
         ), logged AS ( \
             INSERT INTO delivery_attempts (delivery_id, domain_id, started_at, duration_ms, \
                                            target_host, target_ip, tls, code, reply, outcome, \
                                            source_ip) \
             SELECT a.delivery_id, a.domain_id, now() - make_interval(secs => a.ago), \
                    a.duration_ms, a.target_host, a.target_ip, a.tls, a.code, a.reply, a.outcome, \
                    a.source_ip \
             FROM a JOIN u ON u.id = a.delivery_id \
         ) \
         SELECT u.message_id, a.outcome FROM u JOIN a ON a.delivery_id = u.id",
    )
    .bind::<Text, _>(owner)
    .bind::<Array<BigInt>, _>(&ids)
    .bind::<Array<Nullable<BigInt>>, _>(&domains)
    .bind::<Array<Text>, _>(&states)
    .bind::<Array<Text>, _>(&outcomes)
    .bind::<Array<Double>, _>(&delays)
    .bind::<Array<Double>, _>(&ago)
    .bind::<Array<Integer>, _>(&durations)
    .bind::<Array<Text>, _>(&hosts)
    .bind::<Array<Nullable<Text>>, _>(&ips)
    .bind::<Array<diesel::sql_types::Bool>, _>(&tls)
    .bind::<Array<Nullable<Integer>>, _>(&codes)
    .bind::<Array<Text>, _>(&replies)
    .bind::<Array<Nullable<Text>>, _>(&sources)
    .load(conn)?;
    let mut failed: Vec<MessageId> = rows
        .into_iter()
        .filter(|r| r.outcome == AttemptOutcome::Bounced.word())
        .map(|r| MessageId(r.message_id))
        .collect();
    failed.sort();
    failed.dedup();
    Ok(failed)
}

/// SQL for the state a recipient goes back to without an attempt: `queued` if it never had
/// one, else `deferred` — so `queued` keeps meaning "never tried" in listings and statistics.
const BACK_TO_WAITING: &str = "CASE WHEN attempts = 0 THEN 'queued' ELSE 'deferred' END";

/// Gives claimed recipients back without an attempt (e.g. their target was found down, or
/// the worker is shutting down): due again now (database clock), attempts unchanged, state
/// back to `queued` or `deferred` (see [`BACK_TO_WAITING`]). Only rows `owner` still holds.
pub fn release(conn: &mut PgConnection, owner: &str, delivery_ids: &[i64]) -> QueryResult<usize> {
    if delivery_ids.is_empty() {
        return Ok(0);
    }
    diesel::sql_query(format!(
        "UPDATE deliveries SET state = {BACK_TO_WAITING}, next_attempt_at = now(), \
                lease_owner = NULL, lease_until = NULL, updated_at = now() \
         WHERE id = ANY($1) AND state = 'delivering' AND lease_owner = $2"
    ))
    .bind::<Array<BigInt>, _>(delivery_ids)
    .bind::<Text, _>(owner)
    .execute(conn)
}

/// Takes back recipients whose worker's lease ran out (the worker died or hung): they are
/// due again at once, state back to `queued` or `deferred` (see [`BACK_TO_WAITING`]; no attempt
/// was recorded, whatever the dead worker did). The lease is judged on the database's clock,
/// the one that set it, so a node whose clock runs ahead cannot take live leases. Safe to
/// run on every node.
pub fn reap_expired_leases(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "UPDATE deliveries SET state = {BACK_TO_WAITING}, next_attempt_at = now(), \
                lease_owner = NULL, lease_until = NULL, updated_at = now() \
         WHERE state = 'delivering' AND lease_until < now()"
    ))
    .execute(conn)
}

/// Marks up to `limit` unfinished recipients whose queue lifetime has passed as expired;
/// returns the affected message ids, for DSN processing. Safe to run on every node.
pub fn expire_due(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<MessageId>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        message_id: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "UPDATE deliveries d SET state = 'expired', updated_at = now(), \
                last_reply = COALESCE(d.last_reply || '; ', '') || 'queue lifetime expired' \
         WHERE d.id IN (SELECT id FROM deliveries \
                        WHERE state IN ('queued', 'deferred') AND expires_at <= now() \
                        ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
           AND d.state IN ('queued', 'deferred') \
         RETURNING d.message_id",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)?;
    let mut messages: Vec<MessageId> = rows.into_iter().map(|r| MessageId(r.message_id)).collect();
    messages.sort();
    messages.dedup();
    Ok(messages)
}

/// A message whose recipients have all reached a final state, some of them failed, and
/// whose sender has not had a DSN yet.
#[derive(Debug, Clone)]
pub struct DsnDue {
    pub message_id: MessageId,
    pub sender: String,
    pub received_at: DateTime<Utc>,
    /// The failed recipients with their final state and last reply.
    pub failed: Vec<FailedRecipient>,
}

/// One recipient a DSN reports.
#[derive(Debug, Clone)]
pub struct FailedRecipient {
    pub recipient: String,
    pub state: DeliveryState,
    pub last_code: Option<i32>,
    pub last_reply: Option<String>,
    pub remote_host: Option<String>,
}

/// recipient, state, last code, last reply, delivery id
type FailedRow = (String, DeliveryState, Option<i32>, Option<String>, i64);

/// Of `candidates`, the messages that owe their sender a DSN now, locked against other nodes
/// until the transaction ends (call inside one, and [`mark_dsn_sent`] in the same).
pub fn dsn_due(conn: &mut PgConnection, candidates: &[MessageId]) -> QueryResult<Vec<DsnDue>> {
    let finished: Vec<(MessageId, String, DateTime<Utc>)> = messages::table
        .filter(messages::id.eq_any(candidates))
        .filter(messages::dsn_sent_at.is_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            deliveries::table
                .filter(deliveries::message_id.eq(messages::id))
                .filter(deliveries::state.eq_any([
                    DeliveryState::Queued,
                    DeliveryState::Deferred,
                    DeliveryState::Delivering,
                    DeliveryState::Held,
                ])),
        )))
        .select((messages::id, messages::sender, messages::received_at))
        .for_update()
        .skip_locked()
        .load(conn)?;
    let mut out = Vec::new();
    for (message_id, sender, received_at) in finished {
        let failed: Vec<FailedRow> = deliveries::table
            .filter(deliveries::message_id.eq(message_id))
            .filter(deliveries::state.eq_any([DeliveryState::Bounced, DeliveryState::Expired]))
            .select((
                deliveries::recipient,
                deliveries::state,
                deliveries::last_code,
                deliveries::last_reply,
                deliveries::id,
            ))
            .order(deliveries::id)
            .load(conn)?;
        if failed.is_empty() {
            continue;
        }
        let mut recipients = Vec::with_capacity(failed.len());
        for (recipient, state, last_code, last_reply, delivery_id) in failed {
            let remote_host: Option<String> = delivery_attempts::table
                .filter(delivery_attempts::delivery_id.eq(delivery_id))
                .order(delivery_attempts::started_at.desc())
                .select(delivery_attempts::target_host)
                .first(conn)
                .optional()?;
            recipients.push(FailedRecipient {
                recipient,
                state,
                last_code,
                last_reply,
                remote_host,
            });
        }
        out.push(DsnDue {
            message_id,
            sender,
            received_at,
            failed: recipients,
        });
    }
    Ok(out)
}

/// Records that a message's DSN was produced (queued, or logged under `MXSPOOL_BOUNCES=log`,
/// or not owed because the sender is null).
pub fn mark_dsn_sent(conn: &mut PgConnection, id: MessageId) -> QueryResult<()> {
    diesel::update(messages::table.find(id))
        .set(messages::dsn_sent_at.eq(diesel::dsl::now))
        .execute(conn)
        .map(drop)
}
