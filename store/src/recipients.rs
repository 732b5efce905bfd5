//! Recipient validation data: the lists of `listed` domains and the cached callout answers of
//! `verify` domains. Both are keyed by `(domain_id, local_part)` with the local part
//! lower-cased ([`normalize_local_part`]), which is what the relay looks up at RCPT time: an
//! index-only probe of the primary key whatever the size of the list.
//!
//! A whole list is replaced with set operations over one array parameter ([`replace`]), so
//! 100,000 addresses cost a few statements, not 100,000.

use crate::ids::DomainId;
use crate::schema::{domain_recipients, recipient_callouts, relay_domains};
use chrono::{DateTime, Utc};
use diesel::connection::Connection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use std::collections::BTreeSet;

/// Longest local part (RFC 5321 §4.5.3.1.1).
pub const MAX_LOCAL_PART: usize = 64;
/// Longest address, `local@domain` (RFC 5321 §4.5.3.1.3 less the angle brackets).
pub const MAX_ADDRESS: usize = 254;

/// Characters allowed in an atom besides letters, digits and non-ASCII (RFC 5322 `atext`),
/// less `%` and `!`, which the relay refuses in every address (they route mail onwards).
const ATEXT_SPECIALS: &str = "#$&'*+-/=?^_`{|}~";

/// The stored form of a local part: checked as an RFC 5321 dot-atom (UTF-8 allowed, RFC 6531)
/// and lower-cased. Quoted local parts are not accepted in lists.
pub fn normalize_local_part(local: &str) -> Result<String, &'static str> {
    if local.is_empty() {
        return Err("the local part (before @) is empty");
    }
    if local.len() > MAX_LOCAL_PART {
        return Err("the local part is longer than 64 octets");
    }
    if local.starts_with('"') {
        return Err("quoted local parts are not accepted; list dot-atom addresses");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the local part has a leading, trailing or double dot");
    }
    if local.contains(['%', '!']) {
        return Err("`%` and `!` route mail onwards and are never accepted by the relay");
    }
    let valid = local.chars().all(|c| {
        c.is_ascii_alphanumeric() || c == '.' || ATEXT_SPECIALS.contains(c) || !c.is_ascii()
    });
    if !valid || local.chars().any(char::is_control) {
        return Err("the local part has a character not allowed in an address");
    }
    Ok(local.to_lowercase())
}

/// One listed recipient.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = domain_recipients, check_for_backend(diesel::pg::Pg))]
pub struct Recipient {
    pub local_part: String,
    pub created_at: DateTime<Utc>,
}

/// What a bulk replace changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplaceCounts {
    pub added: i64,
    pub removed: i64,
    pub unchanged: i64,
}

/// One page of a domain's list in local-part order, after `after`, optionally only local parts
/// starting with `prefix` (lower-cased by the caller).
pub fn list(
    conn: &mut PgConnection,
    domain: DomainId,
    prefix: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Recipient>> {
    let mut query = domain_recipients::table
        .filter(domain_recipients::domain_id.eq(domain))
        .select(Recipient::as_select())
        .order(domain_recipients::local_part.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(domain_recipients::local_part.gt(after.to_owned()));
    }
    if let Some(prefix) = prefix.filter(|p| !p.is_empty()) {
        query = query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("starts_with(local_part, ")
                .bind::<Text, _>(prefix.to_owned())
                .sql(")"),
        );
    }
    query.load(conn)
}

/// Number of local parts listed for the domain.
pub fn count(conn: &mut PgConnection, domain: DomainId) -> QueryResult<i64> {
    domain_recipients::table
        .filter(domain_recipients::domain_id.eq(domain))
        .count()
        .get_result(conn)
}

/// Makes the domain's list exactly `locals` (normalised local parts; duplicates are
/// counted once). Concurrent replaces of one domain run one after the other (they lock the
/// domain's row); rows that stay keep their `created_at`.
pub fn replace(
    conn: &mut PgConnection,
    domain: DomainId,
    locals: &[String],
) -> QueryResult<ReplaceCounts> {
    let wanted: Vec<&str> = locals
        .iter()
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    conn.transaction(|conn| {
        relay_domains::table
            .find(domain)
            .select(relay_domains::id)
            .for_no_key_update()
            .first::<DomainId>(conn)?;
        #[derive(QueryableByName)]
        struct Changed {
            #[diesel(sql_type = BigInt)]
            removed: i64,
            #[diesel(sql_type = BigInt)]
            added: i64,
        }
        // Both data-modifying statements see the same snapshot: the DELETE takes what is not
        // wanted, the INSERT what is not there, so neither touches the other's rows. Both are
        // hash anti-joins; only new rows pay for an insertion (and its foreign-key check).
        let changed: Changed = diesel::sql_query(
            "WITH wanted AS (SELECT unnest($2::text[]) AS local_part), \
             removed AS ( \
                 DELETE FROM domain_recipients r \
                 WHERE r.domain_id = $1 \
                   AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.local_part = r.local_part) \
                 RETURNING 1), \
             added AS ( \
                 INSERT INTO domain_recipients (domain_id, local_part) \
                 SELECT $1, w.local_part FROM wanted w \
                 WHERE NOT EXISTS (SELECT 1 FROM domain_recipients r \
                                   WHERE r.domain_id = $1 AND r.local_part = w.local_part) \
                 ON CONFLICT DO NOTHING \
                 RETURNING 1) \
             SELECT (SELECT count(*) FROM removed) AS removed, \
                    (SELECT count(*) FROM added) AS added",
        )
        .bind::<BigInt, _>(domain)
        .bind::<Array<Text>, _>(&wanted)
        .get_result(conn)?;
        let total = i64::try_from(wanted.len()).unwrap_or(i64::MAX);
        Ok(ReplaceCounts {
            added: changed.added,
            removed: changed.removed,
            unchanged: total - changed.added,
        })
    })
}

/// Adds `locals` (normalised) to the list; returns how many were new.
pub fn add(conn: &mut PgConnection, domain: DomainId, locals: &[String]) -> QueryResult<i64> {
    let unique: Vec<&str> = locals
        .iter()
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    #[derive(QueryableByName)]
    struct Added {
        #[diesel(sql_type = BigInt)]
        added: i64,
    }
    let row: Added = diesel::sql_query(
        "WITH added AS ( \
             INSERT INTO domain_recipients (domain_id, local_part) \
             SELECT $1, w.local_part FROM unnest($2::text[]) AS w (local_part) \
             WHERE NOT EXISTS (SELECT 1 FROM domain_recipients r \
                               WHERE r.domain_id = $1 AND r.local_part = w.local_part) \
             ON CONFLICT DO NOTHING \
             RETURNING 1) \
         SELECT count(*) AS added FROM added",
    )
    .bind::<BigInt, _>(domain)
    .bind::<Array<Text>, _>(&unique)
    .get_result(conn)?;
    Ok(row.added)
}

/// Removes one local part (normalised); returns whether it was listed.
pub fn remove(conn: &mut PgConnection, domain: DomainId, local: &str) -> QueryResult<bool> {
    let n = diesel::delete(
        domain_recipients::table
            .filter(domain_recipients::domain_id.eq(domain))
            .filter(domain_recipients::local_part.eq(local)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// Whether the local part (normalised) is listed: the relay's `listed` check.
pub fn is_listed(conn: &mut PgConnection, domain: DomainId, local: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        domain_recipients::table
            .filter(domain_recipients::domain_id.eq(domain))
            .filter(domain_recipients::local_part.eq(local)),
    ))
    .get_result(conn)
}

/// A stored callout answer.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = recipient_callouts, check_for_backend(diesel::pg::Pg))]
pub struct CalloutAnswer {
    pub valid: bool,
    pub reply: String,
    pub checked_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl CalloutAnswer {
    /// Whether the answer is still trusted without asking the target again.
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

/// The stored callout answer for a local part (normalised), fresh or not.
pub fn find_callout(
    conn: &mut PgConnection,
    domain: DomainId,
    local: &str,
) -> QueryResult<Option<CalloutAnswer>> {
    recipient_callouts::table
        .find((domain, local))
        .select(CalloutAnswer::as_select())
        .first(conn)
        .optional()
}

/// Stores a callout answer, trusted for `ttl_seconds`.
pub fn record_callout(
    conn: &mut PgConnection,
    domain: DomainId,
    local: &str,
    valid: bool,
    reply: &str,
    ttl_seconds: i32,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO recipient_callouts (domain_id, local_part, valid, reply, checked_at, expires_at) \
         VALUES ($1, $2, $3, $4, now(), now() + make_interval(secs => $5)) \
         ON CONFLICT (domain_id, local_part) DO UPDATE \
         SET valid = EXCLUDED.valid, reply = EXCLUDED.reply, \
             checked_at = EXCLUDED.checked_at, expires_at = EXCLUDED.expires_at",
    )
    .bind::<BigInt, _>(domain)
    .bind::<Text, _>(local)
    .bind::<diesel::sql_types::Bool, _>(valid)
    .bind::<Text, _>(reply)
    .bind::<diesel::sql_types::Double, _>(f64::from(ttl_seconds))
    .execute(conn)?;
    Ok(())
}

/// Deletes up to `limit` answers that expired more than `keep_seconds` ago (stale answers
/// are kept that long to stand in while a target is unreachable); returns how many.
pub fn prune_callouts(
    conn: &mut PgConnection,
    keep_seconds: i64,
    limit: i64,
) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM recipient_callouts WHERE ctid IN ( \
             SELECT ctid FROM recipient_callouts \
             WHERE expires_at < now() - make_interval(secs => $1) \
             LIMIT $2)",
    )
    .bind::<diesel::sql_types::Double, _>(keep_seconds as f64)
    .bind::<BigInt, _>(limit)
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_parts_are_lower_cased_dot_atoms() {
        assert_eq!(
            normalize_local_part("John.Doe+tag"),
            Ok("john.doe+tag".to_owned())
        );
        assert_eq!(normalize_local_part("ÜLI"), Ok("üli".to_owned()));
        for bad in [
            "", ".a", "a.", "a..b", "\"a b\"", "a b", "a%b", "a!b", "a,b", "a\u{7}",
        ] {
            assert!(normalize_local_part(bad).is_err(), "{bad:?} accepted");
        }
        assert!(normalize_local_part(&"a".repeat(64)).is_ok());
        assert!(normalize_local_part(&"a".repeat(65)).is_err());
    }
}
