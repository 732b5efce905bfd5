//! Webhooks: signing, sending and the dispatcher that turns the outbox into HTTP requests.
//!
//! Events are produced by database triggers (see `mxspool_store::webhooks`); the
//! [`Dispatcher`] runs in every API process (`mxspool serve` and `mxspool api`) beside the
//! HTTP server. Several API processes on one database share the work safely: fan-out and
//! delivery claims use `FOR UPDATE SKIP LOCKED`, deliveries are leased, and queue thresholds
//! are evaluated under an advisory lock by one process at a time.
//!
//! A request carries the event as JSON and these headers:
//! - `X-Mxspool-Event`: the event type (`target.down`, …, `ping`);
//! - `X-Mxspool-Delivery`: the delivery id (stable across retries);
//! - `X-Mxspool-Signature: t=<unix seconds>,v1=<hex>`: HMAC-SHA256, keyed with the webhook's
//!   secret, of `<t>.<body>` ([`signature::sign`]).

pub mod dispatcher;
pub mod sender;
pub mod signature;

pub use dispatcher::Dispatcher;

use std::time::Duration;

/// How webhooks are sent and retried.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Run the dispatcher in this process.
    pub enabled: bool,
    /// Wait before retry `n` (1-based) is `retry_schedule[n - 1]`, the last entry repeating.
    pub retry_schedule: Vec<Duration>,
    /// Attempts before a delivery is given up (`failed`).
    pub max_attempts: i32,
    /// How often the dispatcher looks for new events and due deliveries.
    pub poll_interval: Duration,
    /// How often queue thresholds are evaluated.
    pub threshold_interval: Duration,
    /// Whole-request limit (connect, send, read the start of the response).
    pub request_timeout: Duration,
    /// How long a claimed delivery is reserved for the node sending it.
    pub lease: Duration,
    /// Deliveries sent at once per node.
    pub batch: i64,
    /// How long finished deliveries stay in the log.
    pub keep_deliveries: Duration,
}

impl Default for WebhookConfig {
    /// 10 s, 1 min, 5 min, 30 min, 2 h, then every 6 h, 8 attempts in all (about 15 hours);
    /// 10 s timeout; finished deliveries kept 30 days.
    fn default() -> Self {
        WebhookConfig {
            enabled: true,
            retry_schedule: [10, 60, 300, 1800, 7200, 21600]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            max_attempts: 8,
            poll_interval: Duration::from_secs(1),
            threshold_interval: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            lease: Duration::from_secs(60),
            batch: 20,
            keep_deliveries: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

impl WebhookConfig {
    /// The wait after failed attempt number `attempts`, or `None` when it was the last.
    pub fn retry_after(&self, attempts: i32) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let index = usize::try_from(attempts.max(1) - 1).unwrap_or(0);
        self.retry_schedule
            .get(index)
            .or(self.retry_schedule.last())
            .copied()
            .or(Some(Duration::from_secs(60)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_then_repeat_its_last_step_then_stop() {
        let config = WebhookConfig::default();
        assert_eq!(config.retry_after(1), Some(Duration::from_secs(10)));
        assert_eq!(config.retry_after(2), Some(Duration::from_secs(60)));
        assert_eq!(config.retry_after(6), Some(Duration::from_secs(21600)));
        assert_eq!(config.retry_after(7), Some(Duration::from_secs(21600)));
        assert_eq!(config.retry_after(8), None);
    }
}
