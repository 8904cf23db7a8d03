//! Resuming after a reconnect: a SUBSCRIBE with `x-since-seq` gets what the client
//! missed from the store, once and in order, then live events with no gap or repeat,
//! on a three-instance cluster; beyond `stomp.resume_limit`, one `gap` event.

use std::time::Duration;

use chat_tests::{ClusterServices, FakeCommunityService, StompClient, TestCluster, unique_id};
use serde_json::{Value, json};

/// The next event on `topic` that is a room event (presence is left out).
async fn next_room_event(client: &mut StompClient, topic: &str) -> Value {
    loop {
        let event = client
            .wait_for_event_on(topic, Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("no room event on {topic}"));
        if !matches!(event["type"].as_str(), Some("connect" | "disconnect")) {
            return event;
        }
    }
}

fn seq(event: &Value) -> u64 {
    event["seq"]
        .as_u64()
        .unwrap_or_else(|| panic!("no seq: {event}"))
}

async fn post(client: &mut StompClient, room: u64, text: &str) -> u64 {
    let receipt = client
        .send_json_for_receipt(
            "/kafka/send-direct-message",
            &json!({"content": text, "channelId": room.to_string()}),
        )
        .await;
    receipt
        .header("seq")
        .and_then(|seq| seq.parse().ok())
        .unwrap_or_else(|| panic!("a post's RECEIPT names its seq: {receipt:?}"))
}

#[tokio::test]
async fn a_reconnecting_client_gets_what_it_missed_once_in_order_then_live_events() {
    let room = unique_id();
    let service = FakeCommunityService::room_of_three(room).await;
    let cluster = TestCluster::start(3, &service.base_url()).await;
    let dm = format!("/topic/direct/{room}");
    let mut alice = StompClient::connect(&cluster.node(0).ws_url(), 1, "alice").await;
    let mut bob = StompClient::connect(&cluster.node(1).ws_url(), 2, "bob").await;
    let mut carol = StompClient::connect(&cluster.node(2).ws_url(), 3, "carol").await;
    alice.subscribe("dm", &dm).await;
    let seen_message = post(&mut bob, room, "seen before the disconnect").await;
    let seen = next_room_event(&mut alice, &dm).await;
    assert_eq!(seq(&seen), seen_message);
    let seen_id = seen["id"].as_str().expect("id").to_owned();
    alice.disconnect().await;

    // Missed: 50 messages posted on the two other instances, and an edit of the
    // message alice saw.
    let mut missed = Vec::new();
    for n in 0..25 {
        missed.push(post(&mut bob, room, &format!("missed bob {n}")).await);
        missed.push(post(&mut carol, room, &format!("missed carol {n}")).await);
    }
    bob.send_json(
        "/kafka/send-direct-modify",
        &json!({"id": seen_id, "content": "edited while alice was away", "channelId": room.to_string()}),
    )
    .await;

    let mut alice = StompClient::connect(&cluster.node(0).ws_url(), 1, "alice").await;
    // Carol keeps posting on her instance while alice resumes.
    let poster = tokio::spawn(async move {
        let mut live = Vec::new();
        for n in 0..10 {
            live.push(post(&mut carol, room, &format!("live {n}")).await);
        }
        live
    });
    alice.subscribe_since("dm", &dm, seen_message).await;
    let live = poster.await.expect("carol posted");

    let mut received = Vec::new();
    while received.len() < 50 + 1 + live.len() {
        received.push(next_room_event(&mut alice, &dm).await);
    }
    let seqs: Vec<u64> = received.iter().map(seq).collect();
    assert!(
        seqs.windows(2).all(|pair| pair[0] < pair[1]),
        "strictly increasing, so no repeat: {seqs:?}"
    );
    let messages: Vec<(u64, &str)> = received
        .iter()
        .filter(|event| event["type"] == "message")
        .map(|event| (seq(event), event["message"].as_str().expect("text")))
        .collect();
    let texts: Vec<String> = (0..25)
        .flat_map(|n| [format!("missed bob {n}"), format!("missed carol {n}")])
        .chain((0..10).map(|n| format!("live {n}")))
        .collect();
    let expected: Vec<(u64, &str)> = missed
        .iter()
        .chain(&live)
        .copied()
        .zip(texts.iter().map(String::as_str))
        .collect();
    assert_eq!(
        messages, expected,
        "every missed and live message once, in order"
    );
    let modify: Vec<&Value> = received.iter().filter(|e| e["type"] == "modify").collect();
    assert_eq!(modify.len(), 1, "the edit is replayed once: {received:?}");
    assert_eq!(modify[0]["id"], seen_id.as_str());
    assert_eq!(modify[0]["message"], "edited while alice was away");

    let after = post(&mut bob, room, "after the resume").await;
    let next = next_room_event(&mut alice, &dm).await;
    assert_eq!(seq(&next), after, "live delivery goes on");
}

#[tokio::test]
async fn a_client_that_missed_more_than_the_limit_gets_one_gap_then_live_events() {
    let room = unique_id();
    let service = FakeCommunityService::room_of_three(room).await;
    let cluster = TestCluster::start_with(
        2,
        &service.base_url(),
        &ClusterServices::shared(),
        &[("CHAT_STOMP__RESUME_LIMIT", "10")],
    )
    .await;
    let dm = format!("/topic/direct/{room}");
    let mut bob = StompClient::connect(&cluster.node(1).ws_url(), 2, "bob").await;
    let seen = post(&mut bob, room, "seen").await;
    let mut last = seen;
    for n in 0..11 {
        last = post(&mut bob, room, &format!("missed {n}")).await;
    }

    let mut alice = StompClient::connect(&cluster.node(0).ws_url(), 1, "alice").await;
    alice.subscribe_since("dm", &dm, seen).await;
    let gap = next_room_event(&mut alice, &dm).await;
    let live = post(&mut bob, room, "live").await;
    let next = next_room_event(&mut alice, &dm).await;

    assert_eq!(
        gap,
        json!({"type": "gap", "roomId": room.to_string(), "fromSeq": seen + 1, "toSeq": last})
    );
    assert_eq!(seq(&next), live);
    assert_eq!(next["message"], "live");
}
