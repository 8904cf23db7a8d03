//! Graceful shutdown: clients get a clean close and their users go offline.

use std::time::Duration;

use chat_tests::{Flooder, StompClient, TestServer, unique_id};
use serde_json::json;

#[tokio::test]
async fn on_sigterm_clients_get_a_going_away_close_and_the_server_exits_cleanly() {
    let mut server = TestServer::start();
    let room = unique_id();
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "bye soon", "channelId": room}),
        )
        .await;

    let exited_cleanly = tokio::task::spawn_blocking(move || {
        let ok = server.terminate();
        (ok, server)
    });
    let close_code = alice.expect_closed().await;
    let (ok, server) = exited_cleanly.await.expect("joined");

    assert_eq!(close_code, Some(1001), "going away");
    assert!(ok, "exit status 0");
    assert_eq!(
        server.wait_for_log_lines("session closed", 1).len(),
        1,
        "presence went offline"
    );
}

/// A room of user 1 that bob (user 2) listens to: user 1 posted there and left.
async fn a_room_of_user_one_with_bob_listening(server: &TestServer) -> (StompClient, String) {
    let room = unique_id();
    let topic = format!("/topic/direct/{room}");
    let alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    let mut alice = alice;
    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "back soon", "channelId": room}),
        )
        .await;
    alice.disconnect().await;
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("room", &topic).await;
    (bob, topic)
}

#[tokio::test]
async fn a_client_that_floods_refusals_and_never_reads_is_closed_and_its_user_goes_offline() {
    let server = TestServer::start_with(&[
        ("CHAT_STOMP__WRITE_TIMEOUT_MS", "1000"),
        // Only the write timeout may end the flooder here, not its refusal budget.
        ("CHAT_STOMP__REFUSAL_BURST", "0"),
    ]);
    let (mut bob, topic) = a_room_of_user_one_with_bob_listening(&server).await;

    let mut flooder = Flooder::start(&server.ws_url(), 1).await;
    assert_eq!(
        bob.next_event_on(&topic).await,
        json!({"type": "connect", "userId": "1"})
    );
    flooder.wait_until_stalled().await;

    let offline = bob.wait_for_event_on(&topic, Duration::from_secs(20)).await;
    assert_eq!(offline, Some(json!({"type": "disconnect", "userId": "1"})));
    assert!(
        flooder.dropped_within(Duration::from_secs(10)).await,
        "the server dropped the flooder's socket"
    );
}

#[tokio::test]
async fn sigterm_finishes_within_the_grace_period_while_a_flooder_never_reads() {
    let mut server = TestServer::start_with(&[
        ("CHAT_HTTP__SHUTDOWN_GRACE_SECONDS", "3"),
        // Longer than the test: only shutdown's own bound can free the flooder's task.
        ("CHAT_STOMP__WRITE_TIMEOUT_MS", "600000"),
        ("CHAT_STOMP__REFUSAL_BURST", "0"),
    ]);
    let (_bob, _topic) = a_room_of_user_one_with_bob_listening(&server).await;
    let flooder = Flooder::start(&server.ws_url(), 1).await;
    flooder.wait_until_stalled().await;

    let exited = tokio::task::spawn_blocking(move || {
        let ok = server.terminate();
        (ok, server)
    });
    let (ok, server) = exited.await.expect("joined");

    assert!(ok, "exit status 0");
    let flooder_offline = server
        .log_lines_containing("session closed")
        .into_iter()
        .filter(|line| line.contains(r#""user":"1""#))
        .count();
    assert!(
        flooder_offline >= 2,
        "user 1's flooding session was closed too (after alice's own)"
    );
    drop(flooder);
}
