//! The `EventBus` contract: what every bus guarantees to the use cases, whatever carries the
//! events. Each behaviour takes ready buses (a Kafka bus must be ready: its consumers have
//! their partitions) and panics with a clear message when the bus breaks the contract.
//!
//! Behaviours that involve two instances take two buses; an in-process bus passes itself twice
//! (in embedded mode there is one instance).

use std::collections::BTreeMap;
use std::time::Duration;

use application::ports::outbound::{EventBus, EventStream};
use domain::{
    Audience, ChannelId, ChatEvent, CommunityId, Location, MessageBody, MessageId, NewMessage,
    PresenceChange, PresenceStatus, RoomId, RoomRef, Seq, Timestamp, Typing, UserId, UserProfile,
    VoiceLeave, VoiceOccupancy,
};
use futures::StreamExt as _;

/// How long a published event may take to reach a subscriber.
pub const RECEIVE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a subscriber waits to be sure no further (duplicate) event arrives.
const QUIET: Duration = Duration::from_millis(500);

/// A DM room no other test uses.
pub fn direct_room() -> RoomRef {
    RoomRef::Direct(RoomId::new(crate::unique_id()))
}

/// A community channel no other test uses.
pub fn channel_room() -> RoomRef {
    RoomRef::Channel {
        community: CommunityId::new(crate::unique_id()),
        channel: ChannelId::new(crate::unique_id()),
    }
}

/// A new message in `room` at position `seq`, with a unique id and `text`.
pub fn posted(room: RoomRef, seq: u64, text: &str) -> ChatEvent {
    let id = uuid::Uuid::new_v4().simple().to_string();
    ChatEvent::Posted(
        NewMessage {
            id: MessageId::parse(&id).expect("a uuid is a valid message id"),
            room,
            author: UserProfile {
                id: UserId::new(1),
                name: "alice".into(),
                image: None,
            },
            body: MessageBody::parse(text).expect("a valid body"),
            parent: None,
            attachment: None,
            client_msg_id: None,
            sent_at: Timestamp::from_unix_micros(1_700_000_000_000_000),
        }
        .stored_at(Seq::new(seq)),
    )
}

/// A message in `room`, someone typing, the message's edit and its delete: four kinds of event
/// for one room, in that order.
pub fn a_conversation(room: RoomRef) -> Vec<ChatEvent> {
    let message = posted(room, 1, "original");
    let ChatEvent::Posted(original) = &message else {
        unreachable!("posted builds a Posted event")
    };
    let edited = original
        .edited(
            UserId::new(1),
            MessageBody::parse("edited").expect("a valid body"),
            Timestamp::from_unix_micros(1_700_000_000_000_001),
        )
        .expect("the author may edit");
    let deleted = edited
        .deleted(
            UserId::new(1),
            Timestamp::from_unix_micros(1_700_000_000_000_002),
        )
        .expect("the author may delete");
    vec![
        message.clone(),
        ChatEvent::Typing(Typing {
            room,
            user: UserProfile::anonymous(UserId::new(2)),
        }),
        ChatEvent::Edited {
            message: edited,
            seq: Seq::new(2),
        },
        ChatEvent::Deleted {
            message: deleted,
            seq: Seq::new(3),
        },
    ]
}

/// One event of every kind, each for its own fresh room or community.
pub fn one_of_every_kind() -> Vec<ChatEvent> {
    let dm = direct_room();
    let channel = channel_room();
    let ChatEvent::Posted(original) = posted(dm, 1, "original") else {
        unreachable!("posted builds a Posted event")
    };
    let edited = original
        .edited(
            UserId::new(1),
            MessageBody::parse("edited").expect("a valid body"),
            Timestamp::from_unix_micros(1_700_000_000_000_001),
        )
        .expect("the author may edit");
    let deleted = original
        .deleted(
            UserId::new(1),
            Timestamp::from_unix_micros(1_700_000_000_000_002),
        )
        .expect("the author may delete");
    let community = CommunityId::new(crate::unique_id());
    vec![
        posted(channel, 1, "in a channel"),
        ChatEvent::Edited {
            message: edited,
            seq: Seq::new(2),
        },
        ChatEvent::Deleted {
            message: deleted,
            seq: Seq::new(3),
        },
        ChatEvent::Typing(Typing {
            room: channel,
            user: UserProfile::anonymous(UserId::new(2)),
        }),
        ChatEvent::Presence(PresenceChange {
            user: UserId::new(crate::unique_id()),
            status: PresenceStatus::Online,
            audiences: vec![dm.audience(), Audience::Community(community)],
        }),
        ChatEvent::VoiceLeft(
            VoiceLeave::new(
                Some(community),
                Location::Channel(ChannelId::new(crate::unique_id())),
                vec![UserId::new(3)],
            )
            .expect("a channel of a community"),
        ),
        ChatEvent::VoiceOccupancy(VoiceOccupancy {
            community,
            channels: BTreeMap::from([(ChannelId::new(crate::unique_id()), vec![UserId::new(4)])]),
        }),
    ]
}

/// The next `count` events of `stream`; panics naming `who` if they do not arrive in time.
pub async fn receive(stream: &mut EventStream, count: usize, who: &str) -> Vec<ChatEvent> {
    let mut received = Vec::with_capacity(count);
    let deadline = tokio::time::Instant::now() + RECEIVE_TIMEOUT;
    while received.len() < count {
        let next = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{who}: only {} of {count} events arrived within {RECEIVE_TIMEOUT:?}",
                    received.len()
                )
            });
        let Some(event) = next else {
            panic!(
                "{who}: the event stream ended after {} of {count} events",
                received.len()
            )
        };
        received.push(event);
    }
    received
}

/// Panics if `stream` yields anything within a short while (a duplicate, or a stray event).
pub async fn assert_nothing_more(stream: &mut EventStream, who: &str) {
    if let Ok(Some(extra)) = tokio::time::timeout(QUIET, stream.next()).await {
        panic!("{who}: received an event that was not published, or twice: {extra:?}");
    }
}

/// The events of `events` heard in `audience`, in their order.
pub fn in_audience(events: &[ChatEvent], audience: Audience) -> Vec<ChatEvent> {
    events
        .iter()
        .filter(|event| event.audiences().contains(&audience))
        .cloned()
        .collect()
}

/// Asserts `received` holds exactly the events of `published`, each once, in any order
/// across rooms.
pub fn assert_same_events(received: &[ChatEvent], published: &[ChatEvent], who: &str) {
    let mut missing: Vec<&ChatEvent> = published.iter().collect();
    for event in received {
        let Some(at) = missing.iter().position(|expected| *expected == event) else {
            panic!("{who}: received an event that was not published, or twice: {event:?}");
        };
        missing.swap_remove(at);
    }
    assert!(missing.is_empty(), "{who}: never received {missing:?}");
}

/// Every subscriber receives every published event exactly once, in publish order.
pub async fn a_subscriber_receives_every_published_event_once_in_publish_order<B: EventBus>(
    bus: &B,
) {
    let mut first = bus.subscribe().expect("subscribed");
    let mut second = bus.subscribe().expect("subscribed");
    let room = direct_room();
    let published: Vec<ChatEvent> = (1..=20)
        .map(|seq| posted(room, seq, &format!("message {seq}")))
        .collect();

    for event in &published {
        bus.publish(event).await.expect("the bus accepts the event");
    }

    for (who, stream) in [
        ("first subscriber", &mut first),
        ("second subscriber", &mut second),
    ] {
        let received = receive(stream, published.len(), who).await;
        assert_eq!(received, published, "{who}: events out of publish order");
        assert_nothing_more(stream, who).await;
    }
}

/// A subscriber receives nothing published before it subscribed.
pub async fn a_subscriber_receives_only_what_is_published_after_it_subscribed<B: EventBus>(
    bus: &B,
) {
    let room = direct_room();
    let mut early = bus.subscribe().expect("subscribed");
    let before = posted(room, 1, "before");
    bus.publish(&before).await.expect("published");
    assert_eq!(
        receive(&mut early, 1, "early subscriber").await,
        vec![before]
    );

    let mut late = bus.subscribe().expect("subscribed");
    let after = posted(room, 2, "after");
    bus.publish(&after).await.expect("published");

    assert_eq!(receive(&mut late, 1, "late subscriber").await, vec![after]);
    assert_nothing_more(&mut late, "late subscriber").await;
}

/// Two instances on one bus: each receives every event published by either, its own included,
/// once, and each room's events in the order they were published.
pub async fn two_instances_each_receive_every_event_published_by_either<A, B>(first: &A, second: &B)
where
    A: EventBus,
    B: EventBus,
{
    let mut on_first = first.subscribe().expect("subscribed");
    let mut on_second = second.subscribe().expect("subscribed");
    let room_of_first = direct_room();
    let room_of_second = channel_room();
    let mut published = Vec::new();

    for seq in 1..=10 {
        let from_first = posted(room_of_first, seq, &format!("first {seq}"));
        first
            .publish(&from_first)
            .await
            .expect("first instance publishes");
        published.push(from_first);
        let from_second = posted(room_of_second, seq, &format!("second {seq}"));
        second
            .publish(&from_second)
            .await
            .expect("second instance publishes");
        published.push(from_second);
    }

    for (who, stream) in [
        ("first instance", &mut on_first),
        ("second instance", &mut on_second),
    ] {
        let received = receive(stream, published.len(), who).await;
        assert_same_events(&received, &published, who);
        for room in [room_of_first, room_of_second] {
            assert_eq!(
                in_audience(&received, room.audience()),
                in_audience(&published, room.audience()),
                "{who}: the events of {room} are out of order"
            );
        }
        assert_nothing_more(stream, who).await;
    }
}

/// Events of every kind, for many rooms at once, are all delivered, each room in order.
pub async fn events_of_every_kind_for_different_rooms_are_all_delivered<B: EventBus>(bus: &B) {
    let mut stream = bus.subscribe().expect("subscribed");
    let rooms: Vec<RoomRef> = (0..8)
        .map(|i| {
            if i % 2 == 0 {
                direct_room()
            } else {
                channel_room()
            }
        })
        .collect();
    let mut published = one_of_every_kind();
    for seq in 1..=3 {
        for room in &rooms {
            published.push(posted(*room, seq, &format!("message {seq}")));
        }
    }

    for event in &published {
        bus.publish(event).await.expect("the bus accepts the event");
    }

    let received = receive(&mut stream, published.len(), "subscriber").await;
    assert_same_events(&received, &published, "subscriber");
    for room in rooms {
        assert_eq!(
            in_audience(&received, room.audience()),
            in_audience(&published, room.audience()),
            "the events of {room} are out of order"
        );
    }
    assert_nothing_more(&mut stream, "subscriber").await;
}
