//! Use case: a member reads one message by id.

use std::sync::Arc;

use domain::{Message, MessageId, RoomKey, UserId};

use super::access::ensure_may_read;
use crate::ports::outbound::{MessageStore, Ports, StoreError};

/// Every way [`GetMessage::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum GetMessageError {
    /// No such message.
    #[error("message {0} not found")]
    NotFound(MessageId),
    /// The reader is not a member of the message's room.
    #[error("not a member of {0}")]
    Forbidden(RoomKey),
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// A dependency failed.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(GetMessageError: RoomKey);
unavailable_from!(GetMessageError: StoreError);

/// Reads one message, live or tombstone, for a member of its room.
pub struct GetMessage<P: Ports> {
    directory: Arc<P::Directory>,
    store: Arc<P::Store>,
}

impl<P: Ports> GetMessage<P> {
    /// Wires the use case to its ports.
    pub fn new(directory: Arc<P::Directory>, store: Arc<P::Store>) -> Self {
        Self { directory, store }
    }

    /// Runs the use case.
    pub async fn execute(&self, reader: UserId, id: MessageId) -> Result<Message, GetMessageError> {
        let message = self
            .store
            .find(&id)
            .await?
            .ok_or(GetMessageError::NotFound(id))?;
        ensure_may_read(&*self.directory, reader, message.room().key()).await?;
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
    use crate::usecases::test_support::{ALICE, BOB, DM, Mocks, MocksBuilder, stored};

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

        let message = GetMessage::<Mocks>::new(m.directory, m.store)
            .execute(BOB, id())
            .await;

        assert_eq!(message.expect("found").id(), &id());
    }

    #[tokio::test]
    async fn an_unknown_message_is_not_found_and_a_non_member_is_forbidden() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.store.expect_find().returning(|_| Ok(None));
        let m = m.build();
        let err = GetMessage::<Mocks>::new(m.directory, m.store)
            .execute(BOB, id())
            .await;
        assert!(matches!(err, Err(GetMessageError::NotFound(_))));

        let mut m = MocksBuilder::new().member_nowhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, DM, "hi"))));
        let m = m.build();
        let err = GetMessage::<Mocks>::new(m.directory, m.store)
            .execute(BOB, id())
            .await;
        assert!(matches!(err, Err(GetMessageError::Forbidden(_))));
    }
}
