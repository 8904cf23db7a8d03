//! The `EventBus` contract against the in-process bus and against Kafka (the shared Tansu
//! broker, fresh topics per test), plus what only Kafka can show: kinds sharing a topic, an
//! unreachable or restarted broker, an instance restarted under the same id.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use adapter_kafka::{KafkaEventBus, KafkaSettings, TopicSettings};
use application::ports::outbound::{BusError, EventBus};
use chat_tests::contract::event_bus::{self as suite, direct_room, posted, receive};
use chat_tests::services;

/// Topics no other test uses.
fn fresh_topics() -> TopicSettings {
    TopicSettings {
        chat: services::unique_name("bus-chat"),
        channel: services::unique_name("bus-channel"),
        etc_direct: services::unique_name("bus-etc-direct"),
        etc_community: services::unique_name("bus-etc-community"),
        file: services::unique_name("bus-file"),
        state: services::unique_name("bus-state"),
    }
}

/// Settings for tests: fresh topics, and short timeouts so joins and failures are quick.
fn settings(brokers: String, topics: TopicSettings) -> KafkaSettings {
    KafkaSettings {
        topics,
        session_timeout_ms: 2_000,
        heartbeat_interval_ms: 500,
        metadata_refresh_ms: 1_000,
        delivery_timeout_ms: 3_000,
        request_timeout_ms: 1_500,
        connect_timeout_ms: 5_000,
        ..KafkaSettings::new(brokers)
    }
}

/// How long a test waits for a bus to get its partitions.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A started bus whose consumers have their partitions.
async fn ready_bus(settings: &KafkaSettings, instance_id: &str) -> KafkaEventBus {
    let started = Instant::now();
    let bus = KafkaEventBus::start(settings, instance_id)
        .await
        .expect("the Kafka bus starts (scripts/services up)");
    assert!(
        bus.ready_within(READY_TIMEOUT).await,
        "the Kafka bus `{instance_id}` did not get its partitions within {READY_TIMEOUT:?}"
    );
    eprintln!(
        "bus `{instance_id}` ready after {} ms",
        started.elapsed().as_millis()
    );
    bus
}

macro_rules! contract {
    (single: [$($single:ident),* $(,)?], pair: [$($pair:ident),* $(,)?] $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $single() {
                    let bus = adapter_memory::MemoryEventBus::default();
                    chat_tests::contract::event_bus::$single(&bus).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $pair() {
                    // One process, one bus: both "instances" are the same.
                    let bus = adapter_memory::MemoryEventBus::default();
                    chat_tests::contract::event_bus::$pair(&bus, &bus).await;
                }
            )*
        }

        mod kafka {
            use super::*;

            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $single() {
                    let settings = settings(services::kafka_brokers(), fresh_topics());
                    let bus = ready_bus(&settings, "contract").await;
                    chat_tests::contract::event_bus::$single(&bus).await;
                    bus.close().await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $pair() {
                    let settings = settings(services::kafka_brokers(), fresh_topics());
                    let (first, second) =
                        tokio::join!(ready_bus(&settings, "first"), ready_bus(&settings, "second"));
                    chat_tests::contract::event_bus::$pair(&first, &second).await;
                    tokio::join!(first.close(), second.close());
                }
            )*
        }
    };
}

contract! {
    single: [
        a_subscriber_receives_every_published_event_once_in_publish_order,
        a_subscriber_receives_only_what_is_published_after_it_subscribed,
        events_of_every_kind_for_different_rooms_are_all_delivered,
    ],
    pair: [two_instances_each_receive_every_event_published_by_either],
}

/// What only a Kafka bus can show.
mod kafka_only {
    use super::*;

    /// Settings whose brokers nobody listens on.
    fn unreachable_settings() -> KafkaSettings {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        settings(format!("127.0.0.1:{port}"), fresh_topics())
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn kinds_that_share_a_topic_are_consumed_once_and_keep_their_room_order() {
        let topic = services::unique_name("bus-all");
        let topics = TopicSettings {
            chat: topic.clone(),
            channel: topic.clone(),
            etc_direct: topic.clone(),
            etc_community: topic.clone(),
            file: topic.clone(),
            state: topic,
        };
        let bus = ready_bus(&settings(services::kafka_brokers(), topics), "shared-topic").await;
        let mut stream = bus.subscribe().expect("subscribed");
        // A message, typing, its edit and its delete: four kinds, one room, so one order.
        let room = direct_room();
        let mut published = suite::a_conversation(room);
        published.extend(suite::one_of_every_kind());

        for event in &published {
            bus.publish(event).await.expect("published");
        }

        let received = receive(&mut stream, published.len(), "subscriber").await;
        suite::assert_same_events(&received, &published, "subscriber");
        assert_eq!(
            suite::in_audience(&received, room.audience()),
            suite::in_audience(&published, room.audience()),
            "the conversation is out of order"
        );
        suite::assert_nothing_more(&mut stream, "subscriber").await;
        bus.close().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn starting_against_an_unreachable_broker_fails_naming_it_within_the_connect_timeout() {
        let settings = KafkaSettings {
            connect_timeout_ms: 2_000,
            ..unreachable_settings()
        };
        let started = Instant::now();

        let error = KafkaEventBus::start(&settings, "nobody-home")
            .await
            .expect_err("no broker answers");

        let message = format!("{error:#}");
        assert!(
            message.contains(&settings.brokers),
            "the error names the brokers: {message}"
        );
        assert!(
            started.elapsed()
                < Duration::from_millis(settings.connect_timeout_ms) + Duration::from_secs(2),
            "start-up gave up after {:?}",
            started.elapsed()
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn publishing_while_the_broker_is_down_fails_with_unavailable_within_the_delivery_timeout()
     {
        let mut tansu = chat_tests::PrivateKafka::start();
        let settings = settings(tansu.brokers(), fresh_topics());
        let bus = ready_bus(&settings, "outage").await;
        bus.ping().await.expect("the broker answers a ping");

        tansu.stop();
        let started = Instant::now();
        let result = bus
            .publish(&posted(direct_room(), 1, "into the void"))
            .await;

        assert!(
            matches!(result, Err(BusError::Unavailable(_))),
            "publishing without a broker fails: {result:?}"
        );
        let limit = Duration::from_millis(settings.delivery_timeout_ms) + Duration::from_secs(2);
        assert!(
            started.elapsed() < limit,
            "the publish gave up after {:?}",
            started.elapsed()
        );
        let started = Instant::now();
        assert!(bus.ping().await.is_err(), "a ping without a broker fails");
        assert!(
            started.elapsed() < limit,
            "the ping gave up after {:?}",
            started.elapsed()
        );
        tokio::time::timeout(Duration::from_secs(10), bus.close())
            .await
            .expect("closing the bus without a broker does not hang");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_bus_publishes_and_receives_again_after_the_broker_restarts() {
        let mut tansu = chat_tests::PrivateKafka::start();
        let settings = settings(tansu.brokers(), fresh_topics());
        let bus = ready_bus(&settings, "restart").await;
        let mut stream = bus.subscribe().expect("subscribed");
        let room = direct_room();
        let before = posted(room, 1, "before the restart");
        bus.publish(&before).await.expect("published");
        assert_eq!(receive(&mut stream, 1, "subscriber").await, vec![before]);

        tansu.restart();
        let restarted = Instant::now();

        // Publishes may fail or be missed while the clients reconnect and the topics come back:
        // keep publishing until one comes back through the bus.
        let deadline = restarted + Duration::from_secs(60);
        let mut seq = 2;
        let recovered = 'recovery: loop {
            assert!(
                Instant::now() < deadline,
                "the bus did not recover within 60 s of the broker restart"
            );
            let event = posted(room, seq, "after the restart");
            seq += 1;
            if bus.publish(&event).await.is_err() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            let wait_until = tokio::time::Instant::now() + Duration::from_secs(2);
            while let Ok(Some(received)) =
                tokio::time::timeout_at(wait_until, futures::StreamExt::next(&mut stream)).await
            {
                if received == event {
                    break 'recovery restarted.elapsed();
                }
            }
        };
        eprintln!(
            "recovered {} ms after the broker restart",
            recovered.as_millis()
        );

        // Once recovered, it works as before: every event, in order.
        let after: Vec<_> = (0..5)
            .map(|i| posted(room, seq + i, "steady again"))
            .collect();
        for event in &after {
            bus.publish(event).await.expect("published after recovery");
        }
        let received = receive(&mut stream, after.len(), "subscriber").await;
        assert_eq!(received, after);
        bus.close().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_bus_restarted_with_the_same_instance_id_receives_events_again_within_seconds() {
        let settings = settings(services::kafka_brokers(), fresh_topics());
        let publisher = ready_bus(&settings, "publisher").await;
        let first_life = ready_bus(&settings, "same-id").await;
        // Gone without leaving its groups cleanly, as after a crash.
        drop(first_life);

        let restarted = Instant::now();
        let second_life = ready_bus(&settings, "same-id").await;
        let ready_after = restarted.elapsed();
        assert!(
            ready_after < Duration::from_secs(10),
            "the restarted instance took {ready_after:?} to get its partitions"
        );
        let mut stream = second_life.subscribe().expect("subscribed");
        let event = posted(direct_room(), 1, "hello again");
        publisher.publish(&event).await.expect("published");

        assert_eq!(
            receive(&mut stream, 1, "restarted instance").await,
            vec![event]
        );
        tokio::join!(publisher.close(), second_life.close());
    }
}
