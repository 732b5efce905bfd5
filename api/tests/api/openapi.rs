//! The served spec is the committed one, and Swagger UI serves it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use reqwest::Method;
use serde_json::Value;

fn committed_spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let text = std::fs::read_to_string(path).expect("openapi/openapi.json");
    serde_json::from_str(&text).expect("committed spec is JSON")
}

#[tokio::test]
async fn the_served_spec_matches_the_committed_file() {
    let app = TestApp::spawn().await;
    let served = app
        .request(Method::GET, "/api-docs/openapi.json", None, None)
        .await
        .expect(200)
        .body;
    assert!(
        served == committed_spec(),
        "openapi/openapi.json is out of date: run `cargo run -- openapi --output openapi/openapi.json`"
    );
}

#[test]
fn the_generated_spec_text_is_the_committed_text() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let committed = std::fs::read_to_string(path).expect("openapi/openapi.json");
    let generated = mxspool_api::openapi::spec_json().expect("spec renders");
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `cargo run -- openapi --output openapi/openapi.json`"
    );
}

#[test]
fn every_operation_documents_its_errors_and_security() {
    let spec = committed_spec();
    assert_eq!(spec["info"]["license"]["identifier"], "Apache-2.0");
    assert!(spec["info"]["license"]["name"].is_string());
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 14);
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path} has no tag"
            );
            assert!(op["summary"].is_string(), "{method} {path} has no summary");
            for (status, response) in responses {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status} is not a problem"
                    );
                }
            }
            assert!(responses.contains_key("500"), "{method} {path} lacks 500");
            let public = [
                "/api/v1/auth/login",
                "/api/v1/auth/refresh",
                "/api/v1/auth/logout",
                "/healthz",
                "/readyz",
            ];
            if !public.contains(&path.as_str()) {
                assert!(op["security"].is_array(), "{method} {path} is not secured");
                assert!(responses.contains_key("401"), "{method} {path} lacks 401");
            }
        }
    }
}

#[tokio::test]
async fn swagger_ui_is_served() {
    let app = TestApp::spawn().await;
    let page = app
        .client
        .get(format!("{}/swagger-ui/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
    let init = app
        .client
        .get(format!("{}/swagger-ui/swagger-initializer.js", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api-docs/openapi.json"));
}

#[test]
fn the_spec_states_the_rules_for_ids_and_page_sizes() {
    let spec = committed_spec();
    let mut ids = 0;
    let mut limits = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let schema = &param["schema"];
                if param["in"] == "path" && schema["type"] == "integer" {
                    assert_eq!(schema["minimum"], 1, "{method} {path} {}", param["name"]);
                    ids += 1;
                }
                if param["in"] == "query" && param["name"] == "limit" {
                    assert_eq!(schema["minimum"], 1, "{method} {path} limit");
                    assert_eq!(schema["maximum"], 500, "{method} {path} limit");
                    limits += 1;
                }
            }
        }
    }
    assert!(
        ids >= 10 && limits >= 5,
        "{ids} id parameters, {limits} limits"
    );
    let create = &spec["components"]["schemas"]["CreateAccount"]["properties"];
    assert_eq!(create["password"]["minLength"], 12);
    assert_eq!(create["email"]["format"], "email");
    let login = &spec["components"]["schemas"]["LoginRequest"]["properties"];
    assert_eq!(login["password"]["minLength"], 1);
}
