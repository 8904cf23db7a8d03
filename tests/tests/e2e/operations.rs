//! Operations endpoints: liveness, readiness and Prometheus metrics.

use chat_tests::{StompClient, TestServer, unique_id};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn health_and_readiness_answer_while_the_server_runs() {
    let server = TestServer::start();
    let rest = server.rest();

    let (live, _, body) = rest.get_text("/healthz").await;
    let (ready, _, readiness) = rest.get_text("/readyz").await;

    assert_eq!(live, StatusCode::OK);
    assert_eq!(body, "ok");
    assert_eq!(ready, StatusCode::OK);
    let readiness: serde_json::Value = serde_json::from_str(&readiness).expect("JSON");
    assert_eq!(readiness["status"], "ready");
    assert_eq!(readiness["dependencies"]["tasks"], "running");
}

#[tokio::test]
async fn metrics_count_connections_frames_deliveries_errors_and_request_latency() {
    let server = TestServer::start();
    let rest = server.rest();
    let room = unique_id();
    let mut alice = StompClient::connect(&server.ws_url(), 1, "alice").await;
    alice
        .subscribe("room", &format!("/topic/direct/{room}"))
        .await;
    alice.subscribe("errors", "/user/queue/errors").await;
    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "hi", "channelId": room}),
        )
        .await;
    alice.next_event_on(&format!("/topic/direct/{room}")).await;
    alice
        .send_json_unconfirmed(
            "/kafka/send-direct-message",
            &json!({"content": " ", "channelId": room}),
        )
        .await;
    alice.next_event_on("/user/queue/errors").await;
    rest.get_text("/healthz").await;

    let (status, content_type, metrics) = rest.get_text("/metrics").await;

    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    for expected in [
        "stomp_connections 1",
        "stomp_subscriptions 1",
        "stomp_events_delivered_total 1",
        r#"stomp_frames_received_total{command="SEND"} 2"#,
        r#"chat_errors_total{code="empty_content"} 1"#,
        r#"http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200""#,
    ] {
        assert!(
            metrics.contains(expected),
            "`{expected}` missing from:\n{metrics}"
        );
    }
}
