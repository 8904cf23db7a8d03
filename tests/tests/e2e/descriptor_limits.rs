//! A server low on file descriptors: it refuses connections over `stomp.max_connections`
//! (derived from its descriptor limit) with 503 before it runs out, and when it does run
//! out (the cap configured too high) it logs the accept errors and rests between them,
//! serving the sessions it has instead of spinning a core.

use std::time::{Duration, Instant};

use chat_tests::{StompClient, TestServer, unique_id};
use serde_json::json;

/// The descriptor limit the servers here run under (soft and hard).
const LIMIT: u32 = 256;
/// What `stomp.max_connections` is derived as under [`LIMIT`]: the limit less a
/// reserve of a tenth of it, at least 256 but at most half.
const DERIVED_MAX: usize = 128;

/// The `unlogged` count of a JSON log line.
fn unlogged(line: &str) -> u64 {
    let line: serde_json::Value = serde_json::from_str(line).expect("a JSON log line");
    line["unlogged"]
        .as_u64()
        .or_else(|| line["fields"]["unlogged"].as_u64())
        .unwrap_or_else(|| panic!("no unlogged count: {line}"))
}

#[tokio::test]
async fn a_server_at_a_low_descriptor_limit_refuses_sockets_over_its_derived_cap_with_503() {
    let server = TestServer::start_with_descriptor_limit(
        LIMIT,
        &[
            // The sockets below stay open without CONNECT for the whole test.
            ("CHAT_STOMP__CONNECT_TIMEOUT_MS", "120000"),
            ("CHAT_STOMP__MAX_CONNECTIONS_PER_ADDRESS", "0"),
        ],
    );
    let limit_line = server.wait_for_log_lines("file-descriptor limit", 1);
    assert!(
        limit_line
            .iter()
            .any(|l| l.contains(&format!("\"soft\":{LIMIT}")) && l.contains("\"hard\"")),
        "the start-up log gives the limit: {limit_line:?}"
    );
    let cap_line = server.wait_for_log_lines("connection limit (derived", 1);
    assert!(
        cap_line
            .iter()
            .any(|l| l.contains(&format!("\"max_connections\":{DERIVED_MAX}"))),
        "the start-up log gives the cap: {cap_line:?}"
    );
    let mut open = Vec::with_capacity(DERIVED_MAX);
    for _ in 0..DERIVED_MAX {
        open.push(StompClient::open(&server.ws_url()).await);
    }

    let websocket = StompClient::try_open(&server.ws_url()).await.map(drop);
    let sockjs = reqwest::Client::new()
        .post(format!(
            "{}/my-chat/000/{}/xhr",
            server.http_url(),
            unique_id()
        ))
        .send()
        .await
        .expect("HTTP")
        .status();

    assert_eq!(websocket, Err(503), "a WebSocket over the cap");
    assert_eq!(sockjs.as_u16(), 503, "a SockJS session over the cap");
    let refused = server.wait_for_log_lines("at its connection limit", 1);
    assert!(
        refused
            .iter()
            .any(|l| l.contains("max_connections") && l.contains("WARN")),
        "{refused:?}"
    );
    let (_, _, metrics) = server.rest().get_text("/metrics").await;
    assert!(
        metrics.contains(r#"stomp_connections_refused_total{reason="max_connections"} 2"#),
        "{metrics}"
    );
    drop(open.pop());
    let mut again = None;
    for _ in 0..50 {
        if let Ok(client) = StompClient::try_open(&server.ws_url()).await {
            again = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "a closed socket frees its place");
}

#[tokio::test]
async fn out_of_descriptors_the_server_logs_accept_errors_and_keeps_serving_without_spinning() {
    let server = TestServer::start_with_descriptor_limit(
        LIMIT,
        &[
            // Above what the limit allows: clients past the descriptors meet accept errors.
            ("CHAT_STOMP__MAX_CONNECTIONS", "100000"),
            ("CHAT_STOMP__MAX_CONNECTIONS_PER_ADDRESS", "0"),
        ],
    );
    assert!(
        !server
            .wait_for_log_lines("configured above what the file-descriptor limit", 1)
            .is_empty(),
        "a cap above the room the limit leaves is warned about at start"
    );
    let room = unique_id();
    let topic = format!("/topic/direct/{room}");
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice.subscribe("room", &topic).await;

    // Plain TCP connections that never send a request: each accepted one holds a
    // descriptor, and the rest wait in the listen queue while accepting fails.
    let flood_started = Instant::now();
    let mut flood = Vec::new();
    for _ in 0..(LIMIT + 100) {
        flood.push(
            tokio::net::TcpStream::connect(server.http_url().trim_start_matches("http://"))
                .await
                .expect("the kernel completes the handshake"),
        );
    }
    let logged = server.wait_for_log_lines("cannot accept a connection", 1);
    assert!(!logged.is_empty(), "accept errors are logged");
    let cpu_before = server.cpu_seconds().expect("/proc readable");
    let started = Instant::now();
    let mut delivered = 0;
    while started.elapsed() < Duration::from_secs(3) {
        alice
            .send_json(
                "/kafka/send-direct-message",
                &json!({"content": format!("still here {delivered}"), "channelId": room.to_string()}),
            )
            .await;
        alice.next_event_on(&topic).await;
        delivered += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cpu = server.cpu_seconds().expect("/proc readable") - cpu_before;
    let share_of_a_core = cpu / started.elapsed().as_secs_f64();

    assert!(delivered >= 10, "the open session is served: {delivered}");
    // A spinning accept loop measured 0.5 of a core here on a busy 2-core machine (and
    // some 100,000 errors a second); resting between errors, under 0.01.
    assert!(
        share_of_a_core < 0.25,
        "the server rests between accept errors instead of spinning: {share_of_a_core:.2} of a core"
    );
    let lines = server.log_lines_containing("cannot accept a connection");
    let seconds = flood_started.elapsed().as_secs();
    assert!(
        u64::try_from(lines.len()).unwrap() <= seconds + 1,
        "at most one line a second: {} lines in {seconds} s",
        lines.len()
    );
    for line in &lines {
        let unlogged = unlogged(line);
        assert!(
            unlogged < 50,
            "a pause after each error: about 10 errors a second, not {unlogged}: {line}"
        );
    }
    drop(flood);
    let mut bob = None;
    for _ in 0..100 {
        if let Ok(client) = StompClient::try_open(&server.ws_url()).await {
            bob = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        bob.is_some(),
        "once descriptors are free, the server accepts again"
    );
}
