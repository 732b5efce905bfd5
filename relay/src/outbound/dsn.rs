//! Delivery status notifications (RFC 3464): when every recipient of a message has reached a
//! final state and some failed (bounced, or expired after the queue lifetime), the envelope
//! sender gets one report listing them, from `MAILER-DAEMON` with the null sender, so a DSN
//! never causes another DSN. Null senders get none. Under `MXSPOOL_BOUNCES=log` the report is
//! logged instead of sent.
//!
//! The report is queued in the same transaction that marks the message as reported, so a
//! crash leaves either both or neither; [`sweep`] finds messages whose report was owed when a
//! node died before producing it.

use crate::config::{BouncePolicy, RelayConfig};
use diesel::connection::Connection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary};
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::{BodyPart, MimePart};
use mail_builder::MessageBuilder;
use mxspool_store::kinds::DeliveryState;
use mxspool_store::queue::{self, DsnDue, FailedRecipient, IncomingMessage, IncomingRecipient};
use mxspool_store::schema::{deliveries, messages};
use mxspool_store::MessageId;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

/// How long a DSN may stay queued.
const DSN_LIFETIME: Duration = Duration::from_secs(5 * 24 * 3600);
/// Only this much of an original message is read to find its header block.
const HEAD_BYTES: i32 = 64 * 1024;
/// Messages handled per transaction.
const CHUNK: usize = 100;
/// Longest reply text quoted in a report field.
const MAX_FIELD: usize = 900;
/// The note `expire_due` appends to the last reply of an expired recipient.
const EXPIRED_NOTE: &str = "queue lifetime expired";

/// Produces the DSNs owed by any of `candidates` (messages that just had a recipient reach a
/// final state); the others are left alone. Returns how many messages were settled.
pub(crate) fn process(
    conn: &mut PgConnection,
    config: &RelayConfig,
    candidates: &[MessageId],
) -> QueryResult<usize> {
    let mut settled = 0;
    for chunk in candidates.chunks(CHUNK) {
        settled += conn.transaction(|conn| settle(conn, config, chunk))?;
    }
    Ok(settled)
}

fn settle(
    conn: &mut PgConnection,
    config: &RelayConfig,
    chunk: &[MessageId],
) -> QueryResult<usize> {
    let due = queue::dsn_due(conn, chunk)?;
    if due.is_empty() {
        return Ok(0);
    }
    let wanted: Vec<MessageId> = due
        .iter()
        .filter(|d| !d.sender.is_empty())
        .map(|d| d.message_id)
        .collect();
    let heads = load_heads(conn, &wanted)?;
    let mut outgoing = Vec::new();
    let mut reported = Vec::new();
    for d in &due {
        if d.sender.is_empty() {
            tracing::debug!(message_id = %d.message_id, "no DSN for a null sender");
        } else if !d.sender.contains('@') {
            tracing::warn!(message_id = %d.message_id, sender = %d.sender, "no DSN: the sender has no domain");
        } else {
            let head = heads
                .get(&d.message_id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            match config.bounces {
                BouncePolicy::Send => match build_report(&config.hostname, d, head) {
                    Ok(report) => {
                        outgoing.push(dsn_message(config, d, report));
                        reported.push((d.message_id, d.sender.as_str()));
                    }
                    Err(e) => {
                        tracing::error!(message_id = %d.message_id, error = %e, "cannot build a DSN")
                    }
                },
                BouncePolicy::Log => log_report(d),
            }
        }
        queue::mark_dsn_sent(conn, d.message_id)?;
    }
    if !outgoing.is_empty() {
        let ids = queue::enqueue_batch(conn, &outgoing)?;
        for ((message_id, sender), id) in reported.iter().zip(&ids) {
            tracing::info!(%message_id, dsn = %id, to = %sender, "DSN queued");
        }
    }
    Ok(due.len())
}

fn log_report(d: &DsnDue) {
    let failed: Vec<String> = d
        .failed
        .iter()
        .map(|r| format!("{} ({}, {})", r.recipient, status_of(r), reason_of(r)))
        .collect();
    tracing::info!(
        message_id = %d.message_id,
        sender = %d.sender,
        failed = %failed.join("; "),
        "DSN not sent (MXSPOOL_BOUNCES=log)"
    );
}

fn dsn_message(config: &RelayConfig, d: &DsnDue, report: Report) -> IncomingMessage {
    IncomingMessage {
        sender: String::new(),
        client_ip: "127.0.0.1".to_owned(),
        helo: config.hostname.clone(),
        tls: false,
        subject: Some(SUBJECT.to_owned()),
        message_id_header: Some(report.message_id),
        body: report.body,
        recipients: vec![IncomingRecipient {
            domain_id: None,
            address: d.sender.clone(),
            lifetime: DSN_LIFETIME,
        }],
    }
}

/// The first bytes of each message (enough for its header block).
fn load_heads(
    conn: &mut PgConnection,
    ids: &[MessageId],
) -> QueryResult<HashMap<MessageId, Vec<u8>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(MessageId, Vec<u8>)> = messages::table
        .filter(messages::id.eq_any(ids))
        .select((
            messages::id,
            diesel::dsl::sql::<Binary>(&format!("substring(body from 1 for {HEAD_BYTES})")),
        ))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Of `delivered` (messages a recipient of which was just delivered), those that may now owe
/// a DSN because another of their recipients failed earlier. (`record_attempts` reports only
/// the messages whose recipients bounced in that same call.)
pub(crate) fn owed_after_delivery(
    conn: &mut PgConnection,
    delivered: &[MessageId],
) -> QueryResult<Vec<MessageId>> {
    if delivered.is_empty() {
        return Ok(Vec::new());
    }
    messages::table
        .filter(messages::id.eq_any(delivered))
        .filter(messages::dsn_sent_at.is_null())
        .filter(diesel::dsl::exists(
            deliveries::table
                .filter(deliveries::message_id.eq(messages::id))
                .filter(deliveries::state.eq_any([DeliveryState::Bounced, DeliveryState::Expired])),
        ))
        .select(messages::id)
        .load(conn)
}

/// Settles up to `limit` messages after `after` that have failed recipients and no DSN yet
/// (a node died between recording the failure and producing the report). Returns the cursor
/// for the next call: 0 when the end was reached.
pub(crate) fn sweep(
    conn: &mut PgConnection,
    config: &RelayConfig,
    after: i64,
    limit: i64,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        message_id: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT DISTINCT d.message_id FROM deliveries d \
         JOIN messages m ON m.id = d.message_id AND m.dsn_sent_at IS NULL \
         WHERE d.state IN ('bounced', 'expired') AND d.message_id > $1 \
         ORDER BY d.message_id LIMIT $2",
    )
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)?;
    let ids: Vec<MessageId> = rows.iter().map(|r| MessageId(r.message_id)).collect();
    process(conn, config, &ids)?;
    Ok(match ids.last() {
        Some(last) if i64::try_from(ids.len()).unwrap_or(i64::MAX) >= limit => last.0,
        _ => 0,
    })
}

const SUBJECT: &str = "Undelivered Mail Returned to Sender";

/// A built DSN: its text and its `Message-ID` (with angle brackets).
#[derive(Debug, Clone)]
pub struct Report {
    pub message_id: String,
    pub body: Vec<u8>,
}

/// Builds the RFC 3464 report for `due`: a `multipart/report; report-type=delivery-status`
/// with a human-readable part, the `message/delivery-status` part (one block per failed
/// recipient), and the original message's header block (`text/rfc822-headers`), taken from
/// `original` (the message, or at least its beginning).
pub fn build_report(hostname: &str, due: &DsnDue, original: &[u8]) -> std::io::Result<Report> {
    let id = format!(
        "{}.{:016x}.dsn@{}",
        due.message_id,
        rand::random::<u64>(),
        hostname
    );
    let from = format!("MAILER-DAEMON@{hostname}");
    let parts = vec![
        MimePart::new(
            ContentType::new("text/plain").attribute("charset", "utf-8"),
            BodyPart::Text(human_text(hostname, due).into()),
        ),
        MimePart {
            headers: vec![
                (
                    "Content-Type".into(),
                    ContentType::new("message/delivery-status").into(),
                ),
                ("Content-Transfer-Encoding".into(), Raw::new("7bit").into()),
            ],
            contents: BodyPart::Text(delivery_status(hostname, due).into()),
        },
        MimePart::new(
            ContentType::new("text/rfc822-headers"),
            BodyPart::Binary(header_block(original).into()),
        ),
    ];
    let body = MessageBuilder::new()
        .from(("Mail Delivery System", from.as_str()))
        .to(due.sender.as_str())
        .subject(SUBJECT)
        .message_id(id.as_str())
        .header("Auto-Submitted", Text::new("auto-replied"))
        .body(MimePart::new(
            ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
            BodyPart::Multipart(parts),
        ))
        .write_to_vec()?;
    Ok(Report {
        message_id: format!("<{id}>"),
        body,
    })
}

fn human_text(hostname: &str, due: &DsnDue) -> String {
    let mut text = format!(
        "This is the mail system at host {hostname}.\r\n\r\n\
         I'm sorry to have to inform you that your message could not\r\n\
         be delivered to one or more recipients. The headers of your\r\n\
         message are attached below.\r\n\r\n"
    );
    for r in &due.failed {
        let _ = write!(text, "<{}>: {}\r\n", r.recipient, reason_of(r));
    }
    text
}

/// The last SMTP reply of a recipient, without the expiry note.
fn last_reply(r: &FailedRecipient) -> Option<&str> {
    let reply = r.last_reply.as_deref()?;
    let reply = reply
        .strip_suffix(EXPIRED_NOTE)
        .map(|s| s.trim_end_matches("; ").trim_end())
        .unwrap_or(reply);
    (!reply.is_empty()).then_some(reply)
}

fn reason_of(r: &FailedRecipient) -> String {
    let reply = last_reply(r);
    match (r.state, reply) {
        (DeliveryState::Expired, Some(reply)) => {
            format!("queue lifetime expired; the last attempt got: {reply}")
        }
        (DeliveryState::Expired, None) => "queue lifetime expired".to_owned(),
        (_, Some(reply)) => match (&r.remote_host, r.last_code) {
            (Some(host), Some(_)) => format!("host {host} said: {reply}"),
            _ => reply.to_owned(),
        },
        (_, None) => "delivery failed".to_owned(),
    }
}

/// The RFC 3463 status of a failed recipient: 5.4.7 for expiry, else the enhanced code of
/// the last reply when it is a permanent one, else derived from the reply code.
fn status_of(r: &FailedRecipient) -> String {
    if r.state == DeliveryState::Expired {
        return "5.4.7".to_owned();
    }
    if let Some(code) = last_reply(r).and_then(enhanced_code) {
        if code.starts_with('5') {
            return code.to_owned();
        }
    }
    "5.0.0".to_owned()
}

/// The enhanced status code (`5.1.1`) at the start of a reply, after the reply code if any.
fn enhanced_code(reply: &str) -> Option<&str> {
    let mut words = reply.split_whitespace();
    let mut word = words.next()?;
    if word.len() == 3 && word.bytes().all(|b| b.is_ascii_digit()) {
        word = words.next()?;
    }
    let mut parts = word.split('.');
    let class = parts.next()?;
    let subject = parts.next()?;
    let detail = parts.next()?;
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
    };
    (parts.next().is_none()
        && matches!(class, "2" | "4" | "5")
        && digits(subject, 3)
        && digits(detail, 3))
    .then_some(word)
}

/// Printable ASCII only, on one line, bounded: report fields must stay 7-bit.
fn field(value: &str) -> String {
    let mut out: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if out.len() > MAX_FIELD {
        out.truncate(MAX_FIELD);
        out.push_str("...");
    }
    out
}

fn delivery_status(hostname: &str, due: &DsnDue) -> String {
    let mut text = String::new();
    let _ = write!(
        text,
        "Reporting-MTA: dns; {}\r\nX-Mxspool-Queue-ID: {}\r\nArrival-Date: {}\r\n",
        field(hostname),
        due.message_id,
        due.received_at.to_rfc2822()
    );
    for r in &due.failed {
        let _ = write!(
            text,
            "\r\nFinal-Recipient: rfc822; {}\r\nAction: failed\r\nStatus: {}\r\n",
            field(&r.recipient),
            status_of(r)
        );
        if let Some(host) = &r.remote_host {
            let _ = write!(text, "Remote-MTA: dns; {}\r\n", field(host));
        }
        if let (Some(_), Some(reply)) = (r.last_code, last_reply(r)) {
            let _ = write!(text, "Diagnostic-Code: smtp; {}\r\n", field(reply));
        }
    }
    text
}

/// The header block of a message (without the blank line that ends it), found with
/// mail-parser (on at most [`HEAD_BYTES`] of it); at worst everything up to the first empty
/// line. (`parse_headers` would be cheaper but reports no body offset.)
fn header_block(original: &[u8]) -> Vec<u8> {
    let end = mail_parser::MessageParser::new()
        .parse(original)
        .map(|m| m.root_part().raw_body_offset() as usize)
        .filter(|&end| end > 0 && end <= original.len())
        .or_else(|| {
            original
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|p| p + 2)
        })
        .unwrap_or(original.len());
    let mut head = original[..end].to_vec();
    while head.ends_with(b"\r\n\r\n") {
        head.truncate(head.len() - 2);
    }
    if !head.ends_with(b"\r\n") {
        // A block cut short by the read limit: keep whole lines only.
        match head.windows(2).rposition(|w| w == b"\r\n") {
            Some(p) => head.truncate(p + 2),
            None => head.extend_from_slice(b"\r\n"),
        }
    }
    head
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use chrono::{TimeZone, Utc};

    fn recipient(state: DeliveryState, code: Option<i32>, reply: &str) -> FailedRecipient {
        FailedRecipient {
            recipient: "bob@example.com".to_owned(),
            state,
            last_code: code,
            last_reply: Some(reply.to_owned()),
            remote_host: Some("mx.example.com".to_owned()),
        }
    }

    #[test]
    fn enhanced_codes_are_read_after_the_reply_code() {
        assert_eq!(enhanced_code("550 5.1.1 no such user"), Some("5.1.1"));
        assert_eq!(enhanced_code("5.1.10 null MX"), Some("5.1.10"));
        assert_eq!(enhanced_code("550 no such user"), None);
        assert_eq!(enhanced_code("451 4.3.0 later"), Some("4.3.0"));
        assert_eq!(enhanced_code(""), None);
    }

    #[test]
    fn status_comes_from_the_reply_or_expiry() {
        assert_eq!(
            status_of(&recipient(
                DeliveryState::Bounced,
                Some(550),
                "550 5.1.1 no such user"
            )),
            "5.1.1"
        );
        assert_eq!(
            status_of(&recipient(
                DeliveryState::Bounced,
                Some(554),
                "554 rejected"
            )),
            "5.0.0"
        );
        assert_eq!(
            status_of(&recipient(
                DeliveryState::Expired,
                Some(451),
                "451 4.3.0 later; queue lifetime expired"
            )),
            "5.4.7"
        );
    }

    #[test]
    fn the_expiry_note_is_not_quoted_as_a_reply() {
        let r = recipient(
            DeliveryState::Expired,
            Some(451),
            "451 4.3.0 later; queue lifetime expired",
        );
        assert_eq!(last_reply(&r), Some("451 4.3.0 later"));
        let bare = recipient(DeliveryState::Expired, None, "queue lifetime expired");
        assert_eq!(last_reply(&bare), None);
        assert_eq!(reason_of(&bare), "queue lifetime expired");
    }

    #[test]
    fn the_header_block_stops_at_the_blank_line() {
        let message = b"Subject: hi\r\nFrom: a@b\r\n\r\nbody\r\n\r\nmore\r\n";
        assert_eq!(
            header_block(message),
            b"Subject: hi\r\nFrom: a@b\r\n".to_vec()
        );
        let cut = b"Subject: hi\r\nX-Long: abc";
        assert_eq!(header_block(cut), b"Subject: hi\r\n".to_vec());
    }

    #[test]
    fn a_report_is_a_multipart_report_with_the_three_parts() {
        let due = DsnDue {
            message_id: MessageId(42),
            sender: "alice@sender.test".to_owned(),
            received_at: Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap(),
            failed: vec![recipient(
                DeliveryState::Bounced,
                Some(550),
                "550 5.1.1 no such user",
            )],
        };
        let report = build_report(
            "mx.relay.test",
            &due,
            b"Subject: Hello\r\nMessage-ID: <m1@x>\r\n\r\nbody\r\n",
        )
        .unwrap();
        let text = String::from_utf8(report.body).unwrap();
        assert!(text.contains("multipart/report"), "{text}");
        assert!(
            text.contains("report-type=\"delivery-status\"")
                || text.contains("report-type=delivery-status"),
            "{text}"
        );
        assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
        assert!(
            text.contains("Final-Recipient: rfc822; bob@example.com"),
            "{text}"
        );
        assert!(text.contains("Status: 5.1.1"), "{text}");
        assert!(text.contains("Remote-MTA: dns; mx.example.com"), "{text}");
        assert!(
            text.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user"),
            "{text}"
        );
        assert!(text.contains("Content-Type: text/rfc822-headers"), "{text}");
        assert!(text.contains("Subject: Hello"), "{text}");
        assert!(
            report.message_id.starts_with("<42."),
            "{}",
            report.message_id
        );
    }
}
