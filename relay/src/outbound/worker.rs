//! The claim loop of one delivery worker: claim due messages under this node's lease,
//! deliver them job by job (one message and destination per SMTP transaction), then record
//! every attempt, the targets' health and the DSNs owed, and claim again. When nothing is
//! due the worker sleeps until woken (intake, NOTIFY) or the poll interval passes.
//!
//! While a batch runs, a [`LeaseKeeper`] renews its leases every third of the lease, so a
//! slow target (an SMTP transaction may take up to `smtp_timeout`, minutes) does not let the
//! lease run out and another node deliver the same mail again.
//!
//! A claim takes whole messages, locking each message while it claims its recipients (see
//! [`queue::claim_due`]), so two claims — on this node or another — never split one
//! message's recipients between two SMTP transactions. Within a node only one worker claims
//! at a time (`Engine::claiming`), handing on to the next idle worker when it found work.

use super::deliver::{self, Health, Job};
use super::{dsn, Engine};
use mxspool_store::kinds::Route;
use mxspool_store::queue::{self, Attempt, AttemptOutcome, Claimed};
use mxspool_store::{targets, MessageId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Tries to record a batch's attempts before giving up (the lease then hands them back).
const RECORD_TRIES: u32 = 3;

/// Least time between a claim that came back short (it took every due message) but with
/// several recipients, and the next claim of this node. Under a steady stream of new mail,
/// claiming at every intake commit would take one or two messages at a time, and each
/// claim, body load and record costs statements, a plan and a commit whatever its size;
/// waiting this long lets a claim gather what arrived meanwhile, at a latency cost of at
/// most this much. Full claims (a backlog, a flush) are followed by the next at once, and so
/// are claims that took fewer than [`PACE_FROM`] recipients (a trickle).
const CLAIM_SPACING: Duration = Duration::from_millis(25);
/// Recipients a short claim must have taken for the next to be paced.
const PACE_FROM: usize = 2;

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
        // The lease runs from the claim, which starts no earlier than this.
        // One claim at a time per node: a wake-up (every intake commit) would otherwise send
        // every idle worker into the same claim query at once, and they would walk the same
        // due rows in parallel. A worker that finds another claiming waits for the next
        // wake-up; a claim that found work wakes the next idle worker to claim again.
        let Ok(mut gate) = engine.claiming.try_lock() else {
            tokio::select! {
                _ = woken => {}
                _ = tokio::time::sleep(config.poll_interval) => {}
                _ = engine.stopped() => break,
            }
            continue;
        };
        if let Some(short) = *gate {
            tokio::select! {
                _ = tokio::time::sleep_until((short + CLAIM_SPACING).into()) => {}
                _ = engine.stopped() => break,
            }
        }
        let claimed_at = Instant::now();
        let claimed = engine
            .db(move |conn| queue::claim_due(conn, &owner, lease, limit, mx_port))
            .await;
        *gate = match &claimed {
            // The claim's walk stops at `limit` recipients; as many or more came back: there
            // may be more due.
            Ok(c) if i64::try_from(c.len()).unwrap_or(i64::MAX) >= limit => None,
            // Several messages arrived since the last claim: mail is streaming in.
            Ok(c) if c.len() >= PACE_FROM => Some(claimed_at),
            // A trickle (or nothing): the next message is claimed as soon as it arrives, by
            // the node that accepted it (its own commit wakes it before any NOTIFY does).
            _ => None,
        };
        drop(gate);
        if matches!(&claimed, Ok(c) if !c.is_empty()) {
            engine.ctx.wake.notify_one();
        }
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
                process_batch(&engine, claimed, claimed_at)
                    .instrument(span)
                    .await;
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
    /// Targets found down: their mail that is due again (what this batch hands back) is
    /// parked once the batch is written.
    down: HashSet<(String, i32)>,
}

/// Keeps a batch's leases alive while it runs: renews them every third of the lease (on the
/// database's clock, [`queue::renew_leases`]) until dropped. Dropping it (the batch is
/// recorded, or its future was abandoned at shutdown) stops the renewals.
struct LeaseKeeper {
    task: tokio::task::JoinHandle<()>,
    /// When the last renewal that covered the whole batch began (at first: the claim).
    renewed: Arc<Mutex<Instant>>,
    /// Set while the batch is being written: rows leave `delivering` then, so a renewal
    /// covering fewer of them is expected and not worth a warning.
    recording: Arc<AtomicBool>,
    lease: Duration,
}

impl LeaseKeeper {
    fn start(engine: Arc<Engine>, ids: Vec<i64>, claimed_at: Instant) -> LeaseKeeper {
        let lease = engine.config().lease;
        let every = (lease / 3).max(Duration::from_millis(10));
        let renewed = Arc::new(Mutex::new(claimed_at));
        let recording = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let (renewed, recording) = (renewed.clone(), recording.clone());
            async move {
                let owner = engine.config().node_id.clone();
                let ids = Arc::new(ids);
                loop {
                    tokio::time::sleep(every).await;
                    let began = Instant::now();
                    let (o, i) = (owner.clone(), ids.clone());
                    let result = engine
                        .db(move |conn| queue::renew_leases(conn, &o, &i, lease))
                        .await;
                    match result {
                        Ok(n) if n == ids.len() => {
                            *renewed.lock().unwrap_or_else(|e| e.into_inner()) = began;
                        }
                        Ok(_) if recording.load(Ordering::Relaxed) => {}
                        Ok(n) => tracing::warn!(
                            renewed = n,
                            claimed = ids.len(),
                            "some claimed recipients are no longer this node's (lease lost)"
                        ),
                        Err(e) => tracing::warn!(error = %e, "renewing leases failed"),
                    }
                }
            }
        });
        LeaseKeeper {
            task,
            renewed,
            recording,
            lease,
        }
    }

    /// Whether the batch may start another delivery: the lease was last set less than half
    /// a lease ago, so at least half a lease remains. False when renewals keep failing:
    /// other nodes may soon take the rows over, so what is left is handed back instead.
    fn holds(&self) -> bool {
        self.renewed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .elapsed()
            < self.lease / 2
    }

    fn recording(&self) {
        self.recording.store(true, Ordering::Relaxed);
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn process_batch(engine: &Arc<Engine>, claimed: Vec<Claimed>, claimed_at: Instant) {
    let all_ids: Vec<i64> = claimed.iter().map(|c| c.delivery_id).collect();
    let keeper = LeaseKeeper::start(engine.clone(), all_ids.clone(), claimed_at);
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

    let mut results = Results::default();
    let mut down: HashSet<(String, i32)> = HashSet::new();
    for job in Job::group(claimed) {
        let Some(first) = job.first() else { continue };
        let target = (first.target_host.to_ascii_lowercase(), first.target_port);
        let relay = first.route == Route::Relay;
        if engine.stopping() || !keeper.holds() || (relay && down.contains(&target)) {
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
                results
                    .down
                    .insert((first.target_host.clone(), first.target_port));
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
    // Renewals go on while the batch is written (that may take retries), then stop.
    keeper.recording();
    record(engine, results).await;
    drop(keeper);
    engine.unhold(all_ids);
}

fn log_outcome(attempts: &[Attempt]) {
    for a in attempts {
        match a.outcome {
            AttemptOutcome::Delivered => {
                tracing::debug!(delivery_id = a.delivery_id, reply = %a.reply, "delivered")
            }
            AttemptOutcome::Deferred(after) => {
                tracing::info!(delivery_id = a.delivery_id, reply = %a.reply, retry_in = ?after, "deferred")
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
        .db(move |conn| queue::release(conn, &owner, &ids))
        .await;
    if let Err(e) = released {
        tracing::warn!(error = %e, "releasing claimed recipients failed; their lease will run out");
    }
    engine.unhold(held);
}

/// Writes a batch back: attempts (one transaction), recipients handed back, targets that
/// answered marked up (their waiting queue flushed, in the same transaction, if they were
/// down), what was handed back for targets found down parked, then the DSNs owed.
async fn record(engine: &Engine, results: Results) {
    let owner = engine.config().node_id.clone();
    let Results {
        attempts,
        release: to_release,
        answered,
        mut delivered,
        down,
    } = results;
    delivered.sort();
    delivered.dedup();
    let attempts = Arc::new(attempts);
    let to_release = Arc::new(to_release);
    let answered = Arc::new(answered);
    let delivered = Arc::new(delivered);
    let down = Arc::new(down);
    let mut tries = 0;
    let candidates = loop {
        tries += 1;
        let (owner, attempts, to_release, answered, delivered, down) = (
            owner.clone(),
            attempts.clone(),
            to_release.clone(),
            answered.clone(),
            delivered.clone(),
            down.clone(),
        );
        let written = engine
            .db(move |conn| {
                let mut candidates = queue::record_attempts(conn, &owner, &attempts)?;
                if !to_release.is_empty() {
                    queue::release(conn, &owner, &to_release)?;
                }
                for ((host, port), detail) in answered.iter() {
                    if targets::mark_up(conn, host, *port, detail)?
                        == Some(targets::TargetState::Down)
                    {
                        tracing::info!(%host, port, "target answered again; its queue is due");
                    }
                }
                // Handed-back mail of a target found down is due now: out of the claims' way.
                for (host, port) in down.iter() {
                    targets::park_queue(conn, host, *port)?;
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
