//! Use case: a user opens a DM room, a channel or home (`/kafka/join-channel`).

use std::sync::Arc;

use domain::{Location, LocationChange, RoomKey, UserId};

use super::ChannelBinding;
use super::access::{AccessError, ensure_may_read};
use crate::ports::outbound::{
    CommunityDirectory, GatewayError, MarkerError, MessageStore, ReadMarkers, SessionStateGateway,
    StoreError,
};

/// Every way [`ChangeLocation::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum ChangeLocationError {
    /// The user is not a member of the room they open.
    #[error("not a member of {0}")]
    Forbidden(RoomKey),
    /// No authoritative source places the channel in the community named.
    #[error("unknown channel {0}")]
    UnknownChannel(domain::ChannelId),
    /// The state server or a store failed.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

forbidden_from_access!(ChangeLocationError: RoomKey);
unavailable_from!(ChangeLocationError: GatewayError, StoreError, MarkerError);

/// Tells the state server where the user is, and marks the room left and the
/// room opened as read (that is what unread counts are measured against).
pub struct ChangeLocation {
    directory: Arc<dyn CommunityDirectory>,
    binding: ChannelBinding,
    state: Arc<dyn SessionStateGateway>,
    store: Arc<dyn MessageStore>,
    markers: Arc<dyn ReadMarkers>,
}

impl ChangeLocation {
    /// Wires the use case to its ports.
    pub fn new(
        directory: Arc<dyn CommunityDirectory>,
        binding: ChannelBinding,
        state: Arc<dyn SessionStateGateway>,
        store: Arc<dyn MessageStore>,
        markers: Arc<dyn ReadMarkers>,
    ) -> Self {
        Self {
            directory,
            binding,
            state,
            store,
            markers,
        }
    }

    /// Runs the use case.
    #[tracing::instrument(name = "change_location", skip_all, fields(user = %user, to = %to))]
    pub async fn execute(
        &self,
        user: UserId,
        to: Location,
    ) -> Result<LocationChange, ChangeLocationError> {
        if let Some(room) = to.room() {
            match ensure_may_read(&*self.directory, user, room).await {
                // In binding mode voice channels are never posted in, so never known; opening
                // a channel nobody placed reveals nothing (it has no messages).
                Err(AccessError::UnknownChannel(_))
                    if self.binding == ChannelBinding::FirstPost => {}
                result => result?,
            }
        }
        let change = self.state.change_location(user, to).await?;
        for room in change.rooms_seen() {
            if let Some(newest) = self.store.activity(room, user, None).await?.last_seq {
                self.markers.mark_read(user, room, newest).await?;
            }
        }
        Ok(change)
    }
}

#[cfg(test)]
mod tests {
    use domain::{ChannelId, RoomId, Seq};

    use super::*;
    use crate::ports::outbound::RoomActivity;
    use crate::usecases::test_support::{ALICE, Mocks, MocksBuilder};

    fn use_case(m: Mocks) -> ChangeLocation {
        binding_mode(m, ChannelBinding::Authoritative)
    }

    fn binding_mode(m: Mocks, binding: ChannelBinding) -> ChangeLocation {
        ChangeLocation::new(m.directory, binding, m.state, m.store, m.markers)
    }

    /// A directory placing no channel, and saying no to hearing an unplaced one.
    fn no_channel_known() -> MocksBuilder {
        let mut m = MocksBuilder::new();
        m.directory
            .expect_channel_community()
            .returning(|_| Ok(None));
        m.directory.expect_may_listen().returning(|_, _| Ok(false));
        m
    }

    #[tokio::test]
    async fn moving_marks_the_room_left_and_the_room_opened_read() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.state.expect_change_location().returning(|_, to| {
            Ok(LocationChange {
                previous: Some(Location::Room(RoomId::new(5))),
                current: to,
            })
        });
        m.store.expect_activity().returning(|_, _, _| {
            Ok(RoomActivity {
                last_seq: Some(Seq::new(9)),
                ..RoomActivity::default()
            })
        });
        m.markers
            .expect_mark_read()
            .withf(|_, room, seq| {
                (*room == RoomKey::Direct(RoomId::new(5))
                    || *room == RoomKey::Channel(ChannelId::new(12)))
                    && *seq == Seq::new(9)
            })
            .times(2)
            .returning(|_, _, _| Ok(()));

        let change = use_case(m.build())
            .execute(ALICE, Location::Channel(ChannelId::new(12)))
            .await;

        assert!(change.is_ok());
    }

    #[tokio::test]
    async fn opening_a_room_of_which_one_is_not_a_member_is_refused_before_the_state_server_hears_of_it()
     {
        let mut m = MocksBuilder::new().member_nowhere();
        m.state.expect_change_location().never();

        let err = use_case(m.build())
            .execute(ALICE, Location::Room(RoomId::new(5)))
            .await;

        assert!(matches!(err, Err(ChangeLocationError::Forbidden(_))));
    }

    #[tokio::test]
    async fn going_home_needs_no_membership_and_marks_nothing() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.state.expect_change_location().returning(|_, to| {
            Ok(LocationChange {
                previous: None,
                current: to,
            })
        });
        m.markers.expect_mark_read().never();

        assert!(
            use_case(m.build())
                .execute(ALICE, Location::Home)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn opening_a_channel_no_source_places_is_refused_before_the_state_server_hears_of_it() {
        let mut m = no_channel_known();
        m.state.expect_change_location().never();

        let err = use_case(m.build())
            .execute(ALICE, Location::Channel(ChannelId::new(99)))
            .await;

        assert!(
            matches!(err, Err(ChangeLocationError::UnknownChannel(_))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn in_binding_mode_a_voice_channel_never_posted_in_may_be_opened() {
        let mut m = no_channel_known();
        m.state
            .expect_change_location()
            .times(1)
            .returning(|_, to| {
                Ok(LocationChange {
                    previous: None,
                    current: to,
                })
            });
        m.store
            .expect_activity()
            .returning(|_, _, _| Ok(RoomActivity::default()));
        m.markers.expect_mark_read().never();

        let change = binding_mode(m.build(), ChannelBinding::FirstPost)
            .execute(ALICE, Location::Channel(ChannelId::new(99)))
            .await;

        assert!(change.is_ok(), "{change:?}");
    }
}
