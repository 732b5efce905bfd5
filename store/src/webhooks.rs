//! Webhooks: per-account HTTP callbacks for operational events, their outbox and their
//! delivery log.
//!
//! ## Where events come from
//! Triggers (migration `2026-11-28-000010_webhooks`) write `webhook_events` rows in the same
//! transaction as the change they report: a `target_events` row (`target.down`, and
//! `target.up` after a down), a recipient reaching `bounced` or `expired` (`message.*`), a
//! stored DNS check turning to `error` (`domain.dns_error`). So an event exists exactly when
//! its change committed, whichever node or process made it, and the relay needs no webhook
//! code. `queue.threshold` is a level, not a change of one row: [`evaluate_queue_thresholds`]
//! looks at the queue periodically and remembers raised alerts in `webhook_queue_alerts`.
//!
//! ## Fan-out and sending
//! [`fan_out`] claims outbox rows (`FOR UPDATE SKIP LOCKED`), writes one `webhook_deliveries`
//! row per webhook that wants the event and may see its domain, and removes the outbox rows,
//! all in one transaction: several dispatchers never fan an event out twice. [`claim_due`]
//! leases due deliveries (again `SKIP LOCKED`; the lease is `next_attempt_at` moved forward,
//! so a crashed sender's delivery becomes due again), and [`record_attempt`] stores the result
//! and the next attempt time.
//!
//! ## Who sees what
//! A webhook sees an event only about domains its account may see (operators: all;
//! customers: owned; domain administrators: those given to them), narrowed by its own
//! `domain_ids`. A target event names the visible domains relayed to that target and is not
//! sent to a webhook that sees none of them.

use crate::ids::{AccountId, DomainId};
use crate::schema::{webhook_deliveries, webhooks};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Integer, Jsonb, Nullable, Text, Timestamptz};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The kinds of events a webhook can subscribe to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum WebhookEventType {
    /// A target host has been down for the webhook's grace period.
    #[serde(rename = "target.down")]
    TargetDown,
    /// A target host answers again, after a down that lasted at least the grace period.
    #[serde(rename = "target.up")]
    TargetUp,
    /// A domain's queue holds more than the webhook's message threshold, or its oldest
    /// waiting recipient is older than the age threshold.
    #[serde(rename = "queue.threshold")]
    QueueThreshold,
    /// A recipient failed permanently (5xx from the target).
    #[serde(rename = "message.bounced")]
    MessageBounced,
    /// A recipient reached the end of its domain's queue lifetime.
    #[serde(rename = "message.expired")]
    MessageExpired,
    /// A domain's stored DNS check turned to `error`.
    #[serde(rename = "domain.dns_error")]
    DomainDnsError,
}

impl WebhookEventType {
    pub const ALL: &'static [WebhookEventType] = &[
        WebhookEventType::TargetDown,
        WebhookEventType::TargetUp,
        WebhookEventType::QueueThreshold,
        WebhookEventType::MessageBounced,
        WebhookEventType::MessageExpired,
        WebhookEventType::DomainDnsError,
    ];

    /// The name used in JSON, in the database and in the `X-Mxspool-Event` header.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEventType::TargetDown => "target.down",
            WebhookEventType::TargetUp => "target.up",
            WebhookEventType::QueueThreshold => "queue.threshold",
            WebhookEventType::MessageBounced => "message.bounced",
            WebhookEventType::MessageExpired => "message.expired",
            WebhookEventType::DomainDnsError => "domain.dns_error",
        }
    }

    pub fn parse(s: &str) -> Option<WebhookEventType> {
        WebhookEventType::ALL
            .iter()
            .copied()
            .find(|e| e.as_str() == s)
    }
}

/// The event type of a test delivery (`POST /webhooks/{id}/test`).
pub const PING: &str = "ping";

/// One row of `webhooks`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks, check_for_backend(diesel::pg::Pg))]
pub struct Webhook {
    pub id: i64,
    pub account_id: AccountId,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub domain_ids: Option<Vec<i64>>,
    pub enabled: bool,
    pub secret: String,
    pub target_down_grace_seconds: i32,
    pub queue_threshold_messages: Option<i32>,
    pub queue_threshold_age_seconds: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Insert form of [`Webhook`].
#[derive(Debug, Insertable)]
#[diesel(table_name = webhooks)]
pub struct NewWebhook {
    pub account_id: AccountId,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub domain_ids: Option<Vec<i64>>,
    pub enabled: bool,
    pub secret: String,
    pub target_down_grace_seconds: i32,
    pub queue_threshold_messages: Option<i32>,
    pub queue_threshold_age_seconds: Option<i32>,
}

/// Update form of [`Webhook`]; `None` leaves a column alone, `Some(None)` clears it.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub events: Option<Vec<String>>,
    pub domain_ids: Option<Option<Vec<i64>>>,
    pub enabled: Option<bool>,
    pub secret: Option<String>,
    pub target_down_grace_seconds: Option<i32>,
    pub queue_threshold_messages: Option<Option<i32>>,
    pub queue_threshold_age_seconds: Option<Option<i32>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// One row of `webhook_deliveries`.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::pg::Pg))]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: Option<i64>,
    pub event_type: String,
    pub payload: Value,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_response: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn insert(conn: &mut PgConnection, new: &NewWebhook) -> QueryResult<Webhook> {
    diesel::insert_into(webhooks::table)
        .values(new)
        .returning(Webhook::as_returning())
        .get_result(conn)
}

/// The webhook with this id, if it belongs to `owner` (`None`: any account's, for operators).
pub fn find(conn: &mut PgConnection, id: i64, owner: Option<AccountId>) -> QueryResult<Webhook> {
    let mut query = webhooks::table.filter(webhooks::id.eq(id)).into_boxed();
    if let Some(owner) = owner {
        query = query.filter(webhooks::account_id.eq(owner));
    }
    query.select(Webhook::as_select()).first(conn)
}

/// Keyset page of webhooks with `id > after`, of `owner` (`None`: everyone's).
pub fn list(
    conn: &mut PgConnection,
    owner: Option<AccountId>,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Webhook>> {
    let mut query = webhooks::table
        .filter(webhooks::id.gt(after.unwrap_or(0)))
        .into_boxed();
    if let Some(owner) = owner {
        query = query.filter(webhooks::account_id.eq(owner));
    }
    query
        .order(webhooks::id)
        .limit(limit)
        .select(Webhook::as_select())
        .load(conn)
}

pub fn update(conn: &mut PgConnection, id: i64, changes: &WebhookChanges) -> QueryResult<Webhook> {
    diesel::update(webhooks::table.find(id))
        .set(changes)
        .returning(Webhook::as_returning())
        .get_result(conn)
}

/// Deletes a webhook with its delivery log. Returns whether it existed (and was `owner`'s).
pub fn delete(conn: &mut PgConnection, id: i64, owner: Option<AccountId>) -> QueryResult<bool> {
    let mut query = diesel::delete(webhooks::table)
        .filter(webhooks::id.eq(id))
        .into_boxed();
    if let Some(owner) = owner {
        query = query.filter(webhooks::account_id.eq(owner));
    }
    Ok(query.execute(conn)? > 0)
}

/// Keyset page of a webhook's deliveries, newest first (`id < before`).
pub fn list_deliveries(
    conn: &mut PgConnection,
    webhook: i64,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<WebhookDelivery>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::id.lt(before));
    }
    query
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .select(WebhookDelivery::as_select())
        .load(conn)
}

pub fn find_delivery(
    conn: &mut PgConnection,
    webhook: i64,
    id: i64,
) -> QueryResult<WebhookDelivery> {
    webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook))
        .filter(webhook_deliveries::id.eq(id))
        .select(WebhookDelivery::as_select())
        .first(conn)
}

/// Makes a delivery due now with a fresh attempt budget, whatever its status.
pub fn resend(conn: &mut PgConnection, webhook: i64, id: i64) -> QueryResult<WebhookDelivery> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::webhook_id.eq(webhook))
            .filter(webhook_deliveries::id.eq(id)),
    )
    .set((
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(Some(Utc::now())),
        webhook_deliveries::last_error.eq(None::<String>),
        webhook_deliveries::updated_at.eq(diesel::dsl::now),
    ))
    .returning(WebhookDelivery::as_returning())
    .get_result(conn)
}

/// A fresh event id from the outbox's sequence, for events that are not fanned out from the
/// outbox (ping, queue.threshold), so every payload `id` is unique.
fn next_event_id(conn: &mut PgConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    diesel::sql_query("SELECT nextval(pg_get_serial_sequence('webhook_events', 'id')) AS id")
        .get_result::<Id>(conn)
        .map(|r| r.id)
}

/// The envelope every delivery's body has.
pub fn envelope(id: i64, event_type: &str, created_at: DateTime<Utc>, data: Value) -> Value {
    json!({
        "id": id,
        "type": event_type,
        "created_at": created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": data,
    })
}

/// Records a `ping` delivery for a webhook, already claimed for sending (attempt 1, leased
/// for `lease`): the test endpoint sends it at once and records the outcome.
pub fn insert_ping(
    conn: &mut PgConnection,
    webhook: &Webhook,
    lease: Duration,
) -> QueryResult<WebhookDelivery> {
    let id = next_event_id(conn)?;
    let payload = envelope(
        id,
        PING,
        Utc::now(),
        json!({"webhook_id": webhook.id, "url": webhook.url}),
    );
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::webhook_id.eq(webhook.id),
            webhook_deliveries::event_id.eq(Some(id)),
            webhook_deliveries::event_type.eq(PING),
            webhook_deliveries::payload.eq(&payload),
            webhook_deliveries::attempts.eq(1),
            webhook_deliveries::last_attempt_at.eq(Some(Utc::now())),
            webhook_deliveries::next_attempt_at.eq(Some(Utc::now() + lease_delta(lease))),
        ))
        .returning(WebhookDelivery::as_returning())
        .get_result(conn)
}

fn lease_delta(d: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX)
}

// ---------------------------------------------------------------------------------------
// Fan-out

#[derive(Debug, QueryableByName)]
struct OutboxRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    event_type: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    domain_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    host: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    port: Option<i32>,
    #[diesel(sql_type = Jsonb)]
    data: Value,
    #[diesel(sql_type = Timestamptz)]
    occurred_at: DateTime<Utc>,
}

/// A subscribed webhook with its account's role, for visibility decisions.
#[derive(Debug, QueryableByName)]
struct Subscriber {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    account_id: i64,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Nullable<Array<BigInt>>)]
    domain_ids: Option<Vec<i64>>,
    #[diesel(sql_type = Integer)]
    target_down_grace_seconds: i32,
}

#[derive(Debug, Clone, QueryableByName)]
struct CandidateDomain {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    owner_id: i64,
}

#[derive(Debug, QueryableByName)]
struct AdminPair {
    #[diesel(sql_type = BigInt)]
    domain_id: i64,
    #[diesel(sql_type = BigInt)]
    account_id: i64,
}

/// Whether the account behind `s` may see `domain`, and `s`'s own filter lets it through.
fn sees(s: &Subscriber, domain: &CandidateDomain, admins: &BTreeSet<(i64, i64)>) -> bool {
    let by_role = match s.role.as_str() {
        "admin" => true,
        "customer" => domain.owner_id == s.account_id,
        "domain_admin" => admins.contains(&(domain.id, s.account_id)),
        _ => false,
    };
    by_role
        && s.domain_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&domain.id))
}

/// Fans up to `limit` outbox events out to the webhooks that want them; returns how many
/// events were processed. Safe to run on several nodes at once.
pub fn fan_out(conn: &mut PgConnection, limit: i64) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let events: Vec<OutboxRow> = diesel::sql_query(
            "SELECT id, event_type, domain_id, host, port, data, occurred_at FROM webhook_events \
             ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind::<BigInt, _>(limit)
        .load(conn)?;
        if events.is_empty() {
            return Ok(0);
        }
        let mut subscribers: BTreeMap<String, Vec<Subscriber>> = BTreeMap::new();
        for event in &events {
            if !subscribers.contains_key(&event.event_type) {
                let subs: Vec<Subscriber> = diesel::sql_query(
                    "SELECT w.id, w.account_id, a.role, w.domain_ids, w.target_down_grace_seconds \
                     FROM webhooks w JOIN accounts a ON a.id = w.account_id \
                     WHERE w.enabled AND w.events @> ARRAY[$1] ORDER BY w.id",
                )
                .bind::<Text, _>(&event.event_type)
                .load(conn)?;
                subscribers.insert(event.event_type.clone(), subs);
            }
        }
        for event in &events {
            let subs = subscribers
                .get(&event.event_type)
                .map(Vec::as_slice)
                .unwrap_or_default();
            if !subs.is_empty() {
                fan_out_one(conn, event, subs)?;
            }
        }
        let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
        diesel::sql_query("DELETE FROM webhook_events WHERE id = ANY($1)")
            .bind::<Array<BigInt>, _>(&ids)
            .execute(conn)?;
        Ok(events.len())
    })
}

fn fan_out_one(conn: &mut PgConnection, event: &OutboxRow, subs: &[Subscriber]) -> QueryResult<()> {
    let candidates: Vec<CandidateDomain> = match (event.domain_id, &event.host, event.port) {
        (Some(domain), _, _) => {
            diesel::sql_query("SELECT id, name, owner_id FROM relay_domains WHERE id = $1")
                .bind::<BigInt, _>(domain)
                .load(conn)?
        }
        (None, Some(host), Some(port)) => diesel::sql_query(
            "SELECT id, name, owner_id FROM relay_domains \
             WHERE target_host = $1 AND target_port = $2 ORDER BY id",
        )
        .bind::<Text, _>(host)
        .bind::<Integer, _>(port)
        .load(conn)?,
        _ => Vec::new(),
    };
    if candidates.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = candidates.iter().map(|d| d.id).collect();
    let admins: BTreeSet<(i64, i64)> = if subs.iter().any(|s| s.role == "domain_admin") {
        diesel::sql_query(
            "SELECT domain_id, account_id FROM domain_admins WHERE domain_id = ANY($1)",
        )
        .bind::<Array<BigInt>, _>(&ids)
        .load::<AdminPair>(conn)?
        .into_iter()
        .map(|p| (p.domain_id, p.account_id))
        .collect()
    } else {
        BTreeSet::new()
    };
    let is_target_event = event.domain_id.is_none();
    for sub in subs {
        let visible: Vec<&CandidateDomain> = candidates
            .iter()
            .filter(|d| sees(sub, d, &admins))
            .collect();
        if visible.is_empty() {
            continue;
        }
        let grace = i64::from(sub.target_down_grace_seconds);
        let mut data = event.data.clone();
        let mut due = Utc::now();
        if is_target_event {
            if event.event_type == WebhookEventType::TargetUp.as_str() {
                // The down was never reported to this webhook: its up is not news either.
                let down_seconds = data["down_seconds"].as_i64().unwrap_or(0);
                if down_seconds < grace {
                    continue;
                }
            }
            if event.event_type == WebhookEventType::TargetDown.as_str() {
                due = event.occurred_at + chrono::TimeDelta::seconds(grace);
                data["grace_seconds"] = json!(grace);
            }
            data["domains"] = visible
                .iter()
                .map(|d| json!({"id": d.id, "name": d.name}))
                .collect();
        } else if let Some(d) = visible.first() {
            data["domain"] = json!({"id": d.id, "name": d.name});
        }
        let payload = envelope(event.id, &event.event_type, event.occurred_at, data);
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::webhook_id.eq(sub.id),
                webhook_deliveries::event_id.eq(Some(event.id)),
                webhook_deliveries::event_type.eq(&event.event_type),
                webhook_deliveries::payload.eq(&payload),
                webhook_deliveries::next_attempt_at.eq(Some(due)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Queue thresholds

#[derive(Debug, QueryableByName)]
struct ThresholdWebhook {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    account_id: i64,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Nullable<Array<BigInt>>)]
    domain_ids: Option<Vec<i64>>,
    #[diesel(sql_type = Nullable<Integer>)]
    queue_threshold_messages: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    queue_threshold_age_seconds: Option<i32>,
}

#[derive(Debug, QueryableByName)]
struct DomainQueue {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    /// Waiting recipients, counted up to the threshold plus one (a bounded index scan).
    #[diesel(sql_type = BigInt)]
    queued: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    oldest: Option<DateTime<Utc>>,
}

/// Key of the advisory lock that makes one node at a time evaluate thresholds.
const THRESHOLD_LOCK: i64 = 0x6d78_7370_6f6f_6c01;

/// Raises `queue.threshold` for each (webhook, visible domain) whose queue of waiting
/// recipients (queued, deferred, delivering) is above the webhook's message threshold or whose
/// oldest waiting recipient is older than its age threshold, once per crossing: the alert is
/// re-armed when the domain is back under both. Returns the number of deliveries created.
/// Only one node evaluates at a time (an advisory lock); the others return 0 at once.
///
/// The count per domain is bounded by the threshold (`LIMIT n + 1` on the
/// `(domain_id, state, id)` index) and the oldest recipient is the first row of that index per
/// state, so a pass costs a few index probes per visible domain, not a scan of the queue.
pub fn evaluate_queue_thresholds(conn: &mut PgConnection) -> QueryResult<usize> {
    conn.transaction(|conn| {
        #[derive(QueryableByName)]
        struct Locked {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            locked: bool,
        }
        let locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
            .bind::<BigInt, _>(THRESHOLD_LOCK)
            .get_result::<Locked>(conn)?
            .locked;
        if !locked {
            return Ok(0);
        }
        let hooks: Vec<ThresholdWebhook> = diesel::sql_query(
            "SELECT w.id, w.account_id, a.role, w.domain_ids, w.queue_threshold_messages, \
                    w.queue_threshold_age_seconds \
             FROM webhooks w JOIN accounts a ON a.id = w.account_id \
             WHERE w.enabled AND w.events @> ARRAY['queue.threshold'] \
               AND (w.queue_threshold_messages IS NOT NULL \
                    OR w.queue_threshold_age_seconds IS NOT NULL) \
             ORDER BY w.id",
        )
        .load(conn)?;
        // Alerts of webhooks that no longer evaluate (disabled, unsubscribed, thresholds
        // cleared) are re-armed, so they fire again once evaluated again.
        let evaluated: Vec<i64> = hooks.iter().map(|h| h.id).collect();
        diesel::sql_query("DELETE FROM webhook_queue_alerts WHERE NOT (webhook_id = ANY($1))")
            .bind::<Array<BigInt>, _>(&evaluated)
            .execute(conn)?;
        let mut created = 0;
        for hook in &hooks {
            created += evaluate_one(conn, hook)?;
        }
        Ok(created)
    })
}

fn evaluate_one(conn: &mut PgConnection, hook: &ThresholdWebhook) -> QueryResult<usize> {
    let cap = hook
        .queue_threshold_messages
        .map_or(1, |n| i64::from(n) + 1);
    let oldest_of = |state: &str| {
        format!(
            "(SELECT q.created_at FROM deliveries q WHERE q.domain_id = d.id \
              AND q.state = '{state}' ORDER BY q.id LIMIT 1)"
        )
    };
    let query = format!(
        "SELECT d.id, d.name, \
                (SELECT count(*) FROM (SELECT 1 FROM deliveries q WHERE q.domain_id = d.id \
                   AND q.state IN ('queued', 'deferred', 'delivering') LIMIT $1) c) AS queued, \
                LEAST({}, {}, {}) AS oldest \
         FROM relay_domains d \
         WHERE ($2 = 'admin' \
                OR ($2 = 'customer' AND d.owner_id = $3) \
                OR ($2 = 'domain_admin' AND d.id IN \
                    (SELECT domain_id FROM domain_admins WHERE account_id = $3))) \
           AND ($4::bigint[] IS NULL OR d.id = ANY($4)) \
         ORDER BY d.id",
        oldest_of("queued"),
        oldest_of("deferred"),
        oldest_of("delivering"),
    );
    let domains: Vec<DomainQueue> = diesel::sql_query(query)
        .bind::<BigInt, _>(cap)
        .bind::<Text, _>(&hook.role)
        .bind::<BigInt, _>(hook.account_id)
        .bind::<Nullable<Array<BigInt>>, _>(&hook.domain_ids)
        .load(conn)?;
    let now = Utc::now();
    let mut over: Vec<i64> = Vec::new();
    let mut created = 0;
    for d in &domains {
        let by_count = hook
            .queue_threshold_messages
            .is_some_and(|n| d.queued > i64::from(n));
        let age = d.oldest.map(|at| (now - at).num_seconds());
        let by_age = hook
            .queue_threshold_age_seconds
            .zip(age)
            .is_some_and(|(t, age)| age > i64::from(t));
        if !(by_count || by_age) {
            continue;
        }
        over.push(d.id);
        let raised = diesel::sql_query(
            "INSERT INTO webhook_queue_alerts (webhook_id, domain_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind::<BigInt, _>(hook.id)
        .bind::<BigInt, _>(d.id)
        .execute(conn)?;
        if raised == 0 {
            continue;
        }
        let id = next_event_id(conn)?;
        let mut reasons = Vec::new();
        if by_count {
            reasons.push("messages");
        }
        if by_age {
            reasons.push("age");
        }
        let data = json!({
            "domain": {"id": d.id, "name": d.name},
            "exceeded": reasons,
            // Counted up to the threshold plus one: "more than the threshold".
            "queued_at_least": d.queued,
            "oldest_queued_at": d.oldest.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            "oldest_age_seconds": age,
            "threshold_messages": hook.queue_threshold_messages,
            "threshold_age_seconds": hook.queue_threshold_age_seconds,
        });
        let payload = envelope(id, WebhookEventType::QueueThreshold.as_str(), now, data);
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::webhook_id.eq(hook.id),
                webhook_deliveries::event_id.eq(Some(id)),
                webhook_deliveries::event_type.eq(WebhookEventType::QueueThreshold.as_str()),
                webhook_deliveries::payload.eq(&payload),
                webhook_deliveries::next_attempt_at.eq(Some(now)),
            ))
            .execute(conn)?;
        created += 1;
    }
    diesel::sql_query(
        "DELETE FROM webhook_queue_alerts WHERE webhook_id = $1 AND NOT (domain_id = ANY($2))",
    )
    .bind::<BigInt, _>(hook.id)
    .bind::<Array<BigInt>, _>(&over)
    .execute(conn)?;
    Ok(created)
}

// ---------------------------------------------------------------------------------------
// Sending

/// A delivery claimed for sending, with where and how to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub delivery: WebhookDelivery,
    pub url: String,
    pub secret: String,
}

/// Leases up to `limit` due deliveries of enabled webhooks for `lease` (their
/// `next_attempt_at` moves to the lease's end and `attempts` counts this attempt), so that no
/// other node sends them meanwhile and a crashed sender's delivery is retried after the lease.
pub fn claim_due(
    conn: &mut PgConnection,
    limit: i64,
    lease: Duration,
) -> QueryResult<Vec<ClaimedDelivery>> {
    conn.transaction(|conn| {
        let claimed: Vec<WebhookDelivery> = diesel::sql_query(
            "UPDATE webhook_deliveries d \
             SET next_attempt_at = now() + make_interval(secs => $2), \
                 attempts = d.attempts + 1, last_attempt_at = now(), updated_at = now() \
             WHERE d.id IN ( \
                 SELECT x.id FROM webhook_deliveries x JOIN webhooks w ON w.id = x.webhook_id \
                 WHERE x.status = 'pending' AND x.next_attempt_at <= now() AND w.enabled \
                 ORDER BY x.next_attempt_at, x.id LIMIT $1 FOR UPDATE OF x SKIP LOCKED) \
             RETURNING d.*",
        )
        .bind::<BigInt, _>(limit)
        .bind::<Double, _>(lease.as_secs_f64())
        .load(conn)?;
        let ids: Vec<i64> = claimed.iter().map(|d| d.webhook_id).collect();
        let hooks: BTreeMap<i64, (String, String)> = webhooks::table
            .filter(webhooks::id.eq_any(&ids))
            .select((webhooks::id, webhooks::url, webhooks::secret))
            .load::<(i64, String, String)>(conn)?
            .into_iter()
            .map(|(id, url, secret)| (id, (url, secret)))
            .collect();
        Ok(claimed
            .into_iter()
            .filter_map(|delivery| {
                let (url, secret) = hooks.get(&delivery.webhook_id)?.clone();
                Some(ClaimedDelivery {
                    delivery,
                    url,
                    secret,
                })
            })
            .collect())
    })
}

/// What one attempt produced.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// The HTTP status, when a response came.
    pub status_code: Option<i32>,
    /// The start of the response body (already truncated).
    pub response: Option<String>,
    /// Why the attempt failed (connection, timeout, refused address, non-2xx status).
    pub error: Option<String>,
}

impl AttemptResult {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// Stores an attempt's result: `succeeded`; or `pending` again after `retry_in`; or `failed`
/// when `retry_in` is `None` (attempts exhausted).
pub fn record_attempt(
    conn: &mut PgConnection,
    id: i64,
    result: &AttemptResult,
    retry_in: Option<Duration>,
) -> QueryResult<WebhookDelivery> {
    let (status, next) = if result.succeeded() {
        ("succeeded", None)
    } else if let Some(delay) = retry_in {
        ("pending", Some(Utc::now() + lease_delta(delay)))
    } else {
        ("failed", None)
    };
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::next_attempt_at.eq(next),
            webhook_deliveries::last_status_code.eq(result.status_code),
            webhook_deliveries::last_response.eq(&result.response),
            webhook_deliveries::last_error.eq(&result.error),
            webhook_deliveries::updated_at.eq(diesel::dsl::now),
        ))
        .returning(WebhookDelivery::as_returning())
        .get_result(conn)
}

/// Cancels a delivery that must not be sent any more, saying why.
pub fn cancel(conn: &mut PgConnection, id: i64, reason: &str) -> QueryResult<WebhookDelivery> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq("cancelled"),
            webhook_deliveries::next_attempt_at.eq(None::<DateTime<Utc>>),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts - 1),
            webhook_deliveries::last_error.eq(reason),
            webhook_deliveries::updated_at.eq(diesel::dsl::now),
        ))
        .returning(WebhookDelivery::as_returning())
        .get_result(conn)
}

/// Removes up to `limit` finished deliveries (succeeded, failed, cancelled) last touched more
/// than `keep` ago, so the delivery log does not grow without bound. Returns how many went.
pub fn prune(conn: &mut PgConnection, keep: Duration, limit: i64) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM webhook_deliveries WHERE id IN ( \
             SELECT id FROM webhook_deliveries \
             WHERE status <> 'pending' AND updated_at < now() - make_interval(secs => $1) \
             LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind::<Double, _>(keep.as_secs_f64())
    .bind::<BigInt, _>(limit)
    .execute(conn)
}

/// Whether the target is still down without interruption since `since` (a `target.down`
/// is sent only when its target stayed down for the whole grace period).
pub fn still_down_since(
    conn: &mut PgConnection,
    host: &str,
    port: i32,
    since: DateTime<Utc>,
) -> QueryResult<bool> {
    use crate::schema::targets;
    let row: Option<(String, DateTime<Utc>)> = targets::table
        .find((host, port))
        .select((targets::state, targets::changed_at))
        .first(conn)
        .optional()?;
    Ok(row.is_some_and(|(state, changed)| state == "down" && changed <= since))
}

/// Domain ids from `ids` that the caller's visibility does not reach, for validation.
pub fn invisible_domains(
    conn: &mut PgConnection,
    visibility: &crate::domains::DomainVisibility,
    ids: &[i64],
) -> QueryResult<Vec<i64>> {
    let mut missing = Vec::new();
    for id in ids {
        match crate::domains::find_visible(conn, visibility, DomainId(*id)) {
            Ok(_) => {}
            Err(diesel::result::Error::NotFound) => missing.push(*id),
            Err(e) => return Err(e),
        }
    }
    Ok(missing)
}
