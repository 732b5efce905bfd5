#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::helpers::*;
use reqwest::Method;
use std::collections::HashMap;

const METRICS_TOKEN: &str = "metrics-token-for-tests-0123456789";

async fn spawn() -> TestApp {
    TestApp::spawn_with(|c| {
        c.allow_private_targets = true;
        c.metrics_token = Some(METRICS_TOKEN.to_owned());
    })
    .await
}

/// Samples of one scrape keyed by `name{labels}` exactly as written; panics on any line that
/// is not a comment or `name[{labels}] value`.
async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse(&response.text().await.expect("body"))
}

fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            assert!(line.split(' ').count() >= 4, "bad comment: {line}");
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line: {line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "bad labels: {line}");
        }
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value: {line}")),
        };
        assert!(
            samples.insert(series.to_owned(), value).is_none(),
            "duplicate series: {line}"
        );
    }
    samples
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_need_the_metrics_token() {
    let app = spawn().await;
    app.request(Method::GET, "/metrics", None, None)
        .await
        .expect_problem(401);
    app.request(
        Method::GET,
        "/metrics",
        Some("wrong-token-wrong-token"),
        None,
    )
    .await
    .expect_problem(401);
    // An operator's access token is not the metrics token either.
    let admin = app.admin_token().await;
    app.request(Method::GET, "/metrics", Some(&admin), None)
        .await
        .expect_problem(401);
    let samples = scrape(&app).await;
    assert!(samples.contains_key("mxspool_db_pool_connections{state=\"max\"}"));
}

#[tokio::test]
async fn metrics_are_not_served_without_a_configured_token() {
    let app = TestApp::spawn().await;
    app.request(Method::GET, "/metrics", Some(METRICS_TOKEN), None)
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn http_requests_are_counted_by_route_pattern_and_status() {
    let app = spawn().await;
    let admin = app.admin_token().await;
    let ok =
        "mxspool_http_requests_total{method=\"GET\",route=\"/api/v1/domains/{id}\",status=\"200\"}";
    let missing =
        "mxspool_http_requests_total{method=\"GET\",route=\"/api/v1/domains/{id}\",status=\"404\"}";
    let histogram = "mxspool_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/domains/{id}\"}";
    let before = scrape(&app).await;
    let id = app.domain(&admin, "metrics-http.example").await;
    for _ in 0..3 {
        app.get(&format!("/api/v1/domains/{id}"), &admin)
            .await
            .expect(200);
    }
    app.get("/api/v1/domains/987654321", &admin)
        .await
        .expect_problem(404);
    let after = scrape(&app).await;
    // Other tests in this process count too: at least our requests were added.
    assert!(value(&after, ok) - value(&before, ok) >= 3.0, "{after:?}");
    assert!(value(&after, missing) - value(&before, missing) >= 1.0);
    assert!(value(&after, histogram) - value(&before, histogram) >= 4.0);
    let inf = "mxspool_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/domains/{id}\",le=\"+Inf\"}";
    assert_eq!(value(&after, inf), value(&after, histogram));
    // The raw path never becomes a label.
    assert!(after
        .keys()
        .all(|k| !k.contains(&format!("/domains/{id}\""))));
}

#[tokio::test]
async fn queue_depth_is_reported_by_state_and_by_the_deepest_domains() {
    let app = spawn().await;
    let admin = app.admin_token().await;
    // 25 domains: domain n holds n queued recipients, so the 20 deepest are 6..=25 and
    // domains 1..=5 (1+2+3+4+5 = 15 recipients) fall into "other".
    for n in 1..=25 {
        app.domain(&admin, &format!("depth{n}.example")).await;
    }
    app.sql(
        "INSERT INTO messages (sender, client_ip, helo, size, body, received_at) \
           VALUES ('s@example.org', '127.0.0.1', 'h', 1, 'x', now() - interval '2 hours'); \
         INSERT INTO deliveries (message_id, domain_id, recipient, state, expires_at, created_at) \
           SELECT (SELECT max(id) FROM messages), d.id, 'r' || g || '@' || d.name, 'queued', \
                  now() + interval '1 day', now() - interval '2 hours' \
           FROM relay_domains d, generate_series(1, 25) g \
           WHERE d.name LIKE 'depth%' AND g <= split_part(substring(d.name from 6), '.', 1)::int; \
         UPDATE deliveries SET state = 'held' WHERE id IN (SELECT id FROM deliveries ORDER BY id DESC LIMIT 2); \
         INSERT INTO deliveries (message_id, domain_id, recipient, state, expires_at) \
           SELECT (SELECT max(id) FROM messages), d.id, 'done@' || d.name, 'delivered', now() \
           FROM relay_domains d WHERE d.name = 'depth25.example';",
    )
    .await;
    let samples = scrape(&app).await;
    let total: f64 = (1..=25).sum::<i32>().into();
    assert_eq!(
        value(&samples, "mxspool_queue_depth{state=\"queued\"}"),
        total - 2.0
    );
    assert_eq!(value(&samples, "mxspool_queue_depth{state=\"held\"}"), 2.0);
    assert_eq!(
        value(&samples, "mxspool_queue_depth{state=\"deferred\"}"),
        0.0
    );
    let by_domain: Vec<(&String, &f64)> = samples
        .iter()
        .filter(|(k, _)| k.starts_with("mxspool_queue_depth_by_domain{"))
        .collect();
    assert_eq!(by_domain.len(), 21, "{by_domain:?}");
    assert_eq!(
        value(
            &samples,
            "mxspool_queue_depth_by_domain{domain=\"depth25.example\"}"
        ),
        25.0
    );
    assert_eq!(
        value(
            &samples,
            "mxspool_queue_depth_by_domain{domain=\"depth6.example\"}"
        ),
        6.0
    );
    assert_eq!(
        value(&samples, "mxspool_queue_depth_by_domain{domain=\"other\"}"),
        15.0
    );
    let age = value(&samples, "mxspool_queue_oldest_age_seconds");
    assert!((7100.0..7300.0).contains(&age), "oldest age {age}");
}

#[tokio::test]
async fn target_states_and_recent_delivery_outcomes_are_reported() {
    let app = spawn().await;
    let admin = app.admin_token().await;
    let id = app.domain(&admin, "outcomes.example").await;
    app.sql(&format!(
        "INSERT INTO targets (host, port, state) VALUES ('mx-up.example', 25, 'up'), \
           ('mx-down.example', 2525, 'down'), ('mx-new.example', 25, 'unknown'); \
         INSERT INTO messages (sender, client_ip, helo, size, body) \
           VALUES ('s@example.org', '127.0.0.1', 'h', 1, 'x'); \
         INSERT INTO deliveries (message_id, domain_id, recipient, state, expires_at) \
           VALUES ((SELECT max(id) FROM messages), {id}, 'a@outcomes.example', 'deferred', now() + interval '1 day'); \
         INSERT INTO delivery_attempts (delivery_id, domain_id, started_at, duration_ms, target_host, reply, outcome) \
           SELECT (SELECT max(id) FROM deliveries), {id}, now() - interval '1 minute', 5, 'mx-down.example', 'x', o \
           FROM unnest(ARRAY['deferred', 'deferred', 'delivered', 'bounced']) o; \
         INSERT INTO delivery_attempts (delivery_id, domain_id, started_at, duration_ms, target_host, reply, outcome) \
           VALUES ((SELECT max(id) FROM deliveries), {id}, now() - interval '1 hour', 5, 'mx-down.example', 'x', 'deferred');"
    ))
    .await;
    let samples = scrape(&app).await;
    assert_eq!(
        value(&samples, "mxspool_target_up{target=\"mx-up.example:25\"}"),
        1.0
    );
    assert!(samples.contains_key("mxspool_target_up{target=\"mx-down.example:2525\"}"));
    assert_eq!(
        value(
            &samples,
            "mxspool_target_up{target=\"mx-down.example:2525\"}"
        ),
        0.0
    );
    assert_eq!(value(&samples, "mxspool_targets{state=\"down\"}"), 1.0);
    assert_eq!(value(&samples, "mxspool_targets{state=\"unknown\"}"), 1.0);
    // Only the last five minutes count.
    assert_eq!(
        value(
            &samples,
            "mxspool_delivery_attempts_recent{outcome=\"deferred\"}"
        ),
        2.0
    );
    assert_eq!(
        value(
            &samples,
            "mxspool_delivery_attempts_recent{outcome=\"delivered\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "mxspool_delivery_attempts_recent{outcome=\"bounced\"}"
        ),
        1.0
    );
    assert_eq!(
        value(&samples, "mxspool_queue_depth{state=\"deferred\"}"),
        1.0
    );
}

#[tokio::test]
async fn readyz_names_the_database_and_no_relay_in_an_api_only_process() {
    let app = spawn().await;
    let reply = app
        .request(Method::GET, "/readyz", None, None)
        .await
        .expect(200);
    assert_eq!(reply.body["database"], "ok");
    assert!(
        reply.body.get("relay_workers").is_none(),
        "{:?}",
        reply.body
    );
}

#[tokio::test]
async fn readyz_is_not_ready_when_the_database_is_unreachable() {
    // Port 1 on loopback: nothing listens, connections are refused at once.
    let pool = mxspool_store::build_pool("postgres://postgres@127.0.0.1:1/mxspool", 1);
    let mut config =
        mxspool_api::ApiConfig::new("backup-mx.mxspool.test".to_owned(), "x".repeat(32));
    config.workers = 1;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let app = mxspool_api::Application::build(config, pool, listener).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let response = reqwest::get(format!("{address}/readyz"))
        .await
        .expect("readyz");
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let healthz = reqwest::get(format!("{address}/healthz"))
        .await
        .expect("healthz");
    assert_eq!(healthz.status(), 200);
}
