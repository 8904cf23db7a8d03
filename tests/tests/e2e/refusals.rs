//! Requests the server refuses without ending the session: they are answered on
//! `/user/queue/errors` and change nothing.

use std::time::Duration;

use chat_tests::{StompClient, TestServer, unique_id};
use serde_json::{Value, json};

const QUIET: Duration = Duration::from_millis(300);
const ERRORS: &str = "/user/queue/errors";

struct Room {
    topic: String,
    id: u64,
}

async fn chat_room(server: &TestServer) -> (StompClient, StompClient, Room) {
    let id = unique_id();
    let topic = format!("/topic/direct/{id}");
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    for client in [&mut alice, &mut bob] {
        client.subscribe("room", &topic).await;
        client.subscribe("errors", ERRORS).await;
    }
    (alice, bob, Room { topic, id })
}

async fn refused(client: &mut StompClient, destination: &str, body: &Value, code: &str) -> Value {
    client.send_json_unconfirmed(destination, body).await;
    let error = client.next_event_on(ERRORS).await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["code"], code, "{error}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    error
}

#[tokio::test]
async fn a_non_author_edit_is_refused_on_the_error_queue_and_the_message_is_unchanged() {
    let server = TestServer::start();
    let (mut alice, mut bob, room) = chat_room(&server).await;
    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "mine", "channelId": room.id}),
        )
        .await;
    let id = alice.next_event_on(&room.topic).await["id"].clone();
    bob.next_event_on(&room.topic).await;

    let error = refused(
        &mut bob,
        "/kafka/send-direct-modify",
        &json!({"id": id, "content": "hijacked", "channelId": room.id, "userId": 1, "type": "modify"}),
        "not_the_author",
    )
    .await;
    assert_eq!(error["destination"], "/kafka/send-direct-modify");
    alice.expect_silence(QUIET).await;

    // The stored text is still the original: a reply snapshots it from the store.
    bob.send_json(
        "/kafka/send-direct-reply",
        &json!({"content": "really?", "channelId": room.id, "parentId": id}),
    )
    .await;
    assert_eq!(
        alice.next_event_on(&room.topic).await["parentContent"],
        "mine"
    );
}

#[tokio::test]
async fn a_non_author_delete_is_refused() {
    let server = TestServer::start();
    let (mut alice, mut bob, room) = chat_room(&server).await;
    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "keep me", "channelId": room.id}),
        )
        .await;
    let id = alice.next_event_on(&room.topic).await["id"].clone();
    bob.next_event_on(&room.topic).await;

    refused(
        &mut bob,
        "/kafka/send-direct-delete",
        &json!({"id": id, "channelId": room.id, "userId": 1, "type": "delete"}),
        "not_the_author",
    )
    .await;

    alice.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_send_to_a_broker_topic_is_refused_and_reaches_nobody() {
    let server = TestServer::start();
    let (mut alice, mut bob, room) = chat_room(&server).await;

    refused(
        &mut bob,
        &room.topic,
        &json!({"type": "message", "userId": "1", "message": "spoofed"}),
        "forbidden_destination",
    )
    .await;

    alice.expect_silence(QUIET).await;
}

#[tokio::test]
async fn wrong_json_unknown_destinations_and_empty_content_get_clear_codes() {
    let server = TestServer::start();
    let (mut alice, _bob, room) = chat_room(&server).await;

    alice
        .send(
            "SEND",
            &[("destination", "/kafka/send-direct-message")],
            "{not json",
        )
        .await;
    assert_eq!(alice.next_event_on(ERRORS).await["code"], "invalid_payload");
    refused(
        &mut alice,
        "/kafka/send-direct-explode",
        &json!({"channelId": room.id}),
        "unknown_destination",
    )
    .await;
    refused(
        &mut alice,
        "/kafka/send-direct-message",
        &json!({"content": "  ", "channelId": room.id}),
        "empty_content",
    )
    .await;
    refused(
        &mut alice,
        "/kafka/send-direct-message",
        &json!({"content": "x".repeat(4001), "channelId": room.id}),
        "content_too_long",
    )
    .await;
    refused(
        &mut alice,
        "/kafka/send-direct-modify",
        &json!({"id": "abc", "content": "x", "channelId": room.id, "type": "delete"}),
        "type_mismatch",
    )
    .await;
    refused(
        &mut alice,
        "/kafka/send-direct-reply",
        &json!({"content": "x", "channelId": room.id, "parentId": "000000000000000000000000"}),
        "parent_not_found",
    )
    .await;

    // The session is still usable.
    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "still here", "channelId": room.id}),
        )
        .await;
    assert_eq!(
        alice.next_event_on(&room.topic).await["message"],
        "still here"
    );
}

#[tokio::test]
async fn a_reply_to_a_message_of_another_room_is_refused() {
    let server = TestServer::start();
    let (mut alice, _bob, room) = chat_room(&server).await;
    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "here", "channelId": room.id}),
        )
        .await;
    let id = alice.next_event_on(&room.topic).await["id"].clone();

    refused(
        &mut alice,
        "/kafka/send-direct-reply",
        &json!({"content": "there", "channelId": unique_id(), "parentId": id}),
        "parent_in_other_room",
    )
    .await;
}

#[tokio::test]
async fn subscribing_to_an_unknown_destination_is_refused() {
    let server = TestServer::start();
    let (mut alice, _bob, _room) = chat_room(&server).await;

    alice
        .send(
            "SUBSCRIBE",
            &[("id", "x"), ("destination", "/topic/secret/1")],
            "",
        )
        .await;

    assert_eq!(
        alice.next_event_on(ERRORS).await["code"],
        "unknown_destination"
    );
}

#[tokio::test]
async fn a_user_sending_faster_than_the_allowance_is_refused_with_rate_limited() {
    let server = TestServer::start_with(&[
        ("CHAT_LIMITS__WRITE_BURST", "3"),
        ("CHAT_LIMITS__WRITE_PER_SECOND", "0.01"),
    ]);
    let (mut alice, mut bob, room) = chat_room(&server).await;
    for i in 0..3 {
        alice
            .send_json(
                "/kafka/send-direct-message",
                &json!({"content": format!("m{i}"), "channelId": room.id}),
            )
            .await;
        alice.next_event_on(&room.topic).await;
    }

    let error = refused(
        &mut alice,
        "/kafka/send-direct-message",
        &json!({"content": "one too many", "channelId": room.id}),
        "rate_limited",
    )
    .await;

    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("retry in"))
    );
    for _ in 0..3 {
        bob.next_event_on(&room.topic).await;
    }
    bob.expect_silence(QUIET).await;
    // Others keep their own allowance.
    bob.send_json(
        "/kafka/send-direct-message",
        &json!({"content": "bob is fine", "channelId": room.id}),
    )
    .await;
}
