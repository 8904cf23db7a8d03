//! The [`Navigation`] port over its use cases.

use domain::{ChannelId, CommunityId, Location, LocationChange, UserId, VoiceOccupancy};

use super::Adapters;
use crate::ports::inbound::Navigation;
use crate::usecases::{ChangeLocation, ChangeLocationError, EnterVoice, EnterVoiceError};

/// The use cases behind [`Navigation`].
pub(super) struct NavigationUseCases {
    change_location: ChangeLocation,
    enter_voice: EnterVoice,
}

impl NavigationUseCases {
    pub(super) fn new(a: &Adapters) -> Self {
        Self {
            change_location: ChangeLocation::new(
                a.directory.clone(),
                a.channel_binding,
                a.state.clone(),
                a.store.clone(),
                a.markers.clone(),
            ),
            enter_voice: EnterVoice::new(a.directory.clone(), a.state.clone(), a.bus.clone()),
        }
    }
}

#[async_trait::async_trait]
impl Navigation for NavigationUseCases {
    async fn change_location(
        &self,
        user: UserId,
        to: Location,
    ) -> Result<LocationChange, ChangeLocationError> {
        self.change_location.execute(user, to).await
    }
    async fn enter_voice(
        &self,
        user: UserId,
        community: CommunityId,
        channel: Option<ChannelId>,
    ) -> Result<VoiceOccupancy, EnterVoiceError> {
        self.enter_voice.execute(user, community, channel).await
    }
}
