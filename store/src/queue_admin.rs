//! The queries behind the queue control API: listing the queue with filters, inspecting one
//! message, acting on recipients (retry, hold, release, delete) one message at a time or by
//! filter, flushing a domain, per-domain statistics, and target health.
//!
//! Every query is narrowed by the caller's [`DomainVisibility`]: a caller that sees every
//! domain also sees the DSN recipients (route `mx`, no domain); anyone else sees only the
//! recipients of its domains.
//!
//! The queue may hold ten million recipients, so no query here counts or sorts the whole
//! queue. A listing walks one index in key order and stops after a page ([`order_for`] says
//! which): `deliveries (recipient, id)` with a recipient filter, `messages (sender, id)` with a
//! sender filter, `messages (received_at, id)` with a time filter, and otherwise one
//! range of `deliveries (domain_id, state, id)` (or `(state, id)` for an operator) per visible
//! domain and state, merged by id. The other filters are checked on the rows the walk yields,
//! so a page's cost depends on how many rows the walk must pass before it has a page, not on
//! the queue's size; the walk chosen is the one likely to pass fewest (a rare combination of
//! filters can still make it pass many). Bulk actions walk the same indexes in batches of
//! [`BULK_BATCH`] recipients, one short statement (and lock) per batch.

use crate::domains::{DomainReach, DomainVisibility, RelayDomain};
use crate::ids::{DomainId, MessageId};
use crate::kinds::DeliveryState;
use crate::queue::{notify, PARKED_AT, QUEUE_CHANNEL};
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamptz};

/// Recipients changed per statement by bulk actions and flushes.
pub const BULK_BATCH: i64 = 10_000;

/// The states of mail still in the queue; the listing's and bulk actions' default.
pub const UNFINISHED: [DeliveryState; 4] = [
    DeliveryState::Queued,
    DeliveryState::Deferred,
    DeliveryState::Delivering,
    DeliveryState::Held,
];

/// At most this many bytes of a message are read to summarise its header.
pub const HEADER_READ_LIMIT: i32 = 64 * 1024;

/// At most this many delivery attempts are shown for one message (the newest).
pub const ATTEMPTS_SHOWN: i64 = 1000;

/// Filters of the queue listing and of bulk actions; `None` does not filter.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub domain_id: Option<DomainId>,
    /// `None`: every unfinished state ([`UNFINISHED`]).
    pub state: Option<DeliveryState>,
    /// Exact envelope sender; `""` is the null sender.
    pub sender: Option<String>,
    /// Exact envelope recipient.
    pub recipient: Option<String>,
    /// Received strictly before this time.
    pub received_before: Option<DateTime<Utc>>,
    /// Received at or after this time.
    pub received_after: Option<DateTime<Utc>>,
}

impl QueueFilter {
    fn states(&self) -> Vec<DeliveryState> {
        match self.state {
            Some(s) => vec![s],
            None => UNFINISHED.to_vec(),
        }
    }
}

/// The order a listing comes in, which follows the index it walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueOrder {
    /// By delivery (recipient) id.
    Delivery,
    /// By message id, then delivery id (sender filter).
    Message,
    /// By receipt time, message id, delivery id (`received_after`/`received_before` filters).
    Received,
}

/// Where a listing page ends; the next page starts after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueuePosition {
    Delivery(i64),
    Message {
        message_id: i64,
        delivery_id: i64,
    },
    Received {
        at: DateTime<Utc>,
        message_id: i64,
        delivery_id: i64,
    },
}

impl QueuePosition {
    pub fn order(&self) -> QueueOrder {
        match self {
            QueuePosition::Delivery(_) => QueueOrder::Delivery,
            QueuePosition::Message { .. } => QueueOrder::Message,
            QueuePosition::Received { .. } => QueueOrder::Received,
        }
    }
}

/// Which index a query over the queue walks first; the other filters are checked on the rows
/// it yields.
#[derive(Debug, Clone)]
enum Scan {
    /// The visible recipients of one message, in any state.
    Message(MessageId),
    /// `deliveries (recipient, id)`.
    Recipient,
    /// `messages (sender, id)`.
    Sender,
    /// `messages (received_at, id)`.
    Received,
    /// One range of `deliveries (domain_id, state, id)` per domain and state, or of
    /// `deliveries (state, id)` per state when `domains` is `None` (an unrestricted operator).
    Partitions {
        domains: Option<DomainSet>,
        states: Vec<DeliveryState>,
    },
}

#[derive(Debug, Clone, Copy)]
enum DomainSet {
    /// Every visible domain, or only this one if it is visible.
    Visible(Option<DomainId>),
}

fn sees_everything(vis: &DomainVisibility) -> bool {
    matches!(vis.reach, DomainReach::All) && vis.only.is_none()
}

fn scan_for(filter: &QueueFilter, vis: &DomainVisibility) -> Scan {
    if filter.recipient.is_some() {
        Scan::Recipient
    } else if filter.sender.is_some() {
        Scan::Sender
    } else if filter.received_after.is_some() || filter.received_before.is_some() {
        // Walking recipient ids instead would pass all the mail outside the time range, and
        // with no match at all, the whole queue.
        Scan::Received
    } else if filter.domain_id.is_some() || !sees_everything(vis) {
        Scan::Partitions {
            domains: Some(DomainSet::Visible(filter.domain_id)),
            states: filter.states(),
        }
    } else {
        Scan::Partitions {
            domains: None,
            states: filter.states(),
        }
    }
}

fn scan_order(scan: &Scan) -> QueueOrder {
    match scan {
        Scan::Sender => QueueOrder::Message,
        Scan::Received => QueueOrder::Received,
        Scan::Message(_) | Scan::Recipient | Scan::Partitions { .. } => QueueOrder::Delivery,
    }
}

/// The order [`list`] returns for these filters and this caller; a cursor from a listing in
/// another order cannot continue it.
pub fn order_for(filter: &QueueFilter, vis: &DomainVisibility) -> QueueOrder {
    scan_order(&scan_for(filter, vis))
}

// ---- SQL text with numbered binds ----

enum Bind {
    Int(i64),
    Ints(Vec<i64>),
    Text(String),
    Texts(Vec<String>),
    Time(DateTime<Utc>),
}

/// SQL text and its bind values, `$1`, `$2`… in order. The queue queries choose their index
/// by the filters given, which diesel's typed DSL cannot express (LATERAL, row comparisons).
#[derive(Default)]
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Adds a bind value and returns its placeholder.
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn query(self) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        let mut query = diesel::sql_query(self.text).into_boxed::<Pg>();
        for b in self.binds {
            query = match b {
                Bind::Int(v) => query.bind::<BigInt, _>(v),
                Bind::Ints(v) => query.bind::<Array<BigInt>, _>(v),
                Bind::Text(v) => query.bind::<Text, _>(v),
                Bind::Texts(v) => query.bind::<Array<Text>, _>(v),
                Bind::Time(v) => query.bind::<Timestamptz, _>(v),
            };
        }
        query
    }
}

fn state_words(states: &[DeliveryState]) -> Vec<String> {
    states.iter().map(|s| s.as_str().to_owned()).collect()
}

/// Condition on `rd` (a `relay_domains` row) that the caller may see it.
fn visible_domain_condition(sql: &mut Sql, vis: &DomainVisibility) -> String {
    let mut parts = Vec::new();
    match vis.reach {
        DomainReach::All => {}
        DomainReach::OwnedBy(owner) => {
            let p = sql.bind(Bind::Int(owner.0));
            parts.push(format!("rd.owner_id = {p}"));
        }
        DomainReach::AdministeredBy(account) => {
            let p = sql.bind(Bind::Int(account.0));
            parts.push(format!(
                "rd.id IN (SELECT da.domain_id FROM domain_admins da WHERE da.account_id = {p})"
            ));
        }
    }
    if let Some(only) = &vis.only {
        let p = sql.bind(Bind::Ints(only.iter().map(|d| d.0).collect()));
        parts.push(format!("rd.id = ANY({p})"));
    }
    if parts.is_empty() {
        "TRUE".to_owned()
    } else {
        parts.join(" AND ")
    }
}

/// Condition on `d` (a `deliveries` row) that the caller may see it; `None` for a caller that
/// sees everything, DSN recipients without a domain included.
fn visible_delivery_condition(sql: &mut Sql, vis: &DomainVisibility) -> Option<String> {
    if sees_everything(vis) {
        return None;
    }
    let cond = visible_domain_condition(sql, vis);
    Some(format!(
        "d.domain_id IN (SELECT rd.id FROM relay_domains rd WHERE {cond})"
    ))
}

/// Conditions on `d` from the filters and visibility the scan does not already apply.
fn delivery_conditions(
    sql: &mut Sql,
    scan: &Scan,
    filter: &QueueFilter,
    vis: &DomainVisibility,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Scan::Message(id) = scan {
        let p = sql.bind(Bind::Int(id.0));
        out.push(format!("d.message_id = {p}"));
        out.extend(visible_delivery_condition(sql, vis));
        return out;
    }
    if !matches!(scan, Scan::Partitions { .. }) {
        let p = sql.bind(Bind::Texts(state_words(&filter.states())));
        out.push(format!("d.state = ANY({p})"));
        out.extend(visible_delivery_condition(sql, vis));
        if let Some(domain) = filter.domain_id {
            let p = sql.bind(Bind::Int(domain.0));
            out.push(format!("d.domain_id = {p}"));
        }
    }
    if let Some(r) = &filter.recipient {
        let p = sql.bind(Bind::Text(r.clone()));
        out.push(format!("d.recipient = {p}"));
    }
    out
}

/// Conditions on `m` (the message) from the filters.
fn message_conditions(sql: &mut Sql, filter: &QueueFilter) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = &filter.sender {
        let p = sql.bind(Bind::Text(s.clone()));
        out.push(format!("m.sender = {p}"));
    }
    if let Some(at) = filter.received_after {
        let p = sql.bind(Bind::Time(at));
        out.push(format!("m.received_at >= {p}"));
    }
    if let Some(at) = filter.received_before {
        let p = sql.bind(Bind::Time(at));
        out.push(format!("m.received_at < {p}"));
    }
    out
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// Messages a listing page may walk through `messages (sender, id)` or
/// `messages (received_at, id)` before it answers with what it found (a short page whose
/// cursor continues the walk): the other filters may pass over many messages, such as a
/// sender's delivered history or other tenants' mail, and a page must stay fast.
pub const WALK_BUDGET: i64 = 5_000;

/// The conditions on `m` and the `ORDER BY` of a walk over messages, from `after` on.
fn message_walk(
    sql: &mut Sql,
    order: QueueOrder,
    filter: &QueueFilter,
    after: Option<&QueuePosition>,
) -> (Vec<String>, &'static str) {
    let mut conds = message_conditions(sql, filter);
    match after {
        Some(QueuePosition::Message { message_id, .. }) => {
            let m = sql.bind(Bind::Int(*message_id));
            conds.push(format!("m.id >= {m}"));
        }
        Some(QueuePosition::Received { at, message_id, .. }) => {
            let a = sql.bind(Bind::Time(*at));
            let m = sql.bind(Bind::Int(*message_id));
            conds.push(format!("(m.received_at, m.id) >= ({a}, {m})"));
        }
        _ => {}
    }
    let keys = match order {
        QueueOrder::Received => "m.received_at, m.id",
        _ => "m.id",
    };
    (conds, keys)
}

/// Appends a SELECT of the recipients `scan` yields after `after`, in the scan's order, at most
/// `limit` of them, as columns `id, sk_msg, sk_at` (the delivery id, and the message id and
/// receipt time the order is keyed on, where it is). Only ids: where the scan walks
/// `deliveries`, its index alone answers, and the planner is not tempted to walk the primary
/// key instead (which it would, misjudging how finished mail clusters at low ids). With
/// `budget`, a walk over messages stops after that many.
fn push_page(
    sql: &mut Sql,
    scan: &Scan,
    filter: &QueueFilter,
    vis: &DomainVisibility,
    after: Option<&QueuePosition>,
    limit: Option<i64>,
    budget: Option<i64>,
) {
    let limit_clause = |sql: &mut Sql| match limit {
        Some(n) => format!(" LIMIT {}", sql.bind(Bind::Int(n))),
        None => String::new(),
    };
    match scan {
        Scan::Message(_) | Scan::Recipient => {
            let mut conds = delivery_conditions(sql, scan, filter, vis);
            let message_conds = message_conditions(sql, filter);
            let join = if message_conds.is_empty() {
                ""
            } else {
                " JOIN messages m ON m.id = d.message_id"
            };
            conds.extend(message_conds);
            if let Some(QueuePosition::Delivery(id)) = after {
                let p = sql.bind(Bind::Int(*id));
                conds.push(format!("d.id > {p}"));
            }
            let limit = limit_clause(sql);
            sql.push(&format!(
                "SELECT d.id, NULL::bigint AS sk_msg, NULL::timestamptz AS sk_at \
                 FROM deliveries d{join}{} ORDER BY d.id{limit}",
                where_clause(&conds)
            ));
        }
        Scan::Sender | Scan::Received => {
            let order = scan_order(scan);
            let (walk_conds, walk_keys) = message_walk(sql, order, filter, after);
            let walk_limit = match budget {
                Some(b) => format!(" LIMIT {}", sql.bind(Bind::Int(b))),
                None => String::new(),
            };
            let mut conds = delivery_conditions(sql, scan, filter, vis);
            match after {
                Some(QueuePosition::Message {
                    message_id,
                    delivery_id,
                })
                | Some(QueuePosition::Received {
                    message_id,
                    delivery_id,
                    ..
                }) => {
                    let m = sql.bind(Bind::Int(*message_id));
                    let d = sql.bind(Bind::Int(*delivery_id));
                    conds.push(format!("(m.id <> {m} OR d.id > {d})"));
                    if order == QueueOrder::Message {
                        // Lets the planner start the deliveries range at the cursor too.
                        conds.push(format!("d.message_id >= {m}"));
                    }
                }
                _ => {}
            }
            let limit = limit_clause(sql);
            sql.push(&format!(
                "SELECT d.id, m.id AS sk_msg, m.received_at AS sk_at \
                 FROM (SELECT m.id, m.received_at FROM messages m{} \
                       ORDER BY {walk_keys}{walk_limit}) m \
                 JOIN deliveries d ON d.message_id = m.id{} \
                 ORDER BY {walk_keys}, d.id{limit}",
                where_clause(&walk_conds),
                where_clause(&conds)
            ));
        }
        Scan::Partitions { domains, states } => {
            let states_p = sql.bind(Bind::Texts(state_words(states)));
            let mut from = String::new();
            let mut conds = Vec::new();
            if let Some(DomainSet::Visible(only)) = domains {
                let cond = visible_domain_condition(sql, vis);
                let one = match only {
                    Some(id) => format!(" AND rd.id = {}", sql.bind(Bind::Int(id.0))),
                    None => String::new(),
                };
                from.push_str(&format!(
                    "(SELECT rd.id AS domain_id FROM relay_domains rd WHERE {cond}{one}) v \
                     CROSS JOIN "
                ));
                conds.push("d.domain_id = v.domain_id".to_owned());
            }
            from.push_str(&format!("unnest({states_p}::text[]) AS s(state)"));
            conds.push("d.state = s.state".to_owned());
            conds.extend(delivery_conditions(sql, scan, filter, vis));
            let message_conds = message_conditions(sql, filter);
            let join = if message_conds.is_empty() {
                ""
            } else {
                " JOIN messages m ON m.id = d.message_id"
            };
            conds.extend(message_conds);
            if let Some(QueuePosition::Delivery(id)) = after {
                let p = sql.bind(Bind::Int(*id));
                conds.push(format!("d.id > {p}"));
            }
            let limit = limit_clause(sql);
            sql.push(&format!(
                "SELECT p.id, NULL::bigint AS sk_msg, NULL::timestamptz AS sk_at \
                 FROM {from} CROSS JOIN LATERAL ( \
                     SELECT d.id FROM deliveries d{join}{} ORDER BY d.id{limit}) p \
                 ORDER BY p.id{limit}",
                where_clause(&conds)
            ));
        }
    }
}

/// Where a walk over messages that used up its `budget` stopped: the position after the last
/// message it reached, or `None` when the walk found its end first.
fn walk_end(
    conn: &mut PgConnection,
    scan: &Scan,
    filter: &QueueFilter,
    after: Option<&QueuePosition>,
    budget: i64,
) -> QueryResult<Option<QueuePosition>> {
    #[derive(QueryableByName)]
    struct Last {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Timestamptz)]
        received_at: DateTime<Utc>,
    }
    let order = scan_order(scan);
    if order == QueueOrder::Delivery {
        return Ok(None);
    }
    let mut sql = Sql::default();
    let (conds, keys) = message_walk(&mut sql, order, filter, after);
    let offset = sql.bind(Bind::Int(budget - 1));
    sql.push(&format!(
        "SELECT m.id, m.received_at FROM messages m{} ORDER BY {keys} OFFSET {offset} LIMIT 1",
        where_clause(&conds)
    ));
    let last: Option<Last> = sql.query().get_result(conn).optional()?;
    Ok(last.map(|l| match order {
        QueueOrder::Received => QueuePosition::Received {
            at: l.received_at,
            message_id: l.id,
            delivery_id: i64::MAX,
        },
        _ => QueuePosition::Message {
            message_id: l.id,
            delivery_id: i64::MAX,
        },
    }))
}

/// `ORDER BY` keys of a page's rows (`alias.id`, `alias.sk_msg`, `alias.sk_at`).
fn order_keys(order: QueueOrder, alias: &str, descending: bool) -> String {
    let dir = if descending { " DESC" } else { "" };
    match order {
        QueueOrder::Delivery => format!("{alias}.id{dir}"),
        QueueOrder::Message => format!("{alias}.sk_msg{dir}, {alias}.id{dir}"),
        QueueOrder::Received => {
            format!("{alias}.sk_at{dir}, {alias}.sk_msg{dir}, {alias}.id{dir}")
        }
    }
}

// ---- listing ----

/// The `next_attempt_at` shown for a recipient `d` of domain `rd`: for parked mail (its target
/// is down; see [`crate::targets`]) the stored value is a sentinel in year 9999, so the
/// target's next probe is shown instead — the earliest the mail can go — or now if no probe
/// is scheduled. Display only: filters and actions use the stored value.
fn shown_next_attempt() -> String {
    format!(
        "CASE WHEN d.next_attempt_at >= {PARKED_AT} \
         THEN COALESCE((SELECT t.next_probe_at FROM targets t \
                        WHERE t.host = rd.target_host AND t.port = rd.target_port), now()) \
         ELSE d.next_attempt_at END"
    )
}

/// One recipient in the queue listing, with its message's envelope.
#[derive(Debug, Clone, QueryableByName)]
pub struct QueueEntry {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub message_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub domain_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub domain: Option<String>,
    #[diesel(sql_type = Text)]
    pub recipient: String,
    #[diesel(sql_type = Text)]
    pub state: DeliveryState,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub next_attempt_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub last_code: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_reply: Option<String>,
    #[diesel(sql_type = Text)]
    pub sender: String,
    #[diesel(sql_type = BigInt)]
    pub size: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub subject: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub received_at: DateTime<Utc>,
}

impl QueueEntry {
    /// The position just after this entry in a listing in `order`.
    pub fn position(&self, order: QueueOrder) -> QueuePosition {
        match order {
            QueueOrder::Delivery => QueuePosition::Delivery(self.id),
            QueueOrder::Message => QueuePosition::Message {
                message_id: self.message_id,
                delivery_id: self.id,
            },
            QueueOrder::Received => QueuePosition::Received {
                at: self.received_at,
                message_id: self.message_id,
                delivery_id: self.id,
            },
        }
    }
}

/// One page of the queue listing.
#[derive(Debug, Clone)]
pub struct QueuePage {
    /// Up to the `limit` asked for, in [`order_for`]'s order.
    pub entries: Vec<QueueEntry>,
    /// Where to go on when the page is short only because its walk over messages used up
    /// [`WALK_BUDGET`]: more matching mail may follow.
    pub resume: Option<QueuePosition>,
}

/// Up to `limit` visible recipients matching `filter` after `after`, in [`order_for`]'s
/// order. `after` must come from a listing in that order (the caller checks). A page may be
/// short and yet not the last: see [`QueuePage::resume`].
pub fn list(
    conn: &mut PgConnection,
    vis: &DomainVisibility,
    filter: &QueueFilter,
    after: Option<&QueuePosition>,
    limit: i64,
) -> QueryResult<QueuePage> {
    let scan = scan_for(filter, vis);
    let order = scan_order(&scan);
    let mut sql = Sql::default();
    sql.push("WITH page AS MATERIALIZED (");
    push_page(
        &mut sql,
        &scan,
        filter,
        vis,
        after,
        Some(limit),
        Some(WALK_BUDGET),
    );
    sql.push(&format!(
        ") SELECT d.id, d.message_id, d.domain_id, rd.name AS domain, d.recipient, d.state, \
                  d.attempts, {} AS next_attempt_at, d.expires_at, d.last_code, d.last_reply, \
                  m.sender, m.size, m.subject, m.received_at \
           FROM page JOIN deliveries d ON d.id = page.id \
           JOIN messages m ON m.id = d.message_id \
           LEFT JOIN relay_domains rd ON rd.id = d.domain_id \
           ORDER BY {}",
        shown_next_attempt(),
        order_keys(order, "page", false)
    ));
    let entries: Vec<QueueEntry> = sql.query().load(conn)?;
    let short = i64::try_from(entries.len()).unwrap_or(i64::MAX) < limit;
    let resume = if short {
        walk_end(conn, &scan, filter, after, WALK_BUDGET)?
    } else {
        None
    };
    Ok(QueuePage { entries, resume })
}

// ---- inspecting one message ----

/// A queued message's envelope, with the start of its content for a header summary.
#[derive(Debug, Clone, QueryableByName)]
pub struct MessageHead {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub sender: String,
    #[diesel(sql_type = Text)]
    pub client_ip: String,
    #[diesel(sql_type = Text)]
    pub helo: String,
    #[diesel(sql_type = Bool)]
    pub tls: bool,
    #[diesel(sql_type = BigInt)]
    pub size: i64,
    #[diesel(sql_type = Timestamptz)]
    pub received_at: DateTime<Utc>,
    /// The first [`HEADER_READ_LIMIT`] bytes of the message (never the whole body).
    #[diesel(sql_type = diesel::sql_types::Binary)]
    pub head: Vec<u8>,
}

/// One recipient of an inspected message.
#[derive(Debug, Clone, QueryableByName)]
pub struct RecipientRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub domain_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub domain: Option<String>,
    #[diesel(sql_type = Text)]
    pub recipient: String,
    #[diesel(sql_type = Text)]
    pub state: DeliveryState,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub next_attempt_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub last_code: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_reply: Option<String>,
}

/// One recorded delivery attempt.
#[derive(Debug, Clone, QueryableByName)]
pub struct AttemptRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub delivery_id: i64,
    #[diesel(sql_type = Text)]
    pub recipient: String,
    #[diesel(sql_type = Timestamptz)]
    pub started_at: DateTime<Utc>,
    #[diesel(sql_type = Integer)]
    pub duration_ms: i32,
    #[diesel(sql_type = Text)]
    pub target_host: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub target_ip: Option<String>,
    #[diesel(sql_type = Bool)]
    pub tls: bool,
    #[diesel(sql_type = Nullable<Integer>)]
    pub code: Option<i32>,
    #[diesel(sql_type = Text)]
    pub reply: String,
    #[diesel(sql_type = Text)]
    pub outcome: String,
}

/// A message as one caller sees it: only its visible recipients and their attempts.
#[derive(Debug, Clone)]
pub struct MessageView {
    pub message: MessageHead,
    pub recipients: Vec<RecipientRow>,
    /// Newest first, at most [`ATTEMPTS_SHOWN`].
    pub attempts: Vec<AttemptRow>,
}

/// The message if the caller sees at least one of its recipients; `None` otherwise (so
/// another tenant's message is indistinguishable from a missing one).
pub fn inspect(
    conn: &mut PgConnection,
    vis: &DomainVisibility,
    id: MessageId,
) -> QueryResult<Option<MessageView>> {
    conn.transaction(|conn| {
        let mut sql = Sql::default();
        let conds = delivery_conditions(&mut sql, &Scan::Message(id), &QueueFilter::default(), vis);
        sql.push(&format!(
            "SELECT d.id, d.domain_id, rd.name AS domain, d.recipient, d.state, d.attempts, \
                    {} AS next_attempt_at, d.expires_at, d.last_code, \
                    d.last_reply \
             FROM deliveries d LEFT JOIN relay_domains rd ON rd.id = d.domain_id{} \
             ORDER BY d.id",
            shown_next_attempt(),
            where_clause(&conds)
        ));
        let recipients: Vec<RecipientRow> = sql.query().load(conn)?;
        if recipients.is_empty() {
            return Ok(None);
        }
        let message: Option<MessageHead> = diesel::sql_query(
            "SELECT id, sender, client_ip, helo, tls, size, received_at, \
                    substring(body FROM 1 FOR $2) AS head \
             FROM messages WHERE id = $1",
        )
        .bind::<BigInt, _>(id.0)
        .bind::<Integer, _>(HEADER_READ_LIMIT)
        .get_result(conn)
        .optional()?;
        let Some(message) = message else {
            return Ok(None);
        };
        let ids: Vec<i64> = recipients.iter().map(|r| r.id).collect();
        let attempts = diesel::sql_query(
            "SELECT a.id, a.delivery_id, d.recipient, a.started_at, a.duration_ms, a.target_host, \
                    a.target_ip, a.tls, a.code, a.reply, a.outcome \
             FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id \
             WHERE a.delivery_id = ANY($1) \
             ORDER BY a.started_at DESC, a.id DESC LIMIT $2",
        )
        .bind::<Array<BigInt>, _>(ids)
        .bind::<BigInt, _>(ATTEMPTS_SHOWN)
        .load(conn)?;
        Ok(Some(MessageView {
            message,
            recipients,
            attempts,
        }))
    })
}

// ---- actions ----

/// What a queue command does to the recipients it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueAction {
    /// Queued or deferred recipients waiting for a later attempt become due now.
    Retry,
    /// Queued or deferred recipients are held: no delivery, no expiry, until released.
    Hold,
    /// Held recipients are queued again, due now.
    Release,
    /// Recipients are removed (not those being delivered right now); a message with no
    /// recipients left goes with them. No DSN is sent.
    Delete,
}

impl QueueAction {
    /// The state the action puts recipients in, when it changes their state.
    fn moves_into(self) -> Option<DeliveryState> {
        match self {
            QueueAction::Hold => Some(DeliveryState::Held),
            QueueAction::Release => Some(DeliveryState::Queued),
            QueueAction::Retry | QueueAction::Delete => None,
        }
    }

    /// Condition on a page row `b` that the action changes it.
    fn applies(self) -> &'static str {
        match self {
            QueueAction::Retry => "b.state IN ('queued', 'deferred') AND b.next_attempt_at > now()",
            QueueAction::Hold => "b.state IN ('queued', 'deferred')",
            QueueAction::Release => "b.state = 'held'",
            QueueAction::Delete => "b.state <> 'delivering'",
        }
    }

    /// The data-modifying CTEs; `u` returns one row per changed recipient.
    fn change(self) -> &'static str {
        // The state is checked again on the row itself: a worker may have claimed it since.
        match self {
            QueueAction::Retry => {
                "u AS (UPDATE deliveries d SET next_attempt_at = now(), updated_at = now() \
                       FROM b WHERE d.id = b.id AND d.state IN ('queued', 'deferred') \
                         AND d.next_attempt_at > now() RETURNING d.id)"
            }
            QueueAction::Hold => {
                "u AS (UPDATE deliveries d SET state = 'held', updated_at = now() \
                       FROM b WHERE d.id = b.id AND d.state IN ('queued', 'deferred') \
                       RETURNING d.id)"
            }
            QueueAction::Release => {
                "u AS (UPDATE deliveries d SET state = 'queued', next_attempt_at = now(), \
                              updated_at = now() \
                       FROM b WHERE d.id = b.id AND d.state = 'held' RETURNING d.id)"
            }
            QueueAction::Delete => {
                "u AS (DELETE FROM deliveries d USING b \
                       WHERE d.id = b.id AND d.state <> 'delivering' \
                       RETURNING d.id, d.message_id), \
                 gone AS (DELETE FROM messages m \
                          WHERE m.id IN (SELECT message_id FROM u) \
                            AND NOT EXISTS (SELECT 1 FROM deliveries x \
                                            WHERE x.message_id = m.id \
                                              AND x.id NOT IN (SELECT id FROM u)) \
                          RETURNING 1)"
            }
        }
    }

    /// Whether the action makes mail due (then the relays are woken and down targets probed).
    fn makes_due(self) -> bool {
        matches!(self, QueueAction::Retry | QueueAction::Release)
    }
}

/// What a queue command selected and changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionOutcome {
    /// Visible recipients the command selected.
    pub matched: i64,
    /// Of those, the ones it changed (or, in a dry run, would change).
    pub affected: i64,
    /// Of those matched, the ones being delivered at that moment, which no command touches.
    pub in_delivery: i64,
}

impl ActionOutcome {
    fn add(&mut self, other: ActionOutcome) {
        self.matched += other.matched;
        self.affected += other.affected;
        self.in_delivery += other.in_delivery;
    }
}

#[derive(QueryableByName)]
struct BatchRow {
    #[diesel(sql_type = BigInt)]
    matched: i64,
    #[diesel(sql_type = BigInt)]
    affected: i64,
    #[diesel(sql_type = BigInt)]
    in_delivery: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    last_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    last_msg: Option<i64>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_at: Option<DateTime<Utc>>,
}

/// The recipients a command is about: what `scan` yields that `filter` and `vis` let through.
#[derive(Clone, Copy)]
struct Selection<'a> {
    scan: &'a Scan,
    filter: &'a QueueFilter,
    vis: &'a DomainVisibility,
}

/// Runs `action` on one page of a selection as one statement: the page is selected, changed and
/// counted together, so each batch holds its row locks only for itself.
fn run_batch(
    conn: &mut PgConnection,
    selection: Selection<'_>,
    after: Option<&QueuePosition>,
    limit: Option<i64>,
    action: QueueAction,
    dry_run: bool,
) -> QueryResult<(ActionOutcome, Option<QueuePosition>)> {
    let Selection { scan, filter, vis } = selection;
    let order = scan_order(scan);
    let mut sql = Sql::default();
    sql.push("WITH page AS MATERIALIZED (");
    push_page(&mut sql, scan, filter, vis, after, limit, None);
    sql.push(
        "), b AS MATERIALIZED ( \
             SELECT page.id, page.sk_msg, page.sk_at, d.domain_id, d.state, d.next_attempt_at \
             FROM page JOIN deliveries d ON d.id = page.id)",
    );
    let affected = if dry_run {
        format!("(SELECT count(*) FROM b WHERE {})", action.applies())
    } else {
        sql.push(", ");
        sql.push(action.change());
        if action.makes_due() {
            // Mail of a target known to be down waits for the prober: ask for a probe now.
            sql.push(
                ", probe AS (UPDATE targets t SET next_probe_at = now() FROM relay_domains rd \
                   WHERE rd.id IN (SELECT DISTINCT b.domain_id FROM b \
                                   WHERE b.state IN ('queued', 'deferred', 'held')) \
                     AND t.host = rd.target_host AND t.port = rd.target_port \
                     AND t.state = 'down' \
                     AND (t.next_probe_at IS NULL OR t.next_probe_at > now()) \
                   RETURNING 1)",
            );
        }
        "(SELECT count(*) FROM u)".to_owned()
    };
    sql.push(&format!(
        " SELECT (SELECT count(*) FROM b) AS matched, {affected} AS affected, \
                 (SELECT count(*) FROM b WHERE b.state = 'delivering') AS in_delivery, \
                 l.id AS last_id, l.sk_msg AS last_msg, l.sk_at AS last_at \
          FROM (SELECT 1) AS one LEFT JOIN LATERAL ( \
              SELECT b.id, b.sk_msg, b.sk_at FROM b ORDER BY {} LIMIT 1) l ON true",
        order_keys(order, "b", true)
    ));
    let row: BatchRow = sql.query().get_result(conn)?;
    let last = match (order, row.last_id, row.last_msg, row.last_at) {
        (QueueOrder::Delivery, Some(id), _, _) => Some(QueuePosition::Delivery(id)),
        (QueueOrder::Message, Some(id), Some(message_id), _) => Some(QueuePosition::Message {
            message_id,
            delivery_id: id,
        }),
        (QueueOrder::Received, Some(id), Some(message_id), Some(at)) => {
            Some(QueuePosition::Received {
                at,
                message_id,
                delivery_id: id,
            })
        }
        _ => None,
    };
    let outcome = ActionOutcome {
        matched: row.matched,
        affected: row.affected,
        in_delivery: row.in_delivery,
    };
    if !dry_run && action.makes_due() && outcome.affected > 0 {
        notify(conn, QUEUE_CHANNEL)?;
    }
    Ok((outcome, last))
}

/// Runs `action` over everything `scan` yields, [`BULK_BATCH`] recipients per statement.
fn run_batches(
    conn: &mut PgConnection,
    scan: &Scan,
    filter: &QueueFilter,
    vis: &DomainVisibility,
    action: QueueAction,
    dry_run: bool,
) -> QueryResult<ActionOutcome> {
    let mut total = ActionOutcome::default();
    let mut after = None;
    loop {
        let (outcome, last) = run_batch(
            conn,
            Selection { scan, filter, vis },
            after.as_ref(),
            Some(BULK_BATCH),
            action,
            dry_run,
        )?;
        total.add(outcome);
        if outcome.matched < BULK_BATCH || last.is_none() {
            return Ok(total);
        }
        after = last;
    }
}

/// Runs `action` on the caller's recipients of one message (in any state), in one statement.
/// `None` when the caller sees none of them.
pub fn act_on_message(
    conn: &mut PgConnection,
    vis: &DomainVisibility,
    id: MessageId,
    action: QueueAction,
) -> QueryResult<Option<ActionOutcome>> {
    let (outcome, _) = run_batch(
        conn,
        Selection {
            scan: &Scan::Message(id),
            filter: &QueueFilter::default(),
            vis,
        },
        None,
        None,
        action,
        false,
    )?;
    Ok((outcome.matched > 0).then_some(outcome))
}

/// The separate index ranges a bulk action over the caller's domains walks: only the
/// (domain, state) pairs that hold any recipient, found with one probe each.
fn partitions(
    conn: &mut PgConnection,
    vis: &DomainVisibility,
    only: Option<DomainId>,
    states: &[DeliveryState],
) -> QueryResult<Vec<(DomainId, DeliveryState)>> {
    #[derive(QueryableByName)]
    struct Pair {
        #[diesel(sql_type = BigInt)]
        domain_id: i64,
        #[diesel(sql_type = Text)]
        state: DeliveryState,
    }
    let mut sql = Sql::default();
    let states_p = sql.bind(Bind::Texts(state_words(states)));
    let cond = visible_domain_condition(&mut sql, vis);
    let one = match only {
        Some(id) => format!(" AND rd.id = {}", sql.bind(Bind::Int(id.0))),
        None => String::new(),
    };
    sql.push(&format!(
        "SELECT rd.id AS domain_id, s.state \
         FROM relay_domains rd \
              CROSS JOIN unnest({states_p}::text[]) WITH ORDINALITY AS s(state, ord) \
         WHERE {cond}{one} \
           AND EXISTS (SELECT 1 FROM deliveries d \
                       WHERE d.domain_id = rd.id AND d.state = s.state) \
         ORDER BY rd.id, s.ord"
    ));
    let pairs: Vec<Pair> = sql.query().load(conn)?;
    Ok(pairs
        .into_iter()
        .map(|p| (DomainId(p.domain_id), p.state))
        .collect())
}

/// Runs `action` on every visible recipient matching `filter` (an empty filter: all of the
/// caller's unfinished mail), in batches of [`BULK_BATCH`]; each batch commits on its own, so
/// a million recipients never sit under one lock. A dry run changes nothing and reports what
/// would change.
pub fn act_on_filter(
    conn: &mut PgConnection,
    vis: &DomainVisibility,
    filter: &QueueFilter,
    action: QueueAction,
    dry_run: bool,
) -> QueryResult<ActionOutcome> {
    act_on_states(conn, vis, filter, &filter.states(), action, dry_run)
}

fn act_on_states(
    conn: &mut PgConnection,
    vis: &DomainVisibility,
    filter: &QueueFilter,
    states: &[DeliveryState],
    action: QueueAction,
    dry_run: bool,
) -> QueryResult<ActionOutcome> {
    // The state the action moves recipients into is walked first, so recipients it moves
    // there are not met and counted again in a later pass.
    let mut states = states.to_vec();
    if let Some(into) = action.moves_into() {
        states.sort_by_key(|s| *s != into);
    }
    let states = states.as_slice();
    let mut scan = scan_for(filter, vis);
    if let Scan::Partitions { states: s, .. } = &mut scan {
        *s = states.to_vec();
    }
    let mut total = ActionOutcome::default();
    match &scan {
        Scan::Partitions {
            domains: Some(DomainSet::Visible(only)),
            states,
        } => {
            for (domain, state) in partitions(conn, vis, *only, states)? {
                let one = Scan::Partitions {
                    domains: Some(DomainSet::Visible(Some(domain))),
                    states: vec![state],
                };
                total.add(run_batches(conn, &one, filter, vis, action, dry_run)?);
            }
        }
        Scan::Partitions {
            domains: None,
            states,
        } => {
            for state in states {
                let one = Scan::Partitions {
                    domains: None,
                    states: vec![*state],
                };
                total.add(run_batches(conn, &one, filter, vis, action, dry_run)?);
            }
        }
        other => total.add(run_batches(conn, other, filter, vis, action, dry_run)?),
    }
    Ok(total)
}

/// Makes all of a domain's queued and deferred mail due now, in batches, wakes the relays and,
/// when the domain's target host is known to be down, has it probed now rather than at its
/// next interval. Returns what was selected and made due, and whether a probe was scheduled.
pub fn flush_domain(
    conn: &mut PgConnection,
    domain: &RelayDomain,
) -> QueryResult<(ActionOutcome, bool)> {
    let everything = DomainVisibility {
        reach: DomainReach::All,
        only: None,
    };
    let filter = QueueFilter {
        domain_id: Some(domain.id),
        ..QueueFilter::default()
    };
    let outcome = act_on_states(
        conn,
        &everything,
        &filter,
        &[DeliveryState::Queued, DeliveryState::Deferred],
        QueueAction::Retry,
        false,
    )?;
    // Only a target known to be down has probes; an up one takes the mail directly.
    let probed = diesel::sql_query(
        "UPDATE targets SET next_probe_at = now() \
         WHERE host = $1 AND port = $2 AND state = 'down'",
    )
    .bind::<Text, _>(&domain.target_host)
    .bind::<Integer, _>(domain.target_port)
    .execute(conn)?
        > 0;
    if probed {
        // The relays' probers look at once rather than at their next tick.
        crate::targets::notify_probe(conn)?;
    } else {
        notify(conn, QUEUE_CHANNEL)?;
    }
    Ok((outcome, probed))
}

// ---- statistics ----

/// A domain's queue in numbers.
#[derive(Debug, Clone, QueryableByName)]
pub struct DomainStats {
    #[diesel(sql_type = BigInt)]
    pub queued: i64,
    #[diesel(sql_type = BigInt)]
    pub deferred: i64,
    #[diesel(sql_type = BigInt)]
    pub held: i64,
    #[diesel(sql_type = BigInt)]
    pub delivering: i64,
    /// When the oldest unfinished recipient's message was received.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub oldest_queued_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    pub delivered_24h: i64,
    #[diesel(sql_type = BigInt)]
    pub bounced_24h: i64,
    #[diesel(sql_type = BigInt)]
    pub expired_24h: i64,
    #[diesel(sql_type = Timestamptz)]
    pub now: DateTime<Utc>,
}

/// Statistics of one domain's queue.
///
/// How it scales: each state count is an index-only range count on
/// `deliveries (domain_id, state, id)`, so it costs in proportion to that domain's recipients
/// in that state (a few milliseconds per hundred thousand) and never touches other domains'
/// mail. The oldest recipient is the first entry of each unfinished state's range (ids grow
/// with arrival, so this is the oldest up to commit races of milliseconds). Delivered and
/// bounced counts are a range of `delivery_attempts (domain_id, started_at)` over the last
/// 24 hours; expired counts read the domain's expired recipients kept in the queue.
pub fn domain_stats(conn: &mut PgConnection, domain: DomainId) -> QueryResult<DomainStats> {
    diesel::sql_query(
        "SELECT \
           (SELECT count(*) FROM deliveries WHERE domain_id = $1 AND state = 'queued') AS queued, \
           (SELECT count(*) FROM deliveries WHERE domain_id = $1 AND state = 'deferred') AS deferred, \
           (SELECT count(*) FROM deliveries WHERE domain_id = $1 AND state = 'held') AS held, \
           (SELECT count(*) FROM deliveries WHERE domain_id = $1 AND state = 'delivering') \
              AS delivering, \
           (SELECT m.received_at FROM deliveries d JOIN messages m ON m.id = d.message_id \
            WHERE d.id = (SELECT min(f.id) \
                          FROM unnest(ARRAY['queued', 'deferred', 'held', 'delivering']) AS s(state) \
                          CROSS JOIN LATERAL ( \
                              SELECT x.id FROM deliveries x \
                              WHERE x.domain_id = $1 AND x.state = s.state \
                              ORDER BY x.id LIMIT 1) f)) \
              AS oldest_queued_at, \
           a.delivered AS delivered_24h, a.bounced AS bounced_24h, \
           (SELECT count(*) FROM deliveries WHERE domain_id = $1 AND state = 'expired' \
               AND updated_at >= now() - interval '24 hours') AS expired_24h, \
           now() AS now \
         FROM (SELECT count(*) FILTER (WHERE outcome = 'delivered') AS delivered, \
                      count(*) FILTER (WHERE outcome = 'bounced') AS bounced \
               FROM delivery_attempts \
               WHERE domain_id = $1 AND started_at >= now() - interval '24 hours') a",
    )
    .bind::<BigInt, _>(domain.0)
    .get_result(conn)
}

// ---- targets ----

/// A target host's health, and the visible domains that relay to it.
#[derive(Debug, Clone, QueryableByName)]
pub struct TargetRow {
    #[diesel(sql_type = Text)]
    pub host: String,
    #[diesel(sql_type = Integer)]
    pub port: i32,
    /// `unknown`, `up` or `down`; `unknown` too when the relay has not tried it yet.
    #[diesel(sql_type = Text)]
    pub state: String,
    /// `None` when the relay has no record of the target.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub changed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_probe_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub next_probe_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub domain_count: i64,
    /// The first [`TARGET_DOMAIN_IDS`] of them, by id.
    #[diesel(sql_type = Array<BigInt>)]
    pub domain_ids: Vec<i64>,
}

/// At most this many domain ids are listed per target.
pub const TARGET_DOMAIN_IDS: i64 = 100;

/// Up to `limit` targets after `(host, port)`, ordered by host and port: those of the caller's
/// visible domains, and for a caller that sees everything also the targets the relay knows
/// that no domain uses any more (DSN destinations, old targets). Domain ids and counts
/// include only visible domains.
pub fn list_targets(
    conn: &mut PgConnection,
    vis: &DomainVisibility,
    after: Option<(&str, i32)>,
    limit: i64,
) -> QueryResult<Vec<TargetRow>> {
    let mut sql = Sql::default();
    let cond = visible_domain_condition(&mut sql, vis);
    let (after_rd, after_t) = match after {
        Some((host, port)) => {
            let h = sql.bind(Bind::Text(host.to_owned()));
            let p = sql.bind(Bind::Int(i64::from(port)));
            (
                format!(" AND (rd.target_host, rd.target_port) > ({h}, {p}::int)"),
                format!(" WHERE (t.host, t.port) > ({h}, {p}::int)"),
            )
        }
        None => (String::new(), String::new()),
    };
    let limit = sql.bind(Bind::Int(limit));
    let ids = sql.bind(Bind::Int(TARGET_DOMAIN_IDS));
    let known = if sees_everything(vis) {
        format!("UNION SELECT t.host, t.port FROM targets t{after_t} ")
    } else {
        String::new()
    };
    sql.push(&format!(
        "WITH k AS (SELECT DISTINCT rd.target_host AS host, rd.target_port AS port \
                    FROM relay_domains rd WHERE {cond}{after_rd} \
                    {known}ORDER BY 1, 2 LIMIT {limit}) \
         SELECT k.host, k.port, COALESCE(t.state, 'unknown') AS state, t.changed_at, \
                t.last_probe_at, t.next_probe_at, t.last_error, \
                COALESCE(c.n, 0) AS domain_count, COALESCE(i.ids, '{{}}') AS domain_ids \
         FROM k LEFT JOIN targets t ON t.host = k.host AND t.port = k.port \
         LEFT JOIN LATERAL (SELECT count(*) AS n FROM relay_domains rd \
                            WHERE rd.target_host = k.host AND rd.target_port = k.port \
                              AND {cond}) c ON true \
         LEFT JOIN LATERAL (SELECT array_agg(x.id ORDER BY x.id) AS ids FROM ( \
                                SELECT rd.id FROM relay_domains rd \
                                WHERE rd.target_host = k.host AND rd.target_port = k.port \
                                  AND {cond} ORDER BY rd.id LIMIT {ids}) x) i ON true \
         ORDER BY k.host, k.port"
    ));
    sql.query().load(conn)
}

/// Whether the caller may see `host`'s timeline, and on which ports: `None` when it may not
/// (no visible domain relays there, or for an operator: nothing is known about the host),
/// `Some(None)` for every port, `Some(Some(ports))` for those ports only.
pub fn target_ports(
    conn: &mut PgConnection,
    vis: &DomainVisibility,
    host: &str,
    port: Option<i32>,
) -> QueryResult<Option<Option<Vec<i32>>>> {
    #[derive(QueryableByName)]
    struct Port {
        #[diesel(sql_type = Integer)]
        port: i32,
    }
    let mut sql = Sql::default();
    let h = sql.bind(Bind::Text(host.to_owned()));
    let port_cond = |sql: &mut Sql, column: &str| match port {
        Some(p) => format!(" AND {column} = {}::int", sql.bind(Bind::Int(i64::from(p)))),
        None => String::new(),
    };
    if sees_everything(vis) {
        let a = port_cond(&mut sql, "rd.target_port");
        let b = port_cond(&mut sql, "t.port");
        let c = port_cond(&mut sql, "e.port");
        sql.push(&format!(
            "SELECT 0 AS port WHERE \
               EXISTS (SELECT 1 FROM relay_domains rd WHERE rd.target_host = {h}{a}) \
               OR EXISTS (SELECT 1 FROM targets t WHERE t.host = {h}{b}) \
               OR EXISTS (SELECT 1 FROM target_events e WHERE e.host = {h}{c})"
        ));
        let known: Vec<Port> = sql.query().load(conn)?;
        return Ok((!known.is_empty()).then_some(None));
    }
    let cond = visible_domain_condition(&mut sql, vis);
    let a = port_cond(&mut sql, "rd.target_port");
    sql.push(&format!(
        "SELECT DISTINCT rd.target_port AS port FROM relay_domains rd \
         WHERE rd.target_host = {h}{a} AND {cond} ORDER BY 1"
    ));
    let ports: Vec<Port> = sql.query().load(conn)?;
    if ports.is_empty() {
        Ok(None)
    } else {
        Ok(Some(Some(ports.into_iter().map(|p| p.port).collect())))
    }
}

/// One up/down change of a target.
#[derive(Debug, Clone, QueryableByName)]
pub struct TargetEventRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub host: String,
    #[diesel(sql_type = Integer)]
    pub port: i32,
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub detail: Option<String>,
}

/// Up to `limit` events of `host` (on `ports`, or any port), newest first, before
/// `(at, id)`; walks `target_events (host, port, at DESC)`.
pub fn target_events(
    conn: &mut PgConnection,
    host: &str,
    ports: Option<&[i32]>,
    before: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> QueryResult<Vec<TargetEventRow>> {
    let mut sql = Sql::default();
    let mut conds = vec![format!(
        "e.host = {}",
        sql.bind(Bind::Text(host.to_owned()))
    )];
    if let Some(ports) = ports {
        let p = sql.bind(Bind::Ints(ports.iter().map(|p| i64::from(*p)).collect()));
        conds.push(format!("e.port = ANY({p}::int[])"));
    }
    if let Some((at, id)) = before {
        let a = sql.bind(Bind::Time(at));
        let i = sql.bind(Bind::Int(id));
        conds.push(format!("(e.at, e.id) < ({a}, {i})"));
    }
    let limit = sql.bind(Bind::Int(limit));
    sql.push(&format!(
        "SELECT e.id, e.host, e.port, e.state, e.at, e.detail FROM target_events e{} \
         ORDER BY e.at DESC, e.id DESC LIMIT {limit}",
        where_clause(&conds)
    ));
    sql.query().load(conn)
}
