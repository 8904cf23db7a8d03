//! Load tool: more clients than the server has file descriptors for. Starts the server
//! under a descriptor limit, opens `clients` STOMP connections (WebSocket + CONNECT,
//! `in_flight` at a time, each given `timeout_s` to get CONNECTED) and keeps the ones that
//! got in; prints how many connected, were refused (by HTTP status) or timed out, the
//! server's CPU time during the setup and during 10 s idle afterwards, and its log lines
//! about refusals and accept errors. Prints figures; asserts nothing.
//!
//! `cargo run --release -p chat-tests --bin connect-flood -- [limit] [clients] [in_flight] [timeout_s]`
//! (defaults 2000 3000 256 10). `CHAT_TEST_SERVER_BIN` names the server binary to measure
//! (to compare two builds). Talks only to the server it starts on 127.0.0.1.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::cast_precision_loss)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chat_tests::{TestServer, token};
use futures::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::{Error, Message};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How one client fared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Connected,
    Refused(u16),
    TimedOut,
    Failed(String),
}

/// Opens the WebSocket and sends CONNECT; the socket when CONNECTED came back.
async fn connect(url: &str, user: u64) -> Result<Socket, Outcome> {
    let mut request = url.into_client_request().expect("valid URL");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "v12.stomp".parse().expect("header"),
    );
    let (mut ws, _) = match tokio_tungstenite::connect_async(request).await {
        Ok(opened) => opened,
        Err(Error::Http(response)) => return Err(Outcome::Refused(response.status().as_u16())),
        Err(error) => return Err(Outcome::Failed(error.to_string())),
    };
    let frame = format!(
        "CONNECT\naccept-version:1.2\nheart-beat:0,0\naccess-token:{}\nuser-id:{user}\n\n\0",
        token(user, &format!("user{user}"))
    );
    ws.send(Message::Text(frame.into()))
        .await
        .map_err(|error| Outcome::Failed(error.to_string()))?;
    match ws.next().await {
        Some(Ok(Message::Text(text))) if text.starts_with("CONNECTED") => Ok(ws),
        Some(Ok(other)) => Err(Outcome::Failed(format!("{:.40}", other.to_string()))),
        Some(Err(error)) => Err(Outcome::Failed(error.to_string())),
        None => Err(Outcome::Failed("closed".to_owned())),
    }
}

fn arg(args: &[String], at: usize, default: u64) -> u64 {
    args.get(at).and_then(|a| a.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let limit = u32::try_from(arg(&args, 0, 2000)).expect("a descriptor limit");
    let clients = arg(&args, 1, 3000);
    let in_flight = usize::try_from(arg(&args, 2, 256)).expect("in flight");
    let timeout = Duration::from_secs(arg(&args, 3, 10));
    let server = TestServer::start_with_descriptor_limit(
        limit,
        // Every client comes from 127.0.0.1.
        &[("CHAT_STOMP__MAX_CONNECTIONS_PER_ADDRESS", "0")],
    );
    let url = server.ws_url();
    let cpu_at_start = server.cpu_seconds().unwrap_or(0.0);
    let started = Instant::now();
    let outcomes: Vec<(Outcome, Option<Socket>)> = futures::stream::iter(0..clients)
        .map(|n| {
            let url = url.clone();
            async move {
                match tokio::time::timeout(timeout, connect(&url, 100_000 + n)).await {
                    Ok(Ok(socket)) => (Outcome::Connected, Some(socket)),
                    Ok(Err(outcome)) => (outcome, None),
                    Err(_) => (Outcome::TimedOut, None),
                }
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let setup = started.elapsed();
    let cpu_setup = server.cpu_seconds().unwrap_or(0.0) - cpu_at_start;
    let mut counts: BTreeMap<Outcome, usize> = BTreeMap::new();
    for (outcome, _) in &outcomes {
        *counts.entry(outcome.clone()).or_default() += 1;
    }
    println!(
        "setup: {clients} clients under a descriptor limit of {limit} in {:.1} s; server CPU {cpu_setup:.2} s ({:.2} of a core)",
        setup.as_secs_f64(),
        cpu_setup / setup.as_secs_f64()
    );
    for (outcome, count) in &counts {
        println!("  {outcome:?}: {count}");
    }

    let cpu_before_idle = server.cpu_seconds().unwrap_or(0.0);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let cpu_idle = server.cpu_seconds().unwrap_or(0.0) - cpu_before_idle;
    println!(
        "idle: 10 s with {} connections held; server CPU {cpu_idle:.2} s ({:.2} of a core)",
        counts.get(&Outcome::Connected).copied().unwrap_or(0),
        cpu_idle / 10.0
    );
    let all = server.log_lines_containing("");
    let mut by_message: BTreeMap<String, usize> = BTreeMap::new();
    for line in &all {
        let message = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|line| line["message"].as_str().map(str::to_owned))
            .unwrap_or_default();
        *by_message.entry(message).or_default() += 1;
    }
    let mut by_message: Vec<_> = by_message.into_iter().collect();
    by_message.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    println!("log lines in all: {}; most frequent:", all.len());
    for (message, count) in by_message.iter().take(5) {
        println!("  {count} x {message:.100}");
    }
    for needle in [
        r#""message":"file-descriptor limit""#,
        r#""message":"connection limit"#,
        "at its connection limit",
        "connection refused over a cap",
        "cannot accept a connection",
    ] {
        let lines = server.log_lines_containing(needle);
        println!("log lines containing {needle:?}: {}", lines.len());
        for line in lines.iter().take(2) {
            println!("    {line:.300}");
        }
    }
    drop(outcomes);
}
