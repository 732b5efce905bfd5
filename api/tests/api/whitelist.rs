//! The whitelist report (customer step 3) against a real DNS server and a real SMTP target
//! on loopback, with egress addresses 127.0.0.1 and 127.0.0.2 (both bindable on Linux).
//!
//! Reverse names of 127.0.0.0/8 never reach a nameserver: the resolver answers them itself
//! with `localhost` (RFC 6761), and `localhost` is 127.0.0.1 — so 127.0.0.1 is forward-confirmed
//! and 127.0.0.2 is not. The PTR records the test DNS server serves are for addresses this host
//! cannot bind (192.0.2.26, 2001:db8::25), reported as such by the verify probe.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use mxspool_testsink::{DnsServer, SinkServer, Zone};
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const EGRESS_1: &str = "127.0.0.1";
const EGRESS_2: &str = "127.0.0.2";

const V4_ELSEWHERE: &str = "192.0.2.26";
const V6: &str = "2001:db8::25";

/// DNS: 2001:db8::25 ↔ mx6.relay.test both ways (forward-confirmed); 192.0.2.26 →
/// mx7.relay.test, but mx7.relay.test → 192.0.2.99 (not confirmed).
fn zone() -> Zone {
    let v6: Ipv6Addr = V6.parse().unwrap();
    Zone::new()
        .ptr(IpAddr::V6(v6), "mx6.relay.test")
        .aaaa("mx6.relay.test", v6)
        .ptr(V4_ELSEWHERE.parse().unwrap(), "mx7.relay.test")
        .a("mx7.relay.test", Ipv4Addr::new(192, 0, 2, 99))
}

struct World {
    app: TestApp,
    sink: SinkServer,
    _dns: DnsServer,
    token: String,
    domain: i64,
}

async fn world_with(egress: &[&str]) -> World {
    let dns = DnsServer::start(zone()).await.expect("DNS server");
    let sink = SinkServer::start().await.expect("SMTP target");
    let servers = vec![dns.addr()];
    let ips: Vec<IpAddr> = egress.iter().map(|ip| ip.parse().unwrap()).collect();
    let app = TestApp::spawn_with(move |c| {
        c.allow_private_targets = true;
        c.dns_servers = Some(servers);
        c.egress_ips = ips;
    })
    .await;
    let (_, token) = app.customer("owner@customer.test", 5, false).await;
    let domain = app
        .create_domain(
            &token,
            json!({"name": "customer.test", "target_host": "127.0.0.1",
                   "target_port": sink.port()}),
        )
        .await
        .expect(201)
        .id();
    World {
        app,
        sink,
        _dns: dns,
        token,
        domain,
    }
}

async fn world() -> World {
    world_with(&[EGRESS_1, EGRESS_2]).await
}

impl World {
    async fn report(&self) -> Value {
        self.app
            .get(
                &format!("/api/v1/domains/{}/whitelist", self.domain),
                &self.token,
            )
            .await
            .expect(200)
            .body
    }

    async fn verify(&self) -> Value {
        self.app
            .post(
                &format!("/api/v1/domains/{}/whitelist/verify", self.domain),
                &self.token,
                json!({}),
            )
            .await
            .expect(200)
            .body
    }

    /// Records a delivery attempt from `source` to the domain's target `minutes_ago`, for
    /// `recipients` recipients of one transaction (one row each, as the relay writes them).
    async fn attempt(
        &self,
        source: &str,
        target: &str,
        minutes_ago: i64,
        code: i32,
        reply: &str,
        recipients: usize,
    ) {
        let mut sql = format!(
            "WITH m AS (INSERT INTO messages (sender, client_ip, helo, size, body) \
                        VALUES ('a@sender.test', '192.0.2.1', 'client', 1, '\\x00') RETURNING id) \
             , d AS (INSERT INTO deliveries (message_id, domain_id, recipient, expires_at) \
                     SELECT m.id, {domain}, 'r' || g || '@customer.test', now() + interval '1 day' \
                     FROM m, generate_series(1, {recipients}) g RETURNING id) \
             INSERT INTO delivery_attempts (delivery_id, domain_id, started_at, duration_ms, \
                 target_host, target_ip, code, reply, outcome, source_ip) \
             SELECT d.id, {domain}, date_trunc('second', now()) - interval '{minutes_ago} minutes', 5, \
                 '{target}', '127.0.0.1', {code}, '{reply}', '{outcome}', '{source}' FROM d",
            domain = self.domain,
            outcome = match code {
                200..=299 => "delivered",
                500..=599 => "bounced",
                _ => "deferred",
            },
        );
        sql.push(';');
        self.app.sql(&sql).await;
    }
}

fn address<'a>(report: &'a Value, ip: &str) -> &'a Value {
    report["domain"]["addresses"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["ip"] == ip))
        .unwrap_or_else(|| panic!("no evidence for {ip} in {report}"))
}

fn snippet(report: &Value, id: &str) -> String {
    report["snippets"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["id"] == id))
        .and_then(|s| s["text"].as_str())
        .unwrap_or_else(|| panic!("no {id} snippet in {report}"))
        .to_owned()
}

fn result<'a>(verify: &'a Value, ip: &str) -> &'a Value {
    verify["results"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["source_ip"] == ip))
        .unwrap_or_else(|| panic!("no result for {ip} in {verify}"))
}

#[tokio::test]
async fn the_report_lists_egress_addresses_with_their_ptr_names_and_forward_confirmation() {
    let w = world_with(&[EGRESS_1, EGRESS_2, V4_ELSEWHERE, V6]).await;
    let report = w.report().await;
    assert_eq!(report["backup_mx_hostname"], w.app.hostname);
    assert_eq!(report["egress_source"], "configured");
    assert_eq!(report["recent_days"], 7);
    let egress = report["egress"].as_array().unwrap();
    assert_eq!(egress.len(), 4);
    assert_eq!(egress[0]["ip"], EGRESS_1);
    assert_eq!(egress[0]["cidr"], "127.0.0.1/32");
    assert_eq!(egress[0]["family"], "ipv4");
    assert_eq!(egress[0]["ptr"], "localhost");
    assert_eq!(egress[0]["forward_confirmed"], true);
    assert_eq!(egress[0]["dns_problem"], Value::Null);
    assert_eq!(egress[1]["ip"], EGRESS_2);
    assert_eq!(egress[1]["ptr_names"], json!(["localhost"]));
    assert_eq!(egress[1]["forward_confirmed"], false);
    assert!(
        egress[1]["dns_problem"]
            .as_str()
            .is_some_and(|p| p.contains("localhost does not resolve to 127.0.0.2")),
        "{report}"
    );
    // From the test DNS server: one confirmed, one not.
    assert_eq!(egress[2]["ip"], V4_ELSEWHERE);
    assert_eq!(egress[2]["ptr"], "mx7.relay.test");
    assert_eq!(egress[2]["forward_confirmed"], false);
    assert!(
        egress[2]["dns_problem"]
            .as_str()
            .is_some_and(|p| p.contains("mx7.relay.test does not resolve to 192.0.2.26")),
        "{report}"
    );
    assert_eq!(egress[3]["ip"], V6);
    assert_eq!(egress[3]["family"], "ipv6");
    assert_eq!(egress[3]["cidr"], "2001:db8::25/128");
    assert_eq!(egress[3]["ptr"], "mx6.relay.test");
    assert_eq!(egress[3]["forward_confirmed"], true);
    assert_eq!(egress[3]["dns_problem"], Value::Null);
    // No attempts yet: every address is unknown, with a pointer to verify.
    for ip in [EGRESS_1, EGRESS_2, V4_ELSEWHERE, V6] {
        let a = address(&report, ip);
        assert_eq!(a["verdict"], "unknown", "{a}");
        assert!(a["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("/api/v1/domains/{}/whitelist/verify", w.domain)));
        assert_eq!(a["evidence"], json!([]));
    }
    assert_eq!(report["domain"]["target_port"], w.sink.port());
    let ids: Vec<&str> = report["snippets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "postfix",
            "exim",
            "rspamd",
            "spamassassin",
            "microsoft365",
            "nftables",
            "iptables"
        ]
    );
    for s in report["snippets"].as_array().unwrap() {
        assert!(s["label"].as_str().is_some_and(|l| !l.is_empty()));
        assert!(s["instructions"].as_str().is_some_and(|l| !l.is_empty()));
    }
    let port = w.sink.port();
    assert!(snippet(&report, "postfix")
        .contains("127.0.0.1/32\tOK\n127.0.0.2/32\tOK\n192.0.2.26/32\tOK\n2001:db8::25/128\tOK\n"));
    assert!(snippet(&report, "postfix")
        .contains("check_client_access cidr:/etc/postfix/mxspool_backup_mx.cidr"));
    assert!(snippet(&report, "postfix").contains("2001:db8::25/128\tpermit"));
    assert!(snippet(&report, "exim").contains(
        "hostlist mxspool_backup_mx = <; 127.0.0.1/32 ; 127.0.0.2/32 ; 192.0.2.26/32 ; 2001:db8::25/128"
    ));
    assert!(snippet(&report, "rspamd").contains(
        "ip = [\"127.0.0.1/32\", \"127.0.0.2/32\", \"192.0.2.26/32\", \"2001:db8::25/128\"];"
    ));
    assert!(snippet(&report, "spamassassin")
        .contains("internal_networks 127.0.0.1/32 127.0.0.2/32 192.0.2.26/32 2001:db8::25/128"));
    let m365 = snippet(&report, "microsoft365");
    assert!(
        m365.contains("@{Add=\"127.0.0.1\",\"127.0.0.2\",\"192.0.2.26\"}"),
        "{m365}"
    );
    assert!(
        m365.contains("IPv4 addresses only. For 2001:db8::25"),
        "{m365}"
    );
    assert!(snippet(&report, "nftables").contains(&format!(
        "ip saddr {{ 127.0.0.1, 127.0.0.2, 192.0.2.26 }} tcp dport {{ {port} }} accept"
    )));
    assert!(snippet(&report, "nftables").contains(&format!(
        "ip6 saddr {{ 2001:db8::25 }} tcp dport {{ {port} }} accept"
    )));
    assert!(snippet(&report, "iptables").contains(&format!(
        "iptables -I INPUT -p tcp -s 127.0.0.2 --dport {port} -j ACCEPT"
    )));
    assert!(snippet(&report, "iptables").contains(&format!(
        "ip6tables -I INPUT -p tcp -s 2001:db8::25 --dport {port} -j ACCEPT"
    )));
}

#[tokio::test]
async fn verify_opens_a_session_from_each_egress_address_up_to_rcpt_and_judges_them() {
    let w = world().await;
    w.sink.set_client_rcpt_reply(
        IpAddr::from([127, 0, 0, 2]),
        Some("554 5.7.1 Client host [127.0.0.2] blocked by policy"),
    );
    let verify = w.verify().await;
    assert_eq!(verify["recipient"], "postmaster@customer.test");
    assert_eq!(verify["results"].as_array().unwrap().len(), 2);

    let ok = result(&verify, EGRESS_1);
    assert_eq!(ok["outcome"], "accepted", "{ok}");
    assert_eq!(ok["stage"], "rcpt");
    assert_eq!(ok["code"], 250);
    assert_eq!(ok["target_ip"], "127.0.0.1");
    let commands: Vec<Value> = ok["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["command"].clone())
        .collect();
    assert_eq!(
        commands,
        [
            Value::Null,
            json!(format!("EHLO {}", w.app.hostname)),
            json!("MAIL FROM:<>"),
            json!("RCPT TO:<postmaster@customer.test>"),
        ]
    );
    let refused = result(&verify, EGRESS_2);
    assert_eq!(refused["outcome"], "rejected", "{refused}");
    assert_eq!(refused["stage"], "rcpt");
    assert_eq!(refused["code"], 554);
    assert_eq!(
        refused["reply"],
        "554 5.7.1 Client host [127.0.0.2] blocked by policy"
    );

    // The target saw one connection from each address, and no mail (no DATA).
    let mut clients = w.sink.clients();
    clients.sort();
    assert_eq!(
        clients,
        [IpAddr::from([127, 0, 0, 1]), IpAddr::from([127, 0, 0, 2])]
    );
    assert_eq!(w.sink.count(), 0);

    // The probes are evidence for the report.
    let report = w.report().await;
    let a = address(&report, EGRESS_1);
    assert_eq!(a["verdict"], "ok", "{a}");
    assert_eq!(a["evidence"][0]["source"], "verify");
    assert_eq!(a["evidence"][0]["code"], 250);
    assert_eq!(a["evidence"][0]["stage"], "rcpt");
    let b = address(&report, EGRESS_2);
    assert_eq!(b["verdict"], "rejected", "{b}");
    assert!(b["reason"].as_str().unwrap().contains("554 5.7.1"), "{b}");
}

#[tokio::test]
async fn delivery_history_gives_greylisted_and_old_or_foreign_evidence_does_not_count() {
    let w = world().await;
    // 127.0.0.1: two 4xx sessions (the first with two recipients), then a 2xx.
    w.attempt(
        EGRESS_1,
        "127.0.0.1",
        30,
        451,
        "451 4.7.1 Greylisted, try again later",
        2,
    )
    .await;
    w.attempt(
        EGRESS_1,
        "127.0.0.1",
        20,
        451,
        "451 4.7.1 Greylisted, try again later",
        1,
    )
    .await;
    w.attempt(EGRESS_1, "127.0.0.1", 10, 250, "250 2.0.0 Ok: queued", 1)
        .await;
    // A rejection by a former target of the domain says nothing about the current one.
    w.attempt(
        EGRESS_1,
        "old-mx.customer.test",
        1,
        554,
        "554 5.7.1 blocked",
        1,
    )
    .await;
    // 127.0.0.2: accepted, but 8 days ago.
    w.attempt(EGRESS_2, "127.0.0.1", 8 * 24 * 60, 250, "250 2.0.0 Ok", 1)
        .await;

    let report = w.report().await;
    let a = address(&report, EGRESS_1);
    assert_eq!(a["verdict"], "greylisted", "{a}");
    assert!(
        a["reason"]
            .as_str()
            .unwrap()
            .contains("after 2 temporary failures"),
        "{a}"
    );
    let codes: Vec<Value> = a["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].clone())
        .collect();
    assert_eq!(
        codes,
        [json!(250), json!(451), json!(451)],
        "one item per transaction: {a}"
    );
    assert_eq!(a["evidence"][0]["source"], "delivery");

    let b = address(&report, EGRESS_2);
    assert_eq!(b["verdict"], "unknown", "{b}");
    assert!(b["reason"].as_str().unwrap().contains("last 7 days"), "{b}");
    assert_eq!(b["evidence"][0]["recent"], false);

    // A fresh policy rejection from the current target turns 127.0.0.1 to rejected, and a
    // later success back to ok.
    w.attempt(
        EGRESS_1,
        "127.0.0.1",
        5,
        550,
        "550 Client host blocked using zen.spamhaus.org",
        1,
    )
    .await;
    assert_eq!(address(&w.report().await, EGRESS_1)["verdict"], "rejected");
    w.attempt(EGRESS_1, "127.0.0.1", 0, 250, "250 2.0.0 Ok", 1)
        .await;
    let report = w.report().await;
    // The greylisting run is still among the recent evidence.
    assert_eq!(address(&report, EGRESS_1)["verdict"], "greylisted");
    w.attempt(EGRESS_2, "127.0.0.1", 3, 450, "450 4.2.0 later", 1)
        .await;
    assert_eq!(address(&w.report().await, EGRESS_2)["verdict"], "deferred");
}

#[tokio::test]
async fn addresses_this_host_cannot_bind_are_reported_per_address() {
    let w = world_with(&[EGRESS_1, V4_ELSEWHERE, V6]).await;
    let verify = w.verify().await;
    assert_eq!(result(&verify, EGRESS_1)["outcome"], "accepted");
    for ip in [V4_ELSEWHERE, V6] {
        let r = result(&verify, ip);
        assert_eq!(r["outcome"], "error", "{r}");
        assert_eq!(r["stage"], "bind");
        assert_eq!(r["code"], Value::Null);
        assert!(r["reply"].as_str().unwrap().contains("cannot bind"), "{r}");
    }
    assert_eq!(w.sink.clients(), [IpAddr::from([127, 0, 0, 1])]);

    let report = w.report().await;
    for ip in [V4_ELSEWHERE, V6] {
        let a = address(&report, ip);
        assert_eq!(
            a["verdict"], "unknown",
            "a bind failure judges nothing: {a}"
        );
        assert_eq!(a["evidence"][0]["stage"], "bind");
        assert_eq!(a["evidence"][0]["code"], Value::Null);
    }
    assert_eq!(address(&report, EGRESS_1)["verdict"], "ok");
}

#[tokio::test]
async fn a_silent_target_ends_the_probe_with_an_error_instead_of_hanging() {
    let w = world().await;
    // Accepts connections and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    w.app
        .patch(
            &format!("/api/v1/domains/{}", w.domain),
            &w.token,
            json!({"target_port": port}),
        )
        .await
        .expect(200);
    let verify = w.verify().await;
    for ip in [EGRESS_1, EGRESS_2] {
        let r = result(&verify, ip);
        assert_eq!(r["outcome"], "error", "{r}");
        assert_eq!(r["stage"], "greeting", "{r}");
        assert_eq!(
            r["reply"],
            "timed out waiting for the reply to the greeting"
        );
    }
    holder.abort();
}

#[tokio::test]
async fn the_text_format_is_the_whole_report_as_plain_text() {
    let w = world().await;
    w.sink
        .set_client_rcpt_reply(IpAddr::from([127, 0, 0, 2]), Some("554 5.7.1 blocked"));
    w.verify().await;
    let reply = w
        .app
        .get(
            &format!("/api/v1/domains/{}/whitelist?format=text", w.domain),
            &w.token,
        )
        .await
        .expect(200);
    assert_eq!(reply.header("content-type"), "text/plain; charset=utf-8");
    let text = reply.body.as_str().expect("a text body").to_owned();
    for expected in [
        "Whitelist report for customer.test",
        "127.0.0.1                               PTR localhost (forward-confirmed)",
        "127.0.0.2                               PTR localhost (NOT forward-confirmed)",
        "  127.0.0.1  OK",
        "  127.0.0.2  REJECTED",
        "verify   554 at rcpt  554 5.7.1 blocked",
        "Postfix\n-------",
        "127.0.0.1/32\tOK",
        "Microsoft 365 / Exchange Online",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(
        !text.contains("ip6tables -I"),
        "no IPv6 address, no ip6tables rule:\n{text}"
    );
    let all = w
        .app
        .get("/api/v1/whitelist?format=text", &w.token)
        .await
        .expect(200);
    let text = all.body.as_str().expect("a text body");
    assert!(
        text.contains("customer.test: target 127.0.0.1 port"),
        "{text}"
    );
    assert!(text.contains("hostlist mxspool_backup_mx"), "{text}");
}

#[tokio::test]
async fn the_overview_pages_through_the_callers_domains_only() {
    let w = world().await;
    let second = w.app.domain(&w.token, "second.test").await;
    let (_, other) = w.app.customer("other@customer.test", 5, false).await;
    let foreign = w.app.domain(&other, "foreign.test").await;

    let page = w
        .app
        .get("/api/v1/whitelist?limit=1", &w.token)
        .await
        .expect(200)
        .body;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["domain_id"], w.domain);
    assert_eq!(page["egress"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let next = w
        .app
        .get(
            &format!("/api/v1/whitelist?limit=1&cursor={cursor}"),
            &w.token,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(next["items"][0]["domain_id"], second);
    assert_eq!(next["next_cursor"], Value::Null);
    // Both target ports of the first page's domain set appear in the firewall snippets.
    let all = w
        .app
        .get("/api/v1/whitelist", &w.token)
        .await
        .expect(200)
        .body;
    let ids: Vec<i64> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["domain_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [w.domain, second]);
    assert!(!ids.contains(&foreign));
    assert!(
        snippet(&all, "nftables").contains(&format!("tcp dport {{ 25, {} }}", w.sink.port())),
        "{all}"
    );

    let bad = w
        .app
        .get("/api/v1/whitelist?limit=501", &w.token)
        .await
        .expect_problem(422);
    assert_eq!(bad.error_fields(), ["limit"]);
    let bad = w
        .app
        .get(
            &format!("/api/v1/domains/{}/whitelist?format=html", w.domain),
            &w.token,
        )
        .await
        .expect_problem(422);
    assert_eq!(bad.error_fields(), ["format"]);
}

#[tokio::test]
async fn another_tenants_domain_answers_404() {
    let w = world().await;
    let (_, other) = w.app.customer("other@customer.test", 5, false).await;
    w.app
        .get(&format!("/api/v1/domains/{}/whitelist", w.domain), &other)
        .await
        .expect_problem(404);
    w.app
        .post(
            &format!("/api/v1/domains/{}/whitelist/verify", w.domain),
            &other,
            json!({}),
        )
        .await
        .expect_problem(404);
    assert_eq!(
        w.sink.connections(),
        0,
        "no probe for a domain the caller cannot see"
    );
    let admin = w.app.admin_token().await;
    w.app
        .get(&format!("/api/v1/domains/{}/whitelist", w.domain), &admin)
        .await
        .expect(200);
    w.app
        .get("/api/v1/domains/999999/whitelist", &admin)
        .await
        .expect_problem(404);
}
