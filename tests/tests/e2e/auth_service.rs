//! The chat server pointed at the auth service over HTTP (a fake that answers the seed's
//! `find-id-list`): names and images in events come from it, and chatting carries on, with the
//! token's name, while it is down.

use std::collections::HashMap;

use chat_tests::{FakeAuthService, FakeProfile, StompClient, TestServer, unique_id};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ALICE_IMAGE: &str = "https://img.example.org/alice.png";

async fn auth_knowing_alice() -> FakeAuthService {
    FakeAuthService::start(HashMap::from([(
        1,
        FakeProfile::new("alice-from-auth", Some(ALICE_IMAGE)),
    )]))
    .await
}

/// Bob listens to a fresh DM room, alice (token name `alice-from-token`) posts in it while
/// claiming another name and image in the payload; returns what bob heard.
async fn alices_message_as_bob_hears_it(server: &TestServer) -> Value {
    let room = unique_id();
    let destination = format!("/topic/direct/{room}");
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("room", &destination).await;
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice-from-token").await;

    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "hello", "channelId": room.to_string(),
                    "name": "mallory", "profileImage": "https://evil.example.org/x.png"}),
        )
        .await;
    bob.next_event_on(&destination).await
}

async fn scrape(server: &TestServer) -> String {
    let (status, _, metrics) = server.rest().get_text("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    metrics
}

#[tokio::test]
async fn a_messages_name_and_image_come_from_the_auth_service_not_the_token_or_payload() {
    let auth = auth_knowing_alice().await;
    let server = TestServer::start_with(&[("CHAT_AUTH__BASE_URL", &auth.base_url())]);

    let message = alices_message_as_bob_hears_it(&server).await;

    assert_eq!(message["type"], "message");
    assert_eq!(message["userId"], "1");
    assert_eq!(message["name"], "alice-from-auth");
    assert_eq!(message["profileImage"], ALICE_IMAGE);
    let lookups: Vec<_> = auth
        .requests()
        .into_iter()
        .filter(|request| request.path == "/auth-server/find-id-list")
        .collect();
    assert_eq!(lookups.len(), 1, "{lookups:?}");
    assert_eq!(lookups[0].method, "POST");
    assert_eq!(lookups[0].body, b"[1]");
}

#[tokio::test]
async fn readiness_reports_the_auth_service_reachable() {
    let auth = auth_knowing_alice().await;
    let server = TestServer::start_with(&[("CHAT_AUTH__BASE_URL", &auth.base_url())]);

    let (status, _, body) = server.rest().get_text("/readyz").await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["dependencies"]["auth_service"], "reachable");
    assert!(
        scrape(&server)
            .await
            .contains(r#"chat_dependency_up{dependency="auth_service"} 1"#)
    );
}

#[tokio::test]
async fn with_the_auth_service_down_chatting_works_with_the_tokens_name_and_is_counted() {
    let base_url = {
        let nothing_listens = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!(
            "http://{}/auth-server",
            nothing_listens.local_addr().expect("address")
        )
    };
    let server = TestServer::start_with(&[
        ("CHAT_AUTH__BASE_URL", &base_url),
        ("CHAT_AUTH__RETRY_BACKOFF_MS", "10"),
    ]);

    let message = alices_message_as_bob_hears_it(&server).await;
    let (ready, _, readiness) = server.rest().get_text("/readyz").await;
    let metrics = scrape(&server).await;

    assert_eq!(message["name"], "alice-from-token");
    assert_eq!(message["profileImage"], Value::Null);
    assert_eq!(
        ready,
        StatusCode::OK,
        "chat goes on, so the instance stays in rotation: {readiness}"
    );
    let readiness: Value = serde_json::from_str(&readiness).expect("JSON");
    assert_eq!(readiness["status"], "degraded");
    let auth_entry = readiness["dependencies"]["auth_service"]
        .as_str()
        .unwrap_or_default();
    assert!(auth_entry.starts_with("unreachable"), "{readiness}");
    for expected in [
        r#"chat_dependency_degraded_total{dependency="auth_service"} 1"#,
        r#"chat_dependency_up{dependency="auth_service"} 0"#,
    ] {
        assert!(
            metrics.contains(expected),
            "`{expected}` missing from:\n{metrics}"
        );
    }
}
