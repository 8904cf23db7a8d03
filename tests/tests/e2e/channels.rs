//! Which community a channel belongs to comes from the community service (its lookup or its
//! registration through `PUT /chat-server/channel/{channelId}`), never from what a client
//! claims: the channel hijack of issue 11 gets nothing, and a channel nobody placed is refused.

use std::collections::HashMap;
use std::time::Duration;

use chat_tests::{CommunityData, FakeCommunityService, StompClient, TestServer, token, unique_id};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Community `b` (alice and bob) owns `channel`; mallory belongs only to community `a`.
struct Communities {
    a: u64,
    b: u64,
    channel: u64,
    service: FakeCommunityService,
}

async fn two_communities(channel_known: bool) -> Communities {
    let (a, b, channel) = (unique_id(), unique_id(), unique_id());
    let service = FakeCommunityService::start(CommunityData {
        room_lists: HashMap::new(),
        room_members: HashMap::new(),
        community_members: HashMap::from([(a, vec![9]), (b, vec![1, 2])]),
        channel_communities: if channel_known {
            HashMap::from([(channel, b)])
        } else {
            HashMap::new()
        },
    })
    .await;
    Communities {
        a,
        b,
        channel,
        service,
    }
}

/// A client already listening to its error queue.
async fn connect(server: &TestServer, user: u64, name: &str) -> StompClient {
    let mut client = StompClient::connect(&server.ws_url(), user, name).await;
    client.subscribe("errors", "/user/queue/errors").await;
    client
}

/// Sends a SUBSCRIBE and returns the refusal it got on the error queue.
async fn refused_subscription(client: &mut StompClient, destination: &str) -> Value {
    client
        .send(
            "SUBSCRIBE",
            &[("id", "refused"), ("destination", destination)],
            "",
        )
        .await;
    client.next_event_on("/user/queue/errors").await
}

fn post(channel: u64, community: u64, content: &str) -> Value {
    json!({"content": content, "channelId": channel.to_string(), "communityId": community.to_string()})
}

async fn history(server: &TestServer, channel: u64, user: u64, name: &str) -> (StatusCode, Value) {
    server
        .rest()
        .get(
            &format!("/chat-server/community?ch_id={channel}"),
            &token(user, name),
        )
        .await
}

#[tokio::test]
async fn a_member_of_another_community_cannot_hijack_a_channel_and_its_members_keep_it() {
    let c = two_communities(true).await;
    let server = TestServer::start_with(&[("CHAT_COMMUNITY__BASE_URL", &c.service.base_url())]);
    let group = format!("/topic/group/{}", c.channel);
    let mut alice = connect(&server, 1, "alice").await;
    alice.subscribe("group", &group).await;
    let mut bob = connect(&server, 2, "bob").await;
    bob.try_send_json(
        "/kafka/send-channel-message",
        &post(c.channel, c.b, "secret"),
    )
    .await
    .expect("a member posts in their channel");
    assert_eq!(alice.next_event_on(&group).await["message"], "secret");
    let mut mallory = connect(&server, 9, "mallory").await;

    // The attack of issue 11: claim the channel for community a, then use it.
    let typing = mallory
        .try_send_json(
            "/kafka/send-channel-typing",
            &json!({"channelId": c.channel.to_string(), "communityId": c.a.to_string()}),
        )
        .await;
    let subscribe = refused_subscription(&mut mallory, &group).await;
    let (read, page) = history(&server, c.channel, 9, "mallory").await;
    let (read_v1, _) = server
        .rest()
        .get(
            &format!("/api/v1/channels/{}/messages", c.channel),
            &token(9, "mallory"),
        )
        .await;
    let posted = mallory
        .try_send_json(
            "/kafka/send-channel-message",
            &post(c.channel, c.a, "mine now"),
        )
        .await;

    assert_eq!(
        typing.expect_err("typing refused")["code"],
        "unknown_channel"
    );
    assert_eq!(subscribe["code"], "not_a_member");
    assert_eq!(read, StatusCode::FORBIDDEN, "{page}");
    assert_eq!(read_v1, StatusCode::FORBIDDEN);
    assert_eq!(posted.expect_err("post refused")["code"], "unknown_channel");
    // The channel's own members are unaffected and heard nothing of mallory.
    bob.try_send_json(
        "/kafka/send-channel-message",
        &post(c.channel, c.b, "still ours"),
    )
    .await
    .expect("members still post");
    assert_eq!(alice.next_event_on(&group).await["message"], "still ours");
    let (status, page) = history(&server, c.channel, 2, "bob").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let texts: Vec<&str> = page["result"]
        .as_array()
        .expect("a page")
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(texts, ["secret", "still ours"]);
    alice.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_channel_the_community_service_does_not_know_is_refused_as_unknown_channel() {
    let c = two_communities(false).await;
    let server = TestServer::start_with(&[("CHAT_COMMUNITY__BASE_URL", &c.service.base_url())]);
    let mut bob = connect(&server, 2, "bob").await;

    let subscribe = refused_subscription(&mut bob, &format!("/topic/group/{}", c.channel)).await;
    let posted = bob
        .try_send_json(
            "/kafka/send-channel-message",
            &post(c.channel, c.b, "hello"),
        )
        .await;
    let (read, body) = history(&server, c.channel, 2, "bob").await;

    assert_eq!(subscribe["code"], "unknown_channel");
    assert_eq!(posted.expect_err("refused")["code"], "unknown_channel");
    assert_eq!(read, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "unknown_channel");
}

#[tokio::test]
async fn a_channel_registered_by_the_community_service_is_its_communitys() {
    let c = two_communities(false).await;
    let server = TestServer::start_with(&[("CHAT_COMMUNITY__BASE_URL", &c.service.base_url())]);

    let (registered, body) = server
        .rest()
        .call(
            Method::PUT,
            &format!("/chat-server/channel/{}", c.channel),
            None,
            true,
            Some(&json!({"communityId": c.b})),
        )
        .await;

    assert_eq!(registered, StatusCode::OK, "{body}");
    let mut bob = connect(&server, 2, "bob").await;
    bob.subscribe("group", &format!("/topic/group/{}", c.channel))
        .await;
    bob.try_send_json(
        "/kafka/send-channel-message",
        &post(c.channel, c.b, "hello"),
    )
    .await
    .expect("a member posts in a registered channel");
    let mut mallory = connect(&server, 9, "mallory").await;
    let posted = mallory
        .try_send_json("/kafka/send-channel-message", &post(c.channel, c.a, "hi"))
        .await;
    assert_eq!(posted.expect_err("refused")["code"], "unknown_channel");
}

#[tokio::test]
async fn in_binding_mode_the_first_post_of_a_member_binds_a_channel_and_a_refused_one_binds_nothing()
 {
    let c = two_communities(false).await;
    let server = TestServer::start_with(&[
        ("CHAT_COMMUNITY__BASE_URL", &c.service.base_url()),
        ("CHAT_COMMUNITY__CHANNEL_BINDING", "first_post"),
    ]);
    let group = format!("/topic/group/{}", c.channel);
    let mut mallory = connect(&server, 9, "mallory").await;
    let mut bob = connect(&server, 2, "bob").await;

    // Mallory names community b, of which she is no member: refused, and nothing is learned.
    let refused = mallory
        .try_send_json("/kafka/send-channel-message", &post(c.channel, c.b, "hi"))
        .await;
    let typing = bob
        .try_send_json(
            "/kafka/send-channel-typing",
            &json!({"channelId": c.channel.to_string(), "communityId": c.b.to_string()}),
        )
        .await;
    bob.try_send_json(
        "/kafka/send-channel-message",
        &post(c.channel, c.b, "first"),
    )
    .await
    .expect("a member's first post binds the channel");
    let claimed = mallory
        .try_send_json("/kafka/send-channel-message", &post(c.channel, c.a, "mine"))
        .await;
    let subscribe = refused_subscription(&mut mallory, &group).await;

    assert_eq!(refused.expect_err("refused")["code"], "not_a_member");
    assert_eq!(
        typing.expect_err("typing binds nothing")["code"],
        "unknown_channel"
    );
    assert_eq!(claimed.expect_err("refused")["code"], "unknown_channel");
    assert_eq!(subscribe["code"], "not_a_member");
    bob.subscribe("group", &group).await;
}
