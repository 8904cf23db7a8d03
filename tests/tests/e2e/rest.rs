//! The REST API over real HTTP against the running binary, next to real STOMP clients.

use std::collections::HashSet;

use chat_tests::{StompClient, TestServer, token, unique_id};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn post(client: &mut StompClient, room: u64, content: &str) -> String {
    client
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": content, "channelId": room}),
        )
        .await;
    loop {
        let (_, event) = client.next_message().await;
        if event["message"] == content {
            return event["id"].as_str().expect("id").to_owned();
        }
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_conversation_over_stomp_is_visible_in_history_with_edits_deletes_and_replies() {
    let server = TestServer::start();
    let rest = server.rest();
    let room = unique_id();
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice
        .subscribe("room", &format!("/topic/direct/{room}"))
        .await;
    let first = post(&mut alice, room, "first").await;
    alice
        .send_json(
            "/kafka/send-direct-reply",
            &json!({"content": "reply", "channelId": room, "parentId": first}),
        )
        .await;
    let second = post(&mut alice, room, "second").await;
    alice
        .send_json(
            "/kafka/send-direct-modify",
            &json!({"id": second, "content": "second, edited", "channelId": room}),
        )
        .await;
    alice
        .send_json(
            "/kafka/send-direct-delete",
            &json!({"id": first, "channelId": room}),
        )
        .await;

    let (status, page) = rest
        .get(
            &format!("/api/v1/direct/{room}/messages?order=oldest"),
            &token(2, "bob"),
        )
        .await;

    assert_eq!(status, StatusCode::OK, "{page}");
    let messages = page["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0]["id"], first.as_str());
    assert_eq!(messages[0]["deleted"], true);
    assert_eq!(messages[0]["content"], Value::Null);
    assert_eq!(messages[1]["parent"]["id"], first.as_str());
    assert_eq!(
        messages[1]["parent"]["deleted"], true,
        "the parent was deleted since"
    );
    assert_eq!(messages[1]["parent"]["authorName"], "alice");
    assert_eq!(messages[2]["content"], "second, edited");
    assert!(messages[2]["editedAt"].is_string());
    let seqs: Vec<u64> = messages
        .iter()
        .map(|m| m["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);

    let (status, one) = rest
        .get(&format!("/api/v1/messages/{second}"), &token(2, "bob"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["content"], "second, edited");
}

#[tokio::test]
async fn pagination_returns_every_message_exactly_once_while_new_messages_arrive() {
    let server = TestServer::start();
    let rest = server.rest();
    let room = unique_id();
    let reader = token(2, "bob");
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice
        .subscribe("room", &format!("/topic/direct/{room}"))
        .await;
    let mut originals = Vec::new();
    for i in 0..25 {
        originals.push(post(&mut alice, room, &format!("m{i}")).await);
    }

    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    for page_number in 0.. {
        let path = match &before {
            Some(id) => format!("/api/v1/direct/{room}/messages?limit=10&before={id}"),
            None => format!("/api/v1/direct/{room}/messages?limit=10"),
        };
        let (status, page) = rest.get(&path, &reader).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let page_ids = ids(&page);
        if page_ids.is_empty() {
            break;
        }
        before = page_ids.last().cloned();
        seen.extend(page_ids);
        // New messages arrive between pages; they are newer than every cursor.
        post(&mut alice, room, &format!("late{page_number}")).await;
    }

    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no message twice");
    for id in &originals {
        assert!(unique.contains(id), "message {id} missing from the pages");
    }
}

#[tokio::test]
async fn unread_counts_drop_after_mark_read() {
    let server = TestServer::start();
    let rest = server.rest();
    let room = unique_id();
    let bob = token(2, "bob");
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice
        .subscribe("room", &format!("/topic/direct/{room}"))
        .await;
    let first = post(&mut alice, room, "one").await;
    post(&mut alice, room, "two").await;
    post(&mut alice, room, "three").await;
    let unread = |body: &Value| body["rooms"][0]["unread"].as_u64().expect("unread");

    let (_, before) = rest
        .get(&format!("/api/v1/unread?direct={room}"), &bob)
        .await;
    let (status, _) = rest
        .call(
            Method::PUT,
            &format!("/api/v1/direct/{room}/read"),
            Some(&bob),
            false,
            Some(&json!({"messageId": first})),
        )
        .await;
    let (_, after_first) = rest
        .get(&format!("/api/v1/unread?direct={room}"), &bob)
        .await;
    rest.call(
        Method::PUT,
        &format!("/api/v1/direct/{room}/read"),
        Some(&bob),
        false,
        Some(&json!({})),
    )
    .await;
    let (_, after_all) = rest
        .get(&format!("/api/v1/unread?direct={room}"), &bob)
        .await;
    let (_, for_alice) = rest
        .get(&format!("/api/v1/unread?direct={room}"), &token(1, "alice"))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(unread(&before), 3);
    assert_eq!(unread(&after_first), 2);
    assert_eq!(unread(&after_all), 0);
    assert_eq!(unread(&for_alice), 0, "one's own messages are never unread");
}

#[tokio::test]
async fn a_non_member_gets_403_and_a_missing_or_bad_token_401() {
    let server = TestServer::start();
    let rest = server.rest();
    let room = unique_id();
    let (status, _) = rest
        .call(
            Method::PUT,
            &format!("/chat-server/room-user-list/{room}"),
            None,
            true,
            Some(&json!([1, 2])),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (forbidden, body) = rest
        .get(&format!("/api/v1/direct/{room}/messages"), &token(3, "eve"))
        .await;
    let (member, _) = rest
        .get(&format!("/api/v1/direct/{room}/messages"), &token(2, "bob"))
        .await;
    let (anonymous, unauthorized) = rest
        .call(
            Method::GET,
            &format!("/api/v1/direct/{room}/messages"),
            None,
            false,
            None,
        )
        .await;
    let (bad, _) = rest
        .get(&format!("/api/v1/direct/{room}/messages"), "not-a-jwt")
        .await;
    let (no_service, _) = rest
        .call(
            Method::PUT,
            &format!("/chat-server/room-user-list/{room}"),
            Some(&token(3, "eve")),
            false,
            Some(&json!([3])),
        )
        .await;

    assert_eq!(forbidden, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "not_a_member");
    assert_eq!(member, StatusCode::OK);
    assert_eq!(anonymous, StatusCode::UNAUTHORIZED);
    assert_eq!(unauthorized["code"], "unauthorized");
    assert_eq!(bad, StatusCode::UNAUTHORIZED);
    assert_eq!(no_service, StatusCode::UNAUTHORIZED);

    // STOMP agrees with REST: the non-member cannot post or listen either.
    let mut eve = StompClient::connect(&server.ws_url(), 3, "eve").await;
    eve.subscribe("errors", "/user/queue/errors").await;
    eve.send(
        "SUBSCRIBE",
        &[
            ("id", "r"),
            ("destination", &format!("/topic/direct/{room}")),
        ],
        "",
    )
    .await;
    assert_eq!(
        eve.next_event_on("/user/queue/errors").await["code"],
        "not_a_member"
    );
}

#[tokio::test]
async fn the_seeds_history_and_message_count_keep_its_shapes_and_fix_its_ordering() {
    let server = TestServer::start();
    let rest = server.rest();
    let (quiet, busy, empty) = (unique_id(), unique_id(), unique_id());
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice
        .subscribe("q", &format!("/topic/direct/{quiet}"))
        .await;
    alice.subscribe("b", &format!("/topic/direct/{busy}")).await;
    let parent = post(&mut alice, quiet, "old").await;
    alice
        .send_json(
            "/kafka/send-direct-reply",
            &json!({"content": "re", "channelId": quiet, "parentId": parent}),
        )
        .await;
    post(&mut alice, busy, "newest").await;

    let (status, history) = rest
        .get(
            &format!("/chat-server/direct?ch_id={quiet}&page=0&size=50"),
            &token(2, "bob"),
        )
        .await;
    let (count_status, counts) = rest
        .call(
            Method::POST,
            "/chat-server/message-count",
            None,
            true,
            Some(&json!({"userId": 2, "roomIds": [empty, quiet, busy]})),
        )
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(history["isSuccess"], true);
    assert_eq!(history["code"], 1000);
    let result = history["result"].as_array().expect("result");
    assert_eq!(result[0]["message"], "old", "oldest first within the page");
    assert_eq!(result[0]["userId"], 1, "a number, as the seed sent it");
    assert_eq!(result[1]["fileType"], "reply");
    assert_eq!(result[1]["parentName"], "alice", "the parent's real author");
    assert_eq!(result[1]["parentContent"], "old");
    assert_eq!(count_status, StatusCode::OK);
    let order: Vec<u64> = counts
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["roomId"].as_u64().expect("id"))
        .collect();
    assert_eq!(order, vec![busy, quiet, empty]);
    assert_eq!(counts[1]["count"], 2);
    assert_eq!(counts[2]["localDateTime"], Value::Null);
    assert_eq!(counts[0]["localDateTime"].as_str().map(str::len), Some(17));
}

#[tokio::test]
async fn a_voice_leave_reported_by_the_state_server_reaches_the_community() {
    let server = TestServer::start();
    let rest = server.rest();
    let community = unique_id();
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("c", &format!("/topic/community/{community}"))
        .await;

    let (status, _) = rest
        .call(
            Method::POST,
            "/chat-server/signaling-list-community",
            None,
            true,
            Some(&json!({"type": "out", "communityId": community.to_string(), "channelId": "c-12", "ids": ["4", "7"]})),
        )
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        bob.next_event_on(&format!("/topic/community/{community}"))
            .await,
        json!({"type": "out", "communityId": community.to_string(), "channelId": "c-12", "ids": ["4", "7"]})
    );
}

#[tokio::test]
async fn the_openapi_document_and_swagger_ui_are_served() {
    let server = TestServer::start();
    let rest = server.rest();

    let (status, _, document) = rest.get_text("/openapi.json").await;
    let (docs_status, content_type, _) = rest.get_text("/docs/").await;
    let (presence_status, presence) = rest
        .get("/api/v1/presence?user=1&user=2", &token(2, "bob"))
        .await;

    assert_eq!(status, StatusCode::OK);
    let document: Value = serde_json::from_str(&document).expect("JSON");
    assert!(document["paths"]["/api/v1/direct/{room_id}/messages"].is_object());
    assert_eq!(docs_status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert_eq!(presence_status, StatusCode::OK);
    assert_eq!(
        presence["users"],
        json!([{"userId": 2, "online": false}]),
        "user 1 shares no room with bob"
    );
}

#[tokio::test]
async fn presence_is_answered_only_for_users_who_share_a_room_with_the_caller() {
    let server = TestServer::start();
    let rest = server.rest();
    let (shared, bobs) = (unique_id(), unique_id());
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice
        .subscribe("dm", &format!("/topic/direct/{shared}"))
        .await;
    let mut carol = StompClient::connect(&server.ws_url(), 3, "carol").await;
    carol
        .subscribe("dm", &format!("/topic/direct/{shared}"))
        .await;
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("own", &format!("/topic/direct/{bobs}")).await;

    let (stranger_status, as_stranger) = rest
        .get("/api/v1/presence?user=1&user=3&user=2", &token(2, "bob"))
        .await;
    bob.subscribe("dm", &format!("/topic/direct/{shared}"))
        .await;
    let (_, as_member) = rest
        .get("/api/v1/presence?user=1&user=3&user=2", &token(2, "bob"))
        .await;

    assert_eq!(stranger_status, StatusCode::OK);
    assert_eq!(
        as_stranger["users"],
        json!([{"userId": 2, "online": true}]),
        "alice and carol are online, but bob shares no room with them"
    );
    assert_eq!(
        as_member["users"],
        json!([
            {"userId": 1, "online": true},
            {"userId": 3, "online": true},
            {"userId": 2, "online": true}
        ])
    );
}

#[tokio::test]
async fn a_message_of_a_room_the_caller_may_not_read_is_the_same_404_as_a_missing_one() {
    let server = TestServer::start();
    let rest = server.rest();
    let room = unique_id();
    let (status, _) = rest
        .call(
            Method::PUT,
            &format!("/chat-server/room-user-list/{room}"),
            None,
            true,
            Some(&json!([1])),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice
        .subscribe("dm", &format!("/topic/direct/{room}"))
        .await;
    let secret = post(&mut alice, room, "secret").await;
    let missing = format!("{:024x}", unique_id());

    let (hidden_status, hidden) = rest
        .get(&format!("/api/v1/messages/{secret}"), &token(3, "eve"))
        .await;
    let (missing_status, absent) = rest
        .get(&format!("/api/v1/messages/{missing}"), &token(3, "eve"))
        .await;
    let (own_status, own) = rest
        .get(&format!("/api/v1/messages/{secret}"), &token(1, "alice"))
        .await;

    assert_eq!(hidden_status, StatusCode::NOT_FOUND, "{hidden}");
    assert_eq!(missing_status, StatusCode::NOT_FOUND, "{absent}");
    assert_eq!(
        hidden,
        json!({"code": "message_not_found", "message": format!("message {secret} not found")})
    );
    assert_eq!(
        absent,
        json!({"code": "message_not_found", "message": format!("message {missing} not found")}),
        "the same body, but for the id asked"
    );
    assert_eq!(own_status, StatusCode::OK);
    assert_eq!(own["content"], "secret");
}

#[tokio::test]
async fn a_seed_history_page_deeper_than_the_bound_is_a_400_page_too_deep() {
    let server = TestServer::start();
    let rest = server.rest();
    let room = unique_id();
    let bob = token(2, "bob");

    let (deepest, page) = rest
        .get(
            &format!("/chat-server/direct?ch_id={room}&page=200&size=50"),
            &bob,
        )
        .await;
    let (beyond, refused) = rest
        .get(
            &format!("/chat-server/direct?ch_id={room}&page=201&size=50"),
            &bob,
        )
        .await;
    let (far_beyond, _) = rest
        .get(
            &format!("/chat-server/community?ch_id={room}&page=100000&size=100"),
            &bob,
        )
        .await;

    assert_eq!(deepest, StatusCode::OK, "{page}");
    assert_eq!(page["result"], json!([]));
    assert_eq!(beyond, StatusCode::BAD_REQUEST);
    assert_eq!(refused["code"], "page_too_deep", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("10000")),
        "{refused}"
    );
    assert_eq!(far_beyond, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_user_reading_faster_than_the_allowance_gets_429_with_retry_after() {
    let server = TestServer::start_with(&[
        ("CHAT_LIMITS__READ_BURST", "2"),
        ("CHAT_LIMITS__READ_PER_SECOND", "0.01"),
    ]);
    let rest = server.rest();
    let alice = token(1, "alice");

    let (first, _) = rest.get("/api/v1/rooms", &alice).await;
    let (second, _) = rest.get("/api/v1/rooms", &alice).await;
    let (third, body) = rest.get("/api/v1/rooms", &alice).await;
    let (other_user, _) = rest.get("/api/v1/rooms", &token(2, "bob")).await;

    assert_eq!((first, second), (StatusCode::OK, StatusCode::OK));
    assert_eq!(third, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(other_user, StatusCode::OK);
}
