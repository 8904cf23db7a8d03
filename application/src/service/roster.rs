//! The [`Roster`] port over its use cases.

use domain::{Audience, ChannelId, CommunityId, UserId, VoiceLeave};

use super::Adapters;
use crate::ports::inbound::Roster;
use crate::usecases::{
    AnnounceVoiceLeave, SetChannel, SetChannelError, SetMembers, SetMembersError,
    VoiceLeaveCommandError,
};

/// The use cases behind [`Roster`].
pub(super) struct RosterUseCases {
    set_members: SetMembers,
    set_channel: SetChannel,
    voice_leave: AnnounceVoiceLeave,
}

impl RosterUseCases {
    pub(super) fn new(a: &Adapters) -> Self {
        Self {
            set_members: SetMembers::new(a.directory.clone(), a.broadcaster.clone()),
            set_channel: SetChannel::new(a.directory.clone()),
            voice_leave: AnnounceVoiceLeave::new(a.bus.clone()),
        }
    }
}

#[async_trait::async_trait]
impl Roster for RosterUseCases {
    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), SetMembersError> {
        self.set_members.execute(group, members).await
    }
    async fn set_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), SetChannelError> {
        self.set_channel.execute(channel, community).await
    }
    async fn voice_leave(&self, leave: VoiceLeave) -> Result<(), VoiceLeaveCommandError> {
        self.voice_leave.execute(leave).await
    }
}
