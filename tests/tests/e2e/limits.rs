//! Bounded abuse on the socket side: connection caps, the SUBSCRIBE allowance, and
//! sessions that keep provoking refusals. Each limit answers with a clear refusal.

use chat_tests::{StompClient, TestServer, token, unique_id};
use serde_json::json;

const ERRORS: &str = "/user/queue/errors";

#[tokio::test]
async fn a_socket_over_the_per_address_cap_is_refused_with_429_until_one_closes() {
    let server = TestServer::start_with(&[("CHAT_STOMP__MAX_CONNECTIONS_PER_ADDRESS", "2")]);
    let first = StompClient::connect(&server.ws_url(), 1, "alice").await;
    let _second = StompClient::open(&server.ws_url()).await;

    let refused = StompClient::try_open(&server.ws_url()).await.map(drop);

    assert_eq!(refused, Err(429));
    first.disconnect().await;
    let mut again = None;
    for _ in 0..50 {
        if let Ok(client) = StompClient::try_open(&server.ws_url()).await {
            again = Some(client);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "a closed socket frees its place");
}

#[tokio::test]
async fn sockets_that_never_connect_are_capped_with_503() {
    let server = TestServer::start_with(&[("CHAT_STOMP__MAX_UNAUTHENTICATED", "1")]);
    let _idle = StompClient::open(&server.ws_url()).await;

    let refused = StompClient::try_open(&server.ws_url()).await.map(drop);

    assert_eq!(refused, Err(503));
}

#[tokio::test]
async fn a_session_over_the_per_user_cap_gets_an_error_frame_and_no_session() {
    let server = TestServer::start_with(&[("CHAT_STOMP__MAX_CONNECTIONS_PER_USER", "1")]);
    let _first = StompClient::connect(&server.ws_url(), 1, "alice").await;

    let (mut second, reply) =
        StompClient::try_connect(&server.ws_url(), &token(1, "alice"), "1").await;

    assert_eq!(reply.command, "ERROR", "{reply:?}");
    assert_eq!(reply.header("message"), Some("too many connections"));
    assert_eq!(second.expect_closed().await, Some(1008));
    let _other_user = StompClient::connect(&server.ws_url(), 2, "bob").await;
}

#[tokio::test]
async fn a_subscribe_flood_hits_the_allowance_with_a_rate_limited_refusal() {
    let server = TestServer::start_with(&[
        ("CHAT_LIMITS__SUBSCRIBE_BURST", "3"),
        ("CHAT_LIMITS__SUBSCRIBE_PER_SECOND", "0.01"),
    ]);
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice.subscribe("errors", ERRORS).await;
    for n in 0..3 {
        alice
            .try_subscribe(&format!("s{n}"), &format!("/topic/direct/{}", unique_id()))
            .await
            .expect("within the allowance");
    }

    let refusal = alice
        .try_subscribe("s3", &format!("/topic/direct/{}", unique_id()))
        .await
        .expect_err("over the allowance");

    assert_eq!(refusal["code"], "rate_limited", "{refusal}");
}

#[tokio::test]
async fn a_session_that_keeps_provoking_refusals_is_closed_with_an_error() {
    let server = TestServer::start_with(&[("CHAT_STOMP__REFUSAL_BURST", "5")]);
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice.subscribe("errors", ERRORS).await;
    let long = format!("/nowhere/{}", "x".repeat(8000));

    for _ in 0..5 {
        let refusal = alice
            .try_send_json(&long, &json!({}))
            .await
            .expect_err("refused");
        assert_eq!(refusal["code"], "unknown_destination");
    }
    alice.send_json_unconfirmed(&long, &json!({})).await;
    let error = alice.next_frame().await;

    assert_eq!(error.command, "ERROR", "{error:?}");
    assert_eq!(error.header("message"), Some("too many refusals"));
    assert_eq!(alice.expect_closed().await, Some(1008));
    let logged = server.wait_for_log_lines("request refused", 5);
    assert!(
        logged.iter().all(|line| line.len() < 2048),
        "long destinations are cut short in the log"
    );
}

#[tokio::test]
async fn sockjs_sessions_over_the_cap_are_refused_with_503() {
    let server = TestServer::start_with(&[("CHAT_STOMP__SOCKJS__MAX_SESSIONS", "1")]);
    let http = reqwest::Client::new();
    let open = |session: &str| {
        http.post(format!("{}/my-chat/000/{session}/xhr", server.http_url()))
            .send()
    };

    let first = open("first").await.expect("HTTP").status();
    let second = open("second").await.expect("HTTP").status();
    let first_again = open("first").await.expect("HTTP").status();

    assert_eq!(first.as_u16(), 200);
    assert_eq!(second.as_u16(), 503);
    assert_eq!(first_again.as_u16(), 200, "the open session still answers");
}
