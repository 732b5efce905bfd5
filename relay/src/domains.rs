//! The relay's copy of the relay-domain table, looked up on every RCPT TO. It is reloaded
//! whenever `domain_table_version` moves (the API's writes bump it through a trigger), which
//! a watcher checks every 250 ms: changes reach new SMTP sessions within a second.
//!
//! Alongside it, the state (`up`/`down`/`unknown`) of the target hosts whose domains need it
//! at RCPT time — backup-only domains (`accept_only_when_primary_down`) and `verify` domains —
//! as the relay's health tracking keeps it in `targets` ([`mxspool_store::targets`]). The same
//! watcher reloads it on every tick, so a target going down or up changes RCPT answers within
//! a second, without a query per RCPT.

use diesel::prelude::*;
use mxspool_store::kinds::{RecipientPolicy, VerifyFallback};
use mxspool_store::schema::{domain_table_version, relay_domains, targets};
use mxspool_store::targets::TargetState;
use mxspool_store::{DomainId, PgPool};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What intake needs to know about one relay domain.
#[derive(Debug, Clone)]
pub struct DomainInfo {
    pub id: DomainId,
    pub name: String,
    pub enabled: bool,
    pub max_message_size: u64,
    pub recipient_policy: RecipientPolicy,
    pub queue_lifetime: Duration,
    /// The primary mail server mail is relayed to (and `verify` callouts ask).
    pub target_host: String,
    pub target_port: i32,
    /// Backup-only mode: RCPT is refused with `451 4.7.1` unless the target is known down.
    pub accept_only_when_primary_down: bool,
    /// How long a callout's positive and negative answers are trusted, in seconds.
    pub verify_valid_ttl_seconds: i32,
    pub verify_invalid_ttl_seconds: i32,
    /// What a `verify` domain answers when the target cannot be asked and nothing is cached.
    pub verify_fallback: VerifyFallback,
}

impl DomainInfo {
    /// Whether RCPT for this domain depends on its target's state.
    fn watches_target(&self) -> bool {
        self.enabled
            && (self.accept_only_when_primary_down
                || self.recipient_policy == RecipientPolicy::Verify)
    }
}

/// One row of `relay_domains` as the relay loads it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = relay_domains, check_for_backend(diesel::pg::Pg))]
struct DomainRow {
    id: DomainId,
    name: String,
    enabled: bool,
    max_message_size: i64,
    recipient_policy: RecipientPolicy,
    queue_lifetime_seconds: i32,
    target_host: String,
    target_port: i32,
    accept_only_when_primary_down: bool,
    verify_valid_ttl_seconds: i32,
    verify_invalid_ttl_seconds: i32,
    verify_fallback: VerifyFallback,
}

/// How often the watcher prunes old callout answers.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// How long past its expiry a callout answer is kept to stand in for an unreachable target.
pub const STALE_CALLOUTS_KEPT: Duration = Duration::from_secs(30 * 24 * 3600);

/// Target states by (host, port), for the targets of [`DomainInfo::watches_target`] domains.
type TargetStates = HashMap<(String, i32), TargetState>;

#[derive(Default)]
struct Snapshot {
    version: Option<i64>,
    by_name: HashMap<String, Arc<DomainInfo>>,
    /// Largest `max_message_size` of the enabled domains, advertised in EHLO's SIZE.
    largest_size: u64,
}

/// Shared, cheaply cloned view of the domain table.
#[derive(Clone, Default)]
pub struct DomainTable {
    inner: Arc<RwLock<Arc<Snapshot>>>,
    targets: Arc<RwLock<Arc<TargetStates>>>,
}

impl DomainTable {
    /// The domain with this normalised name (see `mxspool_store::names::normalize_mail_domain`).
    pub fn lookup(&self, name: &str) -> Option<Arc<DomainInfo>> {
        self.snapshot().by_name.get(name).cloned()
    }

    /// The SIZE to advertise: the largest limit of any enabled domain.
    pub fn largest_message_size(&self) -> u64 {
        self.snapshot().largest_size
    }

    /// Number of domains loaded.
    pub fn len(&self) -> usize {
        self.snapshot().by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last known state of a domain's target. A target the relay has never judged
    /// (no row yet) is `Unknown`.
    pub fn target_state(&self, host: &str, port: i32) -> TargetState {
        let states = match self.targets.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        states
            .get(&(host.to_owned(), port))
            .copied()
            .unwrap_or(TargetState::Unknown)
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        match self.inner.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reloads the table if its version moved, then the states of the targets it watches;
    /// returns whether the table was reloaded.
    pub fn refresh(&self, conn: &mut PgConnection) -> QueryResult<bool> {
        let reloaded = self.refresh_domains(conn)?;
        self.refresh_targets(conn)?;
        Ok(reloaded)
    }

    fn refresh_domains(&self, conn: &mut PgConnection) -> QueryResult<bool> {
        let version: i64 = domain_table_version::table
            .select(domain_table_version::version)
            .first(conn)?;
        if self.snapshot().version == Some(version) {
            return Ok(false);
        }
        let rows: Vec<DomainRow> = relay_domains::table
            .select(DomainRow::as_select())
            .load(conn)?;
        let mut by_name = HashMap::with_capacity(rows.len());
        let mut largest_size = 0;
        for row in rows {
            let size = u64::try_from(row.max_message_size).unwrap_or(0);
            if row.enabled {
                largest_size = largest_size.max(size);
            }
            let info = DomainInfo {
                id: row.id,
                name: row.name.clone(),
                enabled: row.enabled,
                max_message_size: size,
                recipient_policy: row.recipient_policy,
                queue_lifetime: Duration::from_secs(
                    u64::try_from(row.queue_lifetime_seconds).unwrap_or(0),
                ),
                target_host: row.target_host,
                target_port: row.target_port,
                accept_only_when_primary_down: row.accept_only_when_primary_down,
                verify_valid_ttl_seconds: row.verify_valid_ttl_seconds,
                verify_invalid_ttl_seconds: row.verify_invalid_ttl_seconds,
                verify_fallback: row.verify_fallback,
            };
            by_name.insert(row.name, Arc::new(info));
        }
        let snapshot = Arc::new(Snapshot {
            version: Some(version),
            by_name,
            largest_size,
        });
        match self.inner.write() {
            Ok(mut guard) => *guard = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
        Ok(true)
    }

    /// Reloads the states of the targets whose domains need them at RCPT time: one probe of
    /// the `targets` primary key per such host, nothing when no domain needs one.
    fn refresh_targets(&self, conn: &mut PgConnection) -> QueryResult<()> {
        let snapshot = self.snapshot();
        let mut watched: Vec<(&str, i32)> = snapshot
            .by_name
            .values()
            .filter(|d| d.watches_target())
            .map(|d| (d.target_host.as_str(), d.target_port))
            .collect();
        watched.sort_unstable();
        watched.dedup();
        let mut states = TargetStates::with_capacity(watched.len());
        if !watched.is_empty() {
            let mut hosts: Vec<&str> = watched.iter().map(|(host, _)| *host).collect();
            hosts.dedup();
            let rows: Vec<(String, i32, TargetState)> = targets::table
                .filter(targets::host.eq_any(&hosts))
                .select((targets::host, targets::port, targets::state))
                .load(conn)?;
            for (host, port, state) in rows {
                if watched.binary_search(&(host.as_str(), port)).is_ok() {
                    states.insert((host, port), state);
                }
            }
        }
        let states = Arc::new(states);
        match self.targets.write() {
            Ok(mut guard) => *guard = states,
            Err(poisoned) => *poisoned.into_inner() = states,
        }
        Ok(())
    }

    /// Loads the table once, then keeps it fresh until `shutdown` turns true.
    ///
    /// Every [`PRUNE_EVERY`] it also deletes callout answers that expired more than
    /// [`STALE_CALLOUTS_KEPT`] ago (they stand in for an unreachable target until then).
    pub async fn watch(self, pool: PgPool, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            let table = self.clone();
            let pool = pool.clone();
            let prune = last_prune.elapsed() >= PRUNE_EVERY;
            if prune {
                last_prune = tokio::time::Instant::now();
            }
            let result = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                if prune {
                    let kept = i64::try_from(STALE_CALLOUTS_KEPT.as_secs()).unwrap_or(i64::MAX);
                    match mxspool_store::recipients::prune_callouts(&mut conn, kept, 10_000) {
                        Ok(0) => {}
                        Ok(n) => tracing::debug!(deleted = n, "old callout answers pruned"),
                        Err(e) => tracing::warn!(error = %e, "cannot prune callout answers"),
                    }
                }
                table.refresh(&mut conn).map_err(|e| e.to_string())
            })
            .await;
            match result {
                Ok(Ok(true)) => tracing::debug!(domains = self.len(), "domain table reloaded"),
                Ok(Ok(false)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot reload the domain table"),
                Err(e) => tracing::warn!(error = %e, "domain table reload task failed"),
            }
        }
    }
}
