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

use chat_tests::{TestServer, token, unique_id};
use futures::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

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

async fn open(url: &str, user: u64) -> Socket {
    let mut request = url.into_client_request().expect("valid URL");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "v12.stomp".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("WebSocket handshake");
    let connect = format!(
        "CONNECT\naccept-version:1.2\nheart-beat:0,0\naccess-token:{}\n\n\0",
        token(user, &format!("user{user}"))
    );
    ws.send(Message::text(connect)).await.expect("CONNECT");
    let reply = ws.next().await.expect("reply").expect("frame");
    assert!(reply.to_text().unwrap_or("").starts_with("CONNECTED"));
    ws
}

/// Counts what a connection reads until the run stops: MESSAGE frames on the room, error
/// queue refusals by code, `gap` events, and an ERROR frame or close as a lost connection.
async fn read_all(
    mut reader: futures::stream::SplitStream<Socket>,
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
) {
    while let Some(Ok(frame)) = reader.next().await {
        let Ok(text) = frame.to_text() else { continue };
        if text.starts_with("MESSAGE") {
            if text.contains("/user/queue/errors") {
                let counter = if text.contains("\"overloaded\"") {
                    &counts.overloaded
                } else if text.contains("\"rate_limited\"") {
                    &counts.rate_limited
                } else {
                    &counts.other_errors
                };
                counter.fetch_add(1, Ordering::Relaxed);
            } else if text.contains("\"type\":\"gap\"") {
                counts.gaps.fetch_add(1, Ordering::Relaxed);
            } else {
                counts.delivered.fetch_add(1, Ordering::Relaxed);
            }
        } else if text.starts_with("ERROR") {
            if !stop.load(Ordering::Relaxed) {
                counts.lost.fetch_add(1, Ordering::Relaxed);
                eprintln!(
                    "ERROR frame: {}",
                    text.lines().take(4).collect::<Vec<_>>().join(" | ")
                );
            }
            return;
        }
        if stop.load(Ordering::Relaxed) {
            return;
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
    let mut ws = open(&url, user).await;
    let subscribe = format!("SUBSCRIBE\nid:room\ndestination:{topic}\nreceipt:s\n\n\0");
    ws.send(Message::text(subscribe)).await.expect("SUBSCRIBE");
    let (_writer, reader) = ws.split();
    read_all(reader, counts, stop).await;
}

async fn publisher(url: String, user: u64, room: u64, counts: Arc<Counts>, stop: Arc<AtomicBool>) {
    let mut ws = open(&url, user).await;
    ws.send(Message::text(
        "SUBSCRIBE\nid:errors\ndestination:/user/queue/errors\n\n\0".to_owned(),
    ))
    .await
    .expect("SUBSCRIBE errors");
    let (mut writer, reader) = ws.split();
    let reading = tokio::spawn(read_all(reader, counts.clone(), stop.clone()));
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let body = format!(r#"{{"content":"flood {n} from {user}","channelId":"{room}"}}"#);
        let frame = format!(
            "SEND\ndestination:/kafka/send-direct-message\ncontent-length:{}\n\n{body}\0",
            body.len()
        );
        // A send that the server does not take within a second is counted once it is taken.
        match tokio::time::timeout(Duration::from_secs(1), writer.send(Message::text(frame))).await
        {
            Ok(Ok(())) => {
                counts.sent.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
            Ok(Err(_)) => break,
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
    for task in tasks {
        task.abort();
    }
}
