//! Use case: a member posts a message in a DM room or a channel.

use std::sync::Arc;

use domain::{Message, MessageBody, MessageBodyError, NewMessage, RoomRef, UserId};

use super::access::ensure_may_post;
use crate::ports::outbound::{
    BusError, Clock, EventBus, IdGenerator, MessageStore, Ports, StoreError, UserDirectory,
    UserDirectoryError,
};

/// Input of [`PostMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostCommand {
    /// The session's user, never a client-supplied id.
    pub author: UserId,
    /// Where to post.
    pub room: RoomRef,
    /// The text as sent.
    pub body: String,
}

/// Every way [`PostMessage::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// The text breaks a content rule.
    #[error(transparent)]
    InvalidBody(#[from] MessageBodyError),
    /// The author is not a member of the room.
    #[error("not a member of {0}")]
    Forbidden(RoomRef),
    /// A dependency failed; nothing was published (and nothing stored if the store failed).
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(PostError);

unavailable_from!(PostError: StoreError, BusError, UserDirectoryError);

/// Validates a message, stores it (getting its room sequence number), then publishes it.
pub struct PostMessage<P: Ports> {
    directory: Arc<P::Directory>,
    users: Arc<P::Users>,
    store: Arc<P::Store>,
    bus: Arc<P::Bus>,
    clock: Arc<P::Clock>,
    ids: Arc<P::Ids>,
}

impl<P: Ports> PostMessage<P> {
    /// Wires the use case to its ports.
    pub fn new(
        directory: Arc<P::Directory>,
        users: Arc<P::Users>,
        store: Arc<P::Store>,
        bus: Arc<P::Bus>,
        clock: Arc<P::Clock>,
        ids: Arc<P::Ids>,
    ) -> Self {
        Self {
            directory,
            users,
            store,
            bus,
            clock,
            ids,
        }
    }

    /// Runs the use case.
    #[tracing::instrument(name = "post_message", skip_all, fields(room = %cmd.room, author = %cmd.author))]
    pub async fn execute(&self, cmd: PostCommand) -> Result<Message, PostError> {
        let body = MessageBody::parse(&cmd.body)?;
        ensure_may_post(&*self.directory, cmd.author, cmd.room).await?;
        let author = self.users.profile(cmd.author).await?;
        let message = self
            .store
            .append(NewMessage {
                id: self.ids.message_id(),
                room: cmd.room,
                author,
                body,
                parent: None,
                attachment: None,
                sent_at: self.clock.now(),
            })
            .await?;
        self.bus
            .publish(&domain::ChatEvent::Posted(message.clone()))
            .await?;
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use domain::{ChatEvent, Seq};
    use mockall::Sequence;

    use super::*;
    use crate::usecases::test_support::{ALICE, DM, Mocks, MocksBuilder, store_down};

    fn command(body: &str) -> PostCommand {
        PostCommand {
            author: ALICE,
            room: DM,
            body: body.into(),
        }
    }

    fn use_case(m: Mocks) -> PostMessage<Mocks> {
        PostMessage::new(m.directory, m.users, m.store, m.bus, m.clock, m.ids)
    }

    #[tokio::test]
    async fn a_member_message_is_stored_then_published_with_its_sequence_number() {
        // Arrange
        let mut order = Sequence::new();
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_append()
            .withf(|new| new.body.as_str() == "hello" && new.author.id == ALICE)
            .times(1)
            .in_sequence(&mut order)
            .returning(|new| Ok(new.stored_at(Seq::new(4))));
        m.bus
            .expect_publish()
            .withf(|e| matches!(e, ChatEvent::Posted(msg) if msg.seq() == Seq::new(4)))
            .times(1)
            .in_sequence(&mut order)
            .returning(|_| Ok(()));

        // Act
        let message = use_case(m.build()).execute(command(" hello ")).await;

        // Assert
        let message = message.expect("posted");
        assert_eq!(message.author().name, "alice");
        assert_eq!(message.seq(), Seq::new(4));
    }

    #[tokio::test]
    async fn when_the_store_is_down_nothing_is_published() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store.expect_append().returning(|_| Err(store_down()));
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command("hello")).await;

        assert!(matches!(err, Err(PostError::Unavailable(_))), "{err:?}");
    }

    #[tokio::test]
    async fn an_empty_message_is_refused_before_anything_is_written() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store.expect_append().never();
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command("   ")).await;

        assert!(matches!(
            err,
            Err(PostError::InvalidBody(MessageBodyError::Empty))
        ));
    }

    #[tokio::test]
    async fn a_non_member_cannot_post() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.store.expect_append().never();
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command("hello")).await;

        assert!(matches!(err, Err(PostError::Forbidden(room)) if room == DM));
    }
}
