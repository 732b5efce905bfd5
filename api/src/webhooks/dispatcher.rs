//! The loop that fans outbox events out to webhooks, evaluates queue thresholds and sends due
//! deliveries with retries. See the module docs of `mxspool_store::webhooks` for why several
//! dispatchers on one database never send an event twice.

use super::sender::{self, Outgoing};
use super::WebhookConfig;
use mxspool_store::webhooks::{self as store, AttemptResult, ClaimedDelivery, WebhookEventType};
use mxspool_store::{PgConnection, PgPool};
use std::time::Instant;

/// Sends webhooks from one process. Cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    pool: PgPool,
    config: WebhookConfig,
    allow_private: bool,
}

impl Dispatcher {
    pub fn new(pool: PgPool, config: WebhookConfig, allow_private: bool) -> Self {
        Dispatcher {
            pool,
            config,
            allow_private,
        }
    }

    pub fn config(&self) -> &WebhookConfig {
        &self.config
    }

    /// Runs until the task is dropped; database trouble is logged and retried next round.
    pub async fn run(self) {
        let mut last_thresholds: Option<Instant> = None;
        loop {
            let thresholds_due =
                last_thresholds.is_none_or(|t| t.elapsed() >= self.config.threshold_interval);
            if thresholds_due {
                last_thresholds = Some(Instant::now());
            }
            let busy = match self.round(thresholds_due).await {
                Ok(busy) => busy,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook dispatcher round failed");
                    false
                }
            };
            if !busy {
                tokio::time::sleep(self.config.poll_interval).await;
            }
        }
    }

    /// One round: fan out, thresholds (when due), send what is due. Returns whether a full
    /// batch was found (then the next round starts at once).
    pub async fn round(&self, thresholds: bool) -> Result<bool, String> {
        let batch = self.config.batch;
        let lease = self.config.lease;
        let keep = self.config.keep_deliveries;
        let (fanned, claimed) = self
            .db(move |conn| {
                let fanned = store::fan_out(conn, 100)?;
                if thresholds {
                    store::evaluate_queue_thresholds(conn)?;
                    store::prune(conn, keep, 10_000)?;
                }
                let claimed = store::claim_due(conn, batch, lease)?;
                Ok((fanned, claimed))
            })
            .await?;
        let full = fanned >= 100 || i64::try_from(claimed.len()).unwrap_or(0) >= batch;
        futures_util::future::join_all(claimed.into_iter().map(|c| self.deliver(c))).await;
        Ok(full)
    }

    /// Sends one claimed delivery and records the outcome.
    async fn deliver(&self, claimed: ClaimedDelivery) {
        let id = claimed.delivery.id;
        if claimed.delivery.event_type == WebhookEventType::TargetDown.as_str() {
            let data = &claimed.delivery.payload["data"];
            let host = data["host"].as_str().unwrap_or_default().to_owned();
            let port = data["port"]
                .as_i64()
                .and_then(|p| i32::try_from(p).ok())
                .unwrap_or(0);
            let since = data["down_since"]
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&chrono::Utc));
            let still_down = match since {
                Some(since) => self
                    .db(move |conn| store::still_down_since(conn, &host, port, since))
                    .await
                    .unwrap_or(true),
                None => true,
            };
            if !still_down {
                let reason = "the target came back up within the grace period";
                if let Err(e) = self
                    .db(move |conn| store::cancel(conn, id, reason).map(drop))
                    .await
                {
                    tracing::warn!(delivery = id, error = %e, "cancelling a webhook delivery");
                }
                return;
            }
        }
        let result = self.send(&claimed).await;
        let retry_in = self.config.retry_after(claimed.delivery.attempts);
        if let Some(error) = &result.error {
            tracing::info!(delivery = id, webhook = claimed.delivery.webhook_id,
                attempts = claimed.delivery.attempts, %error, "webhook delivery failed");
        }
        if let Err(e) = self
            .db(move |conn| store::record_attempt(conn, id, &result, retry_in).map(drop))
            .await
        {
            tracing::warn!(delivery = id, error = %e, "recording a webhook attempt");
        }
    }

    /// One HTTP attempt for a claimed delivery.
    pub async fn send(&self, claimed: &ClaimedDelivery) -> AttemptResult {
        let body = serde_json::to_vec(&claimed.delivery.payload).unwrap_or_default();
        sender::send(
            &Outgoing {
                url: &claimed.url,
                secret: &claimed.secret,
                event_type: &claimed.delivery.event_type,
                delivery_id: claimed.delivery.id,
                body: &body,
            },
            self.allow_private,
            self.config.request_timeout,
        )
        .await
    }

    async fn db<T, F>(&self, f: F) -> Result<T, String>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, diesel::result::Error> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            f(&mut conn).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}
