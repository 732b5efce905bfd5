//! The mail queue's life cycle: intake commits messages with their recipients
//! ([`enqueue_batch`]), delivery workers claim due recipients under a lease ([`claim_due`]),
//! and record what happened ([`record_attempts`]); leases of crashed workers are taken back
//! ([`reap_expired_leases`]) and old mail expires ([`expire_due`]).
//!
//! Claims use `FOR UPDATE SKIP LOCKED`, so any number of relay processes on any number of
//! hosts share one queue without handing out a row twice; a worker that dies holds its rows
//! only until its lease runs out.

use crate::ids::{DomainId, MessageId};
use crate::kinds::{DeliveryState, Route, TlsPolicy};
use crate::schema::{deliveries, delivery_attempts, messages};
use chrono::{DateTime, Utc};
use diesel::connection::Connection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use std::time::Duration;

/// Channel on which intake announces new mail and the API announces queue commands.
pub const QUEUE_CHANNEL: &str = "mxspool_queue";

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
        let ids: Vec<MessageId> = diesel::insert_into(messages::table)
            .values(&rows)
            .returning(messages::id)
            .get_results(conn)?;
        let now = Utc::now();
        let deliveries: Vec<NewDeliveryRow<'_>> = batch
            .iter()
            .zip(&ids)
            .flat_map(|(m, id)| {
                m.recipients.iter().map(move |r| NewDeliveryRow {
                    message_id: *id,
                    domain_id: r.domain_id,
                    route: if r.domain_id.is_some() {
                        Route::Relay
                    } else {
                        Route::Mx
                    },
                    recipient: &r.address,
                    expires_at: now + to_chrono(r.lifetime),
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

/// Claims up to `limit` due recipients for `owner` until `lease` from now. Recipients whose
/// target host is known to be down are left alone: the prober makes them due when it comes
/// back. `mx` routes go to `mx_port` with opportunistic TLS.
pub fn claim_due(
    conn: &mut PgConnection,
    owner: &str,
    lease: Duration,
    limit: i64,
    mx_port: u16,
) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "WITH due AS ( \
             SELECT d.id FROM deliveries d \
             LEFT JOIN relay_domains rd ON rd.id = d.domain_id \
             WHERE d.state IN ('queued', 'deferred') AND d.next_attempt_at <= now() \
               AND NOT EXISTS (SELECT 1 FROM targets t \
                               WHERE t.host = rd.target_host AND t.port = rd.target_port \
                                 AND t.state = 'down') \
             ORDER BY d.next_attempt_at, d.id \
             LIMIT $3 \
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
         ORDER BY c.message_id, c.id",
    )
    .bind::<Text, _>(owner)
    .bind::<diesel::sql_types::Double, _>(lease.as_secs_f64())
    .bind::<BigInt, _>(limit)
    .bind::<diesel::sql_types::Integer, _>(i32::from(mx_port))
    .load(conn)
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
    /// Try again at this time.
    Deferred(DateTime<Utc>),
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
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub target_host: String,
    pub target_ip: Option<String>,
    pub tls: bool,
    /// SMTP reply code; `None` when no reply came (connection failure).
    pub code: Option<i32>,
    pub reply: String,
}

/// Applies attempts made under `owner`'s lease: the recipient's new state and the attempt log,
/// in one transaction. Rows whose lease `owner` no longer holds are left alone (another node
/// has taken them over). Returns the message ids whose recipients reached a final failure
/// (bounced), for DSN processing.
pub fn record_attempts(
    conn: &mut PgConnection,
    owner: &str,
    attempts: &[Attempt],
) -> QueryResult<Vec<MessageId>> {
    conn.transaction(|conn| {
        let mut failed = Vec::new();
        for a in attempts {
            let (state, next) = match a.outcome {
                AttemptOutcome::Delivered => (DeliveryState::Delivered, None),
                AttemptOutcome::Deferred(at) => (DeliveryState::Deferred, Some(at)),
                AttemptOutcome::Bounced => (DeliveryState::Bounced, None),
            };
            let target = deliveries::table
                .filter(deliveries::id.eq(a.delivery_id))
                .filter(deliveries::state.eq(DeliveryState::Delivering))
                .filter(deliveries::lease_owner.eq(owner));
            let updated: Option<MessageId> = diesel::update(target)
                .set((
                    deliveries::state.eq(state),
                    deliveries::attempts.eq(deliveries::attempts + 1),
                    deliveries::next_attempt_at.eq(next.unwrap_or_else(Utc::now)),
                    deliveries::lease_owner.eq(None::<String>),
                    deliveries::lease_until.eq(None::<DateTime<Utc>>),
                    deliveries::last_code.eq(a.code),
                    deliveries::last_reply.eq(&a.reply),
                    deliveries::updated_at.eq(Utc::now()),
                ))
                .returning(deliveries::message_id)
                .get_result(conn)
                .optional()?;
            let Some(message) = updated else { continue };
            diesel::insert_into(delivery_attempts::table)
                .values((
                    delivery_attempts::delivery_id.eq(a.delivery_id),
                    delivery_attempts::domain_id.eq(a.domain_id),
                    delivery_attempts::started_at.eq(a.started_at),
                    delivery_attempts::duration_ms
                        .eq(i32::try_from(a.duration.as_millis()).unwrap_or(i32::MAX)),
                    delivery_attempts::target_host.eq(&a.target_host),
                    delivery_attempts::target_ip.eq(&a.target_ip),
                    delivery_attempts::tls.eq(a.tls),
                    delivery_attempts::code.eq(a.code),
                    delivery_attempts::reply.eq(&a.reply),
                    delivery_attempts::outcome.eq(a.outcome.word()),
                ))
                .execute(conn)?;
            if a.outcome == AttemptOutcome::Bounced && !failed.contains(&message) {
                failed.push(message);
            }
        }
        Ok(failed)
    })
}

/// Gives claimed recipients back without an attempt (e.g. their target was found down, or
/// the worker is shutting down): due again at `at`, attempts unchanged.
pub fn release(
    conn: &mut PgConnection,
    owner: &str,
    delivery_ids: &[i64],
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        deliveries::table
            .filter(deliveries::id.eq_any(delivery_ids))
            .filter(deliveries::state.eq(DeliveryState::Delivering))
            .filter(deliveries::lease_owner.eq(owner)),
    )
    .set((
        deliveries::state.eq(DeliveryState::Deferred),
        deliveries::next_attempt_at.eq(at),
        deliveries::lease_owner.eq(None::<String>),
        deliveries::lease_until.eq(None::<DateTime<Utc>>),
        deliveries::updated_at.eq(Utc::now()),
    ))
    .execute(conn)
}

/// Takes back recipients whose worker's lease ran out (the worker died or hung): they are
/// due again at once. Safe to run on every node.
pub fn reap_expired_leases(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::update(
        deliveries::table
            .filter(deliveries::state.eq(DeliveryState::Delivering))
            .filter(deliveries::lease_until.lt(Utc::now())),
    )
    .set((
        deliveries::state.eq(DeliveryState::Deferred),
        deliveries::next_attempt_at.eq(Utc::now()),
        deliveries::lease_owner.eq(None::<String>),
        deliveries::lease_until.eq(None::<DateTime<Utc>>),
        deliveries::updated_at.eq(Utc::now()),
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
        .set(messages::dsn_sent_at.eq(Utc::now()))
        .execute(conn)
        .map(drop)
}
