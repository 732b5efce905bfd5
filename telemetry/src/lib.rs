//! Process-local metrics shared by the relay (which counts SMTP connections and replies) and
//! the API (which counts HTTP requests and serves `GET /metrics`). The relay does not depend
//! on the API, so the counters live here; both increment one process-wide registry, and when
//! both run in one process (`mxspool serve`) one scrape shows both.
//!
//! Every label value comes from a closed set (SMTP codes and enhanced status codes, route
//! patterns, HTTP methods and statuses), so cardinality stays bounded.
//! The figures the database holds (queue depth, target states, delivery outcomes) are not
//! kept here: the API computes them at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds (seconds) of the HTTP latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len()],
    sum: f64,
    count: u64,
}

struct Registry {
    smtp_rejected: BTreeMap<Labels, u64>,
    http_requests: BTreeMap<Labels, u64>,
    http_latency: BTreeMap<Labels, Histogram>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    smtp_rejected: BTreeMap::new(),
    http_requests: BTreeMap::new(),
    http_latency: BTreeMap::new(),
});
static SMTP_CONNECTIONS: AtomicU64 = AtomicU64::new(0);
static SMTP_ACCEPTED: AtomicU64 = AtomicU64::new(0);
/// Delivery workers of the relay running in this process; -1: no relay in this process.
static RELAY_WORKERS: AtomicI64 = AtomicI64::new(-1);

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    // A panic while holding the lock leaves plain numbers behind: keep counting.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// An SMTP client connected (admitted or refused over a connection limit).
pub fn smtp_connection() {
    SMTP_CONNECTIONS.fetch_add(1, Ordering::Relaxed);
}

/// A message was committed to the queue and acknowledged with `250`.
pub fn smtp_message_accepted() {
    SMTP_ACCEPTED.fetch_add(1, Ordering::Relaxed);
}

/// The relay refused something at `stage` (`rcpt`, `data`) with `code` and enhanced `status`:
/// the reason, e.g. `550 5.7.1` (relay denied), `550 5.1.1` (unknown user), `552 5.3.4` (too big).
pub fn smtp_rejected(stage: &'static str, code: u16, status: Option<&'static str>) {
    let labels = vec![
        ("stage", stage.to_owned()),
        ("code", code.to_string()),
        ("status", status.unwrap_or("").to_owned()),
    ];
    *registry().smtp_rejected.entry(labels).or_default() += 1;
}

/// One HTTP request answered: `route` is the matched pattern (`/api/v1/domains/{id}`), never
/// the raw path.
pub fn http_request(method: &str, route: &str, status: u16, seconds: f64) {
    let mut reg = registry();
    let labels = vec![
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    *reg.http_requests.entry(labels).or_default() += 1;
    let h = reg
        .http_latency
        .entry(vec![
            ("method", method.to_owned()),
            ("route", route.to_owned()),
        ])
        .or_default();
    for (bucket, bound) in h.buckets.iter_mut().zip(LATENCY_BUCKETS) {
        if seconds <= bound {
            *bucket += 1;
        }
    }
    h.sum += seconds;
    h.count += 1;
}

/// The relay in this process runs `workers` delivery workers (0 once stopped).
pub fn set_relay_workers(workers: usize) {
    RELAY_WORKERS.store(
        i64::try_from(workers).unwrap_or(i64::MAX),
        Ordering::Relaxed,
    );
}

/// Delivery workers of the relay in this process; `None` when this process runs no relay.
pub fn relay_workers() -> Option<u64> {
    u64::try_from(RELAY_WORKERS.load(Ordering::Relaxed)).ok()
}

/// Writes `# HELP` and `# TYPE` for a metric family.
pub fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes one sample line, escaping label values as the text format requires.
pub fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (key, val)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let escaped = val
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = write!(out, "{key}=\"{escaped}\"");
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", format_value(value));
}

fn format_value(value: f64) -> String {
    if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

fn borrowed(labels: &Labels) -> Vec<(&str, &str)> {
    labels.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Renders this process's counters in the Prometheus text format (version 0.0.4).
pub fn render(out: &mut String) {
    family(
        out,
        "mxspool_smtp_connections_total",
        "counter",
        "SMTP connections accepted by the listener, including those refused over a limit.",
    );
    sample(
        out,
        "mxspool_smtp_connections_total",
        &[],
        SMTP_CONNECTIONS.load(Ordering::Relaxed) as f64,
    );
    family(
        out,
        "mxspool_smtp_messages_accepted_total",
        "counter",
        "Messages committed to the queue and acknowledged with 250.",
    );
    sample(
        out,
        "mxspool_smtp_messages_accepted_total",
        &[],
        SMTP_ACCEPTED.load(Ordering::Relaxed) as f64,
    );
    let reg = registry();
    family(
        out,
        "mxspool_smtp_rejected_total",
        "counter",
        "Refusals by stage (rcpt, data), reply code and enhanced status code.",
    );
    for (labels, n) in &reg.smtp_rejected {
        sample(
            out,
            "mxspool_smtp_rejected_total",
            &borrowed(labels),
            *n as f64,
        );
    }
    family(
        out,
        "mxspool_http_requests_total",
        "counter",
        "HTTP requests by method, route pattern and status.",
    );
    for (labels, n) in &reg.http_requests {
        sample(
            out,
            "mxspool_http_requests_total",
            &borrowed(labels),
            *n as f64,
        );
    }
    family(
        out,
        "mxspool_http_request_duration_seconds",
        "histogram",
        "HTTP request latency by method and route pattern.",
    );
    for (labels, h) in &reg.http_latency {
        let base = borrowed(labels);
        for (n, bound) in h.buckets.iter().zip(LATENCY_BUCKETS) {
            let le = format_value(bound);
            let mut with_le = base.clone();
            with_le.push(("le", &le));
            sample(
                out,
                "mxspool_http_request_duration_seconds_bucket",
                &with_le,
                *n as f64,
            );
        }
        let mut with_inf = base.clone();
        with_inf.push(("le", "+Inf"));
        sample(
            out,
            "mxspool_http_request_duration_seconds_bucket",
            &with_inf,
            h.count as f64,
        );
        sample(
            out,
            "mxspool_http_request_duration_seconds_sum",
            &base,
            h.sum,
        );
        sample(
            out,
            "mxspool_http_request_duration_seconds_count",
            &base,
            h.count as f64,
        );
    }
    drop(reg);
    if let Some(workers) = relay_workers() {
        family(
            out,
            "mxspool_relay_workers",
            "gauge",
            "Delivery workers of the relay running in this process.",
        );
        sample(out, "mxspool_relay_workers", &[], workers as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        sample(&mut out, "m", &[("a", "x\"y\\z\nw")], 1.5);
        assert_eq!(out, "m{a=\"x\\\"y\\\\z\\nw\"} 1.5\n");
    }

    #[test]
    fn latency_lands_in_every_bucket_at_or_above_it() {
        http_request("GET", "/test/latency", 200, 0.03);
        let mut out = String::new();
        render(&mut out);
        let line = |le: &str| {
            format!("mxspool_http_request_duration_seconds_bucket{{method=\"GET\",route=\"/test/latency\",le=\"{le}\"}} ")
        };
        assert!(out.contains(&format!("{}0\n", line("0.025"))), "{out}");
        assert!(out.contains(&format!("{}1\n", line("0.05"))), "{out}");
        assert!(out.contains(&format!("{}1\n", line("+Inf"))), "{out}");
    }
}
