//! STOMP protocol behaviour: malformed and oversize frames, frames before CONNECT,
//! heart-beats.

use std::time::Duration;

use chat_tests::{StompClient, TestServer, token, unique_id};
use serde_json::json;

#[tokio::test]
async fn a_malformed_frame_gets_an_error_and_the_server_keeps_serving_others() {
    let server = TestServer::start();
    let room = unique_id();
    let topic = format!("/topic/direct/{room}");
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("room", &topic).await;
    let mut mallory = StompClient::connect(&server.ws_url(), 3, "mallory").await;

    mallory.send_raw("EXPLODE\nfoo:bar\n\n\0").await;
    let error = mallory.next_frame().await;
    mallory.expect_closed().await;

    assert_eq!(error.command, "ERROR");
    assert_eq!(error.header("message"), Some("malformed frame"));
    assert!(error.body.contains("EXPLODE"), "{}", error.body);
    assert!(
        !server.wait_for_log_lines("malformed frame", 1).is_empty(),
        "logged"
    );
    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "still up?", "channelId": room}),
        )
        .await;
    assert_eq!(bob.next_event_on(&topic).await["message"], "still up?");
}

#[tokio::test]
async fn a_header_line_without_a_colon_is_a_malformed_frame() {
    let server = TestServer::start();
    let mut client = StompClient::connect(&server.ws_url(), 1, "alice").await;

    client
        .send_raw("SEND\ndestination /kafka/send-direct-message\n\n{}\0")
        .await;

    assert_eq!(client.next_frame().await.command, "ERROR");
    client.expect_closed().await;
}

#[tokio::test]
async fn an_oversize_frame_gets_an_error_and_is_not_stored() {
    let server = TestServer::start_with(&[("CHAT_STOMP__MAX_FRAME_BYTES", "4096")]);
    let mut client = StompClient::connect(&server.ws_url(), 1, "alice").await;
    let huge = json!({"content": "x".repeat(3000), "channelId": "5", "pad": "y".repeat(3000)});

    client
        .send(
            "SEND",
            &[("destination", "/kafka/send-direct-message")],
            &huge.to_string(),
        )
        .await;

    // The WebSocket layer or the frame decoder refuses it; either way the client learns and is closed.
    let code = client.expect_closed_or_error().await;
    assert!(code, "oversize frame refused");
}

#[tokio::test]
async fn any_frame_but_connect_before_connecting_is_refused() {
    let server = TestServer::start();
    let mut client = StompClient::open(&server.ws_url()).await;

    client
        .send(
            "SEND",
            &[("destination", "/kafka/send-direct-message")],
            "{}",
        )
        .await;

    let error = client.next_frame().await;
    assert_eq!(error.command, "ERROR");
    assert_eq!(error.header("message"), Some("not connected"));
    client.expect_closed().await;
}

#[tokio::test]
async fn an_unsupported_protocol_version_is_refused() {
    let server = TestServer::start();
    let mut client = StompClient::open(&server.ws_url()).await;

    client
        .send(
            "CONNECT",
            &[("accept-version", "2.0"), ("access-token", &token(1, "a"))],
            "",
        )
        .await;

    let error = client.next_frame().await;
    assert_eq!(error.command, "ERROR");
    assert_eq!(error.header("version"), Some("1.0,1.1,1.2"));
}

#[tokio::test]
async fn the_server_sends_heart_beats_at_the_negotiated_period() {
    let server = TestServer::start_with(&[("CHAT_STOMP__HEARTBEAT_SEND_MS", "200")]);
    let mut client = StompClient::open(&server.ws_url()).await;
    client
        .send(
            "CONNECT",
            &[
                ("accept-version", "1.2"),
                ("heart-beat", "0,100"),
                ("access-token", &token(1, "a")),
            ],
            "",
        )
        .await;
    let connected = client.next_frame().await;
    assert_eq!(connected.header("heart-beat"), Some("200,0"));

    assert!(
        client.read_heart_beat(Duration::from_secs(3)).await,
        "a heart-beat EOL arrives"
    );
}

#[tokio::test]
async fn a_client_that_stops_sending_heart_beats_is_disconnected() {
    let server = TestServer::start_with(&[("CHAT_STOMP__HEARTBEAT_RECEIVE_MS", "200")]);
    let mut client = StompClient::open(&server.ws_url()).await;
    client
        .send(
            "CONNECT",
            &[
                ("accept-version", "1.2"),
                ("heart-beat", "100,0"),
                ("access-token", &token(1, "a")),
            ],
            "",
        )
        .await;
    let connected = client.next_frame().await;
    assert_eq!(connected.header("heart-beat"), Some("0,200"));

    let error = client.next_frame().await;

    assert_eq!(error.command, "ERROR");
    assert_eq!(error.header("message"), Some("heart-beat timeout"));
    client.expect_closed().await;
}

#[tokio::test]
async fn a_socket_that_never_sends_connect_is_closed_after_the_connect_timeout() {
    let server = TestServer::start_with(&[("CHAT_STOMP__CONNECT_TIMEOUT_MS", "300")]);
    let mut client = StompClient::open(&server.ws_url()).await;

    let error = client.next_frame().await;

    assert_eq!(error.command, "ERROR");
    assert_eq!(error.header("message"), Some("connect timeout"));
    client.expect_closed().await;
}
