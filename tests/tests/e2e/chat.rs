//! Two users chat in a DM room and in a community channel.

use std::time::Duration;

use chat_tests::{StompClient, TestServer, unique_id};
use serde_json::{Value, json};

const QUIET: Duration = Duration::from_millis(300);

/// Reads the next event of `topic` on both clients and checks they got the same one.
async fn both_receive(alice: &mut StompClient, bob: &mut StompClient, topic: &str) -> Value {
    let seen_by_alice = alice.next_event_on(topic).await;
    let seen_by_bob = bob.next_event_on(topic).await;
    assert_eq!(
        seen_by_alice, seen_by_bob,
        "both subscribers see the same event"
    );
    seen_by_alice
}

/// Runs the whole conversation in one room; `room` is added to every payload.
async fn converse(server: &TestServer, topic: &str, kind: &str, room: &Value) {
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    for client in [&mut alice, &mut bob] {
        client.subscribe("room", topic).await;
        client.subscribe("errors", "/user/queue/errors").await;
    }
    let with_room = |mut body: Value| {
        for (key, value) in room.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };

    // send
    alice
        .send_json(
            &format!("/kafka/send-{kind}-message"),
            &with_room(json!({"content": "hello", "userId": 1, "name": "alice", "profileImage": "https://img/a.png"})),
        )
        .await;
    let message = both_receive(&mut alice, &mut bob, topic).await;
    assert_eq!(message["type"], "message");
    assert_eq!(message["message"], "hello");
    assert_eq!(message["userId"], "1");
    assert_eq!(message["name"], "alice");
    let id = message["id"].as_str().expect("id").to_owned();
    assert_eq!(id.len(), 24, "an ObjectId-like id");
    let time = message["time"].as_str().expect("time");
    assert!(
        time.len() == 23 && &time[19..20] == ".",
        "UTC with milliseconds: {time}"
    );

    // reply
    bob.send_json(
        &format!("/kafka/send-{kind}-reply"),
        &with_room(json!({"content": "me too", "parentId": id, "parentName": "forged", "parentContent": "forged", "type": "reply"})),
    )
    .await;
    let reply = both_receive(&mut alice, &mut bob, topic).await;
    assert_eq!(reply["type"], "reply");
    assert_eq!(reply["userId"], "2");
    assert_eq!(
        reply["parentName"], "alice",
        "the parent's author comes from the store"
    );
    assert_eq!(reply["parentContent"], "hello");
    assert_eq!(reply["parentId"], id.as_str());

    // modify
    alice
        .send_json(
            &format!("/kafka/send-{kind}-modify"),
            &with_room(
                json!({"id": id, "content": "hello, edited", "userId": 1, "type": "modify"}),
            ),
        )
        .await;
    let modify = both_receive(&mut alice, &mut bob, topic).await;
    assert_eq!(modify["type"], "modify");
    assert_eq!(modify["message"], "hello, edited");
    assert_eq!(
        modify["time"], message["time"],
        "modify carries the original send time"
    );

    // typing
    bob.send_json(
        &format!("/kafka/send-{kind}-typing"),
        &with_room(json!({"content": "not-bobs-name", "type": "typing"})),
    )
    .await;
    let typing = both_receive(&mut alice, &mut bob, topic).await;
    assert_eq!(
        typing,
        json!({"type": "typing", "name": "bob", "userId": "2"})
    );

    // delete
    alice
        .send_json(
            &format!("/kafka/send-{kind}-delete"),
            &with_room(json!({"id": id, "userId": 1, "type": "delete"})),
        )
        .await;
    let delete = both_receive(&mut alice, &mut bob, topic).await;
    assert_eq!(delete["type"], "delete");
    assert_eq!(delete["id"], id.as_str());

    // every stored event carries the room's next sequence number
    let seqs: Vec<u64> = [&message, &reply, &modify, &delete]
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);

    // each event exactly once
    alice.expect_silence(QUIET).await;
    bob.expect_silence(QUIET).await;
}

#[tokio::test]
async fn two_users_chat_in_a_dm_room_and_both_see_every_event_once_in_order() {
    let server = TestServer::start();
    let room = unique_id();
    converse(
        &server,
        &format!("/topic/direct/{room}"),
        "direct",
        &json!({"channelId": room.to_string()}),
    )
    .await;
}

#[tokio::test]
async fn two_users_chat_in_a_community_channel_and_both_see_every_event_once_in_order() {
    let server = TestServer::start();
    let channel = unique_id();
    converse(
        &server,
        &format!("/topic/group/{channel}"),
        "channel",
        &json!({"communityId": 3, "channelId": channel.to_string()}),
    )
    .await;
}

#[tokio::test]
async fn messages_of_one_room_do_not_reach_another_room() {
    let server = TestServer::start();
    let (here, elsewhere) = (unique_id(), unique_id());
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("other", &format!("/topic/direct/{elsewhere}"))
        .await;

    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "hi", "channelId": here}),
        )
        .await;

    bob.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_stomp_1_0_client_without_subscription_ids_can_chat() {
    let server = TestServer::start();
    let room = unique_id();
    let topic = format!("/topic/direct/{room}");
    let mut client = StompClient::open(&server.ws_url()).await;
    client
        .send("CONNECT", &[("passcode", &chat_tests::token(9, "old"))], "")
        .await;
    let connected = client.next_frame().await;
    assert_eq!(connected.command, "CONNECTED");
    assert_eq!(connected.header("version"), Some("1.0"));
    client
        .send("SUBSCRIBE", &[("destination", &topic)], "")
        .await;
    client
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "from 1.0", "channelId": room}),
        )
        .await;

    let event = client.next_event_on(&topic).await;

    assert_eq!(event["message"], "from 1.0");
}

#[tokio::test]
async fn the_receipt_of_a_send_names_the_stored_message_and_its_seq() {
    let server = TestServer::start();
    let room = unique_id();
    let topic = format!("/topic/direct/{room}");
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice.subscribe("room", &topic).await;

    let posted = alice
        .send_json_for_receipt(
            "/kafka/send-direct-message",
            &json!({"content": "first", "channelId": room}),
        )
        .await;
    let event = alice.next_event_on(&topic).await;
    let edited = alice
        .send_json_for_receipt(
            "/kafka/send-direct-modify",
            &json!({"id": event["id"], "content": "first, edited", "channelId": room}),
        )
        .await;

    assert_eq!(posted.header("message-id"), event["id"].as_str());
    assert_eq!(
        posted.header("seq"),
        Some(event["seq"].to_string().as_str())
    );
    assert_eq!(edited.header("message-id"), event["id"].as_str());
    assert_eq!(edited.header("seq"), None, "an edit names no posting seq");
}

#[tokio::test]
async fn sends_pipelined_on_one_connection_are_answered_and_numbered_in_the_order_sent() {
    let server = TestServer::start();
    let room = unique_id();
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;

    // Twenty SENDs without waiting for any RECEIPT (within the default write burst).
    for n in 0..20 {
        let body = json!({"content": format!("m{n}"), "channelId": room});
        alice
            .send(
                "SEND",
                &[
                    ("destination", "/kafka/send-direct-message"),
                    ("receipt", &format!("r-{n}")),
                ],
                &body.to_string(),
            )
            .await;
    }
    let mut seqs = Vec::new();
    for n in 0..20 {
        let receipt = alice.next_frame().await;
        assert_eq!(receipt.command, "RECEIPT", "{receipt:?}");
        assert_eq!(
            receipt.header("receipt-id"),
            Some(format!("r-{n}").as_str())
        );
        seqs.push(
            receipt
                .header("seq")
                .expect("a seq")
                .parse::<u64>()
                .expect("a number"),
        );
    }

    assert!(
        seqs.windows(2).all(|pair| pair[0] < pair[1]),
        "seqs increase in the order sent: {seqs:?}"
    );
}
