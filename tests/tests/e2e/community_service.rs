//! The chat server pointed at the community service over HTTP (a fake that
//! answers the seed's endpoints): membership and room lists come from it.

use std::collections::HashMap;
use std::time::Duration;

use chat_tests::{CommunityData, FakeCommunityService, StompClient, TestServer};
use serde_json::json;

async fn server_with_room_5_of_alice_and_bob() -> (FakeCommunityService, TestServer) {
    let community = FakeCommunityService::start(CommunityData {
        room_lists: HashMap::from([(1, vec!["direct/5".to_owned(), "community/3".to_owned()])]),
        room_members: HashMap::from([(5, vec![1, 2])]),
        community_members: HashMap::from([(3, vec![1, 2])]),
        channel_communities: HashMap::new(),
    })
    .await;
    let server = TestServer::start_with(&[("CHAT_COMMUNITY__BASE_URL", &community.base_url())]);
    (community, server)
}

#[tokio::test]
async fn only_members_named_by_the_community_service_may_listen_or_post() {
    let (_community, server) = server_with_room_5_of_alice_and_bob().await;
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("room", "/topic/direct/5").await;
    let mut eve = StompClient::connect(&server.ws_url(), 3, "eve").await;
    eve.subscribe("errors", "/user/queue/errors").await;

    eve.send(
        "SUBSCRIBE",
        &[("id", "r"), ("destination", "/topic/direct/5")],
        "",
    )
    .await;
    let listen = eve.next_event_on("/user/queue/errors").await;
    eve.send_json_unconfirmed(
        "/kafka/send-direct-message",
        &json!({"content": "let me in", "channelId": "5"}),
    )
    .await;
    let post = eve.next_event_on("/user/queue/errors").await;

    assert_eq!(listen["code"], "not_a_member");
    assert_eq!(post["code"], "not_a_member");
    bob.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_users_connect_reaches_the_rooms_the_community_service_lists() {
    let (_community, server) = server_with_room_5_of_alice_and_bob().await;
    let mut bob = StompClient::connect(&server.ws_url(), 2, "bob").await;
    bob.subscribe("room", "/topic/direct/5").await;
    bob.subscribe("community", "/topic/community/3").await;

    let _alice = StompClient::connect(&server.ws_url(), 1, "alice").await;

    let mut heard = vec![bob.next_message().await.0, bob.next_message().await.0];
    heard.sort();
    assert_eq!(heard, vec!["/topic/community/3", "/topic/direct/5"]);
}

#[tokio::test]
async fn readiness_reports_the_community_service_reachable() {
    let (_community, server) = server_with_room_5_of_alice_and_bob().await;

    let (status, _, body) = server.rest().get_text("/readyz").await;

    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["dependencies"]["community_service"], "reachable");
}

#[tokio::test]
async fn with_the_community_service_down_users_still_connect_and_metrics_count_it() {
    let base_url = {
        let nothing_listens = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", nothing_listens.local_addr().expect("address"))
    };
    let server = TestServer::start_with(&[
        ("CHAT_COMMUNITY__BASE_URL", &base_url),
        ("CHAT_COMMUNITY__RETRY_BACKOFF_MS", "10"),
    ]);

    // The room list is asked for (and fails) before CONNECTED is sent.
    let _alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    let (ready, _, readiness) = server.rest().get_text("/readyz").await;
    let (_, _, metrics) = server.rest().get_text("/metrics").await;

    assert_eq!(ready, reqwest::StatusCode::OK, "{readiness}");
    assert!(readiness.contains(r#""status":"degraded""#), "{readiness}");
    let degraded = metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix(r#"chat_dependency_degraded_total{dependency="community_service"} "#)
        })
        .unwrap_or_else(|| panic!("no degraded counter in:\n{metrics}"));
    assert!(
        degraded.parse::<f64>().expect("a number") >= 1.0,
        "{degraded}"
    );
    assert!(
        metrics.contains(r#"chat_dependency_up{dependency="community_service"} 0"#),
        "{metrics}"
    );
}
