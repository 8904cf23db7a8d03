//! Load tool: what idle STOMP connections cost one running server. Opens `connections`
//! sessions (CONNECT without heart-beats, then one SUBSCRIBE with a receipt to a DM room of
//! its own), `in_flight` at a time, holds them all open, and prints the setup time, the
//! server's resident memory per connection (`VmRSS` of `/proc/<pid>/status` before and
//! after), its CPU time while they idle for `idle_s` seconds (`utime + stime` of
//! `/proc/<pid>/stat`), and the sessions that could not be opened, by phase. Asserts
//! nothing about speed.
//!
//! `cargo run --release -p chat-tests --bin idle-connections -- <ws-url> <server-pid>
//!  [connections] [in_flight] [sources] [idle_s]`, against a server started separately on
//! this machine (`pid`: its process id; tokens are signed with `CHAT_JWT__SECRET`, else the
//! development secret). The client sockets take source ports from 10,000 up (~55,000 per
//! address): give several source addresses for more connections (`127.0.0.1+4`: 127.0.0.1
//! to 127.0.0.4), and raise the descriptor limit
//! of both processes (`ulimit -n`) and the server's per-address cap for the run (see the
//! README).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_tests::load::{Sources, Target, cpu_time, latency_summary, open_files_limit, rss_kib};
use chat_tests::{FrameLost, StompClient, unique_id};
use futures::StreamExt as _;

/// How long one session may take to open.
const PATIENCE: Duration = Duration::from_secs(30);

/// The phase a session failed to open in, and why.
type Failure = (&'static str, String);

/// Opens one idle session: CONNECT, then SUBSCRIBE with a receipt.
async fn open(
    target: Arc<Target>,
    sources: Arc<Sources>,
    user: u64,
) -> Result<(StompClient, Duration), Failure> {
    let started = Instant::now();
    let stream = sources
        .connect(target.addr)
        .await
        .map_err(|e| ("TCP connect", e.to_string()))?;
    let mut client = StompClient::try_open_over(&target.url, stream)
        .await
        .map_err(|e| ("WebSocket upgrade", e))?;
    let token = target.token(user);
    let connect = format!(
        "CONNECT\naccept-version:1.1,1.2\nheart-beat:0,0\naccess-token:{token}\nuser-id:{user}\n\n\0"
    );
    exchange(&mut client, &connect, "CONNECTED")
        .await
        .map_err(|e| ("CONNECTED", e))?;
    let subscribe = format!(
        "SUBSCRIBE\nid:room\ndestination:/topic/direct/{}\nreceipt:r-1\n\n\0",
        unique_id()
    );
    exchange(&mut client, &subscribe, "RECEIPT")
        .await
        .map_err(|e| ("SUBSCRIBE RECEIPT", e))?;
    Ok((client, started.elapsed()))
}

/// Sends `frame` and expects `reply` as the next frame.
async fn exchange(client: &mut StompClient, frame: &str, reply: &str) -> Result<(), String> {
    client.try_send_raw(frame).await?;
    match client.try_next_frame(PATIENCE).await {
        Ok(frame) if frame.command == reply => Ok(()),
        Ok(frame) => Err(format!(
            "got {} {}",
            frame.command,
            frame.header("message").unwrap_or_default()
        )),
        Err(FrameLost::Timeout) => Err("timed out".to_owned()),
        Err(FrameLost::Closed(code)) => Err(format!("closed by the server ({code:?})")),
        Err(FrameLost::Failed(error)) => Err(format!("socket error: {error}")),
    }
}

struct Args {
    target: Target,
    pid: u32,
    connections: usize,
    in_flight: usize,
    sources: Arc<Sources>,
    idle: Duration,
}

fn args() -> Args {
    let usage = "usage: idle-connections <ws-url> <server-pid> [connections] [in_flight] [sources] [idle_s]";
    let mut args = std::env::args().skip(1);
    let url = args.next().expect(usage);
    let pid = args.next().expect(usage).parse().expect("a process id");
    let connections = args.next().map_or(10_000, |a| a.parse().expect("a number"));
    let in_flight = args.next().map_or(256, |a| a.parse().expect("a number"));
    let sources = Arc::new(Sources::parse(
        &args.next().unwrap_or_else(|| "127.0.0.1".to_owned()),
    ));
    let idle = Duration::from_secs(args.next().map_or(10, |a| a.parse().expect("a number")));
    Args {
        target: Target::parse(&url),
        pid,
        connections,
        in_flight,
        sources,
        idle,
    }
}

/// Opens every session; the open ones, how long each took, and the failures by phase.
async fn open_all(args: &Args) -> (Vec<StompClient>, Vec<Duration>, Vec<Failure>) {
    let target = Arc::new(args.target.clone());
    let started = Instant::now();
    let mut opening = futures::stream::iter(0..args.connections)
        .map(|i| {
            let sources = args.sources.clone();
            let target = target.clone();
            tokio::spawn(async move {
                tokio::time::timeout(PATIENCE, open(target, sources, 1 + i as u64))
                    .await
                    .unwrap_or_else(|_| Err(("whole session", "timed out".to_owned())))
            })
        })
        .buffer_unordered(args.in_flight);
    let mut clients = Vec::with_capacity(args.connections);
    let mut took = Vec::with_capacity(args.connections);
    let mut failures = Vec::new();
    let mut done = 0;
    while let Some(opened) = opening.next().await {
        match opened.expect("an opening task") {
            Ok((client, time)) => {
                clients.push(client);
                took.push(time);
            }
            Err(failure) => failures.push(failure),
        }
        done += 1;
        if done % 10_000 == 0 {
            eprintln!(
                "{done} opened in {:.1} s, {} failed",
                started.elapsed().as_secs_f64(),
                failures.len()
            );
        }
    }
    (clients, took, failures)
}

#[tokio::main]
async fn main() {
    let args = args();
    let pid = args.pid;
    println!(
        "server pid {pid}: open files limit {:?}; {} connection(s) from {}, {} in flight",
        open_files_limit(pid),
        args.connections,
        args.sources.describe(),
        args.in_flight
    );
    let rss_before = rss_kib(pid).expect("the server's /proc/<pid>/status");
    let cpu_before_setup = cpu_time(pid).expect("the server's /proc/<pid>/stat");
    let started = Instant::now();
    let (clients, mut took, failures) = open_all(&args).await;
    let setup = started.elapsed();
    let setup_cpu = cpu_time(pid)
        .expect("the server's /proc/<pid>/stat")
        .saturating_sub(cpu_before_setup);
    println!(
        "setup: {} open in {:.1} s ({:.0} sessions/s, server CPU {:.1} s); per session {}",
        clients.len(),
        setup.as_secs_f64(),
        clients.len() as f64 / setup.as_secs_f64(),
        setup_cpu.as_secs_f64(),
        latency_summary(&mut took)
    );
    let mut by_phase: BTreeMap<&str, (usize, String)> = BTreeMap::new();
    for (phase, why) in failures {
        by_phase.entry(phase).or_insert((0, why)).0 += 1;
    }
    for (phase, (count, example)) in &by_phase {
        println!("  failed in {phase}: {count} (e.g. {example})");
    }
    // Let the server finish what the last sessions started before measuring it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss_kib(pid).expect("the server's /proc/<pid>/status");
    println!(
        "server RSS: {rss_before} KiB before, {rss_after} KiB with {} open = {:.1} KiB per connection",
        clients.len(),
        rss_after.saturating_sub(rss_before) as f64 / clients.len().max(1) as f64
    );
    let cpu_before = cpu_time(pid).expect("the server's /proc/<pid>/stat");
    let idle_started = Instant::now();
    tokio::time::sleep(args.idle).await;
    let cpu = cpu_time(pid)
        .expect("the server's /proc/<pid>/stat")
        .saturating_sub(cpu_before);
    let wall = idle_started.elapsed();
    println!(
        "server CPU while idle: {:.3} s over {:.1} s = {:.2}% of one core",
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    );
    println!(
        "client RSS: {} KiB",
        rss_kib(std::process::id()).unwrap_or(0)
    );
    // Dropped without DISCONNECT: closing 100,000 sockets politely is not what is measured.
    drop(clients);
}
