//! Load tool: what an idle connection costs the server, and how fast one room's
//! events fan out to many subscribers. Prints figures; asserts nothing about speed.
//!
//! `cargo run --release -p chat-tests --bin stomp-load -- [connections] [messages]`
//! (the release server binary is built when missing; after changing the server, rebuild it
//! with `cargo build --release -p chat-bootstrap`).
//! Talks only to the server it starts on 127.0.0.1, and stops by itself.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::cast_precision_loss)]

use std::time::Instant;

use chat_tests::{StompClient, TestServer, unique_id};
use serde_json::json;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let connections: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let messages: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let server = TestServer::start_with(&[
        ("RUST_LOG", "warn,chat_server=info"),
        // Measure the server, not the per-user allowance.
        ("CHAT_LIMITS__WRITE_PER_SECOND", "1000000"),
        ("CHAT_LIMITS__WRITE_BURST", "1000000"),
        // Every connection comes from 127.0.0.1.
        ("CHAT_STOMP__MAX_CONNECTIONS_PER_ADDRESS", "0"),
    ]);
    let url = server.ws_url();
    let room = unique_id();
    let topic = format!("/topic/direct/{room}");

    let before = server.rss_kib().unwrap_or(0);
    let mut clients = Vec::with_capacity(connections);
    let started = Instant::now();
    for i in 0..connections {
        let user = 10_000 + i as u64;
        let mut client = StompClient::connect(&url, user, &format!("user{user}")).await;
        client.subscribe("room", &topic).await;
        clients.push(client);
    }
    let connect_time = started.elapsed();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after = server.rss_kib().unwrap_or(0);
    println!(
        "idle: {connections} connected and subscribed in {:.2}s; server RSS {before} KiB -> {after} KiB = {:.1} KiB per connection",
        connect_time.as_secs_f64(),
        (after.saturating_sub(before)) as f64 / connections as f64
    );

    let mut sender = StompClient::connect(&url, 1, "sender").await;
    let receivers: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            let topic = topic.clone();
            tokio::spawn(async move {
                for _ in 0..messages {
                    client.next_event_on(&topic).await;
                }
                // Kept open until everyone is done: a closing socket announces its user's
                // `disconnect` to the room, which would be traffic this run does not measure.
                client
            })
        })
        .collect();
    let started = Instant::now();
    for i in 0..messages {
        sender
            .send_json(
                "/kafka/send-direct-message",
                &json!({"content": format!("m{i}"), "channelId": room}),
            )
            .await;
    }
    let sent = started.elapsed();
    let mut finished = Vec::with_capacity(receivers.len());
    for receiver in receivers {
        finished.push(receiver.await.expect("every subscriber got every message"));
    }
    let delivered = started.elapsed();
    let deliveries = (connections * messages) as f64;
    println!(
        "fan-out: {messages} messages x {connections} subscribers: sent (with receipts) in {:.2}s, all {deliveries} deliveries in {:.2}s = {:.0} deliveries/s",
        sent.as_secs_f64(),
        delivered.as_secs_f64(),
        deliveries / delivered.as_secs_f64()
    );
}
