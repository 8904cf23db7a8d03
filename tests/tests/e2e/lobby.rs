//! The lobby: a user's rooms hear when their sessions come and go.

use std::time::Duration;

use chat_tests::{StompClient, TestServer, unique_id};
use serde_json::json;

const QUIET: Duration = Duration::from_millis(300);

/// Alice posts in a DM room and a community channel, so both are her rooms; bob
/// listens to the DM room and the community.
async fn alice_with_rooms_and_bob_listening(
    server: &TestServer,
) -> (StompClient, StompClient, String, String) {
    let (room, community, channel) = (unique_id(), unique_id(), unique_id());
    let dm_topic = format!("/topic/direct/{room}");
    let community_topic = format!("/topic/community/{community}");
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "hi", "channelId": room}),
        )
        .await;
    alice
        .send_json(
            "/kafka/send-channel-message",
            &json!({"content": "hi all", "communityId": community, "channelId": channel}),
        )
        .await;
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("dm", &dm_topic).await;
    bob.subscribe("community", &community_topic).await;
    (alice, bob, dm_topic, community_topic)
}

#[tokio::test]
async fn a_disconnect_frame_is_announced_once_to_every_room_of_the_user() {
    let server = TestServer::start();
    let (alice, mut bob, dm_topic, community_topic) =
        alice_with_rooms_and_bob_listening(&server).await;

    alice.disconnect().await;

    let mut heard = vec![bob.next_message().await, bob.next_message().await];
    heard.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![
        (
            community_topic,
            json!({"type": "disconnect", "userId": "1"}),
        ),
        (dm_topic, json!({"type": "disconnect", "userId": "1"})),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(heard, expected);
    bob.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_lost_socket_is_announced_as_a_disconnect_and_a_new_session_as_a_connect() {
    let server = TestServer::start();
    let (alice, mut bob, dm_topic, _) = alice_with_rooms_and_bob_listening(&server).await;
    bob.unsubscribe("community").await;

    alice.drop_connection();
    let gone = bob.next_event_on(&dm_topic).await;
    let _back = StompClient::connect(&server.ws_url(), 1, "alice").await;
    let back = bob.next_event_on(&dm_topic).await;

    assert_eq!(gone, json!({"type": "disconnect", "userId": "1"}));
    assert_eq!(back, json!({"type": "connect", "userId": "1"}));
    bob.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_user_with_two_sessions_stays_online_until_the_last_one_ends() {
    let server = TestServer::start();
    let (alice, mut bob, dm_topic, _) = alice_with_rooms_and_bob_listening(&server).await;
    bob.unsubscribe("community").await;
    let second = StompClient::connect(&server.ws_url(), 1, "alice").await;

    alice.disconnect().await;
    bob.expect_silence(QUIET).await;
    second.disconnect().await;

    assert_eq!(
        bob.next_event_on(&dm_topic).await,
        json!({"type": "disconnect", "userId": "1"})
    );
}

#[tokio::test]
async fn opening_a_room_marks_it_read_for_unread_counts() {
    let server = TestServer::start();
    let rest = server.rest();
    let room = unique_id();
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    for text in ["one", "two"] {
        alice
            .send_json(
                "/kafka/send-direct-message",
                &json!({"content": text, "channelId": room}),
            )
            .await;
    }
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    let unread = |body: &serde_json::Value| body["rooms"][0]["unread"].as_u64().expect("unread");
    let (_, before) = rest
        .get(
            &format!("/api/v1/unread?direct={room}"),
            &chat_tests::token(2, "bob"),
        )
        .await;

    bob.send_json(
        "/kafka/join-channel",
        &json!({"user_id": 99, "channel_id": format!("r-{room}"), "type": "state"}),
    )
    .await;
    let (_, after) = rest
        .get(
            &format!("/api/v1/unread?direct={room}"),
            &chat_tests::token(2, "bob"),
        )
        .await;

    assert_eq!(unread(&before), 2);
    assert_eq!(unread(&after), 0);
}

#[tokio::test]
async fn joining_a_voice_channel_shows_the_community_who_is_where() {
    let server = TestServer::start();
    let community = unique_id();
    let topic = format!("/topic/community/{community}");
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("c", &topic).await;

    alice
        .send_json(
            "/kafka/signaling",
            &json!({"user_id": 1, "channel_id": "c-12", "community_id": community.to_string(), "type": "enter"}),
        )
        .await;
    let entered = bob.next_event_on(&topic).await;
    bob.send_json(
        "/kafka/community-signaling",
        &json!({"user_id": 2, "community_id": community.to_string(), "type": "before-enter"}),
    )
    .await;
    let looked = bob.next_event_on(&topic).await;
    alice
        .send_json(
            "/kafka/community-signaling",
            &json!({"community_id": community.to_string(), "type": "before-enter"}),
        )
        .await;
    let left = bob.next_event_on(&topic).await;

    assert_eq!(entered, json!({"12": ["1"]}));
    assert_eq!(looked, json!({"12": ["1"]}));
    assert_eq!(left, json!({"12": []}));
}

#[tokio::test]
async fn the_room_a_user_was_in_when_their_session_ended_counts_as_read() {
    let server = TestServer::start();
    let rest = server.rest();
    let room = unique_id();
    let bob_token = chat_tests::token(2, "bob");
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.send_json(
        "/kafka/join-channel",
        &json!({"channel_id": format!("r-{room}")}),
    )
    .await;
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    for text in ["while", "bob", "watches"] {
        alice
            .send_json(
                "/kafka/send-direct-message",
                &json!({"content": text, "channelId": room}),
            )
            .await;
    }
    let unread = |body: &serde_json::Value| body["rooms"][0]["unread"].as_u64().expect("unread");
    let (_, while_there) = rest
        .get(&format!("/api/v1/unread?direct={room}"), &bob_token)
        .await;

    bob.disconnect().await;
    server.wait_for_log_lines("session closed", 1);
    let (_, after) = rest
        .get(&format!("/api/v1/unread?direct={room}"), &bob_token)
        .await;

    assert_eq!(unread(&while_there), 3);
    assert_eq!(unread(&after), 0);
}
