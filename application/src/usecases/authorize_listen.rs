//! Use case: may this user subscribe to that audience?

use std::sync::Arc;

use domain::{Audience, UserId};

use super::access::{AccessError, ensure_may_hear};
use crate::ports::outbound::{CommunityDirectory, DirectoryError};

/// Every way [`AuthorizeListen::execute`] can refuse.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// Not a member.
    #[error("not a member of {0}")]
    Forbidden(Audience),
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// The directory could not answer.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(ListenError: DirectoryError);

/// Lets members, and only members, hear a room.
pub struct AuthorizeListen {
    directory: Arc<dyn CommunityDirectory>,
}

impl AuthorizeListen {
    /// Wires the use case to the directory.
    pub fn new(directory: Arc<dyn CommunityDirectory>) -> Self {
        Self { directory }
    }

    /// Succeeds when `user` may hear `audience`.
    pub async fn execute(&self, user: UserId, audience: Audience) -> Result<(), ListenError> {
        ensure_may_hear(&*self.directory, user, audience)
            .await
            .map_err(|err| match err {
                AccessError::Forbidden(audience) => ListenError::Forbidden(audience),
                AccessError::UnknownChannel(channel) => ListenError::UnknownChannel(channel),
                AccessError::Unavailable(cause) => cause.into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use domain::{ChannelId, RoomId};

    use super::*;
    use crate::usecases::test_support::{ALICE, CHANNEL_ID, COMMUNITY, MocksBuilder};

    #[tokio::test]
    async fn a_member_may_listen() {
        let m = MocksBuilder::new().member_everywhere().build();
        let result = AuthorizeListen::new(m.directory)
            .execute(ALICE, Audience::Direct(RoomId::new(5)))
            .await;
        assert!(result.is_ok());
    }

    #[tokio::test]
    async fn a_non_member_may_not_listen() {
        let m = MocksBuilder::new().member_nowhere().build();
        let result = AuthorizeListen::new(m.directory)
            .execute(ALICE, Audience::Direct(RoomId::new(5)))
            .await;
        assert!(matches!(result, Err(ListenError::Forbidden(_))));
    }

    #[tokio::test]
    async fn a_channel_is_heard_by_the_members_of_the_community_the_directory_places_it_in() {
        let mut m = MocksBuilder::new();
        m.channel_12_of_community_3();
        m.directory
            .expect_may_listen()
            .withf(|user, audience| *user == ALICE && *audience == Audience::Community(COMMUNITY))
            .times(1)
            .returning(|_, _| Ok(false));
        let m = m.build();

        let result = AuthorizeListen::new(m.directory)
            .execute(ALICE, Audience::Group(CHANNEL_ID))
            .await;

        assert!(
            matches!(result, Err(ListenError::Forbidden(Audience::Group(channel))) if channel == CHANNEL_ID),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn a_channel_no_source_places_is_refused_as_unknown() {
        let mut m = MocksBuilder::new();
        m.channel_12_of_community_3();
        m.directory
            .expect_may_listen()
            .withf(|_, audience| *audience == Audience::Group(ChannelId::new(99)))
            .returning(|_, _| Ok(false));
        let m = m.build();

        let result = AuthorizeListen::new(m.directory)
            .execute(ALICE, Audience::Group(ChannelId::new(99)))
            .await;

        assert!(
            matches!(result, Err(ListenError::UnknownChannel(channel)) if channel == ChannelId::new(99)),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn the_open_directory_may_let_anyone_hear_a_channel_nobody_placed() {
        let mut m = MocksBuilder::new();
        m.channel_12_of_community_3();
        m.directory.expect_may_listen().returning(|_, _| Ok(true));
        let m = m.build();

        let result = AuthorizeListen::new(m.directory)
            .execute(ALICE, Audience::Group(ChannelId::new(99)))
            .await;

        assert!(result.is_ok(), "{result:?}");
    }
}
