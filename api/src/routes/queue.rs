//! `/queue`: the mail waiting for delivery, one item per recipient, and the commands an
//! operator or customer gives it (retry, hold, release, delete, by message or by filter);
//! `/domains/{id}/flush` and `/domains/{id}/stats`, the per-domain view of the same queue.
//!
//! Who sees what: every query is narrowed by the caller's [`DomainVisibility`], so a customer
//! or domain administrator sees and touches only the recipients of its domains (a message with
//! recipients in several tenants' domains shows each tenant only its own), an API key
//! restricted to domains only those, and an operator everything, DSNs included. A message with
//! no visible recipient answers 404 exactly like a missing one. Read-only API keys are refused
//! every POST and DELETE by the [`Caller`] extractor.
//!
//! Commands that make mail due send a NOTIFY on the queue channel, so relays react at once.
//! The queries behind these handlers, and how they stay fast on a ten-million-recipient queue,
//! are in [`mxspool_store::queue_admin`].

use crate::auth::Caller;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{path_id, ValidJson, ValidQuery};
use crate::pagination::PageRequest;
use crate::state::AppState;
use actix_web::{delete, get, post, web, HttpRequest};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Utc};
use mxspool_store::domains::{self, RelayDomain};
use mxspool_store::kinds::DeliveryState;
use mxspool_store::queue_admin::{
    self, ActionOutcome, QueueAction, QueueEntry, QueueFilter, QueuePosition,
};
use mxspool_store::{DomainId, MessageId, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// Longest sender or recipient accepted as a filter (RFC 5321 paths are at most 256 octets).
const MAX_ADDRESS_FILTER: usize = 512;

// ---- opaque cursors ----

/// Wraps a position as an opaque cursor; `kind` says which listing it belongs to.
pub(crate) fn encode_cursor(kind: &str, position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{position}"))
}

/// Unwraps a cursor made by [`encode_cursor`] with the same `kind`; anything else is a 422
/// naming `field`.
pub(crate) fn decode_cursor(kind: &str, cursor: &str, field: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            text.strip_prefix(kind)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::to_owned)
        })
        .ok_or_else(|| {
            ApiError::field(
                field,
                "not a cursor from this listing; pass next_cursor unchanged",
            )
        })
}

/// Microseconds since the epoch, as stored by PostgreSQL.
pub(crate) fn time_key(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn time_from_key(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_micros(micros)
}

const QUEUE_CURSOR: &str = "q1";

fn encode_position(p: &QueuePosition) -> String {
    let text = match p {
        QueuePosition::Delivery(id) => format!("d:{id}"),
        QueuePosition::Message {
            message_id,
            delivery_id,
        } => format!("m:{message_id}:{delivery_id}"),
        QueuePosition::Received {
            at,
            message_id,
            delivery_id,
        } => format!("r:{}:{message_id}:{delivery_id}", time_key(*at)),
    };
    encode_cursor(QUEUE_CURSOR, &text)
}

fn decode_position(cursor: &str) -> Result<QueuePosition, ApiError> {
    let text = decode_cursor(QUEUE_CURSOR, cursor, "cursor")?;
    let parts: Vec<&str> = text.split(':').collect();
    let num = |s: &str| s.parse::<i64>().ok();
    let position = match parts.as_slice() {
        ["d", id] => num(id).map(QueuePosition::Delivery),
        ["m", m, d] => num(m).zip(num(d)).map(|(m, d)| QueuePosition::Message {
            message_id: m,
            delivery_id: d,
        }),
        ["r", at, m, d] => {
            num(at)
                .and_then(time_from_key)
                .zip(num(m).zip(num(d)))
                .map(|(at, (m, d))| QueuePosition::Received {
                    at,
                    message_id: m,
                    delivery_id: d,
                })
        }
        _ => None,
    };
    position.ok_or_else(|| {
        ApiError::field(
            "cursor",
            "not a cursor from this listing; pass next_cursor unchanged",
        )
    })
}

// ---- representations ----

/// One recipient of a queued message (a delivery), with its message's envelope.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 90211, "message_id": 41877, "domain_id": 12, "domain": "customer.example",
    "recipient": "alice@customer.example", "state": "deferred", "attempts": 3,
    "next_attempt_at": "2026-11-28T10:15:00Z", "expires_at": "2026-12-03T10:00:00Z",
    "last_code": 451, "last_reply": "451 4.3.0 mailbox temporarily unavailable",
    "sender": "bob@sender.example", "size": 5120, "subject": "Quarterly figures",
    "received_at": "2026-11-28T10:00:00Z"
}))]
pub struct QueueItem {
    /// The delivery (recipient) id.
    pub id: i64,
    /// The message id: the queue id given in the SMTP reply, and the `{id}` of
    /// `/queue/{id}`.
    pub message_id: MessageId,
    /// The relay domain; `null` for delivery status notifications sent to a sender's MX.
    pub domain_id: Option<DomainId>,
    /// The relay domain's name.
    pub domain: Option<String>,
    pub recipient: String,
    pub state: DeliveryState,
    /// Delivery attempts made so far.
    pub attempts: i32,
    /// When the relay tries next (for queued and deferred recipients).
    pub next_attempt_at: DateTime<Utc>,
    /// When the recipient bounces as expired if still undelivered.
    pub expires_at: DateTime<Utc>,
    /// The target's last SMTP reply code; `null` before any reply.
    pub last_code: Option<i32>,
    pub last_reply: Option<String>,
    /// Envelope sender; empty for the null sender `<>`.
    pub sender: String,
    /// Message size in bytes.
    pub size: i64,
    pub subject: Option<String>,
    pub received_at: DateTime<Utc>,
}

impl From<QueueEntry> for QueueItem {
    fn from(e: QueueEntry) -> Self {
        QueueItem {
            id: e.id,
            message_id: MessageId(e.message_id),
            domain_id: e.domain_id.map(DomainId),
            domain: e.domain,
            recipient: e.recipient,
            state: e.state,
            attempts: e.attempts,
            next_attempt_at: e.next_attempt_at,
            expires_at: e.expires_at,
            last_code: e.last_code,
            last_reply: e.last_reply,
            sender: e.sender,
            size: e.size,
            subject: e.subject,
            received_at: e.received_at,
        }
    }
}

crate::page_type!(
    /// One page of queued recipients.
    QueuePage,
    QueueItem
);

/// Filters and paging of `GET /queue`. Filters combine with AND.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Recipients of this relay domain.
    #[param(minimum = 1)]
    pub domain_id: Option<i64>,
    /// Recipients in this state. Without it: every state of mail still in the queue
    /// (`queued`, `deferred`, `delivering`, `held`); finished recipients (`delivered`,
    /// `bounced`, `expired`) are listed only when asked for by state.
    pub state: Option<DeliveryState>,
    /// Exact envelope sender; `<>` for the null sender.
    #[param(min_length = 1, max_length = 512)]
    pub sender: Option<String>,
    /// Exact envelope recipient.
    #[param(min_length = 1, max_length = 512, pattern = "[^<>\\s]")]
    pub recipient: Option<String>,
    /// Messages received before this time (RFC 3339, e.g. `2026-11-28T10:00:00Z`).
    pub received_before: Option<DateTime<Utc>>,
    /// Messages received at or after this time (RFC 3339).
    pub received_after: Option<DateTime<Utc>>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page, with the same filters.
    pub cursor: Option<String>,
}

/// Which recipients a bulk command acts on; the same filters as `GET /queue`. An empty
/// filter selects all of the caller's unfinished mail (for an operator: the whole queue).
#[derive(Debug, Default, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"domain_id": 12, "state": "deferred"}))]
pub struct QueueFilterSpec {
    #[schema(minimum = 1)]
    pub domain_id: Option<i64>,
    /// Without it: `queued`, `deferred`, `delivering` and `held` recipients.
    pub state: Option<DeliveryState>,
    /// Exact envelope sender; `<>` for the null sender.
    #[schema(min_length = 1, max_length = 512)]
    pub sender: Option<String>,
    /// Exact envelope recipient.
    #[schema(min_length = 1, max_length = 512, pattern = "[^<>\\s]")]
    pub recipient: Option<String>,
    /// Received before this time.
    pub received_before: Option<DateTime<Utc>>,
    /// Received at or after this time.
    pub received_after: Option<DateTime<Utc>>,
}

/// What a queue command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueActionKind {
    /// Queued or deferred recipients waiting for a later attempt become due now.
    Retry,
    /// Queued or deferred recipients are held: neither delivered nor expired until released.
    Hold,
    /// Held recipients are queued again, due now.
    Release,
    /// Recipients are removed without a DSN, except those being delivered at that moment.
    Delete,
}

impl From<QueueActionKind> for QueueAction {
    fn from(k: QueueActionKind) -> Self {
        match k {
            QueueActionKind::Retry => QueueAction::Retry,
            QueueActionKind::Hold => QueueAction::Hold,
            QueueActionKind::Release => QueueAction::Release,
            QueueActionKind::Delete => QueueAction::Delete,
        }
    }
}

/// A command for every visible recipient matching a filter.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "filter": {"domain_id": 12, "state": "deferred"}, "action": "retry", "dry_run": true
}))]
pub struct QueueBulkAction {
    /// Required; `{}` selects all of the caller's unfinished mail.
    pub filter: QueueFilterSpec,
    pub action: QueueActionKind,
    /// Count without changing anything (default false).
    #[serde(default)]
    pub dry_run: bool,
}

/// What a queue command selected and changed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"matched": 1250, "affected": 1248, "in_delivery": 2, "dry_run": false}))]
pub struct QueueActionResult {
    /// Recipients the command selected: for one message, all of its recipients the caller
    /// sees (in any state); for a bulk command, those matching the filter.
    pub matched: i64,
    /// Of those, the recipients the command changed (in a dry run: would change). Retry
    /// changes queued or deferred recipients not yet due; hold queued or deferred ones;
    /// release held ones; delete all but those being delivered.
    pub affected: i64,
    /// Of those matched, the recipients being delivered at that moment, which no command
    /// touches (the delivery's outcome decides their state).
    pub in_delivery: i64,
    pub dry_run: bool,
}

impl QueueActionResult {
    fn new(o: ActionOutcome, dry_run: bool) -> Self {
        QueueActionResult {
            matched: o.matched,
            affected: o.affected,
            in_delivery: o.in_delivery,
            dry_run,
        }
    }
}

/// A summary of a message's header, read from the stored message.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct MessageHeaders {
    /// Encoded words (RFC 2047) in UTF-8 and ISO-8859-1 are decoded; others are shown as sent.
    pub subject: Option<String>,
    /// The `Message-ID` header.
    pub message_id: Option<String>,
    pub from: Option<String>,
    /// All `To` headers, joined with `, `.
    pub to: Option<String>,
    /// All `Cc` headers, joined with `, `.
    pub cc: Option<String>,
    /// The `Date` header, as written by the sender.
    pub date: Option<String>,
}

/// One recipient of an inspected message.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QueueRecipient {
    /// The delivery id.
    pub id: i64,
    pub domain_id: Option<DomainId>,
    pub domain: Option<String>,
    pub recipient: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_code: Option<i32>,
    pub last_reply: Option<String>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Delivered,
    /// A 4xx reply or no connection: tried again later.
    Deferred,
    /// A 5xx reply: a DSN goes to the sender.
    Bounced,
}

/// One recorded delivery attempt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryAttemptView {
    pub id: i64,
    /// The delivery (recipient) it was for.
    pub delivery_id: i64,
    pub recipient: String,
    pub started_at: DateTime<Utc>,
    pub target_host: String,
    /// The address connected to; `null` when none was reached (e.g. DNS failure).
    pub target_ip: Option<String>,
    /// SMTP reply code; `null` when no reply came (connection failure).
    pub code: Option<i32>,
    pub reply: String,
    pub duration_ms: i32,
    /// Whether the session used TLS.
    pub tls: bool,
    pub outcome: AttemptOutcome,
}

/// A queued message as the caller sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 41877, "sender": "bob@sender.example", "size": 5120, "client_ip": "198.51.100.7",
    "helo": "mail.sender.example", "tls": true, "received_at": "2026-11-28T10:00:00Z",
    "headers": {"subject": "Quarterly figures", "message_id": "<q3@sender.example>",
                "from": "Bob <bob@sender.example>", "to": "alice@customer.example",
                "cc": null, "date": "Sat, 28 Nov 2026 10:59:58 +0100"},
    "recipients": [{"id": 90211, "domain_id": 12, "domain": "customer.example",
                    "recipient": "alice@customer.example", "state": "deferred", "attempts": 1,
                    "next_attempt_at": "2026-11-28T10:01:00Z",
                    "expires_at": "2026-12-03T10:00:00Z", "last_code": 451,
                    "last_reply": "451 4.3.0 try later"}],
    "attempts": [{"id": 7, "delivery_id": 90211, "recipient": "alice@customer.example",
                  "started_at": "2026-11-28T10:00:01Z", "target_host": "mail.customer.example",
                  "target_ip": "203.0.113.25", "code": 451, "reply": "451 4.3.0 try later",
                  "duration_ms": 184, "tls": true, "outcome": "deferred"}]
}))]
pub struct QueueMessage {
    /// The message (queue) id.
    pub id: MessageId,
    /// Envelope sender; empty for the null sender `<>`.
    pub sender: String,
    /// Size in bytes, as relayed.
    pub size: i64,
    /// The SMTP client that handed the message to the relay.
    pub client_ip: String,
    /// What that client said in HELO/EHLO.
    pub helo: String,
    /// Whether the message arrived over TLS.
    pub tls: bool,
    pub received_at: DateTime<Utc>,
    pub headers: MessageHeaders,
    /// The recipients the caller sees, by id.
    pub recipients: Vec<QueueRecipient>,
    /// Delivery attempts for those recipients, newest first (at most 1000).
    pub attempts: Vec<DeliveryAttemptView>,
}

/// The answer to a flush.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "matched": 1000000, "affected": 999200, "target_host": "mail.customer.example",
    "target_port": 25, "probe_scheduled": true
}))]
pub struct DomainFlushResult {
    /// The domain's queued and deferred recipients.
    pub matched: i64,
    /// Of those, the recipients that were waiting for a later attempt and are now due.
    pub affected: i64,
    pub target_host: String,
    pub target_port: i32,
    /// Whether the target was known to be down and is probed now rather than at its next
    /// interval (an up or untried target takes the mail directly).
    pub probe_scheduled: bool,
}

/// A domain's queue in numbers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "domain_id": 12, "queued": 10, "deferred": 1250, "held": 0, "delivering": 4,
    "oldest_queued_at": "2026-11-27T22:10:00Z", "oldest_age_seconds": 42600,
    "delivered_24h": 8120, "bounced_24h": 3, "expired_24h": 0
}))]
pub struct DomainQueueStats {
    pub domain_id: DomainId,
    pub queued: i64,
    pub deferred: i64,
    pub held: i64,
    pub delivering: i64,
    /// When the oldest message still in the queue for this domain (queued, deferred, held or
    /// being delivered) was received; `null` when none is.
    pub oldest_queued_at: Option<DateTime<Utc>>,
    /// Age of that message in seconds.
    pub oldest_age_seconds: Option<i64>,
    /// Recipients delivered in the last 24 hours.
    pub delivered_24h: i64,
    /// Recipients refused permanently (5xx) in the last 24 hours.
    pub bounced_24h: i64,
    /// Recipients that expired (queue lifetime reached) in the last 24 hours.
    pub expired_24h: i64,
}

// ---- input checks ----

#[allow(clippy::too_many_arguments)]
fn to_filter(
    prefix: &str,
    domain_id: Option<i64>,
    state: Option<DeliveryState>,
    sender: Option<String>,
    recipient: Option<String>,
    received_before: Option<DateTime<Utc>>,
    received_after: Option<DateTime<Utc>>,
) -> Result<QueueFilter, ApiError> {
    let name = |field: &str| format!("{prefix}{field}");
    let mut errors = Vec::new();
    if domain_id.is_some_and(|id| id <= 0) {
        errors.push(FieldError::new(
            name("domain_id"),
            "must be a domain id (a positive integer)",
        ));
    }
    let sender = match sender {
        Some(s) if s == "<>" => Some(String::new()),
        Some(s) if s.is_empty() => {
            errors.push(FieldError::new(
                name("sender"),
                "must not be empty; use <> for the null sender",
            ));
            None
        }
        Some(s) if s.chars().count() > MAX_ADDRESS_FILTER => {
            errors.push(FieldError::new(
                name("sender"),
                format!("must be at most {MAX_ADDRESS_FILTER} characters"),
            ));
            None
        }
        Some(s) => Some(strip_angles(&s)),
        None => None,
    };
    let recipient = match recipient {
        Some(r) if strip_angles(&r).is_empty() => {
            errors.push(FieldError::new(name("recipient"), "must not be empty"));
            None
        }
        Some(r) if r.chars().count() > MAX_ADDRESS_FILTER => {
            errors.push(FieldError::new(
                name("recipient"),
                format!("must be at most {MAX_ADDRESS_FILTER} characters"),
            ));
            None
        }
        Some(r) => Some(strip_angles(&r)),
        None => None,
    };
    if let (Some(after), Some(before)) = (received_after, received_before) {
        if after >= before {
            errors.push(FieldError::new(
                name("received_after"),
                "must be earlier than received_before",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(QueueFilter {
        domain_id: domain_id.map(DomainId),
        state,
        sender,
        recipient,
        received_before,
        received_after,
    })
}

/// `<a@b>` → `a@b`: the envelope form is accepted too.
fn strip_angles(address: &str) -> String {
    let a = address.trim();
    a.strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(a)
        .to_owned()
}

fn message_not_found(id: MessageId) -> ApiError {
    ApiError::NotFound(format!("message {id} not found in the queue"))
}

fn domain_not_found(id: DomainId) -> ApiError {
    ApiError::NotFound(format!("domain {id} not found"))
}

/// The domain if the caller may see it; 404 otherwise.
fn visible_domain(
    conn: &mut PgConnection,
    caller: &Caller,
    id: DomainId,
) -> Result<RelayDomain, ApiError> {
    domains::find_visible(conn, &caller.domain_visibility(), id).map_err(|e| match e {
        diesel::result::Error::NotFound => domain_not_found(id),
        other => other.into(),
    })
}

// ---- header summary ----

/// The header block of a message: everything before the first empty line.
fn header_block(message: &[u8]) -> &[u8] {
    let end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 2)
        .into_iter()
        .chain(message.windows(2).position(|w| w == b"\n\n").map(|i| i + 1))
        .min();
    &message[..end.unwrap_or(message.len())]
}

/// `(lower-case name, unfolded value)` of each header field, in order.
fn header_fields(block: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(block);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with([' ', '\t']) {
            // A folded continuation of the previous field.
            if let Some((_, value)) = fields.last_mut() {
                let more = line.trim();
                if !more.is_empty() {
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(more);
                }
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            let valid_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic());
            if valid_name {
                fields.push((name.to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
    }
    fields
}

/// Decodes RFC 2047 encoded words in UTF-8, US-ASCII and ISO-8859-1; others stay as written.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, candidate) = rest.split_at(start);
        match decode_word(candidate) {
            Some((decoded, used)) => {
                // Whitespace between two encoded words is not part of the text.
                if !(after_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&decoded);
                rest = &candidate[used..];
                after_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &candidate[2..];
                after_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes one encoded word at the start of `s`; returns the text and the bytes consumed.
fn decode_word(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let text = &inner[..end];
    if text.contains(char::is_whitespace) {
        return None;
    }
    let used = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    let bytes = match encoding {
        "B" | "b" => STANDARD
            .decode(text)
            .or_else(|_| STANDARD_NO_PAD.decode(text.trim_end_matches('=')))
            .ok()?,
        "Q" | "q" => decode_q(text)?,
        _ => return None,
    };
    let charset = charset
        .split('*')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let decoded = match charset.as_str() {
        "utf-8" | "utf8" | "us-ascii" => String::from_utf8_lossy(&bytes).into_owned(),
        "iso-8859-1" | "latin1" | "iso8859-1" => bytes.iter().map(|b| char::from(*b)).collect(),
        _ => return None,
    };
    Some((decoded, used))
}

fn decode_q(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// The header summary of a message from its first bytes.
fn summarize_headers(message: &[u8]) -> MessageHeaders {
    let fields = header_fields(header_block(message));
    let first = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| decode_words(v))
    };
    let all = |name: &str| {
        let values: Vec<String> = fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| decode_words(v))
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    MessageHeaders {
        subject: first("subject"),
        message_id: first("message-id"),
        from: first("from"),
        to: all("to"),
        cc: all("cc"),
        date: first("date"),
    }
}

// ---- handlers ----

/// List queued recipients.
///
/// One item per recipient (delivery) with its message's envelope, oldest first. The order
/// follows the index the filters select, and a cursor continues only a listing with the same
/// kind of filters: by recipient id normally; with `sender`, by message id then recipient
/// id; with `received_after` or `received_before` (and no `sender` or `recipient`), by
/// receipt time. Listings never count the queue: a page costs about the same at ten million
/// recipients. With `sender` or a time filter, a page looks at no more than 5,000 messages;
/// when those hold fewer matches than `limit` the page is short (even empty) and still has a
/// `next_cursor`. The listing ends only when `next_cursor` is `null`.
#[utoipa::path(
    tag = "queue",
    params(QueueQuery),
    responses((status = 200, description = "One page of queued recipients", body = QueuePage)),
    security(("bearer" = []))
)]
#[get("/queue")]
pub async fn list_queue(
    state: web::Data<AppState>,
    caller: Caller,
    query: ValidQuery<QueueQuery>,
) -> Result<web::Json<QueuePage>, ApiError> {
    let q = query.0;
    let page = PageRequest::new(q.limit, None)?;
    let filter = to_filter(
        "",
        q.domain_id,
        q.state,
        q.sender,
        q.recipient,
        q.received_before,
        q.received_after,
    )?;
    let visibility = caller.domain_visibility();
    let order = queue_admin::order_for(&filter, &visibility);
    let after = q.cursor.as_deref().map(decode_position).transpose()?;
    if after.is_some_and(|p| p.order() != order) {
        return Err(ApiError::field(
            "cursor",
            "this cursor belongs to a listing with other filters; start again without it",
        ));
    }
    let found = state
        .db(move |conn| {
            Ok(queue_admin::list(
                conn,
                &visibility,
                &filter,
                after.as_ref(),
                page.fetch(),
            )?)
        })
        .await?;
    let mut rows = found.entries;
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| encode_position(&r.position(order)))
    } else {
        found.resume.as_ref().map(encode_position)
    };
    Ok(web::Json(QueuePage {
        items: rows.into_iter().map(QueueItem::from).collect(),
        next_cursor,
    }))
}

/// Inspect a queued message.
///
/// The envelope, a summary of the header read from the stored message, the recipients the
/// caller sees with their state and last reply, and their delivery attempts.
#[utoipa::path(
    tag = "queue",
    params(("id" = i64, Path, description = "Message id (the queue id of the SMTP reply)")),
    responses(
        (status = 200, description = "The message", body = QueueMessage),
        (status = 404, description = "No such message, or none of its recipients is visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/queue/{id}")]
pub async fn get_message(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<QueueMessage>, ApiError> {
    let id = MessageId(path_id(&req, "id")?);
    let visibility = caller.domain_visibility();
    let view = state
        .db(move |conn| Ok(queue_admin::inspect(conn, &visibility, id)?))
        .await?
        .ok_or_else(|| message_not_found(id))?;
    let m = view.message;
    Ok(web::Json(QueueMessage {
        id: MessageId(m.id),
        headers: summarize_headers(&m.head),
        sender: m.sender,
        size: m.size,
        client_ip: m.client_ip,
        helo: m.helo,
        tls: m.tls,
        received_at: m.received_at,
        recipients: view
            .recipients
            .into_iter()
            .map(|r| QueueRecipient {
                id: r.id,
                domain_id: r.domain_id.map(DomainId),
                domain: r.domain,
                recipient: r.recipient,
                state: r.state,
                attempts: r.attempts,
                next_attempt_at: r.next_attempt_at,
                expires_at: r.expires_at,
                last_code: r.last_code,
                last_reply: r.last_reply,
            })
            .collect(),
        attempts: view
            .attempts
            .into_iter()
            .map(|a| DeliveryAttemptView {
                id: a.id,
                delivery_id: a.delivery_id,
                recipient: a.recipient,
                started_at: a.started_at,
                target_host: a.target_host,
                target_ip: a.target_ip,
                code: a.code,
                reply: a.reply,
                duration_ms: a.duration_ms,
                tls: a.tls,
                outcome: match a.outcome.as_str() {
                    "delivered" => AttemptOutcome::Delivered,
                    "bounced" => AttemptOutcome::Bounced,
                    _ => AttemptOutcome::Deferred,
                },
            })
            .collect(),
    }))
}

/// Runs a command on one message's visible recipients.
async fn act_on_message(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    action: QueueAction,
) -> Result<web::Json<QueueActionResult>, ApiError> {
    let id = MessageId(path_id(req, "id")?);
    let visibility = caller.domain_visibility();
    let outcome = state
        .db(move |conn| Ok(queue_admin::act_on_message(conn, &visibility, id, action)?))
        .await?
        .ok_or_else(|| message_not_found(id))?;
    tracing::info!(message = %id, ?action, affected = outcome.affected, "queue command");
    Ok(web::Json(QueueActionResult::new(outcome, false)))
}

/// Retry a message now.
///
/// Its queued or deferred recipients that wait for a later attempt become due at once, and the
/// relays are woken. If their target is known to be down, a probe of it is scheduled now; the
/// mail goes as soon as the target answers.
#[utoipa::path(
    tag = "queue",
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, description = "What was matched and made due", body = QueueActionResult),
        (status = 404, description = "No such message, or none of its recipients is visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/queue/{id}/retry")]
pub async fn retry_message(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<QueueActionResult>, ApiError> {
    act_on_message(&state, &caller, &req, QueueAction::Retry).await
}

/// Hold a message.
///
/// Its queued or deferred recipients are held: not delivered and not expired until released.
/// Recipients being delivered at that moment are left alone (`in_delivery`).
#[utoipa::path(
    tag = "queue",
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, description = "What was matched and held", body = QueueActionResult),
        (status = 404, description = "No such message, or none of its recipients is visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/queue/{id}/hold")]
pub async fn hold_message(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<QueueActionResult>, ApiError> {
    act_on_message(&state, &caller, &req, QueueAction::Hold).await
}

/// Release a held message.
///
/// Its held recipients are queued again and due now; the relays are woken.
#[utoipa::path(
    tag = "queue",
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, description = "What was matched and released", body = QueueActionResult),
        (status = 404, description = "No such message, or none of its recipients is visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/queue/{id}/release")]
pub async fn release_message(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<QueueActionResult>, ApiError> {
    act_on_message(&state, &caller, &req, QueueAction::Release).await
}

/// Delete a message.
///
/// Removes the caller's recipients of the message, in whatever state, without a DSN.
/// Recipients being delivered at that moment are left alone and counted in `in_delivery`
/// (delete again once their attempt is over). The message itself is removed with its last
/// recipient; other tenants' recipients of the same message are untouched. Answers 200 with
/// the counts rather than 204, so a partial delete is visible.
#[utoipa::path(
    tag = "queue",
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, description = "What was matched and deleted", body = QueueActionResult),
        (status = 404, description = "No such message, or none of its recipients is visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/queue/{id}")]
pub async fn delete_message(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<QueueActionResult>, ApiError> {
    act_on_message(&state, &caller, &req, QueueAction::Delete).await
}

/// Act on every recipient matching a filter.
///
/// Runs `action` on the caller's recipients that match `filter` (the filters of `GET /queue`;
/// `{}` means all of the caller's unfinished mail, and for an operator the whole queue). The
/// work is done in batches of 10,000 recipients, each its own short statement, so a command
/// over a million recipients never holds one long lock; a failure part-way leaves the batches
/// before it done. With `dry_run` nothing changes and the answer says what would.
#[utoipa::path(
    tag = "queue",
    request_body = QueueBulkAction,
    responses(
        (status = 200, description = "What was matched and changed (or would be)", body = QueueActionResult),
    ),
    security(("bearer" = []))
)]
#[post("/queue/actions")]
pub async fn bulk_action(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidJson<QueueBulkAction>,
) -> Result<web::Json<QueueActionResult>, ApiError> {
    let input = body.0;
    let f = input.filter;
    let filter = to_filter(
        "filter.",
        f.domain_id,
        f.state,
        f.sender,
        f.recipient,
        f.received_before,
        f.received_after,
    )?;
    let action = QueueAction::from(input.action);
    let dry_run = input.dry_run;
    let visibility = caller.domain_visibility();
    let outcome = state
        .db(move |conn| {
            Ok(queue_admin::act_on_filter(
                conn,
                &visibility,
                &filter,
                action,
                dry_run,
            )?)
        })
        .await?;
    tracing::info!(
        caller = %caller.id(), ?action, dry_run, matched = outcome.matched,
        affected = outcome.affected, "bulk queue command"
    );
    Ok(web::Json(QueueActionResult::new(outcome, dry_run)))
}

/// Flush a domain's queue.
///
/// Makes all of the domain's queued and deferred mail due now (in batches of 10,000, waking
/// the relays after each) and, if the domain's target host is known to be down, has the relay
/// probe it now, so the mail held back for it goes as soon as it answers. Held recipients stay
/// held.
#[utoipa::path(
    tag = "queue",
    params(("id" = i64, Path, description = "Domain id")),
    responses(
        (status = 200, description = "What was made due", body = DomainFlushResult),
        (status = 404, description = "No such domain, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/domains/{id}/flush")]
pub async fn flush_domain(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<DomainFlushResult>, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let result = state
        .db(move |conn| {
            let domain = visible_domain(conn, &caller, id)?;
            let (outcome, probed) = queue_admin::flush_domain(conn, &domain)?;
            Ok(DomainFlushResult {
                matched: outcome.matched,
                affected: outcome.affected,
                target_host: domain.target_host,
                target_port: domain.target_port,
                probe_scheduled: probed,
            })
        })
        .await?;
    tracing::info!(domain = %id, affected = result.affected, "domain queue flushed");
    Ok(web::Json(result))
}

/// Queue statistics of a domain.
///
/// Counts by state, the oldest message waiting, and what happened in the last 24 hours. The
/// counts read only this domain's part of the queue index, so they cost in proportion to the
/// domain's own queue (milliseconds per hundred thousand recipients), never the whole queue.
#[utoipa::path(
    tag = "queue",
    params(("id" = i64, Path, description = "Domain id")),
    responses(
        (status = 200, description = "The domain's queue statistics", body = DomainQueueStats),
        (status = 404, description = "No such domain, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/domains/{id}/stats")]
pub async fn domain_stats(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<DomainQueueStats>, ApiError> {
    let id = DomainId(path_id(&req, "id")?);
    let stats = state
        .db(move |conn| {
            visible_domain(conn, &caller, id)?;
            Ok(queue_admin::domain_stats(conn, id)?)
        })
        .await?;
    Ok(web::Json(DomainQueueStats {
        domain_id: id,
        queued: stats.queued,
        deferred: stats.deferred,
        held: stats.held,
        delivering: stats.delivering,
        oldest_queued_at: stats.oldest_queued_at,
        oldest_age_seconds: stats
            .oldest_queued_at
            .map(|at| (stats.now - at).num_seconds().max(0)),
        delivered_24h: stats.delivered_24h,
        bounced_24h: stats.bounced_24h,
        expired_24h: stats.expired_24h,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_up_to_the_blank_line_with_folding_and_encoded_words() {
        let message = b"Received: from x\r\n\tby y\r\n\
Subject: =?UTF-8?B?R3LDvMOfZQ==?= =?utf-8?q?_aus_K=C3=B6ln?=\r\n\
From: Bob\r\n <bob@sender.example>\r\n\
To: a@customer.example\r\nTo: b@customer.example\r\n\
Message-ID: <id@sender.example>\r\n\
Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\n\
Subject: not a header\r\n";
        let h = summarize_headers(message);
        assert_eq!(h.subject.as_deref(), Some("Grüße aus Köln"));
        assert_eq!(h.from.as_deref(), Some("Bob <bob@sender.example>"));
        assert_eq!(
            h.to.as_deref(),
            Some("a@customer.example, b@customer.example")
        );
        assert_eq!(h.message_id.as_deref(), Some("<id@sender.example>"));
        assert_eq!(h.date.as_deref(), Some("Sat, 28 Nov 2026 10:00:00 +0000"));
        assert_eq!(h.cc, None);
    }

    #[test]
    fn unknown_charsets_and_broken_words_stay_as_written() {
        assert_eq!(decode_words("=?koi8-r?B?8NLJ?= x"), "=?koi8-r?B?8NLJ?= x");
        assert_eq!(decode_words("a =?utf-8?Q?broken"), "a =?utf-8?Q?broken");
        assert_eq!(decode_words("=?iso-8859-1?Q?caf=E9?="), "café");
        assert_eq!(decode_words("plain"), "plain");
    }

    #[test]
    fn a_header_without_body_separator_is_read_whole() {
        let h = summarize_headers(b"Subject: only headers\nFrom: a@b");
        assert_eq!(h.subject.as_deref(), Some("only headers"));
        assert_eq!(h.from.as_deref(), Some("a@b"));
    }

    #[test]
    fn queue_cursors_round_trip_and_others_are_refused() {
        let at = time_from_key(1_795_000_000_123_456).unwrap_or_default();
        for p in [
            QueuePosition::Delivery(7),
            QueuePosition::Message {
                message_id: 3,
                delivery_id: 9,
            },
            QueuePosition::Received {
                at,
                message_id: 3,
                delivery_id: 9,
            },
        ] {
            let cursor = encode_position(&p);
            assert_eq!(decode_position(&cursor).ok(), Some(p));
        }
        assert!(decode_position("garbage").is_err());
        assert!(decode_position(&encode_cursor("t1", "d:7")).is_err());
    }
}
