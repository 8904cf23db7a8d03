//! Use case: a member posts a message in a DM room or a channel.

use std::sync::Arc;

use domain::{ClientMsgId, Message, MessageBody, MessageBodyError, NewMessage, RoomRef, UserId};

use super::ChannelBinding;
use super::access::ensure_may_post_or_bind;
use super::repeated_send::{earlier_send, publish_if_new};
use crate::ports::inbound::SendTurn;
use crate::ports::outbound::{
    BusError, Clock, CommunityDirectory, EventBus, IdGenerator, MessageStore, StoreError,
    UserDirectory, UserDirectoryError,
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
    /// The client's key for this message: a repeat with the same key (by the same author,
    /// in the same room) is answered with the first one's message and stores nothing.
    pub client_msg_id: Option<ClientMsgId>,
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
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// A dependency failed. Nothing was published; the message may be stored (the store
    /// answered but the bus refused every attempt), and a repeat with the same client key
    /// then returns it.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(PostError);

unavailable_from!(PostError: StoreError, BusError, UserDirectoryError);

/// Validates a message, stores it (getting its room sequence number), then publishes it;
/// a repeat of an earlier send (same client key) gets that send's message instead.
pub struct PostMessage {
    directory: Arc<dyn CommunityDirectory>,
    binding: ChannelBinding,
    users: Arc<dyn UserDirectory>,
    store: Arc<dyn MessageStore>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl PostMessage {
    /// Wires the use case to its ports.
    pub fn new(
        directory: Arc<dyn CommunityDirectory>,
        binding: ChannelBinding,
        users: Arc<dyn UserDirectory>,
        store: Arc<dyn MessageStore>,
        bus: Arc<dyn EventBus>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            directory,
            binding,
            users,
            store,
            bus,
            clock,
            ids,
        }
    }

    /// Runs the use case outside any connection's order (a [`SendTurn::free`] turn).
    pub async fn execute(&self, cmd: PostCommand) -> Result<Message, PostError> {
        self.execute_in_turn(cmd, SendTurn::free()).await
    }

    /// Runs the use case with its store step in `turn`, passed on as soon as that step is done.
    #[tracing::instrument(name = "post_message", skip_all, fields(room = %cmd.room, author = %cmd.author))]
    pub async fn execute_in_turn(
        &self,
        cmd: PostCommand,
        mut turn: SendTurn,
    ) -> Result<Message, PostError> {
        let body = MessageBody::parse(&cmd.body)?;
        ensure_may_post_or_bind(&*self.directory, self.binding, cmd.author, cmd.room).await?;
        let author = self.users.profile(cmd.author).await?;
        // The lookup of a repeat is in the turn too: the original may be the SEND just before.
        turn.wait().await;
        let key = cmd.client_msg_id;
        if let Some(original) =
            earlier_send(&*self.store, cmd.room, cmd.author, key.as_ref()).await?
        {
            return Ok(original);
        }
        let appended = self
            .store
            .append(NewMessage {
                id: self.ids.message_id(),
                room: cmd.room,
                author,
                body,
                parent: None,
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

    use domain::{ChatEvent, CommunityId, Seq};
    use futures::poll;
    use mockall::Sequence;

    use super::*;
    use crate::ports::inbound::SendLine;
    use crate::ports::outbound::Appended;
    use crate::usecases::test_support::{
        ALICE, CHANNEL, CHANNEL_ID, COMMUNITY, DM, Mocks, MocksBuilder, OTHER_COMMUNITY, bus_down,
        client_key, store_down, stored_with_key,
    };

    fn keyed(key: &str) -> PostCommand {
        PostCommand {
            client_msg_id: Some(client_key(key)),
            ..command("hello")
        }
    }

    fn command(body: &str) -> PostCommand {
        PostCommand {
            author: ALICE,
            room: DM,
            body: body.into(),
            client_msg_id: None,
        }
    }

    fn use_case(m: Mocks) -> PostMessage {
        binding_mode(m, ChannelBinding::Authoritative)
    }

    fn binding_mode(m: Mocks, binding: ChannelBinding) -> PostMessage {
        PostMessage::new(
            m.directory,
            binding,
            m.users,
            m.store,
            m.bus,
            m.clock,
            m.ids,
        )
    }

    fn in_channel(community: CommunityId) -> PostCommand {
        PostCommand {
            author: ALICE,
            room: RoomRef::Channel {
                community,
                channel: CHANNEL_ID,
            },
            body: "hello".into(),
            client_msg_id: None,
        }
    }

    /// Nothing may be stored, published or bound.
    fn nothing_written(m: &mut MocksBuilder) {
        m.store.expect_append().never();
        m.bus.expect_publish().never();
        m.directory.expect_bind_channel().never();
        m.directory.expect_set_channel().never();
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
            .returning(|new| Ok(Appended::New(new.stored_at(Seq::new(4)))));
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
    async fn a_new_client_msg_id_is_looked_up_then_stored_with_the_message_and_published() {
        let mut order = Sequence::new();
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find_by_client_msg_id()
            .withf(|room, author, key| {
                *room == DM.key() && *author == ALICE && key.as_str() == "k-1"
            })
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _, _| Ok(None));
        m.store
            .expect_append()
            .withf(|new| new.client_msg_id.as_ref().map(ClientMsgId::as_str) == Some("k-1"))
            .times(1)
            .in_sequence(&mut order)
            .returning(|new| Ok(Appended::New(new.stored_at(Seq::new(4)))));
        m.bus
            .expect_publish()
            .withf(|e| {
                matches!(e, ChatEvent::Posted(msg)
                    if msg.client_msg_id().map(ClientMsgId::as_str) == Some("k-1"))
            })
            .times(1)
            .in_sequence(&mut order)
            .returning(|_| Ok(()));

        let message = use_case(m.build()).execute(keyed("k-1")).await;

        assert_eq!(message.expect("posted").seq(), Seq::new(4));
    }

    /// The answer is the message first stored under the key (`stored_with_key`, seq 7).
    fn assert_is_the_first(answer: Result<Message, PostError>) {
        let message = answer.expect("answered like the first");
        assert_eq!(message.id().as_str(), "00000000000000000000beef");
        assert_eq!(message.seq(), Seq::new(7));
    }

    #[tokio::test]
    async fn a_repeated_client_msg_id_stores_nothing_new_and_gets_the_first_message() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find_by_client_msg_id()
            .times(1)
            .returning(|_, _, _| Ok(Some(stored_with_key(ALICE, DM, "k-1", 7))));
        m.store.expect_append().never();
        m.bus.expect_publish().never();

        let message = use_case(m.build()).execute(keyed("k-1")).await;

        assert_is_the_first(message);
    }

    #[tokio::test]
    async fn a_repeat_racing_its_original_gets_the_original_and_publishes_nothing() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find_by_client_msg_id()
            .returning(|_, _, _| Ok(None));
        m.store
            .expect_append()
            .times(1)
            .returning(|_| Ok(Appended::Existing(stored_with_key(ALICE, DM, "k-1", 7))));
        m.bus.expect_publish().never();

        let message = use_case(m.build()).execute(keyed("k-1")).await;

        assert_is_the_first(message);
    }

    #[tokio::test]
    async fn a_repeat_by_someone_no_longer_a_member_is_refused_before_the_lookup() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.store.expect_find_by_client_msg_id().never();
        nothing_written(&mut m);

        let err = use_case(m.build()).execute(keyed("k-1")).await;

        assert!(matches!(err, Err(PostError::Forbidden(_))), "{err:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_publish_that_fails_after_the_store_write_is_retried_and_the_post_succeeds() {
        let mut order = Sequence::new();
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_append()
            .times(1)
            .in_sequence(&mut order)
            .returning(|new| Ok(Appended::New(new.stored_at(Seq::new(4)))));
        m.bus
            .expect_publish()
            .times(2)
            .in_sequence(&mut order)
            .returning(|_| Err(bus_down()));
        m.bus
            .expect_publish()
            .times(1)
            .in_sequence(&mut order)
            .returning(|_| Ok(()));

        let message = use_case(m.build()).execute(command("hello")).await;

        assert_eq!(message.expect("posted").seq(), Seq::new(4));
    }

    #[tokio::test(start_paused = true)]
    async fn when_every_publish_fails_the_post_is_refused_unavailable_and_stored_once() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_find_by_client_msg_id()
            .returning(|_, _, _| Ok(None));
        m.store
            .expect_append()
            .times(1)
            .returning(|new| Ok(Appended::New(new.stored_at(Seq::new(4)))));
        m.bus
            .expect_publish()
            .times(4)
            .returning(|_| Err(bus_down()));

        let err = use_case(m.build()).execute(keyed("k-1")).await;

        assert!(matches!(err, Err(PostError::Unavailable(_))), "{err:?}");
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

    #[tokio::test]
    async fn a_post_naming_another_community_than_the_channels_is_refused_and_writes_nothing() {
        let mut m = MocksBuilder::new().member_everywhere();
        nothing_written(&mut m);

        let err = use_case(m.build())
            .execute(in_channel(OTHER_COMMUNITY))
            .await;

        assert!(
            matches!(err, Err(PostError::UnknownChannel(channel)) if channel == CHANNEL_ID),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_post_in_a_channel_no_source_places_is_refused_and_binds_nothing() {
        let mut m = MocksBuilder::new();
        m.directory
            .expect_channel_community()
            .returning(|_| Ok(None));
        m.directory.expect_may_post().returning(|_, _| Ok(true));
        // Not the open directory: a channel nobody placed is heard by nobody.
        m.directory.expect_may_listen().returning(|_, _| Ok(false));
        nothing_written(&mut m);

        let err = use_case(m.build()).execute(in_channel(COMMUNITY)).await;

        assert!(matches!(err, Err(PostError::UnknownChannel(_))), "{err:?}");
    }

    #[tokio::test]
    async fn in_binding_mode_a_refused_post_binds_nothing() {
        let mut m = MocksBuilder::new();
        m.directory
            .expect_channel_community()
            .returning(|_| Ok(None));
        m.directory.expect_may_post().returning(|_, _| Ok(false));
        nothing_written(&mut m);

        let err = binding_mode(m.build(), ChannelBinding::FirstPost)
            .execute(in_channel(OTHER_COMMUNITY))
            .await;

        assert!(matches!(err, Err(PostError::Forbidden(_))), "{err:?}");
    }

    #[tokio::test]
    async fn in_binding_mode_a_members_first_post_binds_the_channel_to_its_community() {
        let mut order = Sequence::new();
        let mut m = MocksBuilder::new();
        m.directory
            .expect_channel_community()
            .returning(|_| Ok(None));
        m.directory
            .expect_may_post()
            .withf(|user, room| *user == ALICE && *room == CHANNEL)
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, _| Ok(true));
        m.directory
            .expect_bind_channel()
            .withf(|channel, community| *channel == CHANNEL_ID && *community == COMMUNITY)
            .times(1)
            .in_sequence(&mut order)
            .returning(|_, community| Ok(community));
        m.store
            .expect_append()
            .times(1)
            .in_sequence(&mut order)
            .returning(|new| Ok(Appended::New(new.stored_at(Seq::new(1)))));
        m.bus.expect_publish().times(1).returning(|_| Ok(()));

        let message = binding_mode(m.build(), ChannelBinding::FirstPost)
            .execute(in_channel(COMMUNITY))
            .await;

        assert_eq!(message.expect("posted").room(), CHANNEL);
    }

    #[tokio::test]
    async fn in_binding_mode_a_post_losing_the_race_to_another_community_is_refused() {
        let mut m = MocksBuilder::new();
        m.directory
            .expect_channel_community()
            .returning(|_| Ok(None));
        m.directory.expect_may_post().returning(|_, _| Ok(true));
        m.directory
            .expect_bind_channel()
            .times(1)
            .returning(|_, _| Ok(OTHER_COMMUNITY));
        m.store.expect_append().never();
        m.bus.expect_publish().never();

        let err = binding_mode(m.build(), ChannelBinding::FirstPost)
            .execute(in_channel(COMMUNITY))
            .await;

        assert!(matches!(err, Err(PostError::UnknownChannel(_))), "{err:?}");
    }

    #[tokio::test]
    async fn in_binding_mode_a_channel_already_placed_is_never_bound_again() {
        let mut m = MocksBuilder::new().member_everywhere();
        nothing_written(&mut m);

        let err = binding_mode(m.build(), ChannelBinding::FirstPost)
            .execute(in_channel(OTHER_COMMUNITY))
            .await;

        assert!(matches!(err, Err(PostError::UnknownChannel(_))), "{err:?}");
    }

    #[tokio::test]
    async fn posts_of_one_connection_are_stored_in_their_turns_order_whichever_runs_first() {
        let mut order = Sequence::new();
        let mut m = MocksBuilder::new().member_everywhere();
        for (body, seq) in [("first", 1), ("second", 2)] {
            m.store
                .expect_append()
                .withf(move |new| new.body.as_str() == body)
                .times(1)
                .in_sequence(&mut order)
                .returning(move |new| Ok(Appended::New(new.stored_at(Seq::new(seq)))));
        }
        m.bus.expect_publish().times(2).returning(|_| Ok(()));
        let sut = use_case(m.build());
        let mut line = SendLine::new();
        let (first_turn, second_turn) = (line.next_turn(), line.next_turn());

        let mut second = pin!(sut.execute_in_turn(command("second"), second_turn));
        assert!(
            poll!(&mut second).is_pending(),
            "the second waits for the first's store step"
        );
        let first = sut.execute_in_turn(command("first"), first_turn).await;

        assert_eq!(first.expect("posted").seq(), Seq::new(1));
        assert_eq!(second.await.expect("posted").seq(), Seq::new(2));
    }

    #[tokio::test]
    async fn a_post_whose_store_step_fails_still_lets_the_next_turn_go() {
        let mut order = Sequence::new();
        let mut m = MocksBuilder::new().member_everywhere();
        m.store
            .expect_append()
            .times(1)
            .in_sequence(&mut order)
            .returning(|_| Err(store_down()));
        m.store
            .expect_append()
            .times(1)
            .in_sequence(&mut order)
            .returning(|new| Ok(Appended::New(new.stored_at(Seq::new(1)))));
        m.bus.expect_publish().times(1).returning(|_| Ok(()));
        let sut = use_case(m.build());
        let mut line = SendLine::new();
        let (first_turn, second_turn) = (line.next_turn(), line.next_turn());

        let first = sut.execute_in_turn(command("first"), first_turn).await;
        let second = sut.execute_in_turn(command("second"), second_turn).await;

        assert!(matches!(first, Err(PostError::Unavailable(_))), "{first:?}");
        assert!(second.is_ok(), "{second:?}");
    }
}
