//! Health of target hosts (the customers' primary mail servers), shared by every relay node.
//!
//! A connection failure marks a target `down` ([`mark_down`]); while it is down the queue
//! does not claim its recipients (see [`crate::queue::claim_due`]), so its mail waits without
//! per-message attempts. One node at a time probes it ([`claim_probes`]): a `220` greeting
//! marks it `up` and makes its whole queue due at once ([`probe_succeeded`]); a failure
//! doubles the probe interval up to a ceiling ([`probe_failed`]). Any SMTP reply seen while
//! delivering also marks it up ([`mark_up`]). Every change of state is kept in
//! `target_events`, the timeline the API shows.
//!
//! State changes lock the target's row, so concurrent nodes record each change once.
//!
//! ## Parking
//! A down target's waiting mail is *parked*: its due recipients get `next_attempt_at =`
//! [`PARKED_AT`], which takes them out of the due range of `deliveries_due_idx`. Claims walk
//! that range, so without parking every claim of every worker would step over the whole
//! backlog of every down target (measured: 135 ms per claim at 200,000 rows, linear).
//! - [`mark_down`] parks what is due of the target's queue ([`park_queue`], in batches);
//!   [`probe_failed`] parks again what became due since (new mail, retry times reached,
//!   an operator's retry or flush), which is cheap: only rows due now are looked at, through
//!   `deliveries_domain_due_idx`.
//! - Whatever makes the target up again ([`mark_up`], [`probe_succeeded`]) unparks its
//!   queue in the same transaction as the change of state, so no crash can leave mail parked
//!   behind a target that is up; [`flush_queue`] and [`flush_target`] unpark too.
//! - A domain whose target changes has its parked mail made due ([`unpark_domain`], called
//!   in the API's update transaction).
//!
//! Parking holds a share lock on the target's row and on the relay domains whose mail it
//! parks, for one short batch: an up-change (which locks the target's row exclusively) or a
//! domain's change of target (which updates the domain's row) waits for the batch and then
//! unparks it, or comes first and the batch sees the target up (parks nothing) or the domain
//! gone elsewhere (parks none of its mail). Claims skip a down target's rows but never park
//! them: a claim cannot take these locks cheaply, and a park decided on a stale view of the
//! target could strand mail behind a target that has just come up.
//!
//! Parked rows keep their state (`queued`/`deferred`) and `expires_at`, so statistics and
//! expiry ([`crate::queue::expire_due`]) treat them as before.

use crate::ids::DomainId;
use crate::queue::{notify, PARKED_AT, QUEUE_CHANNEL};
use crate::schema::{target_events, targets};
use chrono::{DateTime, Utc};
use diesel::connection::Connection;
use diesel::deserialize::{FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::prelude::*;
use diesel::serialize::{Output, ToSql};
use diesel::sql_types::{BigInt, Double, Integer, Text};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::time::Duration;

/// What the relay knows about a target: `unknown` (never judged), `up` (it answered),
/// `down` (a connection failed; a prober is checking it).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    AsExpression,
    FromSqlRow,
    utoipa::ToSchema,
)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    Unknown,
    Up,
    Down,
}

impl TargetState {
    /// Every value, in declaration order.
    pub const ALL: &'static [TargetState] =
        &[TargetState::Unknown, TargetState::Up, TargetState::Down];

    /// The word stored in the database and used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Unknown => "unknown",
            TargetState::Up => "up",
            TargetState::Down => "down",
        }
    }
}

impl std::str::FromStr for TargetState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "unknown" => Ok(TargetState::Unknown),
            "up" => Ok(TargetState::Up),
            "down" => Ok(TargetState::Down),
            other => Err(format!(
                "unknown value {other:?}; expected one of: unknown, up, down"
            )),
        }
    }
}

impl std::fmt::Display for TargetState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql<Text, Pg> for TargetState {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
        out.write_all(self.as_str().as_bytes())?;
        Ok(diesel::serialize::IsNull::No)
    }
}

impl FromSql<Text, Pg> for TargetState {
    fn from_sql(bytes: PgValue<'_>) -> diesel::deserialize::Result<Self> {
        let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        text.parse().map_err(Into::into)
    }
}

/// One row of `targets`.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = targets, check_for_backend(diesel::pg::Pg))]
pub struct Target {
    pub host: String,
    pub port: i32,
    pub state: TargetState,
    /// When `state` last changed.
    pub changed_at: DateTime<Utc>,
    pub last_probe_at: Option<DateTime<Utc>>,
    /// When the prober looks at it next (only while down).
    pub next_probe_at: Option<DateTime<Utc>>,
    pub probe_interval_ms: i32,
    /// Why it was last found down.
    pub last_error: Option<String>,
}

/// One row of `target_events`: a change to `up` or `down`.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = target_events, check_for_backend(diesel::pg::Pg))]
pub struct TargetEvent {
    pub id: i64,
    pub host: String,
    pub port: i32,
    pub state: TargetState,
    pub at: DateTime<Utc>,
    /// The error that took it down, or the reply that showed it up.
    pub detail: Option<String>,
}

fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX).max(1)
}

/// The target's row, if the relay has ever judged it.
pub fn find(conn: &mut PgConnection, host: &str, port: i32) -> QueryResult<Option<Target>> {
    targets::table
        .find((host, port))
        .select(Target::as_select())
        .first(conn)
        .optional()
}

/// The most recent up/down changes of a target (any port when `port` is `None`), newest first.
pub fn events(
    conn: &mut PgConnection,
    host: &str,
    port: Option<i32>,
    limit: i64,
) -> QueryResult<Vec<TargetEvent>> {
    let mut query = target_events::table
        .filter(target_events::host.eq(host.to_owned()))
        .select(TargetEvent::as_select())
        .order((target_events::at.desc(), target_events::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(port) = port {
        query = query.filter(target_events::port.eq(port));
    }
    query.load(conn)
}

fn record_event(
    conn: &mut PgConnection,
    host: &str,
    port: i32,
    state: TargetState,
    detail: &str,
) -> QueryResult<()> {
    diesel::insert_into(target_events::table)
        .values((
            target_events::host.eq(host),
            target_events::port.eq(port),
            target_events::state.eq(state),
            target_events::detail.eq(detail),
        ))
        .execute(conn)
        .map(drop)
}

fn lock_state(conn: &mut PgConnection, host: &str, port: i32) -> QueryResult<Option<TargetState>> {
    targets::table
        .find((host, port))
        .select(targets::state)
        .for_update()
        .first(conn)
        .optional()
}

/// Records a connection failure: the target becomes `down` (first probe after
/// `probe_initial`) with an event, unless it already was; `last_error` is updated either
/// way. Then its due mail is parked ([`park_queue`]) either way, since mail may have become
/// due since it went down. Returns true when the state changed.
pub fn mark_down(
    conn: &mut PgConnection,
    host: &str,
    port: i32,
    error: &str,
    probe_initial: Duration,
) -> QueryResult<bool> {
    let changed = set_down(conn, host, port, error, probe_initial)?;
    park_queue(conn, host, port)?;
    Ok(changed)
}

fn set_down(
    conn: &mut PgConnection,
    host: &str,
    port: i32,
    error: &str,
    probe_initial: Duration,
) -> QueryResult<bool> {
    let interval = millis(probe_initial);
    conn.transaction(|conn| {
        let state = match lock_state(conn, host, port)? {
            Some(state) => state,
            None => {
                let inserted = diesel::sql_query(
                    "INSERT INTO targets (host, port, state, changed_at, next_probe_at, \
                                          probe_interval_ms, last_error) \
                     VALUES ($1, $2, 'down', now(), now() + make_interval(secs => $3), $4, $5) \
                     ON CONFLICT DO NOTHING",
                )
                .bind::<Text, _>(host)
                .bind::<Integer, _>(port)
                .bind::<Double, _>(f64::from(interval) / 1000.0)
                .bind::<Integer, _>(interval)
                .bind::<Text, _>(error)
                .execute(conn)?;
                if inserted == 1 {
                    record_event(conn, host, port, TargetState::Down, error)?;
                    return Ok(true);
                }
                // Another node inserted it meanwhile: judge its row like any other.
                lock_state(conn, host, port)?.unwrap_or(TargetState::Unknown)
            }
        };
        if state == TargetState::Down {
            diesel::update(targets::table.find((host, port)))
                .set(targets::last_error.eq(error))
                .execute(conn)?;
            return Ok(false);
        }
        diesel::sql_query(
            "UPDATE targets SET state = 'down', changed_at = now(), \
                    next_probe_at = now() + make_interval(secs => $3), \
                    probe_interval_ms = $4, last_error = $5 \
             WHERE host = $1 AND port = $2",
        )
        .bind::<Text, _>(host)
        .bind::<Integer, _>(port)
        .bind::<Double, _>(f64::from(interval) / 1000.0)
        .bind::<Integer, _>(interval)
        .bind::<Text, _>(error)
        .execute(conn)?;
        record_event(conn, host, port, TargetState::Down, error)?;
        Ok(true)
    })
}

/// Records that the target answered (any SMTP reply): it becomes `up` with an event unless it
/// already was. When it was `down`, its whole queue (parked mail included) is made due in the
/// same transaction ([`flush_queue`]), so mail can never stay parked behind a target that is
/// up. Returns the state it had when it changed (`Some(Down)`: its queue was flushed); `None`
/// when it was already up.
///
/// Cheap when the target is up (one read, no lock), which is the case on the hot path.
pub fn mark_up(
    conn: &mut PgConnection,
    host: &str,
    port: i32,
    detail: &str,
) -> QueryResult<Option<TargetState>> {
    let current: Option<TargetState> = targets::table
        .find((host, port))
        .select(targets::state)
        .first(conn)
        .optional()?;
    if current == Some(TargetState::Up) {
        return Ok(None);
    }
    conn.transaction(|conn| {
        let was = set_up(conn, host, port, detail)?;
        if was == Some(TargetState::Down) {
            flush_queue(conn, host, port)?;
        }
        Ok(was)
    })
}

/// The change to `up` of [`mark_up`], without the flush; call inside a transaction. The
/// exclusive lock it takes on the target's row waits for parking batches in progress
/// (which hold a share lock), so a flush after it in the same transaction sees them.
fn set_up(
    conn: &mut PgConnection,
    host: &str,
    port: i32,
    detail: &str,
) -> QueryResult<Option<TargetState>> {
    let state = match lock_state(conn, host, port)? {
        Some(state) => state,
        None => {
            let inserted = diesel::sql_query(
                "INSERT INTO targets (host, port, state, changed_at) \
                 VALUES ($1, $2, 'up', now()) ON CONFLICT DO NOTHING",
            )
            .bind::<Text, _>(host)
            .bind::<Integer, _>(port)
            .execute(conn)?;
            if inserted == 1 {
                record_event(conn, host, port, TargetState::Up, detail)?;
                return Ok(Some(TargetState::Unknown));
            }
            lock_state(conn, host, port)?.unwrap_or(TargetState::Up)
        }
    };
    if state == TargetState::Up {
        return Ok(None);
    }
    diesel::update(targets::table.find((host, port)))
        .set((
            targets::state.eq(TargetState::Up),
            targets::changed_at.eq(diesel::dsl::now),
            targets::next_probe_at.eq(None::<DateTime<Utc>>),
            targets::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    record_event(conn, host, port, TargetState::Up, detail)?;
    Ok(Some(state))
}

/// Makes every waiting recipient (queued or deferred, parked or waiting for a retry time) of
/// the domains delivered to this target due now, and wakes the relay nodes. Returns how many
/// were made due. If the target is still down, claims skip this mail and the next failed
/// probe parks it again.
pub fn flush_queue(conn: &mut PgConnection, host: &str, port: i32) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let n = diesel::sql_query(
            "UPDATE deliveries d SET next_attempt_at = now(), updated_at = now() \
             FROM relay_domains rd \
             WHERE rd.target_host = $1 AND rd.target_port = $2 AND d.domain_id = rd.id \
               AND d.state IN ('queued', 'deferred') AND d.next_attempt_at > now()",
        )
        .bind::<Text, _>(host)
        .bind::<Integer, _>(port)
        .execute(conn)?;
        notify(conn, QUEUE_CHANNEL)?;
        Ok(n)
    })
}

/// Payload of a [`QUEUE_CHANNEL`] notification that asks the relays' probers to look for
/// due probes now rather than at their next tick (a flush set a down target's probe to now).
pub const PROBE_NOW: &str = "probe";

/// Asks every relay's prober to look for due probes at once (delivered at commit when
/// inside a transaction); the notification also wakes the delivery workers.
pub fn notify_probe(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(QUEUE_CHANNEL)
        .bind::<Text, _>(PROBE_NOW)
        .execute(conn)
        .map(drop)
}

/// The operator's "flush" (`POST /domains/{id}/flush`): makes the target's waiting mail due
/// now and, if the target is down, probes it at once rather than at its next interval.
/// Returns how many recipients were made due.
pub fn flush_target(conn: &mut PgConnection, host: &str, port: i32) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let n = flush_queue(conn, host, port)?;
        diesel::update(
            targets::table
                .find((host, port))
                .filter(targets::state.eq(TargetState::Down)),
        )
        .set(targets::next_probe_at.eq(diesel::dsl::now))
        .execute(conn)?;
        notify_probe(conn)?;
        Ok(n)
    })
}

/// A target a node has undertaken to probe.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct ProbeJob {
    #[diesel(sql_type = Text)]
    pub host: String,
    #[diesel(sql_type = Integer)]
    pub port: i32,
    /// The current probe interval, in milliseconds.
    #[diesel(sql_type = Integer)]
    pub probe_interval_ms: i32,
}

/// Takes up to `limit` down targets whose probe is due. Their next probe is pushed back by
/// their interval, or `lease` if longer (the time one probe may take), so other nodes leave
/// them alone meanwhile; `FOR UPDATE SKIP LOCKED` keeps two nodes from taking the same one.
/// Report the outcome with [`probe_succeeded`] or [`probe_failed`].
pub fn claim_probes(
    conn: &mut PgConnection,
    limit: i64,
    lease: Duration,
) -> QueryResult<Vec<ProbeJob>> {
    diesel::sql_query(
        "WITH due AS ( \
             SELECT host, port FROM targets \
             WHERE state = 'down' AND next_probe_at <= now() \
             ORDER BY next_probe_at LIMIT $1 \
             FOR UPDATE SKIP LOCKED \
         ) \
         UPDATE targets t SET last_probe_at = now(), \
                next_probe_at = now() + make_interval(secs => GREATEST(t.probe_interval_ms / 1000.0, $2)) \
         FROM due WHERE t.host = due.host AND t.port = due.port \
         RETURNING t.host, t.port, t.probe_interval_ms",
    )
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .bind::<Double, _>(lease.as_secs_f64())
    .load(conn)
}

/// The probe got a `220` greeting: the target is up (event recorded if it was not) and its
/// whole queue is made due now. Returns how many recipients were made due.
pub fn probe_succeeded(
    conn: &mut PgConnection,
    host: &str,
    port: i32,
    detail: &str,
) -> QueryResult<usize> {
    conn.transaction(|conn| {
        set_up(conn, host, port, detail)?;
        flush_queue(conn, host, port)
    })
}

/// The probe failed: the interval doubles (at most `max`) and the next probe is that far
/// away; mail of the target that became due since the last parking (new mail, retry times
/// reached, an operator's retry or flush) is parked ([`park_queue`]). No-op when the target
/// is no longer down.
pub fn probe_failed(
    conn: &mut PgConnection,
    host: &str,
    port: i32,
    error: &str,
    max: Duration,
) -> QueryResult<()> {
    let still_down = diesel::sql_query(
        "UPDATE targets SET \
                probe_interval_ms = LEAST(probe_interval_ms::bigint * 2, $3)::integer, \
                next_probe_at = now() + make_interval(secs => LEAST(probe_interval_ms::bigint * 2, $3) / 1000.0), \
                last_probe_at = now(), last_error = $4 \
         WHERE host = $1 AND port = $2 AND state = 'down'",
    )
    .bind::<Text, _>(host)
    .bind::<Integer, _>(port)
    .bind::<Integer, _>(millis(max))
    .bind::<Text, _>(error)
    .execute(conn)?
        > 0;
    if still_down {
        park_queue(conn, host, port)?;
    }
    Ok(())
}

/// Recipients parked per statement (and transaction), so parking a large backlog never holds
/// many row locks or one long transaction.
pub const PARK_BATCH: i64 = 10_000;

/// Parks the due mail (queued or deferred, `next_attempt_at <= now()`) of the domains
/// delivered to this target, if the target is down: `next_attempt_at` becomes [`PARKED_AT`],
/// out of the range claims walk, until the target is up again (see the module notes). Runs
/// in batches of [`PARK_BATCH`], each in its own transaction; stops early if the target
/// comes up meanwhile. Cost: the target's due rows, found per domain through
/// `deliveries_domain_due_idx`; mail already parked is not looked at. Returns how many
/// recipients were parked.
pub fn park_queue(conn: &mut PgConnection, host: &str, port: i32) -> QueryResult<usize> {
    let mut total = 0;
    loop {
        let parked = conn.transaction(|conn| park_batch(conn, host, port, PARK_BATCH))?;
        total += parked;
        if i64::try_from(parked).unwrap_or(i64::MAX) < PARK_BATCH {
            return Ok(total);
        }
    }
}

/// One batch of [`park_queue`]; call inside a transaction (the locks must last until the
/// batch commits).
fn park_batch(conn: &mut PgConnection, host: &str, port: i32, limit: i64) -> QueryResult<usize> {
    // Shared lock: an up-change (exclusive lock, then unpark in its transaction) waits for
    // this batch and unparks it; if it came first, this reads the target as up.
    let state: Option<TargetState> = targets::table
        .find((host, port))
        .select(targets::state)
        .for_share()
        .first(conn)
        .optional()?;
    if state != Some(TargetState::Down) {
        return Ok(0);
    }
    // The domains are share-locked too, and only those with due mail: a domain whose
    // target changes meanwhile (its row updated, its parked mail unparked in that
    // transaction) either waits for this batch, or is re-read with its new target here and
    // left out.
    diesel::sql_query(format!(
        "WITH doms AS MATERIALIZED ( \
             SELECT rd.id FROM relay_domains rd \
             WHERE rd.target_host = $1 AND rd.target_port = $2 \
               AND EXISTS (SELECT 1 FROM deliveries x \
                           WHERE x.domain_id = rd.id AND x.state IN ('queued', 'deferred') \
                             AND x.next_attempt_at <= now()) \
             FOR SHARE OF rd \
         ), batch AS ( \
             SELECT d.id FROM deliveries d \
             WHERE d.domain_id IN (SELECT id FROM doms) \
               AND d.state IN ('queued', 'deferred') AND d.next_attempt_at <= now() \
             LIMIT $3 \
             FOR UPDATE OF d SKIP LOCKED \
         ) \
         UPDATE deliveries d SET next_attempt_at = {PARKED_AT}, updated_at = now() \
         FROM batch WHERE d.id = batch.id"
    ))
    .bind::<Text, _>(host)
    .bind::<Integer, _>(port)
    .bind::<BigInt, _>(limit)
    .execute(conn)
}

/// Makes a domain's parked mail due now and wakes the relay nodes; for a change of the
/// domain's target (host or port), in the same transaction as the change and after it, so
/// the mail parked behind the old target goes to the new one (or, if that one is down too,
/// is parked again by its prober). Returns how many recipients were made due.
pub fn unpark_domain(conn: &mut PgConnection, domain: DomainId) -> QueryResult<usize> {
    let n = diesel::sql_query(format!(
        "UPDATE deliveries SET next_attempt_at = now(), updated_at = now() \
         WHERE domain_id = $1 AND state IN ('queued', 'deferred') \
           AND next_attempt_at >= {PARKED_AT}"
    ))
    .bind::<BigInt, _>(domain.0)
    .execute(conn)?;
    if n > 0 {
        notify(conn, QUEUE_CHANNEL)?;
    }
    Ok(n)
}
