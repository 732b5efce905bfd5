//! `/accounts`: roles, plans, visibility across tenants, validation, deletion rules, paging.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use serde_json::{json, Value};

/// The id of the bootstrap operator.
async fn admin_id(app: &TestApp, admin: &str) -> i64 {
    app.get("/api/v1/me", admin).await.expect(200).id()
}

#[tokio::test]
async fn admin_creates_a_customer_with_a_plan_and_the_password_is_never_returned() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .create_account(
            &admin,
            json!({"email": "ops@customer.test", "password": PASSWORD, "role": "customer",
                   "max_domains": 25, "may_create_domain_admins": true}),
        )
        .await
        .expect(201);
    let body = &created.body;
    assert_eq!(body["email"], "ops@customer.test");
    assert_eq!(body["role"], "customer");
    assert_eq!(body["max_domains"], 25);
    assert_eq!(body["may_create_domain_admins"], true);
    assert_eq!(body["parent_id"], Value::Null);
    assert!(body["created_at"].is_string() && body["updated_at"].is_string());

    let id = created.id();
    let shown = app
        .get(&format!("/api/v1/accounts/{id}"), &admin)
        .await
        .expect(200);
    assert_eq!(shown.body, created.body);
    let listed = app.get("/api/v1/accounts", &admin).await.expect(200);
    for text in [
        created.body.to_string(),
        shown.body.to_string(),
        listed.body.to_string(),
    ] {
        assert!(!text.contains("password"), "password field leaked: {text}");
        assert!(!text.contains(PASSWORD), "password leaked: {text}");
        assert!(!text.contains("$argon2"), "password hash leaked: {text}");
    }
    // The new customer can log in with the password it was given.
    app.token_for("ops@customer.test", PASSWORD).await;
}

#[tokio::test]
async fn a_customer_without_plan_fields_gets_the_default_plan() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .create_account(
            &admin,
            json!({"email": "plain@customer.test", "password": PASSWORD, "role": "customer"}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["max_domains"], 10);
    assert_eq!(created.body["may_create_domain_admins"], false);
}

#[tokio::test]
async fn customer_with_plan_permission_creates_domain_admins_that_belong_to_it() {
    let app = TestApp::spawn().await;
    let (customer_id, customer) = app.customer("boss@tenant.test", 5, true).await;
    let created = app
        .create_account(
            &customer,
            json!({"email": "helper@tenant.test", "password": PASSWORD, "role": "domain_admin"}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["role"], "domain_admin");
    assert_eq!(created.body["parent_id"], customer_id);
    assert_eq!(created.body["max_domains"], Value::Null);
    assert_eq!(created.body["may_create_domain_admins"], Value::Null);
    let helper = app.token_for("helper@tenant.test", PASSWORD).await;
    let me = app.get("/api/v1/me", &helper).await.expect(200);
    assert_eq!(me.id(), created.id());
}

#[tokio::test]
async fn customer_without_plan_permission_cannot_create_domain_admins() {
    let app = TestApp::spawn().await;
    let (customer_id, customer) = app.customer("small@tenant.test", 5, false).await;
    let reply = app
        .create_account(
            &customer,
            json!({"email": "helper@tenant.test", "password": PASSWORD, "role": "domain_admin"}),
        )
        .await
        .expect_problem(403);
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("your plan does not allow creating domain administrators"),
        "{}",
        reply.body
    );
    assert_eq!(
        app.login("helper@tenant.test", PASSWORD)
            .await
            .status
            .as_u16(),
        401
    );

    // Once the operator upgrades the plan, the same request succeeds.
    let admin = app.admin_token().await;
    app.patch(
        &format!("/api/v1/accounts/{customer_id}"),
        &admin,
        json!({"may_create_domain_admins": true}),
    )
    .await
    .expect(200);
    app.create_account(
        &customer,
        json!({"email": "helper@tenant.test", "password": PASSWORD, "role": "domain_admin"}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn customer_cannot_create_customers_or_admins() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("boss@tenant.test", 5, true).await;
    for role in ["customer", "admin"] {
        let email = format!("new-{role}@tenant.test");
        app.create_account(
            &customer,
            json!({"email": email, "password": PASSWORD, "role": role}),
        )
        .await
        .expect_problem(403);
        assert_eq!(app.login(&email, PASSWORD).await.status.as_u16(), 401);
    }
}

#[tokio::test]
async fn domain_admin_cannot_create_accounts() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("boss@tenant.test", 5, true).await;
    let (_, helper) = app.domain_admin(&customer, "helper@tenant.test").await;
    for role in ["domain_admin", "customer", "admin"] {
        app.create_account(
            &helper,
            json!({"email": format!("x-{role}@tenant.test"), "password": PASSWORD, "role": role}),
        )
        .await
        .expect_problem(403);
    }
}

#[tokio::test]
async fn customer_cannot_exceed_max_domains() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("two@tenant.test", 2, false).await;
    app.domain(&customer, "one.example").await;
    app.domain(&customer, "two.example").await;
    let reply = app
        .create_domain(
            &customer,
            json!({"name": "three.example", "target_host": "127.0.0.1"}),
        )
        .await
        .expect_problem(403);
    assert!(
        reply.body["detail"].as_str().unwrap().contains("plan"),
        "{}",
        reply.body
    );
    let listed = app.get("/api/v1/domains", &customer).await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);

    let (_, none) = app.customer("zero@tenant.test", 0, false).await;
    app.create_domain(
        &none,
        json!({"name": "zero.example", "target_host": "127.0.0.1"}),
    )
    .await
    .expect_problem(403);
}

#[tokio::test]
async fn admin_sees_every_account_and_customer_sees_itself_and_its_domain_admins() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = admin_id(&app, &admin).await;
    let (a_id, a) = app.customer("a@tenant-a.test", 5, true).await;
    let (b_id, b) = app.customer("b@tenant-b.test", 5, true).await;
    let (a_helper, _) = app.domain_admin(&a, "helper@tenant-a.test").await;
    let (b_helper, _) = app.domain_admin(&b, "helper@tenant-b.test").await;

    let all = app.get("/api/v1/accounts", &admin).await.expect(200);
    assert_eq!(
        all.item_ids(),
        vec![admin_id, a_id, b_id, a_helper, b_helper]
    );
    assert_eq!(all.body["next_cursor"], Value::Null);

    let seen_by_a = app.get("/api/v1/accounts", &a).await.expect(200);
    assert_eq!(seen_by_a.item_ids(), vec![a_id, a_helper]);
    let seen_by_b = app.get("/api/v1/accounts", &b).await.expect(200);
    assert_eq!(seen_by_b.item_ids(), vec![b_id, b_helper]);
    app.get(&format!("/api/v1/accounts/{a_helper}"), &a)
        .await
        .expect(200);
}

#[tokio::test]
async fn domain_admin_sees_only_itself() {
    let app = TestApp::spawn().await;
    let (customer_id, customer) = app.customer("boss@tenant.test", 5, true).await;
    let (helper_id, helper) = app.domain_admin(&customer, "helper@tenant.test").await;
    let (other_helper, _) = app.domain_admin(&customer, "other@tenant.test").await;

    let listed = app.get("/api/v1/accounts", &helper).await.expect(200);
    assert_eq!(listed.item_ids(), vec![helper_id]);
    app.get(&format!("/api/v1/accounts/{helper_id}"), &helper)
        .await
        .expect(200);
    // Not even its own customer, nor a sibling.
    app.get(&format!("/api/v1/accounts/{customer_id}"), &helper)
        .await
        .expect_problem(404);
    app.get(&format!("/api/v1/accounts/{other_helper}"), &helper)
        .await
        .expect_problem(404);
}

#[tokio::test]
async fn another_tenants_accounts_answer_404_like_missing_ones() {
    let app = TestApp::spawn().await;
    let (_, a) = app.customer("a@tenant-a.test", 5, true).await;
    let (b_id, b) = app.customer("b@tenant-b.test", 5, true).await;
    let (b_helper, _) = app.domain_admin(&b, "helper@tenant-b.test").await;

    for id in [b_id, b_helper] {
        let path = format!("/api/v1/accounts/{id}");
        let hidden = app.get(&path, &a).await.expect_problem(404);
        let missing = app
            .get("/api/v1/accounts/999999", &a)
            .await
            .expect_problem(404);
        assert_eq!(hidden.body["type"], missing.body["type"]);
        app.patch(&path, &a, json!({"password": "taken over by tenant a"}))
            .await
            .expect_problem(404);
        app.delete(&path, &a).await.expect_problem(404);
    }
    // Nothing changed: b's domain admin still exists and b's password still works.
    app.get(&format!("/api/v1/accounts/{b_helper}"), &b)
        .await
        .expect(200);
    app.token_for("b@tenant-b.test", PASSWORD).await;
}

#[tokio::test]
async fn customer_cannot_change_its_own_plan_but_admin_can() {
    let app = TestApp::spawn().await;
    let (id, customer) = app.customer("c@tenant.test", 1, false).await;
    let path = format!("/api/v1/accounts/{id}");
    app.patch(&path, &customer, json!({"max_domains": 100}))
        .await
        .expect_problem(403);
    app.patch(&path, &customer, json!({"may_create_domain_admins": true}))
        .await
        .expect_problem(403);
    let unchanged = app.get(&path, &customer).await.expect(200);
    assert_eq!(unchanged.body["max_domains"], 1);
    assert_eq!(unchanged.body["may_create_domain_admins"], false);

    let admin = app.admin_token().await;
    let changed = app
        .patch(
            &path,
            &admin,
            json!({"max_domains": 3, "may_create_domain_admins": true}),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["max_domains"], 3);
    assert_eq!(changed.body["may_create_domain_admins"], true);
    // The new limit applies at once.
    app.domain(&customer, "one.example").await;
    app.domain(&customer, "two.example").await;
}

#[tokio::test]
async fn plan_fields_on_non_customer_accounts_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let reply = app
        .create_account(
            &admin,
            json!({"email": "op2@mxspool.test", "password": PASSWORD, "role": "admin",
                   "max_domains": 5}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["max_domains"]);
    let reply = app
        .create_account(
            &admin,
            json!({"email": "da@mxspool.test", "password": PASSWORD, "role": "domain_admin",
                   "may_create_domain_admins": true}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["may_create_domain_admins"]);

    let (_, customer) = app.customer("boss@tenant.test", 5, true).await;
    let reply = app
        .create_account(
            &customer,
            json!({"email": "helper@tenant.test", "password": PASSWORD,
                   "role": "domain_admin", "max_domains": 3}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["max_domains"]);

    let (helper_id, _) = app.domain_admin(&customer, "helper2@tenant.test").await;
    let admin_id = admin_id(&app, &admin).await;
    for id in [helper_id, admin_id] {
        let reply = app
            .patch(
                &format!("/api/v1/accounts/{id}"),
                &admin,
                json!({"max_domains": 3}),
            )
            .await
            // The body is valid; it does not fit the account it is sent to.
            .expect_problem(409);
        let detail = reply.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("max_domains"), "{detail}");
    }
    let helper = app
        .get(&format!("/api/v1/accounts/{helper_id}"), &admin)
        .await
        .expect(200);
    assert_eq!(helper.body["max_domains"], Value::Null);
}

#[tokio::test]
async fn duplicate_email_is_a_conflict_whatever_the_case() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .create_account(
            &admin,
            json!({"email": "Ops@Example.TEST", "password": PASSWORD, "role": "customer"}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["email"], "ops@example.test");
    app.create_account(
        &admin,
        json!({"email": "OPS@example.test", "password": PASSWORD, "role": "customer"}),
    )
    .await
    .expect_problem(409);
    // Login does not care about case either.
    app.token_for("oPs@EXAMPLE.test", PASSWORD).await;

    // Renaming another account onto the address conflicts too.
    let other = app
        .create_account(
            &admin,
            json!({"email": "other@example.test", "password": PASSWORD, "role": "customer"}),
        )
        .await
        .expect(201)
        .id();
    app.patch(
        &format!("/api/v1/accounts/{other}"),
        &admin,
        json!({"email": "OPS@EXAMPLE.TEST"}),
    )
    .await
    .expect_problem(409);
    let unchanged = app
        .get(&format!("/api/v1/accounts/{other}"), &admin)
        .await
        .expect(200);
    assert_eq!(unchanged.body["email"], "other@example.test");
}

#[tokio::test]
async fn invalid_email_and_short_password_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let reply = app
        .create_account(
            &admin,
            json!({"email": "not-an-address", "password": PASSWORD, "role": "customer"}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["email"]);
    let reply = app
        .create_account(
            &admin,
            json!({"email": "short@example.test", "password": "elevenchars", "role": "customer"}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["password"]);
    assert_eq!(
        app.login("short@example.test", "elevenchars")
            .await
            .status
            .as_u16(),
        401
    );
    // Twelve characters is enough.
    app.create_account(
        &admin,
        json!({"email": "short@example.test", "password": "twelve chars", "role": "customer"}),
    )
    .await
    .expect(201);

    let reply = app
        .create_account(
            &admin,
            json!({"email": "role@example.test", "password": PASSWORD, "role": "superuser"}),
        )
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["role"]);

    let me = admin_id(&app, &admin).await;
    let path = format!("/api/v1/accounts/{me}");
    let reply = app
        .patch(&path, &admin, json!({"password": "too short"}))
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["password"]);
    let reply = app
        .patch(&path, &admin, json!({"email": "nope"}))
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["email"]);
    // The role is not something PATCH changes.
    let reply = app
        .patch(&path, &admin, json!({"role": "customer"}))
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["role"]);
    app.token_for(ADMIN_EMAIL, ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn deleting_the_last_admin_is_a_conflict() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let first = admin_id(&app, &admin).await;
    let reply = app
        .delete(&format!("/api/v1/accounts/{first}"), &admin)
        .await
        .expect_problem(409);
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("last operator"),
        "{}",
        reply.body
    );
    app.get(&format!("/api/v1/accounts/{first}"), &admin)
        .await
        .expect(200);

    let second = app
        .create_account(
            &admin,
            json!({"email": "op2@mxspool.test", "password": PASSWORD, "role": "admin"}),
        )
        .await
        .expect(201)
        .id();
    app.delete(&format!("/api/v1/accounts/{first}"), &admin)
        .await
        .expect(204);
    let op2 = app.token_for("op2@mxspool.test", PASSWORD).await;
    app.get(&format!("/api/v1/accounts/{first}"), &op2)
        .await
        .expect_problem(404);
    app.delete(&format!("/api/v1/accounts/{second}"), &op2)
        .await
        .expect_problem(409);
}

#[tokio::test]
async fn deleting_an_account_that_owns_domains_is_a_conflict() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (id, customer) = app.customer("owner@tenant.test", 5, false).await;
    let domain = app.domain(&customer, "owned.example").await;
    let path = format!("/api/v1/accounts/{id}");
    let reply = app.delete(&path, &admin).await.expect_problem(409);
    assert!(
        reply.body["detail"].as_str().unwrap().contains("domain"),
        "{}",
        reply.body
    );
    app.get(&path, &admin).await.expect(200);

    app.delete(&format!("/api/v1/domains/{domain}"), &customer)
        .await
        .expect(204);
    app.delete(&path, &admin).await.expect(204);
    app.get(&path, &admin).await.expect_problem(404);
    assert_eq!(
        app.login("owner@tenant.test", PASSWORD)
            .await
            .status
            .as_u16(),
        401
    );
}

#[tokio::test]
async fn customer_deletes_its_own_domain_admin_but_not_itself() {
    let app = TestApp::spawn().await;
    let (customer_id, customer) = app.customer("boss@tenant.test", 5, true).await;
    let (helper_id, _) = app.domain_admin(&customer, "helper@tenant.test").await;
    let path = format!("/api/v1/accounts/{helper_id}");
    app.delete(&path, &customer).await.expect(204);
    app.get(&path, &customer).await.expect_problem(404);
    assert_eq!(
        app.login("helper@tenant.test", PASSWORD)
            .await
            .status
            .as_u16(),
        401
    );

    app.delete(&format!("/api/v1/accounts/{customer_id}"), &customer)
        .await
        .expect_problem(403);
    app.get("/api/v1/me", &customer).await.expect(200);
}

#[tokio::test]
async fn listing_filters_by_role_and_email() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let admin_id = admin_id(&app, &admin).await;
    let (a_id, a) = app.customer("a@tenant-a.test", 5, true).await;
    let (b_id, _) = app.customer("b@tenant-b.test", 5, true).await;
    let (helper, _) = app.domain_admin(&a, "helper@tenant-a.test").await;

    let customers = app
        .get("/api/v1/accounts?role=customer", &admin)
        .await
        .expect(200);
    assert_eq!(customers.item_ids(), vec![a_id, b_id]);
    let admins = app
        .get("/api/v1/accounts?role=admin", &admin)
        .await
        .expect(200);
    assert_eq!(admins.item_ids(), vec![admin_id]);
    let helpers = app
        .get("/api/v1/accounts?role=domain_admin", &admin)
        .await
        .expect(200);
    assert_eq!(helpers.item_ids(), vec![helper]);

    let by_email = app
        .get("/api/v1/accounts?email=B%40Tenant-B.test", &admin)
        .await
        .expect(200);
    assert_eq!(by_email.item_ids(), vec![b_id]);
    let both = app
        .get(
            "/api/v1/accounts?email=a%40tenant-a.test&role=domain_admin",
            &admin,
        )
        .await
        .expect(200);
    assert_eq!(both.item_ids(), Vec::<i64>::new());

    // Filters never widen what a customer sees.
    let hidden = app
        .get("/api/v1/accounts?email=b%40tenant-b.test", &a)
        .await
        .expect(200);
    assert_eq!(hidden.item_ids(), Vec::<i64>::new());
    let own = app
        .get("/api/v1/accounts?role=domain_admin", &a)
        .await
        .expect(200);
    assert_eq!(own.item_ids(), vec![helper]);

    let reply = app
        .get("/api/v1/accounts?role=root", &admin)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["role"]);
}

#[tokio::test]
async fn listing_pages_with_limit_and_next_cursor() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut expected = vec![admin_id(&app, &admin).await];
    for n in 0..4 {
        let reply = app
            .create_account(
                &admin,
                json!({"email": format!("c{n}@tenant.test"), "password": PASSWORD,
                       "role": "customer"}),
            )
            .await
            .expect(201);
        expected.push(reply.id());
    }

    let mut seen = Vec::new();
    let mut path = "/api/v1/accounts?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page = app.get(&path, &admin).await.expect(200);
        pages += 1;
        let page_ids = page.item_ids();
        assert!(page_ids.len() <= 2, "{}", page.body);
        seen.extend(page_ids);
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/accounts?limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(seen, expected);
    assert_eq!(pages, 3);

    let reply = app
        .get("/api/v1/accounts?cursor=garbage!", &admin)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["cursor"]);
    let reply = app
        .get("/api/v1/accounts?limit=0", &admin)
        .await
        .expect_problem(422);
    assert_eq!(reply.error_fields(), vec!["limit"]);
}

#[tokio::test]
async fn changing_the_password_retires_the_old_one() {
    let app = TestApp::spawn().await;
    let (id, customer) = app.customer("c@tenant.test", 5, true).await;
    let new_password = "a brand new long password";
    let changed = app
        .patch(
            &format!("/api/v1/accounts/{id}"),
            &customer,
            json!({"password": new_password}),
        )
        .await
        .expect(200);
    assert!(!changed.body.to_string().contains(new_password));
    app.login("c@tenant.test", PASSWORD)
        .await
        .expect_problem(401);
    app.token_for("c@tenant.test", new_password).await;

    // A customer may also reset the password of its own domain administrator.
    let (helper, _) = app.domain_admin(&customer, "helper@tenant.test").await;
    app.patch(
        &format!("/api/v1/accounts/{helper}"),
        &customer,
        json!({"password": new_password}),
    )
    .await
    .expect(200);
    app.login("helper@tenant.test", PASSWORD)
        .await
        .expect_problem(401);
    app.token_for("helper@tenant.test", new_password).await;
}

#[tokio::test]
async fn everyone_may_change_their_own_email() {
    let app = TestApp::spawn().await;
    let (_, customer) = app.customer("boss@tenant.test", 5, true).await;
    let (helper_id, helper) = app.domain_admin(&customer, "helper@tenant.test").await;
    let changed = app
        .patch(
            &format!("/api/v1/accounts/{helper_id}"),
            &helper,
            json!({"email": "Renamed@Tenant.test"}),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["email"], "renamed@tenant.test");
    assert_eq!(changed.body["role"], "domain_admin");
    app.login("helper@tenant.test", PASSWORD)
        .await
        .expect_problem(401);
    app.token_for("renamed@tenant.test", PASSWORD).await;
}
