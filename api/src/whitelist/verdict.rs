//! From replies to a verdict per egress address.
//!
//! The evidence of an address is the latest delivery attempts and verify probes from it to
//! the domain's current target host. Only **recent** evidence decides: started less than
//! [`RECENT_DAYS`](super::RECENT_DAYS) days (7 × 24 h) before the report is made, among the 10
//! latest items shown. Of those, only items with an SMTP reply code count (a connection that
//! failed says nothing about filtering), and a 5xx that is *not* a policy rejection (unknown
//! user, message too big: about the recipient or message, not the address) is left aside.
//! Then, newest first:
//!
//! 1. the newest counting reply is a policy rejection (see [`is_policy_rejection`]) →
//!    `rejected`;
//! 2. the newest is 2xx and somewhere in the recent evidence a 2xx came right after two or
//!    more consecutive 4xx replies → `greylisted` (the mail got through, late);
//! 3. the newest is 2xx → `ok`;
//! 4. the newest is 4xx → `deferred` (only temporary failures since the last success:
//!    greylisting not yet passed, or a temporary block);
//! 5. nothing counts → `unknown` (no attempt or probe yet, none recent, or none with a
//!    reply that judges the address).

use chrono::{DateTime, Duration, Utc};
use mxspool_store::whitelist::{Evidence, EvidenceKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How the domain's target treats mail from one egress address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = WhitelistVerdict)]
pub enum Verdict {
    /// The newest recent reply accepted the mail (2xx).
    Ok,
    /// The newest recent reply was a 5xx policy rejection (5.7.x, "blocked", "spam", …).
    Rejected,
    /// Recently accepted, but only after repeated temporary failures (4xx then 2xx).
    Greylisted,
    /// Recent replies since the last success are temporary failures (4xx) only.
    Deferred,
    /// No recent reply that judges the address (no attempts yet).
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Rejected => "rejected",
            Verdict::Greylisted => "greylisted",
            Verdict::Deferred => "deferred",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Where an evidence item comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = WhitelistEvidenceSource)]
pub enum EvidenceSource {
    /// A delivery attempt of the relay (its reply to RCPT or to the message).
    Delivery,
    /// A probe of `POST /domains/{id}/whitelist/verify` (its last reply, up to RCPT).
    Verify,
}

impl EvidenceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceSource::Delivery => "delivery",
            EvidenceSource::Verify => "verify",
        }
    }
}

/// One reply the target gave the address (or a failure to get one).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = WhitelistEvidence)]
pub struct EvidenceItem {
    pub source: EvidenceSource,
    pub at: DateTime<Utc>,
    /// SMTP reply code; null when no reply came (connection failure, timeout, no bind).
    pub code: Option<u16>,
    /// The reply as the target sent it, or what went wrong.
    pub reply: String,
    /// The target address connected to.
    pub target_ip: Option<String>,
    /// Verify probes: the step the session ended at (`bind`, `resolve`, `connect`,
    /// `greeting`, `ehlo`, `mail`, `rcpt`).
    pub stage: Option<String>,
    /// Within the recent window, so it counts for the verdict.
    pub recent: bool,
}

/// Turns stored rows of one address (newest first) into the items shown: the recipients of
/// one transaction (same time, code and reply) become one item; at most `limit`.
pub fn items(rows: &[&Evidence], now: DateTime<Utc>, limit: usize) -> Vec<EvidenceItem> {
    let since = now - Duration::days(super::RECENT_DAYS);
    let mut out: Vec<EvidenceItem> = Vec::new();
    for row in rows {
        let source = match row.kind {
            EvidenceKind::Delivery => EvidenceSource::Delivery,
            EvidenceKind::Verify => EvidenceSource::Verify,
        };
        let code = row.code.and_then(|c| u16::try_from(c).ok());
        let duplicate = out.iter().any(|seen| {
            seen.source == source
                && seen.at == row.at
                && seen.code == code
                && seen.reply == row.reply
        });
        if duplicate {
            continue;
        }
        out.push(EvidenceItem {
            source,
            at: row.at,
            code,
            reply: row.reply.clone(),
            target_ip: row.target_ip.clone(),
            stage: row.stage.clone(),
            recent: row.at >= since,
        });
    }
    out.sort_by_key(|item| std::cmp::Reverse(item.at));
    out.truncate(limit);
    out
}

/// The verdict on `items` (newest first), with its reason (rules in the module docs).
pub fn judge(items: &[EvidenceItem]) -> (Verdict, String) {
    let counting: Vec<&EvidenceItem> = items
        .iter()
        .filter(|i| i.recent)
        .filter(|i| match i.code {
            Some(code @ 500..=599) => is_policy_rejection(code, &i.reply),
            Some(200..=299 | 400..=499) => true,
            _ => false,
        })
        .collect();
    let describe = |i: &EvidenceItem| format!("{}, {}", i.source.as_str(), i.at.to_rfc3339());
    let Some(newest) = counting.first() else {
        let reason = match items.iter().find(|i| i.recent) {
            None if items.is_empty() => {
                "no delivery attempt or verify probe from this address yet; run POST \
                 /api/v1/domains/{id}/whitelist/verify to test it now"
                    .to_owned()
            }
            None => format!(
                "no delivery attempt or verify probe from this address in the last {} days",
                super::RECENT_DAYS
            ),
            Some(latest) => format!(
                "no recent reply judges this address; the latest ({}) was: {}",
                describe(latest),
                latest.reply
            ),
        };
        return (Verdict::Unknown, reason);
    };
    match newest.code.unwrap_or(0) {
        500..=599 => (
            Verdict::Rejected,
            format!(
                "the latest reply ({}) is a policy rejection: {}",
                describe(newest),
                newest.reply
            ),
        ),
        200..=299 => match greylisting(&counting) {
            Some((accepted, failures)) => (
                Verdict::Greylisted,
                format!(
                    "accepted ({}) only after {failures} temporary failures (4xx) in a row, the \
                     first: {}; allow this address in the greylisting filter to skip the delay",
                    describe(accepted),
                    counting
                        .iter()
                        .skip_while(|i| !std::ptr::eq(**i, accepted))
                        .skip(1)
                        .take(failures)
                        .last()
                        .map_or(String::new(), |i| i.reply.clone())
                ),
            ),
            None => (
                Verdict::Ok,
                format!(
                    "the latest reply ({}) accepted the mail: {}",
                    describe(newest),
                    newest.reply
                ),
            ),
        },
        _ => {
            let failures = counting
                .iter()
                .take_while(|i| i.code.is_some_and(|c| (400..500).contains(&c)))
                .count();
            (
                Verdict::Deferred,
                format!(
                    "{failures} temporary failure(s) (4xx) since the last success, the latest \
                     ({}): {}",
                    describe(newest),
                    newest.reply
                ),
            )
        }
    }
}

/// The newest 2xx that came right after two or more consecutive 4xx replies, and how many.
fn greylisting<'a>(counting: &[&'a EvidenceItem]) -> Option<(&'a EvidenceItem, usize)> {
    let is = |i: &EvidenceItem, range: std::ops::RangeInclusive<u16>| {
        i.code.is_some_and(|c| range.contains(&c))
    };
    counting.iter().enumerate().find_map(|(n, item)| {
        if !is(item, 200..=299) {
            return None;
        }
        let failures = counting[n + 1..]
            .iter()
            .take_while(|older| is(older, 400..=499))
            .count();
        (failures >= 2).then_some((*item, failures))
    })
}

/// Words in a 5xx reply that say the client (its address, reputation or the content) was
/// refused by a filter or policy rather than that the mailbox or message is at fault.
const POLICY_WORDS: &[&str] = &[
    "block",
    "blacklist",
    "denylist",
    "policy",
    "spam",
    "denied",
    "access",
    "rbl",
    "reputation",
    "banned",
    "not allowed",
    "not permitted",
    "client host",
];

/// A 5xx reply that looks like a filter or policy rejection: enhanced status `5.7.x`
/// (security or policy), or one of [`POLICY_WORDS`] (case-insensitive) unless the enhanced
/// status says the mailbox, the mail system or the message is at fault (`5.1.x`, `5.2.x`,
/// `5.3.x`, `5.6.x`).
pub fn is_policy_rejection(code: u16, reply: &str) -> bool {
    if !(500..600).contains(&code) {
        return false;
    }
    // After the reply code (`554 ` or `554-`), if the text starts with one.
    let text = match reply.get(..3) {
        Some(code) if code.chars().all(|c| c.is_ascii_digit()) => reply
            .get(3..)
            .unwrap_or_default()
            .trim_start_matches(['-', ' ']),
        _ => reply,
    };
    let enhanced = text
        .split_whitespace()
        .next()
        .map(|token| token.split('.').collect::<Vec<_>>())
        .filter(|parts| {
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        });
    if let Some(parts) = enhanced {
        match parts[1] {
            "7" => return true,
            "1" | "2" | "3" | "6" => return false,
            _ => {}
        }
    }
    let lower = reply.to_ascii_lowercase();
    POLICY_WORDS.iter().any(|word| lower.contains(word))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn item(minutes_ago: i64, code: Option<u16>, reply: &str) -> EvidenceItem {
        EvidenceItem {
            source: EvidenceSource::Delivery,
            at: Utc::now() - Duration::minutes(minutes_ago),
            code,
            reply: reply.to_owned(),
            target_ip: None,
            stage: None,
            recent: minutes_ago < super::super::RECENT_DAYS * 24 * 60,
        }
    }

    #[test]
    fn policy_rejections_are_told_from_mailbox_errors() {
        assert!(is_policy_rejection(554, "554 5.7.1 Service unavailable"));
        assert!(is_policy_rejection(
            550,
            "550 Client host [192.0.2.25] blocked using zen.spamhaus.org"
        ));
        assert!(is_policy_rejection(550, "550 Access denied"));
        assert!(is_policy_rejection(
            554,
            "554 5.7.0 Reject, id=12345 - spam"
        ));
        assert!(!is_policy_rejection(
            550,
            "550 5.1.1 <bob@x>: Recipient address rejected: access denied to mailbox"
        ));
        assert!(!is_policy_rejection(
            552,
            "552 5.3.4 Message size exceeds fixed limit"
        ));
        assert!(!is_policy_rejection(550, "550 no such user here"));
        assert!(!is_policy_rejection(451, "451 4.7.1 Greylisted, policy"));
    }

    #[test]
    fn verdicts_follow_the_newest_counting_reply() {
        assert_eq!(judge(&[]).0, Verdict::Unknown);
        assert_eq!(judge(&[item(1, Some(250), "250 ok")]).0, Verdict::Ok);
        assert_eq!(
            judge(&[
                item(1, Some(554), "554 5.7.1 blocked"),
                item(5, Some(250), "250 ok")
            ])
            .0,
            Verdict::Rejected
        );
        // A mailbox error says nothing about the address: the older success decides.
        assert_eq!(
            judge(&[
                item(1, Some(550), "550 5.1.1 no such user"),
                item(5, Some(250), "250 ok")
            ])
            .0,
            Verdict::Ok
        );
        let greylisted = [
            item(1, Some(250), "250 ok"),
            item(10, Some(451), "451 4.7.1 greylisted"),
            item(20, Some(451), "451 4.7.1 greylisted"),
        ];
        let (verdict, reason) = judge(&greylisted);
        assert_eq!(verdict, Verdict::Greylisted);
        assert!(reason.contains("2 temporary failures"), "{reason}");
        assert!(reason.contains("451 4.7.1 greylisted"), "{reason}");
        // One 4xx before a success is a hiccup, not greylisting.
        assert_eq!(
            judge(&[
                item(1, Some(250), "250 ok"),
                item(10, Some(421), "421 busy")
            ])
            .0,
            Verdict::Ok
        );
        assert_eq!(
            judge(&[
                item(1, Some(450), "450 later"),
                item(9, Some(450), "450 later")
            ])
            .0,
            Verdict::Deferred
        );
        // Old evidence and connection failures do not count.
        let stale = [item(8 * 24 * 60, Some(554), "554 5.7.1 blocked")];
        assert_eq!(judge(&stale).0, Verdict::Unknown);
        assert_eq!(
            judge(&[item(1, None, "connect: refused")]).0,
            Verdict::Unknown
        );
    }
}
