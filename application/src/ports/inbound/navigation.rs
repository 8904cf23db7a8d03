//! [`Navigation`]: where a user is in the app, as their client reports it.

use domain::{ChannelId, CommunityId, Location, LocationChange, UserId, VoiceOccupancy};

use crate::usecases::{ChangeLocationError, EnterVoiceError};

/// The user opened a DM room, a text channel, home, a community's page or a voice channel;
/// the state server records it and, for voice, the community hears its new occupancy.
///
/// Implemented in `crate::service`; mocked as `MockNavigation`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Navigation: Send + Sync + 'static {
    /// The user opened a room, a channel or home. See [`ChangeLocationError`].
    async fn change_location(
        &self,
        user: UserId,
        to: Location,
    ) -> Result<LocationChange, ChangeLocationError>;
    /// The user opened a community page (no channel) or joined a voice channel. See [`EnterVoiceError`].
    async fn enter_voice(
        &self,
        user: UserId,
        community: CommunityId,
        channel: Option<ChannelId>,
    ) -> Result<VoiceOccupancy, EnterVoiceError>;
}
