//! Secure defaults: the public built-in credentials (and the development tokens they turn
//! on) only on a local development server, short secrets refused, and `/readyz` details
//! only for local or authenticated callers.

use chat_tests::{
    DEVELOPMENT_SECRET, StompClient, TEST_JWT_SECRET, TEST_SERVICE_TOKEN, TestServer, services,
    token_signed_with,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("HTTP client")
}

/// `base` with a bound-to-every-interface host replaced by loopback, to connect to it.
fn via_loopback(base: &str) -> String {
    base.replace("0.0.0.0", "127.0.0.1")
}

#[test]
fn the_built_in_secret_on_a_public_address_stops_the_server_naming_the_setting() {
    let output = TestServer::refused_start(&[("CHAT_HTTP__HOST", "0.0.0.0")]);

    assert!(output.contains("CHAT_JWT__SECRET"), "{output}");
    assert!(output.contains("CHAT_REST__SERVICE_TOKEN"), "{output}");
    assert!(output.contains("http.host"), "{output}");
}

#[tokio::test]
async fn no_development_token_can_be_minted_from_a_server_on_a_public_address() {
    let refusal = TestServer::refused_start(&[
        ("CHAT_HTTP__HOST", "0.0.0.0"),
        ("CHAT_REST__SERVICE_TOKEN", TEST_SERVICE_TOKEN),
    ]);
    assert!(refusal.contains("CHAT_JWT__SECRET"), "{refusal}");
    let server = TestServer::start_with(&[("CHAT_HTTP__HOST", "0.0.0.0")]);

    let response = http()
        .post(format!("{}/dev/token", via_loopback(&server.http_url())))
        .json(&json!({"userId": 1, "name": "mallory"}))
        .send()
        .await
        .expect("HTTP request");

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[test]
fn the_built_in_credentials_with_a_cluster_service_stop_the_server_naming_the_settings() {
    let output = TestServer::refused_start(&[
        ("CHAT_REDIS__URL", &services::redis_url()),
        // The open directory accepted, so that only the credentials are wrong.
        ("CHAT_COMMUNITY__OPEN", "true"),
    ]);

    assert!(output.contains("CHAT_JWT__SECRET"), "{output}");
    assert!(output.contains("CHAT_REST__SERVICE_TOKEN"), "{output}");
    assert!(output.contains("redis is configured"), "{output}");
}

#[test]
fn a_secret_shorter_than_32_bytes_stops_the_server() {
    let output = TestServer::refused_start(&[("CHAT_JWT__SECRET", "secret-of-28-bytes-is-short!")]);

    assert!(
        output.contains("jwt.secret is 28 bytes, at least 32 are required"),
        "{output}"
    );
    assert!(output.contains("CHAT_JWT__SECRET"), "{output}");
}

#[test]
fn a_service_token_shorter_than_32_bytes_stops_the_server() {
    let output = TestServer::refused_start(&[
        ("CHAT_JWT__SECRET", TEST_JWT_SECRET),
        ("CHAT_REST__SERVICE_TOKEN", "service-token"),
    ]);

    assert!(
        output.contains("rest.service_token is 13 bytes"),
        "{output}"
    );
    assert!(output.contains("CHAT_REST__SERVICE_TOKEN"), "{output}");
}

#[tokio::test]
async fn with_nothing_configured_the_server_starts_locally_with_the_built_in_secret() {
    let server = TestServer::start_with_built_in_credentials(&[]);
    let token = token_signed_with(
        DEVELOPMENT_SECRET,
        &json!({"sub": "alice@example.com", "id": 1, "name": "alice", "exp": 9_999_999_999_u64}),
    );

    let (_client, reply) = StompClient::try_connect(&server.ws_url(), &token, "1").await;

    assert_eq!(reply.command, "CONNECTED", "{reply:?}");
    assert!(server.http_url().starts_with("http://127.0.0.1:"));
}

#[tokio::test]
async fn readiness_details_are_hidden_from_a_proxied_caller_without_the_service_token() {
    let server = TestServer::start();
    let url = format!("{}/readyz", server.http_url());

    let proxied = http()
        .get(&url)
        .header("X-Forwarded-For", "203.0.113.9")
        .send()
        .await
        .expect("HTTP request");
    let status = proxied.status();
    let hidden: Value = proxied.json().await.expect("JSON");
    let authenticated: Value = http()
        .get(&url)
        .header("X-Forwarded-For", "203.0.113.9")
        .header("X-Service-Token", TEST_SERVICE_TOKEN)
        .send()
        .await
        .expect("HTTP request")
        .json()
        .await
        .expect("JSON");

    assert_eq!(status, StatusCode::OK);
    assert_eq!(hidden, json!({"status": "ready"}));
    assert_eq!(authenticated["status"], "ready");
    assert_eq!(authenticated["dependencies"]["event_bus"], "in-process");
}
