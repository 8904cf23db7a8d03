//! Access that ends while a session is open: an expired token ends the session,
//! and removal from a room ends the subscription, each with a clear reason.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chat_tests::{StompClient, TEST_JWT_SECRET, TestServer, token_signed_with, unique_id};
use reqwest::Method;
use serde_json::json;

const ERRORS: &str = "/user/queue/errors";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[tokio::test]
async fn a_session_ends_with_token_expired_when_its_token_expires() {
    let server = TestServer::start();
    let short_lived = token_signed_with(
        TEST_JWT_SECRET,
        &json!({"sub": "brief@example.com", "id": 7, "iat": now(), "exp": now() + 2}),
    );
    let (mut client, connected) =
        StompClient::try_connect(&server.ws_url(), &short_lived, "7").await;
    assert_eq!(connected.command, "CONNECTED", "{connected:?}");

    let error = client.next_frame().await;

    assert_eq!(error.command, "ERROR", "{error:?}");
    assert_eq!(error.header("message"), Some("token expired"));
    assert_eq!(client.expect_closed().await, Some(1008));
    assert_eq!(server.wait_for_log_lines("session closed", 1).len(), 1);
}

#[tokio::test]
async fn a_member_removed_by_the_member_list_put_loses_the_subscription_with_a_reason() {
    let server = TestServer::start();
    let room = unique_id();
    let topic = format!("/topic/direct/{room}");
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    for client in [&mut alice, &mut bob] {
        client.subscribe("errors", ERRORS).await;
        client.subscribe("room", &topic).await;
    }

    let (status, _) = server
        .rest()
        .call(
            Method::PUT,
            &format!("/chat-server/room-user-list/{room}"),
            None,
            true,
            Some(&json!([2])),
        )
        .await;
    assert!(status.is_success(), "{status}");
    let notice = alice.next_event_on(ERRORS).await;

    assert_eq!(notice["code"], "subscription_revoked", "{notice}");
    assert_eq!(notice["destination"], topic.as_str());
    bob.send_json(
        "/kafka/send-direct-message",
        &json!({"content": "members only", "channelId": room}),
    )
    .await;
    assert_eq!(bob.next_event_on(&topic).await["message"], "members only");
    alice.expect_silence(Duration::from_millis(500)).await;
}
