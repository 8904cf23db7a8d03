//! Load tool: end-to-end delivery latency in cluster mode, SEND on instance A to
//! MESSAGE on instance B (through Kafka), side by side with A to a subscriber on A
//! itself (which also goes through Kafka: no instance short-cuts its own events).
//! Prints p50/p99/max; asserts nothing about speed.
//!
//! `scripts/services up && . target/services/env && cargo build --release -p chat-bootstrap &&
//!  cargo run --release -p chat-tests --bin cluster-latency -- [messages] [per_second]`

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chat_tests::{
    ClusterServices, CommunityData, FakeCommunityService, StompClient, TestCluster, unique_id,
};
use serde_json::json;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label}: n={} p50={:.2} ms p99={:.2} ms max={:.2} ms",
        samples.len(),
        ms(percentile(&samples, 0.50)),
        ms(percentile(&samples, 0.99)),
        ms(*samples.last().expect("samples"))
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let messages: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let per_second: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let room = unique_id();
    let service = FakeCommunityService::start(CommunityData {
        room_lists: HashMap::new(),
        room_members: HashMap::from([(room, vec![1, 2, 3])]),
        community_members: HashMap::new(),
        channel_communities: HashMap::new(),
    })
    .await;
    let cluster = TestCluster::start_with(
        2,
        &service.base_url(),
        &ClusterServices::shared(),
        &[
            ("RUST_LOG", "warn,chat_server=info,bootstrap=info"),
            ("CHAT_LIMITS__WRITE_PER_SECOND", "1000000"),
            ("CHAT_LIMITS__WRITE_BURST", "1000000"),
        ],
    )
    .await;
    let topic = format!("/topic/direct/{room}");
    let mut sender = StompClient::connect(&cluster.node(0).ws_url(), 1, "sender").await;
    let mut remote = StompClient::connect(&cluster.node(1).ws_url(), 2, "remote").await;
    let mut local = StompClient::connect(&cluster.node(0).ws_url(), 3, "local").await;
    remote.subscribe("room", &topic).await;
    local.subscribe("room", &topic).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let started = Instant::now();
    let receive = |mut client: StompClient, topic: String| {
        tokio::spawn(async move {
            let mut arrivals = HashMap::new();
            while arrivals.len() < messages {
                let event = client.next_event_on(&topic).await;
                if let Some(text) = event["message"].as_str() {
                    arrivals.insert(text.to_owned(), started.elapsed());
                }
            }
            arrivals
        })
    };
    let remote_arrivals = receive(remote, topic.clone());
    let local_arrivals = receive(local, topic.clone());

    let gap = Duration::from_micros(1_000_000 / per_second.max(1));
    let mut sent = HashMap::new();
    for n in 0..messages {
        let text = format!("m{n}");
        sent.insert(text.clone(), started.elapsed());
        sender
            .send_json_unconfirmed(
                "/kafka/send-direct-message",
                &json!({"content": text, "channelId": room.to_string()}),
            )
            .await;
        tokio::time::sleep(gap).await;
    }
    let latencies = |arrivals: HashMap<String, Duration>| -> Vec<Duration> {
        arrivals
            .iter()
            .map(|(text, at)| at.saturating_sub(sent[text]))
            .collect()
    };
    let remote = latencies(remote_arrivals.await.expect("remote receiver"));
    let local = latencies(local_arrivals.await.expect("local receiver"));
    println!(
        "{messages} messages at {per_second}/s, 2 instances, one Kafka (Tansu), MongoDB (SecantusDB), Redis"
    );
    report("SEND on A -> MESSAGE on B", remote);
    report("SEND on A -> MESSAGE on A", local);
}
