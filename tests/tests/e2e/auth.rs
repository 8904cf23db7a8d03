//! CONNECT: bad, expired and missing tokens, and a `user-id` that is not the token's.

use chat_tests::{StompClient, TestServer, expired_token, token, token_signed_with};
use serde_json::json;

async fn assert_refused(server: &TestServer, token: &str, user_id: &str, reason: &str) {
    let (mut client, reply) = StompClient::try_connect(&server.ws_url(), token, user_id).await;
    assert_eq!(reply.command, "ERROR", "{reply:?}");
    assert_eq!(reply.header("message"), Some("connect refused"));
    assert!(
        reply.body.contains(reason),
        "`{}` should say `{reason}`",
        reply.body
    );
    client.expect_closed().await;
}

#[tokio::test]
async fn a_malformed_token_gets_an_error_frame_with_a_reason_then_the_socket_closes() {
    let server = TestServer::start();
    assert_refused(&server, "not-a-jwt", "1", "malformed").await;
}

#[tokio::test]
async fn an_expired_token_gets_an_error_frame_with_a_reason_then_the_socket_closes() {
    let server = TestServer::start();
    assert_refused(&server, &expired_token(1), "1", "expired").await;
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_refused() {
    let server = TestServer::start();
    let forged = token_signed_with(
        "guessed",
        &json!({"sub": "x", "id": 1, "exp": 9_999_999_999_u64}),
    );
    assert_refused(&server, &forged, "1", "signature").await;
}

#[tokio::test]
async fn a_missing_token_is_refused() {
    let server = TestServer::start();
    let mut client = StompClient::open(&server.ws_url()).await;
    client
        .send(
            "CONNECT",
            &[("accept-version", "1.2"), ("user-id", "1")],
            "",
        )
        .await;
    let reply = client.next_frame().await;
    assert_eq!(reply.command, "ERROR");
    assert!(reply.body.contains("no access token"), "{}", reply.body);
    client.expect_closed().await;
}

#[tokio::test]
async fn a_user_id_that_differs_from_the_token_is_refused() {
    let server = TestServer::start();
    assert_refused(&server, &token(2, "bob"), "1", "does not match").await;
}

#[tokio::test]
async fn a_bearer_authorization_header_is_accepted() {
    let server = TestServer::start();
    let mut client = StompClient::open(&server.ws_url()).await;
    let bearer = format!("Bearer {}", token(4, "dana"));
    client
        .send(
            "CONNECT",
            &[("accept-version", "1.2"), ("Authorization", &bearer)],
            "",
        )
        .await;
    let reply = client.next_frame().await;
    assert_eq!(reply.command, "CONNECTED", "{reply:?}");
    assert_eq!(reply.header("user-name"), Some("4"));
}

#[tokio::test]
async fn a_refused_connect_creates_no_presence() {
    let server = TestServer::start();
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("errors", "/user/queue/errors").await;

    let (mut mallory, _) = StompClient::try_connect(&server.ws_url(), &expired_token(1), "1").await;
    mallory.expect_closed().await;

    // Log lines arrive in order: once mallory's refusal is in, so is anything before it.
    server.wait_for_log_lines("connect refused", 1);
    assert_eq!(
        server.log_lines_containing("session opened").len(),
        1,
        "only bob's session opened"
    );
}
