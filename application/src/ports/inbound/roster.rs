//! [`Roster`]: who belongs where, as the services that own it report it.

use domain::{Audience, ChannelId, CommunityId, UserId, VoiceLeave};

use crate::usecases::{SetChannelError, SetMembersError, VoiceLeaveCommandError};

/// What the app's other services tell the chat so it stays in step with them: the
/// community service's member lists and channels, the state server's voice leaves.
///
/// Implemented in `crate::service`; mocked as `MockRoster`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Roster: Send + Sync + 'static {
    /// Replace a DM room's or community's member list. See [`SetMembersError`].
    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), SetMembersError>;
    /// Place a channel in a community (the community service registers it). See [`SetChannelError`].
    async fn set_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), SetChannelError>;
    /// Announce users leaving a voice channel. See [`VoiceLeaveCommandError`].
    async fn voice_leave(&self, leave: VoiceLeave) -> Result<(), VoiceLeaveCommandError>;
}
