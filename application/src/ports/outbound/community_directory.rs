use domain::{Audience, ChannelId, CommunityId, RoomRef, UserId};

/// Who belongs to which DM room and community, and which community each channel belongs to.
///
/// A channel's community comes only from an authoritative source (the community service's
/// lookup, its registration through [`set_channel`](Self::set_channel), or a binding made by
/// the use cases in binding mode), never from what a client claims: `may_post` and
/// `may_listen` learn nothing.
///
/// Implemented by `adapters/memory` (`OpenCommunityDirectory`), `adapters/community-http` and
/// the Redis cache in front of either; mocked as `MockCommunityDirectory`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait CommunityDirectory: Send + Sync + 'static {
    /// The DM rooms and communities of a user: where their presence is announced.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not answer.
    async fn rooms_of(&self, user: UserId) -> Result<Vec<Audience>, DirectoryError>;

    /// Whether `user` may post in `room`: a member of the DM room, or of the community the
    /// channel names (the caller has checked that the channel belongs to it). Records nothing
    /// about the channel.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not answer.
    async fn may_post(&self, user: UserId, room: RoomRef) -> Result<bool, DirectoryError>;

    /// Whether `user` may hear `audience`. For a channel whose community is unknown, only the
    /// open directory answers `true`; every other directory refuses it.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not answer.
    async fn may_listen(&self, user: UserId, audience: Audience) -> Result<bool, DirectoryError>;

    /// The members of a DM room (`Audience::Direct`) or a community (`Audience::Community`);
    /// for a channel (`Audience::Group`), its community's members, and nobody for a channel no
    /// source places. `None` when this directory does not restrict the group (anyone may use
    /// it): the open directory before any member list is set, or a channel it cannot place.
    /// What member caches are filled from.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not answer.
    async fn members_of(&self, group: Audience) -> Result<Option<Vec<UserId>>, DirectoryError>;

    /// The members of a DM room (`Audience::Direct`) or a community
    /// (`Audience::Community`) changed: replace what is known (or cached) of them.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not record it.
    async fn set_members(
        &self,
        group: Audience,
        members: Vec<UserId>,
    ) -> Result<(), DirectoryError>;

    /// The community `channel` belongs to, as an authoritative source says; `None` when no
    /// source knows the channel.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not answer.
    async fn channel_community(
        &self,
        channel: ChannelId,
    ) -> Result<Option<CommunityId>, DirectoryError>;

    /// The community service registered `channel` as a channel of `community`: replaces what
    /// is known of it, on every instance when the directory is shared.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not record it.
    async fn set_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<(), DirectoryError>;

    /// Binding mode: `channel` belongs to `community` unless it already belongs to one (set if
    /// absent, atomically across instances when the directory is shared). Returns the
    /// community the channel belongs to afterwards, which differs from `community` when
    /// another one was first.
    ///
    /// # Errors
    /// [`DirectoryError::Unavailable`] when the directory could not record it (a shared
    /// directory never binds locally while its store is down).
    async fn bind_channel(
        &self,
        channel: ChannelId,
        community: CommunityId,
    ) -> Result<CommunityId, DirectoryError>;
}

/// Failures of the community directory.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The directory could not be reached or failed; the cause is attached.
    #[error("community directory unavailable")]
    Unavailable(#[source] anyhow::Error),
}
