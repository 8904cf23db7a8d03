//! Load tool: what the embedded (in-memory) message store costs the server. Posts `messages`
//! SENDs (each with a receipt, at most `window` unanswered per connection) over `connections`
//! connections to `rooms` DM rooms (each connection posting to its share of them in turn) of
//! an embedded-mode server, and prints the server's RSS before, every tenth of the way, at its
//! peak and at the end, the sends per second, and the store's `chat_memory_store_*` metrics
//! (builds that have them). Asserts nothing about speed.
//!
//! `cargo build --release -p chat-bootstrap --bin chat-server &&
//!  cargo run --release -p chat-tests --bin store-memory -- [messages] [connections] [rooms]
//!  [window] [text_chars]` (defaults 200000 4 4 64 100). `CHAT_TEST_SERVER_BIN=<path>`
//! measures another build; other `CHAT_*` variables set here reach the server (e.g.
//! `CHAT_STORE__MEMORY__MAX_BYTES`).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chat_tests::{StompClient, TestServer, unique_id};
use serde_json::json;

const DESTINATION: &str = "/kafka/send-direct-message";

/// Sends `messages` posts of `text` to `rooms` in turn, at most `window` unanswered; counts
/// each RECEIPT in `done`.
async fn pipeline(
    client: &mut StompClient,
    rooms: &[u64],
    messages: u64,
    window: usize,
    text: &str,
    done: &AtomicU64,
) {
    let mut waiting = VecDeque::with_capacity(window);
    let (mut sent, mut answered) = (0, 0);
    while answered < messages {
        while sent < messages && waiting.len() < window {
            let receipt = format!("r-{sent}");
            let room = rooms[(sent % rooms.len() as u64) as usize];
            let body = json!({"content": format!("{sent} {text}"), "channelId": room.to_string()});
            client
                .send(
                    "SEND",
                    &[("destination", DESTINATION), ("receipt", &receipt)],
                    &body.to_string(),
                )
                .await;
            waiting.push_back(receipt);
            sent += 1;
        }
        let frame = client.next_frame().await;
        assert_eq!(frame.command, "RECEIPT", "{frame:?}");
        let receipt = waiting.pop_front().expect("a SEND is waiting");
        assert_eq!(frame.header("receipt-id"), Some(receipt.as_str()));
        answered += 1;
        done.fetch_add(1, Ordering::Relaxed);
    }
}

/// CPU seconds (user and system) the process `pid` has used, from Linux `/proc`.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command name (in parentheses): state is field 3, utime 14 and stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |n: usize| -> f64 {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .unwrap_or(0.0)
    };
    (ticks(14) + ticks(15)) / 100.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The server's `chat_memory_store_*` lines of `/metrics`.
async fn store_metrics(server: &TestServer) -> Vec<String> {
    let url = format!("{}/metrics", server.http_url());
    let Ok(response) = reqwest::get(url).await else {
        return Vec::new();
    };
    let body = response.text().await.unwrap_or_default();
    body.lines()
        .filter(|line| line.starts_with("chat_memory_store_"))
        .map(str::to_owned)
        .collect()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut next = |default: u64| -> u64 {
        args.next()
            .map_or(default, |a| a.parse().expect("a number"))
    };
    let messages = next(200_000);
    let connections = next(4).max(1);
    let rooms = next(4).max(1);
    let window = next(64).max(1) as usize;
    let text_chars = next(100) as usize;
    let server = TestServer::start_with(&[
        ("RUST_LOG", "warn,chat_server=info"),
        // Measure the server, not the per-user allowance.
        ("CHAT_LIMITS__WRITE_PER_SECOND", "1000000"),
        ("CHAT_LIMITS__WRITE_BURST", "1000000"),
        ("CHAT_STOMP__MAX_CONNECTIONS_PER_ADDRESS", "0"),
    ]);
    let url = server.ws_url();
    let room_ids: Vec<u64> = (0..rooms).map(|_| unique_id()).collect();
    let text = "x".repeat(text_chars);
    let idle = server.rss_kib().unwrap_or(0);
    println!(
        "embedded server; {messages} SENDs of {text_chars}+ chars over {connections} connection(s) \
         to {rooms} room(s), window {window}; RSS idle {:.1} MiB",
        mib(idle)
    );

    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..connections {
        let share = messages / connections + u64::from(i < messages % connections);
        // Connection i posts to rooms i, i + connections, ... in turn.
        let mine: Vec<u64> = room_ids
            .iter()
            .skip((i % rooms) as usize)
            .step_by(connections as usize)
            .copied()
            .collect();
        let mut client = StompClient::connect(&url, 1 + i, &format!("user{i}")).await;
        let (done, text) = (done.clone(), text.clone());
        tasks.push(tokio::spawn(async move {
            pipeline(&mut client, &mine, share, window, &text, &done).await;
            client.disconnect().await;
        }));
    }
    let started = Instant::now();
    let cpu_before = cpu_seconds(server.pid());
    let mut peak = idle;
    let mut next_report = messages / 10;
    while tasks.iter().any(|task| !task.is_finished()) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let rss = server.rss_kib().unwrap_or(0);
        peak = peak.max(rss);
        let sent = done.load(Ordering::Relaxed);
        if sent >= next_report && next_report > 0 {
            println!(
                "  {sent:>8} stored, {:>6.1} s: RSS {:.1} MiB",
                started.elapsed().as_secs_f64(),
                mib(rss)
            );
            next_report += messages / 10;
        }
    }
    for task in tasks {
        task.await.expect("every SEND was answered");
    }
    let elapsed = started.elapsed();
    let cpu = cpu_seconds(server.pid()) - cpu_before;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let end = server.rss_kib().unwrap_or(0);
    println!(
        "{messages} stored in {:.1} s ({:.0} sends/s; server CPU {cpu:.1} s, {:.1} us per message); \
         RSS idle {:.1} MiB, peak {:.1} MiB, end {:.1} MiB ({:.0} bytes per message above idle)",
        elapsed.as_secs_f64(),
        messages as f64 / elapsed.as_secs_f64(),
        cpu * 1e6 / messages as f64,
        mib(idle),
        mib(peak),
        mib(end),
        (end.saturating_sub(idle) * 1024) as f64 / messages as f64,
    );
    for line in store_metrics(&server).await {
        println!("  {line}");
    }
}
