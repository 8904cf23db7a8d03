//! Cluster mode: several real instances on one Kafka, one `MongoDB` and one Redis
//! behave as one server. Membership and room lists come from a (fake) community
//! service, shared by every instance as in production.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chat_tests::{
    ClusterServices, CommunityData, FakeCommunityService, FakeStateServer, PrivateKafka,
    PrivateRedis, StompClient, TEST_LEASE_SECONDS, TestCluster, token, unique_id,
};
use serde_json::{Value, json};

/// Users 1, 2 and 3 share DM room `room` and community `community`, whose channel is `channel`.
async fn community_of_three(room: u64, community: u64) -> FakeCommunityService {
    community_with_channel(room, community, 0).await
}

/// As [`community_of_three`], with `channel` a channel of the community.
async fn community_with_channel(room: u64, community: u64, channel: u64) -> FakeCommunityService {
    let rooms = vec![format!("direct/{room}"), format!("community/{community}")];
    FakeCommunityService::start(CommunityData {
        room_lists: HashMap::from([(1, rooms.clone()), (2, rooms.clone()), (3, rooms)]),
        room_members: HashMap::from([(room, vec![1, 2, 3])]),
        community_members: HashMap::from([(community, vec![1, 2, 3])]),
        channel_communities: HashMap::from([(channel, community)]),
    })
    .await
}

fn is_chat_event(event: &Value) -> bool {
    !matches!(event["type"].as_str(), Some("connect" | "disconnect"))
}

/// The next `count` chat events (presence left out) on `topic`.
async fn chat_events(client: &mut StompClient, topic: &str, count: usize) -> Vec<Value> {
    let mut events = Vec::with_capacity(count);
    while events.len() < count {
        let event = client
            .wait_for_event_on(topic, Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("only {} of {count} events on {topic}", events.len()));
        if is_chat_event(&event) {
            events.push(event);
        }
    }
    events
}

/// The next presence event of `user` on `topic` within `patience` (others' are passed over:
/// a client may hear its own `connect`, which travels through Kafka, after it subscribed).
async fn presence_of(
    client: &mut StompClient,
    topic: &str,
    user: u64,
    patience: Duration,
) -> Value {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let event = client
            .wait_for_event_on(topic, left)
            .await
            .unwrap_or_else(|| {
                panic!("no presence event of user {user} on {topic} within {patience:?}")
            });
        if event["userId"] == user.to_string().as_str() && !is_chat_event(&event) {
            return event;
        }
    }
}

fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|event| event["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn users_on_three_instances_chat_and_every_subscriber_gets_every_event_once_in_one_order() {
    let (room, community, channel) = (unique_id(), unique_id(), unique_id());
    let service = community_with_channel(room, community, channel).await;
    let cluster = TestCluster::start(3, &service.base_url()).await;
    let dm = format!("/topic/direct/{room}");
    let group = format!("/topic/group/{channel}");
    let mut clients = Vec::new();
    for (user, name) in [(1, "alice"), (2, "bob"), (3, "carol")] {
        let node = cluster.node(usize::try_from(user - 1).expect("index"));
        let mut client = StompClient::connect(&node.ws_url(), user, name).await;
        client.subscribe("dm", &dm).await;
        client.subscribe("group", &group).await;
        client.subscribe("errors", "/user/queue/errors").await;
        clients.push(client);
    }

    // Everyone posts at once, each on their own instance, to both rooms.
    let per_user = 8;
    futures::future::join_all(clients.iter_mut().enumerate().map(|(i, client)| {
        let (room, channel) = (room.to_string(), channel.to_string());
        async move {
            for n in 0..per_user {
                client
                    .send_json(
                        "/kafka/send-direct-message",
                        &json!({"content": format!("dm {i}.{n}"), "channelId": room}),
                    )
                    .await;
                client
                    .send_json(
                        "/kafka/send-channel-message",
                        &json!({"content": format!("group {i}.{n}"), "channelId": channel, "communityId": community}),
                    )
                    .await;
            }
        }
    }))
    .await;

    let total = 3 * per_user;
    for topic in [&dm, &group] {
        let mut orders = Vec::new();
        for client in &mut clients {
            orders.push(ids(&chat_events(client, topic, total).await));
        }
        let distinct: HashSet<_> = orders[0].iter().collect();
        assert_eq!(distinct.len(), total, "every event once on {topic}");
        assert_eq!(
            orders[0], orders[1],
            "instances 0 and 1 agree on the order of {topic}"
        );
        assert_eq!(
            orders[0], orders[2],
            "instances 0 and 2 agree on the order of {topic}"
        );
    }
    for client in &mut clients {
        client.expect_silence(Duration::from_millis(500)).await;
    }

    // The history, as any instance serves it, is the same.
    let mut pages = Vec::new();
    for index in 0..3 {
        pages.push(
            cluster
                .node(index)
                .rest()
                .direct_history(room, &token(1, "alice"))
                .await,
        );
    }
    let seqs: Vec<u64> = pages[0]
        .iter()
        .map(|m| m["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(
        seqs,
        (1..=total as u64).collect::<Vec<_>>(),
        "one seq per message, none shared"
    );
    assert_eq!(pages[0], pages[1]);
    assert_eq!(pages[0], pages[2]);
}

#[tokio::test]
async fn the_users_of_a_killed_instance_go_offline_for_the_others_and_a_restarted_instance_hears_again()
 {
    let (room, community) = (unique_id(), unique_id());
    let service = community_of_three(room, community).await;
    let mut cluster = TestCluster::start(2, &service.base_url()).await;
    let dm = format!("/topic/direct/{room}");
    let mut alice = StompClient::connect(&cluster.node(0).ws_url(), 1, "alice").await;
    alice.subscribe("dm", &dm).await;
    let _bob = StompClient::connect(&cluster.node(1).ws_url(), 2, "bob").await;
    assert_eq!(
        presence_of(&mut alice, &dm, 2, Duration::from_secs(10)).await,
        json!({"type": "connect", "userId": "2"})
    );

    cluster.kill(1);
    let gone = presence_of(
        &mut alice,
        &dm,
        2,
        Duration::from_secs(TEST_LEASE_SECONDS * 4 + 5),
    )
    .await;
    assert_eq!(gone, json!({"type": "disconnect", "userId": "2"}));
    let (_, presence) = cluster
        .node(0)
        .rest()
        .get("/api/v1/presence?user=2", &token(1, "alice"))
        .await;
    assert_eq!(presence["users"][0]["online"], false, "{presence}");

    cluster.restart(1).await;
    let mut bob = StompClient::connect(&cluster.node(1).ws_url(), 2, "bob").await;
    bob.subscribe("dm", &dm).await;
    alice
        .send_json(
            "/kafka/send-direct-message",
            &json!({"content": "welcome back", "channelId": room.to_string()}),
        )
        .await;
    let heard = chat_events(&mut bob, &dm, 1).await;
    assert_eq!(heard[0]["message"], "welcome back");
}

/// Posts until one attempt is acknowledged (the bus may refuse while it recovers);
/// returns the contents of every acknowledged message.
async fn post_until_acknowledged(client: &mut StompClient, room: u64, tag: &str) -> Vec<String> {
    let mut acknowledged = Vec::new();
    for attempt in 0..120 {
        let content = format!("{tag} {attempt}");
        match client
            .try_send_json(
                "/kafka/send-direct-message",
                &json!({"content": content, "channelId": room.to_string()}),
            )
            .await
        {
            Ok(()) => {
                acknowledged.push(content);
                return acknowledged;
            }
            Err(refusal) => assert_eq!(refusal["code"], "unavailable", "{refusal}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("no message acknowledged within a minute of the restart");
}

#[tokio::test]
async fn a_kafka_restart_is_survived_and_no_acknowledged_message_is_lost() {
    let (room, community) = (unique_id(), unique_id());
    let service = community_of_three(room, community).await;
    let mut kafka = PrivateKafka::start();
    let on = ClusterServices {
        kafka_brokers: kafka.brokers(),
        ..ClusterServices::shared()
    };
    let cluster = TestCluster::start_on(2, &service.base_url(), &on).await;
    let dm = format!("/topic/direct/{room}");
    let mut alice = StompClient::connect(&cluster.node(0).ws_url(), 1, "alice").await;
    alice.subscribe("errors", "/user/queue/errors").await;
    let mut bob = StompClient::connect(&cluster.node(1).ws_url(), 2, "bob").await;
    bob.subscribe("dm", &dm).await;
    let mut acknowledged = post_until_acknowledged(&mut alice, room, "before").await;
    assert_eq!(
        chat_events(&mut bob, &dm, 1).await[0]["message"],
        acknowledged[0].as_str()
    );

    kafka.restart();
    acknowledged.extend(post_until_acknowledged(&mut alice, room, "after").await);
    // Delivery resumes: a message posted now reaches the other instance.
    let mut delivered = false;
    for _ in 0..60 {
        let content = format!("probe {}", unique_id());
        if alice
            .try_send_json(
                "/kafka/send-direct-message",
                &json!({"content": content, "channelId": room.to_string()}),
            )
            .await
            .is_ok()
        {
            acknowledged.push(content.clone());
        }
        while let Some(event) = bob.wait_for_event_on(&dm, Duration::from_millis(500)).await {
            delivered |= event["message"] == content.as_str();
        }
        if delivered {
            break;
        }
    }
    assert!(
        delivered,
        "delivery between instances resumed after the broker restart"
    );

    let page = cluster
        .node(1)
        .rest()
        .direct_history(room, &token(2, "bob"))
        .await;
    let stored: HashSet<&str> = page.iter().filter_map(|m| m["content"].as_str()).collect();
    for content in &acknowledged {
        assert!(
            stored.contains(content.as_str()),
            "acknowledged {content:?} is stored"
        );
    }
}

#[tokio::test]
async fn a_redis_restart_is_survived_and_presence_works_again() {
    let (room, community) = (unique_id(), unique_id());
    let service = community_of_three(room, community).await;
    let mut redis = PrivateRedis::start();
    let on = ClusterServices {
        redis_url: redis.url(),
        ..ClusterServices::shared()
    };
    let cluster = TestCluster::start_on(2, &service.base_url(), &on).await;
    let dm = format!("/topic/direct/{room}");
    let mut alice = StompClient::connect(&cluster.node(0).ws_url(), 1, "alice").await;
    alice.subscribe("dm", &dm).await;
    let bob = StompClient::connect(&cluster.node(1).ws_url(), 2, "bob").await;
    assert_eq!(
        presence_of(&mut alice, &dm, 2, Duration::from_secs(10)).await,
        json!({"type": "connect", "userId": "2"})
    );

    redis.restart();
    // Sessions open before the restart are known again within a lease period...
    tokio::time::sleep(Duration::from_secs(TEST_LEASE_SECONDS + 1)).await;
    let (_, presence) = cluster
        .node(0)
        .rest()
        .get("/api/v1/presence?user=2", &token(1, "alice"))
        .await;
    assert_eq!(presence["users"][0]["online"], true, "{presence}");
    // ...so their end is still announced, and new sessions are too.
    bob.disconnect().await;
    let gone = presence_of(&mut alice, &dm, 2, Duration::from_secs(10)).await;
    assert_eq!(gone, json!({"type": "disconnect", "userId": "2"}));
    let _carol = StompClient::connect(&cluster.node(1).ws_url(), 3, "carol").await;
    let back = presence_of(&mut alice, &dm, 3, Duration::from_secs(10)).await;
    assert_eq!(back, json!({"type": "connect", "userId": "3"}));
}

#[tokio::test]
async fn the_lobby_spans_instances_connects_voice_occupancy_and_disconnects_reach_both() {
    let (room, community) = (unique_id(), unique_id());
    let service = community_of_three(room, community).await;
    let state = FakeStateServer::start().await;
    let cluster = TestCluster::start_with(
        2,
        &service.base_url(),
        &ClusterServices::shared(),
        &[("CHAT_STATE_SERVER__ADDRESS", &state.address())],
    )
    .await;
    let dm = format!("/topic/direct/{room}");
    let lobby = format!("/topic/community/{community}");
    let mut listeners = Vec::new();
    for (node, user, name) in [(1, 2, "bob"), (0, 3, "carol")] {
        let mut client = StompClient::connect(&cluster.node(node).ws_url(), user, name).await;
        client.subscribe("dm", &dm).await;
        client.subscribe("lobby", &lobby).await;
        listeners.push(client);
    }

    let mut alice = StompClient::connect(&cluster.node(0).ws_url(), 1, "alice").await;
    for listener in &mut listeners {
        for topic in [&dm, &lobby] {
            assert_eq!(
                presence_of(listener, topic, 1, Duration::from_secs(10)).await,
                json!({"type": "connect", "userId": "1"}),
                "alice's connect on {topic}"
            );
        }
    }

    alice
        .send_json(
            "/kafka/signaling",
            &json!({"channel_id": "c-12", "community_id": community.to_string(), "type": "enter"}),
        )
        .await;
    for listener in &mut listeners {
        // Presence of others (carol's own connect, keyed by her user) may still be on its way.
        let occupancy = loop {
            let event = listener
                .wait_for_event_on(&lobby, Duration::from_secs(10))
                .await
                .expect("voice occupancy reaches every instance");
            if is_chat_event(&event) {
                break event;
            }
        };
        assert_eq!(occupancy, json!({"12": ["1"]}));
    }

    alice.disconnect().await;
    for listener in &mut listeners {
        for topic in [&dm, &lobby] {
            assert_eq!(
                presence_of(listener, topic, 1, Duration::from_secs(10)).await,
                json!({"type": "disconnect", "userId": "1"}),
                "alice's disconnect on {topic}"
            );
        }
    }
    assert_eq!(
        state.wait_for("logout", 1).await.len(),
        1,
        "one logout per session"
    );
}

/// Reads of `user` on `node` until the first refusal, at most `most`: how many were allowed.
async fn reads_allowed(cluster: &TestCluster, node: usize, user: u64, most: usize) -> usize {
    let rest = cluster.node(node).rest();
    let token = token(user, "reader");
    for allowed in 0..most {
        let (status, body) = rest.get("/api/v1/rooms", &token).await;
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["code"], "rate_limited", "{body}");
            return allowed;
        }
        assert!(status.is_success(), "{status}: {body}");
    }
    most
}

#[tokio::test]
async fn a_user_reading_through_two_instances_has_one_allowance_between_them() {
    let (room, community) = (unique_id(), unique_id());
    let service = community_of_three(room, community).await;
    let cluster = TestCluster::start_with(
        2,
        &service.base_url(),
        &ClusterServices::shared(),
        &[
            ("CHAT_LIMITS__READ_BURST", "4"),
            ("CHAT_LIMITS__READ_PER_SECOND", "0.001"),
        ],
    )
    .await;

    let on_first = reads_allowed(&cluster, 0, 1, 2).await;
    let on_second = reads_allowed(&cluster, 1, 1, 10).await;
    let first_again = reads_allowed(&cluster, 0, 1, 10).await;

    assert_eq!(on_first, 2);
    assert_eq!(
        on_second, 2,
        "the second instance knows what the first spent"
    );
    assert_eq!(first_again, 0);
    assert_eq!(
        reads_allowed(&cluster, 1, 2, 10).await,
        4,
        "another user's own allowance"
    );
}

#[tokio::test]
async fn posters_on_two_instances_share_one_room_allowance() {
    let (room, community) = (unique_id(), unique_id());
    let service = community_of_three(room, community).await;
    let cluster = TestCluster::start_with(
        2,
        &service.base_url(),
        &ClusterServices::shared(),
        &[
            ("CHAT_LIMITS__ROOM_WRITE_BURST", "4"),
            ("CHAT_LIMITS__ROOM_WRITE_PER_SECOND", "0.001"),
        ],
    )
    .await;
    let mut alice = StompClient::connect(&cluster.node(0).ws_url(), 1, "alice").await;
    let mut bob = StompClient::connect(&cluster.node(1).ws_url(), 2, "bob").await;
    for client in [&mut alice, &mut bob] {
        client.subscribe("errors", "/user/queue/errors").await;
    }
    let post = |text: &str| json!({"content": text, "channelId": room});
    for n in 0..2 {
        alice
            .send_json("/kafka/send-direct-message", &post(&format!("a{n}")))
            .await;
        bob.send_json("/kafka/send-direct-message", &post(&format!("b{n}")))
            .await;
    }

    let on_first = alice
        .try_send_json("/kafka/send-direct-message", &post("one too many"))
        .await
        .expect_err("the room's allowance is spent on both instances");
    let on_second = bob
        .try_send_json("/kafka/send-direct-message", &post("one too many"))
        .await
        .expect_err("the room's allowance is spent on both instances");

    assert_eq!(on_first["code"], "rate_limited", "{on_first}");
    assert_eq!(on_second["code"], "rate_limited", "{on_second}");
}

#[tokio::test]
async fn with_redis_down_each_instance_limits_on_its_own_with_the_stricter_allowance() {
    let (room, community) = (unique_id(), unique_id());
    let service = community_of_three(room, community).await;
    let mut redis = PrivateRedis::start();
    let on = ClusterServices {
        redis_url: redis.url(),
        ..ClusterServices::shared()
    };
    let cluster = TestCluster::start_with(
        2,
        &service.base_url(),
        &on,
        &[
            ("CHAT_LIMITS__READ_BURST", "6"),
            ("CHAT_LIMITS__READ_PER_SECOND", "0.001"),
            ("CHAT_LIMITS__OUTAGE_FACTOR", "0.5"),
        ],
    )
    .await;

    redis.stop();
    let on_first = reads_allowed(&cluster, 0, 1, 20).await;
    let on_second = reads_allowed(&cluster, 1, 1, 20).await;

    assert_eq!(on_first, 3, "half of the burst of 6, not unlimited");
    assert_eq!(on_second, 3);
}
