//! `/metrics` and `/readyz` of `mxspool serve`: mail sent over real SMTP to a domain whose
//! target is down shows up in the queue figures, and the SMTP counters move.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use mxspool_testdb::TestDb;
use std::time::{Duration, Instant};
use support::{create_domain, tagged_message, Mxspool, SmtpClient};

const PASSWORD: &str = "metrics test password";
const DOMAIN: &str = "metrics.test";
const TOKEN: &str = "metrics-token-0123456789abcdef";

/// `name{labels}` → value; every line must be a comment or a sample.
async fn scrape(api: &str) -> Vec<(String, f64)> {
    let response = reqwest::Client::new()
        .get(format!("{api}/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("bad line {l}"));
            let value = if value == "+Inf" {
                f64::INFINITY
            } else {
                value.parse().unwrap_or_else(|_| panic!("bad value {l}"))
            };
            (series.to_owned(), value)
        })
        .collect()
}

fn value(samples: &[(String, f64)], series: &str) -> Option<f64> {
    samples.iter().find(|(s, _)| s == series).map(|(_, v)| *v)
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_mail_for_a_down_target_and_smtp_refusals_show_in_the_metrics() {
    let db = TestDb::new();
    // A port nothing listens on: the target is down.
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = vec![
        ("DATABASE_URL", db.url()),
        ("MXSPOOL_ALLOW_PRIVATE_TARGETS", "true".to_owned()),
        ("MXSPOOL_ADMIN_PASSWORD", PASSWORD.to_owned()),
        ("MXSPOOL_METRICS_TOKEN", TOKEN.to_owned()),
        ("MXSPOOL_RETRY_SCHEDULE", "1s".to_owned()),
        ("MXSPOOL_PROBE_INTERVAL_SECONDS", "0.2".to_owned()),
        ("MXSPOOL_PROBE_MAX_SECONDS", "1".to_owned()),
        ("MXSPOOL_HTTP_WORKERS", "1".to_owned()),
        ("MXSPOOL_RELAY_WORKERS", "3".to_owned()),
        ("MXSPOOL_BOUNCES", "log".to_owned()),
    ];
    let mx = tokio::task::spawn_blocking(move || Mxspool::start("serve", &env))
        .await
        .unwrap();
    let api = mx.api.clone().unwrap();
    let smtp = mx.smtp.clone().unwrap();

    let client = reqwest::Client::new();
    let unauthorized = client.get(format!("{api}/metrics")).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    let ready: serde_json::Value = client
        .get(format!("{api}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["relay_workers"], 3);
    let before = scrape(&api).await;
    assert_eq!(value(&before, "mxspool_relay_workers"), Some(3.0));

    create_domain(&api, PASSWORD, DOMAIN, dead_port).await;
    // The relay reloads its domain table within a second; refusals before that are fine.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut sent = 0;
    while sent < 3 {
        assert!(
            Instant::now() < deadline,
            "the relay never accepted {DOMAIN}"
        );
        let (mut c, _) = SmtpClient::connect(&smtp).await.unwrap();
        c.cmd("EHLO client.test").await.unwrap();
        let reply = c
            .send(
                "sender@client.test",
                &[&format!("rcpt{sent}@{DOMAIN}")],
                &tagged_message(&format!("metrics-{sent}")),
            )
            .await
            .unwrap();
        if reply.starts_with("250") {
            sent += 1;
        } else {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let (mut c, _) = SmtpClient::connect(&smtp).await.unwrap();
    c.cmd("EHLO client.test").await.unwrap();
    c.cmd("MAIL FROM:<sender@client.test>").await.unwrap();
    let refused = c.cmd("RCPT TO:<someone@not-relayed.test>").await.unwrap();
    assert!(refused.starts_with("550 5.7.1"), "{refused}");

    let rejected = "mxspool_smtp_rejected_total{stage=\"rcpt\",code=\"550\",status=\"5.7.1\"}";
    let target = format!("mxspool_target_up{{target=\"127.0.0.1:{dead_port}\"}}");
    let by_domain = format!("mxspool_queue_depth_by_domain{{domain=\"{DOMAIN}\"}}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let after = scrape(&api).await;
        let get = |s: &str| value(&after, s).unwrap_or(0.0);
        let waiting = get("mxspool_queue_depth{state=\"queued\"}")
            + get("mxspool_queue_depth{state=\"deferred\"}")
            + get("mxspool_queue_depth{state=\"delivering\"}");
        let settled = value(&after, &target) == Some(0.0)
            && get("mxspool_targets{state=\"down\"}") >= 1.0
            && get(&by_domain) == 3.0
            && waiting == 3.0
            && get("mxspool_queue_oldest_age_seconds") >= 0.0;
        if settled {
            let counted = |s: &str| get(s) - value(&before, s).unwrap_or(0.0);
            assert!(
                counted("mxspool_smtp_connections_total") >= 4.0,
                "{after:?}"
            );
            assert!(counted("mxspool_smtp_messages_accepted_total") >= 3.0);
            assert!(counted(rejected) >= 1.0, "{after:?}");
            assert!(get("mxspool_delivery_attempts_recent{outcome=\"delivered\"}") == 0.0);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "queue or target figures never settled: {after:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    mx.stop();
}
