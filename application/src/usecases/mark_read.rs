//! Use case: a member marks a room read up to a message (or to its newest).

use std::sync::Arc;

use domain::{MessageId, RoomKey, Seq, UserId};

use super::access::{ensure_may_read, seq_in_room};
use crate::ports::outbound::{
    CommunityDirectory, MarkerError, MessageStore, ReadMarkers, StoreError,
};

/// Every way [`MarkRead::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum MarkReadError {
    /// The reader is not a member of the room.
    #[error("not a member of {0}")]
    Forbidden(RoomKey),
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// The message is not in this room.
    #[error("message {0} not found in this room")]
    NotFound(MessageId),
    /// A dependency failed.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(MarkReadError: RoomKey);
unavailable_from!(MarkReadError: StoreError, MarkerError);

/// Moves the reader's marker forward; returns where it now points (None: empty room).
pub struct MarkRead {
    directory: Arc<dyn CommunityDirectory>,
    store: Arc<dyn MessageStore>,
    markers: Arc<dyn ReadMarkers>,
}

impl MarkRead {
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
    pub async fn execute(
        &self,
        reader: UserId,
        room: RoomKey,
        up_to: Option<MessageId>,
    ) -> Result<Option<Seq>, MarkReadError> {
        ensure_may_read(&*self.directory, reader, room).await?;
        let seq = match up_to {
            Some(id) => Some(
                seq_in_room(&*self.store, &id, room)
                    .await?
                    .ok_or(MarkReadError::NotFound(id))?,
            ),
            None => self.store.activity(room, reader, None).await?.last_seq,
        };
        if let Some(seq) = seq {
            self.markers.mark_read(reader, room, seq).await?;
        }
        Ok(seq)
    }
}

#[cfg(test)]
mod tests {
    use domain::RoomId;

    use super::*;
    use crate::ports::outbound::RoomActivity;
    use crate::usecases::test_support::{ALICE, DM, MocksBuilder, OTHER_DM, stored};

    const ROOM: RoomKey = RoomKey::Direct(RoomId::new(5));

    #[tokio::test]
    async fn marking_without_a_message_marks_up_to_the_newest() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store.expect_activity().returning(|_, _, _| {
            Ok(RoomActivity {
                last_seq: Some(Seq::new(12)),
                ..RoomActivity::default()
            })
        });
        m.markers
            .expect_mark_read()
            .withf(|user, room, seq| *user == ALICE && *room == ROOM && *seq == Seq::new(12))
            .times(1)
            .returning(|_, _, _| Ok(()));
        let m = m.build();

        let marked = MarkRead::new(m.directory, m.store, m.markers)
            .execute(ALICE, ROOM, None)
            .await;

        assert_eq!(marked.expect("marked"), Some(Seq::new(12)));
    }

    #[tokio::test]
    async fn marking_up_to_a_message_of_another_room_is_not_found() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, OTHER_DM, "x"))));
        m.markers.expect_mark_read().never();
        let m = m.build();

        let err = MarkRead::new(m.directory, m.store, m.markers)
            .execute(ALICE, ROOM, Some(MessageId::parse("m1").expect("id")))
            .await;

        assert!(matches!(err, Err(MarkReadError::NotFound(_))));
    }

    #[tokio::test]
    async fn marking_up_to_a_message_of_the_room_uses_its_seq() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, DM, "x"))));
        m.markers
            .expect_mark_read()
            .withf(|_, _, seq| *seq == Seq::new(1))
            .times(1)
            .returning(|_, _, _| Ok(()));
        let m = m.build();

        let marked = MarkRead::new(m.directory, m.store, m.markers)
            .execute(ALICE, ROOM, Some(MessageId::parse("m1").expect("id")))
            .await;

        assert!(marked.is_ok());
    }
}
