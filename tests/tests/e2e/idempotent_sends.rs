//! Idempotent sends across a cluster: a SEND repeated with the same `client-msg-id`, on
//! any instance, is the first one's message (one stored, one event, the same RECEIPT
//! headers), also when the first one's publish failed after the store write.

use std::time::Duration;

use chat_tests::{
    ClusterServices, FakeCommunityService, Frame, PrivateKafka, StompClient, TestCluster, token,
    unique_id,
};
use serde_json::{Value, json};

/// The message and reply events on `topic` up to the one whose text is `last`, in order.
async fn messages_until(client: &mut StompClient, topic: &str, last: &str) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let event = client
            .wait_for_event_on(topic, Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("`{last}` never came on {topic}; before it: {events:?}"));
        if !matches!(event["type"].as_str(), Some("message" | "reply")) {
            continue;
        }
        let done = event["message"] == last;
        events.push(event);
        if done {
            return events;
        }
    }
}

/// The room's history, oldest first, as instance `index` serves it to alice.
async fn history(cluster: &TestCluster, index: usize, room: u64) -> Vec<Value> {
    cluster
        .node(index)
        .rest()
        .direct_history(room, &token(1, "alice"))
        .await
}

fn names_one_message(receipt: &Frame) -> (String, String) {
    (
        receipt.header("message-id").expect("message-id").to_owned(),
        receipt.header("seq").expect("seq").to_owned(),
    )
}

#[tokio::test]
async fn the_same_client_msg_id_sent_to_two_instances_is_stored_once_and_heard_once() {
    let room = unique_id();
    let service = FakeCommunityService::room_of_three(room).await;
    let cluster = TestCluster::start(3, &service.base_url()).await;
    let dm = format!("/topic/direct/{room}");
    let mut subscribers = Vec::new();
    for (index, (user, name)) in [(1, "alice"), (1, "alice"), (2, "bob")]
        .into_iter()
        .enumerate()
    {
        let mut client = StompClient::connect(&cluster.node(index).ws_url(), user, name).await;
        client.subscribe("dm", &dm).await;
        client.subscribe("errors", "/user/queue/errors").await;
        subscribers.push(client);
    }
    let key = format!("alice-{}", unique_id());

    // Alice sends on instance 0 (key in the header), then her retry reaches instance 1
    // (key in the body, as a client that cannot set headers sends it).
    let first = subscribers[0]
        .try_send_json_with(
            "/kafka/send-direct-message",
            &[("client-msg-id", &key)],
            &json!({"content": "hello once", "channelId": room.to_string()}),
        )
        .await
        .expect("the first send is acknowledged");
    let repeat = subscribers[1]
        .try_send_json_with(
            "/kafka/send-direct-message",
            &[],
            &json!({"content": "hello once", "channelId": room.to_string(), "clientMsgId": key}),
        )
        .await
        .expect("the repeat is acknowledged");
    // Bob's message after both: any copy of alice's would be delivered before it.
    subscribers[2]
        .try_send_json(
            "/kafka/send-direct-message",
            &json!({"content": "after", "channelId": room.to_string()}),
        )
        .await
        .expect("bob's message is acknowledged");

    let (id, seq) = names_one_message(&first);
    assert_eq!(names_one_message(&repeat), (id.clone(), seq.clone()));
    for subscriber in &mut subscribers {
        let heard = messages_until(subscriber, &dm, "after").await;
        assert_eq!(heard.len(), 2, "one event of alice's message: {heard:?}");
        assert_eq!(heard[0]["id"], id.as_str());
        assert_eq!(heard[0]["seq"].to_string(), seq);
        assert_eq!(heard[0]["clientMsgId"], key.as_str());
        assert!(heard[1].get("clientMsgId").is_none(), "{:?}", heard[1]);
    }
    let stored = history(&cluster, 2, room).await;
    assert_eq!(stored.len(), 2, "stored once: {stored:?}");
    assert_eq!(stored[0]["id"], id.as_str());
    assert_eq!(stored[0]["clientMsgId"], key.as_str());
    assert_eq!(stored[1]["content"], "after");
}

#[tokio::test]
async fn a_send_whose_publish_failed_is_stored_once_and_its_retries_get_it_without_a_copy() {
    let room = unique_id();
    let service = FakeCommunityService::room_of_three(room).await;
    let kafka = PrivateKafka::start();
    let on = ClusterServices {
        kafka_brokers: kafka.brokers(),
        ..ClusterServices::shared()
    };
    // Each publish attempt gives up after a second, so the refusal comes within seconds.
    let cluster = TestCluster::start_with(
        2,
        &service.base_url(),
        &on,
        &[("CHAT_KAFKA__DELIVERY_TIMEOUT_MS", "1000")],
    )
    .await;
    let mut alice = StompClient::connect(&cluster.node(0).ws_url(), 1, "alice").await;
    alice.subscribe("errors", "/user/queue/errors").await;
    let mut alice_elsewhere = StompClient::connect(&cluster.node(1).ws_url(), 1, "alice").await;
    alice_elsewhere
        .subscribe("errors", "/user/queue/errors")
        .await;
    let mut kafka = kafka;
    let key = format!("alice-{}", unique_id());
    let send = json!({"content": "stored, never heard", "channelId": room.to_string()});

    // The store takes the message, the bus takes nothing: every publish attempt fails.
    kafka.stop();
    let refused = alice
        .try_send_json_with(
            "/kafka/send-direct-message",
            &[("client-msg-id", &key)],
            &send,
        )
        .await
        .expect_err("refused once the publish gives up");
    // Her retries (with the bus still down, so nothing could be published again) get
    // the stored message, on either instance.
    let retry = alice
        .try_send_json_with(
            "/kafka/send-direct-message",
            &[("client-msg-id", &key)],
            &send,
        )
        .await
        .expect("the retry gets the stored message");
    let retry_elsewhere = alice_elsewhere
        .try_send_json_with(
            "/kafka/send-direct-message",
            &[("client-msg-id", &key)],
            &send,
        )
        .await
        .expect("the retry on another instance too");

    assert_eq!(refused["code"], "unavailable", "{refused}");
    let (id, seq) = names_one_message(&retry);
    assert_eq!(
        names_one_message(&retry_elsewhere),
        (id.clone(), seq.clone())
    );
    let stored = history(&cluster, 1, room).await;
    assert_eq!(stored.len(), 1, "no copy: {stored:?}");
    assert_eq!(stored[0]["id"], id.as_str());
    assert_eq!(stored[0]["seq"].to_string(), seq);
    assert_eq!(stored[0]["clientMsgId"], key.as_str());
}
