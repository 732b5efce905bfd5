//! RCPT TO: the relay check. A recipient is accepted only when its domain, normalised, is an
//! enabled relay domain (exact match: subdomains are other domains) and its local part passes
//! the domain's recipient policy. Every form of address that asks a mail system to route
//! further — source routes, `%` and `!` in the local part, a quoted local part holding another
//! address, address literals — is refused outright, so no trickery turns mxspool into an open
//! relay whatever the target host would make of it.

use super::address::{self, Domain, PathError};
use super::mail::strip_keyword;
use super::reply::Reply;
use super::session::{Accepted, Session};
use crate::domains::DomainInfo;
use diesel::prelude::*;
use mxspool_store::kinds::RecipientPolicy;
use mxspool_store::names::normalize_mail_domain;
use mxspool_store::schema::domain_recipients;
use std::sync::Arc;

/// Recipients beyond the limit before a `452` starts counting as an error (Postfix's
/// `smtpd_recipient_overshoot_limit`): a legitimate client with a long list gets its `452`s
/// and sends the rest in another transaction without being disconnected.
const RECIPIENT_OVERSHOOT: usize = 1000;

impl Session {
    pub(crate) async fn handle_rcpt(&mut self, args: &str) -> Reply {
        if self.helo.is_none() {
            return Reply::send_helo_first();
        }
        let Some(tx) = &self.tx else {
            return Reply::new(503, "5.5.1", "Error: need MAIL command");
        };
        let smtputf8 = tx.smtputf8;
        let Some(path_text) = strip_keyword(args, "TO:") else {
            return Reply::syntax("RCPT TO:<address>");
        };
        let (path, rest) = match address::parse_path(path_text) {
            Ok(parsed) => parsed,
            Err(PathError::TooLong) => {
                return Reply::new(
                    501,
                    "5.1.3",
                    "Bad recipient address syntax: address too long",
                )
            }
            Err(PathError::Syntax) => {
                return Reply::new(501, "5.1.3", "Bad recipient address syntax")
            }
        };
        match address::parse_params(rest) {
            Ok(params) if params.is_empty() => {}
            Ok(params) => {
                let keyword = params.first().map(|p| p.keyword).unwrap_or_default();
                return Reply::new(555, "5.5.4", format!("Unsupported option: {keyword}"));
            }
            Err(()) => return Reply::new(501, "5.5.4", "Error: bad parameter syntax"),
        }

        let denied = || {
            tracing::info!(rcpt = %path.raw, "relay access denied");
            Reply::new(550, "5.7.1", format!("<{}>: Relay access denied", path.raw))
        };
        let Some(mailbox) = &path.mailbox else {
            return Reply::new(501, "5.1.3", "Bad recipient address syntax");
        };
        if path.source_route {
            return denied();
        }
        // `%` (percent hack), `!` (UUCP bang path) and `@` (inside quotes) would let the next
        // mail system route the message onwards.
        if mailbox.local_value.contains(['@', '%', '!']) {
            return denied();
        }
        let Some(Domain::Name(domain_text)) = mailbox.domain else {
            // No domain, or an address literal: never one of ours.
            return denied();
        };
        let Some(domain_name) = normalize_mail_domain(domain_text) else {
            return denied();
        };
        let Some(domain) = self.ctx.domains.lookup(&domain_name) else {
            return denied();
        };
        if !domain.enabled {
            return denied();
        }
        if !smtputf8 && !mailbox.is_ascii() {
            return Reply::new(
                553,
                "5.6.7",
                "Must declare SMTPUTF8 to send a UTF-8 address",
            );
        }

        let address = format!("{}@{}", mailbox.local, domain_name);
        let local_lower = mailbox.local_value.to_lowercase();
        let key = format!("{local_lower}@{domain_name}");
        let max_recipients = self.ctx.config.max_recipients;
        let Some(tx) = &mut self.tx else {
            return Reply::new(503, "5.5.1", "Error: need MAIL command");
        };
        if tx.seen.contains(&key) {
            return Reply::new(250, "2.1.5", "Ok");
        }
        if tx.recipients.len() >= max_recipients {
            tx.overshoot += 1;
            let reply = Reply::new(452, "4.5.3", "Too many recipients");
            return if tx.overshoot > RECIPIENT_OVERSHOOT {
                reply.counting()
            } else {
                reply
            };
        }
        if tx
            .declared_size
            .is_some_and(|size| size > domain.max_message_size)
        {
            return Reply::size_exceeded();
        }

        match self.policy_allows(&domain, local_lower).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(rcpt = %address, "unknown recipient");
                return Reply::new(
                    550,
                    "5.1.1",
                    format!("<{}>: Recipient address rejected: User unknown", path.raw),
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot look up the recipient list");
                return Reply::temporary_failure();
            }
        }

        let Some(tx) = &mut self.tx else {
            return Reply::new(503, "5.5.1", "Error: need MAIL command");
        };
        tx.seen.insert(key);
        tx.recipients.push(Accepted { address, domain });
        Reply::new(250, "2.1.5", "Ok")
    }

    /// Whether the domain's recipient policy accepts this (lower-cased) local part. The
    /// `listed` lookup is an exact match on the primary key, so recipient lists must store
    /// their local parts lower-cased (an index-only probe, fast with any list size).
    async fn policy_allows(&self, domain: &Arc<DomainInfo>, local: String) -> Result<bool, String> {
        match domain.recipient_policy {
            RecipientPolicy::Any => Ok(true),
            // Callouts to the target come with their own issue; until then `verify` domains
            // accept like `any` (Postfix without `reject_unverified_recipient`).
            RecipientPolicy::Verify => Ok(true),
            RecipientPolicy::Listed => {
                let pool = self.ctx.pool.clone();
                let domain_id = domain.id;
                tokio::task::spawn_blocking(move || {
                    let mut conn = pool.get().map_err(|e| e.to_string())?;
                    diesel::select(diesel::dsl::exists(
                        domain_recipients::table
                            .filter(domain_recipients::domain_id.eq(domain_id))
                            .filter(domain_recipients::local_part.eq(local)),
                    ))
                    .get_result::<bool>(&mut conn)
                    .map_err(|e| e.to_string())
                })
                .await
                .map_err(|e| e.to_string())?
            }
        }
    }
}
