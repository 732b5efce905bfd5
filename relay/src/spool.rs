//! Durable intake: [`Spool::commit`] returns only once the message and its recipients are
//! committed in PostgreSQL. Concurrent sessions' messages are committed together (group
//! commit), so one fsync covers many messages and the disk does not cap intake speed.

use diesel::r2d2::R2D2Connection;
use mxspool_store::queue::{self, IncomingMessage};
use mxspool_store::{MessageId, PgPool, PooledConn};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Notify};

/// Why a message could not be committed; the session answers `451 4.3.0`.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("the spool is shutting down")]
    Closed,
}

/// How long a writer keeps an idle connection without testing it again.
const KEEP_IDLE: Duration = Duration::from_secs(1);

type Job = (
    IncomingMessage,
    oneshot::Sender<Result<MessageId, SpoolError>>,
);

/// Handle to the commit writers; cheap to clone.
#[derive(Clone)]
pub struct Spool {
    tx: mpsc::Sender<Job>,
}

impl Spool {
    /// Starts `writers` writer threads, each committing up to `max_batch` messages per
    /// transaction, and waking `committed` after each commit (local delivery workers).
    pub fn start(pool: PgPool, writers: usize, max_batch: usize, committed: Arc<Notify>) -> Spool {
        let (tx, rx) = mpsc::channel::<Job>(writers.max(1) * max_batch.max(1) * 4);
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..writers.max(1) {
            let rx = rx.clone();
            let pool = pool.clone();
            let committed = committed.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("spool-writer-{n}"))
                .spawn(move || writer(&pool, &rx, max_batch.max(1), &committed));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a spool writer thread");
            }
        }
        Spool { tx }
    }

    /// Commits one message; `Ok` means it is durable.
    pub async fn commit(&self, message: IncomingMessage) -> Result<MessageId, SpoolError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((message, reply))
            .await
            .map_err(|_| SpoolError::Closed)?;
        answer.await.map_err(|_| SpoolError::Closed)?
    }
}

/// One writer: takes whatever is waiting (at least one job), commits it as one batch.
///
/// Under load it keeps its connection from batch to batch rather than checking one out of
/// the pool each time (the pool tests a connection with a query at every checkout: a round
/// trip and a transaction per batch). A connection whose batch failed, or that sat idle
/// longer than [`KEEP_IDLE`], goes back, so the next batch starts on a tested one.
fn writer(pool: &PgPool, rx: &Mutex<mpsc::Receiver<Job>>, max_batch: usize, committed: &Notify) {
    let mut kept: Option<(PooledConn, Instant)> = None;
    loop {
        let batch = {
            let Ok(mut rx) = rx.lock() else { return };
            let Some(first) = rx.blocking_recv() else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < max_batch {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        let reuse = kept.take().filter(|(_, at)| at.elapsed() < KEEP_IDLE);
        let mut conn = match reuse.map_or_else(|| pool.get(), |(conn, _)| Ok(conn)) {
            Ok(conn) => conn,
            Err(e) => {
                for (_, reply) in batch {
                    let _ = reply.send(Err(SpoolError::Unavailable(e.to_string())));
                }
                continue;
            }
        };
        if commit_batch(&mut conn, batch) && !conn.is_broken() {
            kept = Some((conn, Instant::now()));
        }
        committed.notify_waiters();
    }
}

/// Commits a batch and answers each job; false when the batch as a whole failed.
fn commit_batch(conn: &mut PooledConn, batch: Vec<Job>) -> bool {
    let (messages, replies): (Vec<IncomingMessage>, Vec<_>) = batch.into_iter().unzip();
    match queue::enqueue_batch(conn, &messages) {
        Ok(ids) => {
            for (reply, id) in replies.into_iter().zip(ids) {
                let _ = reply.send(Ok(id));
            }
            true
        }
        Err(e) if messages.len() > 1 => {
            // One bad message must not fail its neighbours: commit each on its own.
            tracing::warn!(error = %e, "batch commit failed; committing one by one");
            for (message, reply) in messages.into_iter().zip(replies) {
                let result = queue::enqueue_batch(conn, std::slice::from_ref(&message))
                    .map_err(|e| SpoolError::Commit(e.to_string()))
                    .and_then(|ids| {
                        ids.into_iter()
                            .next()
                            .ok_or(SpoolError::Commit("no id".into()))
                    });
                let _ = reply.send(result);
            }
            false
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(SpoolError::Commit(e.to_string())));
            }
            false
        }
    }
}
