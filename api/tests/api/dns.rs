//! `GET /domains/{id}/dns` and `POST /domains/{id}/dns/check`: the live DNS check against a
//! real DNS server on loopback serving the zone each test writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::TestApp;
use mxspool_testsink::Zone;
use serde_json::{json, Value};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

const DOMAIN: &str = "customer.test";
const PRIMARY: &str = "mail.customer.test";
const PRIMARY_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 20);
const BACKUP_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 5);

/// The backup MX host name and its address, as every zone of these tests publishes them.
fn base(app: &TestApp) -> Zone {
    Zone::new().a(&app.hostname, BACKUP_IP)
}

/// What the customer should publish: primary at 10, backup at 90, TTL 1800.
fn correct_zone(app: &TestApp) -> Zone {
    base(app)
        .mx(DOMAIN, 10, PRIMARY)
        .mx(DOMAIN, 90, &app.hostname)
        .ttl(DOMAIN, 1800)
        .a(PRIMARY, PRIMARY_IP)
}

/// A customer with the domain `customer.test` relaying to `target`.
async fn customer_domain(app: &TestApp, target: &str) -> (String, i64) {
    let (_, token) = app.customer("owner@customer.test", 5, true).await;
    let id = app
        .create_domain(&token, json!({"name": DOMAIN, "target_host": target}))
        .await
        .expect(201)
        .id();
    (token, id)
}

async fn get_check(app: &TestApp, token: &str, id: i64) -> Value {
    app.get(&format!("/api/v1/domains/{id}/dns"), token)
        .await
        .expect(200)
        .body
}

/// The named check's entry in a report.
fn named<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["check"]["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"))
}

/// The status of the named check, asserting its sentence is there.
fn status(report: &Value, name: &str) -> String {
    let check = named(report, name);
    assert!(
        check["message"].as_str().is_some_and(|m| m.len() > 10),
        "{check}"
    );
    check["status"].as_str().unwrap_or_default().to_owned()
}

fn message(report: &Value, name: &str) -> String {
    named(report, name)["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn listed_with_dns_status(app: &TestApp, token: &str, status: &str) -> Vec<i64> {
    app.get(&format!("/api/v1/domains?dns_status={status}"), token)
        .await
        .expect(200)
        .item_ids()
}

#[tokio::test]
async fn a_correctly_published_backup_mx_passes_every_check_and_is_stored() {
    let app = TestApp::spawn().await;
    app.dns.set_zone(correct_zone(&app));
    let (token, id) = customer_domain(&app, PRIMARY).await;

    let report = get_check(&app, &token, id).await;

    // The instructions are still there.
    assert_eq!(
        report["zone_file_line"],
        format!("{DOMAIN}. 1800 IN MX 90 {}.", app.hostname)
    );
    let check = &report["check"];
    assert_eq!(check["status"], "ok", "{report:#}");
    assert_eq!(check["lookup"], "ok");
    assert_eq!(check["null_mx"], false);
    assert_eq!(check["ttl"], 1800);
    assert_eq!(check["backup_host"], app.hostname);
    assert_eq!(
        check["mx"],
        json!([
            {"preference": 10, "exchange": PRIMARY, "is_backup": false, "lookup": "ok",
             "addresses": [PRIMARY_IP.to_string()], "cname": null},
            {"preference": 90, "exchange": app.hostname, "is_backup": true, "lookup": "ok",
             "addresses": [BACKUP_IP.to_string()], "cname": null},
        ])
    );
    assert_eq!(
        check["target"],
        json!({"host": PRIMARY, "lookup": "ok", "addresses": [PRIMARY_IP.to_string()]})
    );
    assert_eq!(check["own_addresses"], json!([BACKUP_IP.to_string()]));
    let names: Vec<&str> = check["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "mx_records_present",
            "backup_listed",
            "backup_least_priority",
            "primary_listed",
            "target_resolves",
            "no_loop",
            "mx_hosts_resolve",
            "mx_hosts_not_cname",
            "mx_ttl"
        ]
    );
    for name in names {
        assert_eq!(status(&report, name), "ok", "{name}: {report:#}");
    }
    assert!(message(&report, "mx_ttl").contains("1800"));

    // Stored on the domain and found by the filter.
    let domain = app
        .get(&format!("/api/v1/domains/{id}"), &token)
        .await
        .expect(200)
        .body;
    assert_eq!(domain["last_dns_check"]["status"], "ok");
    assert_eq!(
        domain["last_dns_check"]["checked_at"],
        report["check"]["checked_at"]
    );
    assert_eq!(listed_with_dns_status(&app, &token, "ok").await, [id]);
    assert!(listed_with_dns_status(&app, &token, "error")
        .await
        .is_empty());
}

#[tokio::test]
async fn a_missing_backup_is_an_error_until_the_zone_is_fixed_and_checked_again() {
    let app = TestApp::spawn().await;
    app.dns.set_zone(
        base(&app)
            .mx(DOMAIN, 10, PRIMARY)
            .a(PRIMARY, PRIMARY_IP)
            .ttl(DOMAIN, 1800),
    );
    let (token, id) = customer_domain(&app, PRIMARY).await;

    let report = get_check(&app, &token, id).await;
    assert_eq!(report["check"]["status"], "error");
    assert_eq!(status(&report, "mx_records_present"), "ok");
    assert_eq!(status(&report, "backup_listed"), "error");
    assert!(
        message(&report, "backup_listed")
            .contains(&format!("{DOMAIN}. 1800 IN MX 90 {}.", app.hostname)),
        "{report:#}"
    );
    assert_eq!(status(&report, "backup_least_priority"), "skipped");
    assert_eq!(status(&report, "primary_listed"), "ok");
    assert_eq!(listed_with_dns_status(&app, &token, "error").await, [id]);

    // The customer publishes the record and asks for a new check.
    app.dns.set_zone(correct_zone(&app));
    let recheck = app
        .post(
            &format!("/api/v1/domains/{id}/dns/check"),
            &token,
            json!({}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(recheck["check"]["status"], "ok", "{recheck:#}");
    assert_eq!(status(&recheck, "backup_listed"), "ok");
    assert_eq!(recheck["records"][0]["priority"], 90);
    assert!(listed_with_dns_status(&app, &token, "error")
        .await
        .is_empty());
    assert_eq!(listed_with_dns_status(&app, &token, "ok").await, [id]);
    let domain = app
        .get(&format!("/api/v1/domains/{id}"), &token)
        .await
        .expect(200)
        .body;
    assert_eq!(domain["last_dns_check"]["status"], "ok");
}

#[tokio::test]
async fn a_backup_with_the_same_or_a_lower_number_than_the_primary_is_an_error() {
    let app = TestApp::spawn().await;
    let (token, id) = customer_domain(&app, PRIMARY).await;

    app.dns.set_zone(
        base(&app)
            .mx(DOMAIN, 10, PRIMARY)
            .mx(DOMAIN, 10, &app.hostname)
            .a(PRIMARY, PRIMARY_IP),
    );
    let equal = get_check(&app, &token, id).await;
    assert_eq!(equal["check"]["status"], "error");
    assert_eq!(status(&equal, "backup_listed"), "ok");
    assert_eq!(status(&equal, "backup_least_priority"), "error");
    let why = message(&equal, "backup_least_priority");
    assert!(
        why.contains("the same as") && why.contains("at random"),
        "{why}"
    );
    // The primary is listed, but not with a lower number than the backup.
    assert_eq!(status(&equal, "primary_listed"), "error");

    app.dns.set_zone(
        base(&app)
            .mx(DOMAIN, 20, PRIMARY)
            .mx(DOMAIN, 5, &app.hostname)
            .a(PRIMARY, PRIMARY_IP),
    );
    let lower = get_check(&app, &token, id).await;
    assert_eq!(status(&lower, "backup_least_priority"), "error");
    let why = message(&lower, "backup_least_priority");
    assert!(why.contains("lower than") && why.contains("first"), "{why}");
    assert_eq!(status(&lower, "primary_listed"), "error");
}

#[tokio::test]
async fn the_primary_may_be_listed_under_another_name_with_the_same_address() {
    let app = TestApp::spawn().await;
    app.dns.set_zone(
        base(&app)
            .mx(DOMAIN, 10, "mx1.customer.test")
            .mx(DOMAIN, 90, &app.hostname)
            .a("mx1.customer.test", PRIMARY_IP)
            .a(PRIMARY, PRIMARY_IP),
    );
    let (token, id) = customer_domain(&app, PRIMARY).await;
    let report = get_check(&app, &token, id).await;
    assert_eq!(report["check"]["status"], "ok", "{report:#}");
    assert_eq!(status(&report, "primary_listed"), "ok");
    assert!(message(&report, "primary_listed").contains("mx1.customer.test"));
}

#[tokio::test]
async fn a_target_host_that_is_no_mx_at_all_is_a_warning() {
    let app = TestApp::spawn().await;
    app.dns.set_zone(
        base(&app)
            .mx(DOMAIN, 10, "mx1.customer.test")
            .mx(DOMAIN, 90, &app.hostname)
            .a("mx1.customer.test", Ipv4Addr::new(198, 51, 100, 99))
            .a(PRIMARY, PRIMARY_IP),
    );
    let (token, id) = customer_domain(&app, PRIMARY).await;
    let report = get_check(&app, &token, id).await;
    assert_eq!(report["check"]["status"], "warning", "{report:#}");
    assert_eq!(status(&report, "primary_listed"), "warning");
    assert!(message(&report, "primary_listed").contains(PRIMARY));
    assert_eq!(listed_with_dns_status(&app, &token, "warning").await, [id]);
    assert!(listed_with_dns_status(&app, &token, "ok").await.is_empty());
}

#[tokio::test]
async fn a_target_host_resolving_to_the_backup_itself_is_a_loop() {
    let app = TestApp::spawn().await;
    app.dns.set_zone(
        base(&app)
            .mx(DOMAIN, 10, PRIMARY)
            .mx(DOMAIN, 90, &app.hostname)
            .a(PRIMARY, BACKUP_IP),
    );
    let (token, id) = customer_domain(&app, PRIMARY).await;
    let report = get_check(&app, &token, id).await;
    assert_eq!(report["check"]["status"], "error");
    assert_eq!(status(&report, "no_loop"), "error");
    assert!(message(&report, "no_loop").contains(&BACKUP_IP.to_string()));
}

#[tokio::test]
async fn a_target_host_resolving_to_an_egress_address_is_a_loop() {
    let egress = Ipv4Addr::new(192, 0, 2, 25);
    let app = TestApp::spawn_with(|c| {
        c.allow_private_targets = true;
        c.egress_ips = vec![egress.into()];
    })
    .await;
    app.dns.set_zone(
        base(&app)
            .mx(DOMAIN, 10, PRIMARY)
            .mx(DOMAIN, 90, &app.hostname)
            .a(PRIMARY, egress),
    );
    let (token, id) = customer_domain(&app, PRIMARY).await;
    let report = get_check(&app, &token, id).await;
    assert_eq!(
        report["check"]["own_addresses"],
        json!([egress.to_string(), BACKUP_IP.to_string()])
    );
    assert_eq!(status(&report, "no_loop"), "error");
    assert!(message(&report, "no_loop").contains(&egress.to_string()));

    // The same zone with the target elsewhere is fine.
    app.dns.set_zone(correct_zone(&app));
    let fixed = get_check(&app, &token, id).await;
    assert_eq!(status(&fixed, "no_loop"), "ok");
}

#[tokio::test]
async fn an_ip_address_as_target_host_needs_no_lookup_and_matches_by_address() {
    let app = TestApp::spawn().await;
    app.dns.set_zone(correct_zone(&app));
    let (token, id) = customer_domain(&app, &PRIMARY_IP.to_string()).await;
    let report = get_check(&app, &token, id).await;
    assert_eq!(report["check"]["status"], "ok", "{report:#}");
    assert_eq!(
        report["check"]["target"],
        json!({"host": PRIMARY_IP.to_string(), "lookup": "ok", "addresses": [PRIMARY_IP.to_string()]})
    );
    assert!(message(&report, "target_resolves").contains("IP address"));
    assert_eq!(status(&report, "primary_listed"), "ok");
    assert!(message(&report, "primary_listed").contains(PRIMARY));
}

#[tokio::test]
async fn a_target_host_that_does_not_exist_is_an_error() {
    let app = TestApp::spawn().await;
    app.dns.set_zone(
        base(&app)
            .mx(DOMAIN, 10, "mx1.customer.test")
            .mx(DOMAIN, 90, &app.hostname)
            .a("mx1.customer.test", PRIMARY_IP),
    );
    let (token, id) = customer_domain(&app, "gone.customer.test").await;
    let report = get_check(&app, &token, id).await;
    assert_eq!(report["check"]["target"]["lookup"], "nxdomain");
    assert_eq!(status(&report, "target_resolves"), "error");
    assert!(message(&report, "target_resolves").contains("NXDOMAIN"));
    assert_eq!(status(&report, "no_loop"), "skipped");
    assert_eq!(status(&report, "primary_listed"), "warning");
}

#[tokio::test]
async fn mx_hosts_without_addresses_and_aliases_are_reported() {
    let app = TestApp::spawn().await;
    app.dns.set_zone(
        base(&app)
            .mx(DOMAIN, 10, PRIMARY)
            .mx(DOMAIN, 20, "mx2.customer.test")
            .mx(DOMAIN, 90, &app.hostname)
            .cname(PRIMARY, "real.customer.test")
            .a("real.customer.test", PRIMARY_IP),
    );
    let (token, id) = customer_domain(&app, PRIMARY).await;
    let report = get_check(&app, &token, id).await;
    let mx = report["check"]["mx"].as_array().unwrap();
    assert_eq!(mx[0]["exchange"], PRIMARY);
    assert_eq!(mx[0]["cname"], "real.customer.test");
    assert_eq!(mx[0]["addresses"], json!([PRIMARY_IP.to_string()]));
    assert_eq!(mx[1]["exchange"], "mx2.customer.test");
    assert_eq!(mx[1]["lookup"], "nxdomain");
    assert_eq!(mx[1]["addresses"], json!([]));
    assert_eq!(status(&report, "mx_hosts_resolve"), "error");
    assert!(message(&report, "mx_hosts_resolve").contains("mx2.customer.test"));
    assert_eq!(status(&report, "mx_hosts_not_cname"), "warning");
    assert!(message(&report, "mx_hosts_not_cname").contains("real.customer.test"));
    assert_eq!(report["check"]["status"], "error");

    // Only the alias left: a warning overall.
    app.dns.set_zone(
        base(&app)
            .mx(DOMAIN, 10, PRIMARY)
            .mx(DOMAIN, 90, &app.hostname)
            .cname(PRIMARY, "real.customer.test")
            .a("real.customer.test", PRIMARY_IP),
    );
    let alias_only = get_check(&app, &token, id).await;
    assert_eq!(status(&alias_only, "mx_hosts_resolve"), "ok");
    assert_eq!(alias_only["check"]["status"], "warning", "{alias_only:#}");
}

#[tokio::test]
async fn the_ttl_of_the_mx_set_is_reported_and_more_than_a_day_is_a_warning() {
    let app = TestApp::spawn().await;
    app.dns.set_zone(correct_zone(&app).ttl(DOMAIN, 172_800));
    let (token, id) = customer_domain(&app, PRIMARY).await;
    let report = get_check(&app, &token, id).await;
    assert_eq!(report["check"]["ttl"], 172_800);
    assert_eq!(status(&report, "mx_ttl"), "warning");
    assert!(message(&report, "mx_ttl").contains("1800"));
    assert_eq!(report["check"]["status"], "warning");

    app.dns.set_zone(correct_zone(&app).ttl(DOMAIN, 300));
    let short = get_check(&app, &token, id).await;
    assert_eq!(short["check"]["ttl"], 300);
    assert_eq!(status(&short, "mx_ttl"), "ok");
}

#[tokio::test]
async fn a_domain_without_mx_records_is_an_error() {
    let app = TestApp::spawn().await;
    app.dns
        .set_zone(base(&app).a(DOMAIN, PRIMARY_IP).a(PRIMARY, PRIMARY_IP));
    let (token, id) = customer_domain(&app, PRIMARY).await;
    let report = get_check(&app, &token, id).await;
    assert_eq!(report["check"]["lookup"], "nodata");
    assert_eq!(report["check"]["mx"], json!([]));
    assert_eq!(report["check"]["ttl"], Value::Null);
    assert_eq!(status(&report, "mx_records_present"), "error");
    assert!(message(&report, "mx_records_present").contains("no MX records"));
    for name in [
        "backup_listed",
        "backup_least_priority",
        "primary_listed",
        "mx_hosts_resolve",
        "mx_hosts_not_cname",
        "mx_ttl",
    ] {
        assert_eq!(status(&report, name), "skipped", "{name}");
    }
    // The target still resolves and is checked for a loop.
    assert_eq!(status(&report, "target_resolves"), "ok");
    assert_eq!(status(&report, "no_loop"), "ok");
    assert_eq!(report["check"]["status"], "error");
}

#[tokio::test]
async fn nxdomain_and_servfail_are_reported_by_name_not_as_server_errors() {
    let app = TestApp::spawn().await;
    app.dns.set_zone(base(&app).a(PRIMARY, PRIMARY_IP));
    let (token, id) = customer_domain(&app, PRIMARY).await;
    let nx = get_check(&app, &token, id).await;
    assert_eq!(nx["check"]["lookup"], "nxdomain", "{nx:#}");
    assert_eq!(status(&nx, "mx_records_present"), "error");
    assert!(message(&nx, "mx_records_present").contains("NXDOMAIN"));

    app.dns
        .set_zone(base(&app).a(PRIMARY, PRIMARY_IP).servfail(DOMAIN));
    let broken = get_check(&app, &token, id).await;
    assert_eq!(broken["check"]["lookup"], "servfail", "{broken:#}");
    assert_eq!(status(&broken, "mx_records_present"), "error");
    assert!(message(&broken, "mx_records_present").contains("SERVFAIL"));
    assert_eq!(broken["check"]["status"], "error");
}

#[tokio::test]
async fn a_null_mx_is_reported() {
    let app = TestApp::spawn().await;
    app.dns
        .set_zone(base(&app).mx(DOMAIN, 0, ".").a(PRIMARY, PRIMARY_IP));
    let (token, id) = customer_domain(&app, PRIMARY).await;
    let report = get_check(&app, &token, id).await;
    assert_eq!(report["check"]["null_mx"], true);
    assert_eq!(report["check"]["mx"][0]["exchange"], ".", "{report:#}");
    assert_eq!(status(&report, "mx_records_present"), "error");
    assert!(message(&report, "mx_records_present").contains("RFC 7505"));
    assert_eq!(status(&report, "backup_listed"), "skipped");
    assert_eq!(report["check"]["status"], "error");
}

/// A UDP "nameserver" that reads queries and never answers.
async fn silent_nameserver() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while socket.recv_from(&mut buf).await.is_ok() {}
    });
    (addr, task)
}

#[tokio::test]
async fn a_nameserver_that_never_answers_gives_a_timeout_within_the_deadline() {
    let (silent, task) = silent_nameserver().await;
    let app = TestApp::spawn_with(|c| {
        c.allow_private_targets = true;
        c.dns_servers = Some(vec![silent]);
    })
    .await;
    let (token, id) = customer_domain(&app, PRIMARY).await;
    let started = Instant::now();
    let report = get_check(&app, &token, id).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert_eq!(report["check"]["lookup"], "timeout", "{report:#}");
    assert_eq!(report["check"]["target"]["lookup"], "timeout");
    assert_eq!(status(&report, "mx_records_present"), "error");
    assert!(message(&report, "mx_records_present").contains("no answer in time"));
    assert_eq!(status(&report, "target_resolves"), "warning");
    assert_eq!(report["check"]["status"], "error");
    let domain = app
        .get(&format!("/api/v1/domains/{id}"), &token)
        .await
        .expect(200)
        .body;
    assert_eq!(domain["last_dns_check"]["status"], "error");
    task.abort();
}

#[tokio::test]
async fn another_customers_domain_cannot_be_checked() {
    let app = TestApp::spawn().await;
    app.dns.set_zone(correct_zone(&app));
    let (_, id) = customer_domain(&app, PRIMARY).await;
    let (_, other) = app.customer("other@elsewhere.test", 5, false).await;
    app.get(&format!("/api/v1/domains/{id}/dns"), &other)
        .await
        .expect_problem(404);
    app.post(
        &format!("/api/v1/domains/{id}/dns/check"),
        &other,
        json!({}),
    )
    .await
    .expect_problem(404);
    app.post("/api/v1/domains/999999/dns/check", &other, json!({}))
        .await
        .expect_problem(404);
    // Nothing was checked or stored for the domain.
    let admin = app.admin_token().await;
    let domain = app
        .get(&format!("/api/v1/domains/{id}"), &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(domain["last_dns_check"], Value::Null);
}

#[tokio::test]
async fn a_domain_administrator_can_check_the_domains_it_manages() {
    let app = TestApp::spawn().await;
    app.dns.set_zone(correct_zone(&app));
    let (token, id) = customer_domain(&app, PRIMARY).await;
    let (helper_id, helper) = app.domain_admin(&token, "helper@customer.test").await;
    app.get(&format!("/api/v1/domains/{id}/dns"), &helper)
        .await
        .expect_problem(404);
    app.put(&format!("/api/v1/domains/{id}/admins/{helper_id}"), &token)
        .await
        .expect(204);
    let report = app
        .post(
            &format!("/api/v1/domains/{id}/dns/check"),
            &helper,
            json!({}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(report["check"]["status"], "ok");
}
