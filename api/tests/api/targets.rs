//! `/api/v1/targets`: target health and up/down timelines, and who may see them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use crate::queue::tenants;
use serde_json::{json, Value};

/// `(host, port)` of each item of a targets reply.
fn targets(reply: &Reply) -> Vec<(String, i64)> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", reply.body))
        .iter()
        .map(|t| {
            (
                t["host"].as_str().unwrap().to_owned(),
                t["port"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn item<'a>(reply: &'a Reply, host: &str) -> &'a Value {
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["host"] == host)
        .unwrap_or_else(|| panic!("{host} not in {}", reply.body))
}

async fn domain_to(app: &TestApp, token: &str, name: &str, host: &str, port: i64) -> i64 {
    app.create_domain(
        token,
        json!({"name": name, "target_host": host, "target_port": port}),
    )
    .await
    .expect(201)
    .id()
}

#[tokio::test]
async fn targets_list_the_callers_domains_targets_with_their_health() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await; // one.example, two.example, other.example → 127.0.0.1:25
    let a = domain_to(&app, &t.one, "a.example", "mx.shared.example", 25).await;
    let b = domain_to(&app, &t.one, "b.example", "mx.shared.example", 25).await;
    let c = domain_to(&app, &t.other, "c.example", "mx.shared.example", 25).await;
    domain_to(&app, &t.other, "d.example", "mx.theirs.example", 2525).await;
    app.sql(
        "INSERT INTO targets (host, port, state, changed_at, last_probe_at, next_probe_at, last_error) \
         VALUES ('mx.shared.example', 25, 'down', now() - interval '10 minutes', \
                 now() - interval '5 seconds', now() + interval '55 seconds', 'connection refused'), \
                ('127.0.0.1', 25, 'up', now() - interval '1 day', NULL, NULL, NULL), \
                ('mx.theirs.example', 2525, 'up', now(), NULL, NULL, NULL), \
                ('mx.gone.example', 25, 'down', now(), NULL, NULL, 'timeout');",
    )
    .await;

    let reply = app.get("/api/v1/targets", &t.one).await.expect(200);
    assert_eq!(
        targets(&reply),
        vec![
            ("127.0.0.1".to_owned(), 25),
            ("mx.shared.example".to_owned(), 25)
        ]
    );
    let shared = item(&reply, "mx.shared.example");
    assert_eq!(shared["state"], "down");
    assert_eq!(shared["last_error"], "connection refused");
    assert!(shared["changed_at"].is_string());
    assert!(shared["last_probe_at"].is_string());
    assert!(shared["next_probe_at"].is_string());
    // Only the caller's own domains are counted and named.
    assert_eq!(shared["domain_count"], 2);
    assert_eq!(shared["domain_ids"], json!([a, b]));
    let local = item(&reply, "127.0.0.1");
    assert_eq!(local["state"], "up");
    assert_eq!(local["domain_ids"], json!([t.d1, t.d2]));

    // An operator sees every target, those no domain uses included, with every domain.
    let admin = app.admin_token().await;
    let reply = app.get("/api/v1/targets", &admin).await.expect(200);
    assert_eq!(
        targets(&reply),
        vec![
            ("127.0.0.1".to_owned(), 25),
            ("mx.gone.example".to_owned(), 25),
            ("mx.shared.example".to_owned(), 25),
            ("mx.theirs.example".to_owned(), 2525),
        ]
    );
    assert_eq!(
        item(&reply, "mx.shared.example")["domain_ids"],
        json!([a, b, c])
    );
    assert_eq!(item(&reply, "mx.gone.example")["domain_count"], 0);
    assert_eq!(item(&reply, "127.0.0.1")["domain_count"], 3);

    // Pages of one walk the same list.
    let mut seen = Vec::new();
    let mut path = "/api/v1/targets?limit=1".to_owned();
    loop {
        let reply = app.get(&path, &admin).await.expect(200);
        seen.extend(targets(&reply));
        match reply.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/targets?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[3], ("mx.theirs.example".to_owned(), 2525));
}

#[tokio::test]
async fn a_target_the_relay_has_not_tried_yet_is_listed_as_unknown() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("c@example.net", 5, false).await;
    let d = domain_to(&app, &token, "new.example", "mx.new.example", 25).await;
    let reply = app.get("/api/v1/targets", &token).await.expect(200);
    let t = item(&reply, "mx.new.example");
    assert_eq!(t["state"], "unknown");
    assert_eq!(t["changed_at"], Value::Null);
    assert_eq!(t["domain_ids"], json!([d]));
}

#[tokio::test]
async fn a_domain_admin_and_a_restricted_key_see_only_their_domains_targets() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    let a = domain_to(&app, &t.one, "a.example", "mx.a.example", 25).await;
    domain_to(&app, &t.one, "b.example", "mx.b.example", 25).await;
    let (admin_id, delegate) = app.domain_admin(&t.one, "delegate@one.example").await;
    app.put(&format!("/api/v1/domains/{a}/admins/{admin_id}"), &t.one)
        .await
        .expect(204);
    let reply = app.get("/api/v1/targets", &delegate).await.expect(200);
    assert_eq!(targets(&reply), vec![("mx.a.example".to_owned(), 25)]);
    app.get("/api/v1/targets/mx.b.example/events", &delegate)
        .await
        .expect_problem(404);

    let key = app
        .create_api_key(
            &t.one,
            json!({"name": "b only", "scopes": ["read"], "domain_ids": [t.d1]}),
        )
        .await
        .expect(201);
    let secret = key.body["secret"].as_str().unwrap().to_owned();
    let reply = app.get("/api/v1/targets", &secret).await.expect(200);
    assert_eq!(targets(&reply), vec![("127.0.0.1".to_owned(), 25)]);
    assert_eq!(reply.body["items"][0]["domain_ids"], json!([t.d1]));
}

#[tokio::test]
async fn target_events_come_newest_first_in_pages() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    domain_to(&app, &t.one, "a.example", "MX.Events.Example.", 25).await;
    domain_to(&app, &t.one, "b.example", "mx.events.example", 2525).await;
    app.sql(
        "INSERT INTO target_events (host, port, state, at, detail) \
         SELECT 'mx.events.example', CASE WHEN g % 2 = 0 THEN 25 ELSE 2525 END, \
                CASE WHEN g % 4 < 2 THEN 'down' ELSE 'up' END, \
                now() - (g || ' minutes')::interval, 'event ' || g \
         FROM generate_series(1, 120) g; \
         INSERT INTO target_events (host, port, state, at, detail) \
         VALUES ('mx.events.example', 587, 'down', now(), 'not one of the domains'' ports'), \
                ('127.0.0.1', 25, 'down', now(), 'connection refused');",
    )
    .await;
    // Host names are normalised like target_host.
    let reply = app
        .get("/api/v1/targets/MX.Events.Example./events?limit=50", &t.one)
        .await
        .expect(200);
    let first = &reply.body["items"][0];
    assert_eq!(first["detail"], "event 1");
    assert_eq!(first["port"], 2525);
    assert_eq!(first["state"], "down");
    assert_eq!(first["host"], "mx.events.example");

    // Every event of the caller's ports, newest first, over pages.
    let mut details = Vec::new();
    let mut path = "/api/v1/targets/mx.events.example/events?limit=50".to_owned();
    loop {
        let reply = app.get(&path, &t.one).await.expect(200);
        for e in reply.body["items"].as_array().unwrap() {
            details.push(e["detail"].as_str().unwrap().to_owned());
        }
        match reply.body["next_cursor"].as_str() {
            Some(c) => {
                path = format!("/api/v1/targets/mx.events.example/events?limit=50&cursor={c}")
            }
            None => break,
        }
    }
    let expected: Vec<String> = (1..=120).map(|g| format!("event {g}")).collect();
    assert_eq!(details, expected);

    let reply = app
        .get("/api/v1/targets/mx.events.example/events?port=25", &t.one)
        .await
        .expect(200);
    let ports: Vec<i64> = reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["port"].as_i64().unwrap())
        .collect();
    assert_eq!(ports.len(), 50);
    assert!(ports.iter().all(|p| *p == 25));
    app.get("/api/v1/targets/mx.events.example/events?port=587", &t.one)
        .await
        .expect_problem(404);

    // The operator sees the other port's event too.
    let admin = app.admin_token().await;
    let reply = app
        .get("/api/v1/targets/mx.events.example/events?limit=1", &admin)
        .await
        .expect(200);
    assert_eq!(reply.body["items"][0]["port"], 587);
}

#[tokio::test]
async fn another_tenants_target_timeline_answers_404() {
    let app = TestApp::spawn().await;
    let t = tenants(&app).await;
    domain_to(&app, &t.other, "c.example", "mx.theirs.example", 25).await;
    app.sql(
        "INSERT INTO target_events (host, port, state, detail) \
         VALUES ('mx.theirs.example', 25, 'down', 'refused')",
    )
    .await;
    app.get("/api/v1/targets/mx.theirs.example/events", &t.one)
        .await
        .expect_problem(404);
    let reply = app
        .get("/api/v1/targets/mx.theirs.example/events", &t.other)
        .await
        .expect(200);
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 1);
    let admin = app.admin_token().await;
    app.get("/api/v1/targets/mx.nobody.example/events", &admin)
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn bad_target_parameters_answer_422_naming_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (path, field) in [
        ("/api/v1/targets?limit=0", "limit"),
        ("/api/v1/targets?cursor=xyz", "cursor"),
        ("/api/v1/targets?state=down", "state"),
        ("/api/v1/targets/127.0.0.1/events?port=0", "port"),
        ("/api/v1/targets/127.0.0.1/events?port=http", "port"),
        ("/api/v1/targets/127.0.0.1/events?cursor=xyz", "cursor"),
    ] {
        let reply = app.get(path, &admin).await.expect_problem(422);
        assert_eq!(reply.error_fields(), vec![field.to_owned()], "{path}");
    }
}

#[tokio::test]
async fn events_of_a_host_that_cannot_be_a_target_answer_404_with_the_reason() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (host, reason) in [
        ("bad_host!", "bad_host!"),
        ("0", "unspecified"),
        ("255.255.255.255", "broadcast"),
    ] {
        let reply = app
            .get(&format!("/api/v1/targets/{host}/events"), &admin)
            .await
            .expect_problem(404);
        let detail = reply.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(reason), "{host}: {detail}");
    }
}
