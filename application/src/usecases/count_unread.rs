//! Use case: unread counts of rooms for one reader, most recently active first.

use std::sync::Arc;

use domain::{RoomKey, UserId};
use futures::{StreamExt as _, TryStreamExt as _};

use super::access::ensure_may_read;
use crate::ports::outbound::{
    CommunityDirectory, MarkerError, MessageStore, ReadMarkers, RoomActivity, StoreError,
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

/// Membership checks of one request in flight at once: the directory is asked about every
/// room, but not 200 times at the same moment.
const MEMBERSHIP_CHECKS_AT_ONCE: usize = 16;

/// Counts unread messages per room. Rooms come back ordered by their last
/// message, newest first, then rooms without messages in the order asked
/// (the seed ordered by a 12-hour clock string and lost rooms on ties).
///
/// Whatever the number of rooms, the stores are asked twice: the reader's markers of every
/// room in one lookup, then every room's activity in one aggregation (the seed, and this
/// server before, made three sequential calls per room).
pub struct CountUnread {
    directory: Arc<dyn CommunityDirectory>,
    store: Arc<dyn MessageStore>,
    markers: Arc<dyn ReadMarkers>,
}

impl CountUnread {
    /// Most rooms in one request.
    pub const MAX_ROOMS: usize = 200;

    /// Wires the use case to its ports.
    pub fn new(
        directory: Arc<dyn CommunityDirectory>,
        store: Arc<dyn MessageStore>,
        markers: Arc<dyn ReadMarkers>,
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
        let mut unique: Vec<RoomKey> = Vec::with_capacity(rooms.len());
        for room in rooms {
            if !unique.contains(&room) {
                unique.push(room);
            }
        }
        if unique.is_empty() {
            return Ok(Vec::new());
        }
        let directory = &*self.directory;
        let checks: Vec<_> = unique
            .iter()
            .map(|room| ensure_may_read(directory, reader, *room))
            .collect();
        futures::stream::iter(checks)
            .buffered(MEMBERSHIP_CHECKS_AT_ONCE)
            .try_collect::<Vec<()>>()
            .await?;
        let markers = self.markers.read_up_to_many(reader, &unique).await?;
        if markers.len() != unique.len() {
            return Err(UnreadError::Unavailable(anyhow::anyhow!(
                "the read markers answered {} rooms of {}",
                markers.len(),
                unique.len()
            )));
        }
        let asked: Vec<_> = unique.iter().copied().zip(markers).collect();
        let activities = self.store.activities(reader, &asked).await?;
        if activities.len() != unique.len() {
            return Err(UnreadError::Unavailable(anyhow::anyhow!(
                "the message store answered {} rooms of {}",
                activities.len(),
                unique.len()
            )));
        }
        let mut counted: Vec<RoomUnread> = unique
            .into_iter()
            .zip(activities)
            .map(|(room, activity)| RoomUnread { room, activity })
            .collect();
        // Stable sort: rooms without messages keep the order they were asked in.
        counted.sort_by_key(|c| std::cmp::Reverse(c.activity.last_message_at));
        Ok(counted)
    }
}

#[cfg(test)]
mod tests {
    use domain::{RoomId, Seq, Timestamp};

    use super::*;
    use crate::usecases::test_support::{ALICE, MocksBuilder};

    fn room(id: u64) -> RoomKey {
        RoomKey::Direct(RoomId::new(id))
    }

    fn no_markers(m: &mut MocksBuilder) {
        m.markers
            .expect_read_up_to_many()
            .returning(|_, rooms| Ok(vec![None; rooms.len()]));
    }

    #[tokio::test]
    async fn rooms_come_back_by_last_message_newest_first_and_empty_rooms_last() {
        let mut m = MocksBuilder::new().member_everywhere();
        no_markers(&mut m);
        m.store.expect_activities().returning(|_, rooms| {
            Ok(rooms
                .iter()
                .map(|(room, _)| {
                    let at = match room {
                        RoomKey::Direct(r) if r.get() == 1 => Some(10),
                        RoomKey::Direct(r) if r.get() == 2 => Some(30),
                        RoomKey::Direct(r) if r.get() == 3 => Some(30),
                        _ => None,
                    };
                    RoomActivity {
                        unread: 1,
                        last_message_at: at.map(Timestamp::from_unix_micros),
                        last_seq: None,
                    }
                })
                .collect())
        });
        let m = m.build();

        let counted = CountUnread::new(m.directory, m.store, m.markers)
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
    async fn many_rooms_cost_one_marker_lookup_and_one_store_aggregation() {
        let mut m = MocksBuilder::new().member_everywhere();
        let rooms: Vec<RoomKey> = (1..=200).map(room).collect();
        let expected = rooms.clone();
        m.markers
            .expect_read_up_to_many()
            .withf(move |reader, asked| *reader == ALICE && asked == expected.as_slice())
            .times(1)
            .returning(|_, rooms| Ok(vec![Some(Seq::new(3)); rooms.len()]));
        m.markers.expect_read_up_to().never();
        m.store
            .expect_activities()
            .withf(|reader, asked| {
                *reader == ALICE
                    && asked.len() == 200
                    && asked.iter().all(|(_, marker)| *marker == Some(Seq::new(3)))
            })
            .times(1)
            .returning(|_, rooms| Ok(vec![RoomActivity::default(); rooms.len()]));
        m.store.expect_activity().never();
        let m = m.build();

        let counted = CountUnread::new(m.directory, m.store, m.markers)
            .execute(ALICE, rooms)
            .await
            .expect("counted");

        assert_eq!(counted.len(), 200);
    }

    #[tokio::test]
    async fn each_room_gets_the_readers_own_marker_and_duplicates_are_counted_once() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.markers
            .expect_read_up_to_many()
            .withf(|_, asked| asked == [room(1), room(2)])
            .returning(|_, _| Ok(vec![Some(Seq::new(7)), None]));
        m.store
            .expect_activities()
            .withf(|reader, asked| {
                *reader == ALICE && asked == [(room(1), Some(Seq::new(7))), (room(2), None)]
            })
            .times(1)
            .returning(|_, rooms| Ok(vec![RoomActivity::default(); rooms.len()]));
        let m = m.build();

        let counted = CountUnread::new(m.directory, m.store, m.markers)
            .execute(ALICE, vec![room(1), room(2), room(1)])
            .await
            .expect("counted");

        assert_eq!(counted.len(), 2);
    }

    #[tokio::test]
    async fn a_room_the_reader_is_not_in_is_forbidden_and_nothing_is_counted() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.markers.expect_read_up_to_many().never();
        m.store.expect_activities().never();
        let m = m.build();

        let err = CountUnread::new(m.directory, m.store, m.markers)
            .execute(ALICE, vec![room(1)])
            .await;

        assert!(matches!(err, Err(UnreadError::Forbidden(_))));
    }

    #[tokio::test]
    async fn a_store_answering_for_fewer_rooms_is_an_outage_not_a_wrong_count() {
        let mut m = MocksBuilder::new().member_everywhere();
        no_markers(&mut m);
        m.store
            .expect_activities()
            .returning(|_, _| Ok(vec![RoomActivity::default()]));
        let m = m.build();

        let err = CountUnread::new(m.directory, m.store, m.markers)
            .execute(ALICE, vec![room(1), room(2)])
            .await;

        assert!(matches!(err, Err(UnreadError::Unavailable(_))));
    }
}
