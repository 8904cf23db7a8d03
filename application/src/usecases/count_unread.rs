//! Use case: unread counts of rooms for one reader, most recently active first.

use std::sync::Arc;

use domain::{RoomKey, UserId};

use super::access::ensure_may_read;
use crate::ports::outbound::{
    MarkerError, MessageStore, Ports, ReadMarkers, RoomActivity, StoreError,
};

/// The unread count and recency of one room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomUnread {
    /// The room.
    pub room: RoomKey,
    /// Its activity for the reader.
    pub activity: RoomActivity,
}

/// Every way [`CountUnread::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum UnreadError {
    /// The reader is not a member of one of the rooms.
    #[error("not a member of {0}")]
    Forbidden(RoomKey),
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// More rooms than [`CountUnread::MAX_ROOMS`] in one request.
    #[error("at most {max} rooms per request, got {got}")]
    TooManyRooms {
        /// Rooms asked for.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// A dependency failed.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(UnreadError: RoomKey);
unavailable_from!(UnreadError: StoreError, MarkerError);

/// Counts unread messages per room. Rooms come back ordered by their last
/// message, newest first, then rooms without messages in the order asked
/// (the seed ordered by a 12-hour clock string and lost rooms on ties).
pub struct CountUnread<P: Ports> {
    directory: Arc<P::Directory>,
    store: Arc<P::Store>,
    markers: Arc<P::Markers>,
}

impl<P: Ports> CountUnread<P> {
    /// Most rooms in one request.
    pub const MAX_ROOMS: usize = 200;

    /// Wires the use case to its ports.
    pub fn new(
        directory: Arc<P::Directory>,
        store: Arc<P::Store>,
        markers: Arc<P::Markers>,
    ) -> Self {
        Self {
            directory,
            store,
            markers,
        }
    }

    /// Runs the use case.
    #[tracing::instrument(name = "count_unread", skip_all, fields(reader = %reader, rooms = rooms.len()))]
    pub async fn execute(
        &self,
        reader: UserId,
        rooms: Vec<RoomKey>,
    ) -> Result<Vec<RoomUnread>, UnreadError> {
        if rooms.len() > Self::MAX_ROOMS {
            return Err(UnreadError::TooManyRooms {
                got: rooms.len(),
                max: Self::MAX_ROOMS,
            });
        }
        let mut counted = Vec::with_capacity(rooms.len());
        for room in rooms {
            if counted.iter().any(|c: &RoomUnread| c.room == room) {
                continue;
            }
            ensure_may_read(&*self.directory, reader, room).await?;
            let marker = self.markers.read_up_to(reader, room).await?;
            let activity = self.store.activity(room, reader, marker).await?;
            counted.push(RoomUnread { room, activity });
        }
        // Stable sort: rooms without messages keep the order they were asked in.
        counted.sort_by_key(|c| std::cmp::Reverse(c.activity.last_message_at));
        Ok(counted)
    }
}

#[cfg(test)]
mod tests {
    use domain::{RoomId, Seq, Timestamp};

    use super::*;
    use crate::usecases::test_support::{ALICE, Mocks, MocksBuilder};

    fn room(id: u64) -> RoomKey {
        RoomKey::Direct(RoomId::new(id))
    }

    #[tokio::test]
    async fn rooms_come_back_by_last_message_newest_first_and_empty_rooms_last() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.markers
            .expect_read_up_to()
            .returning(|_, _| Ok(Some(Seq::new(1))));
        m.store.expect_activity().returning(|room, _, _| {
            let at = match room {
                RoomKey::Direct(r) if r.get() == 1 => Some(10),
                RoomKey::Direct(r) if r.get() == 2 => Some(30),
                RoomKey::Direct(r) if r.get() == 3 => Some(30),
                _ => None,
            };
            Ok(RoomActivity {
                unread: 1,
                last_message_at: at.map(Timestamp::from_unix_micros),
                last_seq: None,
            })
        });
        let m = m.build();

        let counted = CountUnread::<Mocks>::new(m.directory, m.store, m.markers)
            .execute(ALICE, vec![room(9), room(1), room(2), room(3), room(8)])
            .await
            .expect("counted");

        let order: Vec<RoomKey> = counted.iter().map(|c| c.room).collect();
        assert_eq!(
            order,
            vec![room(2), room(3), room(1), room(9), room(8)],
            "no room lost on a tie"
        );
    }

    #[tokio::test]
    async fn the_readers_marker_is_passed_to_the_store() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.markers
            .expect_read_up_to()
            .returning(|_, _| Ok(Some(Seq::new(7))));
        m.store
            .expect_activity()
            .withf(|_, reader, marker| *reader == ALICE && *marker == Some(Seq::new(7)))
            .times(1)
            .returning(|_, _, _| Ok(RoomActivity::default()));
        let m = m.build();

        let counted = CountUnread::<Mocks>::new(m.directory, m.store, m.markers)
            .execute(ALICE, vec![room(1)])
            .await;

        assert!(counted.is_ok());
    }

    #[tokio::test]
    async fn a_room_the_reader_is_not_in_is_forbidden() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.store.expect_activity().never();
        let m = m.build();

        let err = CountUnread::<Mocks>::new(m.directory, m.store, m.markers)
            .execute(ALICE, vec![room(1)])
            .await;

        assert!(matches!(err, Err(UnreadError::Forbidden(_))));
    }
}
