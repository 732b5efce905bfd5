//! The claim loop of one delivery worker: claim due recipients under this node's lease,
//! deliver them job by job (one message and destination per SMTP transaction), then record
//! every attempt, the targets' health and the DSNs owed, and claim again. When nothing is
//! due the worker sleeps until woken (intake, NOTIFY) or the poll interval passes.

use super::deliver::{self, Health, Job};
use super::{dsn, Engine};
use mxspool_store::kinds::Route;
use mxspool_store::queue::{self, Attempt, AttemptOutcome, Claimed};
use mxspool_store::{targets, MessageId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Tries to record a batch's attempts before giving up (the lease then hands them back).
const RECORD_TRIES: u32 = 3;

pub(crate) async fn run(engine: Arc<Engine>, n: usize) {
    let config = engine.ctx.config.clone();
    loop {
        if engine.stopping() {
            break;
        }
        // Registered before claiming, so a wake-up during the claim is not lost.
        let woken = engine.ctx.wake.notified();
        let owner = config.node_id.clone();
        let (lease, limit, mx_port) = (config.lease, config.claim_batch.max(1), config.mx_port);
        let claimed = {
            let _one_at_a_time = engine.claiming.lock().await;
            engine
                .db(move |conn| queue::claim_due(conn, &owner, lease, limit, mx_port))
                .await
        };
        match claimed {
            Ok(claimed) if claimed.is_empty() => {
                tokio::select! {
                    _ = woken => {}
                    _ = tokio::time::sleep(config.poll_interval) => {}
                    _ = engine.stopped() => break,
                }
            }
            Ok(claimed) => {
                engine.hold(claimed.iter().map(|c| c.delivery_id));
                let span =
                    tracing::debug_span!("delivery batch", worker = n, recipients = claimed.len());
                process_batch(&engine, claimed).instrument(span).await;
            }
            Err(e) => {
                tracing::warn!(worker = n, error = %e, "claiming due recipients failed");
                tokio::select! {
                    _ = tokio::time::sleep(config.poll_interval.max(Duration::from_millis(500))) => {}
                    _ = engine.stopped() => break,
                }
            }
        }
    }
}

/// What a batch produced, written back in one go.
#[derive(Default)]
struct Results {
    attempts: Vec<Attempt>,
    /// Claimed but not attempted (shutdown, lease running out, target found down).
    release: Vec<i64>,
    /// Targets that answered, with what they said.
    answered: HashMap<(String, i32), String>,
    /// Messages one of whose recipients was delivered (they may now owe a DSN).
    delivered: Vec<MessageId>,
}

async fn process_batch(engine: &Engine, claimed: Vec<Claimed>) {
    let started = Instant::now();
    let all_ids: Vec<i64> = claimed.iter().map(|c| c.delivery_id).collect();
    let mut message_ids: Vec<MessageId> = claimed.iter().map(|c| MessageId(c.message_id)).collect();
    message_ids.sort();
    message_ids.dedup();
    let bodies = match engine
        .db(move |conn| queue::load_bodies(conn, &message_ids))
        .await
    {
        Ok(rows) => rows.into_iter().collect::<HashMap<MessageId, Vec<u8>>>(),
        Err(e) => {
            tracing::warn!(error = %e, "loading message bodies failed; releasing the batch");
            release(engine, all_ids).await;
            return;
        }
    };

    let lease = engine.config().lease;
    let mut results = Results::default();
    let mut down: HashSet<(String, i32)> = HashSet::new();
    for job in Job::group(claimed) {
        let Some(first) = job.first() else { continue };
        let target = (first.target_host.to_ascii_lowercase(), first.target_port);
        let relay = first.route == Route::Relay;
        // Past half the lease, other nodes may soon take these over: hand them back instead.
        if engine.stopping() || started.elapsed() > lease / 2 || (relay && down.contains(&target)) {
            results.release.extend(job.ids());
            continue;
        }
        let Some(body) = bodies.get(&MessageId(first.message_id)) else {
            // The message was deleted meanwhile; its deliveries went with it.
            results.release.extend(job.ids());
            continue;
        };
        let span = tracing::info_span!(
            "delivery",
            message_id = first.message_id,
            route = %first.route,
            target = %first.target_host,
            port = first.target_port,
            recipients = job.claims.len(),
        );
        let outcome = deliver::deliver(engine, &job, body)
            .instrument(span.clone())
            .await;
        span.in_scope(|| log_outcome(&outcome.attempts));
        match outcome.health {
            Health::Unreachable(error) if relay => {
                tracing::warn!(host = %first.target_host, port = first.target_port, %error, "target is down");
                let (host, port) = (first.target_host.clone(), first.target_port);
                let probe_initial = engine.config().probe_initial;
                if let Err(e) = engine
                    .db(move |conn| targets::mark_down(conn, &host, port, &error, probe_initial))
                    .await
                {
                    tracing::warn!(error = %e, "could not mark the target down");
                }
                down.insert(target);
            }
            Health::Answered(detail) if relay => {
                results
                    .answered
                    .entry((first.target_host.clone(), first.target_port))
                    .or_insert(detail);
            }
            _ => {}
        }
        if outcome
            .attempts
            .iter()
            .any(|a| a.outcome == AttemptOutcome::Delivered)
        {
            results.delivered.push(MessageId(first.message_id));
        }
        results.attempts.extend(outcome.attempts);
    }
    record(engine, results).await;
    engine.unhold(all_ids);
}

fn log_outcome(attempts: &[Attempt]) {
    for a in attempts {
        match a.outcome {
            AttemptOutcome::Delivered => {
                tracing::debug!(delivery_id = a.delivery_id, reply = %a.reply, "delivered")
            }
            AttemptOutcome::Deferred(at) => {
                tracing::info!(delivery_id = a.delivery_id, reply = %a.reply, next_attempt = %at, "deferred")
            }
            AttemptOutcome::Bounced => {
                tracing::info!(delivery_id = a.delivery_id, reply = %a.reply, "bounced")
            }
        }
    }
}

async fn release(engine: &Engine, ids: Vec<i64>) {
    let owner = engine.config().node_id.clone();
    let held = ids.clone();
    let released = engine
        .db(move |conn| queue::release(conn, &owner, &ids, chrono::Utc::now()))
        .await;
    if let Err(e) = released {
        tracing::warn!(error = %e, "releasing claimed recipients failed; their lease will run out");
    }
    engine.unhold(held);
}

/// Writes a batch back: attempts (one transaction), recipients handed back, targets that
/// answered marked up (their waiting queue flushed if they were down), then the DSNs owed.
async fn record(engine: &Engine, results: Results) {
    let owner = engine.config().node_id.clone();
    let Results {
        attempts,
        release: to_release,
        answered,
        mut delivered,
    } = results;
    delivered.sort();
    delivered.dedup();
    let attempts = Arc::new(attempts);
    let to_release = Arc::new(to_release);
    let answered = Arc::new(answered);
    let delivered = Arc::new(delivered);
    let mut tries = 0;
    let candidates = loop {
        tries += 1;
        let (owner, attempts, to_release, answered, delivered) = (
            owner.clone(),
            attempts.clone(),
            to_release.clone(),
            answered.clone(),
            delivered.clone(),
        );
        let written = engine
            .db(move |conn| {
                let mut candidates = queue::record_attempts(conn, &owner, &attempts)?;
                if !to_release.is_empty() {
                    queue::release(conn, &owner, &to_release, chrono::Utc::now())?;
                }
                for ((host, port), detail) in answered.iter() {
                    if targets::mark_up(conn, host, *port, detail)? == Some(targets::TargetState::Down) {
                        let flushed = targets::flush_queue(conn, host, *port)?;
                        tracing::info!(%host, port, flushed, "target answered again; its queue is due");
                    }
                }
                for id in dsn::owed_after_delivery(conn, &delivered)? {
                    if !candidates.contains(&id) {
                        candidates.push(id);
                    }
                }
                Ok(candidates)
            })
            .await;
        match written {
            Ok(candidates) => break candidates,
            Err(e) if tries < RECORD_TRIES => {
                tracing::warn!(error = %e, "recording delivery attempts failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "recording delivery attempts failed; the lease will hand these recipients to another attempt");
                return;
            }
        }
    };
    if candidates.is_empty() {
        return;
    }
    let config = engine.ctx.config.clone();
    if let Err(e) = engine
        .db(move |conn| dsn::process(conn, &config, &candidates))
        .await
    {
        tracing::warn!(error = %e, "producing DSNs failed; the sweep will retry");
    }
}
