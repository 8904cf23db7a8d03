//! Use case: a member replies to a message of the same room.

use std::sync::Arc;

use domain::{
    ClientMsgId, Message, MessageBody, MessageBodyError, MessageId, NewMessage, ReplyError,
    RoomRef, UserId,
};

use super::access::ensure_may_post;
use super::repeated_send::{earlier_send, publish_if_new};
use crate::ports::inbound::SendTurn;
use crate::ports::outbound::{
    BusError, Clock, CommunityDirectory, EventBus, IdGenerator, MessageStore, StoreError,
    UserDirectory, UserDirectoryError,
};

/// Input of [`ReplyToMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyCommand {
    /// The session's user.
    pub author: UserId,
    /// Where the reply is posted.
    pub room: RoomRef,
    /// The message replied to. Its name and text are read from the store,
    /// whatever the client claimed.
    pub parent: MessageId,
    /// The reply's text.
    pub body: String,
    /// The client's key for this reply: a repeat with the same key (by the same author,
    /// in the same room) is answered with the first one's reply and stores nothing.
    pub client_msg_id: Option<ClientMsgId>,
}

/// Every way [`ReplyToMessage::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum ReplyToMessageError {
    /// The text breaks a content rule.
    #[error(transparent)]
    InvalidBody(#[from] MessageBodyError),
    /// The author is not a member of the room.
    #[error("not a member of {0}")]
    Forbidden(RoomRef),
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// No message has the parent id.
    #[error("message {0} not found")]
    ParentNotFound(MessageId),
    /// The parent is in another room or deleted.
    #[error(transparent)]
    Refused(#[from] ReplyError),
    /// A dependency failed. Nothing was published; the reply may be stored (the store
    /// answered but the bus refused every attempt), and a repeat with the same client key
    /// then returns it.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(ReplyToMessageError);

unavailable_from!(ReplyToMessageError: StoreError, BusError, UserDirectoryError);

/// Stores a reply carrying a snapshot of its stored parent, then publishes it; a repeat of
/// an earlier send (same client key) gets that send's reply instead, whatever became of
/// the parent since.
pub struct ReplyToMessage {
    directory: Arc<dyn CommunityDirectory>,
    users: Arc<dyn UserDirectory>,
    store: Arc<dyn MessageStore>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl ReplyToMessage {
    /// Wires the use case to its ports.
    pub fn new(
        directory: Arc<dyn CommunityDirectory>,
        users: Arc<dyn UserDirectory>,
        store: Arc<dyn MessageStore>,
        bus: Arc<dyn EventBus>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
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

    /// Runs the use case outside any connection's order (a [`SendTurn::free`] turn).
    pub async fn execute(&self, cmd: ReplyCommand) -> Result<Message, ReplyToMessageError> {
        self.execute_in_turn(cmd, SendTurn::free()).await
    }

    /// Runs the use case with its store step in `turn`, passed on as soon as that step is done.
    #[tracing::instrument(name = "reply_to_message", skip_all, fields(room = %cmd.room, author = %cmd.author, parent = %cmd.parent))]
    pub async fn execute_in_turn(
        &self,
        cmd: ReplyCommand,
        mut turn: SendTurn,
    ) -> Result<Message, ReplyToMessageError> {
        let body = MessageBody::parse(&cmd.body)?;
        ensure_may_post(&*self.directory, cmd.author, cmd.room).await?;
        // Looked up before the turn, so that only store steps wait in line.
        let author = self.users.profile(cmd.author).await?;
        // From the repeat's and the parent's lookups on: a reply sent right after its parent
        // (or after its own first copy) finds it.
        turn.wait().await;
        let key = cmd.client_msg_id;
        if let Some(original) =
            earlier_send(&*self.store, cmd.room, cmd.author, key.as_ref()).await?
        {
            return Ok(original);
        }
        let parent = self
            .store
            .find(&cmd.parent)
            .await?
            .ok_or_else(|| ReplyToMessageError::ParentNotFound(cmd.parent.clone()))?;
        let snapshot = parent.snapshot_for_reply_in(cmd.room)?;
        let appended = self
            .store
            .append(NewMessage {
                id: self.ids.message_id(),
                room: cmd.room,
                author,
                body,
                parent: Some(snapshot),
                attachment: None,
                client_msg_id: key,
                sent_at: self.clock.now(),
            })
            .await?;
        turn.pass();
        Ok(publish_if_new(&*self.bus, appended).await?)
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::sync::atomic::{AtomicBool, Ordering};

    use domain::{ParentContent, Seq};
    use futures::poll;

    use super::*;
    use crate::ports::inbound::SendLine;
    use crate::ports::outbound::Appended;
    use crate::usecases::test_support::{
        ALICE, BOB, DM, Mocks, MocksBuilder, OTHER_DM, client_key, stored, stored_with_key,
    };

    fn command(parent: &str) -> ReplyCommand {
        ReplyCommand {
            author: BOB,
            room: DM,
            parent: MessageId::parse(parent).expect("id"),
            body: "me too".into(),
            client_msg_id: None,
        }
    }

    fn use_case(m: Mocks) -> ReplyToMessage {
        ReplyToMessage::new(m.directory, m.users, m.store, m.bus, m.clock, m.ids)
    }

    #[tokio::test]
    async fn a_reply_carries_the_stored_parents_author_and_text() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("p1", ALICE, DM, "original"))));
        m.store
            .expect_append()
            .times(1)
            .returning(|new| Ok(Appended::New(new.stored_at(Seq::new(2)))));
        m.bus.expect_publish().times(1).returning(|_| Ok(()));

        let reply = use_case(m.build())
            .execute(command("p1"))
            .await
            .expect("replied");

        let parent = reply.parent().expect("snapshot");
        assert_eq!(parent.author_name, "alice");
        assert_eq!(parent.content, ParentContent::Text("original".into()));
        assert_eq!(reply.author().id, BOB);
    }

    #[tokio::test]
    async fn a_reply_with_a_new_client_msg_id_is_stored_with_it_and_published() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find_by_client_msg_id()
            .withf(|room, author, key| *room == DM.key() && *author == BOB && key.as_str() == "r-1")
            .times(1)
            .returning(|_, _, _| Ok(None));
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("p1", ALICE, DM, "original"))));
        m.store
            .expect_append()
            .withf(|new| new.client_msg_id == Some(client_key("r-1")))
            .times(1)
            .returning(|new| Ok(Appended::New(new.stored_at(Seq::new(2)))));
        m.bus.expect_publish().times(1).returning(|_| Ok(()));

        let reply = use_case(m.build())
            .execute(ReplyCommand {
                client_msg_id: Some(client_key("r-1")),
                ..command("p1")
            })
            .await;

        assert_eq!(reply.expect("replied").seq(), Seq::new(2));
    }

    #[tokio::test]
    async fn a_repeated_reply_gets_the_first_reply_even_after_its_parent_was_deleted() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find_by_client_msg_id()
            .returning(|_, _, _| Ok(Some(stored_with_key(BOB, DM, "r-1", 9))));
        // The parent is not read again: a repeat is the first reply, whatever became of it.
        m.store.expect_find().never();
        m.store.expect_append().never();
        m.bus.expect_publish().never();

        let reply = use_case(m.build())
            .execute(ReplyCommand {
                client_msg_id: Some(client_key("r-1")),
                ..command("p1")
            })
            .await;

        let reply = reply.expect("answered like the first");
        assert_eq!(reply.id().as_str(), "00000000000000000000beef");
        assert_eq!(reply.seq(), Seq::new(9));
    }

    #[tokio::test]
    async fn a_reply_to_an_unknown_parent_is_refused_and_nothing_is_written() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store.expect_find().returning(|_| Ok(None));
        m.store.expect_append().never();
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command("nope")).await;

        assert!(
            matches!(err, Err(ReplyToMessageError::ParentNotFound(_))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_reply_to_a_parent_of_another_room_is_refused_and_nothing_is_written() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("p1", ALICE, OTHER_DM, "elsewhere"))));
        m.store.expect_append().never();
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command("p1")).await;

        assert!(
            matches!(
                err,
                Err(ReplyToMessageError::Refused(ReplyError::ParentInOtherRoom(
                    _
                )))
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn when_the_store_fails_to_write_the_reply_nothing_is_published() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find()
            .returning(|_| Ok(Some(stored("p1", ALICE, DM, "original"))));
        m.store
            .expect_append()
            .returning(|_| Err(crate::usecases::test_support::store_down()));
        m.bus.expect_publish().never();

        let err = use_case(m.build()).execute(command("p1")).await;

        assert!(matches!(err, Err(ReplyToMessageError::Unavailable(_))));
    }

    #[tokio::test]
    async fn a_reply_sent_right_after_its_parent_looks_the_parent_up_only_once_it_is_stored() {
        let posted = Arc::new(AtomicBool::new(false));
        let mut m = MocksBuilder::new().member_everywhere();
        let seen = posted.clone();
        m.store.expect_find().times(1).returning(move |_| {
            assert!(
                seen.load(Ordering::Acquire),
                "looked up before the parent was stored"
            );
            Ok(Some(stored("p1", ALICE, DM, "original")))
        });
        m.store
            .expect_append()
            .times(1)
            .returning(|new| Ok(Appended::New(new.stored_at(Seq::new(2)))));
        m.bus.expect_publish().times(1).returning(|_| Ok(()));
        let sut = use_case(m.build());
        let mut line = SendLine::new();
        let (parent_turn, reply_turn) = (line.next_turn(), line.next_turn());

        let mut reply = pin!(sut.execute_in_turn(command("p1"), reply_turn));
        assert!(
            poll!(&mut reply).is_pending(),
            "the parent is still being stored"
        );
        posted.store(true, Ordering::Release);
        parent_turn.pass();

        reply.await.expect("replied");
    }
}
