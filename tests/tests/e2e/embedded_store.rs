//! The embedded message store's bounds (`[store.memory]`) end to end: a room past its limit
//! keeps its newest messages, its history shows what remains, a resume from before what was
//! dropped gets a `gap`, and `/metrics` shows what the store holds.

use chat_tests::{StompClient, TestServer, token, unique_id};
use serde_json::json;

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
async fn a_room_past_its_limit_keeps_its_newest_messages_and_a_resume_from_before_them_is_a_gap() {
    let server = TestServer::start_with(&[("CHAT_STORE__MEMORY__MAX_MESSAGES_PER_ROOM", "5")]);
    let room = unique_id();
    let dm = format!("/topic/direct/{room}");
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    let mut seqs = Vec::new();
    for n in 1..=8 {
        seqs.push(post(&mut bob, room, &format!("message {n}")).await);
    }

    let history = server.rest().direct_history(room, &token(1, "alice")).await;
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice.subscribe_since("dm", &dm, seqs[0]).await;
    let gap = loop {
        let event = alice.next_event_on(&dm).await;
        // Presence of the room's members is not what this test is about.
        if !matches!(event["type"].as_str(), Some("connect" | "disconnect")) {
            break event;
        }
    };
    let (_, _, metrics) = server.rest().get_text("/metrics").await;

    let texts: Vec<&str> = history
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        texts,
        [
            "message 4",
            "message 5",
            "message 6",
            "message 7",
            "message 8"
        ]
    );
    assert_eq!(
        gap,
        json!({"type": "gap", "roomId": room.to_string(), "fromSeq": seqs[0] + 1, "toSeq": seqs[7]}),
        "seqs 2 and 3 were dropped: they cannot be replayed"
    );
    for line in [
        "chat_memory_store_messages 5",
        r#"chat_memory_store_evicted_total{reason="room_limit"} 3"#,
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing in:\n{metrics}"
        );
    }
}
