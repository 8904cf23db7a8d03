//! Use case: a member tells the room they are typing. Delivered, never stored.

use std::sync::Arc;

use domain::{ChatEvent, RoomRef, Typing, UserId};

use super::access::ensure_may_post;
use crate::ports::outbound::{
    BusError, CommunityDirectory, EventBus, UserDirectory, UserDirectoryError,
};

/// Input of [`SendTyping`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypingCommand {
    /// The session's user.
    pub user: UserId,
    /// Where they type.
    pub room: RoomRef,
}

/// Every way [`SendTyping::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum TypingError {
    /// The user is not a member of the room.
    #[error("not a member of {0}")]
    Forbidden(RoomRef),
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// A dependency failed.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(TypingError);

unavailable_from!(TypingError: BusError, UserDirectoryError);

/// Publishes a typing notice with the user's directory name (not the name the client sent).
pub struct SendTyping {
    directory: Arc<dyn CommunityDirectory>,
    users: Arc<dyn UserDirectory>,
    bus: Arc<dyn EventBus>,
}

impl SendTyping {
    /// Wires the use case to its ports.
    pub fn new(
        directory: Arc<dyn CommunityDirectory>,
        users: Arc<dyn UserDirectory>,
        bus: Arc<dyn EventBus>,
    ) -> Self {
        Self {
            directory,
            users,
            bus,
        }
    }

    /// Runs the use case.
    #[tracing::instrument(name = "send_typing", skip_all, fields(room = %cmd.room, user = %cmd.user))]
    pub async fn execute(&self, cmd: TypingCommand) -> Result<(), TypingError> {
        ensure_may_post(&*self.directory, cmd.user, cmd.room).await?;
        let user = self.users.profile(cmd.user).await?;
        self.bus
            .publish(&ChatEvent::Typing(Typing {
                room: cmd.room,
                user,
            }))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::test_support::{
        ALICE, CHANNEL_ID, DM, Mocks, MocksBuilder, OTHER_COMMUNITY,
    };
    use domain::RoomRef;

    fn use_case(m: Mocks) -> SendTyping {
        SendTyping::new(m.directory, m.users, m.bus)
    }

    #[tokio::test]
    async fn typing_is_published_with_the_directory_name_and_nothing_is_stored() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.store.expect_append().never();
        m.bus
            .expect_publish()
            .withf(|e| matches!(e, ChatEvent::Typing(t) if t.user.name == "alice" && t.room == DM))
            .times(1)
            .returning(|_| Ok(()));

        use_case(m.build())
            .execute(TypingCommand {
                user: ALICE,
                room: DM,
            })
            .await
            .expect("published");
    }

    #[tokio::test]
    async fn a_non_member_cannot_type_in_a_room() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.bus.expect_publish().never();

        let err = use_case(m.build())
            .execute(TypingCommand {
                user: ALICE,
                room: DM,
            })
            .await;

        assert!(matches!(err, Err(TypingError::Forbidden(_))));
    }

    #[tokio::test]
    async fn typing_in_another_communitys_channel_is_refused_and_binds_nothing() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.bus.expect_publish().never();
        m.directory.expect_bind_channel().never();
        m.directory.expect_set_channel().never();

        let err = use_case(m.build())
            .execute(TypingCommand {
                user: ALICE,
                room: RoomRef::Channel {
                    community: OTHER_COMMUNITY,
                    channel: CHANNEL_ID,
                },
            })
            .await;

        assert!(
            matches!(err, Err(TypingError::UnknownChannel(_))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn typing_in_a_channel_nobody_placed_is_refused_unless_the_directory_is_open() {
        let typing = TypingCommand {
            user: ALICE,
            room: RoomRef::Channel {
                community: OTHER_COMMUNITY,
                channel: domain::ChannelId::new(99),
            },
        };
        let mut closed = MocksBuilder::new();
        closed.channel_12_of_community_3();
        closed
            .directory
            .expect_may_listen()
            .returning(|_, _| Ok(false));
        closed.bus.expect_publish().never();
        let mut open = MocksBuilder::new().member_everywhere();
        open.bus.expect_publish().times(1).returning(|_| Ok(()));
        open.directory.expect_bind_channel().never();

        let refused = use_case(closed.build()).execute(typing.clone()).await;
        let allowed = use_case(open.build()).execute(typing).await;

        assert!(
            matches!(refused, Err(TypingError::UnknownChannel(_))),
            "{refused:?}"
        );
        assert!(allowed.is_ok(), "{allowed:?}");
    }
}
