//! Use case: a member reads one message by id.

use std::sync::Arc;

use domain::{Message, MessageId, UserId};

use super::access::{AccessError, ensure_may_read};
use crate::ports::outbound::{CommunityDirectory, DirectoryError, MessageStore, StoreError};

/// Every way [`GetMessage::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum GetMessageError {
    /// No such message, or one in a room the reader may not read: the two are one answer,
    /// so that ids cannot be probed for messages of other rooms.
    #[error("message {0} not found")]
    NotFound(MessageId),
    /// A dependency failed.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(GetMessageError: StoreError, DirectoryError);

/// Reads one message, live or tombstone, for a member of its room.
pub struct GetMessage {
    directory: Arc<dyn CommunityDirectory>,
    store: Arc<dyn MessageStore>,
}

impl GetMessage {
    /// Wires the use case to its ports.
    pub fn new(directory: Arc<dyn CommunityDirectory>, store: Arc<dyn MessageStore>) -> Self {
        Self { directory, store }
    }

    /// Runs the use case.
    pub async fn execute(&self, reader: UserId, id: MessageId) -> Result<Message, GetMessageError> {
        let Some(message) = self.store.find(&id).await? else {
            return Err(GetMessageError::NotFound(id));
        };
        match ensure_may_read(&*self.directory, reader, message.room().key()).await {
            Ok(()) => {}
            Err(AccessError::Forbidden(room)) => {
                tracing::debug!(%reader, %id, %room, "message of a room the reader may not read");
                return Err(GetMessageError::NotFound(id));
            }
            Err(AccessError::UnknownChannel(channel)) => {
                tracing::debug!(%reader, %id, %channel, "message of a channel no source places");
                return Err(GetMessageError::NotFound(id));
            }
            Err(AccessError::Unavailable(cause)) => return Err(cause.into()),
        }
        let parent = match message.parent() {
            Some(snapshot) => self.store.find(&snapshot.id).await?,
            None => None,
        };
        Ok(message.with_current_parent(parent.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::test_support::{ALICE, BOB, DM, MocksBuilder, stored};

    fn id() -> MessageId {
        MessageId::parse("m1").expect("id")
    }

    #[tokio::test]
    async fn a_member_reads_a_message() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, DM, "hi"))));
        let m = m.build();

        let message = GetMessage::new(m.directory, m.store)
            .execute(BOB, id())
            .await;

        assert_eq!(message.expect("found").id(), &id());
    }

    #[tokio::test]
    async fn a_message_of_a_room_the_reader_may_not_read_is_answered_as_not_found() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.store.expect_find().returning(|_| Ok(None));
        let m = m.build();
        let missing = GetMessage::new(m.directory, m.store)
            .execute(BOB, id())
            .await;

        let mut m = MocksBuilder::new().member_nowhere();
        m.store
            .expect_find()
            .times(1)
            .returning(|_| Ok(Some(stored("m1", ALICE, DM, "hi"))));
        let m = m.build();
        let not_allowed = GetMessage::new(m.directory, m.store)
            .execute(BOB, id())
            .await;

        let (Err(missing), Err(not_allowed)) = (missing, not_allowed) else {
            panic!("both refused");
        };
        assert!(matches!(not_allowed, GetMessageError::NotFound(ref m) if *m == id()));
        assert_eq!(
            missing.to_string(),
            not_allowed.to_string(),
            "one answer for both"
        );
    }
}
