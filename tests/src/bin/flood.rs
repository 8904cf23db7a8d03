//! Load tool: an open-loop flood. `publishers` connections send posts to one DM room as fast
//! as their sockets take them (no receipts, no window), while `subscribers` connections read
//! the room. Prints, for the measured window: SENDs the server took from the publishers'
//! sockets, deliveries per second, refusals (`overloaded`, `rate_limited`), subscribers lost
//! (an ERROR frame or a closed socket), gaps announced, and the server's RSS at the start,
//! its peak and at the end (sampled every 250 ms). Asserts nothing about speed.
//!
//! `cargo build --release -p chat-bootstrap --bin chat-server &&
//!  cargo run --release -p chat-tests --bin flood -- [publishers] [subscribers] [seconds]`
//! (defaults 4, 100, 20). `CHAT_TEST_SERVER_BIN=<path>` measures another build of the server.
//! The write allowances are raised so the server itself is the limit.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chat_tests::{StompReader, TestServer, connect_split, unique_id};

/// What every connection of the run counts.
#[derive(Default)]
struct Counts {
    sent: AtomicU64,
    delivered: AtomicU64,
    overloaded: AtomicU64,
    rate_limited: AtomicU64,
    other_errors: AtomicU64,
    gaps: AtomicU64,
    lost: AtomicU64,
}

impl Counts {
    fn snapshot(&self) -> [u64; 7] {
        [
            &self.sent,
            &self.delivered,
            &self.overloaded,
            &self.rate_limited,
            &self.other_errors,
            &self.gaps,
            &self.lost,
        ]
        .map(|c| c.load(Ordering::Relaxed))
    }
}

/// Counts what a connection reads until the run stops: MESSAGE frames on the room, error
/// queue refusals by code, `gap` events, and an ERROR frame or close as a lost connection.
async fn read_all(mut reader: StompReader, counts: Arc<Counts>, stop: Arc<AtomicBool>) {
    while let Some(frame) = reader.next().await {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        match frame.command.as_str() {
            "MESSAGE" if frame.header("destination") == Some("/user/queue/errors") => {
                let code = frame.json()["code"].clone();
                let counter = match code.as_str() {
                    Some("overloaded") => &counts.overloaded,
                    Some("rate_limited") => &counts.rate_limited,
                    _ => &counts.other_errors,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            "MESSAGE" if frame.body.contains("\"type\":\"gap\"") => {
                counts.gaps.fetch_add(1, Ordering::Relaxed);
            }
            "MESSAGE" => {
                counts.delivered.fetch_add(1, Ordering::Relaxed);
            }
            "ERROR" => {
                counts.lost.fetch_add(1, Ordering::Relaxed);
                eprintln!("ERROR frame: {:?}", frame.header("message"));
                return;
            }
            _ => {}
        }
    }
    if !stop.load(Ordering::Relaxed) {
        counts.lost.fetch_add(1, Ordering::Relaxed);
    }
}

async fn subscriber(
    url: String,
    user: u64,
    topic: String,
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
) {
    let (mut writer, reader) = connect_split(&url, user, None).await;
    writer
        .send("SUBSCRIBE", &[("id", "room"), ("destination", &topic)], "")
        .await;
    read_all(reader, counts, stop).await;
}

async fn publisher(url: String, user: u64, room: u64, counts: Arc<Counts>, stop: Arc<AtomicBool>) {
    let (mut writer, reader) = connect_split(&url, user, None).await;
    let errors = [("id", "errors"), ("destination", "/user/queue/errors")];
    writer.send("SUBSCRIBE", &errors, "").await;
    let reading = tokio::spawn(read_all(reader, counts.clone(), stop.clone()));
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let body = format!(r#"{{"content":"flood {n} from {user}","channelId":"{room}"}}"#);
        let send = writer.send(
            "SEND",
            &[("destination", "/kafka/send-direct-message")],
            &body,
        );
        // A send the server does not take within a second is counted once it is taken.
        match tokio::time::timeout(Duration::from_secs(1), send).await {
            Ok(true) => {
                counts.sent.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
            Ok(false) => break,
            Err(_) => {}
        }
    }
    reading.abort();
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}

/// The server's own count of what its delivery waited for, dropped, skipped and filled.
async fn print_delivery_metrics(server: &TestServer) {
    let (_, _, metrics) = server.rest().get_text("/metrics").await;
    let wanted = [
        "stomp_publishes_delayed_total",
        "stomp_deliveries_dropped_total",
        "stomp_slow_consumers_total",
        "chat_delivery_skipped_total",
        "chat_delivery_late_total",
        "chat_delivery_filled_total",
    ];
    let figures: Vec<&str> = metrics
        .lines()
        .filter(|line| wanted.iter().any(|name| line.starts_with(name)))
        .collect();
    println!("server metrics: {}", figures.join("; "));
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let publishers: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let subscribers: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let server = TestServer::start_with(&[
        ("RUST_LOG", "warn,chat_server=info"),
        ("CHAT_LIMITS__WRITE_PER_SECOND", "100000000"),
        ("CHAT_LIMITS__WRITE_BURST", "100000000"),
        ("CHAT_LIMITS__ROOM_WRITE_PER_SECOND", "0"),
        ("CHAT_STOMP__MAX_CONNECTIONS_PER_ADDRESS", "0"),
    ]);
    let url = server.ws_url();
    let room = unique_id();
    let topic = format!("/topic/direct/{room}");
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));

    let mut tasks = Vec::new();
    for i in 0..subscribers {
        tasks.push(tokio::spawn(subscriber(
            url.clone(),
            10_000 + i,
            topic.clone(),
            counts.clone(),
            stop.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_start = server.rss_kib().unwrap_or(0);
    let cpu_start = cpu_seconds(server.pid());
    let before = counts.snapshot();
    let started = Instant::now();
    for i in 0..publishers {
        tasks.push(tokio::spawn(publisher(
            url.clone(),
            1 + i,
            room,
            counts.clone(),
            stop.clone(),
        )));
    }
    let mut peak = rss_start;
    let mut last = counts.snapshot();
    let mut last_at = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak = peak.max(server.rss_kib().unwrap_or(0));
        if last_at.elapsed() >= Duration::from_secs(5) {
            let now = counts.snapshot();
            let secs = last_at.elapsed().as_secs_f64();
            println!(
                "  t={:>4.0}s  sends/s {:>9.0}  deliveries/s {:>9.0}  overloaded {:>7}  lost {:>3}  rss {:>7} KiB",
                started.elapsed().as_secs_f64(),
                (now[0] - last[0]) as f64 / secs,
                (now[1] - last[1]) as f64 / secs,
                now[2],
                now[6],
                server.rss_kib().unwrap_or(0)
            );
            last = now;
            last_at = Instant::now();
        }
    }
    let window = started.elapsed().as_secs_f64();
    let after = counts.snapshot();
    let cpu = cpu_seconds(server.pid()) - cpu_start;
    stop.store(true, Ordering::Relaxed);
    let rss_end = server.rss_kib().unwrap_or(0);
    let d = |i: usize| after[i] - before[i];
    println!(
        "flood: {publishers} publishers, {subscribers} subscribers, {window:.1} s\n\
         sends taken {} ({:.0}/s); deliveries {} ({:.0}/s, {:.0}/s per subscriber)\n\
         refusals: overloaded {}, rate_limited {}, other {}; gaps {}; subscribers lost {}\n\
         server CPU {cpu:.1} s ({:.2} cores); RSS start {} MiB, peak {} MiB, end {} MiB",
        d(0),
        d(0) as f64 / window,
        d(1),
        d(1) as f64 / window,
        d(1) as f64 / window / subscribers.max(1) as f64,
        d(2),
        d(3),
        d(4),
        d(5),
        d(6),
        cpu / window,
        rss_start / 1024,
        peak / 1024,
        rss_end / 1024,
    );
    print_delivery_metrics(&server).await;
    for task in tasks {
        task.abort();
    }
}
