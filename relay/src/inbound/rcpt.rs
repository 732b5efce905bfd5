//! RCPT TO: the relay check. A recipient is accepted only when its domain, normalised, is an
//! enabled relay domain (exact match: subdomains are other domains) and its local part passes
//! the domain's recipient policy: `any` accepts every local part, `listed` only those on the
//! domain's list (`550 5.1.1` otherwise), `verify` what the target host accepts when asked
//! ([`super::callout`]). A domain in backup-only mode (`accept_only_when_primary_down`) gets
//! `451 4.7.1` while its target is up, so senders keep using the primary: a target known down
//! (health tracking) lets mail in at once, any other is checked then (connect and greeting,
//! see [`super::callout::Callouts::primary_is_down`]) and counts as up only if it answers.
//! Every form of address that asks a mail system to route further — source routes, `%` and `!` in the local part, a quoted local part holding another
//! address, address literals — is refused outright, so no trickery turns mxspool into an open
//! relay whatever the target host would make of it.

use super::address::{self, Domain, PathError};
use super::callout::Verdict;
use super::mail::strip_keyword;
use super::reply::Reply;
use super::session::{Accepted, Session};
use crate::domains::DomainInfo;
use mxspool_store::kinds::RecipientPolicy;
use mxspool_store::names::normalize_mail_domain;
use mxspool_store::recipients;
use mxspool_store::targets::TargetState;
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

        let target_state = self
            .ctx
            .domains
            .target_state(&domain.target_host, domain.target_port);
        if domain.accept_only_when_primary_down
            && !self
                .ctx
                .callouts
                .primary_is_down(&self.ctx.config, &self.ctx.pool, &domain, target_state)
                .await
        {
            tracing::info!(rcpt = %address, "backup-only domain while its primary is up");
            return Reply::new(
                451,
                "4.7.1",
                format!(
                    "<{}>: this server is a backup MX for {} and accepts its mail only while \
                     the primary mail server is down; deliver to the primary MX",
                    path.raw, domain.name
                ),
            );
        }

        match self
            .policy_allows(
                &domain,
                target_state,
                local_lower,
                mailbox.local,
                &domain_name,
            )
            .await
        {
            Ok(Verdict::Accept) => {}
            Ok(Verdict::Unknown) => {
                tracing::info!(rcpt = %address, "unknown recipient");
                return Reply::new(
                    550,
                    "5.1.1",
                    format!("<{}>: Recipient address rejected: User unknown", path.raw),
                );
            }
            Ok(Verdict::Tempfail) => {
                tracing::info!(rcpt = %address, "recipient cannot be verified now");
                return Reply::new(
                    450,
                    "4.4.3",
                    format!(
                        "<{}>: Recipient address rejected: unable to verify the address \
                         with the primary mail server; try again later",
                        path.raw
                    ),
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot look up the recipient");
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

    /// What the domain's recipient policy says of this (lower-cased) local part; a callout
    /// asks about `raw_local@domain_name`, built only when one is made. The `listed` lookup is an exact match on the primary
    /// key (lists are stored lower-cased): an index-only probe, fast with any list size.
    async fn policy_allows(
        &self,
        domain: &Arc<DomainInfo>,
        target_state: TargetState,
        local: String,
        raw_local: &str,
        domain_name: &str,
    ) -> Result<Verdict, String> {
        match domain.recipient_policy {
            RecipientPolicy::Any => Ok(Verdict::Accept),
            RecipientPolicy::Verify => {
                let asked = format!("{}@{domain_name}", raw_local.to_lowercase());
                self.ctx
                    .callouts
                    .verify(
                        &self.ctx.config,
                        &self.ctx.pool,
                        domain,
                        target_state,
                        &local,
                        &asked,
                    )
                    .await
            }
            RecipientPolicy::Listed => {
                let pool = self.ctx.pool.clone();
                let domain_id = domain.id;
                let listed = tokio::task::spawn_blocking(move || {
                    let mut conn = pool.get().map_err(|e| e.to_string())?;
                    recipients::is_listed(&mut conn, domain_id, &local).map_err(|e| e.to_string())
                })
                .await
                .map_err(|e| e.to_string())??;
                Ok(if listed {
                    Verdict::Accept
                } else {
                    Verdict::Unknown
                })
            }
        }
    }
}
