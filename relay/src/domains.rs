//! The relay's copy of the relay-domain table, looked up on every RCPT TO. It is reloaded
//! whenever `domain_table_version` moves (the API's writes bump it through a trigger), which
//! a watcher checks every 250 ms: changes reach new SMTP sessions within a second.

use diesel::prelude::*;
use mxspool_store::kinds::RecipientPolicy;
use mxspool_store::schema::{domain_table_version, relay_domains};
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
}

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

    fn snapshot(&self) -> Arc<Snapshot> {
        match self.inner.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reloads the table if its version moved; returns whether it did.
    pub fn refresh(&self, conn: &mut PgConnection) -> QueryResult<bool> {
        let version: i64 = domain_table_version::table
            .select(domain_table_version::version)
            .first(conn)?;
        if self.snapshot().version == Some(version) {
            return Ok(false);
        }
        type Row = (DomainId, String, bool, i64, RecipientPolicy, i32);
        let rows: Vec<Row> = relay_domains::table
            .select((
                relay_domains::id,
                relay_domains::name,
                relay_domains::enabled,
                relay_domains::max_message_size,
                relay_domains::recipient_policy,
                relay_domains::queue_lifetime_seconds,
            ))
            .load(conn)?;
        let mut by_name = HashMap::with_capacity(rows.len());
        let mut largest_size = 0;
        for (id, name, enabled, size, policy, lifetime) in rows {
            let size = u64::try_from(size).unwrap_or(0);
            if enabled {
                largest_size = largest_size.max(size);
            }
            let info = DomainInfo {
                id,
                name: name.clone(),
                enabled,
                max_message_size: size,
                recipient_policy: policy,
                queue_lifetime: Duration::from_secs(u64::try_from(lifetime).unwrap_or(0)),
            };
            by_name.insert(name, Arc::new(info));
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

    /// Loads the table once, then keeps it fresh until `shutdown` turns true.
    pub async fn watch(self, pool: PgPool, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            let table = self.clone();
            let pool = pool.clone();
            let result = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
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
