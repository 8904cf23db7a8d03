//! Use case: a user opens a community's page or joins one of its voice channels;
//! the community hears its new voice occupancy.

use std::sync::Arc;

use domain::{Audience, ChannelId, ChatEvent, CommunityId, UserId, VoiceOccupancy};

use crate::ports::outbound::{
    BusError, CommunityDirectory, DirectoryError, EventBus, GatewayError, SessionStateGateway,
};

/// Every way [`EnterVoice::execute`] can fail.
#[derive(Debug, thiserror::Error)]
pub enum EnterVoiceError {
    /// The user is not a member of the community.
    #[error("not a member of {0}")]
    Forbidden(Audience),
    /// The state server, directory or bus failed.
    #[error("chat service temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
}

unavailable_from!(EnterVoiceError: GatewayError, DirectoryError, BusError);

/// `before-enter` (no channel: the community page was opened, the user leaves
/// any voice channel) or `enter` (a voice channel was joined).
pub struct EnterVoice {
    directory: Arc<dyn CommunityDirectory>,
    state: Arc<dyn SessionStateGateway>,
    bus: Arc<dyn EventBus>,
}

impl EnterVoice {
    /// Wires the use case to its ports.
    pub fn new(
        directory: Arc<dyn CommunityDirectory>,
        state: Arc<dyn SessionStateGateway>,
        bus: Arc<dyn EventBus>,
    ) -> Self {
        Self {
            directory,
            state,
            bus,
        }
    }

    /// Runs the use case; returns the occupancy the community hears.
    #[tracing::instrument(name = "enter_voice", skip_all, fields(user = %user, community = %community))]
    pub async fn execute(
        &self,
        user: UserId,
        community: CommunityId,
        channel: Option<ChannelId>,
    ) -> Result<VoiceOccupancy, EnterVoiceError> {
        let audience = Audience::Community(community);
        if !self.directory.may_listen(user, audience).await? {
            return Err(EnterVoiceError::Forbidden(audience));
        }
        let occupancy = match channel {
            None => self.state.before_enter(user, community).await?,
            Some(channel) => self.state.enter_voice(user, community, channel).await?,
        };
        self.bus
            .publish(&ChatEvent::VoiceOccupancy(occupancy.clone()))
            .await?;
        Ok(occupancy)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::usecases::test_support::{ALICE, MocksBuilder};

    const COMMUNITY: CommunityId = CommunityId::new(3);

    fn occupancy() -> VoiceOccupancy {
        VoiceOccupancy {
            community: COMMUNITY,
            channels: BTreeMap::from([(ChannelId::new(12), vec![ALICE])]),
        }
    }

    #[tokio::test]
    async fn joining_a_voice_channel_publishes_the_occupancy_to_the_community() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.state
            .expect_enter_voice()
            .times(1)
            .returning(|_, _, _| Ok(occupancy()));
        m.bus
            .expect_publish()
            .withf(|e| matches!(e, ChatEvent::VoiceOccupancy(o) if o == &occupancy()))
            .times(1)
            .returning(|_| Ok(()));
        let m = m.build();

        let result = EnterVoice::new(m.directory, m.state, m.bus)
            .execute(ALICE, COMMUNITY, Some(ChannelId::new(12)))
            .await;

        assert_eq!(result.expect("entered"), occupancy());
    }

    #[tokio::test]
    async fn opening_the_community_page_is_before_enter() {
        let mut m = MocksBuilder::new().member_everywhere();
        m.state
            .expect_before_enter()
            .times(1)
            .returning(|_, _| Ok(occupancy()));
        m.state.expect_enter_voice().never();
        m.bus.expect_publish().returning(|_| Ok(()));
        let m = m.build();

        let result = EnterVoice::new(m.directory, m.state, m.bus)
            .execute(ALICE, COMMUNITY, None)
            .await;

        assert!(result.is_ok());
    }

    #[tokio::test]
    async fn a_non_member_cannot_enter_and_the_state_server_never_hears_of_it() {
        let mut m = MocksBuilder::new().member_nowhere();
        m.state.expect_enter_voice().never();
        m.bus.expect_publish().never();
        let m = m.build();

        let err = EnterVoice::new(m.directory, m.state, m.bus)
            .execute(ALICE, COMMUNITY, Some(ChannelId::new(12)))
            .await;

        assert!(matches!(err, Err(EnterVoiceError::Forbidden(_))));
    }
}
