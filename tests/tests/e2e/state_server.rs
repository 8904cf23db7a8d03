//! The chat server pointed at a state server over TCP (a fake that speaks the
//! seed's line protocol): sessions, locations and voice reach it, and chat goes
//! on when it is down.

use chat_tests::{FakeStateServer, StompClient, TestServer, unique_id};
use serde_json::json;

#[tokio::test]
async fn sessions_locations_and_voice_reach_the_state_server_in_the_seeds_format() {
    let state = FakeStateServer::start().await;
    let server = TestServer::start_with(&[("CHAT_STATE_SERVER__ADDRESS", &state.address())]);
    let community = unique_id();
    let topic = format!("/topic/community/{community}");
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("c", &topic).await;
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;

    alice
        .send_json(
            "/kafka/join-channel",
            &json!({"user_id": 7, "channel_id": "r-5", "type": "state"}),
        )
        .await;
    alice
        .send_json(
            "/kafka/signaling",
            &json!({"channel_id": "c-12", "community_id": community.to_string(), "type": "enter"}),
        )
        .await;
    let occupancy = bob.next_event_on(&topic).await;
    alice.disconnect().await;

    let logins = state.wait_for("login", 2).await;
    assert!(
        logins
            .iter()
            .any(|l| l.contains("user_id='1', channel_id='null', community_id='null', ids=null}")),
        "{logins:?}"
    );
    assert_eq!(
        state.requests("state"),
        vec![
            "{type='state', session_id='null', user_id='1', channel_id='r-5', community_id='null', ids=null}"
        ],
        "the session's user moves, not the user_id of the payload"
    );
    assert_eq!(
        state.requests("enter"),
        vec![format!(
            "{{type='enter', session_id='null', user_id='1', channel_id='c-12', community_id='{community}', ids=null}}"
        )]
    );
    assert_eq!(
        occupancy,
        json!({"12": ["1"]}),
        "the state server's occupancy reaches the community"
    );
    assert_eq!(
        state.wait_for("logout", 1).await.len(),
        1,
        "exactly one logout per session"
    );
}

#[tokio::test]
async fn users_still_connect_and_chat_while_the_state_server_is_down() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").to_string()
    };
    let server = TestServer::start_with(&[
        ("CHAT_STATE_SERVER__ADDRESS", &closed_port),
        ("CHAT_STATE_SERVER__REQUEST_TIMEOUT_MS", "300"),
    ]);
    let room = unique_id();
    let topic = format!("/topic/direct/{room}");
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice.subscribe("room", &topic).await;
    alice.subscribe("errors", "/user/queue/errors").await;

    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "still chatting", "channelId": room}),
        )
        .await;
    let message = alice.next_event_on(&topic).await;
    alice
        .send_json_unconfirmed(
            "/kafka/join-channel",
            &json!({"channel_id": format!("r-{room}")}),
        )
        .await;
    let refusal = alice.next_event_on("/user/queue/errors").await;

    assert_eq!(message["message"], "still chatting");
    assert_eq!(
        refusal["code"], "unavailable",
        "the lobby says it cannot reach the state server"
    );
    assert!(
        !server
            .wait_for_log_lines("state server not told of login", 1)
            .is_empty()
    );
    let (_, _, metrics) = server.rest().get_text("/metrics").await;
    assert!(
        metrics.contains(r#"chat_dependency_degraded_total{dependency="state_server"} 2"#),
        "the failed login and location change are counted:\n{metrics}"
    );
}

#[tokio::test]
async fn readiness_reports_the_state_server_reachable_or_not() {
    let state = FakeStateServer::start().await;
    let up = TestServer::start_with(&[("CHAT_STATE_SERVER__ADDRESS", &state.address())]);
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").to_string()
    };
    let down = TestServer::start_with(&[("CHAT_STATE_SERVER__ADDRESS", &closed_port)]);

    let (up_status, _, up_body) = up.rest().get_text("/readyz").await;
    let (down_status, _, down_body) = down.rest().get_text("/readyz").await;

    assert_eq!(up_status, reqwest::StatusCode::OK, "{up_body}");
    let up_body: serde_json::Value = serde_json::from_str(&up_body).expect("JSON");
    assert_eq!(up_body["dependencies"]["state_server"], "reachable");
    assert_eq!(
        down_status,
        reqwest::StatusCode::OK,
        "users still connect and chat, so the instance stays in rotation: {down_body}"
    );
    let down_body: serde_json::Value = serde_json::from_str(&down_body).expect("JSON");
    assert_eq!(down_body["status"], "degraded");
    assert!(
        down_body["dependencies"]["state_server"]
            .as_str()
            .is_some_and(|s| s.starts_with("unreachable"))
    );
}
