//! Graceful shutdown: clients get a clean close and their users go offline.

use chat_tests::{StompClient, TestServer, unique_id};
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
