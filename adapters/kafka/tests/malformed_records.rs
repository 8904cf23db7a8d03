//! A record that is not a readable event, produced straight to a bus topic on the shared
//! broker (`CHAT_TEST_KAFKA_BROKERS`), is skipped: the events after it still arrive. It lives
//! here rather than in the contract suite because it writes raw records with rdkafka.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use application::ports::outbound::EventBus;
use chat_adapter_kafka::{KafkaEventBus, KafkaSettings, TopicSettings};
use domain::{
    ChatEvent, MessageBody, MessageId, NewMessage, RoomId, RoomRef, Seq, Timestamp, UserId,
    UserProfile,
};
use futures::StreamExt as _;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

fn brokers() -> String {
    std::env::var("CHAT_TEST_KAFKA_BROKERS").unwrap_or_else(|_| {
        panic!(
            "CHAT_TEST_KAFKA_BROKERS is not set: run `scripts/services up && . target/services/env`"
        )
    })
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

fn posted(room: RoomRef, seq: u64) -> ChatEvent {
    ChatEvent::Posted(
        NewMessage {
            id: MessageId::parse(&uuid::Uuid::new_v4().simple().to_string()).expect("id"),
            room,
            author: UserProfile::anonymous(UserId::new(1)),
            body: MessageBody::parse("after the garbage").expect("body"),
            parent: None,
            attachment: None,
            client_msg_id: None,
            sent_at: Timestamp::from_unix_micros(1),
        }
        .stored_at(Seq::new(seq)),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_records_are_skipped_and_the_next_event_still_arrives() {
    let topic = unique("bus-malformed");
    let settings = KafkaSettings {
        topics: TopicSettings {
            chat: topic.clone(),
            channel: topic.clone(),
            etc_direct: topic.clone(),
            etc_community: topic.clone(),
            file: topic.clone(),
            state: topic.clone(),
        },
        session_timeout_ms: 2_000,
        heartbeat_interval_ms: 500,
        ..KafkaSettings::new(brokers())
    };
    let bus = KafkaEventBus::start(&settings, "malformed")
        .await
        .expect("the bus starts (scripts/services up)");
    assert!(
        bus.ready_within(Duration::from_secs(20)).await,
        "the bus gets its partitions"
    );
    let mut stream = bus.subscribe().expect("subscribed");
    let raw: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .create()
        .expect("a raw producer");
    let room = RoomRef::Direct(RoomId::new(5));
    let key = "direct/5";
    let envelope = |v: u64, kind: &str, payload: &str| {
        format!(
            r#"{{"v":{v},"kind":"{kind}","id":"{}","origin":"raw","payload":{payload}}}"#,
            uuid::Uuid::new_v4()
        )
    };
    let garbage = [
        "not json".to_owned(),
        "[1,2,3]".to_owned(),
        envelope(2, "posted", "{}"),
        envelope(1, "exploded", "{}"),
        envelope(1, "posted", r#"{"id":"m1"}"#),
    ];

    for value in &garbage {
        raw.send(
            FutureRecord::to(&topic).key(key).payload(value.as_bytes()),
            Duration::from_secs(5),
        )
        .await
        .expect("the garbage is written");
    }
    raw.send(
        FutureRecord::<str, [u8]>::to(&topic).key(key),
        Duration::from_secs(5),
    )
    .await
    .expect("a record without a value is written");
    let event = posted(room, 1);
    bus.publish(&event).await.expect("published");

    let received = tokio::time::timeout(Duration::from_secs(15), stream.next())
        .await
        .expect("the event after the garbage arrives");
    assert_eq!(received, Some(event));
    assert!(
        tokio::time::timeout(Duration::from_millis(500), stream.next())
            .await
            .is_err(),
        "nothing else is delivered"
    );
    bus.close().await;
}
