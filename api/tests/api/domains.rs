//! `/api/v1/domains`: relay domains, their administrators, DNS instructions and listings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Names of the domains in a list reply.
fn names(reply: &Reply) -> Vec<String> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {}", reply.body))
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts a 409 (the request is well-formed, but the state of what it names stands in the way)
/// whose detail contains `detail`.
fn assert_conflict(reply: Reply, detail: &str) {
    let reply = reply.expect_problem(409);
    let got = reply.body["detail"].as_str().unwrap_or_default();
    assert!(got.contains(detail), "{detail}: {}", reply.body);
}

/// Asserts a 422 whose errors name exactly `field`.
fn assert_invalid(reply: Reply, field: &str, what: &str) {
    let reply = reply.expect_problem(422);
    assert_eq!(
        reply.error_fields(),
        vec![field.to_owned()],
        "{what}: {}",
        reply.body
    );
}

// ---- creating ----

#[tokio::test]
async fn a_new_domain_gets_the_documented_defaults() {
    let app = TestApp::spawn().await;
    let (customer, token) = app.customer("c@example.net", 5, false).await;
    let reply = app
        .create_domain(
            &token,
            json!({"name": "customer.example", "target_host": "mail.customer.example"}),
        )
        .await
        .expect(201);
    let d = &reply.body;
    assert!(d["id"].as_i64().unwrap() > 0);
    assert_eq!(d["name"], "customer.example");
    assert_eq!(d["type"], "relay");
    assert_eq!(d["target_host"], "mail.customer.example");
    assert_eq!(d["target_port"], 25);
    assert_eq!(d["service"], "smtp");
    assert_eq!(d["enabled"], true);
    assert_eq!(d["tls_policy"], "opportunistic");
    assert_eq!(d["max_message_size"], 52_428_800);
    assert_eq!(d["queue_lifetime_seconds"], 432_000);
    assert_eq!(d["recipient_policy"], "any");
    assert_eq!(d["accept_only_when_primary_down"], false);
    assert_eq!(d["verify_valid_ttl_seconds"], 604_800);
    assert_eq!(d["verify_invalid_ttl_seconds"], 86_400);
    assert_eq!(d["verify_fallback"], "tempfail");
    assert_eq!(d["last_dns_check"], Value::Null);
    assert_eq!(d["owner_id"], customer);
    assert_eq!(d["admin_ids"], json!([]));
    let created: chrono::DateTime<chrono::Utc> = d["created_at"].as_str().unwrap().parse().unwrap();
    assert!((chrono::Utc::now() - created).num_seconds().abs() < 60);
    assert!(d["updated_at"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<chrono::Utc>>()
        .is_ok());

    // GET answers the same representation.
    let got = app
        .get(&format!("/api/v1/domains/{}", reply.id()), &token)
        .await
        .expect(200);
    assert_eq!(got.body, reply.body);
}

#[tokio::test]
async fn every_option_given_at_creation_is_stored() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("c@example.net", 5, false).await;
    let reply = app
        .create_domain(
            &token,
            json!({"name": "opts.example", "type": "relay", "target_host": "192.0.2.10",
                   "target_port": 2525, "service": "smtp", "enabled": false,
                   "tls_policy": "verify", "max_message_size": 10_485_760,
                   "queue_lifetime_seconds": 2_592_000, "recipient_policy": "listed"}),
        )
        .await
        .expect(201);
    let got = app
        .get(&format!("/api/v1/domains/{}", reply.id()), &token)
        .await
        .expect(200);
    for d in [&reply.body, &got.body] {
        assert_eq!(d["target_host"], "192.0.2.10");
        assert_eq!(d["target_port"], 2525);
        assert_eq!(d["enabled"], false);
        assert_eq!(d["tls_policy"], "verify");
        assert_eq!(d["max_message_size"], 10_485_760);
        assert_eq!(d["queue_lifetime_seconds"], 2_592_000);
        assert_eq!(d["recipient_policy"], "listed");
    }
    for (policy, expected) in [("none", "none"), ("required", "required")] {
        let name = format!("tls-{policy}.example");
        let reply = app
            .create_domain(
                &token,
                json!({"name": name, "target_host": "192.0.2.10", "tls_policy": policy,
                       "recipient_policy": "verify", "queue_lifetime_seconds": 60}),
            )
            .await
            .expect(201);
        assert_eq!(reply.body["tls_policy"], expected);
        assert_eq!(reply.body["recipient_policy"], "verify");
        assert_eq!(reply.body["queue_lifetime_seconds"], 60);
    }
}

#[tokio::test]
async fn domain_names_are_stored_lower_case_as_a_labels_without_trailing_dot() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (input, stored) in [
        ("Bücher.Example", "xn--bcher-kva.example"),
        ("MAIL.Example.COM.", "mail.example.com"),
        ("xn--BCHER-KVA.shop", "xn--bcher-kva.shop"),
    ] {
        let reply = app
            .create_domain(&admin, json!({"name": input, "target_host": "192.0.2.10"}))
            .await
            .expect(201);
        assert_eq!(reply.body["name"], stored, "{input}");
    }
}

/// The spec's `pattern` and `maxLength` for `name` and `target_host` promise these; schemathesis
/// checks random ones, this the edges: 63-octet labels, 253 octets in all, a trailing dot,
/// upper case, labels that start with a digit or hold hyphens, and dotted quads at the ends
/// of the ranges the pattern allows.
#[tokio::test]
async fn names_at_the_edges_of_the_spec_pattern_are_accepted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // 3 × 63 + 60 + 3 dots = 252 octets, with a trailing dot 253.
    let longest = format!("{}.z{}.", vec!["0".repeat(63); 3].join("."), "9".repeat(59));
    assert_eq!(longest.len(), 253);
    let cases = [
        (longest.as_str(), "1.0.0.0"),
        ("9-A--b.Example", "223.255.255.255"),
        ("1.2.3.x", "mail.0-0.EXAMPLE."),
        ("a.b", "99.199.249.255"),
    ];
    for (name, target) in cases {
        let reply = app
            .create_domain(&admin, json!({"name": name, "target_host": target}))
            .await;
        assert_eq!(
            reply.status.as_u16(),
            201,
            "{name} {target}: {}",
            reply.body
        );
    }
}

#[tokio::test]
async fn invalid_domain_names_answer_422_naming_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let long_label = format!("{}.example", "a".repeat(64));
    // 4 × 63 + 3 dots = 255 octets: each label is fine, the whole is too long.
    let too_long = vec!["b".repeat(63); 4].join(".");
    let far_too_long = format!("{}.example", vec!["c".repeat(50); 8].join("."));
    for name in [
        "-bad.example",
        "bad-.example",
        "a..b",
        ".example.com",
        "under_score.example",
        "single",
        "1.2.3.4",
        "[192.0.2.1]",
        "example.123",
        "spa ce.example",
        " example.com",
        "example.com:25",
        long_label.as_str(),
        too_long.as_str(),
        far_too_long.as_str(),
        "",
    ] {
        let reply = app
            .create_domain(&admin, json!({"name": name, "target_host": "192.0.2.10"}))
            .await;
        assert_invalid(reply, "name", name);
    }
    // Nothing was stored.
    let list = app.get("/api/v1/domains", &admin).await.expect(200);
    assert_eq!(list.body["items"], json!([]));
}

#[tokio::test]
async fn a_domain_name_can_be_registered_only_once_in_any_spelling() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, token) = app.customer("c@example.net", 5, false).await;
    app.domain(&admin, "example.com").await;
    for spelling in ["example.com", "EXAMPLE.com.", "Example.Com"] {
        let reply = app
            .create_domain(
                &token,
                json!({"name": spelling, "target_host": "192.0.2.10"}),
            )
            .await
            .expect_problem(409);
        assert!(
            reply.body["detail"]
                .as_str()
                .unwrap()
                .contains("example.com"),
            "{}",
            reply.body
        );
    }
    // Renaming onto a taken name is a conflict too.
    let other = app.domain(&token, "other.example").await;
    app.patch(
        &format!("/api/v1/domains/{other}"),
        &token,
        json!({"name": "EXAMPLE.COM"}),
    )
    .await
    .expect_problem(409);
    let got = app
        .get(&format!("/api/v1/domains/{other}"), &token)
        .await
        .expect(200);
    assert_eq!(got.body["name"], "other.example");
    // A refused creation did not use up the plan.
    app.domain(&token, "third.example").await;
}

// ---- target hosts ----

const PRIVATE_TARGETS: &[(&str, &str)] = &[
    ("127.0.0.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("0x7f.0.0.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),
    ("[::1]", "::1"),
    ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
    ("10.0.0.5", "10.0.0.5"),
    ("192.168.1.1", "192.168.1.1"),
    ("169.254.1.1", "169.254.1.1"),
    ("fe80::1", "fe80::1"),
    ("localhost", "localhost"),
    ("LocalHost.", "localhost"),
];

#[tokio::test]
async fn private_targets_are_refused_when_the_server_does_not_allow_them() {
    let app = TestApp::spawn_with(|c| c.allow_private_targets = false).await;
    let admin = app.admin_token().await;
    for (i, (target, _)) in PRIVATE_TARGETS.iter().enumerate() {
        let reply = app
            .create_domain(
                &admin,
                json!({"name": format!("d{i}.example"), "target_host": target}),
            )
            .await;
        assert_invalid(reply, "target_host", target);
    }
    for target in ["0.0.0.0", "224.0.0.1", "[::]"] {
        let reply = app
            .create_domain(&admin, json!({"name": "x.example", "target_host": target}))
            .await;
        assert_invalid(reply, "target_host", target);
    }
    // Nor can a private target be patched in.
    let id = app
        .create_domain(
            &admin,
            json!({"name": "ok.example", "target_host": "192.0.2.10"}),
        )
        .await
        .expect(201)
        .id();
    for (target, _) in PRIVATE_TARGETS {
        let reply = app
            .patch(
                &format!("/api/v1/domains/{id}"),
                &admin,
                json!({"target_host": target}),
            )
            .await;
        assert_invalid(reply, "target_host", target);
    }
    let got = app
        .get(&format!("/api/v1/domains/{id}"), &admin)
        .await
        .expect(200);
    assert_eq!(got.body["target_host"], "192.0.2.10");
}

#[tokio::test]
async fn private_targets_are_stored_canonically_when_the_server_allows_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (i, (target, canonical)) in PRIVATE_TARGETS.iter().enumerate() {
        let reply = app
            .create_domain(
                &admin,
                json!({"name": format!("d{i}.example"), "target_host": target}),
            )
            .await
            .expect(201);
        assert_eq!(reply.body["target_host"], *canonical, "{target}");
    }
    let id = app.domain(&admin, "patched.example").await;
    let reply = app
        .patch(
            &format!("/api/v1/domains/{id}"),
            &admin,
            json!({"target_host": "0177.0.0.1"}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["target_host"], "127.0.0.1");
}

#[tokio::test]
async fn unspecified_and_multicast_targets_are_refused_even_when_private_targets_are_allowed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for target in [
        "0.0.0.0",
        "0",
        "[::]",
        "224.0.0.1",
        "ff02::1",
        "255.255.255.255",
    ] {
        let reply = app
            .create_domain(&admin, json!({"name": "x.example", "target_host": target}))
            .await;
        assert_invalid(reply, "target_host", target);
    }
}

#[tokio::test]
async fn public_targets_are_accepted_whatever_the_private_target_setting() {
    for allow in [false, true] {
        let app = TestApp::spawn_with(|c| c.allow_private_targets = allow).await;
        let admin = app.admin_token().await;
        for (i, (target, stored)) in [
            ("mail.customer.example", "mail.customer.example"),
            ("MX1.Customer.Example.", "mx1.customer.example"),
            ("192.0.2.10", "192.0.2.10"),
            ("[2001:db8::25]", "2001:db8::25"),
        ]
        .into_iter()
        .enumerate()
        {
            let reply = app
                .create_domain(
                    &admin,
                    json!({"name": format!("d{i}.example"), "target_host": target}),
                )
                .await
                .expect(201);
            assert_eq!(
                reply.body["target_host"], stored,
                "{target} (allow={allow})"
            );
        }
    }
}

#[tokio::test]
async fn invalid_target_hosts_answer_422_naming_target_host() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for target in [
        "",
        "mail",
        "mail.example.com:25",
        "-x.example",
        "http://mail.example.com",
        "999.1.1.1",
    ] {
        let reply = app
            .create_domain(&admin, json!({"name": "x.example", "target_host": target}))
            .await;
        assert_invalid(reply, "target_host", target);
    }
    // A bad name and a bad target are reported together.
    let reply = app
        .create_domain(
            &admin,
            json!({"name": "-bad.example", "target_host": "0.0.0.0"}),
        )
        .await
        .expect_problem(422);
    let fields: BTreeSet<String> = reply.error_fields().into_iter().collect();
    assert_eq!(
        fields,
        BTreeSet::from(["name".to_owned(), "target_host".to_owned()])
    );
}

#[tokio::test]
async fn out_of_range_options_answer_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let base = json!({"name": "x.example", "target_host": "192.0.2.10"});
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    for (field, value) in [
        ("tls_policy", json!("sometimes")),
        ("recipient_policy", json!("some")),
        ("type", json!("mailbox")),
        ("service", json!("lmtp")),
        ("target_port", json!(0)),
        ("target_port", json!(70000)),
        ("target_port", json!("25")),
        ("queue_lifetime_seconds", json!(2_592_001)),
        ("queue_lifetime_seconds", json!(59)),
        ("max_message_size", json!(0)),
        ("enabled", json!("yes")),
        ("colour", json!("blue")),
    ] {
        let reply = app.create_domain(&admin, with(field, value.clone())).await;
        assert_invalid(reply, field, &format!("{field} = {value}"));
    }
    for missing in ["name", "target_host"] {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(missing);
        assert_invalid(app.create_domain(&admin, body).await, missing, missing);
    }
    // The same limits apply to changes.
    let id = app.domain(&admin, "ok.example").await;
    for (field, value) in [
        ("tls_policy", json!("sometimes")),
        ("target_port", json!(70000)),
        ("queue_lifetime_seconds", json!(2_592_001)),
        ("name", json!("a..b")),
    ] {
        let reply = app
            .patch(
                &format!("/api/v1/domains/{id}"),
                &admin,
                json!({ field: value }),
            )
            .await;
        assert_invalid(reply, field, &format!("PATCH {field} = {value}"));
    }
}

#[tokio::test]
async fn patch_changes_only_the_given_fields() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("c@example.net", 5, false).await;
    let created = app
        .create_domain(
            &token,
            json!({"name": "p.example", "target_host": "mail.p.example", "tls_policy": "required"}),
        )
        .await
        .expect(201);
    let id = created.id();
    let reply = app
        .patch(
            &format!("/api/v1/domains/{id}"),
            &token,
            json!({"target_host": "MX2.P.Example", "target_port": 587, "enabled": false,
                   "queue_lifetime_seconds": 86_400}),
        )
        .await
        .expect(200);
    let d = &reply.body;
    assert_eq!(d["target_host"], "mx2.p.example");
    assert_eq!(d["target_port"], 587);
    assert_eq!(d["enabled"], false);
    assert_eq!(d["queue_lifetime_seconds"], 86_400);
    assert_eq!(d["name"], "p.example");
    assert_eq!(d["tls_policy"], "required");
    assert_eq!(d["created_at"], created.body["created_at"]);
    let before: chrono::DateTime<chrono::Utc> = created.body["updated_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let after: chrono::DateTime<chrono::Utc> = d["updated_at"].as_str().unwrap().parse().unwrap();
    assert!(after > before);
    // The owner may rename; the new name is normalised.
    let reply = app
        .patch(
            &format!("/api/v1/domains/{id}"),
            &token,
            json!({"name": "Renamed.Example."}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["name"], "renamed.example");
    assert_eq!(reply.body["target_host"], "mx2.p.example");
}

// ---- who may create ----

#[tokio::test]
async fn an_operator_creates_domains_for_a_customer_or_for_itself() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = app.get("/api/v1/me", &admin).await.expect(200).id();
    let (customer, token) = app.customer("c@example.net", 5, false).await;
    let reply = app
        .create_domain(
            &admin,
            json!({"name": "theirs.example", "target_host": "192.0.2.10", "owner_id": customer}),
        )
        .await
        .expect(201);
    assert_eq!(reply.body["owner_id"], customer);
    // The customer sees it as its own.
    app.get(&format!("/api/v1/domains/{}", reply.id()), &token)
        .await
        .expect(200);

    let mine = app
        .create_domain(
            &admin,
            json!({"name": "ours.example", "target_host": "192.0.2.10"}),
        )
        .await
        .expect(201);
    assert_eq!(mine.body["owner_id"], admin_id);
    app.get(&format!("/api/v1/domains/{}", mine.id()), &token)
        .await
        .expect_problem(404);

    // An owner that does not exist, or is a domain_admin, is invalid.
    let reply = app
        .create_domain(
            &admin,
            json!({"name": "ghost.example", "target_host": "192.0.2.10", "owner_id": 999_999}),
        )
        .await;
    let reply = reply.expect_problem(404);
    assert!(
        reply.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("owner_id: account 999999 does not exist")),
        "{}",
        reply.body
    );
    let (_, ctoken) = app.customer("d@example.net", 5, true).await;
    let (helper, _) = app.domain_admin(&ctoken, "helper@example.net").await;
    let reply = app
        .create_domain(
            &admin,
            json!({"name": "ghost.example", "target_host": "192.0.2.10", "owner_id": helper}),
        )
        .await;
    assert_conflict(reply, "is a domain_admin, which cannot own domains");
}

#[tokio::test]
async fn a_customer_creates_domains_only_for_itself() {
    let app = TestApp::spawn().await;
    let (me, token) = app.customer("c@example.net", 5, false).await;
    let (other, _) = app.customer("o@example.net", 5, false).await;
    let reply = app
        .create_domain(
            &token,
            json!({"name": "mine.example", "target_host": "192.0.2.10", "owner_id": me}),
        )
        .await
        .expect(201);
    assert_eq!(reply.body["owner_id"], me);
    app.create_domain(
        &token,
        json!({"name": "theirs.example", "target_host": "192.0.2.10", "owner_id": other}),
    )
    .await
    .expect_problem(403);
    let admin = app.admin_token().await;
    let list = app
        .get(&format!("/api/v1/domains?owner_id={other}"), &admin)
        .await
        .expect(200);
    assert_eq!(list.body["items"], json!([]));
}

#[tokio::test]
async fn a_domain_admin_cannot_create_domains() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("c@example.net", 5, true).await;
    let (_, helper) = app.domain_admin(&customer, "helper@example.net").await;
    app.create_domain(
        &helper,
        json!({"name": "x.example", "target_host": "192.0.2.10"}),
    )
    .await
    .expect_problem(403);
}

#[tokio::test]
async fn the_plans_max_domains_is_enforced_with_403() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("c@example.net", 2, false).await;
    let first = app.domain(&token, "one.example").await;
    app.domain(&token, "two.example").await;
    let reply = app
        .create_domain(
            &token,
            json!({"name": "three.example", "target_host": "192.0.2.10"}),
        )
        .await
        .expect_problem(403);
    assert!(
        reply.body["detail"].as_str().unwrap().contains("plan"),
        "{}",
        reply.body
    );
    // The operator cannot overshoot the plan either.
    let admin = app.admin_token().await;
    let (zero, _) = app.customer("z@example.net", 0, false).await;
    app.create_domain(
        &admin,
        json!({"name": "three.example", "target_host": "192.0.2.10", "owner_id": zero}),
    )
    .await
    .expect_problem(403);
    // Deleting one frees a slot.
    app.delete(&format!("/api/v1/domains/{first}"), &token)
        .await
        .expect(204);
    app.domain(&token, "three.example").await;
}

// ---- tenancy ----

#[tokio::test]
async fn another_customers_domain_answers_404() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.customer("alice@example.net", 5, true).await;
    let (_, bob) = app.customer("bob@example.net", 5, true).await;
    let id = app.domain(&alice, "alice.example").await;
    let (bobs_helper, _) = app.domain_admin(&bob, "bobs-helper@example.net").await;
    let path = format!("/api/v1/domains/{id}");
    app.get(&path, &bob).await.expect_problem(404);
    app.patch(&path, &bob, json!({"enabled": false}))
        .await
        .expect_problem(404);
    app.delete(&path, &bob).await.expect_problem(404);
    app.get(&format!("{path}/dns"), &bob)
        .await
        .expect_problem(404);
    app.put(&format!("{path}/admins/{bobs_helper}"), &bob)
        .await
        .expect_problem(404);
    app.delete(&format!("{path}/admins/{bobs_helper}"), &bob)
        .await
        .expect_problem(404);
    // Exactly like a domain that does not exist.
    let missing = app
        .get("/api/v1/domains/999999", &bob)
        .await
        .expect_problem(404);
    let hidden = app.get(&path, &bob).await.expect_problem(404);
    assert_eq!(missing.body["type"], hidden.body["type"]);
    // Nothing changed for the owner.
    let got = app.get(&path, &alice).await.expect(200);
    assert_eq!(got.body["enabled"], true);
    assert_eq!(got.body["admin_ids"], json!([]));
}

#[tokio::test]
async fn customers_list_their_own_domains_and_operators_list_all() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.customer("alice@example.net", 5, false).await;
    let (_, bob) = app.customer("bob@example.net", 5, false).await;
    app.domain(&alice, "a1.example").await;
    app.domain(&bob, "b1.example").await;
    app.domain(&alice, "a2.example").await;
    let admin = app.admin_token().await;
    app.domain(&admin, "ops.example").await;

    let list = app.get("/api/v1/domains", &alice).await.expect(200);
    assert_eq!(names(&list), ["a1.example", "a2.example"]);
    assert_eq!(list.body["next_cursor"], Value::Null);
    let list = app.get("/api/v1/domains", &bob).await.expect(200);
    assert_eq!(names(&list), ["b1.example"]);
    let list = app.get("/api/v1/domains", &admin).await.expect(200);
    assert_eq!(
        names(&list),
        ["a1.example", "b1.example", "a2.example", "ops.example"]
    );
}

#[tokio::test]
async fn requests_without_credentials_answer_401() {
    let app = TestApp::spawn().await;
    let reply = app
        .request(reqwest::Method::GET, "/api/v1/domains", None, None)
        .await
        .expect_problem(401);
    assert!(reply.header("www-authenticate").starts_with("Bearer"));
    app.request(
        reqwest::Method::POST,
        "/api/v1/domains",
        None,
        Some(json!({"name": "x.example", "target_host": "192.0.2.10"})),
    )
    .await
    .expect_problem(401);
}

// ---- domain administrators ----

#[tokio::test]
async fn an_assigned_domain_admin_sees_and_configures_that_domain_only() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.customer("owner@example.net", 5, true).await;
    let assigned = app.domain(&owner, "assigned.example").await;
    let other = app.domain(&owner, "other.example").await;
    let (helper_id, helper) = app.domain_admin(&owner, "helper@example.net").await;

    // Before the assignment the domain admin sees nothing.
    app.get(&format!("/api/v1/domains/{assigned}"), &helper)
        .await
        .expect_problem(404);
    let list = app.get("/api/v1/domains", &helper).await.expect(200);
    assert_eq!(list.body["items"], json!([]));

    let admins = format!("/api/v1/domains/{assigned}/admins/{helper_id}");
    let reply = app.put(&admins, &owner).await.expect(204);
    assert_eq!(reply.body, Value::Null);
    app.put(&admins, &owner).await.expect(204); // idempotent
    let got = app
        .get(&format!("/api/v1/domains/{assigned}"), &owner)
        .await
        .expect(200);
    assert_eq!(got.body["admin_ids"], json!([helper_id]));

    let got = app
        .get(&format!("/api/v1/domains/{assigned}"), &helper)
        .await
        .expect(200);
    assert_eq!(got.body["name"], "assigned.example");
    let list = app.get("/api/v1/domains", &helper).await.expect(200);
    assert_eq!(names(&list), ["assigned.example"]);
    app.get(&format!("/api/v1/domains/{assigned}/dns"), &helper)
        .await
        .expect(200);

    let reply = app
        .patch(
            &format!("/api/v1/domains/{assigned}"),
            &helper,
            json!({"target_host": "mx9.assigned.example", "enabled": false,
                   "tls_policy": "required", "recipient_policy": "listed"}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["target_host"], "mx9.assigned.example");
    assert_eq!(reply.body["enabled"], false);
    assert_eq!(reply.body["tls_policy"], "required");
    assert_eq!(reply.body["recipient_policy"], "listed");

    // The owner's other domain stays hidden.
    for reply in [
        app.get(&format!("/api/v1/domains/{other}"), &helper).await,
        app.patch(
            &format!("/api/v1/domains/{other}"),
            &helper,
            json!({"enabled": false}),
        )
        .await,
        app.delete(&format!("/api/v1/domains/{other}"), &helper)
            .await,
        app.get(&format!("/api/v1/domains/{other}/dns"), &helper)
            .await,
    ] {
        reply.expect_problem(404);
    }
}

#[tokio::test]
async fn a_domain_admin_cannot_rename_delete_reassign_or_delegate() {
    let app = TestApp::spawn().await;
    let (owner_id, owner) = app.customer("owner@example.net", 5, true).await;
    let id = app.domain(&owner, "assigned.example").await;
    let (helper_id, helper) = app.domain_admin(&owner, "helper@example.net").await;
    let (second_id, _) = app.domain_admin(&owner, "second@example.net").await;
    app.put(&format!("/api/v1/domains/{id}/admins/{helper_id}"), &owner)
        .await
        .expect(204);

    let path = format!("/api/v1/domains/{id}");
    app.patch(&path, &helper, json!({"name": "stolen.example"}))
        .await
        .expect_problem(403);
    app.patch(&path, &helper, json!({"owner_id": owner_id}))
        .await
        .expect_problem(403);
    app.delete(&path, &helper).await.expect_problem(403);
    app.put(&format!("{path}/admins/{second_id}"), &helper)
        .await
        .expect_problem(403);
    app.delete(&format!("{path}/admins/{helper_id}"), &helper)
        .await
        .expect_problem(403);

    let got = app.get(&path, &owner).await.expect(200);
    assert_eq!(got.body["name"], "assigned.example");
    assert_eq!(got.body["owner_id"], owner_id);
    assert_eq!(got.body["admin_ids"], json!([helper_id]));
}

#[tokio::test]
async fn only_domain_admin_accounts_can_be_assigned() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (owner_id, owner) = app.customer("owner@example.net", 5, true).await;
    let id = app.domain(&owner, "assigned.example").await;
    // A customer (itself) is not a domain_admin.
    let reply = app
        .put(&format!("/api/v1/domains/{id}/admins/{owner_id}"), &owner)
        .await;
    assert_conflict(reply, "is a customer, not a domain_admin");
    // Nor is another customer.
    let (other_customer, _) = app.customer("other@example.net", 5, false).await;
    let reply = app
        .put(
            &format!("/api/v1/domains/{id}/admins/{other_customer}"),
            &admin,
        )
        .await;
    assert_conflict(reply, "is a customer, not a domain_admin");
    // Removing an account that is not a domain_admin is refused the same way.
    let reply = app
        .delete(&format!("/api/v1/domains/{id}/admins/{owner_id}"), &owner)
        .await;
    assert_conflict(reply, "is a customer, not a domain_admin");
    // An account that does not exist.
    app.put(&format!("/api/v1/domains/{id}/admins/999999"), &owner)
        .await
        .expect_problem(404);
    // Path ids must be positive integers.
    let reply = app
        .put(&format!("/api/v1/domains/{id}/admins/abc"), &owner)
        .await;
    assert_invalid(reply, "account_id", "abc");
    let got = app
        .get(&format!("/api/v1/domains/{id}"), &owner)
        .await
        .expect(200);
    assert_eq!(got.body["admin_ids"], json!([]));
}

#[tokio::test]
async fn removing_a_domain_admin_takes_the_domain_away_from_it() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.customer("owner@example.net", 5, true).await;
    let id = app.domain(&owner, "assigned.example").await;
    let (helper_id, helper) = app.domain_admin(&owner, "helper@example.net").await;
    let admins = format!("/api/v1/domains/{id}/admins/{helper_id}");
    app.put(&admins, &owner).await.expect(204);
    app.get(&format!("/api/v1/domains/{id}"), &helper)
        .await
        .expect(200);

    app.delete(&admins, &owner).await.expect(204);
    app.get(&format!("/api/v1/domains/{id}"), &helper)
        .await
        .expect_problem(404);
    let list = app.get("/api/v1/domains", &helper).await.expect(200);
    assert_eq!(list.body["items"], json!([]));
    let got = app
        .get(&format!("/api/v1/domains/{id}"), &owner)
        .await
        .expect(200);
    assert_eq!(got.body["admin_ids"], json!([]));
    // A second removal finds no assignment.
    app.delete(&admins, &owner).await.expect_problem(404);
}

#[tokio::test]
async fn another_customers_domain_admin_cannot_be_assigned() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, alice) = app.customer("alice@example.net", 5, true).await;
    let (_, bob) = app.customer("bob@example.net", 5, true).await;
    let id = app.domain(&alice, "alice.example").await;
    let (bobs_helper, bobs_token) = app.domain_admin(&bob, "bobs-helper@example.net").await;
    // Alice cannot even see Bob's account.
    app.put(
        &format!("/api/v1/domains/{id}/admins/{bobs_helper}"),
        &alice,
    )
    .await
    .expect_problem(404);
    // The operator sees it, but may not hand Bob's delegate Alice's domain.
    let reply = app
        .put(
            &format!("/api/v1/domains/{id}/admins/{bobs_helper}"),
            &admin,
        )
        .await;
    assert_conflict(reply, "belongs to another customer than the domain's owner");
    app.get(&format!("/api/v1/domains/{id}"), &bobs_token)
        .await
        .expect_problem(404);
    // A domain_admin the operator created belongs to no customer and can be assigned anywhere.
    let reply = app
        .create_account(
            &admin,
            json!({"email": "ops-helper@example.net", "password": PASSWORD, "role": "domain_admin"}),
        )
        .await
        .expect(201);
    let ops_helper = reply.id();
    app.put(&format!("/api/v1/domains/{id}/admins/{ops_helper}"), &admin)
        .await
        .expect(204);
    let ops_token = app.token_for("ops-helper@example.net", PASSWORD).await;
    app.get(&format!("/api/v1/domains/{id}"), &ops_token)
        .await
        .expect(200);
}

// ---- owner changes ----

#[tokio::test]
async fn only_an_operator_can_give_a_domain_to_another_owner() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (alice_id, alice) = app.customer("alice@example.net", 5, false).await;
    let (bob_id, bob) = app.customer("bob@example.net", 1, false).await;
    let id = app.domain(&alice, "moving.example").await;
    let path = format!("/api/v1/domains/{id}");

    app.patch(&path, &alice, json!({"owner_id": bob_id}))
        .await
        .expect_problem(403);
    app.get(&path, &bob).await.expect_problem(404);

    let reply = app
        .patch(&path, &admin, json!({"owner_id": bob_id}))
        .await
        .expect(200);
    assert_eq!(reply.body["owner_id"], bob_id);
    app.get(&path, &bob).await.expect(200);
    app.get(&path, &alice).await.expect_problem(404);

    // Bob's plan (one domain) is now full: giving him another is refused.
    let second = app.domain(&alice, "second.example").await;
    let reply = app
        .patch(
            &format!("/api/v1/domains/{second}"),
            &admin,
            json!({"owner_id": bob_id}),
        )
        .await
        .expect_problem(403);
    assert!(
        reply.body["detail"].as_str().unwrap().contains("plan"),
        "{}",
        reply.body
    );
    let got = app
        .get(&format!("/api/v1/domains/{second}"), &alice)
        .await
        .expect(200);
    assert_eq!(got.body["owner_id"], alice_id);
    // Re-stating the current owner is not a move, so a full plan does not matter.
    app.patch(&path, &admin, json!({"owner_id": bob_id, "enabled": false}))
        .await
        .expect(200);
}

#[tokio::test]
async fn a_moved_domain_is_no_longer_managed_by_the_old_owners_domain_admins() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, alice) = app.customer("alice@example.net", 5, true).await;
    let (bob_id, bob) = app.customer("bob@example.net", 5, true).await;
    let id = app.domain(&alice, "moving.example").await;
    let (helper_id, helper) = app.domain_admin(&alice, "alices-helper@example.net").await;
    app.put(&format!("/api/v1/domains/{id}/admins/{helper_id}"), &alice)
        .await
        .expect(204);

    let reply = app
        .patch(
            &format!("/api/v1/domains/{id}"),
            &admin,
            json!({"owner_id": bob_id}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["admin_ids"], json!([]));
    app.get(&format!("/api/v1/domains/{id}"), &helper)
        .await
        .expect_problem(404);
    app.patch(
        &format!("/api/v1/domains/{id}"),
        &helper,
        json!({"enabled": false}),
    )
    .await
    .expect_problem(404);
    let got = app
        .get(&format!("/api/v1/domains/{id}"), &bob)
        .await
        .expect(200);
    assert_eq!(got.body["admin_ids"], json!([]));
    assert_eq!(got.body["enabled"], true);
}

// ---- deleting ----

#[tokio::test]
async fn a_deleted_domain_answers_404() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.customer("owner@example.net", 5, true).await;
    let id = app.domain(&owner, "gone.example").await;
    let (helper_id, helper) = app.domain_admin(&owner, "helper@example.net").await;
    app.put(&format!("/api/v1/domains/{id}/admins/{helper_id}"), &owner)
        .await
        .expect(204);
    let path = format!("/api/v1/domains/{id}");
    let reply = app.delete(&path, &owner).await.expect(204);
    assert_eq!(reply.body, Value::Null);
    app.get(&path, &owner).await.expect_problem(404);
    app.get(&path, &helper).await.expect_problem(404);
    app.get(&format!("{path}/dns"), &owner)
        .await
        .expect_problem(404);
    app.delete(&path, &owner).await.expect_problem(404);
    let list = app.get("/api/v1/domains", &owner).await.expect(200);
    assert_eq!(list.body["items"], json!([]));
    // The name is free again.
    app.domain(&owner, "gone.example").await;
}

// ---- DNS instructions ----

#[tokio::test]
async fn dns_instructions_give_the_backup_mx_record_with_the_highest_number() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("c@example.net", 5, false).await;
    let id = app
        .create_domain(
            &token,
            json!({"name": "Bücher.Example", "target_host": "mail.buecher.example"}),
        )
        .await
        .expect(201)
        .id();
    let reply = app
        .get(&format!("/api/v1/domains/{id}/dns"), &token)
        .await
        .expect(200);
    let body = &reply.body;
    assert_eq!(body["domain"], "xn--bcher-kva.example");
    assert_eq!(
        body["records"],
        json!([{"host": "@", "type": "MX", "priority": 90, "value": app.hostname, "ttl": 1800}])
    );
    assert_eq!(
        body["zone_file_line"],
        format!("xn--bcher-kva.example. 1800 IN MX 90 {}.", app.hostname)
    );
    let instructions = body["instructions"].as_str().unwrap();
    assert!(instructions.contains(&app.hostname), "{instructions}");
    assert!(instructions.contains("highest number"), "{instructions}");
    assert!(
        instructions.contains("xn--bcher-kva.example"),
        "{instructions}"
    );
}

// ---- listing ----

#[tokio::test]
async fn listing_pages_through_120_domains_with_opaque_cursors() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut created = BTreeSet::new();
    for i in 0..120 {
        created.insert(app.domain(&admin, &format!("d{i:03}.example")).await);
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/domains?limit=50&cursor={c}"),
            None => "/api/v1/domains?limit=50".to_owned(),
        };
        let page = app.get(&path, &admin).await.expect(200);
        let page_ids = page.item_ids();
        sizes.push(page_ids.len());
        seen.extend(page_ids);
        match &page.body["next_cursor"] {
            Value::Null => break,
            Value::String(next) => {
                assert!(
                    !next.chars().all(|c| c.is_ascii_digit()),
                    "cursor is opaque: {next}"
                );
                cursor = Some(next.clone());
            }
            other => panic!("next_cursor is {other}"),
        }
        assert!(sizes.len() < 10, "pagination does not end");
    }
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(seen.len(), 120);
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique, created);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "ordered by id");

    // The default page is 50; limit=500 returns everything.
    let page = app.get("/api/v1/domains", &admin).await.expect(200);
    assert_eq!(page.item_ids().len(), 50);
    assert!(page.body["next_cursor"].is_string());
    let page = app
        .get("/api/v1/domains?limit=500", &admin)
        .await
        .expect(200);
    assert_eq!(page.item_ids().len(), 120);
    assert_eq!(page.body["next_cursor"], Value::Null);
}

#[tokio::test]
async fn list_limit_cursor_and_unknown_parameters_are_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.domain(&admin, "one.example").await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage!", "cursor"),
        ("cursor=MTIz", "cursor"),
        ("nmae=x", "nmae"),
        ("enabled=maybe", "enabled"),
        ("owner_id=me", "owner_id"),
    ] {
        let reply = app.get(&format!("/api/v1/domains?{query}"), &admin).await;
        assert_invalid(reply, field, query);
    }
    app.get("/api/v1/domains?limit=1", &admin).await.expect(200);
    app.get("/api/v1/domains?limit=500", &admin)
        .await
        .expect(200);
}

#[tokio::test]
async fn listing_filters_by_normalised_name_owner_and_enabled() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (alice_id, alice) = app.customer("alice@example.net", 5, false).await;
    let (bob_id, bob) = app.customer("bob@example.net", 5, false).await;
    app.domain(&alice, "example.com").await;
    app.create_domain(
        &alice,
        json!({"name": "off.example", "target_host": "192.0.2.10", "enabled": false}),
    )
    .await
    .expect(201);
    app.domain(&bob, "bob.example").await;
    app.create_domain(
        &bob,
        json!({"name": "bob-off.example", "target_host": "192.0.2.10", "enabled": false}),
    )
    .await
    .expect(201);

    let list = app
        .get("/api/v1/domains?name=EXAMPLE.com.", &admin)
        .await
        .expect(200);
    assert_eq!(names(&list), ["example.com"]);
    let list = app
        .get("/api/v1/domains?name=nothing.example", &admin)
        .await
        .expect(200);
    assert_eq!(list.body["items"], json!([]));
    // A value that cannot be a domain name matches nothing rather than being refused.
    for name in [
        "",
        "a..b",
        "192.0.2.10",
        "%5B2001:db8::1%5D",
        "example.com:25",
        "x",
    ] {
        let list = app
            .get(&format!("/api/v1/domains?name={name}"), &admin)
            .await
            .expect(200);
        assert_eq!(list.body["items"], json!([]), "name={name}");
        assert_eq!(list.body["next_cursor"], json!(null), "name={name}");
    }
    let list = app
        .get(&format!("/api/v1/domains?owner_id={bob_id}"), &admin)
        .await
        .expect(200);
    assert_eq!(names(&list), ["bob.example", "bob-off.example"]);
    let list = app
        .get("/api/v1/domains?enabled=false", &admin)
        .await
        .expect(200);
    assert_eq!(names(&list), ["off.example", "bob-off.example"]);
    let list = app
        .get(
            &format!("/api/v1/domains?enabled=true&owner_id={alice_id}"),
            &admin,
        )
        .await
        .expect(200);
    assert_eq!(names(&list), ["example.com"]);
    // Filters never widen what a customer sees.
    let list = app
        .get(&format!("/api/v1/domains?owner_id={bob_id}"), &alice)
        .await
        .expect(200);
    assert_eq!(list.body["items"], json!([]));
    let list = app
        .get("/api/v1/domains?name=bob.example", &alice)
        .await
        .expect(200);
    assert_eq!(list.body["items"], json!([]));
    let list = app
        .get("/api/v1/domains?enabled=false", &alice)
        .await
        .expect(200);
    assert_eq!(names(&list), ["off.example"]);
}

#[tokio::test]
async fn backup_only_mode_and_callout_settings_are_set_changed_and_validated() {
    let app = TestApp::spawn().await;
    let (_, token) = app.customer("c@example.net", 5, false).await;
    let d = app
        .create_domain(
            &token,
            json!({"name": "customer.example", "target_host": "mail.customer.example",
                   "recipient_policy": "verify", "accept_only_when_primary_down": true,
                   "verify_valid_ttl_seconds": 3600, "verify_invalid_ttl_seconds": 600,
                   "verify_fallback": "accept"}),
        )
        .await
        .expect(201);
    assert_eq!(d.body["accept_only_when_primary_down"], true);
    assert_eq!(d.body["verify_valid_ttl_seconds"], 3600);
    assert_eq!(d.body["verify_invalid_ttl_seconds"], 600);
    assert_eq!(d.body["verify_fallback"], "accept");
    let path = format!("/api/v1/domains/{}", d.id());
    let changed = app
        .patch(
            &path,
            &token,
            json!({"accept_only_when_primary_down": false, "verify_fallback": "tempfail"}),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["accept_only_when_primary_down"], false);
    assert_eq!(changed.body["verify_fallback"], "tempfail");
    assert_eq!(changed.body["verify_valid_ttl_seconds"], 3600);

    assert_invalid(
        app.patch(&path, &token, json!({"verify_valid_ttl_seconds": 59}))
            .await,
        "verify_valid_ttl_seconds",
        "below a minute",
    );
    assert_invalid(
        app.patch(
            &path,
            &token,
            json!({"verify_invalid_ttl_seconds": 2_592_001}),
        )
        .await,
        "verify_invalid_ttl_seconds",
        "beyond 30 days",
    );
    let bad_fallback = app
        .patch(&path, &token, json!({"verify_fallback": "maybe"}))
        .await
        .expect_problem(422);
    assert!(
        bad_fallback.body.to_string().contains("verify_fallback"),
        "{}",
        bad_fallback.body
    );
    let bad_filter = app.get("/api/v1/domains?dns_status=purple", &token).await;
    assert!(
        bad_filter.status.is_client_error() && bad_filter.body.to_string().contains("dns_status"),
        "{} {}",
        bad_filter.status,
        bad_filter.body
    );
}
