//! Contract of the `ReadMarkers` port: how far each user has read each room, a
//! marker that only ever moves forward. Each behaviour takes a fresh adapter and
//! works in rooms and for users no other test uses.

use application::ports::outbound::ReadMarkers;
use domain::{ChannelId, RoomId, RoomKey, Seq, UserId};

use crate::unique_id;

fn user() -> UserId {
    UserId::new(unique_id())
}

fn dm() -> RoomKey {
    RoomKey::Direct(RoomId::new(unique_id()))
}

async fn mark(markers: &impl ReadMarkers, user: UserId, room: RoomKey, seq: u64) {
    markers
        .mark_read(user, room, Seq::new(seq))
        .await
        .unwrap_or_else(|error| panic!("mark {room} read up to {seq} for {user}: {error:?}"));
}

async fn marker(markers: &impl ReadMarkers, user: UserId, room: RoomKey) -> Option<u64> {
    markers
        .read_up_to(user, room)
        .await
        .unwrap_or_else(|error| panic!("read marker of {user} in {room}: {error:?}"))
        .map(Seq::get)
}

/// A room the user never read has no marker.
pub async fn a_room_never_read_has_no_marker(markers: impl ReadMarkers) {
    let (someone, room) = (user(), dm());
    mark(&markers, someone, dm(), 3).await;

    assert_eq!(marker(&markers, someone, room).await, None);
    assert_eq!(marker(&markers, user(), room).await, None);
}

/// Marking a room read records how far.
pub async fn a_marker_records_how_far_the_user_read(markers: impl ReadMarkers) {
    let (reader, room) = (user(), dm());

    mark(&markers, reader, room, 5).await;

    assert_eq!(marker(&markers, reader, room).await, Some(5));
}

/// A later, higher mark moves the marker forward.
pub async fn a_marker_moves_forward(markers: impl ReadMarkers) {
    let (reader, room) = (user(), dm());

    mark(&markers, reader, room, 5).await;
    mark(&markers, reader, room, 9).await;

    assert_eq!(marker(&markers, reader, room).await, Some(9));
}

/// A lower (or equal) mark changes nothing: markers never move back.
pub async fn a_marker_never_moves_back(markers: impl ReadMarkers) {
    let (reader, room) = (user(), dm());

    mark(&markers, reader, room, 5).await;
    mark(&markers, reader, room, 3).await;
    mark(&markers, reader, room, 5).await;

    assert_eq!(marker(&markers, reader, room).await, Some(5));
}

/// Each user has a marker per room: a DM room and a channel with the same number
/// are different rooms, and one user's marks do not move another's.
pub async fn markers_are_kept_per_user_and_per_room(markers: impl ReadMarkers) {
    let (alice, bob) = (user(), user());
    let raw = unique_id();
    let (room, same_number_channel) = (
        RoomKey::Direct(RoomId::new(raw)),
        RoomKey::Channel(ChannelId::new(raw)),
    );

    mark(&markers, alice, room, 4).await;
    mark(&markers, bob, room, 2).await;
    mark(&markers, alice, same_number_channel, 7).await;

    assert_eq!(marker(&markers, alice, room).await, Some(4));
    assert_eq!(marker(&markers, bob, room).await, Some(2));
    assert_eq!(marker(&markers, alice, same_number_channel).await, Some(7));
    assert_eq!(marker(&markers, bob, same_number_channel).await, None);
}

/// Marks racing on one marker leave the highest, whatever order they land in.
pub async fn racing_marks_leave_the_highest(markers: impl ReadMarkers) {
    let (reader, room) = (user(), dm());
    // Interleaved high and low values, so any landing order is tested.
    let values = (1..=10).flat_map(|n| [n, 21 - n]);
    let marks = values.map(|seq| {
        let markers = &markers;
        async move { mark(markers, reader, room, seq).await }
    });

    futures::future::join_all(marks).await;

    assert_eq!(marker(&markers, reader, room).await, Some(20));
}

/// The markers of many rooms come back in one answer, in the order asked: `None` for a
/// room never read (or read only by someone else), each room's own otherwise.
pub async fn markers_of_many_rooms_come_back_in_the_order_asked(markers: impl ReadMarkers) {
    let (reader, someone_else) = (user(), user());
    let raw = unique_id();
    let (read, same_number_channel, unread, read_by_other) = (
        RoomKey::Direct(RoomId::new(raw)),
        RoomKey::Channel(ChannelId::new(raw)),
        dm(),
        dm(),
    );
    mark(&markers, reader, read, 4).await;
    mark(&markers, reader, same_number_channel, 9).await;
    mark(&markers, someone_else, read_by_other, 2).await;

    let found = markers
        .read_up_to_many(
            reader,
            &[unread, same_number_channel, read_by_other, read, unread],
        )
        .await
        .unwrap_or_else(|error| panic!("markers of {reader}: {error:?}"));
    let none = markers
        .read_up_to_many(reader, &[])
        .await
        .unwrap_or_else(|error| panic!("markers of no rooms: {error:?}"));

    assert_eq!(
        found,
        [None, Some(Seq::new(9)), None, Some(Seq::new(4)), None]
    );
    assert!(none.is_empty());
}
