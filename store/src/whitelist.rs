//! The whitelist report's evidence: the relay's delivery attempts per source address, and the
//! SMTP probes the API runs from each egress address (`whitelist_checks`).

use crate::ids::DomainId;
use crate::schema::whitelist_checks;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};

/// Probes kept per domain and source address; older ones are deleted as new ones arrive.
pub const KEEP_PER_SOURCE: i64 = 20;

/// One row of `whitelist_checks`: one SMTP session from one egress address.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = whitelist_checks, check_for_backend(diesel::pg::Pg))]
pub struct WhitelistCheck {
    pub id: i64,
    pub domain_id: DomainId,
    pub source_ip: String,
    pub target_host: String,
    pub target_port: i32,
    pub target_ip: Option<String>,
    pub recipient: String,
    pub checked_at: DateTime<Utc>,
    pub duration_ms: i32,
    pub stage: String,
    pub outcome: String,
    pub code: Option<i32>,
    pub reply: String,
    pub transcript: serde_json::Value,
}

/// Insert form of [`WhitelistCheck`] (`checked_at` is the database's now()).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = whitelist_checks)]
pub struct NewWhitelistCheck {
    pub domain_id: DomainId,
    pub source_ip: String,
    pub target_host: String,
    pub target_port: i32,
    pub target_ip: Option<String>,
    pub recipient: String,
    pub duration_ms: i32,
    pub stage: String,
    pub outcome: String,
    pub code: Option<i32>,
    pub reply: String,
    pub transcript: serde_json::Value,
}

/// Stores the probes of one verify run and deletes all but the latest [`KEEP_PER_SOURCE`]
/// of each (domain, source address) they touch, so repeated runs cannot grow the table.
pub fn record(
    conn: &mut PgConnection,
    checks: &[NewWhitelistCheck],
) -> QueryResult<Vec<WhitelistCheck>> {
    conn.transaction(|conn| {
        let stored: Vec<WhitelistCheck> = diesel::insert_into(whitelist_checks::table)
            .values(checks)
            .returning(WhitelistCheck::as_returning())
            .get_results(conn)?;
        for check in &stored {
            diesel::sql_query(
                "DELETE FROM whitelist_checks WHERE domain_id = $1 AND source_ip = $2 AND id NOT IN \
                 (SELECT id FROM whitelist_checks WHERE domain_id = $1 AND source_ip = $2 \
                  ORDER BY checked_at DESC, id DESC LIMIT $3)",
            )
            .bind::<BigInt, _>(check.domain_id)
            .bind::<Text, _>(&check.source_ip)
            .bind::<BigInt, _>(KEEP_PER_SOURCE)
            .execute(conn)?;
        }
        Ok(stored)
    })
}

/// Where a piece of evidence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    /// A delivery attempt of the relay.
    Delivery,
    /// A probe of `POST /domains/{id}/whitelist/verify`.
    Verify,
}

/// One reply (or failure) the domain's current target gave a source address.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub domain_id: DomainId,
    pub source_ip: String,
    pub kind: EvidenceKind,
    pub at: DateTime<Utc>,
    pub code: Option<i32>,
    pub reply: String,
    pub target_ip: Option<String>,
    /// For probes, where the session ended (`rcpt`, `greeting`, …).
    pub stage: Option<String>,
}

#[derive(QueryableByName)]
struct EvidenceRow {
    #[diesel(sql_type = BigInt)]
    domain_id: i64,
    #[diesel(sql_type = Text)]
    source_ip: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Integer>)]
    code: Option<i32>,
    #[diesel(sql_type = Text)]
    reply: String,
    #[diesel(sql_type = Nullable<Text>)]
    target_ip: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    stage: Option<String>,
}

/// The latest evidence for each of `domains` × `source_ips`: up to `per_kind` delivery
/// attempts and `per_kind` probes each, newest first, only those made to the domain's current
/// target host. One statement for a whole page of domains; each (domain, address) pair is
/// one short backward range scan of `delivery_attempts_source_idx` and
/// `whitelist_checks_source_idx`, however many attempts a domain has.
///
/// The recipients of one transaction share one attempt time and reply; callers that count
/// sessions should merge rows with equal time, code and reply.
pub fn evidence(
    conn: &mut PgConnection,
    domains: &[DomainId],
    source_ips: &[String],
    per_kind: i64,
) -> QueryResult<Vec<Evidence>> {
    if domains.is_empty() || source_ips.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = domains.iter().map(|d| d.0).collect();
    let rows: Vec<EvidenceRow> = diesel::sql_query(
        "SELECT r.id AS domain_id, i.ip AS source_ip, e.kind, e.at, e.code, e.reply, \
                e.target_ip, e.stage \
         FROM relay_domains r \
         CROSS JOIN unnest($2::text[]) AS i(ip) \
         CROSS JOIN LATERAL ( \
             (SELECT 'delivery'::text AS kind, a.started_at AS at, a.code, a.reply, \
                     a.target_ip, NULL::text AS stage \
              FROM delivery_attempts a \
              WHERE a.domain_id = r.id AND a.source_ip = i.ip AND a.target_host = r.target_host \
              ORDER BY a.started_at DESC LIMIT $3) \
             UNION ALL \
             (SELECT 'verify'::text, c.checked_at, c.code, c.reply, c.target_ip, c.stage \
              FROM whitelist_checks c \
              WHERE c.domain_id = r.id AND c.source_ip = i.ip AND c.target_host = r.target_host \
                AND c.target_port = r.target_port \
              ORDER BY c.checked_at DESC LIMIT $3) \
         ) e \
         WHERE r.id = ANY($1) \
         ORDER BY r.id, i.ip, e.at DESC",
    )
    .bind::<Array<BigInt>, _>(&ids)
    .bind::<Array<Text>, _>(source_ips)
    .bind::<BigInt, _>(per_kind)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Evidence {
            domain_id: DomainId(r.domain_id),
            source_ip: r.source_ip,
            kind: if r.kind == "verify" {
                EvidenceKind::Verify
            } else {
                EvidenceKind::Delivery
            },
            at: r.at,
            code: r.code,
            reply: r.reply,
            target_ip: r.target_ip,
            stage: r.stage,
        })
        .collect())
}
