//! Periodic queue upkeep, on every node (each step is safe to run concurrently):
//! take back recipients whose worker's lease ran out, expire recipients past their queue
//! lifetime and report them (DSN), close idle SMTP connections, and now and then sweep for
//! failed messages whose DSN a crashed node never produced.

use super::{dsn, Engine};
use mxspool_store::queue;
use mxspool_store::MessageId;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Recipients expired per statement.
const EXPIRE_BATCH: i64 = 500;
/// Upper bound of expiry statements per round, so one round stays short.
const EXPIRE_ROUNDS: usize = 20;
/// How often the DSN sweep runs, and how many messages it looks at per run.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
const SWEEP_BATCH: i64 = 200;

pub(crate) async fn run(engine: Arc<Engine>) {
    let tick = engine
        .config()
        .poll_interval
        .clamp(Duration::from_millis(100), Duration::from_secs(1));
    let mut sweep_cursor = 0_i64;
    // The first sweep runs at start-up: it settles what a previous crash left behind.
    let mut last_sweep: Option<Instant> = None;
    loop {
        round(&engine).await;
        if last_sweep.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
            last_sweep = Some(Instant::now());
            let config = engine.ctx.config.clone();
            let after = sweep_cursor;
            match engine
                .db(move |conn| dsn::sweep(conn, &config, after, SWEEP_BATCH))
                .await
            {
                Ok(next) => sweep_cursor = next,
                Err(e) => tracing::warn!(error = %e, "DSN sweep failed"),
            }
        }
        engine.connections.sweep().await;
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = engine.stopped() => return,
        }
    }
}

async fn round(engine: &Engine) {
    let result = engine
        .db(|conn| {
            let reaped = queue::reap_expired_leases(conn)?;
            let mut expired: Vec<MessageId> = Vec::new();
            for _ in 0..EXPIRE_ROUNDS {
                let batch = queue::expire_due(conn, EXPIRE_BATCH)?;
                let more = i64::try_from(batch.len()).unwrap_or(i64::MAX) >= EXPIRE_BATCH;
                expired.extend(batch);
                if !more {
                    break;
                }
            }
            Ok((reaped, expired))
        })
        .await;
    let (reaped, mut expired) = match result {
        Ok(done) => done,
        Err(e) => {
            tracing::warn!(error = %e, "queue housekeeping failed");
            return;
        }
    };
    if reaped > 0 {
        tracing::info!(reaped, "took back recipients whose lease ran out");
        engine.ctx.wake.notify_waiters();
    }
    if expired.is_empty() {
        return;
    }
    expired.sort();
    expired.dedup();
    tracing::info!(
        messages = expired.len(),
        "recipients expired after their queue lifetime"
    );
    let config = engine.ctx.config.clone();
    if let Err(e) = engine
        .db(move |conn| dsn::process(conn, &config, &expired))
        .await
    {
        tracing::warn!(error = %e, "producing DSNs for expired mail failed; the sweep will retry");
    }
}
