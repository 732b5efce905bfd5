//! Wake-up on `NOTIFY mxspool_queue`: intake on other nodes and the API's queue commands
//! announce work there. A dedicated thread keeps one connection LISTENing and drains its
//! notifications every [`DRAIN_EVERY`]; each batch of notifications wakes the local workers,
//! and one with the payload [`PROBE_NOW`] (a flush of a down target) the prober too.
//! Polling in the workers remains the fallback when this connection is lost.

use mxspool_store::queue::QUEUE_CHANNEL;
use mxspool_store::targets::PROBE_NOW;
use mxspool_store::PgPool;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

const DRAIN_EVERY: Duration = Duration::from_millis(100);
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// Handle to the listener thread.
pub(crate) struct Listener {
    stop: Arc<AtomicBool>,
}

impl Listener {
    /// Starts the thread; it holds one connection of `pool` for as long as it runs.
    pub(crate) fn spawn(pool: PgPool, wake: Arc<Notify>, probe: Arc<Notify>) -> Listener {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let spawned = std::thread::Builder::new()
            .name("queue-listener".to_owned())
            .spawn(move || listen(&pool, &wake, &probe, &flag));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the queue listener; relying on polling");
        }
        Listener { stop }
    }

    /// Asks the thread to UNLISTEN and end (within [`DRAIN_EVERY`]).
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop();
    }
}

fn listen(pool: &PgPool, wake: &Notify, probe: &Notify, stop: &AtomicBool) {
    use diesel::RunQueryDsl;
    while !stop.load(Ordering::Relaxed) {
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(e) => {
                tracing::debug!(error = %e, "queue listener: no connection; retrying");
                std::thread::sleep(RECONNECT_AFTER);
                continue;
            }
        };
        if let Err(e) = diesel::sql_query(format!("LISTEN {QUEUE_CHANNEL}")).execute(&mut conn) {
            tracing::warn!(error = %e, "queue listener: LISTEN failed; retrying");
            std::thread::sleep(RECONNECT_AFTER);
            continue;
        }
        // Work may have arrived while we were not listening.
        wake.notify_waiters();
        loop {
            if stop.load(Ordering::Relaxed) {
                // Leave the pooled connection as we found it.
                let _ = diesel::sql_query("UNLISTEN *").execute(&mut conn);
                return;
            }
            std::thread::sleep(DRAIN_EVERY);
            let mut woken = false;
            let mut failed = None;
            for notification in conn.notifications_iter() {
                match notification {
                    Ok(n) => {
                        woken = true;
                        if n.payload == PROBE_NOW {
                            probe.notify_one();
                        }
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if woken {
                wake.notify_waiters();
            }
            if let Some(e) = failed {
                tracing::warn!(error = %e, "queue listener lost its connection; reconnecting");
                break;
            }
        }
    }
}
