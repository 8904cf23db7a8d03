//! Load tool: many short STOMP sessions against a running server, each one TCP connect,
//! WebSocket upgrade, CONNECT to CONNECTED, SUBSCRIBE (with a receipt) to its RECEIPT, and
//! an end, `in_flight` of them at a time, each within `timeout_s` from its first SYN. Counts
//! the attempts that failed by the phase they were in, lists them (their local address names
//! them in the server's log, `peer=`), and prints the latency of each phase and how many
//! took a second or more. Asserts nothing about speed.
//!
//! `cargo run --release -p chat-tests --bin connect-storm -- <ws-url> [attempts]
//!  [in_flight] [timeout_s] [sources] [users] [end] [heart-beat]`, against a server started
//! separately (`ws://127.0.0.1:8080/my-chat/websocket`; tokens are signed with
//! `CHAT_JWT__SECRET`, else the development secret). Defaults: 100000 64 15 127.0.0.1 10000
//! disconnect 0,0. `sources`: the client sockets' source addresses (`127.0.0.1`, a list, or
//! `127.0.0.1+4`: four from it; `kernel`: connect as tokio-tungstenite's `connect_async`
//! does); attempt `i` is user `1 + i % users`, subscribing to a DM room of its own. `end`:
//! `disconnect` (DISCONNECT with a receipt, then the server's close), `drop` (the client
//! drops the TCP connection) or `hold` (every session stays open until the last attempt;
//! mind the descriptor limits). `heart-beat`: the CONNECT's header. Raise the server's caps
//! for the run (see the README).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_tests::load::{Sources, Target, latency_summary};
use chat_tests::{Frame, FrameLost, StompClient, unique_id};
use futures::StreamExt as _;

/// The steps of one attempt, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Tcp,
    Upgrade,
    Connected,
    Receipt,
    Close,
}

impl Phase {
    const ALL: [Self; 5] = [
        Self::Tcp,
        Self::Upgrade,
        Self::Connected,
        Self::Receipt,
        Self::Close,
    ];

    const fn name(self) -> &'static str {
        match self {
            Self::Tcp => "TCP connect",
            Self::Upgrade => "WebSocket upgrade",
            Self::Connected => "CONNECTED",
            Self::Receipt => "SUBSCRIBE RECEIPT",
            Self::Close => "end of the session",
        }
    }
}

/// What one attempt did.
struct Outcome {
    index: usize,
    local: Option<SocketAddr>,
    /// How long each phase completed took, in order.
    phases: Vec<Duration>,
    /// The phase it failed in, and why.
    failure: Option<(Phase, String)>,
    elapsed: Duration,
    /// The session, when the run holds them open.
    held: Option<StompClient>,
}

/// How an attempt that subscribed ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// DISCONNECT with a receipt, then the server closes the socket.
    Disconnect,
    /// The client drops the TCP connection without a word.
    Drop,
    /// The session stays open until every attempt is done.
    Hold,
}

/// One attempt's client and the clock of its phases.
struct Attempt {
    index: usize,
    started: Instant,
    deadline: tokio::time::Instant,
    phase_started: Instant,
    local: Option<SocketAddr>,
    phases: Vec<Duration>,
}

impl Attempt {
    fn left(&self) -> Duration {
        self.deadline
            .saturating_duration_since(tokio::time::Instant::now())
    }

    fn phase_done(&mut self) {
        let now = Instant::now();
        self.phases.push(now - self.phase_started);
        self.phase_started = now;
    }

    fn outcome(self, failure: Option<(Phase, String)>) -> Outcome {
        Outcome {
            index: self.index,
            local: self.local,
            phases: self.phases,
            failure,
            elapsed: self.started.elapsed(),
            held: None,
        }
    }
}

/// Waits for the frame `command` (with `receipt-id: receipt` if given); MESSAGE frames are
/// skipped, anything else is the failure.
async fn expect(
    client: &mut StompClient,
    within: Duration,
    command: &str,
    receipt: Option<&str>,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let frame: Frame = client.try_next_frame(left).await.map_err(lost)?;
        if frame.command == "MESSAGE" {
            continue;
        }
        if frame.command == command && receipt.is_none_or(|r| frame.header("receipt-id") == Some(r))
        {
            return Ok(());
        }
        return Err(format!(
            "got {} {}",
            frame.command,
            frame.header("message").unwrap_or_default()
        ));
    }
}

fn lost(lost: FrameLost) -> String {
    match lost {
        FrameLost::Timeout => "timed out".to_owned(),
        FrameLost::Closed(code) => format!("closed by the server ({code:?})"),
        FrameLost::Failed(error) => format!("socket error: {error}"),
    }
}

/// Runs the STOMP part of an attempt on an open WebSocket: the phase it failed in, if any.
async fn session(
    attempt: &mut Attempt,
    client: &mut StompClient,
    run: &Run,
    user: u64,
) -> Result<(), (Phase, String)> {
    let token = run.target.token(user);
    let user_id = user.to_string();
    let connect = stomp_frame(
        "CONNECT",
        &[
            ("accept-version", "1.1,1.2"),
            ("heart-beat", &run.heart_beat),
            ("access-token", &token),
            ("user-id", &user_id),
        ],
    );
    step(client, attempt.left(), connect, "CONNECTED", None)
        .await
        .map_err(|e| (Phase::Connected, e))?;
    attempt.phase_done();
    let destination = format!("/topic/direct/{}", unique_id());
    let subscribe = stomp_frame(
        "SUBSCRIBE",
        &[
            ("id", "room"),
            ("destination", &destination),
            ("receipt", "r-1"),
        ],
    );
    step(client, attempt.left(), subscribe, "RECEIPT", Some("r-1"))
        .await
        .map_err(|e| (Phase::Receipt, e))?;
    attempt.phase_done();
    Ok(())
}

/// Ends a subscribed session as the run asks: the session itself when it is held.
async fn finish(
    attempt: &mut Attempt,
    mut client: StompClient,
    end: End,
) -> Result<Option<StompClient>, (Phase, String)> {
    match end {
        End::Hold => return Ok(Some(client)),
        End::Drop => {
            client.drop_connection();
            attempt.phase_done();
            return Ok(None);
        }
        End::Disconnect => {}
    }
    let disconnect = stomp_frame("DISCONNECT", &[("receipt", "r-2")]);
    step(
        &mut client,
        attempt.left(),
        disconnect,
        "RECEIPT",
        Some("r-2"),
    )
    .await
    .map_err(|e| (Phase::Close, e))?;
    // The server closes the socket after the DISCONNECT's RECEIPT.
    match client.try_next_frame(attempt.left()).await {
        Err(FrameLost::Closed(_)) => {
            attempt.phase_done();
            Ok(None)
        }
        Err(other) => Err((Phase::Close, lost(other))),
        Ok(frame) => Err((
            Phase::Close,
            format!("got {} after the RECEIPT", frame.command),
        )),
    }
}

/// Sends `frame` and waits for its `reply`.
async fn step(
    client: &mut StompClient,
    within: Duration,
    frame: String,
    reply: &str,
    receipt: Option<&str>,
) -> Result<(), String> {
    client.try_send_raw(&frame).await?;
    expect(client, within, reply, receipt).await
}

fn stomp_frame(command: &str, headers: &[(&str, &str)]) -> String {
    let mut text = format!("{command}\n");
    for (name, value) in headers {
        text.push_str(name);
        text.push(':');
        text.push_str(value);
        text.push('\n');
    }
    text.push_str("\n\0");
    text
}

async fn attempt(index: usize, run: Arc<Run>, user: u64) -> Outcome {
    let started = Instant::now();
    let mut attempt = Attempt {
        index,
        started,
        deadline: tokio::time::Instant::now() + run.timeout,
        phase_started: started,
        local: None,
        phases: Vec::with_capacity(Phase::ALL.len()),
    };
    let stream =
        match tokio::time::timeout(attempt.left(), run.sources.connect(run.target.addr)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => return attempt.outcome(Some((Phase::Tcp, error.to_string()))),
            Err(_) => return attempt.outcome(Some((Phase::Tcp, "timed out".to_owned()))),
        };
    attempt.local = stream.local_addr().ok();
    attempt.phase_done();
    let opened = tokio::time::timeout(
        attempt.left(),
        StompClient::try_open_over(&run.target.url, stream),
    )
    .await;
    let mut client = match opened {
        Ok(Ok(client)) => client,
        Ok(Err(error)) => return attempt.outcome(Some((Phase::Upgrade, error))),
        Err(_) => return attempt.outcome(Some((Phase::Upgrade, "timed out".to_owned()))),
    };
    attempt.phase_done();
    if let Err(failure) = session(&mut attempt, &mut client, &run, user).await {
        return attempt.outcome(Some(failure));
    }
    match finish(&mut attempt, client, run.end).await {
        Ok(held) => Outcome {
            held,
            ..attempt.outcome(None)
        },
        Err(failure) => attempt.outcome(Some(failure)),
    }
}

/// What every attempt of a run shares.
struct Run {
    target: Target,
    sources: Sources,
    timeout: Duration,
    end: End,
    /// The CONNECT's `heart-beat` header.
    heart_beat: String,
}

struct Args {
    run: Arc<Run>,
    attempts: usize,
    in_flight: usize,
    users: u64,
}

fn args() -> Args {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect(
        "usage: connect-storm <ws-url> [attempts] [in_flight] [timeout_s] [sources] [users] [end] [heart-beat]",
    );
    let mut number = |default: u64| {
        args.next()
            .map_or(default, |a| a.parse().expect("a number"))
    };
    let attempts = number(100_000) as usize;
    let in_flight = number(64) as usize;
    let timeout = Duration::from_secs(number(15));
    let sources = Sources::parse(&args.next().unwrap_or_else(|| "127.0.0.1".to_owned()));
    let users = args.next().map_or(10_000, |a| a.parse().expect("a number"));
    let end = match args.next().as_deref() {
        None | Some("disconnect") => End::Disconnect,
        Some("drop") => End::Drop,
        Some("hold") => End::Hold,
        Some(other) => panic!("`{other}`: end with disconnect, drop or hold"),
    };
    let heart_beat = args.next().unwrap_or_else(|| "0,0".to_owned());
    Args {
        run: Arc::new(Run {
            target: Target::parse(&url),
            sources,
            timeout,
            end,
            heart_beat,
        }),
        attempts,
        in_flight,
        users,
    }
}

fn report(args: &Args, mut outcomes: Vec<Outcome>, wall: Duration) {
    outcomes.sort_by_key(|o| o.index);
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    println!(
        "{} attempts, {} in flight, timeout {:?}, from {}: {} succeeded, {} failed, in {:.1} s ({:.0} attempts/s)",
        outcomes.len(),
        args.in_flight,
        args.run.timeout,
        args.run.sources.describe(),
        outcomes.len() - failed.len(),
        failed.len(),
        wall.as_secs_f64(),
        outcomes.len() as f64 / wall.as_secs_f64()
    );
    for (at, phase) in Phase::ALL.iter().enumerate() {
        let failures = failed
            .iter()
            .filter(|o| o.failure.as_ref().is_some_and(|(p, _)| p == phase))
            .count();
        let mut took: Vec<Duration> = outcomes
            .iter()
            .filter_map(|o| o.phases.get(at).copied())
            .collect();
        let slow = took
            .iter()
            .filter(|d| **d >= Duration::from_secs(1))
            .count();
        println!(
            "  {:<22} failed {failures:>6}; took {}; {slow} took 1 s or more",
            phase.name(),
            latency_summary(&mut took)
        );
    }
    let mut subscribed: Vec<Duration> = outcomes
        .iter()
        .filter(|o| {
            o.phases.len()
                > Phase::ALL
                    .iter()
                    .position(|p| *p == Phase::Receipt)
                    .unwrap()
        })
        .map(|o| o.phases.iter().take(4).sum())
        .collect();
    let mut whole: Vec<Duration> = outcomes
        .iter()
        .filter(|o| o.failure.is_none())
        .map(|o| o.elapsed)
        .collect();
    println!(
        "  connect to SUBSCRIBE RECEIPT: {}",
        latency_summary(&mut subscribed)
    );
    println!(
        "  whole attempt:                {}",
        latency_summary(&mut whole)
    );
    for outcome in failed.iter().take(50) {
        let (phase, why) = outcome.failure.as_ref().expect("a failure");
        println!(
            "  failed: attempt {} from {} in {} after {:.3} s: {why}",
            outcome.index,
            outcome
                .local
                .map_or_else(|| "?".to_owned(), |a| a.to_string()),
            phase.name(),
            outcome.elapsed.as_secs_f64()
        );
    }
}

#[tokio::main]
async fn main() {
    let args = args();
    let started = Instant::now();
    let mut outcomes = Vec::with_capacity(args.attempts);
    let mut attempts = futures::stream::iter(0..args.attempts)
        .map(|i| {
            let user = 1 + i as u64 % args.users;
            tokio::spawn(attempt(i, args.run.clone(), user))
        })
        .buffer_unordered(args.in_flight);
    while let Some(outcome) = attempts.next().await {
        outcomes.push(outcome.expect("an attempt task"));
        if outcomes.len() % 10_000 == 0 {
            let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
            eprintln!(
                "{} attempts in {:.1} s, {failed} failed",
                outcomes.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    let wall = started.elapsed();
    let held = outcomes.iter().filter(|o| o.held.is_some()).count();
    report(&args, outcomes, wall);
    if held > 0 {
        println!("  ({held} sessions were held open until every attempt was done)");
    }
}
