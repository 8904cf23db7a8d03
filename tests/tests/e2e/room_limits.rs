//! Per-room publish limits: a room's message changes (posts, replies, edits, deletes, file
//! messages) spend one allowance, whoever makes them and over whichever protocol, on top of
//! each poster's own write allowance.

use std::time::Duration;

use chat_tests::{StompClient, TestServer, token, unique_id};
use reqwest::StatusCode;
use serde_json::json;

use crate::files::{PNG, Part, upload};

const ERRORS: &str = "/user/queue/errors";
const QUIET: Duration = Duration::from_millis(300);

/// A server whose rooms allow 4 message changes at once and practically none after (one per
/// 100 s), while each user keeps the default allowance (30 at once).
fn server_with_room_allowance_of_four() -> TestServer {
    let directory = std::env::temp_dir().join(chat_tests::services::unique_name("room-limits"));
    TestServer::start_with(&[
        ("CHAT_LIMITS__ROOM_WRITE_BURST", "4"),
        ("CHAT_LIMITS__ROOM_WRITE_PER_SECOND", "0.01"),
        ("CHAT_FILES__DIRECTORY", directory.to_str().expect("utf-8")),
    ])
}

/// Alice and Bob, each subscribed to DM room `room` and to their error queue.
async fn alice_and_bob_in(server: &TestServer, room: u64) -> (StompClient, StompClient) {
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    for client in [&mut alice, &mut bob] {
        client
            .subscribe("room", &format!("/topic/direct/{room}"))
            .await;
        client.subscribe("errors", ERRORS).await;
    }
    (alice, bob)
}

fn post(room: u64, text: &str) -> serde_json::Value {
    json!({"content": text, "channelId": room})
}

#[tokio::test]
async fn two_users_together_over_the_room_allowance_are_refused_though_each_is_within_their_own() {
    let server = server_with_room_allowance_of_four();
    let room = unique_id();
    let (mut alice, mut bob) = alice_and_bob_in(&server, room).await;
    let topic = format!("/topic/direct/{room}");
    for n in 0..2 {
        alice
            .send_json("/kafka/send-direct-message", &post(room, &format!("a{n}")))
            .await;
        bob.send_json("/kafka/send-direct-message", &post(room, &format!("b{n}")))
            .await;
    }

    let refusal = alice
        .try_send_json("/kafka/send-direct-message", &post(room, "one too many"))
        .await
        .expect_err("the room is over its allowance");

    assert_eq!(refusal["code"], "rate_limited", "{refusal}");
    assert_eq!(refusal["destination"], "/kafka/send-direct-message");
    for _ in 0..4 {
        bob.next_event_on(&topic).await;
    }
    bob.expect_silence(QUIET).await;
    assert_eq!(
        server.wait_for_log_lines("room rate limited", 1).len(),
        1,
        "the refusal is logged"
    );
    let elsewhere = unique_id();
    bob.send_json(
        "/kafka/send-direct-message",
        &post(elsewhere, "another room has its own allowance"),
    )
    .await;
    alice
        .send_json_for_receipt("/kafka/send-direct-typing", &json!({"channelId": room}))
        .await;
}

#[tokio::test]
async fn edits_and_deletes_spend_the_room_allowance_like_posts() {
    let server = server_with_room_allowance_of_four();
    let room = unique_id();
    let (mut alice, _bob) = alice_and_bob_in(&server, room).await;
    let receipt = alice
        .send_json_for_receipt("/kafka/send-direct-message", &post(room, "draft"))
        .await;
    let id = receipt.header("message-id").expect("message-id").to_owned();
    for text in ["edit 1", "edit 2"] {
        alice
            .send_json(
                "/kafka/send-direct-modify",
                &json!({"id": id, "content": text, "channelId": room}),
            )
            .await;
    }
    alice
        .send_json(
            "/kafka/send-direct-delete",
            &json!({"id": id, "channelId": room}),
        )
        .await;

    let refusal = alice
        .try_send_json(
            "/kafka/send-direct-modify",
            &json!({"id": id, "content": "too late", "channelId": room}),
        )
        .await
        .expect_err("four changes spent the room's allowance");

    assert_eq!(refusal["code"], "rate_limited", "{refusal}");
}

#[tokio::test]
async fn a_file_upload_to_a_room_over_its_allowance_gets_429_and_creates_no_message() {
    let server = server_with_room_allowance_of_four();
    let room = unique_id();
    let (mut alice, mut bob) = alice_and_bob_in(&server, room).await;
    for n in 0..4 {
        alice
            .send_json("/kafka/send-direct-message", &post(room, &format!("m{n}")))
            .await;
    }

    let (status, body) = upload(
        &server.http_url(),
        &format!("/api/v1/direct/{room}/files"),
        &token(2, "bob"),
        &[Part::File("file", "a.png", "image/png", PNG)],
    )
    .await;

    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "rate_limited");
    for _ in 0..4 {
        bob.next_event_on(&format!("/topic/direct/{room}")).await;
    }
    bob.expect_silence(QUIET).await;
}
