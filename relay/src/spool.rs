//! Durable intake: [`Spool::commit`] returns only once the message and its recipients are
//! committed in PostgreSQL. Concurrent sessions' messages are committed together (group
//! commit), so one fsync covers many messages and the disk does not cap intake speed.

use mxspool_store::queue::{self, IncomingMessage};
use mxspool_store::{MessageId, PgPool};
use std::sync::{Arc, Mutex};
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
fn writer(pool: &PgPool, rx: &Mutex<mpsc::Receiver<Job>>, max_batch: usize, committed: &Notify) {
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
        commit_batch(pool, batch);
        committed.notify_waiters();
    }
}

fn commit_batch(pool: &PgPool, batch: Vec<Job>) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(e) => {
            for (_, reply) in batch {
                let _ = reply.send(Err(SpoolError::Unavailable(e.to_string())));
            }
            return;
        }
    };
    let (messages, replies): (Vec<IncomingMessage>, Vec<_>) = batch.into_iter().unzip();
    match queue::enqueue_batch(&mut conn, &messages) {
        Ok(ids) => {
            for (reply, id) in replies.into_iter().zip(ids) {
                let _ = reply.send(Ok(id));
            }
        }
        Err(e) if messages.len() > 1 => {
            // One bad message must not fail its neighbours: commit each on its own.
            tracing::warn!(error = %e, "batch commit failed; committing one by one");
            for (message, reply) in messages.into_iter().zip(replies) {
                let result = queue::enqueue_batch(&mut conn, std::slice::from_ref(&message))
                    .map_err(|e| SpoolError::Commit(e.to_string()))
                    .and_then(|ids| {
                        ids.into_iter()
                            .next()
                            .ok_or(SpoolError::Commit("no id".into()))
                    });
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(SpoolError::Commit(e.to_string())));
            }
        }
    }
}
