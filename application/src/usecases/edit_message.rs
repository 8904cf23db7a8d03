//! Use case: the author changes the text of a message.

use std::sync::Arc;

use domain::{
    ChatEvent, EditError, Message, MessageBody, MessageBodyError, MessageId, RoomRef, UserId,
};

use super::access::ensure_may_post;
use super::publish_stored::publish_stored;
use crate::ports::inbound::SendTurn;
use crate::ports::outbound::{
    BusError, Clock, CommunityDirectory, EventBus, MessageStore, StoreError,
};

/// Input of [`EditMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditCommand {
    /// The session's user.
    pub editor: UserId,
    /// The room the client says the message is in.
    pub room: RoomRef,
    /// The message to edit.
    pub message: MessageId,
    /// The new text.
    pub body: String,
}

/// Every way [`EditMessage::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum EditMessageError {
    /// The new text breaks a content rule.
    #[error(transparent)]
    InvalidBody(#[from] MessageBodyError),
    /// The editor is not a member of the room.
    #[error("not a member of {0}")]
    Forbidden(RoomRef),
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// No message with that id in that room.
    #[error("message {0} not found")]
    NotFound(MessageId),
    /// Not the author, or the message is deleted.
    #[error(transparent)]
    Refused(#[from] EditError),
    /// A dependency failed; nothing was published.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(EditMessageError);

unavailable_from!(EditMessageError: StoreError, BusError);

/// Checks authorship, stores the new text (a new room event), then publishes it.
pub struct EditMessage {
    directory: Arc<dyn CommunityDirectory>,
    store: Arc<dyn MessageStore>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
}

impl EditMessage {
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
    pub async fn execute(&self, cmd: EditCommand) -> Result<Message, EditMessageError> {
        self.execute_in_turn(cmd, SendTurn::free()).await
    }

    /// Runs the use case with its store step in `turn`, passed on as soon as that step is done.
    #[tracing::instrument(name = "edit_message", skip_all, fields(room = %cmd.room, editor = %cmd.editor, message = %cmd.message))]
    pub async fn execute_in_turn(
        &self,
        cmd: EditCommand,
        mut turn: SendTurn,
    ) -> Result<Message, EditMessageError> {
        let body = MessageBody::parse(&cmd.body)?;
        ensure_may_post(&*self.directory, cmd.editor, cmd.room).await?;
        // From the lookup on: an edit sent right after the post finds the message.
        turn.wait().await;
        let stored = self
            .store
            .find(&cmd.message)
            .await?
            .filter(|m| m.room() == cmd.room)
            .ok_or_else(|| EditMessageError::NotFound(cmd.message.clone()))?;
        let edited = stored.edited(cmd.editor, body, self.clock.now())?;
        let seq = self.store.update(&edited).await?;
        turn.pass();
        publish_stored(
            &*self.bus,
            &ChatEvent::Edited {
                message: edited.clone(),
                seq,
            },
        )
        .await?;
        Ok(edited)
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::sync::atomic::{AtomicBool, Ordering};

    use domain::Seq;
    use futures::poll;

    use super::*;
    use crate::ports::inbound::SendLine;
    use crate::usecases::test_support::{
        ALICE, BOB, DM, Mocks, MocksBuilder, OTHER_DM, bus_down, stored,
    };

    fn command(editor: UserId) -> EditCommand {
        EditCommand {
            editor,
            room: DM,
            message: MessageId::parse("m1").expect("id"),
            body: "edited".into(),
        }
    }

    fn use_case(m: Mocks) -> EditMessage {
        EditMessage::new(m.directory, m.store, m.bus, m.clock)
    }

    #[tokio::test]
    async fn the_author_edits_and_the_edit_is_published_with_a_new_sequence_number() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, DM, "original"))));
        m.store
            .expect_update()
            .withf(|msg| msg.body().map(MessageBody::as_str) == Some("edited"))
            .times(1)
            .returning(|_| Ok(Seq::new(9)));
        m.bus
            .expect_publish()
            .withf(|e| matches!(e, ChatEvent::Edited { seq, .. } if *seq == Seq::new(9)))
            .times(1)
            .returning(|_| Ok(()));

        let edited = use_case(m.build())
            .execute(command(ALICE))
            .await
            .expect("edited");

        assert!(edited.edited_at().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_stored_edit_whose_publish_fails_is_published_again_and_stored_once() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, DM, "original"))));
        m.store
            .expect_update()
            .times(1)
            .returning(|_| Ok(Seq::new(9)));
        let mut attempts = 0;
        m.bus.expect_publish().times(2).returning(move |_| {
            attempts += 1;
            if attempts == 1 {
                Err(bus_down())
            } else {
                Ok(())
            }
        });

        let edited = use_case(m.build()).execute(command(ALICE)).await;

        assert!(edited.is_ok(), "{edited:?}");
    }

    #[tokio::test]
    async fn a_non_author_edit_writes_nothing() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, DM, "original"))));
        m.store.expect_update().never();
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command(BOB)).await;

        assert!(
            matches!(
                err,
                Err(EditMessageError::Refused(EditError::NotTheAuthor(_)))
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_message_of_another_room_is_not_found() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, OTHER_DM, "original"))));
        m.store.expect_update().never();

        let err = use_case(m.build()).execute(command(ALICE)).await;

        assert!(matches!(err, Err(EditMessageError::NotFound(_))));
    }

    #[tokio::test]
    async fn when_the_store_fails_to_write_the_edit_nothing_is_published() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("m1", ALICE, DM, "original"))));
        m.store
            .expect_update()
            .returning(|_| Err(crate::usecases::test_support::store_down()));
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command(ALICE)).await;

        assert!(matches!(err, Err(EditMessageError::Unavailable(_))));
    }

    #[tokio::test]
    async fn an_edit_sent_right_after_a_post_looks_the_message_up_only_once_the_post_is_stored() {
        let posted = Arc::new(AtomicBool::new(false));
        let mut m = MocksBuilder::new().member_everywhere();
        let seen = posted.clone();
        m.store.expect_find().times(1).returning(move |_| {
            assert!(
                seen.load(Ordering::Acquire),
                "looked up before the post was stored"
            );
            Ok(Some(stored("m1", ALICE, DM, "original")))
        });
        m.store
            .expect_update()
            .times(1)
            .returning(|_| Ok(Seq::new(2)));
        m.bus.expect_publish().times(1).returning(|_| Ok(()));
        let sut = use_case(m.build());
        let mut line = SendLine::new();
        let (post_turn, edit_turn) = (line.next_turn(), line.next_turn());

        let mut edit = pin!(sut.execute_in_turn(command(ALICE), edit_turn));
        assert!(
            poll!(&mut edit).is_pending(),
            "the post is still being stored"
        );
        posted.store(true, Ordering::Release);
        post_turn.pass();

        edit.await.expect("edited");
    }
}
