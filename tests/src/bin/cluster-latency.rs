//! Load tool: end-to-end delivery latency in cluster mode, SEND on instance A to
//! MESSAGE on instance B (through Kafka), side by side with A to a subscriber on A
//! itself (which also goes through Kafka: no instance short-cuts its own events).
//! With several senders spread over the instances, their writes race, and the tool also counts
//! deliveries that arrive with a lower seq than the one before (there must be none).
//! Prints p50/p99/max; asserts nothing about speed.
//!
//! `scripts/services up && . target/services/env && cargo build --release -p chat-bootstrap &&
//!  cargo run --release -p chat-tests --bin cluster-latency -- [messages] [per_second]
//!  [senders] [instances] [kill_after_ms]` (`CHAT_TEST_SERVER_BIN` picks the server binary;
//!  `kill_after_ms` SIGKILLs the last instance that long after the first SEND, and the
//!  survivors' longest silence shows how long a dead writer's seq held their room).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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

/// One message first, so that every instance knows the room's position before the measured
/// ones (the first event an instance sees of a room with history may wait for an older one).
async fn warm_up(
    sender: &mut StompClient,
    subscribers: &mut [StompClient],
    topic: &str,
    room: u64,
) {
    sender
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "warm-up", "channelId": room.to_string()}),
        )
        .await;
    for subscriber in subscribers {
        subscriber.next_event_on(topic).await;
    }
}

/// Sends `count` messages as sender `k`, one every `gap`, recording when each was sent.
async fn send(
    mut sender: StompClient,
    k: usize,
    room: u64,
    count: usize,
    gap: Duration,
    started: Instant,
    sent: Arc<Mutex<HashMap<String, Duration>>>,
) {
    let mut next = Instant::now();
    for n in 0..count {
        let text = format!("s{k} m{n}");
        sent.lock()
            .expect("sent")
            .insert(text.clone(), started.elapsed());
        sender
            .send_json_unconfirmed(
                "/kafka/send-direct-message",
                &json!({"content": text, "channelId": room.to_string()}),
            )
            .await;
        next += gap;
        tokio::time::sleep_until(next.into()).await;
    }
}

/// The arrival time and seq of every message a subscriber heard, keyed by text.
type Arrivals = HashMap<String, (Duration, u64)>;

/// What `client` hears on `topic` until `messages` arrived or ten quiet seconds passed, and
/// how many arrived with a lower seq than the one before.
async fn receive(
    mut client: StompClient,
    topic: String,
    started: Instant,
    messages: usize,
) -> (Arrivals, usize) {
    let mut arrivals = Arrivals::new();
    let mut inversions = 0_usize;
    let mut last_seq = 0;
    while arrivals.len() < messages {
        let Some(event) = client
            .wait_for_event_on(&topic, Duration::from_secs(10))
            .await
        else {
            println!("  a subscriber heard {} of {messages}", arrivals.len());
            break;
        };
        if let (Some(text), Some(seq)) = (event["message"].as_str(), event["seq"].as_u64()) {
            inversions += usize::from(seq < last_seq);
            last_seq = seq;
            arrivals.insert(text.to_owned(), (started.elapsed(), seq));
        }
    }
    (arrivals, inversions)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut arg = |default: u64| args.next().and_then(|a| a.parse().ok()).unwrap_or(default);
    let messages = usize::try_from(arg(500)).expect("messages");
    let per_second = arg(50);
    let senders = usize::try_from(arg(1)).expect("senders").max(1);
    let instances = usize::try_from(arg(2)).expect("instances").max(2);
    let kill_after = Duration::from_millis(arg(0));
    let room = unique_id();
    let service = FakeCommunityService::start(CommunityData {
        room_lists: HashMap::new(),
        room_members: HashMap::from([(room, (1..=200).collect())]),
        community_members: HashMap::new(),
        channel_communities: HashMap::new(),
    })
    .await;
    let mut cluster = TestCluster::start_with(
        instances,
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
    let mut subscribers = Vec::new();
    for node in 0..instances {
        let user = 100 + u64::try_from(node).expect("node");
        let mut client = StompClient::connect(&cluster.node(node).ws_url(), user, "reader").await;
        client.subscribe("room", &topic).await;
        subscribers.push(client);
    }
    let mut clients = Vec::new();
    for k in 0..senders {
        let user = 1 + u64::try_from(k).expect("sender");
        clients.push(
            StompClient::connect(&cluster.node(k % instances).ws_url(), user, "sender").await,
        );
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    warm_up(&mut clients[0], &mut subscribers, &topic, room).await;

    let started = Instant::now();
    let mut receivers: Vec<_> = subscribers
        .into_iter()
        .map(|client| tokio::spawn(receive(client, topic.clone(), started, messages)))
        .collect();

    let per_sender = messages / senders;
    let gap = Duration::from_secs_f64(senders as f64 / per_second.max(1) as f64);
    let sent = Arc::new(Mutex::new(HashMap::new()));
    let mut sending: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(k, sender)| {
            let sent = Arc::clone(&sent);
            tokio::spawn(send(sender, k, room, per_sender, gap, started, sent))
        })
        .collect();
    let killed = instances - 1;
    if !kill_after.is_zero() {
        tokio::time::sleep(kill_after).await;
        cluster.kill(killed);
        for (k, task) in sending.iter().enumerate() {
            if k % instances == killed {
                task.abort();
            }
        }
        receivers.remove(killed).abort();
        println!("instance {killed} SIGKILLed {kill_after:?} after the first SEND");
    }
    for task in sending.drain(..) {
        // An aborted sender (its instance killed) has recorded what it sent.
        let _ = task.await;
    }
    let sent = sent.lock().expect("sent").clone();
    let messages = sent.len();
    println!(
        "{messages} messages at {per_second}/s from {senders} senders on {instances} instances, \
         one Kafka (Tansu), MongoDB (SecantusDB), Redis"
    );
    for (node, receiver) in receivers.into_iter().enumerate() {
        let (arrivals, inversions) = receiver.await.expect("receiver");
        let mut times: Vec<Duration> = arrivals.values().map(|(at, _)| *at).collect();
        times.sort();
        let silence = times
            .windows(2)
            .map(|w| w[1].saturating_sub(w[0]))
            .max()
            .unwrap_or_default();
        let latencies = arrivals
            .iter()
            .filter_map(|(text, (at, _))| sent.get(text).map(|from| at.saturating_sub(*from)))
            .collect();
        report(&format!("SEND -> MESSAGE on instance {node}"), latencies);
        println!(
            "  deliveries with a lower seq than the one before: {inversions}; longest silence \
             between two deliveries: {:.0} ms",
            silence.as_secs_f64() * 1000.0
        );
    }
}
