//! Outage reports: each period a domain's target was down, with what happened to the mail the
//! domain received meanwhile — the report a customer asks for after an incident.
//!
//! An outage is read from the target's timeline (`target_events`, written by
//! [`crate::targets`]): it starts at a `down` event and ends at the first `up` event after it
//! (`None` while the target is still down). The target is the domain's *current* one
//! (`target_host`, `target_port`): outages of a target the domain used before a change are not
//! shown, and the mail counted is this domain's mail received while its current target was
//! down, wherever it went.
//!
//! Mail "received during" an outage is the domain's recipients (`deliveries`) whose message
//! arrived at or after its start and before its end (up to now while it lasts);
//! `deliveries.created_at` is the message's `received_at` (both are the intake transaction's
//! `now()`). Final states keep the time they were reached in `updated_at` (nothing updates a
//! delivered, bounced or expired recipient again), which gives each recipient's delay.
//!
//! Cost: one page of outages walks `target_events (host, port, at DESC)` from the page's
//! position, finds each outage's end with one probe of the same index, and counts each
//! outage's mail through one range of `deliveries (domain_id, created_at)`; the `since`
//! bound starts the walk at the outage in progress at that time, so a report never reads a
//! target's older history or the domain's mail outside the outages shown.

use crate::ids::DomainId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text, Timestamptz};

/// One period the target was down, with the domain's mail received during it.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct OutageRow {
    /// The `target_events` id of the `down` event that began it.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Timestamptz)]
    pub started_at: DateTime<Utc>,
    /// `None` while the target is still down.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub ended_at: Option<DateTime<Utc>>,
    /// Why the target was found down.
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    /// The database's clock when the report was made (ongoing outages last until then).
    #[diesel(sql_type = Timestamptz)]
    pub now: DateTime<Utc>,
    /// Messages with at least one of the domain's recipients received during the outage.
    #[diesel(sql_type = BigInt)]
    pub messages: i64,
    /// The domain's recipients of those messages.
    #[diesel(sql_type = BigInt)]
    pub recipients: i64,
    #[diesel(sql_type = BigInt)]
    pub delivered: i64,
    #[diesel(sql_type = BigInt)]
    pub bounced: i64,
    #[diesel(sql_type = BigInt)]
    pub expired: i64,
    /// Longest time from receipt to delivery (to the bounce or expiry for those; to now for
    /// recipients still waiting), in seconds; `None` when no mail came in.
    #[diesel(sql_type = Nullable<Double>)]
    pub max_delay_seconds: Option<f64>,
}

/// What to report: the domain, its target, a time range and a page position.
#[derive(Debug, Clone)]
pub struct OutageQuery<'a> {
    pub domain: DomainId,
    pub host: &'a str,
    pub port: i32,
    /// Only outages still going on at or after this time (ended after it, or not ended).
    pub since: Option<DateTime<Utc>>,
    /// Only outages that began before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only outages older than this one, `(started_at, id)`: the last of the previous page.
    pub before: Option<(DateTime<Utc>, i64)>,
    pub limit: i64,
}

/// The target's outages overlapping the query's range, newest first, with the domain's mail
/// received during each (see the module notes for what is counted and what it costs).
pub fn domain_outages(conn: &mut PgConnection, q: &OutageQuery<'_>) -> QueryResult<Vec<OutageRow>> {
    diesel::sql_query(
        "SELECT o.id, o.started_at, o.ended_at, o.reason, now() AS now, \
                COALESCE(s.messages, 0) AS messages, COALESCE(s.recipients, 0) AS recipients, \
                COALESCE(s.delivered, 0) AS delivered, COALESCE(s.bounced, 0) AS bounced, \
                COALESCE(s.expired, 0) AS expired, s.max_delay_seconds \
         FROM ( \
             SELECT d.id, d.at AS started_at, e.at AS ended_at, d.detail AS reason \
             FROM target_events d \
             LEFT JOIN LATERAL ( \
                 SELECT u.at FROM target_events u \
                 WHERE u.host = d.host AND u.port = d.port AND u.state = 'up' \
                   AND u.at >= d.at AND (u.at > d.at OR u.id > d.id) \
                 ORDER BY u.at, u.id LIMIT 1 \
             ) e ON true \
             WHERE d.host = $1 AND d.port = $2 AND d.state = 'down' \
               AND ($4::timestamptz IS NULL OR d.at < $4) \
               AND ($3::timestamptz IS NULL OR ( \
                     d.at >= COALESCE((SELECT max(x.at) FROM target_events x \
                                       WHERE x.host = $1 AND x.port = $2 \
                                         AND x.state = 'down' AND x.at <= $3), $3) \
                     AND (e.at IS NULL OR e.at > $3))) \
               AND ($5::timestamptz IS NULL OR d.at < $5 OR (d.at = $5 AND d.id < $6)) \
             ORDER BY d.at DESC, d.id DESC \
             LIMIT $7 \
         ) o \
         LEFT JOIN LATERAL ( \
             SELECT count(DISTINCT q.message_id) AS messages, count(*) AS recipients, \
                    count(*) FILTER (WHERE q.state = 'delivered') AS delivered, \
                    count(*) FILTER (WHERE q.state = 'bounced') AS bounced, \
                    count(*) FILTER (WHERE q.state = 'expired') AS expired, \
                    max(EXTRACT(EPOCH FROM \
                        CASE WHEN q.state IN ('delivered', 'bounced', 'expired') \
                             THEN q.updated_at ELSE now() END - q.created_at))::float8 \
                        AS max_delay_seconds \
             FROM deliveries q \
             WHERE q.domain_id = $8 AND q.created_at >= o.started_at \
               AND q.created_at < COALESCE(o.ended_at, 'infinity'::timestamptz) \
         ) s ON true \
         ORDER BY o.started_at DESC, o.id DESC",
    )
    .bind::<Text, _>(q.host)
    .bind::<Integer, _>(q.port)
    .bind::<Nullable<Timestamptz>, _>(q.since)
    .bind::<Nullable<Timestamptz>, _>(q.until)
    .bind::<Nullable<Timestamptz>, _>(q.before.map(|(at, _)| at))
    .bind::<BigInt, _>(q.before.map_or(0, |(_, id)| id))
    .bind::<BigInt, _>(q.limit)
    .bind::<BigInt, _>(q.domain.0)
    .load(conn)
}
