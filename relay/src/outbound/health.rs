//! The target prober. Every node runs one; together they check each target that is down
//! when its probe is due (one node per target at a time, see
//! [`mxspool_store::targets::claim_probes`]). A probe connects and reads the greeting: `220`
//! marks the target up and makes its whole queue due at once, waking the workers — so a
//! target's backlog goes out within one probe interval of it coming back, without waiting
//! for each message's own retry time. Anything else doubles the probe interval, up to
//! `probe_max`.

use super::client::{greet, say_quit};
use super::Engine;
use mxspool_store::names::check_target_address;
use mxspool_store::targets::{self, ProbeJob};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Probes started per round by one node.
const PROBES_PER_ROUND: i64 = 32;
/// Longest wait for a probed target's greeting.
const GREETING_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) async fn run_prober(engine: Arc<Engine>) {
    let config = engine.ctx.config.clone();
    let tick = (config.probe_initial / 2).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let greeting_timeout = config.smtp_timeout.min(GREETING_TIMEOUT);
    // Other nodes leave a claimed probe alone for at least as long as it can take.
    let lease = config.connect_timeout + greeting_timeout;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            // A flush set a down target's probe to now: no need to wait for the tick.
            _ = engine.probe_now.notified() => {}
            _ = engine.stopped() => return,
        }
        let jobs = match engine
            .db(move |conn| targets::claim_probes(conn, PROBES_PER_ROUND, lease))
            .await
        {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "claiming target probes failed");
                continue;
            }
        };
        if jobs.is_empty() {
            continue;
        }
        let probes = jobs.into_iter().map(|job| {
            let engine = engine.clone();
            let span = tracing::info_span!("probe", host = %job.host, port = job.port);
            async move { probe_and_record(&engine, job, greeting_timeout).await }.instrument(span)
        });
        futures_util::future::join_all(probes).await;
    }
}

async fn probe_and_record(engine: &Engine, job: ProbeJob, greeting_timeout: Duration) {
    let result = probe(engine, &job, greeting_timeout).await;
    let ProbeJob { host, port, .. } = job;
    match result {
        Ok(greeting) => {
            let detail = format!("probe: {greeting}");
            let recorded = engine
                .db(move |conn| targets::probe_succeeded(conn, &host, port, &detail))
                .await;
            match recorded {
                Ok(flushed) => {
                    tracing::info!(flushed, "target is up again; its queue is due now");
                    engine.ctx.wake.notify_waiters();
                }
                Err(e) => tracing::warn!(error = %e, "could not record that the target is up"),
            }
        }
        Err(error) => {
            tracing::debug!(%error, "target still down");
            let max = engine.config().probe_max;
            if let Err(e) = engine
                .db(move |conn| targets::probe_failed(conn, &host, port, &error, max))
                .await
            {
                tracing::warn!(error = %e, "could not record the failed probe");
            }
        }
    }
}

/// Connects to the target (each permitted address in turn) and returns its greeting when it
/// is a `220`.
async fn probe(
    engine: &Engine,
    job: &ProbeJob,
    greeting_timeout: Duration,
) -> Result<String, String> {
    let config = engine.config();
    let port = u16::try_from(job.port).map_err(|_| format!("invalid port {}", job.port))?;
    let ips = engine
        .dns
        .addresses(&job.host)
        .await
        .map_err(|e| format!("cannot resolve target {}: {e}", job.host))?;
    let mut last = format!("no permitted address for {}", job.host);
    for ip in ips {
        if let Err(e) = check_target_address(ip, config.allow_private_targets) {
            last = format!("not connecting to {ip}: {e}");
            continue;
        }
        match greet(
            SocketAddr::new(ip, port),
            config.connect_timeout,
            greeting_timeout,
        )
        .await
        {
            Ok((greeting, _, mut stream)) => {
                say_quit(&mut stream).await;
                if greeting.code == 220 {
                    return Ok(greeting.line());
                }
                last = format!("{ip}:{port} greeted with {greeting}");
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}
