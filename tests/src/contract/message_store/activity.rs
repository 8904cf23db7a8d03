//! Unread activity: live messages of others after a reader's marker, per room and for many
//! rooms in one round trip.

use super::{
    ALICE, BOB, ChannelId, CommunityId, MessageStore, RoomActivity, RoomId, RoomRef, Seq, activity,
    channel, dm, post, tombstone, unique_id,
};

/// Unread: live messages of others after the marker (own messages and tombstones
/// do not count); the newest message gives the room's last number and time.
pub async fn activity_counts_live_messages_of_others_after_the_marker(store: impl MessageStore) {
    let room = dm();
    let reader = BOB;
    let m1 = post(&store, room, ALICE, "1").await;
    let _m2 = post(&store, room, ALICE, "2").await;
    let _own = post(&store, room, reader, "mine").await;
    let m4 = post(&store, room, ALICE, "4").await;
    let m5 = post(&store, room, ALICE, "5").await;
    store.update(&tombstone(&m4)).await.expect("delete");

    let never_read = activity(&store, room, reader, None).await;
    let read_to_first = activity(&store, room, reader, Some(m1.seq().get())).await;
    let read_all = activity(&store, room, reader, Some(m5.seq().get())).await;
    let author_view = activity(&store, room, ALICE, None).await;

    assert_eq!(never_read.unread, 3, "m1, m2, m5: not own, not deleted");
    assert_eq!(read_to_first.unread, 2, "m2 and m5");
    assert_eq!(read_all.unread, 0);
    assert_eq!(
        author_view.unread, 1,
        "only the reader's message, for Alice"
    );
    assert_eq!(
        never_read.last_seq,
        Some(m5.seq()),
        "the newest posting number, not the delete's"
    );
    assert_eq!(never_read.last_message_at, Some(m5.sent_at()));
}

/// The newest message gives the room's recency even when it was deleted.
pub async fn a_deleted_newest_message_still_dates_the_room(store: impl MessageStore) {
    let room = channel();
    post(&store, room, ALICE, "older").await;
    let newest = post(&store, room, ALICE, "newest").await;
    store.update(&tombstone(&newest)).await.expect("delete");

    let seen = activity(&store, room, BOB, None).await;

    assert_eq!(seen.last_seq, Some(newest.seq()));
    assert_eq!(seen.last_message_at, Some(newest.sent_at()));
    assert_eq!(seen.unread, 1);
}

/// The activity of many rooms at once is each room's own activity, in the order asked,
/// each with its own marker: DM rooms and channels mixed (a DM room and a channel with the
/// same number are different rooms), empty rooms included.
pub async fn activities_of_many_rooms_are_each_rooms_activity_in_the_order_asked(
    store: impl MessageStore,
) {
    let reader = BOB;
    let busy = dm();
    let number = unique_id();
    let same_number_dm = RoomRef::Direct(RoomId::new(number));
    let same_number_channel = RoomRef::Channel {
        community: CommunityId::new(unique_id()),
        channel: ChannelId::new(number),
    };
    let empty = dm();
    let b1 = post(&store, busy, ALICE, "b1").await;
    post(&store, busy, ALICE, "b2").await;
    post(&store, busy, reader, "mine").await;
    let b4 = post(&store, busy, ALICE, "b4").await;
    store.update(&tombstone(&b4)).await.expect("delete");
    let d1 = post(&store, same_number_dm, ALICE, "d1").await;
    for n in 1..=3 {
        post(&store, same_number_channel, ALICE, &format!("c{n}")).await;
    }
    let asked = [
        (empty.key(), None),
        (busy.key(), Some(b1.seq())),
        (same_number_channel.key(), None),
        (same_number_dm.key(), Some(d1.seq())),
    ];

    let together = store
        .activities(reader, &asked)
        .await
        .unwrap_or_else(|error| panic!("activities: {error:?}"));

    let mut one_by_one = Vec::new();
    for (room, marker) in asked {
        one_by_one.push(
            store
                .activity(room, reader, marker)
                .await
                .unwrap_or_else(|error| panic!("activity of {room}: {error:?}")),
        );
    }
    assert_eq!(together, one_by_one);
    let unread: Vec<u64> = together.iter().map(|a| a.unread).collect();
    assert_eq!(unread, [0, 1, 3, 0], "b2 only; c1-c3; d1 was read");
    assert_eq!(together[0], RoomActivity::default());
    assert_eq!(
        together[1].last_seq,
        Some(b4.seq()),
        "a deleted newest still dates"
    );
    assert_eq!(together[1].last_message_at, Some(b4.sent_at()));
    assert_eq!(together[3].last_seq, Some(d1.seq()));
}

/// Asking about no rooms answers nothing, and rooms nobody posted in have no activity.
pub async fn activities_of_no_rooms_or_empty_rooms_are_empty(store: impl MessageStore) {
    post(&store, dm(), ALICE, "elsewhere").await;

    let none = store.activities(BOB, &[]).await.expect("activities");
    let empty = store
        .activities(
            BOB,
            &[(dm().key(), None), (channel().key(), Some(Seq::new(4)))],
        )
        .await
        .expect("activities");

    assert!(none.is_empty());
    assert_eq!(empty, [RoomActivity::default(), RoomActivity::default()]);
}

/// A room nobody posted in has no activity.
pub async fn an_empty_room_has_no_activity(store: impl MessageStore) {
    post(&store, dm(), ALICE, "elsewhere").await;

    assert_eq!(
        activity(&store, dm(), BOB, None).await,
        RoomActivity::default()
    );
}
