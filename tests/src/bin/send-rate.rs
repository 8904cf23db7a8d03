//! Load tool: durable sends per second (SEND with a receipt to its RECEIPT, which the server
//! writes once the message is stored and published) that one connection, and that many
//! connections together, reach against one cluster-mode instance. Every connection keeps up
//! to `window` SENDs unanswered, to one DM room shared by all (`rooms` = `shared`) or to its
//! own (`own`). Prints figures; asserts nothing about speed.
//!
//! `scripts/services up && . target/services/env && cargo build --release -p chat-bootstrap
//!  --bin chat-server --features cluster &&
//!  cargo run --release -p chat-tests --bin send-rate -- [connections] [messages] [window] [rooms]`
//! (`connections` may list several counts, `1,20`; `messages` is per connection).
//! `CHAT_TEST_SERVER_BIN=<path>` measures another build of the server.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use chat_tests::{
    ClusterServices, CommunityData, FakeCommunityService, StompClient, TestCluster, unique_id,
};
use serde_json::json;

/// SENDs each connection makes, one at a time, before the measured ones.
const WARM_UP: usize = 5;
const DESTINATION: &str = "/kafka/send-direct-message";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Sends `messages` posts to `room`, at most `window` unanswered; each one's time to its RECEIPT.
async fn pipeline(
    client: &mut StompClient,
    room: u64,
    messages: usize,
    window: usize,
) -> Vec<Duration> {
    let mut waiting = VecDeque::with_capacity(window);
    let mut latencies = Vec::with_capacity(messages);
    let mut sent = 0;
    while latencies.len() < messages {
        while sent < messages && waiting.len() < window {
            let receipt = format!("r-{sent}");
            let body = json!({"content": format!("m{sent}"), "channelId": room.to_string()});
            client
                .send(
                    "SEND",
                    &[("destination", DESTINATION), ("receipt", &receipt)],
                    &body.to_string(),
                )
                .await;
            waiting.push_back((receipt, Instant::now()));
            sent += 1;
        }
        let frame = client.next_frame().await;
        assert_eq!(frame.command, "RECEIPT", "{frame:?}");
        // Receipts come in the order sent.
        let (receipt, at) = waiting.pop_front().expect("a SEND is waiting");
        assert_eq!(frame.header("receipt-id"), Some(receipt.as_str()));
        latencies.push(at.elapsed());
    }
    latencies
}

async fn run(url: &str, rooms: &[u64], connections: usize, messages: usize, window: usize) {
    let mut clients = Vec::with_capacity(connections);
    for i in 0..connections {
        let user = 1 + i as u64;
        let room = rooms[i % rooms.len()];
        let mut client = StompClient::connect(url, user, &format!("user{user}")).await;
        for _ in 0..WARM_UP {
            client
                .send_json(
                    DESTINATION,
                    &json!({"content": "warm-up", "channelId": room.to_string()}),
                )
                .await;
        }
        clients.push((client, room));
    }
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|(mut client, room)| {
            tokio::spawn(async move {
                let latencies = pipeline(&mut client, room, messages, window).await;
                (client, latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(connections * messages);
    let mut finished = Vec::with_capacity(connections);
    for task in tasks {
        let (client, mine) = task.await.expect("every SEND was answered");
        latencies.extend(mine);
        finished.push(client);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{connections} connection(s) x {messages} SENDs, window {window}: {:.0} durable sends/s ({:.2} s); receipt latency p50={:.1} ms p99={:.1} ms max={:.1} ms",
        (connections * messages) as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().expect("latencies")),
    );
    for client in finished {
        client.disconnect().await;
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let counts: Vec<usize> = args
        .next()
        .unwrap_or_else(|| "1,20".into())
        .split(',')
        .map(|n| n.parse().expect("a count of connections"))
        .collect();
    let messages: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let window: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let own_rooms = args.next().is_some_and(|a| a == "own");
    let most = counts.iter().copied().max().unwrap_or(1) as u64;
    // The rooms of each run: one shared by its connections, or one per connection.
    let rooms: Vec<Vec<u64>> = counts
        .iter()
        .map(|&n| {
            (0..if own_rooms { n } else { 1 })
                .map(|_| unique_id())
                .collect()
        })
        .collect();
    let service = FakeCommunityService::start(CommunityData {
        room_lists: HashMap::new(),
        room_members: rooms
            .iter()
            .flatten()
            .map(|room| (*room, (1..=most).collect()))
            .collect(),
        community_members: HashMap::new(),
        channel_communities: HashMap::new(),
    })
    .await;
    let cluster = TestCluster::start_with(
        1,
        &service.base_url(),
        &ClusterServices::shared(),
        &[
            ("RUST_LOG", "warn,chat_server=info,bootstrap=info"),
            // Measure the server, not the per-user allowance.
            ("CHAT_LIMITS__WRITE_PER_SECOND", "1000000"),
            ("CHAT_LIMITS__WRITE_BURST", "1000000"),
        ],
    )
    .await;
    println!(
        "one cluster-mode instance: one Kafka (Tansu), MongoDB (SecantusDB), Redis; {}",
        if own_rooms {
            "a DM room per connection"
        } else {
            "one DM room per run"
        }
    );
    let url = cluster.node(0).ws_url();
    for (connections, rooms) in counts.into_iter().zip(rooms) {
        run(&url, &rooms, connections, messages, window).await;
    }
}
