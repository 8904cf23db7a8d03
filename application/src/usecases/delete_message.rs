//! Use case: the author deletes a message, leaving a tombstone.

use std::sync::Arc;

use domain::{ChatEvent, DeleteError, Message, MessageId, RoomRef, UserId};

use super::access::ensure_may_post;
use super::publish_stored::publish_stored;
use crate::ports::inbound::SendTurn;
use crate::ports::outbound::{
    BusError, Clock, CommunityDirectory, EventBus, MessageStore, StoreError,
};

/// Input of [`DeleteMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteCommand {
    /// The session's user (the seed trusted a `userId` from the payload instead).
    pub deleter: UserId,
    /// The room the client says the message is in.
    pub room: RoomRef,
    /// The message to delete.
    pub message: MessageId,
}

/// Every way [`DeleteMessage::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum DeleteMessageError {
    /// The deleter is not a member of the room.
    #[error("not a member of {0}")]
    Forbidden(RoomRef),
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// No message with that id in that room.
    #[error("message {0} not found")]
    NotFound(MessageId),
    /// Not the author, or already deleted.
    #[error(transparent)]
    Refused(#[from] DeleteError),
    /// A dependency failed; nothing was published.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(DeleteMessageError);

unavailable_from!(DeleteMessageError: StoreError, BusError);

/// Checks authorship, stores the tombstone (a new room event), then publishes it.
pub struct DeleteMessage {
    directory: Arc<dyn CommunityDirectory>,
    store: Arc<dyn MessageStore>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
}

impl DeleteMessage {
    /// Wires the use case to its ports.
    pub fn new(
        directory: Arc<dyn CommunityDirectory>,
        store: Arc<dyn MessageStore>,
        bus: Arc<dyn EventBus>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            store,
            bus,
            clock,
        }
    }

    /// Runs the use case outside any connection's order (a [`SendTurn::free`] turn).
    pub async fn execute(&self, cmd: DeleteCommand) -> Result<Message, DeleteMessageError> {
        self.execute_in_turn(cmd, SendTurn::free()).await
    }

    /// Runs the use case with its store step in `turn`, passed on as soon as that step is done.
    #[tracing::instrument(name = "delete_message", skip_all, fields(room = %cmd.room, deleter = %cmd.deleter, message = %cmd.message))]
    pub async fn execute_in_turn(
        &self,
        cmd: DeleteCommand,
        mut turn: SendTurn,
    ) -> Result<Message, DeleteMessageError> {
        ensure_may_post(&*self.directory, cmd.deleter, cmd.room).await?;
        // From the lookup on: a delete sent right after the post finds the message.
        turn.wait().await;
        let stored = self
            .store
            .find(&cmd.message)
            .await?
            .filter(|m| m.room() == cmd.room)
            .ok_or_else(|| DeleteMessageError::NotFound(cmd.message.clone()))?;
        let tombstone = stored.deleted(cmd.deleter, self.clock.now())?;
        let seq = self.store.update(&tombstone).await?;
        turn.pass();
        publish_stored(
            &*self.bus,
            &ChatEvent::Deleted {
                message: tombstone.clone(),
                seq,
            },
        )
        .await?;
        Ok(tombstone)
    }
}

#[cfg(test)]
mod tests {
    use domain::Seq;

    use super::*;
    use crate::usecases::test_support::{ALICE, BOB, DM, Mocks, MocksBuilder, stored};

    fn command(deleter: UserId) -> DeleteCommand {
        DeleteCommand {
            deleter,
            room: DM,
            message: MessageId::parse("m1").expect("id"),
        }
    }

    fn use_case(m: Mocks) -> DeleteMessage {
        DeleteMessage::new(m.directory, m.store, m.bus, m.clock)
    }

    #[tokio::test]
    async fn the_author_deletes_and_a_tombstone_is_stored_then_published() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, DM, "oops"))));
        m.store
            .expect_update()
            .withf(Message::is_deleted)
            .times(1)
            .returning(|_| Ok(Seq::new(3)));
        m.bus
            .expect_publish()
            .withf(|e| matches!(e, ChatEvent::Deleted { message, .. } if message.is_deleted()))
            .times(1)
            .returning(|_| Ok(()));

        let tombstone = use_case(m.build())
            .execute(command(ALICE))
            .await
            .expect("deleted");

        assert_eq!(tombstone.body(), None);
    }

    #[tokio::test]
    async fn a_non_author_delete_writes_nothing() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, DM, "mine"))));
        m.store.expect_update().never();
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command(BOB)).await;

        assert!(matches!(
            err,
            Err(DeleteMessageError::Refused(DeleteError::NotTheAuthor(_)))
        ));
    }

    #[tokio::test]
    async fn deleting_an_unknown_message_is_not_found() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store.expect_find().returning(|_| Ok(None));
        m.store.expect_update().never();

        let err = use_case(m.build()).execute(command(ALICE)).await;

        assert!(matches!(err, Err(DeleteMessageError::NotFound(_))));
    }

    #[tokio::test]
    async fn when_the_store_fails_to_write_the_tombstone_nothing_is_published() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, DM, "oops"))));
        m.store
            .expect_update()
            .returning(|_| Err(crate::usecases::test_support::store_down()));
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command(ALICE)).await;

        assert!(matches!(err, Err(DeleteMessageError::Unavailable(_))));
    }
}
